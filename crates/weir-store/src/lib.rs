//! weir's metadata persistence behind one trait, [`Store`], with SQLite (the embedded default)
//! and PostgreSQL implementations. This is the only crate that speaks the metadata database's SQL.
//!
//! Writes go through [`Mutation`] batches: the engine keeps hot state in memory and sends full rows;
//! [`Committer`] gathers the batches of all runs and commits them together, one fsync per commit
//! however many transitions it carries (group commit). Reads are plain queries.
//!
//! The lake's catalog (databases, tables, and each table's manifest of files) is kept here too,
//! so a lake write commits by applying one batch; and state machines with their executions, each
//! execution's history and the interpreter's per-state records it resumes from.
//!
//! Timestamps are microseconds since the Unix epoch (`i64`); JSON is stored as text.

mod committer;
pub mod fault;
mod plan;
mod postgres;
mod records;
mod sql_store;
mod sqlite;
mod statements;

use std::sync::Arc;

pub use committer::Committer;
pub use postgres::{PostgresStore, ServerClaim, claim_postgres};
pub use records::*;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("metadata database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("metadata database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored JSON is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("invalid store URL `{url}`: {reason}")]
    Url { url: String, reason: String },
    #[error("a value could not be encoded for the metadata database: {0}")]
    Encode(String),
    #[error("metadata commit failed: {0}")]
    Commit(String),
    #[error("the committer has stopped")]
    Closed,
    #[error(
        "the metadata database is in use by another weir server ({0}); until servers can share one, stop it first"
    )]
    InUse(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Metadata persistence. Every implementation passes the same suite (`tests/store_suite.rs`).
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies all mutations in one transaction, durably, in order.
    async fn apply(&self, batch: &[Mutation]) -> Result<()>;

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
    /// All attempts of a run (optionally of one task), ordered by task, map index, try.
    async fn attempts(&self, run_id: &str, task_id: Option<&str>) -> Result<Vec<AttemptRecord>>;
    /// Attempts that were started and never ended: their processes may still be alive.
    async fn open_attempts(&self) -> Result<Vec<AttemptRecord>>;
    /// The audit trail of a run, in order.
    async fn run_events(&self, run_id: &str) -> Result<Vec<EventRecord>>;

    /// Scheduler bookkeeping for every pipeline that has any.
    async fn schedule_states(&self) -> Result<Vec<ScheduleStateRecord>>;

    /// A catalog database by name.
    async fn database(&self, name: &str) -> Result<Option<DatabaseRecord>>;
    /// Every catalog database, by name.
    async fn databases(&self) -> Result<Vec<DatabaseRecord>>;
    /// A catalog table.
    async fn table(&self, database: &str, name: &str) -> Result<Option<TableRecord>>;
    /// The tables of one database (by name), or of all (by database, then name).
    async fn tables(&self, database: Option<&str>) -> Result<Vec<TableRecord>>;
    /// A table's manifest, by key.
    async fn table_files(&self, database: &str, table: &str) -> Result<Vec<TableFileRecord>>;

    /// A state machine by ARN.
    async fn machine(&self, arn: &str) -> Result<Option<MachineRecord>>;
    /// Every state machine, by name.
    async fn machines(&self) -> Result<Vec<MachineRecord>>;
    /// An execution by ARN.
    async fn execution(&self, arn: &str) -> Result<Option<ExecutionRecord>>;
    /// Executions, newest first, optionally of one machine and in one status, at most `limit`.
    async fn executions(
        &self,
        machine_arn: Option<&str>,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ExecutionRecord>>;
    /// An execution's history, by event id.
    async fn history(&self, execution_arn: &str) -> Result<Vec<HistoryEventRecord>>;
    /// The id of an execution's last event (0 when it has none): where a resumed execution
    /// goes on numbering, without reading its history.
    async fn last_event_id(&self, execution_arn: &str) -> Result<i64>;
    /// The interpreter's records of an execution's state visits.
    async fn steps(&self, execution_arn: &str) -> Result<Vec<StepRecord>>;
}

/// Opens the store a URL names: `sqlite://PATH` (created if missing) or `postgres://…`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::Url {
            url: url.to_string(),
            reason: "expected sqlite://PATH or postgres://…".into(),
        })
    }
}
