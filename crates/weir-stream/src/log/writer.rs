//! The writer of one stream: a thread that owns every open shard's active segment and appends
//! with group commit. It takes every append request queued while it was busy, frames all their
//! records into one buffer per shard, writes each dirty shard's buffer with one `pwrite`, and
//! fsyncs those files concurrently (one thread per dirty shard, so several shards cost about one
//! fsync's latency). Only then are the records published to readers and the callers answered:
//! an acknowledged append is durable, and a reader never sees one that is not.
//!
//! The writer also owns placement (which open shard takes a hash key), so resharding goes
//! through it too, in order with appends: a shard closed by a split takes nothing after its end.

use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::frame;
use super::index::Entry;
use super::segment::{Segment, index_due};
use super::shard::{ShardLog, sync_dir};
use crate::{Appended, PutFailure, SequenceNumber, ShardId};

/// Records gathered into one commit at most; bounds a commit's latency and memory under a flood.
const MAX_BATCH_RECORDS: usize = 200_000;
/// AWS's per-shard write quotas, enforced when the stream's service asks for them.
const QUOTA_RECORDS: u32 = 1000;
const QUOTA_BYTES: u64 = 1 << 20;

/// A record on its way to the writer, its hash key computed by the caller (in parallel).
pub(crate) struct Routed {
    pub hash: u128,
    pub partition_key: String,
    pub data: Bytes,
}

pub(crate) type AppendResults = Vec<Result<Appended, PutFailure>>;

pub(crate) enum Command {
    Append {
        records: Vec<Routed>,
        reply: oneshot::Sender<AppendResults>,
    },
    Reshard(Reshard),
    /// Rolls every active segment whose newest record arrived before `cutoff_ms`, so retention
    /// can drop it.
    Expire {
        cutoff_ms: i64,
        done: oneshot::Sender<()>,
    },
    /// Commits what is queued and ends the thread.
    Stop {
        done: oneshot::Sender<()>,
    },
}

/// A change of the open shards: `close` take no more records, `open` take their hash ranges.
pub(crate) struct Reshard {
    pub close: Vec<ShardId>,
    pub open: Vec<OpenShard>,
    /// The closed shards' ends, sent once nothing more will be appended to them.
    pub ends: oneshot::Sender<Vec<(ShardId, u64)>>,
    /// Whether the new layout was committed to the metadata store: then the children take
    /// appends; otherwise the parents take them again.
    pub proceed: oneshot::Receiver<bool>,
}

/// An open shard as the writer needs it.
pub(crate) struct OpenShard {
    pub id: ShardId,
    pub hash_start: u128,
    pub hash_end: u128,
    pub log: Arc<ShardLog>,
}

#[derive(Debug, Clone)]
pub(crate) struct WriterOptions {
    pub stream: String,
    pub account: String,
    pub segment_bytes: u64,
    pub quotas: bool,
}

/// The queue to a stream's writer thread.
#[derive(Clone)]
pub(crate) struct WriterHandle {
    tx: mpsc::UnboundedSender<Command>,
    /// What the writer has made durable since it started.
    pub totals: Arc<WriterTotals>,
}

/// Records and bytes (framed, as written) a writer made durable since it started: two counters
/// a sampler reads for rates, without touching the log.
#[derive(Debug, Default)]
pub(crate) struct WriterTotals {
    pub records: AtomicU64,
    pub bytes: AtomicU64,
}

impl WriterHandle {
    /// Starts the writer of a stream whose open shards are `shards`.
    pub fn start(options: WriterOptions, shards: Vec<OpenShard>) -> io::Result<WriterHandle> {
        let mut open = Vec::with_capacity(shards.len());
        for shard in shards {
            open.push(ShardWriter::new(shard)?);
        }
        open.sort_by_key(|w| w.hash_start);
        let (tx, rx) = mpsc::unbounded_channel();
        let totals = Arc::new(WriterTotals::default());
        let writer = Writer {
            options,
            open,
            requests: Vec::new(),
            totals: Arc::clone(&totals),
        };
        thread::Builder::new()
            .name("weir-stream-writer".into())
            .spawn(move || writer.run(rx))?;
        Ok(WriterHandle { tx, totals })
    }

    /// Queues a command; `false` when the writer has stopped.
    pub fn send(&self, command: Command) -> bool {
        self.tx.send(command).is_ok()
    }
}

struct Writer {
    options: WriterOptions,
    /// The open shards, by hash range.
    open: Vec<ShardWriter>,
    /// The append requests of the batch being gathered, with their results so far.
    requests: Vec<Request>,
    totals: Arc<WriterTotals>,
}

struct Request {
    reply: oneshot::Sender<AppendResults>,
    results: Vec<Option<Result<Appended, PutFailure>>>,
}

impl Writer {
    fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        while let Some(first) = rx.blocking_recv() {
            let mut next = Some(first);
            let mut gathered = 0;
            while let Some(command) = next.take() {
                match command {
                    Command::Append { records, reply } => {
                        gathered += records.len();
                        self.stage(records, reply);
                    }
                    Command::Stop { done } => {
                        self.commit();
                        let _ = done.send(());
                        return;
                    }
                    control => {
                        self.commit();
                        self.control(control);
                    }
                }
                if gathered < MAX_BATCH_RECORDS {
                    next = rx.try_recv().ok();
                }
            }
            self.commit();
        }
    }

    /// Frames a request's records into their shards' buffers.
    fn stage(&mut self, records: Vec<Routed>, reply: oneshot::Sender<AppendResults>) {
        let request = self.requests.len();
        let mut results = vec![None; records.len()];
        let now = crate::service::now_ms();
        for (i, record) in records.into_iter().enumerate() {
            let Some(shard) = self.route(record.hash) else {
                results[i] = Some(Err(internal("no open shard takes this hash key")));
                continue;
            };
            let writer = &mut self.open[shard];
            if self.options.quotas && !writer.within_quota(now, record.data.len()) {
                results[i] = Some(Err(PutFailure {
                    error_code: "ProvisionedThroughputExceededException".into(),
                    error_message: format!(
                        "Rate exceeded for shard {} in stream {} under account {}.",
                        writer.id, self.options.stream, self.options.account
                    ),
                }));
                continue;
            }
            if let Err(error) = writer.stage(request, i, &record, now, self.options.segment_bytes) {
                results[i] = Some(Err(internal(&error.to_string())));
            }
        }
        self.requests.push(Request { reply, results });
    }

    /// The open shard whose range holds `hash`.
    fn route(&self, hash: u128) -> Option<usize> {
        let after = self.open.partition_point(|w| w.hash_start <= hash);
        let shard = after.checked_sub(1)?;
        (hash <= self.open[shard].hash_end).then_some(shard)
    }

    /// Writes and fsyncs every dirty shard, publishes what became durable and answers the
    /// batch's callers.
    fn commit(&mut self) {
        let dirty: Vec<&ShardWriter> = self.open.iter().filter(|w| !w.buf.is_empty()).collect();
        let outcomes: Vec<io::Result<()>> = if dirty.len() <= 1 {
            dirty.iter().map(|w| w.write_and_sync()).collect()
        } else {
            thread::scope(|scope| {
                let running: Vec<_> = dirty
                    .iter()
                    .map(|w| scope.spawn(|| w.write_and_sync()))
                    .collect();
                running
                    .into_iter()
                    .map(|handle| {
                        handle
                            .join()
                            .unwrap_or_else(|_| Err(io::Error::other("the fsync thread panicked")))
                    })
                    .collect()
            })
        };
        let mut outcomes = outcomes.into_iter();
        let (mut records, mut bytes) = (0u64, 0u64);
        for writer in self.open.iter_mut() {
            if !writer.buf.is_empty() {
                match outcomes
                    .next()
                    .unwrap_or_else(|| Err(io::Error::other("no outcome")))
                {
                    Ok(()) => {
                        records += writer.staged.len() as u64;
                        bytes += writer.buf.len() as u64;
                        writer.publish()
                    }
                    Err(error) => writer.fail(&error),
                }
            }
            for (request, record, result) in writer.done.drain(..) {
                let result = result.map(|offset| Appended {
                    shard: writer.id,
                    sequence: SequenceNumber::of_record(writer.id, offset),
                });
                if let Some(slot) = self
                    .requests
                    .get_mut(request)
                    .and_then(|r| r.results.get_mut(record))
                {
                    *slot = Some(result);
                }
            }
        }
        if records > 0 {
            self.totals.records.fetch_add(records, Ordering::Relaxed);
            self.totals.bytes.fetch_add(bytes, Ordering::Relaxed);
            let stream = self.options.stream.clone();
            metrics::counter!("weir_stream_appended_records_total", "stream" => stream.clone())
                .increment(records);
            metrics::counter!("weir_stream_appended_bytes_total", "stream" => stream.clone())
                .increment(bytes);
            metrics::counter!("weir_stream_group_commits_total", "stream" => stream).increment(1);
        }
        for request in self.requests.drain(..) {
            let results = request
                .results
                .into_iter()
                .map(|r| r.unwrap_or_else(|| Err(internal("the record was not appended"))))
                .collect();
            let _ = request.reply.send(results);
        }
    }

    fn control(&mut self, command: Command) {
        match command {
            Command::Reshard(reshard) => self.reshard(reshard),
            Command::Expire { cutoff_ms, done } => {
                for writer in &mut self.open {
                    let expired = writer.size > 0 && writer.last_arrival < cutoff_ms;
                    if expired && let Err(error) = writer.roll() {
                        tracing::warn!(shard = %writer.id, %error, "cannot roll an expired segment");
                        writer.fail(&error);
                    }
                    writer.done.clear();
                }
                let _ = done.send(());
            }
            Command::Append { .. } | Command::Stop { .. } => {}
        }
    }

    fn reshard(&mut self, reshard: Reshard) {
        let mut closed = Vec::new();
        for id in &reshard.close {
            if let Some(position) = self.open.iter().position(|w| w.id == *id) {
                closed.push(self.open.remove(position));
            }
        }
        let ends = closed.iter().map(|w| (w.id, w.next_offset)).collect();
        let _ = reshard.ends.send(ends);
        if reshard.proceed.blocking_recv() == Ok(true) {
            for writer in &closed {
                writer.active.seal();
            }
            for shard in reshard.open {
                let id = shard.id;
                match ShardWriter::new(shard) {
                    Ok(writer) => self.open.push(writer),
                    Err(error) => tracing::error!(shard = %id, %error, "cannot open a new shard"),
                }
            }
        } else {
            self.open.extend(closed);
        }
        self.open.sort_by_key(|w| w.hash_start);
    }
}

fn internal(message: &str) -> PutFailure {
    PutFailure {
        error_code: "InternalFailure".into(),
        error_message: format!("Internal service failure: {message}"),
    }
}

/// An open shard's writing state: its active segment, the batch framed so far, and the durable
/// state to go back to when a write fails.
struct ShardWriter {
    id: ShardId,
    hash_start: u128,
    hash_end: u128,
    log: Arc<ShardLog>,
    active: Arc<Segment>,
    /// The offset the next record gets.
    next_offset: u64,
    /// Bytes of the active segment, the framed batch included.
    size: u64,
    last_arrival: i64,
    last_index_position: Option<u64>,
    /// The framed records of the batch, to go at `buf_position`.
    buf: Vec<u8>,
    buf_position: u64,
    new_entries: Vec<Entry>,
    /// The batch's records: (request, record, offset).
    staged: Vec<(usize, usize, u64)>,
    /// Records whose fate is known: (request, record, offset or failure).
    done: Vec<(usize, usize, Result<u64, PutFailure>)>,
    durable: Durable,
    /// The quota window: its second, records and bytes so far.
    window: (i64, u32, u64),
}

#[derive(Clone, Copy)]
struct Durable {
    next_offset: u64,
    size: u64,
    last_arrival: i64,
    last_index_position: Option<u64>,
}

impl ShardWriter {
    fn new(shard: OpenShard) -> io::Result<ShardWriter> {
        let active = shard.log.active().ok_or_else(|| {
            io::Error::other(format!("shard {} has no segment to append to", shard.id))
        })?;
        let published = active.published();
        let durable = Durable {
            next_offset: published.end_offset,
            size: published.size,
            last_arrival: shard.log.last_arrival_ms().unwrap_or(i64::MIN),
            last_index_position: published.index.entries.last().map(|e| e.position),
        };
        Ok(ShardWriter {
            id: shard.id,
            hash_start: shard.hash_start,
            hash_end: shard.hash_end,
            log: shard.log,
            active,
            next_offset: durable.next_offset,
            size: durable.size,
            last_arrival: durable.last_arrival,
            last_index_position: durable.last_index_position,
            buf: Vec::new(),
            buf_position: durable.size,
            new_entries: Vec::new(),
            staged: Vec::new(),
            done: Vec::new(),
            durable,
            window: (0, 0, 0),
        })
    }

    fn within_quota(&mut self, now: i64, bytes: usize) -> bool {
        let second = now / 1000;
        if self.window.0 != second {
            self.window = (second, 0, 0);
        }
        let bytes = bytes as u64;
        if self.window.1 + 1 > QUOTA_RECORDS || self.window.2 + bytes > QUOTA_BYTES {
            return false;
        }
        self.window.1 += 1;
        self.window.2 += bytes;
        true
    }

    /// Frames a record into the batch, rolling to a new segment first when the active one is
    /// full.
    fn stage(
        &mut self,
        request: usize,
        record: usize,
        routed: &Routed,
        now: i64,
        segment_bytes: u64,
    ) -> io::Result<()> {
        let key = routed.partition_key.as_bytes();
        let len = frame::framed_len(key, &routed.data) as u64;
        if self.size > 0 && self.size + len > segment_bytes {
            self.roll()?;
        }
        // Arrival times never go back within a shard (the clock may), so lookups by time can
        // rely on their order.
        let arrival = now.max(self.last_arrival);
        if index_due(self.last_index_position, self.size) {
            self.new_entries.push(Entry {
                offset: self.next_offset,
                position: self.size,
                arrival_ms: arrival,
            });
            self.last_index_position = Some(self.size);
        }
        frame::encode(&mut self.buf, self.next_offset, arrival, key, &routed.data);
        self.staged.push((request, record, self.next_offset));
        self.next_offset += 1;
        self.size += len;
        self.last_arrival = arrival;
        Ok(())
    }

    /// Writes the batch at its place in the active segment and makes it durable. Runs on an
    /// fsync thread; changes nothing in memory.
    fn write_and_sync(&self) -> io::Result<()> {
        self.active
            .file
            .write_all_at(&self.buf, self.buf_position)?;
        self.active.file.sync_data()
    }

    /// After a durable write: readers may see the batch, and its records are appended.
    fn publish(&mut self) {
        self.active.publish(
            self.next_offset,
            self.size,
            &self.new_entries,
            self.last_arrival,
        );
        self.log.publish_end(self.next_offset);
        self.new_entries.clear();
        self.buf.clear();
        self.buf_position = self.size;
        self.durable = Durable {
            next_offset: self.next_offset,
            size: self.size,
            last_arrival: self.last_arrival,
            last_index_position: self.last_index_position,
        };
        self.done.extend(
            self.staged
                .drain(..)
                .map(|(q, r, offset)| (q, r, Ok(offset))),
        );
    }

    /// After a failed write: the batch's records fail, and the segment goes back to its durable
    /// length (a later recovery would cut the same bytes).
    fn fail(&mut self, error: &io::Error) {
        tracing::error!(shard = %self.id, %error, "stream append failed");
        if let Err(error) = self.active.file.set_len(self.durable.size) {
            tracing::error!(shard = %self.id, %error, "cannot cut a failed append");
        }
        let failure = internal(&error.to_string());
        self.done.extend(
            self.staged
                .drain(..)
                .map(|(q, r, _)| (q, r, Err(failure.clone()))),
        );
        self.buf.clear();
        self.new_entries.clear();
        self.next_offset = self.durable.next_offset;
        self.size = self.durable.size;
        self.buf_position = self.durable.size;
        self.last_arrival = self.durable.last_arrival;
        self.last_index_position = self.durable.last_index_position;
    }

    /// Makes the batch so far durable, seals the active segment and starts a new one.
    fn roll(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.write_and_sync()?;
            self.publish();
        }
        // The new segment exists before the old one is sealed: should creating it fail, the
        // old one goes on taking records and must not look sealed to retention.
        let segment = Arc::new(Segment::create(&self.log.dir, self.next_offset)?);
        sync_dir(&self.log.dir)?;
        self.active.seal();
        self.log.push_segment(Arc::clone(&segment));
        self.active = segment;
        self.size = 0;
        self.buf_position = 0;
        self.last_index_position = None;
        self.durable.size = 0;
        self.durable.last_index_position = None;
        Ok(())
    }
}
