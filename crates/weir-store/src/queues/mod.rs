//! Queues (weir's SQS): each queue's settings and tags, its messages, the receipt state a
//! receive gives a message (visibility, receive count), and FIFO queues' de-duplication entries.
//! The engine keeps each queue's index in memory and writes here through the group committer;
//! these rows are what a restart reads back. Records and mutations here; how a batch is sorted in
//! `plan.rs`; statements, writes and queries in `sql.rs`.
//!
//! A message's content is written once (`PutMessage`) and never rewritten: what a receive
//! changes lives in a narrow row of its own (`PutReceipt`), so a receive costs a few integers
//! however large the body. Messages are keyed by `seq`, unique across all queues, so a redrive
//! moves a message to its dead-letter queue by changing one column.

mod plan;
mod sql;

use serde::{Deserialize, Serialize};

use crate::Result;

pub(crate) use plan::Plan;
pub(crate) use sql::QueueWrites;

/// One write of the queues.
#[derive(Debug, Clone, PartialEq)]
pub enum QueuesMutation {
    /// Upsert a queue (key: name).
    PutQueue(QueueRecord),
    /// Delete a queue with its messages, receipts and de-duplication entries; an absent name is
    /// ignored.
    DeleteQueue { name: String },
    /// Insert or replace a message (key: seq).
    PutMessage(QueueMessageRecord),
    /// Upsert a message's receipt state (key: seq).
    PutReceipt(QueueReceiptRecord),
    /// Delete a message and its receipt state; an absent one is ignored.
    DeleteMessage { seq: i64 },
    /// Move a message, with its receipt state, to another queue (a redrive to a dead-letter
    /// queue).
    MoveMessage { seq: i64, to_queue: String },
    /// Delete every message of `queue` up to and including `through_seq` (PurgeQueue).
    PurgeQueue { queue: String, through_seq: i64 },
    /// Upsert a FIFO queue's de-duplication entry (key: queue, dedup_key).
    PutDedup(QueueDedupRecord),
    /// Forget `queue`'s de-duplication entries that expire before `before_ms`.
    DeleteExpiredDedups { queue: String, before_ms: i64 },
}

/// The queues' reads.
#[async_trait::async_trait]
pub trait QueuesStore: Send + Sync + 'static {
    /// Every queue, by name.
    async fn queues(&self) -> Result<Vec<QueueRecord>>;
    /// What a queue's in-memory index needs of each of its messages, by seq.
    async fn queue_message_states(&self, queue: &str) -> Result<Vec<QueueMessageState>>;
    /// The messages with these seqs (any order; absent ones are left out).
    async fn queue_messages(&self, seqs: &[i64]) -> Result<Vec<QueueMessageRecord>>;
    /// A queue's de-duplication entries that expire after `now_ms`.
    async fn queue_dedups(&self, queue: &str, now_ms: i64) -> Result<Vec<QueueDedupRecord>>;
    /// The largest message seq ever stored (0 when there is none).
    async fn max_queue_seq(&self) -> Result<i64>;
}

/// A queue. Times are milliseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueRecord {
    pub name: String,
    pub url: String,
    pub arn: String,
    /// JSON object of the attributes set on the queue (SQS's names, values as strings).
    pub attributes: serde_json::Value,
    /// JSON object of tag keys to values.
    pub tags: serde_json::Value,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// A message as sent: written once, never rewritten (receipt state is in
/// [`QueueReceiptRecord`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueMessageRecord {
    /// Unique across every queue, increasing in send order.
    pub seq: i64,
    pub queue: String,
    pub message_id: String,
    pub body: String,
    /// JSON object of message attributes (name to `{DataType, StringValue | BinaryValue}`,
    /// binary values in base64).
    pub message_attributes: serde_json::Value,
    /// JSON object of message system attributes (`AWSTraceHeader`), same shape.
    pub system_attributes: serde_json::Value,
    pub md5_of_body: String,
    pub md5_of_message_attributes: Option<String>,
    pub md5_of_system_attributes: Option<String>,
    pub sent_ms: i64,
    /// When the message first becomes visible (send time plus its delay).
    pub visible_ms: i64,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    /// FIFO queues' SequenceNumber.
    pub sequence_number: Option<String>,
    /// Body plus message attributes, in bytes, as SQS counts a message's size.
    pub size: i64,
}

/// What receiving a message changed: written by each receive and visibility change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueReceiptRecord {
    pub seq: i64,
    pub queue: String,
    /// When the message becomes visible again.
    pub visible_ms: i64,
    pub receive_count: i64,
    pub first_receive_ms: Option<i64>,
    /// The receive's random number, which its receipt handle carries: a handle stays good
    /// across a restart, and one from an earlier receive is still told apart.
    pub nonce: i64,
}

/// A message as a queue's index knows it: its message row joined with its receipt state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueMessageState {
    pub seq: i64,
    pub sent_ms: i64,
    pub visible_ms: i64,
    pub receive_count: i64,
    pub first_receive_ms: Option<i64>,
    /// The last receive's nonce (0 when never received).
    pub nonce: i64,
    pub group_id: Option<String>,
    pub size: i64,
}

/// A FIFO queue's memory of a de-duplication id for five minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueDedupRecord {
    pub queue: String,
    /// The MessageDeduplicationId (or the body's SHA-256), prefixed by the message group when
    /// the queue's DeduplicationScope is messageGroup.
    pub dedup_key: String,
    pub message_id: String,
    pub sequence_number: Option<String>,
    pub expires_ms: i64,
}
