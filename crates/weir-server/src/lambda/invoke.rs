//! Invoke: runs a function with the request body as its event (`RequestResponse`, `Event`, `DryRun`;
//! `LogType: Tail` returns the end of its log).

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;
use weir_engine::functions::errors;

use super::{LOG_TAIL_BYTES, Qualified, Shared, aws_error, header_text, not_found, resolve};

/// Lambda's quota on a synchronous invocation's payload (6 MB), enforced on the route.
pub const MAX_PAYLOAD_BYTES: usize = 6_291_456;

/// `POST /2015-03-31/functions/{name}/invocations`: Invoke.
pub async fn handle(
    State(state): Shared,
    Path(raw): Path<String>,
    Query(query): Query<Qualified>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        // Refused as Lambda refuses it, so SDKs raise their RequestTooLargeException.
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return aws_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                format!(
                    "Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation"
                ),
            )
            .into_response();
        }
        Err(rejection) => return rejection.into_response(),
    };
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
