//! Streams' metadata (weir-stream's log keeps the records themselves): streams, their shards with
//! the lineage splits and merges leave, and enhanced fan-out consumers. Kept here so that several
//! servers sharing PostgreSQL agree on it. Records and mutations here; how the batch is sorted in
//! `plan.rs`; statements, writes and queries in `sql.rs`.

mod plan;
mod sql;

use serde::{Deserialize, Serialize};

use crate::Result;

pub(crate) use plan::Plan;
pub(crate) use sql::StreamWrites;

/// One write of the streams' metadata. Rows are sent whole (upsert by key); deletions apply in
/// batch order.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamMutation {
    /// Upsert a stream (key: name).
    PutStream(StreamRecord),
    /// Delete a stream with its shards and consumers; an absent name is ignored.
    DeleteStream { name: String },
    /// Upsert a shard (key: stream, shard).
    PutShard(ShardRecord),
    /// Upsert an enhanced fan-out consumer (key: stream, name).
    PutConsumer(StreamConsumerRecord),
    /// Delete a consumer; an absent one is ignored.
    DeleteConsumer { stream: String, name: String },
}

/// The streams' reads.
#[async_trait::async_trait]
pub trait StreamStore: Send + Sync + 'static {
    /// Every stream, by name.
    async fn streams(&self) -> Result<Vec<StreamRecord>>;
    /// A stream by name.
    async fn stream(&self, name: &str) -> Result<Option<StreamRecord>>;
    /// A stream's shards, by shard number.
    async fn stream_shards(&self, stream: &str) -> Result<Vec<ShardRecord>>;
    /// A stream's enhanced fan-out consumers, by name.
    async fn stream_consumers(&self, stream: &str) -> Result<Vec<StreamConsumerRecord>>;
}

/// A stream. Times are milliseconds since the epoch, as Kinesis shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamRecord {
    pub name: String,
    pub arn: String,
    /// `PROVISIONED` or `ON_DEMAND`.
    pub mode: String,
    pub retention_hours: i64,
    /// `CREATING`, `ACTIVE`, `UPDATING` or `DELETING`.
    pub status: String,
    pub created_ms: i64,
    /// JSON object of tag keys to values.
    pub tags: serde_json::Value,
    /// The stream's folder under `DATA/streams`: a stream created again under the same name gets
    /// a new one, so no file of the old stream is ever read as the new one's.
    pub storage_dir: String,
}

/// A shard, with its lineage. Hash keys are 128-bit numbers, stored as decimal text (neither
/// database has a 128-bit integer). Offsets count records from the shard's first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRecord {
    pub stream: String,
    pub shard: i64,
    pub parent: Option<i64>,
    pub adjacent_parent: Option<i64>,
    pub hash_start: String,
    pub hash_end: String,
    pub starting_offset: i64,
    /// Set when the shard is closed: the offset after its last record.
    pub ending_offset: Option<i64>,
    pub created_ms: i64,
    pub closed_ms: Option<i64>,
}

/// An enhanced fan-out consumer of a stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamConsumerRecord {
    pub stream: String,
    pub name: String,
    pub arn: String,
    /// `CREATING`, `DELETING` or `ACTIVE`.
    pub status: String,
    pub created_ms: i64,
}
