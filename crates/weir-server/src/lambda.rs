//! The AWS Lambda REST API over weir's functions, so `aws lambda invoke --endpoint-url …` and
//! boto3's `invoke` work unchanged: Invoke (`RequestResponse`, `Event`, `DryRun`; `LogType: Tail`),
//! GetFunction and ListFunctions. Functions are named by name, by ARN
//! (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`), or by `ACCOUNT:function:NAME`; the only
//! version is `$LATEST`.
//!
//! As in AWS, a function's own failure is not an HTTP error: the answer is 200 with
//! `X-Amz-Function-Error: Unhandled` and `{"errorType", "errorMessage"}` as the body. Errors of the
//! request are 4xx with `x-amzn-ErrorType` and `{"__type", "message"}`.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use weir_engine::functions::{FunctionInfo, Functions, errors};

use crate::AppState;

pub const FUNCTIONS: &str = "/2015-03-31/functions/";
pub const FUNCTIONS_NO_SLASH: &str = "/2015-03-31/functions";
pub const FUNCTION: &str = "/2015-03-31/functions/{name}";
pub const INVOKE: &str = "/2015-03-31/functions/{name}/invocations";

/// Bytes of the invocation's log returned base64-encoded with `LogType: Tail` (as AWS does).
const LOG_TAIL_BYTES: u64 = 4096;

type Shared = State<Arc<AppState>>;

/// An AWS-shaped request error: its status, `x-amzn-ErrorType` and `{"__type", "message"}`.
struct AwsError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

fn aws_error(status: StatusCode, kind: &'static str, message: impl Into<String>) -> AwsError {
    AwsError {
        status,
        kind,
        message: message.into(),
    }
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        let body = json!({ "__type": self.kind, "Type": "User", "message": self.message });
        let mut response = (self.status, Json(body)).into_response();
        response
            .headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(self.kind));
        response
    }
}

fn not_found(name: &str, functions: &Functions) -> Response {
    aws_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        format!("Function not found: {}", functions.arn(name)),
    )
    .into_response()
}

/// The function a `FunctionName` names, and the qualifier it carries (if any): `NAME`,
/// `ACCOUNT:function:NAME` or `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME`, each
/// optionally followed by `:QUALIFIER`.
fn parse_name(raw: &str) -> Option<(&str, Option<&str>)> {
    let rest = match raw.split_once(":function:") {
        Some((prefix, rest)) => {
            let fields: Vec<&str> = prefix.split(':').collect();
            let known = match fields.as_slice() {
                [account] => !account.is_empty(),
                ["arn", _partition, "lambda", _region, _account] => true,
                _ => false,
            };
            if !known {
                return None;
            }
            rest
        }
        None => raw,
    };
    let (name, qualifier) = match rest.split_once(':') {
        Some((name, qualifier)) => (name, Some(qualifier)),
        None => (rest, None),
    };
    if qualifier.is_some_and(|q| q.is_empty() || q.contains(':')) {
        return None;
    }
    weir_model::function::is_function_name(name).then_some((name, qualifier))
}

#[derive(Deserialize)]
pub struct Qualified {
    #[serde(rename = "Qualifier")]
    pub qualifier: Option<String>,
}

/// The function's name, or the error response for a name or qualifier weir does not serve.
fn resolve(
    raw: &str,
    query_qualifier: Option<&str>,
    functions: &Functions,
) -> Result<String, AwsError> {
    let Some((name, qualifier)) = parse_name(raw) else {
        return Err(aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            format!(
                "`{raw}` is not a function name or ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
            ),
        ));
    };
    for q in [qualifier, query_qualifier].into_iter().flatten() {
        if q != "$LATEST" {
            return Err(aws_error(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                format!(
                    "Function not found: {}:{q} (weir functions have one version, $LATEST)",
                    functions.arn(name)
                ),
            ));
        }
    }
    Ok(name.to_string())
}

fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `POST /2015-03-31/functions/{name}/invocations`: Invoke.
pub async fn invoke(
    State(state): Shared,
    Path(raw): Path<String>,
    Query(query): Query<Qualified>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let functions = state.engine.functions();
    let name = match resolve(&raw, query.qualifier.as_deref(), &functions) {
        Ok(name) => name,
        Err(error) => return error.into_response(),
    };
    if functions.get(&name).is_none() {
        return not_found(&name, &functions);
    }
    let payload = match crate::api::functions::event(&body) {
        Ok(payload) => payload,
        Err(message) => {
            return aws_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                format!("Could not parse request body into json: {message}"),
            )
            .into_response();
        }
    };
    match header_text(&headers, "x-amz-invocation-type").unwrap_or("RequestResponse") {
        "RequestResponse" => {}
        "DryRun" => return StatusCode::NO_CONTENT.into_response(),
        "Event" => {
            // Asynchronous: accepted now, run in the background; its log records the outcome.
            tokio::spawn(async move {
                if let Err(e) = functions.invoke(&name, &payload).await {
                    tracing::warn!(function = %name, invocation = ?e.invocation_id, "asynchronous invocation failed: {e}");
                }
            });
            return StatusCode::ACCEPTED.into_response();
        }
        other => {
            return aws_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                format!("InvocationType must be RequestResponse, Event or DryRun, not `{other}`"),
            )
            .into_response();
        }
    }
    let tail = header_text(&headers, "x-amz-log-type") == Some("Tail");
    let (body, id, failed) = match functions.invoke(&name, &payload).await {
        Ok(invocation) => (invocation.result.to_string(), invocation.id, false),
        Err(e) if e.error == errors::NOT_FOUND && e.invocation_id.is_none() => {
            return not_found(&name, &functions);
        }
        Err(e) => {
            let body = json!({ "errorType": e.error, "errorMessage": e.cause }).to_string();
            (body, e.invocation_id.unwrap_or_default(), true)
        }
    };
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        "X-Amz-Executed-Version",
        HeaderValue::from_static("$LATEST"),
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert("x-amzn-RequestId", value);
    }
    if failed {
        headers.insert(
            "X-Amz-Function-Error",
            HeaderValue::from_static("Unhandled"),
        );
    }
    if tail {
        let log = weir_engine::logs::tail(&functions.log_path(&name, &id), LOG_TAIL_BYTES);
        let encoded = base64::engine::general_purpose::STANDARD.encode(log);
        if let Ok(value) = HeaderValue::from_str(&encoded) {
            headers.insert("X-Amz-Log-Result", value);
        }
    }
    response
}

/// A function as the Lambda API describes one.
fn configuration(info: &FunctionInfo, account_id: &str) -> Value {
    json!({
        "FunctionName": info.name,
        "FunctionArn": info.arn,
        "Runtime": "provided",
        "Role": format!("arn:aws:iam::{account_id}:role/weir"),
        "Handler": info.command.join(" "),
        "CodeSize": 0,
        "Description": info.description.clone().unwrap_or_default(),
        // Lambda counts whole seconds.
        "Timeout": info.timeout_seconds.ceil() as u64,
        "MemorySize": 128,
        "Version": "$LATEST",
        "PackageType": "Zip",
        "State": "Active",
        "Environment": { "Variables": {} },
    })
}

/// The account id inside an ARN built by weir (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`).
fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("000000000000")
}

/// `GET /2015-03-31/functions/`: ListFunctions (every function in one page).
pub async fn list(State(state): Shared) -> Response {
    let (functions, _) = state.engine.functions().list();
    let listed: Vec<Value> = functions
        .iter()
        .map(|f| configuration(f, account_of(&f.arn)))
        .collect();
    Json(json!({ "Functions": listed })).into_response()
}

/// `GET /2015-03-31/functions/{name}`: GetFunction.
pub async fn get(
    State(state): Shared,
    Path(raw): Path<String>,
    Query(query): Query<Qualified>,
) -> Response {
    let functions = state.engine.functions();
    let name = match resolve(&raw, query.qualifier.as_deref(), &functions) {
        Ok(name) => name,
        Err(error) => return error.into_response(),
    };
    match functions.get(&name) {
        Some(info) => Json(json!({
            "Configuration": configuration(&info, account_of(&info.arn)),
            "Code": { "RepositoryType": "weir", "Location": info.file },
        }))
        .into_response(),
        None => not_found(&name, &functions),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_arns_and_qualifiers() {
        assert_eq!(parse_name("score"), Some(("score", None)));
        assert_eq!(
            parse_name("arn:aws:lambda:eu-west-1:123456789012:function:score"),
            Some(("score", None))
        );
        assert_eq!(
            parse_name("arn:aws:lambda:eu-west-1:123456789012:function:score:$LATEST"),
            Some(("score", Some("$LATEST")))
        );
        assert_eq!(
            parse_name("123456789012:function:score"),
            Some(("score", None))
        );
        assert_eq!(parse_name("score:prod"), Some(("score", Some("prod"))));
        assert_eq!(parse_name("arn:aws:s3:::bucket"), None);
        assert_eq!(parse_name("a/b"), None);
        assert_eq!(parse_name(""), None);
    }
}
