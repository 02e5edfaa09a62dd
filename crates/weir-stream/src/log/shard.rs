//! One shard's log: its segments in offset order, and the durable end readers wait on. Opening
//! it is recovery: sealed segments come back with their saved index (or a scan), the active one
//! is scanned and its torn or damaged tail cut.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::watch;

use super::index::{Entry, SparseIndex};
use super::scan::{Stop, scan_file};
use super::segment::{Published, Segment};
use crate::{Record, SequenceNumber, ShardId};

pub(crate) struct ShardLog {
    pub shard: ShardId,
    pub dir: PathBuf,
    segments: RwLock<Vec<Arc<Segment>>>,
    /// The offset after the last durable record. Changes after each durable append.
    durable: watch::Sender<u64>,
    /// Where the last read ended (segment base, offset, position): the next read of a reader
    /// that follows the shard starts there without an index lookup.
    hint: Mutex<Option<(u64, u64, u64)>>,
    /// Retention removed the shard's folder (a closed shard past its retention).
    retired: AtomicBool,
}

/// What a read found.
pub(crate) struct Read {
    pub records: Vec<Record>,
    pub next_offset: u64,
}

impl ShardLog {
    /// Opens (recovering) the log in `dir`, creating the folder and a first segment at
    /// `starting_offset` when there is none. A `closed` shard gets no new segment: it takes no
    /// more records; and when its folder is gone (retention removed it) and it is not being
    /// `created`, it comes back retired.
    pub fn open(
        dir: PathBuf,
        shard: ShardId,
        starting_offset: u64,
        closed: bool,
        created: bool,
    ) -> io::Result<ShardLog> {
        let retired = closed && !created && !dir.exists();
        if !retired && !dir.exists() {
            fs::create_dir_all(&dir)?;
            if let Some(parent) = dir.parent() {
                sync_dir(parent)?;
            }
        }
        let mut bases: Vec<u64> = if retired {
            Vec::new()
        } else {
            fs::read_dir(&dir)?
                .filter_map(|entry| entry.ok())
                .filter_map(|entry| Segment::parse_name(entry.file_name().to_str()?))
                .collect()
        };
        bases.sort_unstable();
        let mut segments = Vec::with_capacity(bases.len().max(1));
        for (i, &base) in bases.iter().enumerate() {
            let last = i + 1 == bases.len();
            segments.push(Arc::new(open_segment(&dir, base, last && !closed)?));
        }
        if segments.is_empty() && !closed {
            segments.push(Arc::new(Segment::create(&dir, starting_offset)?));
            sync_dir(&dir)?;
        }
        let end = segments
            .last()
            .map_or(starting_offset, |segment| segment.durable_end().0);
        Ok(ShardLog {
            shard,
            dir,
            segments: RwLock::new(segments),
            durable: watch::Sender::new(end),
            hint: Mutex::new(None),
            retired: AtomicBool::new(retired),
        })
    }

    /// The offset after the last durable record.
    pub fn end_offset(&self) -> u64 {
        *self.durable.borrow()
    }

    /// Readers' view of the durable end, changing on each append.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.durable.subscribe()
    }

    /// Tells readers that records up to `end` are durable.
    pub fn publish_end(&self, end: u64) {
        self.durable.send_replace(end);
    }

    fn segments(&self) -> Vec<Arc<Segment>> {
        self.segments
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The segment appends go to (the last one).
    pub fn active(&self) -> Option<Arc<Segment>> {
        self.segments
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .last()
            .cloned()
    }

    /// Adds a segment the writer rolled to.
    pub fn push_segment(&self, segment: Arc<Segment>) {
        self.segments
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(segment)
    }

    /// The oldest offset still kept (TRIM_HORIZON).
    pub fn first_offset(&self) -> u64 {
        self.segments()
            .first()
            .map_or_else(|| self.end_offset(), |segment| segment.base)
    }

    /// When the newest durable record arrived.
    pub fn last_arrival_ms(&self) -> Option<i64> {
        self.segments()
            .iter()
            .rev()
            .find_map(|segment| segment.last_arrival_ms())
    }

    /// The first record that arrived at or after `ms` (AT_TIMESTAMP), or the end.
    pub fn offset_at_time(&self, ms: i64) -> io::Result<u64> {
        for segment in self.segments() {
            if let Some(offset) = segment.offset_at_time(ms)? {
                return Ok(offset);
            }
        }
        Ok(self.end_offset())
    }

    /// Up to `limit` records from `from` on, stopping before `max_bytes` of data would be passed
    /// (but always returning a record when there is one), never past the durable end. An offset
    /// older than the oldest kept reads from the oldest kept.
    pub fn read(&self, from: u64, limit: usize, max_bytes: usize) -> io::Result<Read> {
        let segments = self.segments();
        let mut records: Vec<Record> = Vec::new();
        let mut bytes = 0usize;
        let mut next = from.max(
            segments
                .first()
                .map_or_else(|| self.end_offset(), |s| s.base),
        );
        for (i, segment) in segments.iter().enumerate() {
            let (end_offset, size) = segment.durable_end();
            let segment_end = segments
                .get(i + 1)
                .map_or(end_offset, |following| following.base.max(end_offset));
            if next >= segment_end {
                continue;
            }
            if next < segment.base {
                // A gap left by a damaged segment cut on recovery: go on after it.
                next = segment.base;
            }
            let (mut offset, position) = self.start_in(segment, next);
            let mut full = false;
            let stopped = segment.walk(position, size, |frame, chunk| {
                if frame.offset < next {
                    offset = frame.offset.saturating_add(1);
                    return ControlFlow::Continue(());
                }
                let data = chunk.slice(frame.data.clone());
                if records.len() >= limit || (!records.is_empty() && bytes + data.len() > max_bytes)
                {
                    full = true;
                    return ControlFlow::Break(());
                }
                bytes += data.len();
                let key = String::from_utf8_lossy(&chunk[frame.key.clone()]).into_owned();
                records.push(Record {
                    sequence: SequenceNumber::of_record(self.shard, frame.offset),
                    offset: frame.offset,
                    partition_key: key,
                    data,
                    arrival_ms: frame.arrival_ms,
                });
                offset = frame.offset.saturating_add(1);
                ControlFlow::Continue(())
            })?;
            next = offset.max(next);
            self.remember(segment.base, next, stopped);
            if full || records.len() >= limit {
                break;
            }
            if end_offset < segment_end {
                next = segment_end;
            }
        }
        Ok(Read {
            records,
            next_offset: next,
        })
    }

    /// Where in `segment` to start reading for `offset`: the hint when it fits, else the index.
    fn start_in(&self, segment: &Segment, offset: u64) -> (u64, u64) {
        let hint = *self.hint.lock().unwrap_or_else(|e| e.into_inner());
        let indexed = segment.start_for(offset);
        match hint {
            Some((base, hinted, position))
                if base == segment.base && hinted <= offset && hinted >= indexed.0 =>
            {
                (hinted, position)
            }
            _ => indexed,
        }
    }

    fn remember(&self, base: u64, offset: u64, position: u64) {
        *self.hint.lock().unwrap_or_else(|e| e.into_inner()) = Some((base, offset, position));
    }

    /// Deletes the sealed segments whose newest record arrived before `cutoff_ms`, oldest first,
    /// stopping at the first one still needed. Returns how many went.
    pub fn drop_expired(&self, cutoff_ms: i64) -> usize {
        let mut dropped = Vec::new();
        {
            let mut segments = self.segments.write().unwrap_or_else(|e| e.into_inner());
            while let Some(first) = segments.first() {
                let published = first.published();
                let expired = published.sealed
                    && published
                        .last_arrival_ms
                        .is_none_or(|last| last < cutoff_ms);
                if !expired {
                    break;
                }
                dropped.push(segments.remove(0));
            }
        }
        // Readers holding one of these keep reading it through their open handle.
        for segment in &dropped {
            for path in [segment.path.clone(), segment.index_path()] {
                if let Err(error) = fs::remove_file(&path)
                    && error.kind() != io::ErrorKind::NotFound
                {
                    tracing::warn!(path = %path.display(), %error, "cannot delete an expired segment");
                }
            }
        }
        if !dropped.is_empty() {
            *self.hint.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        dropped.len()
    }

    /// Whether every segment is gone (a closed shard past its retention).
    pub fn is_empty(&self) -> bool {
        self.segments().is_empty()
    }

    /// Removes the folder of a closed shard whose segments retention dropped.
    pub fn retire(&self) -> io::Result<()> {
        if self.dir.exists() {
            fs::remove_dir_all(&self.dir)?;
        }
        self.retired.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Whether retention removed the shard.
    pub fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Relaxed)
    }
}

/// Opens a segment found on disk. The `active` one is scanned and cut after its last valid
/// record; a sealed one comes back from its saved index when that matches the file, else from a
/// scan (and is cut too, should it be damaged).
fn open_segment(dir: &Path, base: u64, active: bool) -> io::Result<Segment> {
    let path = dir.join(Segment::file_name(base));
    let file = OpenOptions::new().read(true).write(true).open(&path)?;
    let len = file.metadata()?.len();
    if !active && let Some((index, end)) = saved_index(&path.with_extension("idx"), len) {
        let published = Published {
            end_offset: end.offset,
            size: end.position,
            index,
            last_arrival_ms: (end.offset > base).then_some(end.arrival_ms),
            sealed: true,
        };
        return Ok(Segment::with(base, path, file, published));
    }
    let scan = scan_file(&file, len, base)?;
    if scan.stop != Stop::End {
        tracing::warn!(
            path = %path.display(),
            kept = scan.valid_len,
            cut = len - scan.valid_len,
            reason = ?scan.stop,
            "cutting a segment after its last complete record"
        );
        cut(&file, scan.valid_len)?;
    }
    let published = Published {
        end_offset: scan.end_offset,
        size: scan.valid_len,
        index: scan.index,
        last_arrival_ms: scan.last_arrival_ms,
        sealed: !active,
    };
    let segment = Segment::with(base, path, file, published);
    if !active {
        segment.seal();
    }
    Ok(segment)
}

/// The saved index of a segment `len` bytes long, if it is whole and describes that length.
fn saved_index(path: &Path, len: u64) -> Option<(SparseIndex, Entry)> {
    let bytes = fs::read(path).ok()?;
    let (index, end) = SparseIndex::parse(&bytes)?;
    (end.position == len).then_some((index, end))
}

fn cut(file: &File, len: u64) -> io::Result<()> {
    file.set_len(len)?;
    file.sync_all()
}

/// Makes the entries of a folder (files created or removed in it) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl std::fmt::Debug for ShardLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardLog")
            .field("shard", &self.shard)
            .field("dir", &self.dir)
            .field("end", &self.end_offset())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::frame;
    use proptest::prelude::*;

    /// Writes `records` (key, data) as segments of about `segment_bytes` under `dir`, the last
    /// cut to `cut` of its bytes; returns the records recovery must keep.
    fn write_segments(
        dir: &Path,
        records: &[(String, Vec<u8>)],
        segment_bytes: usize,
        cut: prop::sample::Index,
    ) -> Vec<(u64, i64, String, Vec<u8>)> {
        // Each segment: its base, its bytes, and where each of its frames ends.
        struct Written {
            base: u64,
            bytes: Vec<u8>,
            ends: Vec<(u64, usize)>,
        }
        let mut segments = vec![Written {
            base: 0,
            bytes: Vec::new(),
            ends: Vec::new(),
        }];
        for (offset, (key, data)) in records.iter().enumerate() {
            let offset = offset as u64;
            if segments
                .last()
                .is_some_and(|s| s.bytes.len() >= segment_bytes)
            {
                segments.push(Written {
                    base: offset,
                    bytes: Vec::new(),
                    ends: Vec::new(),
                });
            }
            if let Some(segment) = segments.last_mut() {
                frame::encode(
                    &mut segment.bytes,
                    offset,
                    1000 + offset as i64,
                    key.as_bytes(),
                    data,
                );
                segment.ends.push((offset, segment.bytes.len()));
            }
        }
        fs::create_dir_all(dir).unwrap();
        let last = segments.len() - 1;
        let mut kept_end = 0;
        for (i, Written { base, bytes, ends }) in segments.iter().enumerate() {
            let len = if i == last {
                cut.index(bytes.len() + 1)
            } else {
                bytes.len()
            };
            fs::write(dir.join(Segment::file_name(*base)), &bytes[..len]).unwrap();
            kept_end = if i == last {
                ends.iter()
                    .filter(|(_, end)| *end <= len)
                    .map(|(o, _)| o + 1)
                    .max()
                    .unwrap_or(*base)
            } else {
                base + ends.len() as u64
            };
        }
        records
            .iter()
            .enumerate()
            .take(kept_end as usize)
            .map(|(o, (k, d))| (o as u64, 1000 + o as i64, k.clone(), d.clone()))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn reads_after_recovery_return_exactly_the_kept_records(
            records in proptest::collection::vec(("[a-z]{1,6}", proptest::collection::vec(any::<u8>(), 0..400)), 1..120),
            segment_bytes in 200usize..3000,
            cut in any::<prop::sample::Index>(),
            reads in proptest::collection::vec((0u64..130, 1usize..50, 1usize..2000), 1..20),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let shard_dir = dir.path().join("shard");
            let kept = write_segments(&shard_dir, &records, segment_bytes, cut);
            let log = ShardLog::open(shard_dir.clone(), ShardId(3), 0, false, false).unwrap();
            prop_assert_eq!(log.end_offset(), kept.len() as u64);
            // Opened again, the sealed segments come back from the indexes the first open saved.
            drop(log);
            let log = ShardLog::open(shard_dir, ShardId(3), 0, false, false).unwrap();
            prop_assert_eq!(log.end_offset(), kept.len() as u64);
            let whole = log.read(0, usize::MAX, usize::MAX).unwrap();
            prop_assert_eq!(whole.records.len(), kept.len());
            for (from, limit, max_bytes) in reads {
                let read = log.read(from, limit, max_bytes).unwrap();
                let expected: Vec<_> = kept.iter().filter(|r| r.0 >= from).take(limit).collect();
                prop_assert!(read.records.len() <= expected.len());
                if !expected.is_empty() {
                    prop_assert!(!read.records.is_empty(), "at least one record");
                }
                for (got, want) in read.records.iter().zip(&expected) {
                    prop_assert_eq!(got.offset, want.0);
                    prop_assert_eq!(got.arrival_ms, want.1);
                    prop_assert_eq!(&got.partition_key, &want.2);
                    prop_assert_eq!(&got.data[..], &want.3[..]);
                    prop_assert_eq!(got.sequence, SequenceNumber::of_record(ShardId(3), want.0));
                }
                let bytes: usize = read.records.iter().map(|r| r.data.len()).sum();
                prop_assert!(read.records.len() <= 1 || bytes <= max_bytes);
                let next = read.records.last().map_or(from, |r| r.offset + 1);
                prop_assert_eq!(read.next_offset, next);
                // By time: the first kept record that arrived at or after a moment.
                let at = 1000 + from as i64;
                let by_time = log.offset_at_time(at).unwrap();
                prop_assert_eq!(by_time, (from).min(kept.len() as u64));
            }
        }
    }
}
