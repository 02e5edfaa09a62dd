//! The consumer groups running on this server, by stream, so the API can show how far behind
//! each one is without knowing who started it (event source mappings, deliveries). A group is
//! registered while its [`super::GroupHandle`] lives.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::lag::{LagTable, ShardLag};

/// One running group's lag, as [`crate::Streams::consumer_groups`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupLag {
    /// The group's name (its leases and checkpoints are kept under it).
    pub group: String,
    pub stream: String,
    /// Who reads: what [`super::GroupOptions::description`] says.
    pub description: String,
    /// The shards this server holds for the group, by shard.
    pub shards: Vec<ShardLag>,
}

#[derive(Default)]
pub(crate) struct GroupRegistry {
    next_id: AtomicU64,
    groups: Mutex<BTreeMap<u64, Arc<LagTable>>>,
}

impl GroupRegistry {
    pub(super) fn register(self: &Arc<Self>, lag: Arc<LagTable>) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, lag);
        Registration {
            registry: Arc::clone(self),
            id,
        }
    }

    /// The groups reading `stream`, by group name.
    pub(crate) fn of_stream(&self, stream: &str) -> Vec<GroupLag> {
        let mut found: Vec<GroupLag> = self
            .groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|lag| lag.stream() == stream)
            .map(|lag| GroupLag {
                group: lag.group().to_string(),
                stream: lag.stream().to_string(),
                description: lag.description().to_string(),
                shards: lag.snapshot(),
            })
            .collect();
        found.sort_by(|a, b| a.group.cmp(&b.group));
        found
    }
}

/// Keeps a group listed until it is dropped.
pub(super) struct Registration {
    registry: Arc<GroupRegistry>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry
            .groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}
