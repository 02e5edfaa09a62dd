//! `POST /api/v1/runs/bulk`: one action on many runs (retry, cancel, mark success or failed), as
//! a person selects them on the grid. Each run is checked and done as its own route would do it
//! (the same grant check, the same engine call, an audit entry each), and answers for itself:
//! one run refused or in the wrong state does not stop the others.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use weir_store::AuditRecord;

use crate::auth::middleware::{AuditNote, run_granted};
use crate::auth::{Identity, Peer};
use crate::{ApiError, AppState, openapi};

/// Most runs one call names.
pub const MAX_RUNS: usize = 1_000;
/// Runs acted on at once: their commits share the group committer's transactions.
const CONCURRENCY: usize = 32;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    pub action: String,
    pub runs: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Retry,
    Cancel,
    MarkSuccess,
    MarkFailed,
}

impl Action {
    fn parse(name: &str) -> Option<Action> {
        Some(match name {
            "retry" => Action::Retry,
            "cancel" => Action::Cancel,
            "mark_success" => Action::MarkSuccess,
            "mark_failed" => Action::MarkFailed,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::Cancel => "cancel",
            Action::MarkSuccess => "mark_success",
            Action::MarkFailed => "mark_failed",
        }
    }

    /// The route that does this to one run, as the audit log names it.
    fn route(self) -> &'static str {
        match self {
            Action::Retry => openapi::RUN_RETRY,
            Action::Cancel => openapi::RUN_CANCEL,
            Action::MarkSuccess | Action::MarkFailed => openapi::RUN_MARK,
        }
    }

    /// The last segment of that route's path.
    fn verb(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::Cancel => "cancel",
            Action::MarkSuccess | Action::MarkFailed => "mark",
        }
    }
}

pub async fn bulk(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    peer: Option<Extension<ConnectInfo<Peer>>>,
    body: Result<Json<BulkBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let Some(action) = Action::parse(&body.action) else {
        return Err(ApiError::bad_request(format!(
            "`action` must be one of retry, cancel, mark_success, mark_failed; got `{}`",
            body.action
        )));
    };
    if body.runs.is_empty() || body.runs.len() > MAX_RUNS {
        return Err(ApiError::bad_request(format!(
            "`runs` must name 1 to {MAX_RUNS} runs, got {}",
            body.runs.len()
        )));
    }
    let source = peer.map(|Extension(ConnectInfo(peer))| peer.to_string());
    let (state, identity, source) = (&state, &identity, source.as_deref());
    let results: Vec<Value> = futures::stream::iter(body.runs.iter().cloned())
        .map(|run_id| async move {
            let outcome = act(state, identity, action, &run_id).await;
            audit_item(state, identity, source, action, &run_id, &outcome).await;
            match outcome {
                Ok(run_state) => json!({ "run": run_id, "ok": true, "state": run_state }),
                Err(error) => json!({
                    "run": run_id,
                    "ok": false,
                    "error": { "code": error.code, "message": error.message },
                }),
            }
        })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let done = results.iter().filter(|r| r["ok"] == true).count();
    let mut response = Json(json!({ "results": results })).into_response();
    response.extensions_mut().insert(AuditNote {
        detail: Some(format!(
            "{} of {} runs: {done} done, {} refused or failed",
            body.action,
            body.runs.len(),
            body.runs.len() - done
        )),
        ..AuditNote::default()
    });
    Ok(response)
}

/// Does `action` to one run, as its own route would; answers the run's state after it.
async fn act(
    state: &AppState,
    identity: &Identity,
    action: Action,
    run_id: &str,
) -> Result<String, ApiError> {
    run_granted(state, identity, run_id)
        .await
        .map_err(|message| ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message,
        })?;
    let engine = &state.engine;
    let run = match action {
        Action::Retry => engine.retry(run_id).await?,
        Action::Cancel => engine.cancel(run_id).await?,
        Action::MarkSuccess => engine.mark_run(run_id, "success").await?,
        Action::MarkFailed => engine.mark_run(run_id, "failed").await?,
    };
    Ok(run.state)
}

/// Records one run's part as its own route's call would be recorded.
async fn audit_item(
    state: &AppState,
    identity: &Identity,
    source: Option<&str>,
    action: Action,
    run_id: &str,
    outcome: &Result<String, ApiError>,
) {
    let Some(access) = &state.access else {
        return;
    };
    let (status, outcome, detail) = match outcome {
        Ok(run_state) => (
            StatusCode::OK,
            "ok",
            format!("in bulk ({}); the run is {run_state}", action.name()),
        ),
        Err(error) if error.status == StatusCode::FORBIDDEN => {
            (error.status, "denied", error.message.clone())
        }
        Err(error) => (error.status, "failed", error.message.clone()),
    };
    access
        .audit(AuditRecord {
            at: chrono::Utc::now().timestamp_micros(),
            credential: identity.name().map(str::to_string),
            role: identity.role().map(|r| r.as_str().to_string()),
            source: source.unwrap_or_default().to_string(),
            action: format!("POST {}", action.route()),
            target: format!("/api/v1/runs/{run_id}/{}", action.verb()),
            outcome: outcome.into(),
            status: i32::from(status.as_u16()),
            detail: Some(detail),
        })
        .await;
}
