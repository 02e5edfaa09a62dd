//! State machines with their executions, each execution's history, and the interpreter's
//! per-state records it resumes from. Records and mutations here; how the batch is sorted in
//! `plan.rs`; statements, writes and queries in `sql.rs`.

mod plan;
mod sql;

use serde::{Deserialize, Serialize};

use crate::Result;

pub(crate) use plan::Plan;
pub(crate) use sql::MachineWrites;

/// One write of the state-machines subsystem. Rows are sent whole (upsert by key); history events
/// are appended.
#[derive(Debug, Clone, PartialEq)]
pub enum MachineMutation {
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

/// The state-machines subsystem's reads.
#[async_trait::async_trait]
pub trait MachineStore: Send + Sync + 'static {
    /// A state machine by ARN.
    async fn machine(&self, arn: &str) -> Result<Option<MachineRecord>>;
    /// Every state machine, by name.
    async fn machines(&self) -> Result<Vec<MachineRecord>>;
    /// An execution by ARN.
    async fn execution(&self, arn: &str) -> Result<Option<ExecutionRecord>>;
    /// Executions, newest first (by start, then ARN), those `filter` keeps, at most `limit`;
    /// with `after` (a start time and ARN), only those listed after that execution: a page
    /// starts where the last one ended, however many came before it.
    async fn executions(
        &self,
        filter: ExecutionFilter<'_>,
        after: Option<(i64, &str)>,
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

/// Which executions a listing keeps; every field that is set must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ExecutionFilter<'a> {
    pub machine_arn: Option<&'a str>,
    pub status: Option<&'a str>,
    /// Only those redriven at least once (`true`), or never (`false`).
    pub redriven: Option<bool>,
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
    /// How often the execution was redriven (RedriveExecution), and when last.
    pub redrive_count: i64,
    pub redriven_at: Option<i64>,
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
