//! Event source mappings made through the Lambda API (those written in `functions/*.yaml` are
//! definitions, read from the files): which function a stream invokes and how. The settings are
//! JSON the engine owns; the store keeps the row. Records and mutations here; how the batch is
//! sorted in `plan.rs`; statements, writes and queries in `sql.rs`.

mod plan;
mod sql;

use serde::{Deserialize, Serialize};

use crate::Result;

pub(crate) use plan::Plan;
pub(crate) use sql::EventSourceWrites;

/// One write of the event source mappings, applied in batch order (they include deletions).
#[derive(Debug, Clone, PartialEq)]
pub enum EventSourceMutation {
    /// Upsert a mapping (key: uuid).
    PutMapping(EventSourceMappingRecord),
    /// Delete a mapping; an absent one is ignored.
    DeleteMapping { uuid: String },
}

/// The event source mappings' reads.
#[async_trait::async_trait]
pub trait EventSourceStore: Send + Sync + 'static {
    /// A mapping by UUID.
    async fn event_source_mapping(&self, uuid: &str) -> Result<Option<EventSourceMappingRecord>>;
    /// Every mapping, oldest first (then by UUID).
    async fn event_source_mappings(&self) -> Result<Vec<EventSourceMappingRecord>>;
}

/// A mapping as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventSourceMappingRecord {
    pub uuid: String,
    pub function_name: String,
    /// The settings (the engine's `EventSourceConfig`), as JSON.
    pub config: serde_json::Value,
    /// `Enabled` or `Disabled` (the transitional states are not stored).
    pub state: String,
    /// Why it is in that state (`USER_INITIATED`).
    pub state_reason: String,
    /// Microseconds since the epoch.
    pub created_at: i64,
    pub updated_at: i64,
}
