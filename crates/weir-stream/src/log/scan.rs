//! Recovery's reading of a segment: frames from the start of the file for as long as each one is
//! complete, checks out and continues the offsets, building the sparse index on the way. The first
//! frame that does not is where the valid prefix ends: a torn write of a batch that was never
//! acknowledged (appends are acknowledged only once fsynced, and each batch is written only after
//! the previous one is durable), or damage. Everything after it is cut.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use super::frame::{self, Decoded};
use super::index::{Entry, INTERVAL, SparseIndex};

/// Bytes read at a time.
const CHUNK: usize = 1 << 20;

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Bytes of complete, valid frames from the start.
    pub valid_len: u64,
    /// The offset after the last valid frame.
    pub end_offset: u64,
    pub index: SparseIndex,
    pub last_arrival_ms: Option<i64>,
    /// Why the scan stopped where it did.
    pub stop: Stop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// At the end of the bytes: nothing to cut.
    End,
    /// At a frame that goes past the end (a torn write).
    Torn,
    /// At bytes that are not the next frame.
    Corrupt,
}

/// Frame-by-frame state of a scan, fed the file's bytes a chunk at a time.
struct Scanner {
    position: u64,
    next_offset: u64,
    index: SparseIndex,
    last_arrival_ms: Option<i64>,
}

enum Fed {
    /// Every frame of the chunk was read.
    All,
    /// A frame starts at `position` and needs `needed` bytes from there.
    Incomplete {
        needed: usize,
    },
    Corrupt,
}

impl Scanner {
    fn new(base: u64) -> Scanner {
        Scanner {
            position: 0,
            next_offset: base,
            index: SparseIndex::default(),
            last_arrival_ms: None,
        }
    }

    /// Reads the frames of `chunk`, whose first byte is at `self.position`.
    fn feed(&mut self, chunk: &[u8]) -> Fed {
        let mut at = 0;
        while at < chunk.len() {
            let frame = match frame::decode(&chunk[at..]) {
                Decoded::Frame(frame) => frame,
                Decoded::Incomplete { needed } => return Fed::Incomplete { needed },
                Decoded::Corrupt => return Fed::Corrupt,
            };
            // A valid frame in the wrong place (a stale copy, a mixed-up file) is damage too,
            // and so is time going backwards: lookups by time rely on it never doing so.
            let in_order = self
                .last_arrival_ms
                .is_none_or(|last| frame.arrival_ms >= last);
            if frame.offset != self.next_offset || !in_order {
                return Fed::Corrupt;
            }
            let due = self
                .index
                .entries
                .last()
                .is_none_or(|last| self.position - last.position >= INTERVAL);
            if due {
                self.index.entries.push(Entry {
                    offset: frame.offset,
                    position: self.position,
                    arrival_ms: frame.arrival_ms,
                });
            }
            self.last_arrival_ms = Some(frame.arrival_ms);
            self.next_offset += 1;
            self.position += frame.len as u64;
            at += frame.len;
        }
        Fed::All
    }

    fn finish(self, stop: Stop) -> Scan {
        Scan {
            valid_len: self.position,
            end_offset: self.next_offset,
            index: self.index,
            last_arrival_ms: self.last_arrival_ms,
            stop,
        }
    }
}

/// Scans bytes held in memory (a segment's whole content). Never panics, whatever the bytes.
#[cfg(test)]
pub(crate) fn scan_bytes(bytes: &[u8], base: u64) -> Scan {
    let mut scanner = Scanner::new(base);
    let stop = match scanner.feed(bytes) {
        Fed::All => Stop::End,
        Fed::Incomplete { .. } => Stop::Torn,
        Fed::Corrupt => Stop::Corrupt,
    };
    scanner.finish(stop)
}

/// Scans the first `len` bytes of a segment file, a chunk at a time.
pub(crate) fn scan_file(file: &File, len: u64, base: u64) -> io::Result<Scan> {
    let mut scanner = Scanner::new(base);
    let mut buf = Vec::new();
    let mut want = CHUNK;
    loop {
        let remaining = len - scanner.position;
        if remaining == 0 {
            return Ok(scanner.finish(Stop::End));
        }
        let take = remaining.min(want as u64) as usize;
        buf.resize(take, 0);
        file.read_exact_at(&mut buf, scanner.position)?;
        want = CHUNK;
        match scanner.feed(&buf) {
            Fed::All => {}
            Fed::Corrupt => return Ok(scanner.finish(Stop::Corrupt)),
            Fed::Incomplete { needed } => {
                if needed as u64 > len - scanner.position {
                    return Ok(scanner.finish(Stop::Torn));
                }
                // The frame is in the file but not in this chunk: read again from its start.
                want = want.max(needed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn segment(base: u64, records: &[(i64, Vec<u8>, Vec<u8>)]) -> (Vec<u8>, Vec<u64>) {
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        for (i, (arrival, key, data)) in records.iter().enumerate() {
            frame::encode(&mut bytes, base + i as u64, *arrival, key, data);
            ends.push(bytes.len() as u64);
        }
        (bytes, ends)
    }

    fn records() -> impl Strategy<Value = Vec<(i64, Vec<u8>, Vec<u8>)>> {
        proptest::collection::vec(
            (
                0i64..1000,
                proptest::collection::vec(b'a'..=b'z', 0..8),
                proptest::collection::vec(any::<u8>(), 0..300),
            ),
            0..40,
        )
        .prop_map(|mut records| {
            // Arrival times never decrease within a shard.
            let mut time = 0;
            for record in &mut records {
                time += record.0;
                record.0 = time;
            }
            records
        })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let scan = scan_bytes(&bytes, 0);
            prop_assert!(scan.valid_len <= bytes.len() as u64);
        }

        #[test]
        fn a_cut_keeps_exactly_the_complete_frames(records in records(), cut in any::<prop::sample::Index>(), base in 0u64..1 << 40) {
            let (bytes, ends) = segment(base, &records);
            let cut = cut.index(bytes.len() + 1);
            let scan = scan_bytes(&bytes[..cut], base);
            let complete = ends.iter().filter(|&&end| end <= cut as u64).count();
            prop_assert_eq!(scan.end_offset, base + complete as u64);
            prop_assert_eq!(scan.valid_len, if complete == 0 { 0 } else { ends[complete - 1] });
            let expected = if scan.valid_len == cut as u64 { Stop::End } else { Stop::Torn };
            prop_assert_eq!(scan.stop, expected);
        }

        #[test]
        fn damage_keeps_the_frames_before_it(records in records(), at in any::<prop::sample::Index>(), flip in 1u8..=255) {
            let (mut bytes, ends) = segment(7, &records);
            prop_assume!(!bytes.is_empty());
            let at = at.index(bytes.len());
            bytes[at] ^= flip;
            let scan = scan_bytes(&bytes, 7);
            // Every frame that ends before the damaged byte is kept; the damaged one never is.
            let before = ends.iter().filter(|&&end| end <= at as u64).count();
            prop_assert_eq!(scan.end_offset, 7 + before as u64);
            prop_assert_ne!(scan.stop, Stop::End);
        }

        #[test]
        fn files_scan_as_bytes_do(records in records(), cut in any::<prop::sample::Index>()) {
            let (bytes, _) = segment(0, &records);
            let cut = cut.index(bytes.len() + 1);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("0.log");
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let file = File::open(&path).unwrap();
            prop_assert_eq!(scan_file(&file, cut as u64, 0).unwrap(), scan_bytes(&bytes[..cut], 0));
        }
    }

    #[test]
    fn frames_larger_than_a_chunk_scan_from_files() {
        let big = vec![7u8; CHUNK + 100];
        let records = vec![(1, b"k".to_vec(), vec![1; 10]), (2, b"k".to_vec(), big)];
        let (bytes, ends) = segment(0, &records);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(&path, &bytes).unwrap();
        let file = File::open(&path).unwrap();
        let scan = scan_file(&file, bytes.len() as u64, 0).unwrap();
        assert_eq!(
            (scan.end_offset, scan.valid_len, scan.stop),
            (2, ends[1], Stop::End)
        );
    }
}
