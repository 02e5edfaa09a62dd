//! The clickstream suite: about ten analytical queries over generated clickstream data (10
//! million rows by default) in Hive-partitioned Parquet, and the engine the benchmark opens over
//! the lake directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::object_store::local::LocalFileSystem;

use weir_lake::sql::{CatalogAccess, SessionOptions, SqlEngine, SqlError};

use crate::clickstream;
use crate::queries::QUERIES;
use crate::suite::{Suite, SuiteQuery, SuiteTable};

/// Days of data: one Hive partition (one file) each.
pub const DAYS: usize = 30;
const SEED: u64 = 20_240_101;

/// Generates (or reuses) `rows` rows of clickstream under `lake_dir/bench/`.
pub async fn suite(lake_dir: &Path, rows: usize) -> Result<Suite, SqlError> {
    let files = generate(lake_dir, rows).await?;
    let relative = |path: &Path| {
        path.strip_prefix(lake_dir)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    };
    let clicks = files
        .iter()
        .filter_map(|(path, day)| day.map(|d| (relative(path), vec![clickstream::day_start(d).1])))
        .collect();
    let countries = files
        .iter()
        .filter(|(_, day)| day.is_none())
        .map(|(path, _)| (relative(path), Vec::new()))
        .collect();
    Ok(Suite {
        title: format!("clickstream {rows} rows"),
        tables: vec![
            SuiteTable {
                database: "bench".to_string(),
                name: "clicks".to_string(),
                schema: clickstream::clicks_schema(),
                files: clicks,
                partition_columns: vec![("day".to_string(), "Date32".to_string())],
            },
            SuiteTable {
                database: "bench".to_string(),
                name: "countries".to_string(),
                schema: clickstream::countries_schema(),
                files: countries,
                partition_columns: Vec::new(),
            },
        ],
        queries: QUERIES
            .iter()
            .map(|q| SuiteQuery {
                name: q.name.to_string(),
                sql: q.sql.to_string(),
                ordered: true,
            })
            .collect(),
    })
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
