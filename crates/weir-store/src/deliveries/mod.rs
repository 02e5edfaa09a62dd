//! Deliveries (weir's Firehose) created through the API: their definition, kept as the text of a
//! `deliveries/*.yaml` file so that one parser reads both, and their tags. Deliveries from files
//! are not stored (the files are). Records and mutations here; the batch in `plan.rs`;
//! statements, writes and queries in `sql.rs`.

mod plan;
mod sql;

use serde::{Deserialize, Serialize};

use crate::Result;

pub(crate) use plan::Plan;
pub(crate) use sql::DeliveryWrites;

/// One write of the deliveries. They are applied in batch order (they include deletions).
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryMutation {
    /// Upsert a delivery (key: name).
    PutDelivery(DeliveryRecord),
    /// Delete a delivery; an absent name is ignored.
    DeleteDelivery { name: String },
}

/// The deliveries' reads.
#[async_trait::async_trait]
pub trait DeliveryStore: Send + Sync + 'static {
    async fn delivery(&self, name: &str) -> Result<Option<DeliveryRecord>>;
    /// Every stored delivery, by name.
    async fn deliveries(&self) -> Result<Vec<DeliveryRecord>>;
}

/// A delivery created through the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub name: String,
    /// The definition in the `deliveries/*.yaml` format (JSON, which that format reads).
    pub definition: String,
    /// The CreateDeliveryStream request as given, described back by DescribeDeliveryStream.
    pub request: serde_json::Value,
    /// `[{"Key": …, "Value": …}]`.
    pub tags: serde_json::Value,
    /// Firehose's `VersionId`, from 1, raised by each change.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}
