//! A delivery as a consumer group's [`ShardProcessor`]: each batch the group hands over is
//! delivered, and the manifest rows go back to the group, which commits them with the
//! checkpoint in one store batch. The delivery's buffering is the group's batching.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weir_model::delivery::{DeliveryActivity, DeliverySpec, Start, WrittenObject};
use weir_store::Mutation;
use weir_stream::consumer::{GroupOptions, ProcessError, ShardProcessor};
use weir_stream::{Record, ShardId, StartingPosition};

use super::{Delivered, Delivery};

/// How long a shard waits before a failed batch is tried again (the lake or the catalog was
/// unavailable, or the destination does not fit).
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// Most records in one batch: the buffer's size and interval decide first in practice.
const MAX_BATCH_RECORDS: usize = 500_000;

pub struct DeliveryProcessor {
    pub delivery: Arc<Delivery>,
    /// What it did lately, for the dashboard (bounded).
    pub activity: Arc<Mutex<DeliveryActivity>>,
    /// Each shard's objects of the batch being committed: announced once the manifest that
    /// names them is durable, so whoever hears of an object can read it through SQL.
    unannounced: Mutex<HashMap<ShardId, Delivered>>,
}

impl DeliveryProcessor {
    pub fn new(delivery: Arc<Delivery>) -> DeliveryProcessor {
        DeliveryProcessor {
            delivery,
            activity: Arc::default(),
            unannounced: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait::async_trait]
impl ShardProcessor for DeliveryProcessor {
    async fn process(
        &self,
        shard: ShardId,
        records: Vec<Record>,
    ) -> Result<Vec<Mutation>, ProcessError> {
        match self.delivery.deliver(shard, &records).await {
            Ok(mut delivered) => {
                tracing::debug!(
                    delivery = %self.delivery.spec.name,
                    shard = %shard,
                    delivered = delivered.delivered,
                    failed = delivered.failed,
                    dropped = delivered.dropped,
                    "batch delivered"
                );
                let mutations = std::mem::take(&mut delivered.mutations);
                // A batch that is retried replaces what an earlier try of it would announce.
                if let Ok(mut unannounced) = self.unannounced.lock() {
                    unannounced.insert(shard, delivered);
                }
                Ok(mutations)
            }
            Err(error) => {
                tracing::warn!(
                    delivery = %self.delivery.spec.name,
                    shard = %shard,
                    "batch not delivered, retrying: {error}"
                );
                if let Ok(mut activity) = self.activity.lock() {
                    activity.batch_failed(now_ms(), &error.to_string());
                }
                Err(ProcessError::new(error.to_string()).retry_after(RETRY_AFTER))
            }
        }
    }

    async fn committed(&self, shard: ShardId) {
        let delivered = match self.unannounced.lock() {
            Ok(mut unannounced) => unannounced.remove(&shard),
            Err(_) => None,
        };
        if let Some(delivered) = delivered {
            self.remember(&delivered);
            delivered.announce(self.delivery.lake());
        }
    }
}

impl DeliveryProcessor {
    /// Counts a committed batch and keeps its objects among the recent ones.
    fn remember(&self, delivered: &Delivered) {
        let at_ms = now_ms();
        let objects = delivered.objects.iter().map(|object| WrittenObject {
            key: object.key.clone(),
            size: object.size,
            rows: delivered
                .rows
                .iter()
                .find(|(key, _)| *key == object.key)
                .map(|(_, rows)| *rows as u64),
            at_ms,
        });
        let counts = (
            delivered.delivered as u64,
            delivered.failed as u64,
            delivered.dropped as u64,
        );
        if let Ok(mut activity) = self.activity.lock() {
            activity.batch_committed(at_ms, counts, objects);
        }
    }
}

/// Milliseconds since the epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The consumer group's name for a delivery (its leases and checkpoints are kept under it).
pub fn group_name(delivery: &str) -> String {
    format!("delivery/{delivery}")
}

/// The group a delivery runs as: its buffer size and interval as the batch's bytes and window.
pub fn group_options(spec: &DeliverySpec, owner: &str) -> GroupOptions {
    let start = match spec.start() {
        Start::TrimHorizon => StartingPosition::TrimHorizon,
        Start::Latest => StartingPosition::Latest,
    };
    let mut options = GroupOptions::new(&group_name(&spec.name), &spec.stream(), owner, start);
    options.batch_size = MAX_BATCH_RECORDS;
    options.batch_bytes = usize::try_from(spec.buffering.size_bytes).unwrap_or(usize::MAX);
    options.batching_window = spec.buffering.interval;
    options
}
