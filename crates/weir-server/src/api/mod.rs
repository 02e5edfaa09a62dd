//! Handlers of the native API, one file per resource.

pub mod access;
pub mod dashboards;
pub mod events;
pub mod functions;
pub mod pipelines;
pub mod runs;
pub mod runs_bulk;
pub mod secrets;
pub mod streams;
pub mod transforms;

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::{ApiError, AppState};

type Shared = State<Arc<AppState>>;
pub type ApiResult<T = Json<Value>> = Result<T, ApiError>;

pub async fn health(State(state): Shared) -> Json<Value> {
    Json(
        json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION"), "uptime_seconds": state.started.elapsed().as_secs() }),
    )
}

pub async fn metrics(State(state): Shared) -> Response {
    match &state.metrics {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder not installed",
        )
            .into_response(),
    }
}

/// Credentials, secrets and the audit log are for an admin whose grants do not narrow it: one
/// narrowed to some pipelines could otherwise make itself a credential without grants, a secret
/// serves every pipeline, and the log shows every pipeline's callers.
pub(crate) fn unnarrowed(identity: &crate::auth::Identity) -> Result<(), ApiError> {
    if identity.grants().is_everything() {
        return Ok(());
    }
    Err(ApiError {
        status: StatusCode::FORBIDDEN,
        code: "forbidden",
        message: format!(
            "credential `{}` is narrowed by grants; credentials and the audit log need an admin \
             credential without grants",
            identity.name().unwrap_or("?")
        ),
    })
}

/// No route matched: 404 to a caller, 401 to an anonymous request when credentials are needed,
/// so that an anonymous caller cannot map the routes.
pub async fn not_found(identity: Option<axum::Extension<crate::auth::Identity>>) -> Response {
    if identity.is_some_and(|axum::Extension(identity)| identity.role().is_none()) {
        return crate::auth::middleware::refuse(
            crate::auth::Dialect::Rest,
            StatusCode::UNAUTHORIZED,
            "authentication required: send `Authorization: Bearer TOKEN` (see `weir tokens`)",
            "",
        );
    }
    ApiError::not_found("no such endpoint; see /api/v1/openapi.json").into_response()
}
