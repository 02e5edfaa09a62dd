//! Runs the append benchmark from the command line:
//! `cargo run --release -p weir-stream --example bench_append -- [RECORD_BYTES] [RECORDS] [WRITERS]`.

#[tokio::main]
async fn main() {
    let arg = |i: usize, default: u64| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (record_bytes, records, writers) = (arg(1, 100), arg(2, 2_000_000), arg(3, 8));
    let dir = tempfile::tempdir().expect("a temporary directory");
    match weir_stream::bench_append(dir.path(), record_bytes as usize, records, writers as usize)
        .await
    {
        Ok(figures) => println!("{figures}"),
        Err(error) => {
            eprintln!("benchmark failed: {error}");
            std::process::exit(1);
        }
    }
}
