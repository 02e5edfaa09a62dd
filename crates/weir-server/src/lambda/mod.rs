//! The AWS Lambda REST API over weir's functions, so `aws lambda invoke --endpoint-url …` and
//! boto3's `invoke` work unchanged: Invoke (`RequestResponse`, `Event`, `DryRun`; `LogType: Tail`),
//! GetFunction and ListFunctions; and the event source mappings that invoke functions from
//! streams (Create, Get, List, Update and DeleteEventSourceMapping). Functions are named by name, by ARN
//! (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`), or by `ACCOUNT:function:NAME`; the only
//! version is `$LATEST`.
//!
//! As in AWS, a function's own failure is not an HTTP error: the answer is 200 with
//! `X-Amz-Function-Error: Unhandled` and `{"errorType", "errorMessage"}` as the body. Errors of the
//! request are 4xx with `x-amzn-ErrorType` and `{"__type", "message"}`.
//!
//! One file per operation (`invoke.rs`, `get_function.rs`, `list_functions.rs`); this module holds
//! what they share (naming a function, the error shape, a function's configuration) and the
//! routes.

mod create_event_source_mapping;
mod delete_event_source_mapping;
mod event_source_mapping;
mod get_event_source_mapping;
mod get_function;
mod invoke;
mod list_event_source_mappings;
mod list_functions;
mod update_event_source_mapping;

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use weir_engine::functions::{FunctionInfo, Functions};

use crate::AppState;

pub const FUNCTIONS: &str = "/2015-03-31/functions/";
pub const FUNCTIONS_NO_SLASH: &str = "/2015-03-31/functions";
pub const FUNCTION: &str = "/2015-03-31/functions/{name}";
pub const INVOKE: &str = "/2015-03-31/functions/{name}/invocations";
pub const EVENT_SOURCE_MAPPINGS: &str = "/2015-03-31/event-source-mappings";
pub const EVENT_SOURCE_MAPPINGS_SLASH: &str = "/2015-03-31/event-source-mappings/";
pub const EVENT_SOURCE_MAPPING: &str = "/2015-03-31/event-source-mappings/{uuid}";

/// Bytes of the invocation's log returned base64-encoded with `LogType: Tail` (as AWS does).
pub(super) const LOG_TAIL_BYTES: u64 = 4096;

pub(super) type Shared = State<Arc<AppState>>;

/// An AWS-shaped request error: its status, `x-amzn-ErrorType` and `{"__type", "message"}`.
#[derive(Debug)]
pub(super) struct AwsError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

pub(super) fn aws_error(
    status: StatusCode,
    kind: &'static str,
    message: impl Into<String>,
) -> AwsError {
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

pub(super) fn not_found(name: &str, functions: &Functions) -> Response {
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
pub(super) fn resolve(
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

pub(super) fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A function as the Lambda API describes one.
pub(super) fn configuration(info: &FunctionInfo, account_id: &str) -> Value {
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
pub(super) fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("000000000000")
}

/// This subsystem's routes.
pub fn routes() -> crate::Routes {
    // The Lambda REST API (not part of the native API's OpenAPI document).
    use crate::auth::{Dialect, OPERATOR, VIEWER};
    use axum::http::Method;
    crate::Routes::new(Dialect::AwsRest)
        .get(FUNCTIONS, VIEWER, list_functions::handle)
        .get(FUNCTIONS_NO_SLASH, VIEWER, list_functions::handle)
        .get(FUNCTION, VIEWER, get_function::handle)
        .get(
            EVENT_SOURCE_MAPPINGS,
            VIEWER,
            list_event_source_mappings::handle,
        )
        .get(
            EVENT_SOURCE_MAPPINGS_SLASH,
            VIEWER,
            list_event_source_mappings::handle,
        )
        .post(
            EVENT_SOURCE_MAPPINGS,
            OPERATOR,
            create_event_source_mapping::handle,
        )
        .post(
            EVENT_SOURCE_MAPPINGS_SLASH,
            OPERATOR,
            create_event_source_mapping::handle,
        )
        .get(
            EVENT_SOURCE_MAPPING,
            VIEWER,
            get_event_source_mapping::handle,
        )
        .put(
            EVENT_SOURCE_MAPPING,
            OPERATOR,
            update_event_source_mapping::handle,
        )
        .delete(
            EVENT_SOURCE_MAPPING,
            OPERATOR,
            delete_event_source_mapping::handle,
        )
        .add(
            Method::POST,
            INVOKE,
            OPERATOR,
            axum::routing::post(invoke::handle).layer(axum::extract::DefaultBodyLimit::max(
                invoke::MAX_PAYLOAD_BYTES,
            )),
        )
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
