//! One shard's loop: read from where the group got to, gather a batch, hand it to the processor,
//! commit what it returns with the checkpoint, and again. Caught up, it waits on the shard's
//! watch (which changes on each durable append) instead of polling. A batch that fails comes
//! again after the processor's delay: only this shard waits, the group's other shards go on.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use weir_store::{CheckpointRecord, Committer, ConsumerMutation, Mutation, SHARD_END, Store};

use super::lag::{LagTable, ShardLag};
use super::{GroupOptions, ShardProcessor, now_ms};
use crate::{Record, ShardId, Streams};

/// How a worker ended.
#[derive(Debug)]
pub(super) enum Outcome {
    /// The shard is closed and every record of it was processed and checkpointed (`SHARD_END`).
    Finished,
    /// Asked to stop (the group stops, or the coordinator could not renew the lease).
    Stopped,
    /// Another consumer holds the lease now: nothing more may be committed here.
    LeaseLost,
    /// The shard could not be read (the stream was deleted, …).
    Failed(String),
}

/// What a worker needs; one per leased shard.
pub(super) struct Worker {
    pub shard: ShardId,
    pub streams: Streams,
    pub store: Arc<dyn Store>,
    pub committer: Committer,
    pub options: Arc<GroupOptions>,
    /// The stream as the lease table names it.
    pub stream_key: String,
    pub processor: Arc<dyn ShardProcessor>,
    pub lag: Arc<LagTable>,
    /// The coordinator's nudge when it sees the shard closed (the shard's watch only tells of
    /// appends).
    pub wake: Arc<Notify>,
    /// Becomes true when the worker must stop.
    pub stop: watch::Receiver<bool>,
    /// The checkpoint the lease row holds, if any.
    pub checkpoint: Option<String>,
    /// How far behind the shard's newest record the last read was.
    pub millis_behind: i64,
    /// Where processing resumes after the last checkpoint (the start offset before the first).
    pub committed: u64,
    /// The shard's durable end, for the lag.
    pub end: Option<watch::Receiver<u64>>,
    /// When the oldest record handed to the processor but not yet checkpointed arrived: a
    /// batch that keeps failing is behind by its age, however recent the last read was.
    pub pending_since_ms: Option<i64>,
}

/// A batch as gathered, before processing.
struct Gathered {
    records: Vec<Record>,
    next_offset: u64,
    at_shard_end: bool,
}

/// Why a step could not go on.
enum Halt {
    Stopped,
    LeaseLost,
    Failed(String),
}

impl Worker {
    /// Processes the shard from `offset` until it is finished or the worker must stop.
    pub(super) async fn run(mut self, offset: u64) -> Outcome {
        match self.consume(offset).await {
            Ok(()) => Outcome::Finished,
            Err(Halt::Stopped) => Outcome::Stopped,
            Err(Halt::LeaseLost) => Outcome::LeaseLost,
            Err(Halt::Failed(why)) => Outcome::Failed(why),
        }
    }

    async fn consume(&mut self, mut offset: u64) -> Result<(), Halt> {
        let stream = self.options.stream.clone();
        let mut appended = self
            .streams
            .watch(&stream, self.shard)
            .map_err(|e| Halt::Failed(e.to_string()))?;
        self.end = Some(appended.clone());
        loop {
            let batch = self.gather(offset, &mut appended).await?;
            offset = batch.next_offset;
            let at_end = batch.at_shard_end;
            self.deliver(batch).await?;
            self.pending_since_ms = None;
            self.report_lag();
            if at_end {
                return Ok(());
            }
        }
    }

    /// Reads records from `offset` until the batch is full, the batching window has passed, or
    /// the shard ends; waits on the shard's watch while there is nothing to read.
    async fn gather(
        &mut self,
        mut offset: u64,
        appended: &mut watch::Receiver<u64>,
    ) -> Result<Gathered, Halt> {
        let options = Arc::clone(&self.options);
        let mut records: Vec<Record> = Vec::new();
        let mut bytes = 0usize;
        let mut window_ends: Option<Instant> = None;
        // Once the watch's sender is gone (the shard's log closed) it cannot tell of appends.
        let mut watch_open = true;
        loop {
            if *self.stop.borrow() {
                return Err(Halt::Stopped);
            }
            // Marked seen before the read: an append after it changes the watch again.
            appended.borrow_and_update();
            let read = self
                .streams
                .read(
                    &options.stream,
                    self.shard,
                    offset,
                    options.batch_size.saturating_sub(records.len()).max(1),
                    options.batch_bytes.saturating_sub(bytes).max(1),
                )
                .map_err(|e| Halt::Failed(e.to_string()))?;
            offset = read.next_offset;
            self.millis_behind = read.millis_behind_latest;
            bytes += read.records.iter().map(|r| r.data.len()).sum::<usize>();
            records.extend(read.records);
            let full = records.len() >= options.batch_size || bytes >= options.batch_bytes;
            if read.at_shard_end || full {
                return Ok(Gathered {
                    records,
                    next_offset: offset,
                    at_shard_end: read.at_shard_end,
                });
            }
            self.report_lag();
            let deadline = if records.is_empty() {
                None
            } else {
                let ends =
                    *window_ends.get_or_insert_with(|| Instant::now() + options.batching_window);
                if Instant::now() >= ends {
                    return Ok(Gathered {
                        records,
                        next_offset: offset,
                        at_shard_end: false,
                    });
                }
                Some(ends)
            };
            // Wait for an append, the coordinator's nudge, the window's end or a stop.
            let window = async {
                match deadline {
                    Some(ends) => tokio::time::sleep_until(ends).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                changed = appended.changed(), if watch_open => watch_open = changed.is_ok(),
                _ = self.wake.notified() => {}
                _ = window => {}
                _ = self.stop.changed() => {}
            }
        }
    }

    /// Hands the batch to the processor until it is all done, committing each part's mutations
    /// with its checkpoint.
    async fn deliver(&mut self, batch: Gathered) -> Result<(), Halt> {
        let Gathered {
            mut records,
            next_offset,
            at_shard_end,
        } = batch;
        loop {
            self.pending_since_ms = records.first().map(|r| r.arrival_ms);
            if records.is_empty() {
                // Nothing left to process: only the shard's end to record.
                if at_shard_end {
                    self.commit(Vec::new(), SHARD_END.to_string(), next_offset)
                        .await?;
                }
                return Ok(());
            }
            let outcome = self.processor.process(self.shard, records.clone()).await;
            let failure = match outcome {
                Ok(mutations) => {
                    let checkpoint = checkpoint_after(&records, at_shard_end);
                    return self.commit(mutations, checkpoint, next_offset).await;
                }
                Err(failure) => failure,
            };
            let done = failure.done.min(records.len());
            if done == records.len() {
                let checkpoint = checkpoint_after(&records, at_shard_end);
                return self
                    .commit(failure.mutations, checkpoint, next_offset)
                    .await;
            }
            if done > 0 {
                let last = &records[done - 1];
                let checkpoint = last.sequence.to_string();
                let resume = last.offset + 1;
                self.commit(failure.mutations, checkpoint, resume).await?;
                records.drain(..done);
            }
            tracing::warn!(
                group = %self.options.group,
                stream = %self.options.stream,
                shard = %self.shard,
                from = %records[0].sequence,
                retry_in_ms = failure.retry_after.as_millis() as u64,
                error = %failure.message,
                "a batch failed; this shard waits and retries it"
            );
            self.report_lag();
            self.pause(failure.retry_after).await?;
        }
    }

    /// Commits `mutations` and the checkpoint in one store batch. A commit that fails is tried
    /// again as it is (the processor's side effects are not repeated) unless the lease was lost.
    async fn commit(
        &mut self,
        mutations: Vec<Mutation>,
        checkpoint: String,
        next_offset: u64,
    ) -> Result<(), Halt> {
        let mut batch = mutations;
        batch.push(
            ConsumerMutation::Checkpoint(CheckpointRecord {
                group_name: self.options.group.clone(),
                stream: self.stream_key.clone(),
                shard: self.shard.to_string(),
                owner: self.options.owner.clone(),
                checkpoint: checkpoint.clone(),
                next_offset: i64::try_from(next_offset).unwrap_or(i64::MAX),
                at: now_ms(),
            })
            .into(),
        );
        loop {
            match self.committer.submit(batch.clone()).await {
                Ok(()) => {
                    self.checkpoint = Some(checkpoint);
                    self.committed = next_offset;
                    self.processor.committed(self.shard).await;
                    return Ok(());
                }
                Err(error) => {
                    if !self.still_owned().await {
                        return Err(Halt::LeaseLost);
                    }
                    tracing::warn!(
                        group = %self.options.group,
                        shard = %self.shard,
                        %error,
                        "a checkpoint could not be committed; trying again"
                    );
                    self.pause(Duration::from_secs(1)).await?;
                }
            }
        }
    }

    /// Whether the lease row still names this consumer (a failed read counts as yes: the
    /// commit's own check decides).
    async fn still_owned(&self) -> bool {
        let shard = self.shard.to_string();
        match self
            .store
            .leases(&self.options.group, &self.stream_key)
            .await
        {
            Ok(leases) => leases
                .iter()
                .find(|lease| lease.shard == shard)
                .is_some_and(|lease| lease.owner.as_deref() == Some(&self.options.owner)),
            Err(_) => true,
        }
    }

    /// Waits `delay`, or less if the worker must stop.
    async fn pause(&mut self, delay: Duration) -> Result<(), Halt> {
        if *self.stop.borrow() {
            return Err(Halt::Stopped);
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => Ok(()),
            _ = self.stop.changed() => Err(Halt::Stopped),
        }
    }

    /// Sets the shard's lag: records after the checkpoint, and how old the newest read is.
    fn report_lag(&self) {
        let end = self
            .end
            .as_ref()
            .map_or(self.committed, |end| *end.borrow());
        self.lag.set(ShardLag {
            shard: self.shard,
            records_behind: end.saturating_sub(self.committed),
            millis_behind: match self.pending_since_ms {
                Some(arrived) if end > self.committed => {
                    (now_ms() - arrived).max(self.millis_behind)
                }
                _ => self.millis_behind,
            },
            checkpoint: self.checkpoint.clone(),
            finished: self.checkpoint.as_deref() == Some(SHARD_END),
        });
    }
}

/// The checkpoint after a processed batch: the shard's end, or its last record.
fn checkpoint_after(records: &[Record], at_shard_end: bool) -> String {
    match records.last() {
        Some(last) if !at_shard_end => last.sequence.to_string(),
        // Only the shard's end has nothing after it to point at.
        _ => SHARD_END.to_string(),
    }
}
