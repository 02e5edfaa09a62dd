//! weir's metadata persistence behind one trait, [`Store`], with SQLite (the embedded default)
//! and PostgreSQL implementations. This is the only crate that speaks the metadata database's SQL.
//!
//! Each subsystem has its own module: [`runs`] (pipelines: versions, runs, task instances,
//! attempts, run events, schedule state), [`catalog`] (the lake's databases, tables and
//! manifests, so a lake write commits by applying one batch), [`machines`] (state machines,
//! executions, their histories and the interpreter's per-state records), [`access`]
//! (credentials and the audit log), [`secrets`] (sealed values: the store never sees a secret
//! in plain text), [`streams`] (streams' metadata: shards and their lineage, consumers),
//! [`consumers`] (consumer groups' shard leases and checkpoints), [`event_sources`] (the
//! Lambda API's event source mappings), [`deliveries`] (deliveries made through the Firehose
//! API), [`events`] (the event bus: buses, rules, archives, replays, retries) and [`queues`]
//! (weir's SQS: queues, messages, receipt state, FIFO de-duplication) and [`queries`] (saved
//! queries, the charts of dashboards) and [`transforms`] (transforms' bookmarks). Each holds its records,
//! its [`Mutation`]s, its read trait and its SQL; [`Store`] is the sum of the read traits plus
//! `apply`.
//!
//! Writes go through [`Mutation`] batches: the engine keeps hot state in memory and sends full rows;
//! [`Committer`] gathers the batches of every caller, whatever their subsystem, and commits them
//! together in one transaction, one fsync per commit however many transitions it carries (group
//! commit). Reads are plain queries.
//!
//! Timestamps are microseconds since the Unix epoch (`i64`); JSON is stored as text.

pub mod access;
pub mod catalog;
mod committer;
pub mod consumers;
pub mod deliveries;
mod driver;
pub mod event_sources;
pub mod events;
pub mod fault;
pub mod machines;
mod plan;
mod postgres;
pub mod queries;
pub mod queues;
pub mod runs;
pub mod secrets;
mod sql_store;
mod sqlite;
mod statements;
pub mod streams;
pub mod transforms;

use std::sync::Arc;

pub use access::{
    AccessMutation, AccessStore, AuditEntry, AuditRecord, CredentialRecord, EndedSession,
};
pub use catalog::{CatalogMutation, CatalogStore, DatabaseRecord, TableFileRecord, TableRecord};
pub use committer::Committer;
pub use consumers::{
    CheckpointRecord, ConsumerMutation, ConsumerStore, LeaseClaim, LeaseRecord, SHARD_END,
};
pub use deliveries::{DeliveryMutation, DeliveryRecord, DeliveryStore};
pub use event_sources::{EventSourceMappingRecord, EventSourceMutation, EventSourceStore};
pub use events::{
    ArchiveUsage, ArchivedEventRecord, EventArchiveRecord, EventBusRecord, EventReplayRecord,
    EventRetryRecord, EventRuleRecord, EventsMutation, EventsStore,
};
pub use machines::{
    ExecutionFilter, ExecutionRecord, HistoryEventRecord, MachineMutation, MachineRecord,
    MachineStore, StepRecord,
};
pub use postgres::{PostgresStore, ServerClaim, claim_postgres};
pub use queries::{DashboardSummary, QueryMutation, QueryStore, SavedQuery};
pub use queues::{
    QueueDedupRecord, QueueMessageRecord, QueueMessageState, QueueReceiptRecord, QueueRecord,
    QueuesMutation, QueuesStore,
};
pub use runs::{
    AttemptRecord, EventRecord, RunMutation, RunRecord, RunStore, ScheduleStateRecord, TaskRecord,
    TaskState, VersionRecord,
};
pub use secrets::{SecretMutation, SecretRecord, SecretStore};
pub use sqlite::SqliteStore;
pub use streams::{ShardRecord, StreamConsumerRecord, StreamMutation, StreamRecord, StreamStore};
pub use transforms::{
    TransformBookmarkObject, TransformBookmarkRecord, TransformMutation, TransformStore,
};

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
        "consumer group `{group}` lost its lease on shard {shard} of stream `{stream}` (no longer held by {owner})"
    )]
    LeaseLost {
        group: String,
        stream: String,
        shard: String,
        owner: String,
    },
    #[error(
        "the metadata database is in use by another weir server ({0}); until servers can share one, stop it first"
    )]
    InUse(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One write in a batch, of one subsystem. Each subsystem's caller builds its own kind
/// ([`RunMutation`], …) and converts it with `into()`: a batch may mix them, and the committer
/// gathers every caller's.
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    Runs(RunMutation),
    Catalog(CatalogMutation),
    Machines(MachineMutation),
    Access(AccessMutation),
    Secrets(SecretMutation),
    Consumers(ConsumerMutation),
    EventSources(EventSourceMutation),
    Streams(StreamMutation),
    Deliveries(DeliveryMutation),
    Events(EventsMutation),
    Queues(QueuesMutation),
    Queries(QueryMutation),
    Transforms(TransformMutation),
}

impl From<RunMutation> for Mutation {
    fn from(mutation: RunMutation) -> Self {
        Mutation::Runs(mutation)
    }
}

impl From<CatalogMutation> for Mutation {
    fn from(mutation: CatalogMutation) -> Self {
        Mutation::Catalog(mutation)
    }
}

impl From<MachineMutation> for Mutation {
    fn from(mutation: MachineMutation) -> Self {
        Mutation::Machines(mutation)
    }
}

impl From<AccessMutation> for Mutation {
    fn from(mutation: AccessMutation) -> Self {
        Mutation::Access(mutation)
    }
}

impl From<DeliveryMutation> for Mutation {
    fn from(mutation: DeliveryMutation) -> Self {
        Mutation::Deliveries(mutation)
    }
}

impl From<EventsMutation> for Mutation {
    fn from(mutation: EventsMutation) -> Self {
        Mutation::Events(mutation)
    }
}

impl From<SecretMutation> for Mutation {
    fn from(mutation: SecretMutation) -> Self {
        Mutation::Secrets(mutation)
    }
}

impl From<EventSourceMutation> for Mutation {
    fn from(mutation: EventSourceMutation) -> Self {
        Mutation::EventSources(mutation)
    }
}

impl From<ConsumerMutation> for Mutation {
    fn from(mutation: ConsumerMutation) -> Self {
        Mutation::Consumers(mutation)
    }
}

impl From<QueuesMutation> for Mutation {
    fn from(mutation: QueuesMutation) -> Self {
        Mutation::Queues(mutation)
    }
}

impl From<QueryMutation> for Mutation {
    fn from(mutation: QueryMutation) -> Self {
        Mutation::Queries(mutation)
    }
}

impl From<TransformMutation> for Mutation {
    fn from(mutation: TransformMutation) -> Self {
        Mutation::Transforms(mutation)
    }
}

impl From<StreamMutation> for Mutation {
    fn from(mutation: StreamMutation) -> Self {
        Mutation::Streams(mutation)
    }
}

/// Metadata persistence: every subsystem's reads, and one way to write them all. Every
/// implementation passes the same suite (`tests/store_suite.rs`).
#[async_trait::async_trait]
pub trait Store:
    RunStore
    + CatalogStore
    + MachineStore
    + AccessStore
    + SecretStore
    + StreamStore
    + ConsumerStore
    + EventSourceStore
    + DeliveryStore
    + EventsStore
    + QueuesStore
    + QueryStore
    + TransformStore
{
    /// Applies all mutations in one transaction, durably, in order.
    async fn apply(&self, batch: &[Mutation]) -> Result<()>;
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
