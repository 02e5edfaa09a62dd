//! `/api/v1/runs…`: show a run with its tasks, its audit trail, attempts and logs; wait for it;
//! retry it from failure; cancel it; mark a task or the whole run by hand (and many runs at once,
//! `runs_bulk.rs`).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use weir_engine::time::format_us;
use weir_store::{AttemptRecord, EventRecord, RunRecord, TaskRecord};

use super::ApiResult;
use crate::auth::Identity;
use crate::{ApiError, AppState};

type Shared = State<Arc<AppState>>;

/// Longest a single `wait` request holds; clients loop for longer waits.
const MAX_WAIT: Duration = Duration::from_secs(60);

pub fn run_json(run: &RunRecord) -> Value {
    json!({
        "run_id": run.id,
        "pipeline": run.pipeline,
        "version": run.version,
        "state": run.state,
        "run_type": run.run_type,
        "logical_date": format_us(run.logical_date),
        "data_interval_start": format_us(run.interval_start),
        "data_interval_end": format_us(run.interval_end),
        "params": run.params,
        "created_at": format_us(run.created_at),
        "started_at": run.started_at.map(format_us),
        "ended_at": run.ended_at.map(format_us),
        "duration_seconds": run.started_at.zip(run.ended_at).map(|(s, e)| (e - s) as f64 / 1e6),
    })
}

pub fn task_json(task: &TaskRecord) -> Value {
    json!({
        "task_id": task.task_id,
        "map_index": task.map_index,
        "state": task.state,
        "try_number": task.try_number,
        "max_tries": task.max_tries,
        "started_at": task.started_at.map(format_us),
        "ended_at": task.ended_at.map(format_us),
        "next_try_at": task.next_try_at.map(format_us),
        "output": task.output,
        "item": task.item,
        "error": task.error,
    })
}

fn event_json(event: &EventRecord) -> Value {
    json!({
        "at": format_us(event.at),
        "at_us": event.at,
        "task_id": event.task_id,
        "map_index": event.map_index,
        "try_number": event.try_number,
        "state": event.state,
        "message": event.message,
    })
}

fn attempt_json(attempt: &AttemptRecord) -> Value {
    json!({
        "task_id": attempt.task_id,
        "map_index": attempt.map_index,
        "try_number": attempt.try_number,
        "state": attempt.state,
        "started_at": format_us(attempt.started_at),
        "started_at_us": attempt.started_at,
        "ended_at": attempt.ended_at.map(format_us),
        "ended_at_us": attempt.ended_at,
        "pid": attempt.pid,
        "exit_code": attempt.exit_code,
        "error": attempt.error,
        "log_path": attempt.log_path,
    })
}

#[derive(Deserialize)]
pub struct ListQuery {
    pub pipeline: Option<String>,
    pub limit: Option<u32>,
}

pub async fn list(
    State(state): Shared,
    axum::Extension(identity): axum::Extension<Identity>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(25).min(10_000);
    let runs = visible_runs(&state, &identity, query.pipeline.as_deref(), limit).await?;
    Ok(Json(
        json!({ "runs": runs.iter().map(run_json).collect::<Vec<_>>() }),
    ))
}

/// The newest runs the credential may see (of one pipeline, or of all), at most `limit`. A
/// credential narrowed to some pipelines gets as many as it would if its pipelines were the only
/// ones: the newest runs of each granted pipeline, and of the newest runs overall those it is
/// granted (pipelines whose file is gone keep their runs), merged newest first.
pub async fn visible_runs(
    state: &AppState,
    identity: &Identity,
    pipeline: Option<&str>,
    limit: u32,
) -> Result<Vec<RunRecord>, ApiError> {
    let grants = identity.grants();
    let store = state.engine.store();
    if grants.pipelines.is_empty() {
        return Ok(store.runs(pipeline, limit).await?);
    }
    if let Some(pipeline) = pipeline {
        if !grants.pipeline(pipeline) {
            return Ok(Vec::new());
        }
        return Ok(store.runs(Some(pipeline), limit).await?);
    }
    let mut runs = store.runs(None, limit).await?;
    let (pipelines, _) = state.engine.pipelines().await?;
    for granted in pipelines.iter().filter(|p| grants.pipeline(&p.name)) {
        runs.extend(store.runs(Some(&granted.name), limit).await?);
    }
    runs.retain(|run| grants.pipeline(&run.pipeline));
    // As the store orders them: newest first, then by id.
    runs.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    runs.dedup_by(|a, b| a.id == b.id);
    runs.truncate(limit as usize);
    Ok(runs)
}

async fn load(state: &AppState, run_id: &str) -> Result<RunRecord, ApiError> {
    state
        .engine
        .store()
        .run(run_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run {run_id}")))
}

pub async fn show(State(state): Shared, Path(run_id): Path<String>) -> ApiResult {
    let run = load(&state, &run_id).await?;
    let tasks = state.engine.task_instances(&run).await?;
    let mut body = run_json(&run);
    body["tasks"] = Value::Array(
        tasks
            .iter()
            .filter(|t| t.state != "removed")
            .map(task_json)
            .collect(),
    );
    Ok(Json(body))
}

#[derive(Deserialize)]
pub struct WaitQuery {
    /// Seconds to wait at most (capped at 60).
    pub timeout: Option<f64>,
}

pub async fn wait(
    State(state): Shared,
    Path(run_id): Path<String>,
    query: Result<Query<WaitQuery>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query?;
    // Any number is accepted and capped, as the parameter is documented: 1e300 waits the most.
    let timeout = match query.timeout {
        Some(seconds) if seconds.is_nan() || seconds < 0.0 => {
            return Err(ApiError::bad_request(format!(
                "timeout must be a number of seconds ≥ 0, got {seconds}"
            )));
        }
        Some(seconds) => {
            Duration::try_from_secs_f64(seconds.min(MAX_WAIT.as_secs_f64())).unwrap_or(MAX_WAIT)
        }
        None => MAX_WAIT,
    };
    let run = state.engine.wait(&run_id, timeout).await?;
    Ok(Json(run_json(&run)))
}

pub async fn events(State(state): Shared, Path(run_id): Path<String>) -> ApiResult {
    load(&state, &run_id).await?;
    let events = state.engine.store().run_events(&run_id).await?;
    Ok(Json(
        json!({ "events": events.iter().map(event_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize)]
pub struct TaskQuery {
    pub task: Option<String>,
    pub map_index: Option<i32>,
    #[serde(rename = "try")]
    pub try_number: Option<i32>,
}

pub async fn attempts(
    State(state): Shared,
    Path(run_id): Path<String>,
    query: Result<Query<TaskQuery>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query?;
    load(&state, &run_id).await?;
    let attempts = state
        .engine
        .store()
        .attempts(&run_id, query.task.as_deref())
        .await?;
    Ok(Json(json!({
        "attempts": attempts
            .iter()
            .filter(|a| {
                query.map_index.is_none_or(|m| a.map_index == m)
                    && query.try_number.is_none_or(|t| a.try_number == t)
            })
            .map(attempt_json)
            .collect::<Vec<_>>()
    })))
}

#[derive(Deserialize)]
pub struct LogQuery {
    pub task: Option<String>,
    pub map_index: Option<i32>,
    #[serde(rename = "try")]
    pub try_number: Option<i32>,
    /// First byte of each log to return (default 0).
    pub offset: Option<u64>,
    /// Most bytes of each log to return (default and cap: [`MAX_LOG_BYTES`]).
    pub length: Option<u64>,
}

/// Most bytes of one log a request returns; clients page (or follow) with `offset`.
const MAX_LOG_BYTES: u64 = 1 << 20;

/// Every attempt's log (optionally of one task, map index or try), in order: the range
/// `offset..offset+length` of each, with the log's current `size` and the `next_offset` to ask
/// for. A log is never read whole: a running attempt's log is followed by asking again from
/// `next_offset`.
pub async fn logs(
    State(state): Shared,
    Path(run_id): Path<String>,
    query: Result<Query<LogQuery>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query?;
    load(&state, &run_id).await?;
    let attempts = state
        .engine
        .store()
        .attempts(&run_id, query.task.as_deref())
        .await?;
    let offset = query.offset.unwrap_or(0);
    let length = query.length.unwrap_or(MAX_LOG_BYTES).min(MAX_LOG_BYTES);
    let data_dir = state.engine.data_dir().to_path_buf();
    let mut out = Vec::new();
    for attempt in attempts.iter().filter(|a| {
        query.map_index.is_none_or(|m| a.map_index == m)
            && query.try_number.is_none_or(|t| a.try_number == t)
    }) {
        let path = data_dir.join(&attempt.log_path);
        let range = read_range(&path, offset, length)
            .await
            .map_err(|e| ApiError {
                status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                code: "log_error",
                message: format!("cannot read the log {}: {e}", path.display()),
            })?;
        let mut entry = attempt_json(attempt);
        entry["log"] = Value::String(String::from_utf8_lossy(&range.bytes).into_owned());
        entry["offset"] = json!(range.offset);
        entry["next_offset"] = json!(range.offset + range.bytes.len() as u64);
        entry["size"] = json!(range.size);
        out.push(entry);
    }
    if out.is_empty()
        && let Some(task) = &query.task
    {
        let tasks = state.engine.store().task_instances(&run_id).await?;
        if !tasks.iter().any(|t| &t.task_id == task) {
            return Err(ApiError::not_found(format!(
                "run {run_id} has no task `{task}`"
            )));
        }
    }
    Ok(Json(json!({ "logs": out })))
}

/// A range of a log file.
struct LogRange {
    /// Where the range starts (the offset asked for, or the end of a shorter log).
    offset: u64,
    bytes: Vec<u8>,
    /// The log's size now.
    size: u64,
}

/// Reads at most `length` bytes of the file from `offset`; a missing file is an empty log (an
/// attempt that has logged nothing yet). The range ends on a whole UTF-8 character unless it
/// reaches the end of the file, so that reading on from its end never splits one.
async fn read_range(path: &std::path::Path, offset: u64, length: u64) -> std::io::Result<LogRange> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let mut file = match tokio::fs::File::open(path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(LogRange {
                offset: 0,
                bytes: Vec::new(),
                size: 0,
            });
        }
        Err(e) => return Err(e),
    };
    let size = file.metadata().await?.len();
    let offset = offset.min(size);
    file.seek(std::io::SeekFrom::Start(offset)).await?;
    let mut bytes = Vec::new();
    file.take(length).read_to_end(&mut bytes).await?;
    if offset + (bytes.len() as u64) < size
        && let Err(e) = std::str::from_utf8(&bytes)
        && e.error_len().is_none()
    {
        bytes.truncate(e.valid_up_to());
    }
    Ok(LogRange {
        offset,
        bytes,
        size,
    })
}

pub async fn retry(State(state): Shared, Path(run_id): Path<String>) -> ApiResult {
    let run = state.engine.retry(&run_id).await?;
    Ok(Json(run_json(&run)))
}

pub async fn cancel(State(state): Shared, Path(run_id): Path<String>) -> ApiResult {
    let run = state.engine.cancel(&run_id).await?;
    Ok(Json(run_json(&run)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkBody {
    pub state: String,
    pub map_index: Option<i32>,
}

/// What a task or a run may be marked by hand.
fn check_mark_state(state: &str) -> Result<(), ApiError> {
    if state != "success" && state != "failed" {
        return Err(ApiError::bad_request(format!(
            "`state` must be `success` or `failed`, got `{state}`"
        )));
    }
    Ok(())
}

pub async fn mark(
    State(state): Shared,
    Path((run_id, task)): Path<(String, String)>,
    body: Result<Json<MarkBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body?;
    check_mark_state(&body.state)?;
    let task = state
        .engine
        .mark(&run_id, &task, body.map_index, &body.state)
        .await?;
    Ok(Json(task_json(&task)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkRunBody {
    pub state: String,
}

/// Marks a whole run `success` or `failed`, as Airflow's "mark run as" (see `Engine::mark_run`).
pub async fn mark_run(
    State(state): Shared,
    Path(run_id): Path<String>,
    body: Result<Json<MarkRunBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body?;
    check_mark_state(&body.state)?;
    let run = state.engine.mark_run(&run_id, &body.state).await?;
    Ok(Json(run_json(&run)))
}

/// This subsystem's routes.
pub fn routes() -> crate::Routes {
    use crate::auth::{OPERATOR, VIEWER};
    use crate::openapi;
    crate::Routes::default()
        .get(openapi::RUNS, VIEWER, list)
        .get(openapi::RUN, VIEWER, show)
        .get(openapi::RUN_WAIT, VIEWER, wait)
        .get(openapi::RUN_EVENTS, VIEWER, events)
        .get(openapi::RUN_ATTEMPTS, VIEWER, attempts)
        .get(openapi::RUN_LOGS, VIEWER, logs)
        .post(openapi::RUN_RETRY, OPERATOR, retry)
        .post(openapi::RUN_CANCEL, OPERATOR, cancel)
        .post(openapi::TASK_MARK, OPERATOR, mark)
        .post(openapi::RUN_MARK, OPERATOR, mark_run)
        .post(openapi::RUNS_BULK, OPERATOR, super::runs_bulk::bulk)
}
