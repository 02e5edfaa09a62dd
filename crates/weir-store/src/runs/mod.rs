//! Pipelines: versions, runs, task instances, attempts, the runs' audit trail (run events) and
//! the scheduler's bookkeeping. Records and mutations here; how the batch is sorted in `plan.rs`;
//! statements, writes and queries in `sql.rs`.

mod plan;
mod sql;
mod task_states;

use serde::{Deserialize, Serialize};

use crate::Result;

pub(crate) use plan::Plan;
pub(crate) use sql::RunWrites;

/// One write of the runs subsystem. Rows are sent whole (upsert by key); events are appended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunMutation {
    /// Insert a pipeline version if absent (key: pipeline, version).
    PutVersion(VersionRecord),
    /// Insert a new run; the batch fails if a run with its id exists, so creating a run never
    /// overwrites one.
    InsertRun(RunRecord),
    /// Upsert a run (key: id).
    PutRun(RunRecord),
    /// Upsert a task instance (key: run_id, task_id, map_index).
    PutTask(TaskRecord),
    /// Upsert an attempt (key: run_id, task_id, map_index, try_number).
    PutAttempt(AttemptRecord),
    /// Append an event to a run's audit trail.
    Event(EventRecord),
    /// Upsert scheduler bookkeeping (key: pipeline).
    PutScheduleState(ScheduleStateRecord),
}

/// The runs subsystem's reads.
#[async_trait::async_trait]
pub trait RunStore: Send + Sync + 'static {
    /// A pipeline version by its content hash.
    async fn pipeline_version(
        &self,
        pipeline: &str,
        version: &str,
    ) -> Result<Option<VersionRecord>>;

    /// One run by id.
    async fn run(&self, run_id: &str) -> Result<Option<RunRecord>>;
    /// Runs, newest first (by `created_at`), optionally of one pipeline, at most `limit`.
    async fn runs(&self, pipeline: Option<&str>, limit: u32) -> Result<Vec<RunRecord>>;
    /// A page of a pipeline's runs, newest first: at most `limit` of those older than `before`
    /// (`(created_at, id)` of the last run of the previous page; None for the first page), so
    /// that a grid pages back through its runs without counting or skipping rows.
    async fn runs_page(
        &self,
        pipeline: &str,
        before: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<RunRecord>>;
    /// Runs that are not finished (queued or running), oldest first: what recovery resumes.
    async fn unfinished_runs(&self) -> Result<Vec<RunRecord>>;
    /// Runs whose end-of-run notification has not been delivered yet.
    async fn runs_pending_notification(&self) -> Result<Vec<RunRecord>>;
    /// The run of `pipeline` for the scheduled interval starting at `logical_date`, if any.
    async fn run_for_logical_date(
        &self,
        pipeline: &str,
        logical_date: i64,
    ) -> Result<Option<RunRecord>>;

    /// All task instances of a run, ordered by task id then map index.
    async fn task_instances(&self, run_id: &str) -> Result<Vec<TaskRecord>>;
    /// The states of every task instance of the runs named (removed ones left out), ordered by
    /// run id, task id, map index: a grid of runs × tasks in one read, without the outputs,
    /// items and errors it does not show.
    async fn task_states(&self, run_ids: &[String]) -> Result<Vec<TaskState>>;
    /// All attempts of a run (optionally of one task), ordered by task, map index, try.
    async fn attempts(&self, run_id: &str, task_id: Option<&str>) -> Result<Vec<AttemptRecord>>;
    /// Attempts that were started and never ended: their processes may still be alive.
    async fn open_attempts(&self) -> Result<Vec<AttemptRecord>>;
    /// The audit trail of a run, in order.
    async fn run_events(&self, run_id: &str) -> Result<Vec<EventRecord>>;

    /// Scheduler bookkeeping for every pipeline that has any.
    async fn schedule_states(&self) -> Result<Vec<ScheduleStateRecord>>;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRecord {
    pub pipeline: String,
    /// Hex SHA-256 of `source`.
    pub version: String,
    pub path: String,
    pub source: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: String,
    pub pipeline: String,
    pub version: String,
    /// `queued`, `running`, `success`, `failed`, `cancelled`.
    pub state: String,
    /// `scheduled`, `manual`, `backfill`.
    pub run_type: String,
    pub logical_date: i64,
    pub interval_start: i64,
    pub interval_end: i64,
    /// Params after overrides, as a JSON object.
    pub params: serde_json::Value,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// True once the end-of-run notifications (if any) have been delivered.
    pub notified: bool,
    /// The event that started the run (an EventBridge envelope), None when no event did.
    #[serde(default)]
    pub event: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub run_id: String,
    pub task_id: String,
    /// -1 for an unmapped task (and for the parent of a mapped one); 0.. for mapped instances.
    pub map_index: i32,
    /// `pending`, `queued`, `running`, `up_for_retry`, `success`, `failed`, `upstream_failed`,
    /// `skipped`, `cancelled`.
    pub state: String,
    /// Attempts started so far.
    pub try_number: i32,
    /// Attempts allowed in all: `retries + 1`, raised by `retries + 1` each time the run is retried
    /// from failure, so a resumed task gets its full retry budget again.
    pub max_tries: i32,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// When an `up_for_retry` task may start its next attempt.
    pub next_try_at: Option<i64>,
    /// The task's small JSON output, once it succeeded.
    pub output: Option<serde_json::Value>,
    /// The mapped element, for a mapped instance.
    pub item: Option<serde_json::Value>,
    pub error: Option<String>,
}

/// A task instance's state and times, without its output, item and error: what a grid of many
/// runs shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskState {
    pub run_id: String,
    pub task_id: String,
    pub map_index: i32,
    pub state: String,
    pub try_number: i32,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    pub run_id: String,
    pub task_id: String,
    pub map_index: i32,
    pub try_number: i32,
    /// `running`, `success`, `failed`, `timed_out`, `cancelled`, `lost` (the server died under it).
    pub state: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// Process id of a command attempt (its process group id too).
    pub pid: Option<i32>,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    /// Path of the attempt's log, relative to the data directory.
    pub log_path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub run_id: String,
    pub at: i64,
    /// None for run-level events.
    pub task_id: Option<String>,
    pub map_index: Option<i32>,
    pub try_number: Option<i32>,
    /// The state entered.
    pub state: String,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleStateRecord {
    pub pipeline: String,
    /// End of the latest interval the scheduler created a run for.
    pub last_interval_end: Option<i64>,
    pub paused: bool,
}
