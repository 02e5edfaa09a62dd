//! The runs' statements: how their records are stored, their writes and their queries.

use super::task_states::TaskStatesRead;
use super::{
    AttemptRecord, EventRecord, Plan, RunRecord, RunStore, ScheduleStateRecord, TaskRecord,
    TaskState, VersionRecord,
};
use crate::Result;
use crate::driver::{Driver, Record, Statement, mapping};
use crate::sql_store::{SqlStore, write};
use crate::statements::{OnConflict, Placeholders, Write};

mapping!(VersionRecord {
    pipeline: text,
    version: text,
    path: text,
    source: text,
    created_at: value,
});

mapping!(RunRecord {
    id: text,
    pipeline: text,
    version: text,
    state: text,
    run_type: text,
    logical_date: value,
    interval_start: value,
    interval_end: value,
    params: json,
    created_at: value,
    started_at: value,
    ended_at: value,
    notified: value,
    event: opt_json,
});

mapping!(TaskRecord {
    run_id: text,
    task_id: text,
    map_index: value,
    state: text,
    try_number: value,
    max_tries: value,
    started_at: value,
    ended_at: value,
    next_try_at: value,
    output: opt_json,
    item: opt_json,
    error: opt_text,
});

mapping!(AttemptRecord {
    run_id: text,
    task_id: text,
    map_index: value,
    try_number: value,
    state: text,
    started_at: value,
    ended_at: value,
    pid: value,
    exit_code: value,
    error: opt_text,
    log_path: text,
});

mapping!(EventRecord {
    run_id: text,
    at: value,
    task_id: opt_text,
    map_index: value,
    try_number: value,
    state: text,
    message: opt_text,
});

mapping!(ScheduleStateRecord {
    pipeline: text,
    last_interval_end: value,
    paused: value,
});

/// The runs' write statements, in the backend's placeholder style.
pub(crate) struct RunWrites {
    versions: Write,
    new_runs: Write,
    runs: Write,
    tasks: Write,
    attempts: Write,
    events: Write,
    schedules: Write,
    /// The read of many runs' task states, one statement per length of its list of run ids.
    task_states: TaskStatesRead,
}

impl RunWrites {
    pub(crate) fn new(placeholders: Placeholders) -> RunWrites {
        let write = |table, columns, key, on_conflict| {
            Write::new(table, columns, key, on_conflict, placeholders)
        };
        RunWrites {
            versions: write(
                "pipeline_versions",
                VersionRecord::COLUMNS,
                &["pipeline", "version"],
                OnConflict::Ignore,
            ),
            new_runs: write("runs", RunRecord::COLUMNS, &["id"], OnConflict::Refuse),
            runs: write("runs", RunRecord::COLUMNS, &["id"], OnConflict::Update),
            tasks: write(
                "task_instances",
                TaskRecord::COLUMNS,
                &["run_id", "task_id", "map_index"],
                OnConflict::Update,
            ),
            attempts: write(
                "attempts",
                AttemptRecord::COLUMNS,
                &["run_id", "task_id", "map_index", "try_number"],
                OnConflict::Update,
            ),
            events: write("run_events", EventRecord::COLUMNS, &[], OnConflict::Append),
            schedules: write(
                "schedule_state",
                ScheduleStateRecord::COLUMNS,
                &["pipeline"],
                OnConflict::Update,
            ),
            task_states: TaskStatesRead::new(placeholders),
        }
    }

    /// Writes the runs' part of a batch, inside the batch's transaction.
    pub(crate) async fn apply<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        plan: Plan<'_>,
    ) -> Result<()> {
        write::<DB, _>(conn, &self.versions, &plan.versions.into_rows()).await?;
        // New runs first: an id that exists fails the insert instead of being overwritten by the
        // upsert of the same run's later state in this batch.
        write::<DB, _>(conn, &self.new_runs, &plan.new_runs).await?;
        write::<DB, _>(conn, &self.runs, &plan.runs.into_rows()).await?;
        write::<DB, _>(conn, &self.tasks, &plan.tasks.into_rows()).await?;
        write::<DB, _>(conn, &self.attempts, &plan.attempts.into_rows()).await?;
        write::<DB, _>(conn, &self.events, &plan.events).await?;
        write::<DB, _>(conn, &self.schedules, &plan.schedules.into_rows()).await
    }
}

// Reads. Rows are decoded by column name, so `SELECT *` stays correct as columns are added.
// Ties on timestamps are broken by key so that listings are stable.

const VERSION: &str = "SELECT * FROM pipeline_versions WHERE pipeline = $1 AND version = $2";
const RUN: &str = "SELECT * FROM runs WHERE id = $1";
const RUNS: &str = "SELECT * FROM runs ORDER BY created_at DESC, id DESC LIMIT $1";
const RUNS_OF_PIPELINE: &str =
    "SELECT * FROM runs WHERE pipeline = $1 ORDER BY created_at DESC, id DESC LIMIT $2";
/// Keyset paging on `(created_at, id)`, the listing's order, from the `runs_by_pipeline` index.
const RUNS_OF_PIPELINE_BEFORE: &str = "SELECT * FROM runs WHERE pipeline = $1 \
     AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
     ORDER BY created_at DESC, id DESC LIMIT $4";
const UNFINISHED_RUNS: &str =
    "SELECT * FROM runs WHERE state IN ('queued', 'running') ORDER BY created_at, id";
/// Only finished runs can owe an end-of-run notification.
const RUNS_PENDING_NOTIFICATION: &str = "SELECT * FROM runs WHERE notified = FALSE AND state NOT IN ('queued', 'running') ORDER BY created_at, id";
/// The predicate repeats the unique index's, so that both databases answer from it.
const RUN_FOR_LOGICAL_DATE: &str = "SELECT * FROM runs WHERE pipeline = $1 AND logical_date = $2 AND run_type IN ('scheduled', 'backfill')";
const TASKS: &str = "SELECT * FROM task_instances WHERE run_id = $1 ORDER BY task_id, map_index";
const ATTEMPTS: &str =
    "SELECT * FROM attempts WHERE run_id = $1 ORDER BY task_id, map_index, try_number";
const ATTEMPTS_OF_TASK: &str =
    "SELECT * FROM attempts WHERE run_id = $1 AND task_id = $2 ORDER BY map_index, try_number";
const OPEN_ATTEMPTS: &str = "SELECT * FROM attempts WHERE ended_at IS NULL ORDER BY started_at, run_id, task_id, map_index, try_number";
const EVENTS: &str = "SELECT * FROM run_events WHERE run_id = $1 ORDER BY id";
const SCHEDULE_STATES: &str = "SELECT * FROM schedule_state ORDER BY pipeline";

#[async_trait::async_trait]
impl<DB: Driver> RunStore for SqlStore<DB> {
    async fn pipeline_version(
        &self,
        pipeline: &str,
        version: &str,
    ) -> Result<Option<VersionRecord>> {
        self.fetch_optional(Statement::new(VERSION).bind(pipeline).bind(version))
            .await
    }

    async fn run(&self, run_id: &str) -> Result<Option<RunRecord>> {
        self.fetch_optional(Statement::new(RUN).bind(run_id)).await
    }

    async fn runs(&self, pipeline: Option<&str>, limit: u32) -> Result<Vec<RunRecord>> {
        let query = match pipeline {
            Some(pipeline) => Statement::new(RUNS_OF_PIPELINE).bind(pipeline),
            None => Statement::new(RUNS),
        };
        self.fetch_all(query.bind(i64::from(limit))).await
    }

    async fn runs_page(
        &self,
        pipeline: &str,
        before: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<RunRecord>> {
        let query = match before {
            Some((created_at, id)) => Statement::new(RUNS_OF_PIPELINE_BEFORE)
                .bind(pipeline)
                .bind(created_at)
                .bind(id),
            None => Statement::new(RUNS_OF_PIPELINE).bind(pipeline),
        };
        self.fetch_all(query.bind(i64::from(limit))).await
    }

    async fn unfinished_runs(&self) -> Result<Vec<RunRecord>> {
        self.fetch_all(Statement::new(UNFINISHED_RUNS)).await
    }

    async fn runs_pending_notification(&self) -> Result<Vec<RunRecord>> {
        self.fetch_all(Statement::new(RUNS_PENDING_NOTIFICATION))
            .await
    }

    async fn run_for_logical_date(
        &self,
        pipeline: &str,
        logical_date: i64,
    ) -> Result<Option<RunRecord>> {
        let query = Statement::new(RUN_FOR_LOGICAL_DATE)
            .bind(pipeline)
            .bind(logical_date);
        self.fetch_optional(query).await
    }

    async fn task_instances(&self, run_id: &str) -> Result<Vec<TaskRecord>> {
        self.fetch_all(Statement::new(TASKS).bind(run_id)).await
    }

    async fn task_states(&self, run_ids: &[String]) -> Result<Vec<TaskState>> {
        self.runs.task_states.read(&self.readers, run_ids).await
    }

    async fn attempts(&self, run_id: &str, task_id: Option<&str>) -> Result<Vec<AttemptRecord>> {
        let query = match task_id {
            Some(task_id) => Statement::new(ATTEMPTS_OF_TASK).bind(run_id).bind(task_id),
            None => Statement::new(ATTEMPTS).bind(run_id),
        };
        self.fetch_all(query).await
    }

    async fn open_attempts(&self) -> Result<Vec<AttemptRecord>> {
        self.fetch_all(Statement::new(OPEN_ATTEMPTS)).await
    }

    async fn run_events(&self, run_id: &str) -> Result<Vec<EventRecord>> {
        self.fetch_all(Statement::new(EVENTS).bind(run_id)).await
    }

    async fn schedule_states(&self) -> Result<Vec<ScheduleStateRecord>> {
        self.fetch_all(Statement::new(SCHEDULE_STATES)).await
    }
}
