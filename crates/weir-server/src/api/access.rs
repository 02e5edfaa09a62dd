//! `/api/v1/tokens…` (create, list, revoke credentials) and `/api/v1/audit` (the audit log), for
//! admins; the sign-in routes are `auth/session.rs`.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;
use weir_engine::access::{Access, AccessError, NewCredential};
use weir_model::access::{Grants, Role};

use super::{ApiResult, unnarrowed};
use crate::auth::{ADMIN, Identity, Routes, VIEWER, session};
use crate::{ApiError, AppState, openapi};

type Shared = State<Arc<AppState>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: Option<String>,
    role: String,
    #[serde(default)]
    pipelines: Vec<String>,
    #[serde(default)]
    tables: Vec<String>,
    #[serde(default)]
    prefixes: Vec<String>,
    /// How long the credential lasts (`30d`, `12h`); none: until revoked.
    expires: Option<String>,
}

fn access(state: &AppState) -> Result<&Access, ApiError> {
    state.access.as_ref().ok_or_else(|| {
        ApiError::bad_request(
            "authentication is off on this server (`[auth] enabled = false`): there are no credentials",
        )
    })
}

pub async fn create(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    unnarrowed(&identity)?;
    let Json(body) = body?;
    let access = access(&state)?;
    let role: Role = body
        .role
        .parse()
        .map_err(|e: String| ApiError::bad_request(format!("role: {e}")))?;
    let expires_at = match body.expires.as_deref() {
        None => None,
        Some(text) => {
            let lifetime = weir_model::duration::parse_duration(text)
                .map_err(|e| ApiError::bad_request(format!("expires: {e}")))?;
            let micros = i64::try_from(lifetime.as_micros()).unwrap_or(i64::MAX);
            Some(chrono::Utc::now().timestamp_micros().saturating_add(micros))
        }
    };
    let request = NewCredential {
        name: body.name,
        role: Some(role),
        grants: Grants {
            pipelines: body.pipelines,
            tables: body.tables,
            prefixes: body.prefixes,
        },
        expires_at,
    };
    let issued = access.create(request).await.map_err(access_error)?;
    Ok((StatusCode::CREATED, Json(json!(issued))))
}

pub async fn list(State(state): Shared, Extension(identity): Extension<Identity>) -> ApiResult {
    unnarrowed(&identity)?;
    let access = access(&state)?;
    Ok(Json(json!({ "tokens": access.list() })))
}

pub async fn revoke(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    Path(name): Path<String>,
) -> ApiResult {
    unnarrowed(&identity)?;
    let access = access(&state)?;
    access.revoke(&name).await.map_err(access_error)?;
    Ok(Json(json!({ "revoked": name })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// RFC 3339 time, or a duration back from now (`1h`, `7d`).
    since: Option<String>,
    /// The id of the last entry of the previous page.
    after: Option<i64>,
    limit: Option<u32>,
}

pub async fn audit(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> ApiResult {
    unnarrowed(&identity)?;
    let Query(query) = query?;
    let access = access(&state)?;
    let since = match query.since.as_deref() {
        None => 0,
        Some(text) => since_micros(text).map_err(ApiError::bad_request)?,
    };
    let limit = query.limit.unwrap_or(1000).clamp(1, 10_000);
    let entries = access
        .audit_log(since, query.after, limit)
        .await
        .map_err(access_error)?;
    let next_after = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(
        json!({ "entries": entries, "next_after": next_after }),
    ))
}

/// `since` as microseconds: an RFC 3339 time, or a duration back from now.
fn since_micros(text: &str) -> Result<i64, String> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(at.timestamp_micros());
    }
    let back = weir_model::duration::parse_duration(text)
        .map_err(|e| format!("since: `{text}` is neither an RFC 3339 time nor a duration ({e})"))?;
    let back = i64::try_from(back.as_micros()).unwrap_or(i64::MAX);
    Ok(chrono::Utc::now().timestamp_micros().saturating_sub(back))
}

fn access_error(error: AccessError) -> ApiError {
    match error {
        AccessError::Invalid(message) => ApiError::bad_request(message),
        AccessError::Exists(_) => ApiError {
            status: StatusCode::CONFLICT,
            code: "conflict",
            message: error.to_string(),
        },
        AccessError::NotFound(_) => ApiError::not_found(error.to_string()),
        other => ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: other.to_string(),
        },
    }
}

pub fn routes() -> Routes {
    Routes::default()
        .get(openapi::TOKENS, ADMIN, list)
        .post(openapi::TOKENS, ADMIN, create)
        .delete(openapi::TOKEN, ADMIN, revoke)
        .get(openapi::AUDIT, ADMIN, audit)
        .get(openapi::SESSION, VIEWER, session::session)
        .post(openapi::LOGOUT, VIEWER, session::logout)
}
