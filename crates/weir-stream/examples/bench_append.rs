//! Runs the streams benchmarks from the command line:
//! `cargo run --release -p weir-stream --example bench_append -- [RECORD_BYTES] [RECORDS] [WRITERS]`
//! (append throughput), then put-to-read latency for a tailing reader.

use std::time::Duration;

#[tokio::main]
async fn main() {
    let arg = |i: usize, default: u64| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (record_bytes, records, writers) = (arg(1, 100), arg(2, 2_000_000), arg(3, 32));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let appended =
        weir_stream::bench_append(dir.path(), record_bytes as usize, records, writers as usize)
            .await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let tailed =
        weir_stream::bench_tail_latency(dir.path(), 20_000, 10, Duration::from_millis(1)).await;
    match (appended, tailed) {
        (Ok(appended), Ok(tailed)) => println!("{appended}\n{tailed}"),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("benchmark failed: {error}");
            std::process::exit(1);
        }
    }
}
