//! The transforms benchmark (`weir bench transforms`, or the weir-lake example
//! `transform_bench`): generates ROWS orders as Parquet (once per directory and ROWS), runs the
//! representative recipe (filter, derive, mask (a salted hash), validate with a quarantine,
//! dedupe, a day-partitioned Parquet sink) through the transform runner, then DuckDB (the
//! `duckdb` Python package) on the same files with the equivalent SQL (`COPY (…) TO … (FORMAT
//! parquet, PARTITION_BY (day))`), in the same run, and reports rows per second for both and the
//! ratio.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use weir_model::problem::Pos;
use weir_model::sql_tables::TableName;
use weir_model::transform::*;

use super::Transforms;
use crate::catalog::{Format, Partitioning, Table, TableFile, TableStats};
use crate::{Catalog, Lake};

const FILE_ROWS: usize = 1_000_000;
const BATCH: usize = 65_536;
const COUNTRIES: [&str; 6] = ["DE", "FR", "US", "GB", "ES", "XX"];

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("customer", DataType::Utf8, false),
        Field::new("email", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, false),
        Field::new("country", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new(
            "updated_at",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("day", DataType::Date32, false),
    ]))
}

/// One file of orders: ids mostly new (2% repeat an earlier one, 0.1% null), 5% non-positive
/// amounts, 3% `test` orders, 1% unknown countries, 30 days.
fn write_file(path: &Path, first: usize, rows: usize, seed: u64) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let schema = schema();
    let props = crate::sql::writer_properties(&schema);
    let mut writer =
        ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| e.to_string())?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut done = 0;
    while done < rows {
        let n = BATCH.min(rows - done);
        let mut id = Vec::with_capacity(n);
        let mut customer = Vec::with_capacity(n);
        let mut email = Vec::with_capacity(n);
        let mut amount = Vec::with_capacity(n);
        let mut country = Vec::with_capacity(n);
        let mut status = Vec::with_capacity(n);
        let mut updated = Vec::with_capacity(n);
        let mut day = Vec::with_capacity(n);
        for i in 0..n {
            let row = first + done + i;
            let roll = rng.u32(..1000);
            id.push(match roll {
                0 => None,
                1..=20 if row > 0 => Some(rng.u64(..row as u64) as i64),
                _ => Some(row as i64),
            });
            let c = rng.u32(..200_000);
            customer.push(format!("c{c}"));
            email.push(format!("c{c}@example.org"));
            amount.push(if rng.u32(..100) < 5 {
                -rng.f64() * 50.0
            } else {
                (rng.f64() * 1000.0 * 100.0).round() / 100.0
            });
            country.push(if rng.u32(..100) == 0 {
                COUNTRIES[5]
            } else {
                COUNTRIES[rng.usize(..5)]
            });
            status.push(if rng.u32(..100) < 3 { "test" } else { "ok" });
            let d = rng.i32(0..30);
            day.push(19_723 + d);
            updated.push((19_723 + d as i64) * 86_400_000_000 + rng.i64(0..86_400_000_000));
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(id)),
            Arc::new(StringArray::from(customer)),
            Arc::new(StringArray::from(email)),
            Arc::new(Float64Array::from(amount)),
            Arc::new(StringArray::from(country)),
            Arc::new(StringArray::from(status)),
            Arc::new(TimestampMicrosecondArray::from(updated)),
            Arc::new(Date32Array::from(day)),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())?;
        writer.write(&batch).map_err(|e| e.to_string())?;
        done += n;
    }
    writer.close().map_err(|e| e.to_string())?;
    Ok(())
}

fn at<T>(value: T) -> At<T> {
    At {
        value,
        pos: Pos::START,
    }
}

fn expr(text: &str) -> SqlExpr {
    SqlExpr {
        text: text.into(),
        pos: Pos::START,
        line_starts: Vec::new(),
    }
}

/// The representative recipe.
fn recipe() -> Recipe {
    let rule = |column: &str, check: Check| Rule {
        pos: Pos::START,
        column: at(column.to_string()),
        check,
    };
    let step = |kind| Step {
        pos: Pos::START,
        kind,
    };
    Recipe {
        name: "bench".into(),
        file: "transforms/bench.yaml".into(),
        description: None,
        source: Source::Table(at(TableName::new("raw", "orders"))),
        bookmark: None,
        steps: vec![
            step(StepKind::Filter(expr("amount > 0 AND status <> 'test'"))),
            step(StepKind::Derive(vec![(
                at("amount_eur".into()),
                expr("amount * 0.92"),
            )])),
            step(StepKind::Mask(vec![Mask {
                column: at("email".into()),
                method: MaskMethod::Hash {
                    salt_secret: Some(at(SALT_SECRET.into())),
                },
            }])),
            step(StepKind::Validate(Validate {
                rules: vec![
                    rule("id", Check::NotNull),
                    rule(
                        "amount",
                        Check::Range {
                            min: Some("0".into()),
                            max: Some("100000".into()),
                        },
                    ),
                    rule(
                        "country",
                        Check::Allowed(COUNTRIES[..5].iter().map(|c| c.to_string()).collect()),
                    ),
                ],
                on_failure: OnFailure::Quarantine(at(TableName::new(
                    "curated",
                    "orders_quarantine",
                ))),
            })),
            step(StepKind::Dedupe {
                keys: vec![at("id".into())],
                order_by: Some(at("updated_at".into())),
                latest: true,
            }),
        ],
        sink: Sink::Table(TableSink {
            table: at(TableName::new("curated", "orders")),
            mode: WriteMode::Overwrite,
            partition_by: vec![at("day".into())],
            compression: Compression::Snappy,
        }),
    }
}

/// The mask's salt: a secret's name, and the value the benchmark gives it.
const SALT_SECRET: &str = "bench_salt";
const SALT: &str = "pepper";

const DUCKDB: &str = r#"
import sys, time, duckdb
lake, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
# Its progress bar would go to stdout, where the figures are read from.
con.execute("SET enable_progress_bar = false")
checked = f"""
  src AS (SELECT * REPLACE (sha256('pepper' || email) AS email), amount * 0.92 AS amount_eur
          FROM read_parquet('{lake}/raw/orders/*.parquet')
          WHERE amount > 0 AND status <> 'test'),
  checked AS (SELECT *, CASE WHEN id IS NULL THEN 'id not_null'
                             WHEN amount < 0 OR amount > 100000 THEN 'amount range [0, 100000]'
                             WHEN CAST(country AS VARCHAR) NOT IN ('DE', 'FR', 'US', 'GB', 'ES')
                               THEN 'country allowed [DE, FR, US, GB, ES]' END AS _rule
              FROM src)"""
start = time.perf_counter()
con.execute(f"""COPY (WITH {checked}
  SELECT * EXCLUDE (_rule) FROM checked WHERE _rule IS NULL
  QUALIFY row_number() OVER (PARTITION BY id ORDER BY updated_at DESC) = 1)
  TO '{out}/orders' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (day), OVERWRITE_OR_IGNORE)""")
con.execute(f"""COPY (WITH {checked}
  SELECT *, now() AS _failed_at FROM checked WHERE _rule IS NOT NULL)
  TO '{out}/quarantine.parquet' (FORMAT parquet, COMPRESSION snappy)""")
elapsed = time.perf_counter() - start
rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}/orders/**/*.parquet')").fetchone()[0]
print(f"{elapsed} {rows} {duckdb.__version__}")
"#;

/// A fingerprint of each output folder given, read by DuckDB the same way for both engines: its
/// row count and a sum of its rows' hashes, so the outputs are compared value by value.
const FINGERPRINT: &str = r#"
import sys, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
for path in sys.argv[1:]:
    n, h = con.execute(f"""SELECT count(*), sum(hash(id, email, amount_eur, CAST(day AS VARCHAR)) % 1000000007)
        FROM read_parquet('{path}/**/*.parquet', hive_partitioning = true)""").fetchone()
    print(n, h)
"#;

/// Runs the benchmark in `dir` over `rows` generated rows; returns the report to print.
pub async fn run(dir: &Path, rows: usize) -> Result<String, String> {
    let mut out = String::new();
    let lake_dir = dir.join(format!("lake-{rows}"));
    let source = lake_dir.join("raw/orders");
    let marker = source.join("_done");
    if !marker.exists() {
        let started = Instant::now();
        std::fs::create_dir_all(&source).map_err(|e| e.to_string())?;
        let files = rows.div_ceil(FILE_ROWS);
        for f in 0..files {
            let n = FILE_ROWS.min(rows - f * FILE_ROWS);
            write_file(
                &source.join(format!("part-{f:03}.parquet")),
                f * FILE_ROWS,
                n,
                f as u64 + 1,
            )?;
        }
        std::fs::write(&marker, b"").map_err(|e| e.to_string())?;
        let _ = writeln!(
            out,
            "generated {rows} rows in {files} files in {:.1}s",
            started.elapsed().as_secs_f64()
        );
    }
    // A fresh catalog (and sink) each run, over the same source files.
    for old in ["curated", "weir.db", "weir.db-wal", "weir.db-shm"] {
        let path = lake_dir.join(old);
        let _ = std::fs::remove_dir_all(&path);
        let _ = std::fs::remove_file(&path);
    }
    let store = weir_store::open(&format!("sqlite://{}/weir.db", lake_dir.display()))
        .await
        .map_err(|e| e.to_string())?;
    let lake = Arc::new(Lake::open_local(&lake_dir).map_err(|e| e.to_string())?);
    let catalog = Catalog::new(store);
    let mut files = Vec::new();
    for object in lake.list("raw/orders").await.map_err(|e| e.to_string())? {
        if object.key.ends_with(".parquet") {
            files.push(TableFile {
                key: object.key,
                size: object.size as i64,
                last_modified: object.last_modified,
                etag: object.etag,
                partition_values: Vec::new(),
                row_count: None,
            });
        }
    }
    catalog
        .create_database("raw", None)
        .await
        .map_err(|e| e.to_string())?;
    let fields: Vec<_> = schema().fields().iter().cloned().collect();
    catalog
        .create_table_with_files(
            Table {
                database: "raw".into(),
                name: "orders".into(),
                location: "raw/orders".into(),
                format: Format::Parquet,
                columns: crate::sql::columns_of(&fields),
                partitioning: Partitioning::None,
                stats: TableStats::default(),
                created_at: 0,
                updated_at: 0,
            },
            files,
        )
        .await
        .map_err(|e| e.to_string())?;
    let sql = Arc::new(
        crate::sql::SqlEngine::for_lake(lake.clone(), Arc::new(catalog.clone()))
            .map_err(|e| e.to_string())?,
    );
    let transforms = Transforms::new(sql, catalog, lake);
    let salts = |name: &str| {
        if name == SALT_SECRET {
            Ok(SALT.to_string())
        } else {
            Err(format!("no secret {name}"))
        }
    };
    let mut log = Vec::new();
    let started = Instant::now();
    let report = transforms
        .run(&recipe(), "bench", &salts, &mut log)
        .await
        .map_err(|e| e.to_string())?;
    let weir_seconds = started.elapsed().as_secs_f64();

    let duck_dir = dir.join("duckdb-out");
    let _ = std::fs::remove_dir_all(&duck_dir);
    std::fs::create_dir_all(&duck_dir).map_err(|e| e.to_string())?;
    let duck = std::process::Command::new("python3")
        .arg("-c")
        .arg(DUCKDB)
        .arg(&lake_dir)
        .arg(&duck_dir)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !duck.status.success() {
        return Err(format!(
            "DuckDB failed: {}",
            String::from_utf8_lossy(&duck.stderr)
        ));
    }
    let answer = String::from_utf8_lossy(&duck.stdout).to_string();
    // The figures are the last line (anything DuckDB printed before it is not ours).
    let mut parts = answer.lines().last().unwrap_or_default().split_whitespace();
    let duck_seconds: f64 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    let duck_rows: u64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let version = parts.next().unwrap_or("?");

    let rate = |seconds: f64| rows as f64 / seconds;
    let _ = writeln!(
        out,
        "transform benchmark: {rows} source rows (filter, derive, mask, validate + quarantine, dedupe, Parquet partitioned by day)"
    );
    let _ = writeln!(
        out,
        "  weir    {:>7.2}s  {:>12.0} rows/s  ({} out, {} quarantined, {} files)",
        weir_seconds,
        rate(weir_seconds),
        report.rows_out,
        report.rows_quarantined,
        report.files
    );
    let _ = writeln!(
        out,
        "  DuckDB  {:>7.2}s  {:>12.0} rows/s  ({duck_rows} out; duckdb {version})",
        duck_seconds,
        rate(duck_seconds)
    );
    let _ = writeln!(
        out,
        "  ratio (weir time / DuckDB time): {:.2}",
        weir_seconds / duck_seconds
    );
    if duck_rows != report.rows_out {
        let _ = writeln!(
            out,
            "  WARNING: the outputs differ in rows ({} vs {duck_rows})",
            report.rows_out
        );
    }
    let fingerprints = std::process::Command::new("python3")
        .arg("-c")
        .arg(FINGERPRINT)
        .arg(lake_dir.join("curated/orders"))
        .arg(duck_dir.join("orders"))
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    let text = String::from_utf8_lossy(&fingerprints.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    match lines.as_slice() {
        [weir, duck] if fingerprints.status.success() && weir == duck => {
            let _ = writeln!(
                out,
                "  outputs equal value by value (rows and hash sum {weir})"
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "  WARNING: the outputs differ: weir {:?}, DuckDB {:?} {}",
                lines.first(),
                lines.get(1),
                String::from_utf8_lossy(&fingerprints.stderr)
            );
        }
    }
    Ok(out)
}
