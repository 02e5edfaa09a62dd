//! Consumer groups with the Kinesis Client Library's semantics: a group processes every shard of
//! a stream in order, one batch at a time, each shard held by one consumer at a time through a
//! lease in the metadata store, and remembers how far it got with a checkpoint committed in the
//! same store batch as whatever the batch produced. Deliveries and event source mappings are
//! groups.
//!
//! - `coordinator.rs`: the group's loop. Discovers shards, takes and renews leases, starts a
//!   worker per leased shard, and lets a child shard start only once all its parents are
//!   checkpointed at `SHARD_END`.
//! - `lineage.rs`: which shards may be processed now, and where each starts (pure).
//! - `worker.rs`: one shard's loop: read from the checkpoint, gather a batch (size, bytes,
//!   batching window), wait on the shard's watch when caught up, call the [`ShardProcessor`],
//!   commit its mutations with the checkpoint, retry a failed batch (only that shard waits).
//! - `lag.rs`: how far behind each shard is, as gauges and through [`GroupHandle::lag`].
//! - `registry.rs`: the groups running, so [`Streams::consumer_groups`] lists a stream's readers
//!   and their lag.

mod coordinator;
mod lag;
mod lineage;
pub(crate) mod registry;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use weir_store::{Committer, Mutation, Store};

use crate::{Record, ShardId, StartingPosition, Streams};

pub use lag::ShardLag;
pub use registry::GroupLag;

/// What a group consumes and how.
#[derive(Debug, Clone)]
pub struct GroupOptions {
    /// The group's name: its leases and checkpoints are kept under it.
    pub group: String,
    pub stream: String,
    /// Where a shard without a checkpoint starts. Children of shards the group processed start at
    /// their beginning whatever this says, so a reshard loses nothing.
    pub start: StartingPosition,
    /// Most records in a batch.
    pub batch_size: usize,
    /// About the most data bytes in a batch (a batch has at least one record).
    pub batch_bytes: usize,
    /// How long a batch that is not full waits for more records (0: hand over what there is).
    pub batching_window: Duration,
    /// How long a lease lasts without renewal; it is renewed every third of it.
    pub lease_duration: Duration,
    /// Who this consumer is in the lease table (unique per server and group).
    pub owner: String,
    /// Who reads, for people: shown beside the group's lag (`function score`, …).
    pub description: String,
}

impl GroupOptions {
    /// A group with the Kinesis Client Library's defaults: batches of up to 10,000 records or
    /// 10 MiB, no batching window, 10-second leases.
    pub fn new(group: &str, stream: &str, owner: &str, start: StartingPosition) -> GroupOptions {
        GroupOptions {
            group: group.to_string(),
            stream: stream.to_string(),
            start,
            batch_size: 10_000,
            batch_bytes: 10 << 20,
            batching_window: Duration::ZERO,
            lease_duration: Duration::from_secs(10),
            owner: owner.to_string(),
            description: String::new(),
        }
    }
}

/// What a group does with each batch.
#[async_trait::async_trait]
pub trait ShardProcessor: Send + Sync + 'static {
    /// One batch of one shard, in order. `Ok(mutations)`: the consumer commits `mutations` and
    /// the new checkpoint (after the batch's last record) in ONE store batch, so an exactly-once
    /// sink puts its own commit there. `Err`: nothing is checkpointed beyond what the error says
    /// was done ([`ProcessError::done`]); the remaining records come again after
    /// [`ProcessError::retry_after`], and only this shard waits.
    async fn process(
        &self,
        shard: ShardId,
        records: Vec<Record>,
    ) -> Result<Vec<Mutation>, ProcessError>;

    /// Called once the mutations of this shard's last `process` call are durable with their
    /// checkpoint: the moment to tell others about what the batch made (they can see it now).
    async fn committed(&self, _shard: ShardId) {}
}

/// A batch that did not go through (entirely).
#[derive(Debug, Clone)]
pub struct ProcessError {
    pub message: String,
    /// When to hand the rest of the batch over again.
    pub retry_after: Duration,
    /// Records at the start of the batch that were processed anyway: they are checkpointed, with
    /// `mutations`, and the retry starts after them.
    pub done: usize,
    pub mutations: Vec<Mutation>,
}

impl ProcessError {
    /// Nothing of the batch was done; it comes again in a second.
    pub fn new(message: impl Into<String>) -> ProcessError {
        ProcessError {
            message: message.into(),
            retry_after: Duration::from_secs(1),
            done: 0,
            mutations: Vec::new(),
        }
    }

    pub fn retry_after(mut self, delay: Duration) -> ProcessError {
        self.retry_after = delay;
        self
    }

    /// The first `done` records were processed; `mutations` commit with their checkpoint.
    pub fn partial(mut self, done: usize, mutations: Vec<Mutation>) -> ProcessError {
        self.done = done;
        self.mutations = mutations;
        self
    }
}

/// A running group. Dropping it stops the group without waiting; [`GroupHandle::stop`] waits.
pub struct GroupHandle {
    stop: watch::Sender<bool>,
    lag: Arc<lag::LagTable>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// Lists the group in [`Streams::consumer_groups`] until the handle is gone.
    _registration: registry::Registration,
}

impl GroupHandle {
    /// Stops the group: each worker finishes the batch it is in (its commit included), then
    /// the leases are released so another consumer takes the shards at once.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// How far behind each shard this group holds is, by shard.
    pub fn lag(&self) -> Vec<ShardLag> {
        self.lag.snapshot()
    }
}

impl Drop for GroupHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Starts a group on the current Tokio runtime.
pub fn start(
    streams: Streams,
    store: Arc<dyn Store>,
    committer: Committer,
    options: GroupOptions,
    processor: Arc<dyn ShardProcessor>,
) -> GroupHandle {
    let (stop, stopped) = watch::channel(false);
    let lag = Arc::new(lag::LagTable::new(
        &options.group,
        &options.stream,
        &options.description,
    ));
    let registration = streams.group_registry().register(Arc::clone(&lag));
    let group = coordinator::Group::new(
        streams,
        store,
        committer,
        options,
        processor,
        Arc::clone(&lag),
    );
    let task = tokio::spawn(group.run(stopped));
    GroupHandle {
        stop,
        lag,
        task: Some(task),
        _registration: registration,
    }
}

impl Streams {
    /// The consumer groups running on this server that read `stream`, with each one's lag per
    /// shard it holds; by group name.
    pub fn consumer_groups(&self, stream: &str) -> Vec<GroupLag> {
        self.group_registry().of_stream(stream)
    }
}

/// Milliseconds since the Unix epoch, the lease table's clock.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}
