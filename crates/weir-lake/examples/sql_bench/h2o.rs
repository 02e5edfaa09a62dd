//! The H2O.ai db-benchmark's groupby task: its table G1 (`G1_1e7_1e2_0_0`: N rows, K = 100,
//! no missing values, unsorted) generated with the distributions of its generator
//! (`groupby-datagen.R`), written as Parquet with weir's writer settings, and its ten questions.
//!
//! - id1, id2: `sprintf("id%03d", sample(K))`, K groups (large groups, strings)
//! - id3: `sprintf("id%010d", sample(N/K))`, N/K groups (small groups, strings)
//! - id4, id5: `sample(K)`; id6: `sample(N/K)` (integers)
//! - v1: `sample(5)`; v2: `sample(15)`; v3: `round(runif(100), 6)`

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Builder, Int64Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::parquet::arrow::ArrowWriter;
use weir_lake::sql::{ROW_GROUP_ROWS, SqlError, writer_properties};

use crate::suite::{Suite, SuiteQuery, SuiteTable, UNQUALIFIED};

const K: u64 = 100;
const SEED: u64 = 108;
const BATCH: usize = 65_536;
/// weir's writer starts a new file after this many rows.
const FILE_ROWS: usize = 8 * ROW_GROUP_ROWS;

fn schema() -> SchemaRef {
    let string = |name: &str| Field::new(name, DataType::Utf8, false);
    let int = |name: &str| Field::new(name, DataType::Int64, false);
    Arc::new(Schema::new(vec![
        string("id1"),
        string("id2"),
        string("id3"),
        int("id4"),
        int("id5"),
        int("id6"),
        int("v1"),
        int("v2"),
        Field::new("v3", DataType::Float64, false),
    ]))
}

/// Generates (or reuses) G1 with `rows` rows under `lake_dir/h2o/`.
pub async fn suite(lake_dir: &Path, rows: usize) -> Result<Suite, SqlError> {
    let prefix = format!("h2o/g1_{rows}");
    let dir = lake_dir.join(&prefix).join("x");
    let marker = lake_dir.join(&prefix).join("generated");
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(lake_dir.join(&prefix));
        let target = dir.clone();
        tokio::task::spawn_blocking(move || write_g1(&target, rows))
            .await
            .map_err(|e| SqlError::new(e.to_string()))?
            .map_err(SqlError::new)?;
        std::fs::write(&marker, "").map_err(|e| SqlError::new(e.to_string()))?;
    }
    let mut files: Vec<(String, Vec<String>)> = std::fs::read_dir(&dir)
        .map_err(|e| SqlError::new(format!("{}: {e}", dir.display())))?
        .filter_map(|entry| entry.ok())
        .map(|entry| {
            (
                format!("{prefix}/x/{}", entry.file_name().to_string_lossy()),
                Vec::new(),
            )
        })
        .collect();
    files.sort();
    Ok(Suite {
        title: format!("H2O groupby G1 {rows} rows, K=100"),
        tables: vec![SuiteTable {
            database: UNQUALIFIED.to_string(),
            name: "x".to_string(),
            schema: schema(),
            files,
            partition_columns: Vec::new(),
        }],
        queries: queries(),
    })
}

fn write_g1(dir: &Path, rows: usize) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let schema = schema();
    let properties = writer_properties(&schema);
    let open = |n: usize| -> Result<ArrowWriter<File>, String> {
        let path = dir.join(format!("part-{n:05}.parquet"));
        let file = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        ArrowWriter::try_new(file, schema.clone(), Some(properties.clone()))
            .map_err(|e| e.to_string())
    };
    let small_groups = (rows as u64 / K).max(1);
    let large: Vec<String> = (1..=K).map(|i| format!("id{i:03}")).collect();
    let mut rng = fastrand::Rng::with_seed(SEED);
    let (mut files, mut in_file, mut done) = (0, 0, 0);
    let mut writer = open(files)?;
    while done < rows {
        let n = BATCH.min(rows - done);
        if in_file + n > FILE_ROWS {
            writer.close().map_err(|e| e.to_string())?;
            files += 1;
            writer = open(files)?;
            in_file = 0;
        }
        let mut id1 = StringBuilder::with_capacity(n, n * 5);
        let mut id2 = StringBuilder::with_capacity(n, n * 5);
        let mut id3 = StringBuilder::with_capacity(n, n * 12);
        let mut ints: Vec<Int64Builder> = (0..5).map(|_| Int64Builder::with_capacity(n)).collect();
        let mut v3 = Float64Builder::with_capacity(n);
        for _ in 0..n {
            id1.append_value(&large[rng.usize(..large.len())]);
            id2.append_value(&large[rng.usize(..large.len())]);
            id3.append_value(format!("id{:010}", rng.u64(1..=small_groups)));
            ints[0].append_value(rng.i64(1..=K as i64));
            ints[1].append_value(rng.i64(1..=K as i64));
            ints[2].append_value(rng.i64(1..=small_groups as i64));
            ints[3].append_value(rng.i64(1..=5));
            ints[4].append_value(rng.i64(1..=15));
            v3.append_value((rng.f64() * 100.0 * 1e6).round() / 1e6);
        }
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(id1.finish()),
            Arc::new(id2.finish()),
            Arc::new(id3.finish()),
        ];
        columns.extend(ints.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        columns.push(Arc::new(v3.finish()));
        let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())?;
        writer.write(&batch).map_err(|e| e.to_string())?;
        in_file += n;
        done += n;
    }
    writer.close().map_err(|e| e.to_string())?;
    Ok(())
}

/// The ten groupby questions as the db-benchmark asks them in SQL (none orders its rows).
fn queries() -> Vec<SuiteQuery> {
    [
        (
            "q1 sum v1 by id1",
            "SELECT id1, sum(v1) AS v1 FROM x GROUP BY id1",
        ),
        (
            "q2 sum v1 by id1:id2",
            "SELECT id1, id2, sum(v1) AS v1 FROM x GROUP BY id1, id2",
        ),
        (
            "q3 sum v1 mean v3 by id3",
            "SELECT id3, sum(v1) AS v1, avg(v3) AS v3 FROM x GROUP BY id3",
        ),
        (
            "q4 mean v1:v3 by id4",
            "SELECT id4, avg(v1) AS v1, avg(v2) AS v2, avg(v3) AS v3 FROM x GROUP BY id4",
        ),
        (
            "q5 sum v1:v3 by id6",
            "SELECT id6, sum(v1) AS v1, sum(v2) AS v2, sum(v3) AS v3 FROM x GROUP BY id6",
        ),
        (
            "q6 median v3 sd v3 by id4 id5",
            "SELECT id4, id5, median(v3) AS median_v3, stddev(v3) AS sd_v3 FROM x \
             GROUP BY id4, id5",
        ),
        (
            "q7 max v1 - min v2 by id3",
            "SELECT id3, max(v1) - min(v2) AS range_v1_v2 FROM x GROUP BY id3",
        ),
        (
            "q8 largest two v3 by id6",
            "SELECT id6, largest2_v3 FROM (SELECT id6, v3 AS largest2_v3, \
             row_number() OVER (PARTITION BY id6 ORDER BY v3 DESC) AS order_v3 \
             FROM x WHERE v3 IS NOT NULL) sub_query WHERE order_v3 <= 2",
        ),
        (
            "q9 regression v1 v2 by id2 id4",
            "SELECT id2, id4, power(corr(v1, v2), 2) AS r2 FROM x GROUP BY id2, id4",
        ),
        (
            "q10 sum v3 count by id1:id6",
            "SELECT id1, id2, id3, id4, id5, id6, sum(v3) AS v3, count(*) AS count FROM x \
             GROUP BY id1, id2, id3, id4, id5, id6",
        ),
    ]
    .into_iter()
    .map(|(name, sql)| SuiteQuery {
        name: name.to_string(),
        sql: sql.to_string(),
        ordered: false,
    })
    .collect()
}
