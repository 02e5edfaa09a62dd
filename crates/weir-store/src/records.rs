//! Rows of the metadata store, as the engine reads and writes them.

use serde::{Deserialize, Serialize};

/// One write in a batch. Rows are sent whole (upsert by key); events are appended.
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
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
    /// Upsert a catalog database (key: name).
    PutDatabase(DatabaseRecord),
    /// Delete a catalog database's row. Its tables are left alone: refusing to drop a database
    /// that has tables, or dropping them first, is the caller's decision.
    DropDatabase { name: String },
    /// Upsert a catalog table (key: database, name).
    PutTable(TableRecord),
    /// Delete a catalog table and its manifest.
    DropTable { database: String, name: String },
    /// Upsert files into manifests (key: database, table_name, key).
    PutTableFiles(Vec<TableFileRecord>),
    /// Delete files from a table's manifest by key; absent keys are ignored.
    DeleteTableFiles {
        database: String,
        table: String,
        keys: Vec<String>,
    },
    /// Replace a table's whole manifest with `files` (whose `database` and `table_name` must be
    /// this table's), in the batch's transaction: readers see the old list or the new one.
    ReplaceTableFiles {
        database: String,
        table: String,
        files: Vec<TableFileRecord>,
    },
    /// Upsert a state machine (key: arn).
    PutMachine(MachineRecord),
    /// Delete a state machine; its executions and their histories stay readable.
    DeleteMachine { arn: String },
    /// Upsert an execution (key: arn).
    PutExecution(ExecutionRecord),
    /// Append an event to an execution's history (key: execution_arn, id; a repeat is ignored).
    HistoryEvent(HistoryEventRecord),
    /// Upsert the interpreter's record of one state visit (key: execution_arn, step).
    PutStep(StepRecord),
}

/// A state machine definition and the arguments it was created with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineRecord {
    pub arn: String,
    pub name: String,
    /// `STANDARD` or `EXPRESS`.
    pub machine_type: String,
    pub definition: String,
    pub role_arn: String,
    pub settings: serde_json::Value,
    pub source: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    pub arn: String,
    pub machine_arn: String,
    pub name: String,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`.
    pub status: String,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub definition: String,
    pub started_at: i64,
    pub stopped_at: Option<i64>,
}

/// One event of an execution's history, in Step Functions' terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEventRecord {
    pub execution_arn: String,
    pub id: i64,
    pub previous_id: i64,
    pub at: i64,
    /// `ExecutionStarted`, `TaskStateEntered`, …
    pub event_type: String,
    /// JSON text of the event's details object, serialized by the writer (the interpreter's
    /// thread) rather than by the committer, which is the busier of the two.
    pub details: String,
}

/// The interpreter's durable note about one state visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub execution_arn: String,
    pub step: String,
    pub state: String,
    /// JSON text.
    pub record: String,
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

/// A database of the lake's catalog: a namespace of tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseRecord {
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
}

/// A table of the lake's catalog. The store keeps the schema and partitioning as the JSON the
/// catalog gives it; the statistics are columns so that listings can show and sort them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRecord {
    pub database: String,
    pub name: String,
    /// Prefix in the lake, without a trailing slash.
    pub location: String,
    /// `parquet`, `csv` or `json`.
    pub format: String,
    /// The data columns, as a JSON array.
    pub columns: serde_json::Value,
    /// How partition values are read from keys, as a JSON object.
    pub partitioning: serde_json::Value,
    pub row_count: Option<i64>,
    pub size_bytes: i64,
    pub file_count: i64,
    pub last_modified: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One object of a table's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableFileRecord {
    pub database: String,
    pub table_name: String,
    /// Full key in the lake.
    pub key: String,
    pub size: i64,
    pub last_modified: i64,
    pub etag: Option<String>,
    /// Partition values as a JSON array of strings.
    pub partition_values: serde_json::Value,
    pub row_count: Option<i64>,
}
