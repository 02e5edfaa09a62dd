//! Writes a query's result into the lake as Hive-partitioned Parquet:
//! `LOCATION/WRITE_ID/col=value/…/part-N.parquet`. Each write gets a fresh write-id folder, so it
//! never touches files a table already lists, and a failed write is removed by deleting one
//! prefix. The files become part of a table only when the caller commits them to its manifest.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray, UInt32Array};
use datafusion::arrow::compute::{cast, take_record_batch};
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::execution::TaskContext;
use datafusion::object_store::buffered::BufWriter;
use datafusion::object_store::path::{Path, PathPart};
use datafusion::object_store::{ObjectStore, ObjectStoreExt};
use datafusion::parquet::arrow::AsyncArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use futures::StreamExt;

use super::SqlError;
use super::access::{LakeContext, LakeRoot};
use super::types::NULL_PARTITION;
use crate::catalog::TableFile;

/// Rows per Parquet row group: large enough for good compression and cheap statistics, small
/// enough that scans split across cores.
pub const ROW_GROUP_ROWS: usize = 1 << 20;
/// A file is closed and the next one started after this many rows.
const FILE_ROWS: usize = 8 * ROW_GROUP_ROWS;
/// When the row groups being built in memory exceed this, the largest are flushed early.
const BUFFERED_BYTES: usize = 512 << 20;

/// What a write produced.
#[derive(Debug)]
pub struct Written {
    pub files: Vec<TableFile>,
    pub rows: u64,
}

/// Properties for every Parquet file weir writes (the benchmark's generator uses them too).
///
/// Strings are dictionary-encoded: they repeat (countries, pages, event types), so the
/// dictionary shrinks them several times and the reader builds each distinct value once. Numbers
/// and times are written plain: they are mostly distinct (ids, timestamps, amounts), where a
/// dictionary saves little after compression, and a plain page is read with one copy where a
/// dictionary page needs a lookup per value.
pub fn writer_properties(schema: &Schema) -> WriterProperties {
    writer_properties_with(schema, Compression::SNAPPY)
}

/// [`writer_properties`] with another compression (a transform's sink says which).
pub fn writer_properties_with(schema: &Schema, compression: Compression) -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
    for field in schema.fields() {
        if !is_repetitive(field.data_type()) {
            let column = ColumnPath::from(field.name().as_str());
            builder = builder.set_column_dictionary_enabled(column, false);
        }
    }
    builder.build()
}

/// Whether values of this type usually repeat enough for a dictionary to pay.
fn is_repetitive(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::Dictionary(_, _)
    )
}

/// A new write id: sortable by time, unique by a random suffix.
pub fn write_id() -> String {
    let now = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    format!("w{now}-{:08x}", fastrand::u32(..))
}

/// Executes `plan` and writes its rows under the lake key `prefix` (`location/write_id`),
/// partitioned by `partition_columns` (columns of the plan's output; stored only in the paths,
/// not in the files). On any error, removes what it wrote.
pub async fn write_parquet(
    plan: Arc<dyn ExecutionPlan>,
    task: Arc<TaskContext>,
    lake: &LakeContext,
    prefix: &str,
    partition_columns: &[String],
) -> Result<Written, SqlError> {
    write_parquet_with(
        plan,
        task,
        lake,
        prefix,
        partition_columns,
        Compression::SNAPPY,
    )
    .await
}

/// [`write_parquet`] with the files' compression.
pub async fn write_parquet_with(
    plan: Arc<dyn ExecutionPlan>,
    task: Arc<TaskContext>,
    lake: &LakeContext,
    prefix: &str,
    partition_columns: &[String],
    compression: Compression,
) -> Result<Written, SqlError> {
    let store = Arc::clone(&lake.store);
    let prefix = lake.root.path(prefix);
    let mut writer =
        PartitionedWriter::new(lake, prefix.clone(), plan.schema(), partition_columns)?;
    writer.compression = compression;
    let result = async {
        let mut stream =
            execute_stream(plan, task).map_err(|e| SqlError::new(e.find_root().message()))?;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(|e| SqlError::new(e.find_root().message()))?;
            writer.write(&batch).await?;
        }
        writer.finish().await
    }
    .await;
    match result {
        Ok(written) => Ok(written),
        Err(e) => {
            remove_prefix(&store, &prefix).await;
            Err(e)
        }
    }
}

/// Deletes every object under `prefix`, ignoring errors (cleanup of a failed write).
pub async fn remove_prefix(store: &Arc<dyn ObjectStore>, prefix: &Path) {
    let listed: Vec<_> = store.list(Some(prefix)).collect().await;
    for meta in listed.into_iter().flatten() {
        if let Err(e) = store.delete(&meta.location).await {
            tracing::warn!(key = %meta.location, "cannot delete a file of a failed write: {e}");
        }
    }
}

struct OpenFile {
    writer: AsyncArrowWriter<BufWriter>,
    path: Path,
    rows: usize,
}

struct PartitionedWriter {
    store: Arc<dyn ObjectStore>,
    root: LakeRoot,
    prefix: Path,
    /// Positions of the partition columns in the input, and their names.
    partition_index: Vec<usize>,
    partition_names: Vec<String>,
    /// Positions of the data columns in the input.
    data_index: Vec<usize>,
    data_schema: SchemaRef,
    open: HashMap<Vec<String>, OpenFile>,
    done: Vec<(Path, Vec<String>, usize)>,
    next_file: usize,
    rows: u64,
    compression: Compression,
}

impl PartitionedWriter {
    fn new(
        lake: &LakeContext,
        prefix: Path,
        schema: SchemaRef,
        partition_columns: &[String],
    ) -> Result<Self, SqlError> {
        let mut partition_index = Vec::new();
        for name in partition_columns {
            let index = schema.index_of(name).map_err(|_| {
                SqlError::new(format!(
                    "partition column `{name}` is not in the query's result"
                ))
            })?;
            partition_index.push(index);
        }
        let data_index: Vec<usize> = (0..schema.fields().len())
            .filter(|i| !partition_index.contains(i))
            .collect();
        let data_schema = Arc::new(
            schema
                .project(&data_index)
                .map_err(|e| SqlError::new(e.to_string()))?,
        );
        Ok(PartitionedWriter {
            store: Arc::clone(&lake.store),
            root: lake.root.clone(),
            prefix,
            partition_index,
            partition_names: partition_columns.to_vec(),
            data_index,
            data_schema,
            open: HashMap::new(),
            done: Vec::new(),
            next_file: 0,
            rows: 0,
            compression: Compression::SNAPPY,
        })
    }

    async fn write(&mut self, batch: &RecordBatch) -> Result<(), SqlError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let arrow = |e: datafusion::arrow::error::ArrowError| SqlError::new(e.to_string());
        if self.partition_index.is_empty() {
            let data = batch.project(&self.data_index).map_err(arrow)?;
            return self.append(Vec::new(), &data).await;
        }
        // Partition values as text, one array per partition column.
        let texts = self
            .partition_index
            .iter()
            .map(|&i| partition_text(batch.column(i)))
            .collect::<Result<Vec<_>, _>>()?;
        let key_of = |row: usize| -> Vec<String> {
            texts
                .iter()
                .map(|t| {
                    if t.is_null(row) || t.value(row).is_empty() {
                        NULL_PARTITION.to_string()
                    } else {
                        t.value(row).to_string()
                    }
                })
                .collect()
        };
        let data = batch.project(&self.data_index).map_err(arrow)?;
        // Group rows by partition; a batch is usually all one partition.
        let mut groups: Vec<(Vec<String>, Vec<u32>)> = Vec::new();
        let mut by_key: HashMap<Vec<String>, usize> = HashMap::new();
        for row in 0..batch.num_rows() {
            let key = key_of(row);
            let slot = match by_key.get(&key) {
                Some(&slot) => slot,
                None => {
                    by_key.insert(key.clone(), groups.len());
                    groups.push((key, Vec::new()));
                    groups.len() - 1
                }
            };
            groups[slot].1.push(row as u32);
        }
        if groups.len() == 1 {
            let (key, _) = groups.swap_remove(0);
            return self.append(key, &data).await;
        }
        for (key, rows) in groups {
            let part = take_record_batch(&data, &UInt32Array::from(rows)).map_err(arrow)?;
            self.append(key, &part).await?;
        }
        Ok(())
    }

    async fn append(&mut self, key: Vec<String>, batch: &RecordBatch) -> Result<(), SqlError> {
        let parquet = |e: datafusion::parquet::errors::ParquetError| SqlError::new(e.to_string());
        if !self.open.contains_key(&key) {
            let path = self.file_path(&key);
            let object = BufWriter::new(Arc::clone(&self.store), path.clone());
            let writer = AsyncArrowWriter::try_new(
                object,
                Arc::clone(&self.data_schema),
                Some(writer_properties_with(&self.data_schema, self.compression)),
            )
            .map_err(parquet)?;
            self.open.insert(
                key.clone(),
                OpenFile {
                    writer,
                    path,
                    rows: 0,
                },
            );
        }
        let full = match self.open.get_mut(&key) {
            Some(file) => {
                file.writer.write(batch).await.map_err(parquet)?;
                file.rows += batch.num_rows();
                file.rows >= FILE_ROWS
            }
            None => false,
        };
        self.rows += batch.num_rows() as u64;
        if full && let Some(file) = self.open.remove(&key) {
            self.close(key, file).await?;
        }
        self.bound_memory().await
    }

    /// Keeps the row groups held in memory under [`BUFFERED_BYTES`] when many partitions are
    /// open at once, by flushing the largest (smaller row groups, bounded memory).
    async fn bound_memory(&mut self) -> Result<(), SqlError> {
        let total: usize = self
            .open
            .values()
            .map(|f| f.writer.in_progress_size())
            .sum();
        if total <= BUFFERED_BYTES {
            return Ok(());
        }
        let share = BUFFERED_BYTES / self.open.len().max(1);
        for file in self.open.values_mut() {
            if file.writer.in_progress_size() > share {
                file.writer
                    .flush()
                    .await
                    .map_err(|e| SqlError::new(e.to_string()))?;
            }
        }
        Ok(())
    }

    async fn close(&mut self, key: Vec<String>, file: OpenFile) -> Result<(), SqlError> {
        file.writer
            .close()
            .await
            .map_err(|e| SqlError::new(e.to_string()))?;
        self.done.push((file.path, key, file.rows));
        Ok(())
    }

    fn file_path(&mut self, key: &[String]) -> Path {
        let mut path = self.prefix.clone();
        for (name, value) in self.partition_names.iter().zip(key) {
            // PathPart percent-encodes `/`, `%` and the other characters a key must not hold.
            path = path.clone().join(PathPart::from(format!("{name}={value}")));
        }
        path = path
            .clone()
            .join(format!("part-{:05}.parquet", self.next_file));
        self.next_file += 1;
        path
    }

    async fn finish(mut self) -> Result<Written, SqlError> {
        let open: Vec<_> = self.open.drain().collect();
        for (key, file) in open {
            self.close(key, file).await?;
        }
        let mut files = Vec::with_capacity(self.done.len());
        for (path, values, rows) in std::mem::take(&mut self.done) {
            let meta = self
                .store
                .head(&path)
                .await
                .map_err(|e| SqlError::new(format!("cannot read back {path}: {e}")))?;
            let key = self
                .root
                .key(&path)
                .ok_or_else(|| SqlError::new(format!("{path} is outside the lake")))?;
            files.push(TableFile {
                key,
                size: i64::try_from(meta.size).unwrap_or(i64::MAX),
                last_modified: meta.last_modified.timestamp_micros(),
                etag: meta.e_tag,
                partition_values: values,
                row_count: Some(rows as i64),
            });
        }
        files.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Written {
            files,
            rows: self.rows,
        })
    }
}

/// A partition column's values as text, the way they are read back (`ScalarValue` from string):
/// dates as `YYYY-MM-DD`, numbers in decimal.
fn partition_text(column: &ArrayRef) -> Result<StringArray, SqlError> {
    let text = cast(column, &DataType::Utf8).map_err(|e| {
        SqlError::new(format!(
            "cannot partition by a column of type {}: {e}",
            column.data_type()
        ))
    })?;
    text.as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .ok_or_else(|| SqlError::new("partition values did not convert to text"))
}
