//! `/api/v1/functions…`: list functions, invoke one, read its invocations' logs.
//!
//! An invocation answers 200 `{invocation_id, result, duration_ms}` on success and 422
//! `{invocation_id, error, cause}` when the function failed (the request was fine; the function
//! was not); an unknown function is a 404.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use weir_engine::functions::errors;

use super::ApiResult;
use crate::{ApiError, AppState};

type Shared = State<Arc<AppState>>;

pub async fn list(State(state): Shared) -> ApiResult {
    let (functions, problems) = state.engine.functions().list();
    Ok(Json(
        json!({ "functions": functions, "problems": problems }),
    ))
}

pub async fn show(State(state): Shared, Path(name): Path<String>) -> ApiResult {
    let info = state
        .engine
        .functions()
        .get(&name)
        .ok_or_else(|| not_found(&name))?;
    Ok(Json(json!(info)))
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!(
        "no function `{name}`: define it in functions/{name}.yaml"
    ))
}

/// A request body as an event: JSON, or `{}` when empty (as Lambda sends).
pub(crate) fn event(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| format!("the body must be the event as JSON: {e}"))
}

pub async fn invoke(State(state): Shared, Path(name): Path<String>, body: Bytes) -> Response {
    let payload = match event(&body) {
        Ok(payload) => payload,
        Err(message) => return ApiError::bad_request(message).into_response(),
    };
    match state.engine.functions().invoke(&name, &payload).await {
        Ok(invocation) => Json(json!({
            "invocation_id": invocation.id,
            "result": invocation.result,
            "duration_ms": invocation.duration.as_secs_f64() * 1000.0,
        }))
        .into_response(),
        Err(e) if e.error == errors::NOT_FOUND && e.invocation_id.is_none() => {
            ApiError::not_found(e.cause).into_response()
        }
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, Json(json!(e))).into_response(),
    }
}

#[derive(Deserialize)]
pub struct Limit {
    pub limit: Option<usize>,
}

/// The most recent invocations that have a log, newest first.
pub async fn invocations(
    State(state): Shared,
    Path(name): Path<String>,
    query: Result<Query<Limit>, QueryRejection>,
) -> ApiResult {
    let Query(limit) = query?;
    let functions = state.engine.functions();
    let ids = functions.invocation_ids(&name, limit.limit.unwrap_or(25).min(10_000));
    if ids.is_empty() && functions.get(&name).is_none() {
        return Err(not_found(&name));
    }
    Ok(Json(json!({ "function": name, "invocations": ids })))
}

pub async fn log(State(state): Shared, Path((name, id)): Path<(String, String)>) -> ApiResult {
    let path = state.engine.functions().log_path(&name, &id);
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok(Json(json!({
            "function": name,
            "invocation_id": id,
            "log": String::from_utf8_lossy(&bytes),
        }))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::not_found(format!(
            "no invocation `{id}` of function `{name}` (see GET /api/v1/functions/{name}/invocations)"
        ))),
        Err(e) => Err(ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "log_unreadable",
            message: format!("cannot read the invocation's log: {e}"),
        }),
    }
}

/// This subsystem's routes.
pub fn routes() -> crate::Routes {
    use crate::auth::{OPERATOR, VIEWER};
    use crate::openapi;
    crate::Routes::default()
        .get(openapi::FUNCTIONS, VIEWER, list)
        .get(openapi::FUNCTION, VIEWER, show)
        .post(openapi::FUNCTION_INVOKE, OPERATOR, invoke)
        .get(openapi::FUNCTION_INVOCATIONS, VIEWER, invocations)
        .get(openapi::FUNCTION_INVOCATION_LOG, VIEWER, log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_events() {
        assert_eq!(event(b"").unwrap(), json!({}));
        assert_eq!(event(b" \n").unwrap(), json!({}));
        assert_eq!(event(br#"{"a": 1}"#).unwrap(), json!({"a": 1}));
        assert_eq!(event(b"3").unwrap(), json!(3));
        assert!(event(b"{nope").unwrap_err().contains("as JSON"));
    }
}
