//! The AWS JSON protocols on `POST /`, dispatched on `X-Amz-Target`: Step Functions
//! (`AWSStepFunctions.*`, `stepfunctions/`, one file per operation). An unknown target gets AWS's
//! error shape so AWS clients report it properly. The next protocol (Kinesis, Firehose,
//! EventBridge) is a folder beside `stepfunctions/` and a line in [`dispatch`].

pub mod stepfunctions;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;

/// A protocol error: AWS's error name (`__type`) and message.
pub struct AwsError {
    pub code: &'static str,
    pub message: String,
}

pub async fn dispatch(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let answer = match target.split_once('.') {
        Some(("AWSStepFunctions", operation)) => match &state.machines {
            Some(machines) => match parse_body(&body) {
                Ok(request) => stepfunctions::handle(machines, operation, &request).await,
                Err(error) => Err(error),
            },
            None => Err(unknown(target)),
        },
        _ if target.is_empty() => Err(AwsError {
            code: "UnknownOperationException",
            message: "missing X-Amz-Target header".into(),
        }),
        _ => Err(unknown(target)),
    };
    let (status, body) = match answer {
        Ok(body) => (StatusCode::OK, body),
        Err(error) => {
            let status = if error.code == "InternalServerError" {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::BAD_REQUEST
            };
            (
                status,
                json!({ "__type": error.code, "message": error.message }),
            )
        }
    };
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response
}

fn unknown(target: &str) -> AwsError {
    AwsError {
        code: "UnknownOperationException",
        message: format!("operation {target} is not supported by this server"),
    }
}

/// The request body: a JSON object (an empty body counts as `{}`).
fn parse_body(body: &[u8]) -> Result<Value, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(AwsError {
            code: "SerializationException",
            message: "the request body must be a JSON object".into(),
        }),
        Err(e) => Err(AwsError {
            code: "SerializationException",
            message: format!("the request body is not JSON: {e}"),
        }),
    }
}
