//! The in-process benchmarks `weir bench streams` runs, on a fresh stream in a folder of its own
//! (a SQLite metadata database and the log): durable append throughput (`append.rs`) and
//! put-to-read latency for a tailing reader (`latency.rs`).

mod append;
mod latency;

use std::path::Path;
use std::sync::Arc;

pub use append::{BenchFigures, bench_append};
pub use latency::{LatencyFigures, bench_tail_latency};

use crate::{NewStream, StreamError, StreamMode, Streams, StreamsConfig};

/// The name of the benchmarks' stream.
const STREAM: &str = "bench";

/// Opens a metadata store and the streams service under `dir`, with a stream of `shards`.
async fn open_bench_stream(dir: &Path, shards: u32) -> Result<Streams, StreamError> {
    let store = weir_store::open(&format!("sqlite://{}/bench.db", dir.display())).await?;
    let committer = weir_store::Committer::start(Arc::clone(&store));
    let config = StreamsConfig::new(dir.join("streams"), "us-east-1", "000000000000");
    let streams = Streams::open(config, store, committer).await?;
    streams
        .create_stream(NewStream {
            name: STREAM.into(),
            mode: StreamMode::Provisioned,
            shard_count: Some(shards),
            tags: Vec::new(),
        })
        .await?;
    Ok(streams)
}
