//! `/api/v1/secrets…`: set, list and remove secrets. Values go in (PUT) and never come out: a
//! listing and every answer name secrets, their source and when they changed. The engine's
//! secrets service seals and keeps them; this file holds no key and no value.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use super::{ApiResult, unnarrowed};
use crate::auth::Identity;
use crate::{ApiError, AppState};

type Shared = State<Arc<AppState>>;

pub async fn list(State(state): Shared, Extension(identity): Extension<Identity>) -> ApiResult {
    unnarrowed(&identity)?;
    Ok(Json(json!({ "secrets": state.engine.secrets().list() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewValue {
    value: String,
}

pub async fn set(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    unnarrowed(&identity)?;
    let NewValue { value } = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be {{\"value\": \"…\"}} (JSON, the value a string): {e}"
        ))
    })?;
    let info = state.engine.secrets().set(&name, &value).await?;
    Ok(Json(json!(info)))
}

pub async fn remove(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    Path(name): Path<String>,
) -> ApiResult {
    unnarrowed(&identity)?;
    state.engine.secrets().remove(&name).await?;
    Ok(Json(json!({ "name": name, "removed": true })))
}

/// This subsystem's routes.
pub fn routes() -> crate::Routes {
    use crate::auth::ADMIN;
    use crate::openapi;
    crate::Routes::default()
        .get(openapi::SECRETS, ADMIN, list)
        .put(openapi::SECRET, ADMIN, set)
        .delete(openapi::SECRET, ADMIN, remove)
}
