//! A stream in memory: its metadata as the store has it (typed), its shards' logs and its writer.
//! Reads (describe, read, start_offset) use this copy; changes are committed to the store first
//! and applied here after.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use weir_store::{ShardRecord, StreamConsumerRecord, StreamRecord};

use crate::log::{OpenShard, ShardLog, WriterHandle};
use crate::{
    ConsumerDescription, SequenceNumber, ShardDescription, ShardId, StreamDescription, StreamError,
    StreamMode, StreamSummary,
};

pub(crate) struct StreamState {
    pub name: String,
    pub dir: PathBuf,
    pub writer: WriterHandle,
    meta: RwLock<StreamMeta>,
}

pub(crate) struct StreamMeta {
    pub record: StreamRecord,
    pub shards: BTreeMap<ShardId, ShardState>,
    pub consumers: BTreeMap<String, StreamConsumerRecord>,
}

/// A shard's metadata, typed (its [`ShardSpec`], which it derefs to), with its log.
#[derive(Debug, Clone)]
pub(crate) struct ShardState {
    pub spec: ShardSpec,
    pub log: Arc<ShardLog>,
}

impl std::ops::Deref for ShardState {
    type Target = ShardSpec;

    fn deref(&self) -> &ShardSpec {
        &self.spec
    }
}

impl std::ops::DerefMut for ShardState {
    fn deref_mut(&mut self) -> &mut ShardSpec {
        &mut self.spec
    }
}

impl StreamState {
    pub fn new(dir: PathBuf, writer: WriterHandle, meta: StreamMeta) -> StreamState {
        StreamState {
            name: meta.record.name.clone(),
            dir,
            writer,
            meta: RwLock::new(meta),
        }
    }

    /// A poisoned lock only means a panic elsewhere while it was held; the metadata is replaced
    /// whole on each change, so it is still consistent.
    pub fn meta(&self) -> RwLockReadGuard<'_, StreamMeta> {
        self.meta.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn meta_mut(&self) -> RwLockWriteGuard<'_, StreamMeta> {
        self.meta.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl StreamMeta {
    pub fn mode(&self) -> StreamMode {
        StreamMode::parse(&self.record.mode).unwrap_or(StreamMode::Provisioned)
    }

    pub fn retention_ms(&self) -> i64 {
        self.record.retention_hours.saturating_mul(3_600_000)
    }

    pub fn open_shards(&self) -> impl Iterator<Item = &ShardState> {
        self.shards.values().filter(|s| s.ending_offset.is_none())
    }

    /// The next shard number: one past the highest ever given in this stream.
    pub fn next_shard_id(&self) -> u32 {
        self.shards.keys().next_back().map_or(0, |id| id.0 + 1)
    }

    pub fn tags(&self) -> Vec<(String, String)> {
        let mut tags: Vec<(String, String)> = self
            .record
            .tags
            .as_object()
            .map(|tags| {
                tags.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        tags.sort();
        tags
    }

    pub fn summary(&self) -> StreamSummary {
        StreamSummary {
            name: self.record.name.clone(),
            arn: self.record.arn.clone(),
            status: self.record.status.clone(),
            mode: self.mode(),
            created_ms: self.record.created_ms,
        }
    }

    /// DescribeStream's view at `now_ms`: closed shards drop out once their retention has passed.
    pub fn description(&self, now_ms: i64) -> StreamDescription {
        let retention = self.retention_ms();
        let shards: Vec<ShardDescription> = self
            .shards
            .values()
            .filter(|s| !s.expired(now_ms, retention) && !s.log.is_retired())
            .map(ShardState::description)
            .collect();
        StreamDescription {
            name: self.record.name.clone(),
            arn: self.record.arn.clone(),
            status: self.record.status.clone(),
            mode: self.mode(),
            retention_hours: u32::try_from(self.record.retention_hours).unwrap_or(u32::MAX),
            created_ms: self.record.created_ms,
            open_shard_count: self.open_shards().count() as u32,
            shards,
            consumer_count: self.consumers.len() as u32,
            tags: self.tags(),
            encryption: "NONE".into(),
        }
    }

    /// The children of `shard`: the shards split or merged from it.
    pub fn children(&self, shard: ShardId) -> Vec<ShardDescription> {
        self.shards
            .values()
            .filter(|s| s.parent == Some(shard) || s.adjacent_parent == Some(shard))
            .map(ShardState::description)
            .collect()
    }
}

impl ShardState {
    /// The shard as its stream's writer takes it (open shards only).
    pub fn open_shard(&self) -> OpenShard {
        OpenShard {
            id: self.id,
            hash_start: self.hash_start,
            hash_end: self.hash_end,
            log: Arc::clone(&self.log),
        }
    }

    pub fn description(&self) -> ShardDescription {
        ShardDescription {
            id: self.id,
            parent: self.parent,
            adjacent_parent: self.adjacent_parent,
            hash_start: self.hash_start,
            hash_end: self.hash_end,
            starting_sequence: SequenceNumber::before(self.id, self.starting_offset),
            ending_sequence: self
                .ending_offset
                .map(|end| SequenceNumber::of_record(self.id, end)),
        }
    }

    /// Closed so long ago that every record it held is past the retention.
    pub fn expired(&self, now_ms: i64, retention_ms: i64) -> bool {
        self.closed_ms
            .is_some_and(|closed| closed.saturating_add(retention_ms) < now_ms)
    }

    pub fn record(&self, stream: &str) -> ShardRecord {
        ShardRecord {
            stream: stream.to_string(),
            shard: i64::from(self.id.0),
            parent: self.parent.map(|p| i64::from(p.0)),
            adjacent_parent: self.adjacent_parent.map(|p| i64::from(p.0)),
            hash_start: self.hash_start.to_string(),
            hash_end: self.hash_end.to_string(),
            starting_offset: self.starting_offset as i64,
            ending_offset: self.ending_offset.map(|end| end as i64),
            created_ms: self.created_ms,
            closed_ms: self.closed_ms,
        }
    }
}

/// A shard's metadata read from the store, before its log is opened.
#[derive(Debug, Clone)]
pub(crate) struct ShardSpec {
    pub id: ShardId,
    pub parent: Option<ShardId>,
    pub adjacent_parent: Option<ShardId>,
    pub hash_start: u128,
    pub hash_end: u128,
    pub starting_offset: u64,
    pub ending_offset: Option<u64>,
    pub created_ms: i64,
    pub closed_ms: Option<i64>,
}

impl ShardSpec {
    pub fn from_record(record: &ShardRecord) -> Result<ShardSpec, StreamError> {
        let bad = |what: &str| {
            StreamError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "stream {} shard {}: stored {what} is not valid",
                    record.stream, record.shard
                ),
            ))
        };
        let shard = |n: i64| u32::try_from(n).map(ShardId);
        Ok(ShardSpec {
            id: shard(record.shard).map_err(|_| bad("shard number"))?,
            parent: record
                .parent
                .map(shard)
                .transpose()
                .map_err(|_| bad("parent"))?,
            adjacent_parent: record
                .adjacent_parent
                .map(shard)
                .transpose()
                .map_err(|_| bad("adjacent parent"))?,
            hash_start: record.hash_start.parse().map_err(|_| bad("hash start"))?,
            hash_end: record.hash_end.parse().map_err(|_| bad("hash end"))?,
            starting_offset: u64::try_from(record.starting_offset)
                .map_err(|_| bad("starting offset"))?,
            ending_offset: record
                .ending_offset
                .map(u64::try_from)
                .transpose()
                .map_err(|_| bad("ending offset"))?,
            created_ms: record.created_ms,
            closed_ms: record.closed_ms,
        })
    }

    /// Opens (recovers) the shard's log under the stream's folder, or makes it when the shard
    /// is being `created`: a blocking call.
    pub fn open(self, stream_dir: &Path, created: bool) -> Result<ShardState, StreamError> {
        let dir = shard_dir(stream_dir, self.id);
        let closed = self.ending_offset.is_some();
        let log = ShardLog::open(dir, self.id, self.starting_offset, closed, created)?;
        Ok(ShardState {
            spec: self,
            log: Arc::new(log),
        })
    }
}

/// A shard's folder: `<stream dir>/shardId-000000000000`.
pub(crate) fn shard_dir(stream_dir: &Path, shard: ShardId) -> PathBuf {
    stream_dir.join(shard.to_string())
}

pub(crate) fn consumer_description(
    record: &StreamConsumerRecord,
    stream_arn: &str,
) -> ConsumerDescription {
    ConsumerDescription {
        name: record.name.clone(),
        arn: record.arn.clone(),
        status: record.status.clone(),
        created_ms: record.created_ms,
        stream_arn: stream_arn.to_string(),
    }
}
