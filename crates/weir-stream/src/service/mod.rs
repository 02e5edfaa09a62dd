//! The `Streams` service: every stream's metadata in memory (loaded from the store at open,
//! changed by committing to the store first), over one log per shard and one writer thread per
//! stream. One file per concern: `lifecycle.rs` (create, delete, describe, list), `put.rs`,
//! `read.rs` (reads, iterator positions, watches), `resharding.rs`, `settings.rs` (retention,
//! tags), `consumers.rs` (enhanced fan-out), `retention.rs` (dropping old segments), `open.rs`
//! (loading and recovering at start).

mod consumers;
mod lifecycle;
mod open;
mod put;
mod read;
mod resharding;
mod retention;
mod settings;
mod state;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use weir_store::{Committer, Mutation, Store};

use crate::log::WriterOptions;
use crate::{ShardId, StreamError};
use state::{ShardState, StreamState};

/// Retention of a new stream, in hours.
pub const DEFAULT_RETENTION_HOURS: u32 = 24;
/// The shortest retention AWS allows, in hours.
pub const MIN_RETENTION_HOURS: u32 = 24;
/// The longest retention AWS allows: a year.
pub const MAX_RETENTION_HOURS: u32 = 8760;
/// Shards of a new on-demand stream.
pub const ON_DEMAND_SHARDS: u32 = 4;
/// Open shards one server's streams may have together (AWS's account quota, raised: weir's
/// shards cost a folder and a file handle each).
pub const SHARD_LIMIT: u32 = 10_000;

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

    /// `arn:aws:kinesis:REGION:ACCOUNT:stream/NAME`.
    pub fn stream_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:kinesis:{}:{}:stream/{name}",
            self.region, self.account
        )
    }
}

/// The streams of one server. Cheap to clone: every clone shares the same state.
#[derive(Clone)]
pub struct Streams {
    inner: Arc<Inner>,
}

struct Inner {
    config: StreamsConfig,
    store: Arc<dyn Store>,
    committer: Committer,
    streams: RwLock<BTreeMap<String, Arc<StreamState>>>,
    /// The consumer groups running on this server (`consumer::start` registers them).
    groups: Arc<crate::consumer::registry::GroupRegistry>,
    /// Serializes changes of metadata (create, delete, reshard, settings), so each one
    /// validates against the state it changes. Appends and reads never take it.
    admin: Arc<tokio::sync::Mutex<()>>,
    /// Streams created, deleted and resharded, once committed (built-in events).
    changes: tokio::sync::broadcast::Sender<StreamChange>,
}

/// A change of a stream's life, as built-in events report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamChange {
    pub stream: String,
    pub arn: String,
    /// `CREATED`, `DELETED` or `RESHARDED`.
    pub change: &'static str,
    /// Open shards after the change (0 once deleted).
    pub open_shards: usize,
}

/// Held by a metadata change from its checks until memory has taken its outcome.
type AdminGuard = tokio::sync::OwnedMutexGuard<()>;

impl Streams {
    /// Streams created, deleted and resharded from now on, each once committed.
    pub fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<StreamChange> {
        self.inner.changes.subscribe()
    }

    /// Tells listeners of a committed change of `stream` (no listener is not an error).
    fn announce(&self, stream: &str, change: &'static str) {
        let open_shards = self
            .stream(stream)
            .map(|state| state.meta().open_shards().count())
            .unwrap_or(0);
        let _ = self.inner.changes.send(StreamChange {
            stream: stream.to_string(),
            arn: self.inner.config.stream_arn(stream),
            change,
            open_shards,
        });
    }

    pub fn config(&self) -> &StreamsConfig {
        &self.inner.config
    }

    pub(crate) fn group_registry(&self) -> &Arc<crate::consumer::registry::GroupRegistry> {
        &self.inner.groups
    }

    /// The name of the stream an ARN names, if it is one of this server's.
    pub fn name_of_arn(&self, arn: &str) -> Option<String> {
        let name = arn.strip_prefix(&self.inner.config.stream_arn(""))?;
        self.stream(name).ok().map(|state| state.name.clone())
    }

    fn account(&self) -> &str {
        &self.inner.config.account
    }

    /// A stream by name, or AWS's ResourceNotFoundException.
    fn stream(&self, name: &str) -> Result<Arc<StreamState>, StreamError> {
        self.inner
            .streams
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| StreamError::stream_not_found(name, self.account()))
    }

    /// A shard of a stream, or GetShardIterator's ResourceNotFoundException.
    fn shard(&self, state: &StreamState, shard: ShardId) -> Result<ShardState, StreamError> {
        state
            .meta()
            .shards
            .get(&shard)
            .cloned()
            .ok_or_else(|| StreamError::shard_not_found(shard, &state.name, self.account()))
    }

    fn all_streams(&self) -> Vec<Arc<StreamState>> {
        self.inner
            .streams
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Takes the lock that serializes metadata changes.
    async fn admin(&self) -> AdminGuard {
        Arc::clone(&self.inner.admin).lock_owned().await
    }

    /// Commits `mutations` through the group committer, then hands the outcome to `then`
    /// (which makes memory and the writer follow), on a task of its own, holding `guard` until
    /// `then` has run. Once a batch is submitted it commits whatever the caller does, so a caller
    /// that goes away (a dropped request) must not be able to skip `then` and leave memory, the
    /// writer and the store disagreeing.
    async fn commit_then<T: Send + 'static>(
        &self,
        guard: AdminGuard,
        mutations: Vec<Mutation>,
        then: impl FnOnce(Result<(), StreamError>) -> Result<T, StreamError> + Send + 'static,
    ) -> Result<T, StreamError> {
        let committed = self.inner.committer.submit(mutations);
        tokio::spawn(async move {
            let result = then(committed.await.map_err(StreamError::from));
            drop(guard);
            result
        })
        .await
        .map_err(|e| StreamError::Io(std::io::Error::other(e.to_string())))?
    }

    fn writer_options(&self, name: &str) -> WriterOptions {
        WriterOptions {
            stream: name.to_string(),
            account: self.inner.config.account.clone(),
            segment_bytes: self.inner.config.segment_bytes,
            quotas: self.inner.config.throughput_quotas,
        }
    }
}

/// Now, in milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StreamError> + Send + 'static,
) -> Result<T, StreamError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StreamError::Io(std::io::Error::other(e.to_string())))?
}
