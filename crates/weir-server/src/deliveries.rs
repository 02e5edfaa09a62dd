//! Deliveries (weir's Firehose) as the server reaches them: through [`DeliveryService`], which
//! the binary implements with `weir-lake`'s deliveries, so this crate stays free of DataFusion
//! and of the stream log. The Firehose protocol (`aws/firehose/`) maps requests onto it.

use bytes::Bytes;
use serde_json::Value;
use weir_model::delivery::Draft;
pub use weir_model::delivery::{DeliveryActivity, DeliveryInfo};

/// A refusal in Firehose's terms: the exception's name and message.
#[derive(Debug, Clone)]
pub struct DeliveryFailure {
    pub code: &'static str,
    pub message: String,
}

/// A record's id, or its error code and message.
pub type PutResult = Result<String, (String, String)>;

#[async_trait::async_trait]
pub trait DeliveryService: Send + Sync {
    async fn create(
        &self,
        draft: Draft,
        request: Value,
        tags: Vec<(String, String)>,
    ) -> Result<DeliveryInfo, DeliveryFailure>;
    async fn delete(&self, name: &str) -> Result<(), DeliveryFailure>;
    async fn describe(&self, name: &str) -> Result<DeliveryInfo, DeliveryFailure>;
    /// Every delivery, by name.
    async fn list(&self) -> Vec<DeliveryInfo>;
    /// What a delivery did since this server started it (None: no such delivery).
    async fn activity(&self, name: &str) -> Option<DeliveryActivity>;
    /// Appends the records durably (they are acknowledged only once they are) and returns each
    /// one's outcome in order.
    async fn put(&self, name: &str, records: Vec<Bytes>)
    -> Result<Vec<PutResult>, DeliveryFailure>;
    /// Adds (replacing by key) and removes tags.
    async fn retag(
        &self,
        name: &str,
        add: Vec<(String, String)>,
        remove: Vec<String>,
    ) -> Result<(), DeliveryFailure>;
}
