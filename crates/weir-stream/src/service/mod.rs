//! The `Streams` service: streams' metadata in memory (loaded from the store at open, written
//! through the group committer) over one log per shard.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;
use weir_store::{Committer, Store};

use crate::{
    Appended, ConsumerDescription, NewRecord, NewStream, PutFailure, ReadBatch, ShardId,
    StartingPosition, StreamDescription, StreamError, StreamSummary,
};

/// Retention of a new stream, in hours.
pub const DEFAULT_RETENTION_HOURS: u32 = 24;
/// The longest retention AWS allows: a year.
pub const MAX_RETENTION_HOURS: u32 = 8760;
/// Shards of a new on-demand stream.
pub const ON_DEMAND_SHARDS: u32 = 4;

/// Where the logs live and how the service names and limits things.
#[derive(Debug, Clone)]
pub struct StreamsConfig {
    /// `DATA/streams`.
    pub dir: PathBuf,
    /// For ARNs: `arn:aws:kinesis:{region}:{account}:stream/{name}`.
    pub region: String,
    pub account: String,
    /// A segment is rolled once it is past this size (default 128 MiB).
    pub segment_bytes: u64,
    /// AWS's per-shard write quotas (1 MiB/s, 1,000 records/s); off by default.
    pub throughput_quotas: bool,
}

impl StreamsConfig {
    pub fn new(dir: PathBuf, region: &str, account: &str) -> StreamsConfig {
        StreamsConfig {
            dir,
            region: region.to_string(),
            account: account.to_string(),
            segment_bytes: 128 << 20,
            throughput_quotas: false,
        }
    }
}

/// The streams of one server. Cheap to clone: every clone shares the same state.
#[derive(Clone)]
pub struct Streams {
    inner: Arc<Inner>,
}

struct Inner {
    config: StreamsConfig,
    #[allow(dead_code)]
    store: Arc<dyn Store>,
    #[allow(dead_code)]
    committer: Committer,
}

fn not_yet() -> StreamError {
    StreamError::InvalidArgument("not implemented yet".into())
}

impl Streams {
    /// Loads every stream's metadata from the store and opens (recovers) their logs.
    pub async fn open(
        config: StreamsConfig,
        store: Arc<dyn Store>,
        committer: Committer,
    ) -> Result<Streams, StreamError> {
        Ok(Streams {
            inner: Arc::new(Inner {
                config,
                store,
                committer,
            }),
        })
    }

    pub fn config(&self) -> &StreamsConfig {
        &self.inner.config
    }

    /// CreateStream. The stream is ACTIVE when this returns.
    pub async fn create_stream(&self, new: NewStream) -> Result<StreamDescription, StreamError> {
        let _ = new;
        Err(not_yet())
    }

    /// DeleteStream: its metadata and its files. With consumers registered, only when
    /// `enforce_consumer_deletion` (they go with it).
    pub async fn delete_stream(
        &self,
        name: &str,
        enforce_consumer_deletion: bool,
    ) -> Result<(), StreamError> {
        let _ = (name, enforce_consumer_deletion);
        Err(not_yet())
    }

    /// DescribeStream: every shard not yet expired.
    pub fn describe(&self, name: &str) -> Result<StreamDescription, StreamError> {
        let _ = name;
        Err(not_yet())
    }

    /// ListStreams, sorted by name.
    pub fn list(&self) -> Vec<StreamSummary> {
        Vec::new()
    }

    /// The name of the stream an ARN names, if it is one of this server's.
    pub fn name_of_arn(&self, arn: &str) -> Option<String> {
        let _ = arn;
        None
    }

    /// PutRecord(s): returns once every appended record is durable (fsynced). Records keep their
    /// order within a shard.
    pub async fn put(
        &self,
        stream: &str,
        records: Vec<NewRecord>,
    ) -> Result<Vec<Result<Appended, PutFailure>>, StreamError> {
        let _ = (stream, records);
        Err(not_yet())
    }

    /// Up to `limit` records and about `max_bytes` of data from `from_offset` on (at least one
    /// record when there is one), never past the durable end.
    pub fn read(
        &self,
        stream: &str,
        shard: ShardId,
        from_offset: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<ReadBatch, StreamError> {
        let _ = (stream, shard, from_offset, limit, max_bytes);
        Err(not_yet())
    }

    /// The offset a GetShardIterator of this type starts at.
    pub fn start_offset(
        &self,
        stream: &str,
        shard: ShardId,
        at: StartingPosition,
    ) -> Result<u64, StreamError> {
        let _ = (stream, shard, at);
        Err(not_yet())
    }

    /// The shard's durable end (the next offset), changing on each append.
    pub fn watch(&self, stream: &str, shard: ShardId) -> Result<watch::Receiver<u64>, StreamError> {
        let _ = (stream, shard);
        Err(not_yet())
    }

    /// SplitShard.
    pub async fn split_shard(
        &self,
        stream: &str,
        shard: ShardId,
        new_starting_hash_key: u128,
    ) -> Result<(), StreamError> {
        let _ = (stream, shard, new_starting_hash_key);
        Err(not_yet())
    }

    /// MergeShards.
    pub async fn merge_shards(
        &self,
        stream: &str,
        shard: ShardId,
        adjacent: ShardId,
    ) -> Result<(), StreamError> {
        let _ = (stream, shard, adjacent);
        Err(not_yet())
    }

    /// UpdateShardCount (UNIFORM_SCALING).
    pub async fn update_shard_count(&self, stream: &str, target: u32) -> Result<(), StreamError> {
        let _ = (stream, target);
        Err(not_yet())
    }

    /// Increase/DecreaseStreamRetentionPeriod (the caller checks the direction).
    pub async fn set_retention(&self, stream: &str, hours: u32) -> Result<(), StreamError> {
        let _ = (stream, hours);
        Err(not_yet())
    }

    /// AddTagsToStream.
    pub async fn add_tags(
        &self,
        stream: &str,
        tags: Vec<(String, String)>,
    ) -> Result<(), StreamError> {
        let _ = (stream, tags);
        Err(not_yet())
    }

    /// RemoveTagsFromStream.
    pub async fn remove_tags(&self, stream: &str, keys: Vec<String>) -> Result<(), StreamError> {
        let _ = (stream, keys);
        Err(not_yet())
    }

    /// ListTagsForStream, sorted by key.
    pub async fn tags(&self, stream: &str) -> Result<Vec<(String, String)>, StreamError> {
        let _ = stream;
        Err(not_yet())
    }

    /// RegisterStreamConsumer.
    pub async fn register_consumer(
        &self,
        stream: &str,
        name: &str,
    ) -> Result<ConsumerDescription, StreamError> {
        let _ = (stream, name);
        Err(not_yet())
    }

    /// DeregisterStreamConsumer.
    pub async fn deregister_consumer(&self, stream: &str, name: &str) -> Result<(), StreamError> {
        let _ = (stream, name);
        Err(not_yet())
    }

    /// DescribeStreamConsumer.
    pub async fn describe_consumer(
        &self,
        stream: &str,
        name: &str,
    ) -> Result<ConsumerDescription, StreamError> {
        let _ = (stream, name);
        Err(not_yet())
    }

    /// A consumer by its ARN, with its stream's name.
    pub async fn consumer_by_arn(
        &self,
        arn: &str,
    ) -> Result<(String, ConsumerDescription), StreamError> {
        let _ = arn;
        Err(not_yet())
    }

    /// ListStreamConsumers, by name.
    pub async fn list_consumers(
        &self,
        stream: &str,
    ) -> Result<Vec<ConsumerDescription>, StreamError> {
        let _ = stream;
        Err(not_yet())
    }

    /// Drops every segment whose newest record is older than its stream's retention, and the
    /// files of closed shards that expired. Also run every minute by a background task.
    pub fn enforce_retention(&self, now_ms: i64) {
        let _ = now_ms;
    }
}
