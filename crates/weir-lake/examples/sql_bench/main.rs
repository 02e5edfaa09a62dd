//! Runs the SQL benchmark: `cargo run --release -p weir-lake --example sql_bench -- [DIR] [ROWS]
//! [RUNS]` (defaults: a directory under the system's temp dir, 10 000 000 rows, 5 runs). Data is
//! generated once per DIR and ROWS, then reused.

mod bench;
mod clickstream;
mod queries;

use std::path::PathBuf;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("weir-sql-bench"));
    let rows = args
        .next()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10_000_000);
    let runs = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("{}: {e}", dir.display());
        std::process::exit(1);
    }
    // Tuning knobs for experiments: WEIR_SQL_PARTITIONS, WEIR_SQL_BATCH, WEIR_SQL_PUSHDOWN=0|1,
    // WEIR_SQL_SET.
    let mut options = weir_lake::sql::SessionOptions::default();
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
    };
    if let Some(n) = env("WEIR_SQL_PARTITIONS") {
        options.target_partitions = n;
    }
    if let Some(n) = env("WEIR_SQL_BATCH") {
        options.batch_size = n;
    }
    if let Some(n) = env("WEIR_SQL_PUSHDOWN") {
        options.parquet_pushdown_filters = n != 0;
    }
    // WEIR_SQL_SET="datafusion.a.b=v,…" sets DataFusion options.
    if let Ok(settings) = std::env::var("WEIR_SQL_SET") {
        options.settings = settings
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
    }
    // WEIR_SQL_QUERY=… runs one statement over the benchmark's tables and prints it.
    if let Ok(sql) = std::env::var("WEIR_SQL_QUERY") {
        let engine = match bench::open(&dir, rows, options).await {
            Ok(engine) => engine,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        for _ in 0..runs.max(1) {
            match engine.execute(&sql).await {
                Ok(result) => {
                    println!("{}", result.to_table().unwrap_or_default());
                    println!("{} rows in {:?}", result.row_count, result.elapsed);
                }
                Err(e) => eprintln!("{e}"),
            }
        }
        return;
    }
    match bench::query_benchmark_with(&dir, rows, runs, options).await {
        Ok(report) => {
            print!("{}", report.report());
            println!("(data generated in {:.1}s)", report.generate_seconds);
        }
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            std::process::exit(1);
        }
    }
}
