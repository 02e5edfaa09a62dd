//! One segment file of a shard, `<base offset>.log`: its file handle, and what of it is durable
//! (published by the writer after each fsync), which is all readers ever look at.

use std::fs::{File, OpenOptions};
use std::io;
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;

use super::frame::{self, Decoded, Frame};
use super::index::{Entry, INTERVAL, SparseIndex};

/// Bytes read at a time when walking frames, at least.
const READ_CHUNK: usize = 256 << 10;

pub(crate) struct Segment {
    pub base: u64,
    pub path: PathBuf,
    /// Read and written with positioned calls (`pread`, `pwrite`), so one handle serves the
    /// writer and every reader without a seek position to share.
    pub file: File,
    published: Mutex<Published>,
}

/// The durable part of a segment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Published {
    /// The offset after its last durable record.
    pub end_offset: u64,
    /// Its durable bytes.
    pub size: u64,
    pub index: SparseIndex,
    pub last_arrival_ms: Option<i64>,
    /// No more records will be appended (the writer rolled past it, or its shard closed).
    pub sealed: bool,
}

impl Segment {
    /// The file name of the segment that starts at `base`; zero-padded so names sort as offsets.
    pub fn file_name(base: u64) -> String {
        format!("{base:020}.log")
    }

    /// The base offset a segment file name stands for.
    pub fn parse_name(name: &str) -> Option<u64> {
        let digits = name.strip_suffix(".log")?;
        if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    pub fn index_path(&self) -> PathBuf {
        self.path.with_extension("idx")
    }

    /// A new, empty segment (its folder must be synced by the caller for the name to be durable).
    pub fn create(dir: &Path, base: u64) -> io::Result<Segment> {
        let path = dir.join(Segment::file_name(base));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(Segment::with(
            base,
            path,
            file,
            Published {
                end_offset: base,
                ..Published::default()
            },
        ))
    }

    pub fn with(base: u64, path: PathBuf, file: File, published: Published) -> Segment {
        Segment {
            base,
            path,
            file,
            published: Mutex::new(published),
        }
    }

    /// What is durable now.
    pub fn published(&self) -> Published {
        self.lock().clone()
    }

    /// The durable end and size, without copying the index.
    pub fn durable_end(&self) -> (u64, u64) {
        let published = self.lock();
        (published.end_offset, published.size)
    }

    pub fn last_arrival_ms(&self) -> Option<i64> {
        self.lock().last_arrival_ms
    }

    /// Makes records up to `end_offset` (`size` bytes) visible to readers.
    pub fn publish(&self, end_offset: u64, size: u64, entries: &[Entry], last_arrival_ms: i64) {
        let mut published = self.lock();
        published.end_offset = end_offset;
        published.size = size;
        published.index.entries.extend_from_slice(entries);
        published.last_arrival_ms = Some(last_arrival_ms);
    }

    /// Marks the segment as complete and saves its index beside it. A failure to save is only
    /// logged: the next open rebuilds the index from the segment.
    pub fn seal(&self) {
        let published = {
            let mut published = self.lock();
            published.sealed = true;
            published.clone()
        };
        let end = Entry {
            offset: published.end_offset,
            position: published.size,
            arrival_ms: published.last_arrival_ms.unwrap_or(0),
        };
        if let Err(error) = published.index.save(&self.index_path(), end) {
            tracing::warn!(path = %self.path.display(), %error, "cannot save a segment's index");
        }
    }

    /// A poisoned lock only means a reader panicked while holding it; the data is plain values.
    fn lock(&self) -> MutexGuard<'_, Published> {
        self.published.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where to start reading for `offset`: the index entry at or before it, or the start.
    pub fn start_for(&self, offset: u64) -> (u64, u64) {
        let published = self.lock();
        if offset >= published.end_offset {
            return (published.end_offset, published.size);
        }
        match published.index.at_or_before(offset) {
            Some(entry) => (entry.offset, entry.position),
            None => (self.base, 0),
        }
    }

    /// The first durable record that arrived at or after `ms`, if this segment has one.
    pub fn offset_at_time(&self, ms: i64) -> io::Result<Option<u64>> {
        let (start, end_offset, size) = {
            let published = self.lock();
            if published.last_arrival_ms.is_none_or(|last| last < ms) {
                return Ok(None);
            }
            let start = published.index.last_before_time(ms);
            (start, published.end_offset, published.size)
        };
        let position = start.map_or(0, |entry| entry.position);
        let mut found = None;
        self.walk(position, size, |frame, _| {
            if frame.arrival_ms >= ms {
                found = Some(frame.offset);
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        })?;
        // Published says a record arrived at or after `ms`; should the walk not find it, the
        // segment's end is the safe answer (nothing older is returned).
        Ok(found.or(Some(end_offset)))
    }

    /// Calls `visit` with each frame from `position` (a frame's start) up to `stop` (a durable
    /// size), and the chunk of bytes its ranges point into. Within the durable part every frame
    /// is whole and valid; anything else is reported as damage.
    pub fn walk(
        &self,
        mut position: u64,
        stop: u64,
        mut visit: impl FnMut(&Frame, &Bytes) -> ControlFlow<()>,
    ) -> io::Result<u64> {
        let mut want = READ_CHUNK;
        while position < stop {
            let take = (stop - position).min(want as u64) as usize;
            let mut buf = vec![0; take];
            self.file.read_exact_at(&mut buf, position)?;
            let chunk = Bytes::from(buf);
            want = READ_CHUNK;
            let mut at = 0;
            while at < chunk.len() {
                match frame::decode(&chunk[at..]) {
                    Decoded::Frame(frame) => {
                        let frame = Frame {
                            key: frame.key.start + at..frame.key.end + at,
                            data: frame.data.start + at..frame.data.end + at,
                            ..frame
                        };
                        if visit(&frame, &chunk).is_break() {
                            return Ok(position + at as u64);
                        }
                        at += frame.len;
                    }
                    Decoded::Incomplete { needed }
                        if (needed as u64) <= stop - position - at as u64 =>
                    {
                        want = needed.max(READ_CHUNK);
                        break;
                    }
                    _ => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "damaged record in {} at byte {}",
                                self.path.display(),
                                position + at as u64
                            ),
                        ));
                    }
                }
            }
            position += at as u64;
        }
        Ok(position)
    }
}

/// Whether a new index entry is due for a frame at `position`, after the last entry at `last`.
pub(crate) fn index_due(last: Option<u64>, position: u64) -> bool {
    last.is_none_or(|last| position - last >= INTERVAL)
}
