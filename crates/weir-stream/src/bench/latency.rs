//! Put-to-read latency for a tailing reader: one producer puts small batches at a steady pace,
//! each record carrying the moment its put began; a reader waits on the shard's watch and reads
//! what became durable. A record's latency is from the start of its put to its read, which is
//! what a consumer of a live stream sees (the fsync included).

use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{STREAM, open_bench_stream};
use crate::{NewRecord, ShardId, StreamError};

/// What a latency run measured, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyFigures {
    pub records: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl fmt::Display for LatencyFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "put to read by a tailing reader, {} records: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.records, self.p50_ms, self.p99_ms, self.max_ms
        )
    }
}

/// Puts `records` records of 100 bytes in batches of `batch`, one batch every `pace`, and
/// measures how long each takes to reach a reader tailing the shard.
pub async fn bench_tail_latency(
    dir: &Path,
    records: u64,
    batch: usize,
    pace: Duration,
) -> Result<LatencyFigures, StreamError> {
    let streams = open_bench_stream(dir, 1).await?;
    let started = Instant::now();
    let reader = {
        let streams = streams.clone();
        let mut watch = streams.watch(STREAM, ShardId(0))?;
        tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(records as usize);
            let mut offset = 0;
            while offset < records {
                if watch.changed().await.is_err() {
                    break;
                }
                let read = streams.read(STREAM, ShardId(0), offset, 10_000, 10 << 20)?;
                let now = started.elapsed();
                for record in &read.records {
                    let mut sent = [0; 8];
                    sent.copy_from_slice(record.data.get(..8).unwrap_or(&[0; 8]));
                    let sent = Duration::from_nanos(u64::from_le_bytes(sent));
                    latencies.push(now.saturating_sub(sent));
                }
                offset = read.next_offset;
            }
            Ok::<_, StreamError>(latencies)
        })
    };
    let mut sent = 0u64;
    let mut ticks = tokio::time::interval(pace);
    while sent < records {
        ticks.tick().await;
        let size = (records - sent).min(batch.max(1) as u64);
        let at = started.elapsed().as_nanos() as u64;
        let mut data = at.to_le_bytes().to_vec();
        data.resize(100, b'x');
        let data = Bytes::from(data);
        let batch = (0..size)
            .map(|i| NewRecord {
                partition_key: format!("{}", sent + i),
                explicit_hash_key: None,
                data: data.clone(),
            })
            .collect();
        streams.put(STREAM, batch).await?;
        sent += size;
    }
    let mut latencies = reader
        .await
        .map_err(|e| StreamError::Io(std::io::Error::other(e.to_string())))??;
    streams.delete_stream(STREAM, true).await?;
    latencies.sort();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(LatencyFigures {
        records: latencies.len() as u64,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: at(1.0),
    })
}
