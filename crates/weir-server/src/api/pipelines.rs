//! `/api/v1/pipelines…`: list, show, trigger, backfill, pause, reload.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use weir_engine::TriggerRequest;

use super::{ApiResult, runs::run_json};
use crate::{ApiError, AppState};

type Shared = State<Arc<AppState>>;

pub async fn list(
    State(state): Shared,
    axum::Extension(identity): axum::Extension<crate::auth::Identity>,
) -> ApiResult {
    let (mut pipelines, problems) = state.engine.pipelines().await?;
    // A listing shows what the credential may see.
    pipelines.retain(|p| identity.grants().pipeline(&p.name));
    let problems = granted_problems(problems, &identity);
    Ok(Json(
        json!({ "pipelines": pipelines, "problems": problems }),
    ))
}

/// The problems of the definition files of granted pipelines (a file's name is its pipeline's):
/// another pipeline's problems would show its name, its file and what it does.
pub fn granted_problems(
    mut problems: Vec<weir_model::Problem>,
    identity: &crate::auth::Identity,
) -> Vec<weir_model::Problem> {
    let grants = identity.grants();
    if !grants.pipelines.is_empty() {
        problems.retain(|problem| {
            std::path::Path::new(&problem.file)
                .file_stem()
                .and_then(|stem| stem.to_str())
                .is_some_and(|name| grants.pipeline(name))
        });
    }
    problems
}

pub async fn show(State(state): Shared, Path(name): Path<String>) -> ApiResult {
    let (pipelines, _) = state.engine.pipelines().await?;
    let pipeline = pipelines
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| ApiError::not_found(format!("no pipeline `{name}`")))?;
    Ok(Json(json!(pipeline)))
}

#[derive(Deserialize)]
pub struct Limit {
    pub limit: Option<u32>,
}

pub async fn runs(
    State(state): Shared,
    Path(name): Path<String>,
    query: Result<Query<Limit>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(limit) = query?;
    let runs = state
        .engine
        .store()
        .runs(Some(&name), limit.limit.unwrap_or(25).min(10_000))
        .await?;
    Ok(Json(
        json!({ "runs": runs.iter().map(run_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TriggerBody {
    #[serde(default)]
    pub params: Map<String, Value>,
    pub logical_date: Option<String>,
}

pub async fn trigger(
    State(state): Shared,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    // An empty body is a trigger with the defaults.
    let body: TriggerBody = if body.iter().all(u8::is_ascii_whitespace) {
        TriggerBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?
    };
    let logical_date = body
        .logical_date
        .as_deref()
        .map(|d| parse_when("logical_date", d))
        .transpose()?;
    let run = state
        .engine
        .trigger(TriggerRequest {
            pipeline: name,
            params: body.params,
            logical_date,
            event: None,
        })
        .await?;
    let mut answer = run_json(&run);
    let warnings = stale_version_warnings(&state, &run.pipeline).await;
    if !warnings.is_empty() {
        answer["warnings"] = json!(warnings);
    }
    Ok((StatusCode::CREATED, Json(answer)))
}

/// When the pipeline's file is invalid now, a trigger runs the last good version: the answer
/// says so, with the file's problems, instead of leaving the user to wonder why an edit did not
/// take.
async fn stale_version_warnings(state: &crate::AppState, pipeline: &str) -> Vec<String> {
    let Ok((pipelines, problems)) = state.engine.pipelines().await else {
        return Vec::new();
    };
    let Some(info) = pipelines.iter().find(|p| p.name == pipeline) else {
        return Vec::new();
    };
    let file_problems: Vec<String> = problems
        .iter()
        .filter(|p| p.file == info.file)
        .map(ToString::to_string)
        .collect();
    if file_problems.is_empty() {
        return Vec::new();
    }
    let mut warnings = vec![format!(
        "{} is invalid now; this run uses the last good version ({})",
        info.file,
        info.version.get(..12).unwrap_or(&info.version)
    )];
    warnings.extend(file_problems);
    warnings
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackfillBody {
    pub from: String,
    pub to: String,
}

pub async fn backfill(
    State(state): Shared,
    Path(name): Path<String>,
    body: Result<Json<BackfillBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Json(body) = body?;
    let from = parse_when("from", &body.from)?;
    let to = parse_when("to", &body.to)?;
    let (created, skipped) = state.engine.backfill(&name, from, to).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "runs": created.iter().map(run_json).collect::<Vec<_>>(), "skipped": skipped }),
        ),
    ))
}

pub async fn pause(State(state): Shared, Path(name): Path<String>) -> ApiResult {
    state.engine.pause(&name, true).await?;
    Ok(Json(json!({ "pipeline": name, "paused": true })))
}

pub async fn unpause(State(state): Shared, Path(name): Path<String>) -> ApiResult {
    state.engine.pause(&name, false).await?;
    Ok(Json(json!({ "pipeline": name, "paused": false })))
}

pub async fn reload(
    State(state): Shared,
    axum::Extension(identity): axum::Extension<crate::auth::Identity>,
) -> ApiResult {
    let problems = granted_problems(state.engine.reload().await?, &identity);
    Ok(Json(json!({ "problems": problems })))
}

/// A date (`2026-01-31`, midnight UTC) or an RFC 3339 timestamp.
pub fn parse_when(field: &str, text: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "`{field}` must be a date (YYYY-MM-DD) or an RFC 3339 timestamp, got `{text}`"
            ))
        })
}

/// This subsystem's routes.
pub fn routes() -> crate::Routes {
    use crate::auth::{OPERATOR, VIEWER};
    use crate::openapi;
    crate::Routes::default()
        .get(openapi::PIPELINES, VIEWER, list)
        .get(openapi::PIPELINE, VIEWER, show)
        .get(openapi::PIPELINE_RUNS, VIEWER, runs)
        .post(openapi::PIPELINE_RUNS, OPERATOR, trigger)
        .post(openapi::PIPELINE_BACKFILL, OPERATOR, backfill)
        .post(openapi::PIPELINE_PAUSE, OPERATOR, pause)
        .post(openapi::PIPELINE_UNPAUSE, OPERATOR, unpause)
        .post(openapi::RELOAD, OPERATOR, reload)
}
