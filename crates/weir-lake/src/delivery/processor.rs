//! A delivery as a consumer group's [`ShardProcessor`]: each batch the group hands over is
//! delivered, and the manifest rows go back to the group, which commits them with the
//! checkpoint in one store batch. The delivery's buffering is the group's batching.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weir_model::delivery::{DeliverySpec, Start};
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
    /// Each shard's objects of the batch being committed: announced once the manifest that
    /// names them is durable, so whoever hears of an object can read it through SQL.
    unannounced: Mutex<HashMap<ShardId, Delivered>>,
}

impl DeliveryProcessor {
    pub fn new(delivery: Arc<Delivery>) -> DeliveryProcessor {
        DeliveryProcessor {
            delivery,
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
            delivered.announce(self.delivery.lake());
        }
    }
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
