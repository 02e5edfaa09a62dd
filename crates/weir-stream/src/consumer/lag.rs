//! How far behind a group is, per shard: kept for [`super::GroupHandle::lag`] and set as the
//! gauges `weir_stream_consumer_lag_records` and `weir_stream_consumer_lag_millis` (labels
//! `group`, `stream`, `shard`) so `/metrics` shows it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::ShardId;

/// One shard's lag, as its worker last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardLag {
    pub shard: ShardId,
    /// Records in the shard after the checkpoint.
    pub records_behind: u64,
    /// How old the newest record is compared with the last one processed (0 when caught up).
    pub millis_behind: i64,
    /// The last checkpoint: a sequence number, `SHARD_END`, or `None` before the first.
    pub checkpoint: Option<String>,
    /// Whether the shard is finished (checkpointed at `SHARD_END`).
    pub finished: bool,
}

/// The lag of the shards one group holds.
pub(super) struct LagTable {
    group: String,
    stream: String,
    description: String,
    shards: Mutex<BTreeMap<ShardId, ShardLag>>,
}

impl LagTable {
    pub(super) fn new(group: &str, stream: &str, description: &str) -> LagTable {
        LagTable {
            group: group.to_string(),
            stream: stream.to_string(),
            description: description.to_string(),
            shards: Mutex::new(BTreeMap::new()),
        }
    }

    pub(super) fn group(&self) -> &str {
        &self.group
    }

    pub(super) fn stream(&self) -> &str {
        &self.stream
    }

    pub(super) fn description(&self) -> &str {
        &self.description
    }

    pub(super) fn set(&self, lag: ShardLag) {
        let labels = [
            ("group", self.group.clone()),
            ("stream", self.stream.clone()),
            ("shard", lag.shard.to_string()),
        ];
        metrics::gauge!("weir_stream_consumer_lag_records", &labels).set(lag.records_behind as f64);
        metrics::gauge!("weir_stream_consumer_lag_millis", &labels).set(lag.millis_behind as f64);
        if let Ok(mut shards) = self.shards.lock() {
            shards.insert(lag.shard, lag);
        }
    }

    /// Forgets a shard this group no longer holds (another consumer's lag is its own to show).
    pub(super) fn remove(&self, shard: ShardId) {
        if let Ok(mut shards) = self.shards.lock() {
            shards.remove(&shard);
        }
    }

    pub(super) fn snapshot(&self) -> Vec<ShardLag> {
        match self.shards.lock() {
            Ok(shards) => shards.values().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }
}
