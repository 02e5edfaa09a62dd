//! The SQL benchmark: suites of queries run by weir and by DuckDB (Python's `duckdb` and
//! `pyarrow` packages) on the same Parquet files in the same run, answers compared value by value.
//!
//! ```text
//! cargo run --release -p weir-lake --example sql_bench -- [SUITES] [--dir DIR] [--runs N]
//!     [--rows N] [--sf F] [--h2o-rows N] [--query TEXT] [--sql STATEMENT]
//! ```
//!
//! SUITES: a comma-separated list of `clickstream` (`--rows`, default 10 000 000), `tpch`
//! (`--sf`, default 1) and `h2o` (groupby, `--h2o-rows`, default 10 000 000); default all three.
//! `--runs` timed runs per engine and query after a warm-up (default 5); `--query` keeps the
//! queries whose name contains TEXT; `--sql` runs one statement over the first suite's tables in
//! weir and prints it. Data is generated once per DIR and size, then reused.
//!
//! Tuning knobs for experiments: WEIR_SQL_PARTITIONS, WEIR_SQL_BATCH, WEIR_SQL_PUSHDOWN=0|1,
//! WEIR_SQL_SET="datafusion.a.b=v,…", WEIR_SQL_MEMORY (bytes).

mod bench;
mod clickstream;
mod compare;
mod h2o;
mod queries;
mod suite;
mod tpch;

use std::path::PathBuf;
use std::sync::Arc;

use weir_lake::sql::{MemoryCatalog, SessionOptions};

struct Args {
    suites: Vec<String>,
    dir: PathBuf,
    runs: usize,
    rows: usize,
    sf: f64,
    h2o_rows: usize,
    query: Option<String>,
    sql: Option<String>,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        suites: vec!["clickstream".into(), "tpch".into(), "h2o".into()],
        dir: std::env::temp_dir().join("weir-sql-bench"),
        runs: 5,
        rows: 10_000_000,
        sf: 1.0,
        h2o_rows: 10_000_000,
        query: None,
        sql: None,
    };
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        let mut value = || given.next().ok_or(format!("{arg} needs a value"));
        let number = |v: String| {
            v.parse::<f64>()
                .map_err(|_| format!("{arg}: not a number: {v}"))
        };
        match arg.as_str() {
            "--dir" => args.dir = PathBuf::from(value()?),
            "--runs" => args.runs = number(value()?)? as usize,
            "--rows" => args.rows = number(value()?)? as usize,
            "--sf" => args.sf = number(value()?)?,
            "--h2o-rows" => args.h2o_rows = number(value()?)? as usize,
            "--query" => args.query = Some(value()?),
            "--sql" => args.sql = Some(value()?),
            suites if !suites.starts_with('-') => {
                args.suites = suites.split(',').map(str::to_string).collect();
                if let Some(unknown) = args
                    .suites
                    .iter()
                    .find(|s| !["clickstream", "tpch", "h2o"].contains(&s.as_str()))
                {
                    return Err(format!("unknown suite {unknown} (clickstream, tpch, h2o)"));
                }
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(args)
}

/// The server's defaults (`[sql] memory_limit = "50%"` of the machine's memory, spilling to a
/// temporary directory) with the experiments' knobs applied.
fn options(dir: &std::path::Path) -> SessionOptions {
    let mut options = SessionOptions {
        memory_limit: half_the_memory(),
        spill_dir: Some(dir.join("spill")),
        ..SessionOptions::default()
    };
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
    if let Some(n) = env("WEIR_SQL_MEMORY") {
        options.memory_limit = Some(n);
    }
    if let Ok(settings) = std::env::var("WEIR_SQL_SET") {
        options.settings = settings
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
    }
    options
}

/// Half the machine's physical memory, from /proc/meminfo (Linux); `None` elsewhere.
fn half_the_memory() -> Option<usize> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: usize = info
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024 / 2)
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("benchmark failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let args = args()?;
    let lake_dir = args.dir.join("lake");
    std::fs::create_dir_all(&lake_dir).map_err(|e| format!("{}: {e}", lake_dir.display()))?;
    let mut duckdb = None;
    let mut reports = Vec::new();
    for name in &args.suites {
        let started = std::time::Instant::now();
        let mut suite = match name.as_str() {
            "clickstream" => bench::suite(&lake_dir, args.rows).await,
            "tpch" => tpch::suite(&lake_dir, args.sf).await,
            _ => h2o::suite(&lake_dir, args.h2o_rows).await,
        }
        .map_err(|e| e.to_string())?;
        eprintln!(
            "{}: data ready in {:.1}s",
            suite.title,
            started.elapsed().as_secs_f64()
        );
        if let Some(query) = &args.query {
            suite.queries.retain(|q| q.name.contains(query.as_str()));
        }
        let catalog = Arc::new(MemoryCatalog::new());
        suite::register(catalog.as_ref(), &lake_dir, &suite.tables)
            .await
            .map_err(|e| e.to_string())?;
        let engine =
            bench::engine(&lake_dir, catalog, options(&args.dir)).map_err(|e| e.to_string())?;
        if let Some(sql) = &args.sql {
            for _ in 0..args.runs.max(1) {
                match engine.execute(sql).await {
                    Ok(result) => {
                        println!("{}", result.to_table().unwrap_or_default());
                        println!("{} rows in {:?}", result.row_count, result.elapsed);
                    }
                    Err(e) => eprintln!("{e}"),
                }
            }
            return Ok(());
        }
        if duckdb.is_none() {
            let started = suite::DuckDb::start(&args.dir).await;
            if let Err(e) = &started {
                eprintln!("DuckDB not run: {e}");
            }
            duckdb = Some(started);
        }
        let report = suite::run_suite(
            &suite,
            &engine,
            duckdb.as_mut().and_then(|d| d.as_mut().ok()),
            &args.dir,
            &lake_dir,
            args.runs.max(1),
        )
        .await;
        print!("{}", report.text());
        println!();
        reports.push(report);
    }
    for report in &reports {
        let ratios = report.ratios();
        println!(
            "{:<40} median {:>5} worst {:>5}",
            report.title,
            suite::median(&ratios).map_or("-".into(), |m| format!("{m:.2}")),
            ratios.last().map_or("-".into(), |m| format!("{m:.2}")),
        );
    }
    Ok(())
}
