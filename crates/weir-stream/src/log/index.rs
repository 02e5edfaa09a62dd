//! The sparse index of a segment: every [`INTERVAL`] bytes, the offset, position and arrival
//! time of the frame that starts there. Arrival times never decrease within a shard (the writer
//! makes sure), so one list answers both lookups: by offset and by time (AT_TIMESTAMP).
//!
//! A sealed segment's index is saved beside it (`<base>.idx`) with the segment's end and a
//! CRC32C, so opening a shard does not read its old segments; the active segment's is rebuilt by
//! the scan that recovery makes anyway. A missing or damaged `.idx` is rebuilt by a scan too.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Bytes of log between two index entries. A lookup reads at most about this much before the
/// record it wants.
pub(crate) const INTERVAL: u64 = 64 << 10;

const ENTRY: usize = 24;

/// Where a frame starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub offset: u64,
    pub position: u64,
    pub arrival_ms: i64,
}

/// The entries of a segment, by offset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SparseIndex {
    pub entries: Vec<Entry>,
}

impl SparseIndex {
    /// The last entry at or before `offset`.
    pub fn at_or_before(&self, offset: u64) -> Option<Entry> {
        let after = self.entries.partition_point(|e| e.offset <= offset);
        after.checked_sub(1).map(|i| self.entries[i])
    }

    /// The last entry whose record arrived before `ms`: the first record at or after `ms` is at
    /// or after it.
    pub fn last_before_time(&self, ms: i64) -> Option<Entry> {
        let after = self.entries.partition_point(|e| e.arrival_ms < ms);
        after.checked_sub(1).map(|i| self.entries[i])
    }

    /// Writes the index and the segment's `end` (offset after its last record, size, newest
    /// arrival) to `path`, durably.
    pub fn save(&self, path: &Path, end: Entry) -> io::Result<()> {
        let mut bytes = Vec::with_capacity((self.entries.len() + 1) * ENTRY + 4);
        for entry in self.entries.iter().chain(std::iter::once(&end)) {
            bytes.extend_from_slice(&entry.offset.to_le_bytes());
            bytes.extend_from_slice(&entry.position.to_le_bytes());
            bytes.extend_from_slice(&entry.arrival_ms.to_le_bytes());
        }
        let crc = crc32c::crc32c(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        let mut file = File::create(path)?;
        file.write_all(&bytes)?;
        file.sync_data()
    }

    /// Reads what [`SparseIndex::save`] wrote: the index and the segment's end. `None` when the
    /// bytes are not such a file (damaged, cut short).
    pub fn parse(bytes: &[u8]) -> Option<(SparseIndex, Entry)> {
        let (body, crc) = bytes.split_last_chunk::<4>()?;
        if body.is_empty() || body.len() % ENTRY != 0 || crc32c::crc32c(body).to_le_bytes() != *crc
        {
            return None;
        }
        let mut entries: Vec<Entry> = body
            .chunks_exact(ENTRY)
            .map(|chunk| {
                let field = |i: usize| {
                    let mut raw = [0; 8];
                    raw.copy_from_slice(&chunk[i * 8..i * 8 + 8]);
                    raw
                };
                Entry {
                    offset: u64::from_le_bytes(field(0)),
                    position: u64::from_le_bytes(field(1)),
                    arrival_ms: i64::from_le_bytes(field(2)),
                }
            })
            .collect();
        let end = entries.pop()?;
        Some((SparseIndex { entries }, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(offset: u64, arrival_ms: i64) -> Entry {
        Entry {
            offset,
            position: offset * 100,
            arrival_ms,
        }
    }

    #[test]
    fn lookups_by_offset_and_time() {
        let index = SparseIndex {
            entries: vec![entry(0, 10), entry(50, 20), entry(90, 20), entry(120, 30)],
        };
        assert_eq!(index.at_or_before(0), Some(entry(0, 10)));
        assert_eq!(index.at_or_before(89), Some(entry(50, 20)));
        assert_eq!(index.at_or_before(500), Some(entry(120, 30)));
        assert_eq!(index.last_before_time(10), None);
        assert_eq!(index.last_before_time(20), Some(entry(0, 10)));
        assert_eq!(index.last_before_time(21), Some(entry(90, 20)));
    }

    #[test]
    fn saved_indexes_read_back_and_damage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.idx");
        let index = SparseIndex {
            entries: vec![entry(0, 1), entry(9, 2)],
        };
        index.save(&path, entry(12, 3)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(SparseIndex::parse(&bytes), Some((index, entry(12, 3))));
        for cut in 0..bytes.len() {
            assert_eq!(SparseIndex::parse(&bytes[..cut]), None);
        }
        let mut damaged = bytes.clone();
        damaged[3] ^= 1;
        assert_eq!(SparseIndex::parse(&damaged), None);
    }
}
