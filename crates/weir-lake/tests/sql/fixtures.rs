//! A temporary lake (LocalFileSystem rooted at `/`, the lake at a temp dir, as `Lake` sets it
//! up), the in-memory catalog, and helpers to put files and tables in them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::RecordBatch;
use datafusion::object_store::local::LocalFileSystem;
use datafusion::parquet::arrow::ArrowWriter;
use weir_lake::catalog::{Column, Format, Partitioning, Table, TableFile, TableStats};
use weir_lake::sql::{CatalogAccess, MemoryCatalog, ObjectCreated, SessionOptions, SqlEngine};

pub struct TestLake {
    pub dir: tempfile::TempDir,
    pub catalog: Arc<MemoryCatalog>,
    pub engine: Arc<SqlEngine>,
    pub events: Arc<Mutex<Vec<ObjectCreated>>>,
}

pub fn lake() -> TestLake {
    lake_with(SessionOptions::default())
}

/// [`lake`] with the SQL session tuned.
pub fn lake_with(options: SessionOptions) -> TestLake {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical temp dir");
    let root = datafusion::object_store::path::Path::from_absolute_path(&root).expect("root");
    let catalog = Arc::new(MemoryCatalog::new());
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let engine = SqlEngine::with_options(
        Arc::new(LocalFileSystem::new()),
        root.as_ref(),
        Arc::clone(&catalog) as Arc<dyn CatalogAccess>,
        options,
    )
    .expect("engine")
    .with_listener(Arc::new(move |e| sink.lock().expect("events").push(e)));
    let engine = Arc::new(engine);
    TestLake {
        dir,
        catalog,
        engine,
        events,
    }
}

impl TestLake {
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.path().join(key)
    }

    /// Writes `text` at lake key `key`; returns its manifest entry.
    pub fn put(&self, key: &str, text: &str, partition_values: &[&str]) -> TableFile {
        let path = self.path(key);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
        entry(key, &path, partition_values, None)
    }

    /// Writes `batch` as Parquet at lake key `key`.
    pub fn put_parquet(
        &self,
        key: &str,
        batch: &RecordBatch,
        partition_values: &[&str],
    ) -> TableFile {
        self.put_parquet_with(key, batch, partition_values, None)
    }

    /// [`TestLake::put_parquet`] with the writer's properties given.
    pub fn put_parquet_with(
        &self,
        key: &str,
        batch: &RecordBatch,
        partition_values: &[&str],
        properties: Option<datafusion::parquet::file::properties::WriterProperties>,
    ) -> TableFile {
        let path = self.path(key);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let file = std::fs::File::create(&path).expect("create");
        let mut writer = ArrowWriter::try_new(file, batch.schema(), properties).expect("writer");
        writer.write(batch).expect("write batch");
        writer.close().expect("close");
        entry(key, &path, partition_values, Some(batch.num_rows() as i64))
    }

    pub async fn register(&self, table: Table, files: Vec<TableFile>) {
        self.catalog
            .create_table(table, files)
            .await
            .expect("register table");
    }

    pub async fn rows(&self, sql: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
        match self.engine.execute(sql).await {
            Ok(result) => result.to_json_rows(),
            Err(e) => panic!("{sql}: {e}"),
        }
    }

    /// The rows of `sql` as JSON objects, sorted, so answers compare regardless of row order.
    pub async fn sorted_rows(&self, sql: &str) -> Vec<String> {
        let mut rows: Vec<String> = self
            .rows(sql)
            .await
            .into_iter()
            .map(|r| serde_json::Value::Object(r).to_string())
            .collect();
        rows.sort();
        rows
    }

    /// What `EXPLAIN` says about `sql`: the logical and the physical plan, as one text.
    pub async fn explain(&self, sql: &str) -> String {
        self.rows(&format!("EXPLAIN {sql}"))
            .await
            .iter()
            .filter_map(|r| r.get("plan").and_then(serde_json::Value::as_str))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Every file under the lake directory `prefix`, relative to the lake.
    pub fn files_under(&self, prefix: &str) -> Vec<String> {
        let mut found = Vec::new();
        walk(&self.path(prefix), &mut found);
        let root = self.dir.path().to_path_buf();
        let mut keys: Vec<String> = found
            .into_iter()
            .filter_map(|p| {
                p.strip_prefix(&root)
                    .ok()
                    .map(|r| r.to_string_lossy().into_owned())
            })
            .collect();
        keys.sort();
        keys
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn entry(key: &str, path: &Path, partition_values: &[&str], rows: Option<i64>) -> TableFile {
    let meta = std::fs::metadata(path).expect("metadata");
    TableFile {
        key: key.to_string(),
        size: meta.len() as i64,
        last_modified: 0,
        etag: None,
        partition_values: partition_values.iter().map(|s| s.to_string()).collect(),
        row_count: rows,
    }
}

pub fn col(name: &str, data_type: &str) -> Column {
    Column {
        name: name.to_string(),
        data_type: data_type.to_string(),
        nullable: true,
    }
}

pub fn table(
    database: &str,
    name: &str,
    format: Format,
    columns: Vec<Column>,
    partitions: Vec<Column>,
) -> Table {
    Table {
        database: database.to_string(),
        name: name.to_string(),
        location: format!("{database}/{name}"),
        format,
        columns,
        partitioning: if partitions.is_empty() {
            Partitioning::None
        } else {
            Partitioning::Hive {
                columns: partitions,
            }
        },
        stats: TableStats::default(),
        created_at: 0,
        updated_at: 0,
    }
}

/// `sales`: three days of CSV, JSON or Parquet, Hive-partitioned by `day`.
pub async fn sales(lake: &TestLake, format: Format) {
    let days = ["2024-01-01", "2024-01-02", "2024-01-03"];
    let mut files = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let base = i as i64 * 10;
        let rows: Vec<(i64, &str, f64)> = vec![
            (base + 1, "eu", 10.0 + base as f64),
            (base + 2, "us", 20.0 + base as f64),
            (base + 3, "eu", 30.0 + base as f64),
        ];
        let key_dir = format!("shop/sales/day={day}");
        let file = match format {
            Format::Csv => {
                let mut text = String::from("id,region,amount\n");
                for (id, region, amount) in &rows {
                    text.push_str(&format!("{id},{region},{amount}\n"));
                }
                lake.put(&format!("{key_dir}/part.csv"), &text, &[day])
            }
            Format::Json => {
                let mut text = String::new();
                for (id, region, amount) in &rows {
                    text.push_str(&format!(
                        "{{\"id\":{id},\"region\":\"{region}\",\"amount\":{amount}}}\n"
                    ));
                }
                lake.put(&format!("{key_dir}/part.json"), &text, &[day])
            }
            Format::Parquet => {
                use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
                use datafusion::arrow::datatypes::{DataType, Field, Schema};
                let schema = Arc::new(Schema::new(vec![
                    Field::new("id", DataType::Int64, true),
                    Field::new("region", DataType::Utf8, true),
                    Field::new("amount", DataType::Float64, true),
                ]));
                let batch = RecordBatch::try_new(
                    schema,
                    vec![
                        Arc::new(Int64Array::from(
                            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                        )),
                        Arc::new(StringArray::from(
                            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                        )),
                        Arc::new(Float64Array::from(
                            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
                        )),
                    ],
                )
                .expect("batch");
                lake.put_parquet(&format!("{key_dir}/part.parquet"), &batch, &[day])
            }
        };
        files.push(file);
    }
    let mut t = table(
        "shop",
        "sales",
        format,
        vec![
            col("id", "Int64"),
            col("region", "Utf8"),
            col("amount", "Float64"),
        ],
        vec![col("day", "Date32")],
    );
    t.location = "shop/sales".to_string();
    lake.register(t, files).await;
}
