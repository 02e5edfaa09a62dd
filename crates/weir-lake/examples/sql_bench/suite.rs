//! A suite of queries run by weir and by DuckDB on the same Parquet files in the same run,
//! interleaved (weir, DuckDB, weir, DuckDB…) so that load from elsewhere on the machine falls on
//! both alike. weir's result is streamed and rendered as the REST API renders it
//! (`execute_stream` then JSON lines, counted and dropped); DuckDB's is fetched as Arrow. The
//! warm-up run of each engine keeps its answer, and the two answers are compared value by value.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use weir_lake::catalog::{Column, Format, Partitioning, Table, TableFile, TableStats};
use weir_lake::sql::{
    CatalogAccess, ExportFormat, ExportPart, ResultStream, SqlEngine, SqlError, export,
};

const DUCKDB_SCRIPT: &str = include_str!("duckdb_session.py");

/// The database of tables queried by bare name: weir's default one, DuckDB's `main` schema.
pub const UNQUALIFIED: &str = weir_lake::sql::DEFAULT_DATABASE;

/// A suite: its tables and queries.
pub struct Suite {
    pub title: String,
    pub tables: Vec<SuiteTable>,
    pub queries: Vec<SuiteQuery>,
}

/// One query of a suite.
pub struct SuiteQuery {
    pub name: String,
    pub sql: String,
    /// Its ORDER BY orders every row: answers are compared in order, else sorted first.
    pub ordered: bool,
}

/// A table of a suite: registered in weir's catalog and as a DuckDB view over the same files.
pub struct SuiteTable {
    pub database: String,
    pub name: String,
    pub schema: datafusion::arrow::datatypes::SchemaRef,
    /// Files under the lake directory, with their Hive partition values.
    pub files: Vec<(String, Vec<String>)>,
    /// Hive partition columns (name, type), after the file's own columns.
    pub partition_columns: Vec<(String, String)>,
}

/// One query's figures: medians in milliseconds.
pub struct Figure {
    pub name: String,
    pub weir_ms: Option<f64>,
    pub duckdb_ms: Option<f64>,
    pub rows: Option<u64>,
    /// JSON lines bytes weir's result rendered to.
    pub bytes: u64,
    /// "ok", or what differed, or what failed.
    pub check: String,
}

impl Figure {
    pub fn ratio(&self) -> Option<f64> {
        match (self.weir_ms, self.duckdb_ms) {
            (Some(w), Some(d)) if d > 0.0 => Some(w / d),
            _ => None,
        }
    }
}

pub struct SuiteReport {
    pub title: String,
    pub duckdb: String,
    pub figures: Vec<Figure>,
}

impl SuiteReport {
    pub fn ratios(&self) -> Vec<f64> {
        let mut ratios: Vec<f64> = self.figures.iter().filter_map(Figure::ratio).collect();
        ratios.sort_by(f64::total_cmp);
        ratios
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} (DuckDB {})", self.title, self.duckdb);
        let _ = writeln!(
            out,
            "{:<34} {:>10} {:>10} {:>6} {:>9} {:>11}  answer",
            "query", "weir ms", "duckdb ms", "ratio", "rows", "JSON bytes"
        );
        let shown =
            |v: Option<f64>, places: usize| v.map_or("-".to_string(), |v| format!("{v:.places$}"));
        for f in &self.figures {
            let _ = writeln!(
                out,
                "{:<34} {:>10} {:>10} {:>6} {:>9} {:>11}  {}",
                f.name,
                shown(f.weir_ms, 1),
                shown(f.duckdb_ms, 1),
                shown(f.ratio(), 2),
                f.rows.map_or("-".to_string(), |r| r.to_string()),
                f.bytes,
                f.check
            );
        }
        let ratios = self.ratios();
        let matched = self.figures.iter().filter(|f| f.check == "ok").count();
        let _ = writeln!(
            out,
            "{}: median ratio {} (target ≤ 1.2), worst {} (target ≤ 2.0); {matched} of {} answers equal DuckDB's",
            self.title,
            shown(median(&ratios), 2),
            shown(ratios.last().copied(), 2),
            self.figures.len()
        );
        out
    }
}

pub fn median(sorted: &[f64]) -> Option<f64> {
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Registers the tables in weir's catalog (their manifests: every file, with its size and rows).
pub async fn register(
    catalog: &dyn CatalogAccess,
    lake_dir: &Path,
    tables: &[SuiteTable],
) -> Result<(), SqlError> {
    for spec in tables {
        let mut files = Vec::new();
        for (key, partition_values) in &spec.files {
            let path = lake_dir.join(key);
            let meta = std::fs::metadata(&path)
                .map_err(|e| SqlError::new(format!("{}: {e}", path.display())))?;
            files.push(TableFile {
                key: key.clone(),
                size: meta.len() as i64,
                last_modified: 0,
                etag: None,
                partition_values: partition_values.clone(),
                row_count: parquet_rows(&path),
            });
        }
        let partitioning = if spec.partition_columns.is_empty() {
            Partitioning::None
        } else {
            Partitioning::Hive {
                columns: spec
                    .partition_columns
                    .iter()
                    .map(|(name, data_type)| Column {
                        name: name.clone(),
                        data_type: data_type.clone(),
                        nullable: false,
                    })
                    .collect(),
            }
        };
        let table = Table {
            database: spec.database.clone(),
            name: spec.name.clone(),
            location: format!("{}/{}", spec.database, spec.name),
            format: Format::Parquet,
            columns: weir_lake::sql::columns_of(spec.schema.fields()),
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
        catalog
            .replace_table(table, files)
            .await
            .map_err(|e| SqlError::new(format!("catalog: {e}")))?;
    }
    Ok(())
}

fn parquet_rows(path: &Path) -> Option<i64> {
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    let file = std::fs::File::open(path).ok()?;
    let reader = SerializedFileReader::new(file).ok()?;
    Some(reader.metadata().file_metadata().num_rows())
}

/// DuckDB views over the same files.
fn duckdb_setup(lake_dir: &Path, tables: &[SuiteTable]) -> Vec<String> {
    let mut statements = Vec::new();
    let mut schemas: Vec<&str> = tables
        .iter()
        .map(|t| t.database.as_str())
        .filter(|d| *d != UNQUALIFIED)
        .collect();
    schemas.dedup();
    for schema in schemas {
        statements.push(format!("CREATE SCHEMA IF NOT EXISTS {schema}"));
    }
    for table in tables {
        let files: Vec<String> = table
            .files
            .iter()
            .map(|(key, _)| format!("'{}'", lake_dir.join(key).display()))
            .collect();
        let hive = if table.partition_columns.is_empty() {
            String::new()
        } else {
            ", hive_partitioning = true".to_string()
        };
        let name = if table.database == UNQUALIFIED {
            table.name.clone()
        } else {
            format!("{}.{}", table.database, table.name)
        };
        statements.push(format!(
            "CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet([{}]{hive})",
            files.join(", ")
        ));
    }
    statements
}

/// The DuckDB process of a run.
pub struct DuckDb {
    _child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    pub version: String,
}

impl DuckDb {
    /// Starts `python3` with the session script, or says why it could not.
    pub async fn start(work_dir: &Path) -> Result<DuckDb, String> {
        let script = work_dir.join("duckdb_session.py");
        std::fs::write(&script, DUCKDB_SCRIPT).map_err(|e| e.to_string())?;
        let mut child = tokio::process::Command::new("python3")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run python3: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("python3 without pipes".to_string());
        };
        Ok(DuckDb {
            _child: child,
            stdin,
            stdout: BufReader::new(stdout).lines(),
            version: String::new(),
        })
    }

    async fn request(&mut self, request: Value) -> Result<Value, String> {
        let mut line = request.to_string();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| format!("DuckDB process: {e}"))?;
        let answer = self
            .stdout
            .next_line()
            .await
            .map_err(|e| format!("DuckDB process: {e}"))?
            .ok_or("the DuckDB process ended (is the duckdb Python package installed? pip install duckdb pyarrow)")?;
        let answer: Value = serde_json::from_str(&answer).map_err(|e| e.to_string())?;
        match answer.get("error").and_then(Value::as_str) {
            Some(error) => Err(error.to_string()),
            None => Ok(answer),
        }
    }

    async fn setup(&mut self, lake_dir: &Path, tables: &[SuiteTable]) -> Result<(), String> {
        let answer = self
            .request(json!({"op": "setup", "sql": duckdb_setup(lake_dir, tables)}))
            .await?;
        self.version = answer["version"].as_str().unwrap_or("?").to_string();
        Ok(())
    }

    /// Runs `sql`; its time in ms and rows. With `save`, the answer is written there.
    async fn run(&mut self, sql: &str, save: Option<&Path>) -> Result<(f64, u64), String> {
        let answer = self
            .request(
                json!({"op": "run", "sql": sql, "save": save.map(|p| p.display().to_string())}),
            )
            .await?;
        Ok((
            answer["ms"].as_f64().unwrap_or(0.0),
            answer["rows"].as_u64().unwrap_or(0),
        ))
    }
}

/// What one weir run gives: ms, rows, JSON bytes, and the batches when kept.
struct WeirRun {
    ms: f64,
    rows: u64,
    bytes: u64,
    batches: Vec<RecordBatch>,
}

/// Runs `sql` in weir as the API's streamed export does (JSON lines), counting the bytes.
async fn run_weir(engine: &SqlEngine, sql: &str, keep: bool) -> Result<WeirRun, SqlError> {
    let started = Instant::now();
    let result = engine.execute_stream(sql).await?;
    let kept = Arc::new(Mutex::new(Vec::new()));
    let result = if keep {
        let sink = Arc::clone(&kept);
        ResultStream {
            schema: result.schema,
            batches: result
                .batches
                .inspect(move |batch| {
                    if let Ok(batch) = batch {
                        sink.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(batch.clone());
                    }
                })
                .boxed(),
        }
    } else {
        result
    };
    let mut parts = export(result, ExportFormat::JsonLines, None);
    let (mut bytes, mut rows) = (0u64, 0u64);
    while let Some(part) = parts.next().await {
        match part? {
            ExportPart::Bytes(b) => bytes += b.len() as u64,
            ExportPart::End { rows: r, .. } => rows = r,
        }
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let batches = std::mem::take(&mut *kept.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(WeirRun {
        ms,
        rows,
        bytes,
        batches,
    })
}

fn read_ipc(path: &Path) -> Result<Vec<RecordBatch>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let reader = datafusion::arrow::ipc::reader::FileReader::try_new(file, None)
        .map_err(|e| e.to_string())?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

/// Runs every query: a warm-up run of each engine whose
/// answers are compared, then `runs` timed runs, interleaved.
pub async fn run_suite(
    suite: &Suite,
    engine: &SqlEngine,
    duckdb: Option<&mut DuckDb>,
    work_dir: &Path,
    lake_dir: &Path,
    runs: usize,
) -> SuiteReport {
    let title = suite.title.clone();
    let mut duckdb = match duckdb {
        Some(d) => match d.setup(lake_dir, &suite.tables).await {
            Ok(()) => Ok(d),
            Err(e) => Err(e),
        },
        None => Err("not run".to_string()),
    };
    let version = match &duckdb {
        Ok(d) => d.version.clone(),
        Err(e) => format!("not run: {e}"),
    };
    let answer_path: PathBuf = work_dir.join("duckdb_answer.arrow");
    let mut figures = Vec::new();
    for query in &suite.queries {
        eprintln!("{title}: {}", query.name);
        let mut figure = Figure {
            name: query.name.clone(),
            weir_ms: None,
            duckdb_ms: None,
            rows: None,
            bytes: 0,
            check: String::new(),
        };
        let first = match run_weir(engine, &query.sql, true).await {
            Ok(run) => run,
            Err(e) => {
                figure.check = format!("weir failed: {}", e.to_string().replace('\n', " "));
                figures.push(figure);
                continue;
            }
        };
        figure.rows = Some(first.rows);
        figure.bytes = first.bytes;
        let duck = match duckdb.as_mut() {
            Ok(d) => d.run(&query.sql, Some(&answer_path)).await.map(|_| ()),
            Err(e) => Err(e.clone()),
        };
        figure.check = match duck.and_then(|()| read_ipc(&answer_path)) {
            Ok(answer) => match crate::compare::compare(&first.batches, &answer, query.ordered) {
                Ok(()) => "ok".to_string(),
                Err(difference) => format!("DIFFERS: {difference}"),
            },
            Err(e) => format!("DuckDB: {e}"),
        };
        drop(first);
        let _ = std::fs::remove_file(&answer_path);
        let mut weir_times = Vec::new();
        let mut duckdb_times = Vec::new();
        for _ in 0..runs {
            match run_weir(engine, &query.sql, false).await {
                Ok(run) => weir_times.push(run.ms),
                Err(e) => figure.check = format!("weir failed: {e}"),
            }
            if let Ok(d) = duckdb.as_mut()
                && let Ok((ms, _)) = d.run(&query.sql, None).await
            {
                duckdb_times.push(ms);
            }
        }
        weir_times.sort_by(f64::total_cmp);
        duckdb_times.sort_by(f64::total_cmp);
        figure.weir_ms = median(&weir_times);
        figure.duckdb_ms = median(&duckdb_times);
        figures.push(figure);
    }
    SuiteReport {
        title,
        duckdb: version,
        figures,
    }
}
