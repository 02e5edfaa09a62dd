//! The event bus's metadata (weir-engine's `events/`; the events themselves are in each bus's
//! weir-stream log): buses, rules with their targets, archives and the events they keep,
//! replays, and deliveries waiting for a retry. Records and mutations here; how the batch is
//! sorted in `plan.rs`; statements, writes and queries in `sql.rs`.

mod plan;
mod sql;

use serde::{Deserialize, Serialize};

use crate::Result;

pub(crate) use plan::Plan;
pub(crate) use sql::EventsWrites;

/// One write of the bus's metadata. Rows are sent whole (upsert by key); deletions apply in
/// batch order.
#[derive(Debug, Clone, PartialEq)]
pub enum EventsMutation {
    /// Upsert a bus (key: name).
    PutBus(EventBusRecord),
    /// Delete a bus and its rules; an absent name is ignored.
    DeleteBus { name: String },
    /// Upsert a rule (key: bus, name).
    PutRule(EventRuleRecord),
    /// Delete a rule; an absent one is ignored.
    DeleteRule { bus: String, name: String },
    /// Upsert an archive (key: name).
    PutArchive(EventArchiveRecord),
    /// Delete an archive and every event it keeps; an absent name is ignored.
    DeleteArchive { name: String },
    /// Keep an event in an archive (key: archive, time_ms, seq: writing one again replaces it,
    /// so a batch processed twice archives each event once).
    ArchiveEvent(ArchivedEventRecord),
    /// Drop an archive's events older than `before_ms` (its retention).
    ExpireArchivedEvents { archive: String, before_ms: i64 },
    /// Upsert a replay (key: name).
    PutReplay(EventReplayRecord),
    /// Upsert a delivery waiting for a retry (key: id).
    PutRetry(EventRetryRecord),
    /// Forget a retry (delivered, or given up); an absent id is ignored.
    DeleteRetry { id: String },
}

/// The bus's reads.
#[async_trait::async_trait]
pub trait EventsStore: Send + Sync + 'static {
    /// Every bus, by name.
    async fn event_buses(&self) -> Result<Vec<EventBusRecord>>;
    /// Every rule, by bus then name.
    async fn event_rules(&self) -> Result<Vec<EventRuleRecord>>;
    /// Every archive, by name.
    async fn event_archives(&self) -> Result<Vec<EventArchiveRecord>>;
    /// How many events each archive keeps and their bytes, by archive (archives without events
    /// are left out).
    async fn archive_usage(&self) -> Result<Vec<ArchiveUsage>>;
    /// An archive's events with `start_ms <= time_ms < end_ms`, in (time_ms, seq) order, after
    /// the position `after` (exclusive) if given, at most `limit`.
    async fn archived_events(
        &self,
        archive: &str,
        start_ms: i64,
        end_ms: i64,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<ArchivedEventRecord>>;
    /// Every replay, by name.
    async fn event_replays(&self) -> Result<Vec<EventReplayRecord>>;
    /// Every delivery waiting for a retry, soonest first.
    async fn event_retries(&self) -> Result<Vec<EventRetryRecord>>;
}

/// An event bus. Times are milliseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventBusRecord {
    pub name: String,
    pub description: Option<String>,
    /// `[{"Key": …, "Value": …}]`.
    pub tags: serde_json::Value,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A rule of a bus, with its targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRuleRecord {
    pub bus: String,
    pub name: String,
    pub description: Option<String>,
    /// The event pattern's JSON text, as given.
    pub event_pattern: Option<String>,
    /// `rate(…)` or `cron(…)`.
    pub schedule: Option<String>,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    pub role_arn: Option<String>,
    /// The targets (the engine's JSON), in the order they were put.
    pub targets: serde_json::Value,
    /// `[{"Key": …, "Value": …}]`.
    pub tags: serde_json::Value,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// An archive of a bus's events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventArchiveRecord {
    pub name: String,
    /// The ARN of the bus it archives.
    pub source_arn: String,
    pub description: Option<String>,
    /// Only events matching it are archived (all when absent).
    pub event_pattern: Option<String>,
    /// Days an event is kept; 0: for ever.
    pub retention_days: i64,
    /// `ENABLED`, `DISABLED`, …
    pub state: String,
    pub created_ms: i64,
}

/// An event an archive keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedEventRecord {
    pub archive: String,
    /// When the bus took the event (milliseconds since the epoch): replays select by it.
    pub time_ms: i64,
    /// The event's position in its bus's log, which orders events of the same millisecond.
    pub seq: i64,
    /// The event, as JSON text.
    pub event: String,
}

/// How much an archive keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveUsage {
    pub archive: String,
    pub events: i64,
    pub bytes: i64,
}

/// A replay of an archive's events into a bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventReplayRecord {
    pub name: String,
    pub description: Option<String>,
    pub archive_arn: String,
    pub destination_arn: String,
    /// Rule ARNs the replayed events go to (all of the bus's rules when empty): `["…"]`.
    pub filter_arns: serde_json::Value,
    pub start_ms: i64,
    pub end_ms: i64,
    /// `STARTING`, `RUNNING`, `CANCELLING`, `COMPLETED`, `CANCELLED` or `FAILED`.
    pub state: String,
    pub state_reason: Option<String>,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    /// The time of the last event replayed (EventLastReplayedTime).
    pub last_replayed_ms: Option<i64>,
    /// The position of the last event replayed, (time_ms, seq), where a resumed replay goes on.
    pub cursor_time_ms: Option<i64>,
    pub cursor_seq: Option<i64>,
}

/// A delivery to a target that failed and waits to be tried again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRetryRecord {
    pub id: String,
    pub bus: String,
    pub rule: String,
    /// The target as it was when the event matched (the engine's JSON).
    pub target: serde_json::Value,
    /// The event, as JSON text.
    pub event: String,
    /// The rendered input the target gets.
    pub input: String,
    /// Retries made so far (the first delivery is not one).
    pub attempts: i64,
    /// When the bus took the event: the retry policy's age counts from it.
    pub first_ms: i64,
    /// When to try next.
    pub next_ms: i64,
    pub error_code: String,
    pub error_message: String,
}
