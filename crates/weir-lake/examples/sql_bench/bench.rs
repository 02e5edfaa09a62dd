//! The SQL benchmark (`cargo run --release -p weir-lake --example sql_bench`): about ten analytical queries over generated clickstream
//! data (10 million rows by default) in Hive-partitioned Parquet, run by weir and by DuckDB (the
//! `duckdb` package from PyPI) on the same files in the same run, with the ratio of their times.
//! Target: weir no slower than 1.5× DuckDB on any query, and as fast or faster on the median.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use datafusion::object_store::local::LocalFileSystem;
use serde::Serialize;

use weir_lake::catalog::{Column, Format, Partitioning, Table, TableFile, TableStats};
use weir_lake::sql::{CatalogAccess, MemoryCatalog, SessionOptions, SqlEngine, SqlError};

use crate::clickstream;
use crate::queries::QUERIES;

/// Days of data: one Hive partition (one file) each.
pub const DAYS: usize = 30;
const SEED: u64 = 20_240_101;
const DUCKDB_SCRIPT: &str = include_str!("duckdb.py");

/// One query's figures. Times are the median of `runs` runs after a warm-up, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct QueryFigure {
    pub name: String,
    pub weir_ms: f64,
    pub duckdb_ms: Option<f64>,
    /// weir's time over DuckDB's: below 1 means weir is faster.
    pub ratio: Option<f64>,
    pub rows: u64,
    /// Rows DuckDB returned, when it ran: a check that both answered the same question.
    pub duckdb_rows: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueryBenchmark {
    pub rows: usize,
    pub files: usize,
    pub bytes: u64,
    pub generate_seconds: f64,
    pub runs: usize,
    pub figures: Vec<QueryFigure>,
    pub median_ratio: Option<f64>,
    pub max_ratio: Option<f64>,
    /// DuckDB's version, or why it did not run.
    pub duckdb: String,
}

impl QueryBenchmark {
    /// The figures as a text table with the median and worst ratios.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "SQL benchmark: {} rows in {} Parquet files ({:.1} MiB), median of {} runs; DuckDB {}",
            self.rows,
            self.files,
            self.bytes as f64 / 1_048_576.0,
            self.runs,
            self.duckdb
        );
        let _ = writeln!(
            out,
            "{:<32} {:>10} {:>10} {:>7} {:>8}",
            "query", "weir ms", "duckdb ms", "ratio", "rows"
        );
        for f in &self.figures {
            let duck = f.duckdb_ms.map_or("-".to_string(), |d| format!("{d:.1}"));
            let ratio = f.ratio.map_or("-".to_string(), |r| format!("{r:.2}"));
            let rows = match f.duckdb_rows {
                Some(d) if d != f.rows => format!("{} (duckdb {d})", f.rows),
                _ => f.rows.to_string(),
            };
            let _ = writeln!(
                out,
                "{:<32} {:>10.1} {:>10} {:>7} {:>8}",
                f.name, f.weir_ms, duck, ratio, rows
            );
        }
        if let (Some(median), Some(max)) = (self.median_ratio, self.max_ratio) {
            let _ = writeln!(
                out,
                "median ratio {median:.2} (target ≤ 1.00), worst {max:.2} (target ≤ 1.50)"
            );
        }
        out
    }
}

/// Generates (or reuses) `rows` rows of clickstream under `dir/lake`, runs every query in weir
/// and in DuckDB `runs` times each with the given session options, and returns the figures.
pub async fn query_benchmark_with(
    dir: &Path,
    rows: usize,
    runs: usize,
    options: SessionOptions,
) -> Result<QueryBenchmark, SqlError> {
    let runs = runs.max(1);
    let lake_dir = dir.join("lake");
    let started = Instant::now();
    let files = generate(&lake_dir, rows).await?;
    let generate_seconds = started.elapsed().as_secs_f64();

    let catalog = Arc::new(MemoryCatalog::new());
    register(catalog.as_ref(), &files).await?;
    let engine = engine(&lake_dir, catalog, options)?;

    let mut figures = Vec::new();
    for query in &QUERIES {
        let (ms, count) = time_weir(&engine, query.sql, runs).await?;
        figures.push(QueryFigure {
            name: query.name.to_string(),
            weir_ms: ms,
            duckdb_ms: None,
            ratio: None,
            rows: count,
            duckdb_rows: None,
        });
    }

    let duckdb = match run_duckdb(dir, &lake_dir, runs).await {
        Ok((version, results)) => {
            for (figure, (ms, count)) in figures.iter_mut().zip(results) {
                figure.duckdb_ms = Some(ms);
                figure.duckdb_rows = Some(count);
                figure.ratio = (ms > 0.0).then(|| figure.weir_ms / ms);
            }
            version
        }
        Err(why) => format!("not run: {why}"),
    };
    let mut ratios: Vec<f64> = figures.iter().filter_map(|f| f.ratio).collect();
    ratios.sort_by(f64::total_cmp);
    let median_ratio = median(&ratios);
    let max_ratio = ratios.last().copied();
    Ok(QueryBenchmark {
        rows,
        files: files.iter().filter(|(_, f)| f.is_some()).count(),
        bytes: files
            .iter()
            .map(|(path, _)| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0))
            .sum(),
        generate_seconds,
        runs,
        figures,
        median_ratio,
        max_ratio,
        duckdb,
    })
}

/// Generates (or reuses) the data under `dir/lake` and opens an engine over it, with the
/// benchmark's tables registered: for running single queries while tuning.
pub async fn open(dir: &Path, rows: usize, options: SessionOptions) -> Result<SqlEngine, SqlError> {
    let lake_dir = dir.join("lake");
    let files = generate(&lake_dir, rows).await?;
    let catalog = Arc::new(MemoryCatalog::new());
    register(catalog.as_ref(), &files).await?;
    engine(&lake_dir, catalog, options)
}

/// A SQL engine over the local lake directory (as `weir server` sets one up).
pub fn engine(
    lake_dir: &Path,
    catalog: Arc<dyn CatalogAccess>,
    options: SessionOptions,
) -> Result<SqlEngine, SqlError> {
    let absolute = std::fs::canonicalize(lake_dir)
        .map_err(|e| SqlError::new(format!("{}: {e}", lake_dir.display())))?;
    let root = datafusion::object_store::path::Path::from_absolute_path(&absolute)
        .map_err(|e| SqlError::new(e.to_string()))?;
    SqlEngine::with_options(
        Arc::new(LocalFileSystem::new()),
        root.as_ref(),
        catalog,
        options,
    )
}

/// Runs `sql` once to warm up, then `runs` times; the median time in ms and the row count.
pub async fn time_weir(engine: &SqlEngine, sql: &str, runs: usize) -> Result<(f64, u64), SqlError> {
    let first = engine.execute(sql).await?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        engine.execute(sql).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((median(&times).unwrap_or(0.0), first.row_count))
}

fn median(sorted: &[f64]) -> Option<f64> {
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The generated files: their paths, and for each clicks file its day index (None for the
/// countries file). Reuses data generated earlier with the same row count.
async fn generate(lake_dir: &Path, rows: usize) -> Result<Vec<(PathBuf, Option<usize>)>, SqlError> {
    let marker = lake_dir.join("bench").join("generated.json");
    let wanted = format!("{{\"rows\":{rows},\"days\":{DAYS},\"seed\":{SEED}}}");
    let mut files: Vec<(PathBuf, Option<usize>)> = (0..DAYS)
        .map(|day| (day_file(lake_dir, day), Some(day)))
        .collect();
    files.push((countries_file(lake_dir), None));
    let fresh = std::fs::read_to_string(&marker).is_ok_and(|m| m == wanted)
        && files.iter().all(|(p, _)| p.exists());
    if fresh {
        return Ok(files);
    }
    let _ = std::fs::remove_dir_all(lake_dir.join("bench"));
    let per_day = rows / DAYS;
    let extra = rows % DAYS;
    // Days are independent: write them on all cores.
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..workers {
        let next = Arc::clone(&next);
        let lake_dir = lake_dir.to_path_buf();
        handles.push(tokio::task::spawn_blocking(
            move || -> Result<(), String> {
                loop {
                    let day = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if day >= DAYS {
                        return Ok(());
                    }
                    let n = per_day + usize::from(day < extra);
                    clickstream::write_day(&day_file(&lake_dir, day), day, n, SEED)?;
                }
            },
        ));
    }
    for handle in handles {
        handle
            .await
            .map_err(|e| SqlError::new(e.to_string()))?
            .map_err(SqlError::new)?;
    }
    clickstream::write_countries(&countries_file(lake_dir)).map_err(SqlError::new)?;
    std::fs::write(&marker, wanted).map_err(|e| SqlError::new(e.to_string()))?;
    Ok(files)
}

fn day_file(lake_dir: &Path, day: usize) -> PathBuf {
    let (_, date) = clickstream::day_start(day);
    lake_dir
        .join("bench/clicks")
        .join(format!("day={date}"))
        .join("part-00000.parquet")
}

fn countries_file(lake_dir: &Path) -> PathBuf {
    lake_dir.join("bench/countries/part-00000.parquet")
}

/// Registers `bench.clicks` (partitioned by `day`) and `bench.countries` with their manifests.
async fn register(
    catalog: &dyn CatalogAccess,
    files: &[(PathBuf, Option<usize>)],
) -> Result<(), SqlError> {
    let mut clicks = Vec::new();
    let mut countries = Vec::new();
    for (path, day) in files {
        let meta = std::fs::metadata(path).map_err(|e| SqlError::new(e.to_string()))?;
        let rows = datafusion::parquet::file::reader::SerializedFileReader::new(
            std::fs::File::open(path).map_err(|e| SqlError::new(e.to_string()))?,
        )
        .map(|r| {
            use datafusion::parquet::file::reader::FileReader;
            r.metadata().file_metadata().num_rows()
        })
        .ok();
        let key = match day {
            Some(day) => format!(
                "bench/clicks/day={}/part-00000.parquet",
                clickstream::day_start(*day).1
            ),
            None => "bench/countries/part-00000.parquet".to_string(),
        };
        let file = TableFile {
            key,
            size: meta.len() as i64,
            last_modified: 0,
            etag: None,
            partition_values: day
                .map(|d| vec![clickstream::day_start(d).1])
                .unwrap_or_default(),
            row_count: rows,
        };
        if day.is_some() {
            clicks.push(file);
        } else {
            countries.push(file);
        }
    }
    let column = |name: &str, data_type: &str, nullable| Column {
        name: name.to_string(),
        data_type: data_type.to_string(),
        nullable,
    };
    let table = |name: &str, columns, partitioning, files: &[TableFile]| Table {
        database: "bench".to_string(),
        name: name.to_string(),
        location: format!("bench/{name}"),
        format: Format::Parquet,
        columns,
        partitioning,
        stats: TableStats {
            row_count: files.iter().map(|f| f.row_count).sum(),
            size_bytes: files.iter().map(|f| f.size).sum(),
            file_count: files.len() as i64,
            last_modified: None,
        },
        created_at: 0,
        updated_at: 0,
    };
    let clicks_table = table(
        "clicks",
        weir_lake::sql::columns_of(clickstream::clicks_schema().fields()),
        Partitioning::Hive {
            columns: vec![column("day", "Date32", false)],
        },
        &clicks,
    );
    let countries_table = table(
        "countries",
        weir_lake::sql::columns_of(clickstream::countries_schema().fields()),
        Partitioning::None,
        &countries,
    );
    let catalog_error = |e| SqlError::new(format!("catalog: {e}"));
    catalog
        .replace_table(clicks_table, clicks)
        .await
        .map_err(catalog_error)?;
    catalog
        .replace_table(countries_table, countries)
        .await
        .map_err(catalog_error)?;
    Ok(())
}

/// Runs the queries in DuckDB through `python3`; per query, the median ms and the row count.
async fn run_duckdb(
    dir: &Path,
    lake_dir: &Path,
    runs: usize,
) -> Result<(String, Vec<(f64, u64)>), String> {
    let script = dir.join("duckdb_bench.py");
    std::fs::write(&script, DUCKDB_SCRIPT).map_err(|e| e.to_string())?;
    let queries: Vec<serde_json::Value> = QUERIES
        .iter()
        .map(|q| serde_json::json!({"name": q.name, "sql": q.sql}))
        .collect();
    let queries_path = dir.join("queries.json");
    std::fs::write(&queries_path, serde_json::Value::Array(queries).to_string())
        .map_err(|e| e.to_string())?;
    let lake = std::fs::canonicalize(lake_dir).map_err(|e| e.to_string())?;
    let output = tokio::process::Command::new("python3")
        .arg(&script)
        .arg(&queries_path)
        .arg(&lake)
        .arg(runs.to_string())
        .output()
        .await
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("").trim().to_string();
        return Err(if output.status.code() == Some(3) {
            "the duckdb Python package is missing (pip install duckdb)".to_string()
        } else {
            format!("python3 failed: {last}")
        });
    }
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("bad DuckDB report: {e}"))?;
    let version = report["version"].as_str().unwrap_or("?").to_string();
    let results = report["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|q| {
                    (
                        q["ms"].as_f64().unwrap_or(0.0),
                        q["rows"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((version, results))
}
