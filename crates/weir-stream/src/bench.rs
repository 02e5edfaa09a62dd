//! The in-process append benchmark `weir bench streams` runs: durable appends (group commit with
//! fsync) from concurrent writers into one stream, measured end to end.

use std::fmt;
use std::path::Path;

use crate::StreamError;

/// What a benchmark run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchFigures {
    pub records: u64,
    pub record_bytes: usize,
    pub writers: usize,
    pub shards: u32,
    pub seconds: f64,
    pub records_per_second: f64,
    pub megabytes_per_second: f64,
}

impl fmt::Display for BenchFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} records of {} B, {} writers, {} shards: {:.0} records/s, {:.1} MB/s ({:.2} s)",
            self.records,
            self.record_bytes,
            self.writers,
            self.shards,
            self.records_per_second,
            self.megabytes_per_second,
            self.seconds
        )
    }
}

/// Appends `records` records of `record_bytes` bytes through `writers` concurrent producers
/// (PutRecords of 500) into a fresh stream under `dir`, each put waiting for durability.
pub async fn bench_append(
    dir: &Path,
    record_bytes: usize,
    records: u64,
    writers: usize,
) -> Result<BenchFigures, StreamError> {
    let _ = (dir, record_bytes, records, writers);
    Err(StreamError::InvalidArgument("not implemented yet".into()))
}
