//! A group's loop: every third of the lease duration (and whenever a worker ends) it reads the
//! stream's shards and the group's lease rows, renews the leases it holds, takes the leases of
//! shards that are ready (lineage.rs) and free or expired, and starts a worker on each. A lease
//! it cannot renew was taken by another consumer: its worker stops, and its commits would fail
//! anyway (a checkpoint is conditional on the lease).

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use weir_store::{Committer, LeaseClaim, LeaseRecord, Store};

use super::lag::LagTable;
use super::lineage::{self, Start};
use super::worker::{Outcome, Worker};
use super::{GroupOptions, ShardProcessor, now_ms};
use crate::{ShardId, StreamDescription, Streams};

/// A running group's state, owned by its loop.
pub(super) struct Group {
    streams: Streams,
    store: Arc<dyn Store>,
    committer: Committer,
    options: Arc<GroupOptions>,
    processor: Arc<dyn ShardProcessor>,
    lag: Arc<LagTable>,
    /// The leases this consumer holds, with their workers.
    held: HashMap<ShardId, Held>,
    /// The stream as the lease table names it: its name and creation time, so that a stream
    /// deleted and created again under the same name does not inherit the old one's checkpoints.
    stream_key: Option<String>,
    /// Whether the last attempt to read the stream failed (reported once, not every round).
    stream_missing: bool,
}

struct Held {
    counter: i64,
    stop: watch::Sender<bool>,
    wake: Arc<Notify>,
    task: JoinHandle<()>,
}

/// The name the lease table gives a stream's incarnation.
pub(super) fn stream_key(description: &StreamDescription) -> String {
    format!("{}@{}", description.name, description.created_ms)
}

impl Group {
    pub(super) fn new(
        streams: Streams,
        store: Arc<dyn Store>,
        committer: Committer,
        options: GroupOptions,
        processor: Arc<dyn ShardProcessor>,
        lag: Arc<LagTable>,
    ) -> Group {
        Group {
            streams,
            store,
            committer,
            options: Arc::new(options),
            processor,
            lag,
            held: HashMap::new(),
            stream_key: None,
            stream_missing: false,
        }
    }

    pub(super) async fn run(mut self, mut stopped: watch::Receiver<bool>) {
        let (ended_tx, mut ended) = mpsc::unbounded_channel::<(ShardId, Outcome)>();
        let period = (self.options.lease_duration / 3).max(std::time::Duration::from_millis(10));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if *stopped.borrow() {
                break;
            }
            tokio::select! {
                _ = tick.tick() => {}
                Some((shard, outcome)) = ended.recv() => self.ended(shard, outcome).await,
                _ = stopped.changed() => break,
            }
            self.sync(&ended_tx).await;
        }
        self.stop_all().await;
    }

    /// A worker ended: its lease is given up (a finished shard's row keeps its `SHARD_END`
    /// checkpoint, which its children wait for).
    async fn ended(&mut self, shard: ShardId, outcome: Outcome) {
        let Some(held) = self.held.remove(&shard) else {
            return;
        };
        drop(held.task);
        match &outcome {
            Outcome::Finished | Outcome::Stopped => {}
            Outcome::LeaseLost => {
                tracing::info!(group = %self.options.group, %shard, "lease taken by another consumer");
                self.lag.remove(shard);
                return;
            }
            Outcome::Failed(why) => {
                tracing::warn!(group = %self.options.group, %shard, error = %why, "shard worker failed; trying again")
            }
        }
        self.release(shard).await;
    }

    async fn release(&self, shard: ShardId) {
        let Some(key) = &self.stream_key else { return };
        let shard_text = shard.to_string();
        let released = self
            .store
            .release_lease(&self.options.group, key, &shard_text, &self.options.owner)
            .await;
        if let Err(error) = released {
            tracing::warn!(group = %self.options.group, %shard, %error, "could not release a lease; it will expire");
        }
    }

    /// One round: renew what is held, take what is ready.
    async fn sync(&mut self, ended: &mpsc::UnboundedSender<(ShardId, Outcome)>) {
        let description = match self.streams.describe(&self.options.stream) {
            Ok(description) => {
                self.stream_missing = false;
                description
            }
            Err(error) => {
                if !self.stream_missing {
                    tracing::warn!(group = %self.options.group, stream = %self.options.stream, %error, "consumer group cannot read its stream");
                }
                self.stream_missing = true;
                // A deleted stream's workers have nothing left to read; a stream created again
                // under the name is another incarnation, started afresh.
                if matches!(error, crate::StreamError::NotFound { .. }) {
                    self.stop_all().await;
                    self.stream_key = None;
                }
                return;
            }
        };
        let key = stream_key(&description);
        if self.stream_key.as_deref() != Some(key.as_str()) {
            // A new incarnation of the stream: the old one's workers have nothing left to read.
            self.stop_all().await;
            self.stream_key = Some(key.clone());
        }
        let leases = match self.store.leases(&self.options.group, &key).await {
            Ok(rows) => by_shard(rows),
            Err(error) => {
                tracing::warn!(group = %self.options.group, %error, "cannot read the group's leases");
                return;
            }
        };
        let now = now_ms();
        let expires_at = now + self.options.lease_duration.as_millis() as i64;
        self.renew(&key, &description, now, expires_at).await;
        for (shard, start) in lineage::ready(&description.shards, &leases, self.options.start) {
            if self.held.contains_key(&shard) {
                continue;
            }
            let seen = leases.get(&shard);
            let taken_elsewhere = seen.is_some_and(|lease| {
                lease
                    .owner
                    .as_deref()
                    .is_some_and(|o| o != self.options.owner)
                    && lease.expires_at > now
            });
            if taken_elsewhere {
                continue;
            }
            let claim = LeaseClaim {
                group_name: &self.options.group,
                stream: &key,
                shard: &shard.to_string(),
                owner: &self.options.owner,
                seen_counter: seen.map_or(0, |lease| lease.lease_counter),
                now,
                expires_at,
            };
            match self.store.claim_lease(&claim).await {
                Ok(Some(lease)) => self.begin(shard, start, lease, ended),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(group = %self.options.group, %shard, %error, "cannot claim a lease")
                }
            }
        }
    }

    /// Renews every lease held; a worker whose lease could not be renewed stops. Workers of
    /// shards that closed are nudged to read their end.
    async fn renew(&mut self, key: &str, description: &StreamDescription, now: i64, expires: i64) {
        for (shard, held) in self.held.iter_mut() {
            let claim = LeaseClaim {
                group_name: &self.options.group,
                stream: key,
                shard: &shard.to_string(),
                owner: &self.options.owner,
                seen_counter: held.counter,
                now,
                expires_at: expires,
            };
            match self.store.claim_lease(&claim).await {
                Ok(Some(lease)) => held.counter = lease.lease_counter,
                Ok(None) => {
                    let _ = held.stop.send(true);
                }
                // The store may be back next round; the lease lasts three rounds.
                Err(error) => {
                    tracing::warn!(group = %self.options.group, %shard, %error, "cannot renew a lease")
                }
            }
            let closed = description
                .shards
                .iter()
                .any(|s| s.id == *shard && !s.is_open());
            if closed {
                held.wake.notify_one();
            }
        }
    }

    /// Starts a worker on a shard whose lease was just taken.
    fn begin(
        &mut self,
        shard: ShardId,
        start: Start,
        lease: LeaseRecord,
        ended: &mpsc::UnboundedSender<(ShardId, Outcome)>,
    ) {
        // The row as the claim returned it is the truth: another consumer may have checkpointed
        // (or finished) the shard since the round's read.
        let start = match (&lease.checkpoint, lease.next_offset) {
            (Some(_), Some(offset)) => Start::Offset(u64::try_from(offset).unwrap_or(0)),
            _ => start,
        };
        let offset = match start {
            Start::Offset(offset) => Ok(offset),
            Start::Position(position) => {
                self.streams
                    .start_offset(&self.options.stream, shard, position)
            }
        };
        let offset = match offset {
            Ok(offset) => offset,
            Err(error) => {
                tracing::warn!(group = %self.options.group, %shard, %error, "cannot find where to start");
                return;
            }
        };
        let (stop, stopped) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let worker = Worker {
            shard,
            streams: self.streams.clone(),
            store: Arc::clone(&self.store),
            committer: self.committer.clone(),
            options: Arc::clone(&self.options),
            stream_key: lease.stream.clone(),
            processor: Arc::clone(&self.processor),
            lag: Arc::clone(&self.lag),
            wake: Arc::clone(&wake),
            stop: stopped,
            checkpoint: lease.checkpoint.clone(),
            millis_behind: 0,
            committed: offset,
            end: None,
            pending_since_ms: None,
        };
        let ended = ended.clone();
        let task = tokio::spawn(async move {
            let outcome = worker.run(offset).await;
            let _ = ended.send((shard, outcome));
        });
        tracing::debug!(group = %self.options.group, %shard, offset, "shard lease taken");
        self.held.insert(
            shard,
            Held {
                counter: lease.lease_counter,
                stop,
                wake,
                task,
            },
        );
    }

    /// Stops every worker, waits for each to finish its batch, and releases their leases.
    async fn stop_all(&mut self) {
        for held in self.held.values() {
            let _ = held.stop.send(true);
        }
        let held: Vec<(ShardId, Held)> = self.held.drain().collect();
        for (shard, held) in held {
            let _ = held.task.await;
            self.release(shard).await;
            self.lag.remove(shard);
        }
    }
}

fn by_shard(rows: Vec<LeaseRecord>) -> HashMap<ShardId, LeaseRecord> {
    rows.into_iter()
        .filter_map(|lease| Some((lease.shard.parse::<ShardId>().ok()?, lease)))
        .collect()
}
