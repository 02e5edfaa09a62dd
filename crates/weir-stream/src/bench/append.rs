//! Durable append throughput: concurrent producers into one stream, measured end to end, then
//! checked: every acknowledged record must be in the log.

use std::fmt;
use std::path::Path;
use std::time::Instant;

use bytes::Bytes;

use super::open_bench_stream;
use crate::{NewRecord, ShardId, StreamError, Streams};

/// Records per PutRecords call, AWS's most.
const BATCH: usize = 500;
/// Shards of the benchmark's stream (an on-demand stream's count).
const SHARDS: u32 = 4;

/// What a benchmark run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchFigures {
    pub records: u64,
    pub record_bytes: usize,
    pub writers: usize,
    pub shards: u32,
    pub seconds: f64,
    pub records_per_second: f64,
    /// Megabytes (10^6 bytes) of record data per second.
    pub megabytes_per_second: f64,
}

impl fmt::Display for BenchFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} records of {} B, {} writers, {} shards, fsync per batch: {:.0} records/s, {:.1} MB/s ({:.2} s)",
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
/// (PutRecords of 500, each waiting for durability) into a fresh stream under `dir` (a metadata
/// database and the log, both created there).
pub async fn bench_append(
    dir: &Path,
    record_bytes: usize,
    records: u64,
    writers: usize,
) -> Result<BenchFigures, StreamError> {
    let writers = writers.max(1);
    let streams = open_bench_stream(dir, SHARDS).await?;
    let data = Bytes::from(vec![b'x'; record_bytes]);
    let started = Instant::now();
    let mut producers = Vec::with_capacity(writers);
    for writer in 0..writers {
        let share =
            records / writers as u64 + u64::from((writer as u64) < records % writers as u64);
        let (streams, data) = (streams.clone(), data.clone());
        producers.push(tokio::spawn(async move {
            produce(&streams, writer, share, data).await
        }));
    }
    for producer in producers {
        producer
            .await
            .map_err(|e| StreamError::Io(std::io::Error::other(e.to_string())))??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut appended = 0;
    for shard in 0..SHARDS {
        appended += streams.start_offset(
            super::STREAM,
            ShardId(shard),
            crate::StartingPosition::Latest,
        )?;
    }
    if appended != records {
        return Err(StreamError::Io(std::io::Error::other(format!(
            "{records} records acknowledged but {appended} in the log"
        ))));
    }
    streams.delete_stream(super::STREAM, true).await?;
    Ok(BenchFigures {
        records,
        record_bytes,
        writers,
        shards: SHARDS,
        seconds,
        records_per_second: records as f64 / seconds,
        megabytes_per_second: (records as f64 * record_bytes as f64) / seconds / 1e6,
    })
}

/// One producer: `count` records in PutRecords of [`BATCH`], each put waiting for durability.
async fn produce(
    streams: &Streams,
    writer: usize,
    count: u64,
    data: Bytes,
) -> Result<(), StreamError> {
    let mut sent = 0u64;
    while sent < count {
        let size = (count - sent).min(BATCH as u64);
        let batch: Vec<NewRecord> = (sent..sent + size)
            .map(|i| NewRecord {
                partition_key: format!("{writer}-{i}"),
                explicit_hash_key: None,
                data: data.clone(),
            })
            .collect();
        for result in streams.put(super::STREAM, batch).await? {
            if let Err(failure) = result {
                return Err(StreamError::Io(std::io::Error::other(format!(
                    "{}: {}",
                    failure.error_code, failure.error_message
                ))));
            }
        }
        sent += size;
    }
    Ok(())
}
