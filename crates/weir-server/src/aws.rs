//! The AWS JSON protocols on `POST /`, dispatched on `X-Amz-Target`. Services land here in later
//! capabilities (Kinesis, Firehose, Step Functions, EventBridge); an unknown target gets AWS's
//! error shape so AWS clients report it properly.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub async fn dispatch(headers: HeaderMap) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let message = if target.is_empty() {
        "missing X-Amz-Target header".to_string()
    } else {
        format!("operation {target} is not supported by this server")
    };
    let mut response = (
        StatusCode::BAD_REQUEST,
        Json(json!({ "__type": "UnknownOperationException", "message": message })),
    )
        .into_response();
    response.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response
}
