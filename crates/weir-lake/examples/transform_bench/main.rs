//! The transforms benchmark: `cargo run --release -p weir-lake --example transform_bench --
//! [DIR] [ROWS]` (defaults: a directory under the system's temp dir, 10 000 000 rows); the same
//! as `weir bench transforms`. See `weir_lake::transform::bench`.

use std::path::PathBuf;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("weir-transform-bench"));
    let rows: usize = args
        .next()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10_000_000);
    match weir_lake::transform::bench::run(&dir, rows).await {
        Ok(report) => print!("{report}"),
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            std::process::exit(1);
        }
    }
}
