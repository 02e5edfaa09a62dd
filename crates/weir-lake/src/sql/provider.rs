//! A catalog table as a DataFusion [`TableProvider`]. It reads exactly the files in the table's
//! manifest (never a listing of the location, so a half-written table is invisible), prunes whole
//! files with filters on partition columns (their values come from the manifest), and leaves
//! other filters to the Parquet reader (row groups and pages pruned by statistics, rows filtered
//! during the decode) through DataFusion's physical filter pushdown.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::stats::Precision;
use datafusion::common::{ColumnStatistics, DFSchema, ScalarValue, Statistics};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::listing::helpers::expr_applicable_for_cols;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::object_store::ObjectMeta;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use tokio::sync::OnceCell;

use super::access::{LakeContext, LakeRoot};
use super::footers::{Footer, common_dictionary_columns, dictionary_type};
use super::types::{parse_type, partition_scalar, scan_schema};
use crate::catalog::{Format, Table, TableFile};

/// One catalog table, as seen by one statement. The manifest is read on the first scan and kept,
/// so a statement that reads the table twice (a self-join) sees one version of it.
pub struct LakeTable {
    table: Table,
    /// File columns then partition columns: what SQL sees.
    schema: SchemaRef,
    file_schema: SchemaRef,
    partition_fields: Vec<FieldRef>,
    lake: Arc<LakeContext>,
    manifest: OnceCell<Arc<Vec<TableFile>>>,
    /// The schema each file is read with, by key, where it differs from the file's own: its
    /// dictionary-encoded strings read as dictionaries.
    read_schemas: HashMap<String, SchemaRef>,
    /// Each file's column statistics (see [`Footer::column_statistics`]), by key, where its footer
    /// was read.
    file_statistics: HashMap<String, Vec<ColumnStatistics>>,
}

impl fmt::Debug for LakeTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LakeTable({}.{})", self.table.database, self.table.name)
    }
}

impl LakeTable {
    /// The table with its schema as the catalog has it.
    pub fn new(table: Table, lake: Arc<LakeContext>) -> Result<Self, super::SqlError> {
        Self::with_dictionaries(table, lake, &HashSet::new())
    }

    /// The table, with the string columns that every file of a Parquet table stores
    /// dictionary-encoded read as Arrow dictionaries (see `footers`). Reads the manifest and the
    /// footers (cached); when one cannot be read, the table is read as [`LakeTable::new`] reads it.
    pub async fn open(table: Table, lake: Arc<LakeContext>) -> Result<Self, super::SqlError> {
        if table.format != Format::Parquet {
            return Self::new(table, lake);
        }
        let Ok(files) = lake.catalog.files(&table.database, &table.name).await else {
            return Self::new(table, lake);
        };
        let mut footers: Vec<Arc<Footer>> = Vec::with_capacity(files.len());
        for chunk in files.chunks(16) {
            let read = chunk
                .iter()
                .map(|file| lake.footers.footer(&lake.store, &lake.root, file));
            match futures::future::try_join_all(read).await {
                Ok(read) => footers.extend(read),
                Err(_) => return Self::new(table, lake),
            }
        }
        let strings: HashSet<&str> = table
            .columns
            .iter()
            .filter(|c| parse_type(&c.data_type).is_ok_and(|t| t == DataType::Utf8))
            .map(|c| c.name.as_str())
            .collect();
        let mut columns = common_dictionary_columns(&footers);
        columns.retain(|c| strings.contains(c.as_str()));
        let mut provider = Self::with_dictionaries(table, Arc::clone(&lake), &columns)?;
        for (file, footer) in files.iter().zip(&footers) {
            if let Some(statistics) = footer.column_statistics(&provider.file_schema) {
                provider
                    .file_statistics
                    .insert(file.key.clone(), statistics);
            }
        }
        if !columns.is_empty() {
            for (file, footer) in files.iter().zip(&footers) {
                if let Some(schema) = footer.read_schema(&columns) {
                    provider.read_schemas.insert(file.key.clone(), schema);
                }
            }
        }
        provider.manifest = OnceCell::new_with(Some(Arc::new(files)));
        Ok(provider)
    }

    fn with_dictionaries(
        table: Table,
        lake: Arc<LakeContext>,
        dictionaries: &HashSet<String>,
    ) -> Result<Self, super::SqlError> {
        let (file_schema, partition_fields) = scan_schema(&table)?;
        let file_schema = if dictionaries.is_empty() {
            file_schema
        } else {
            let fields: Vec<FieldRef> = file_schema
                .fields()
                .iter()
                .map(|f| match dictionaries.contains(f.name()) {
                    true => Arc::new(f.as_ref().clone().with_data_type(dictionary_type())),
                    false => Arc::clone(f),
                })
                .collect();
            Arc::new(Schema::new(fields))
        };
        let mut fields: Vec<FieldRef> = file_schema.fields().iter().cloned().collect();
        fields.extend(partition_fields.iter().cloned());
        let mut names = HashSet::new();
        for f in &fields {
            if !names.insert(f.name().to_lowercase()) {
                return Err(super::SqlError::new(format!(
                    "table {}.{} has two columns named `{}`",
                    table.database,
                    table.name,
                    f.name()
                )));
            }
        }
        Ok(LakeTable {
            schema: Arc::new(Schema::new(fields)),
            file_schema,
            partition_fields,
            table,
            lake,
            manifest: OnceCell::new(),
            read_schemas: HashMap::new(),
            file_statistics: HashMap::new(),
        })
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The manifest, read once per statement.
    async fn manifest(&self) -> Result<Arc<Vec<TableFile>>> {
        self.manifest
            .get_or_try_init(|| async {
                self.lake
                    .catalog
                    .files(&self.table.database, &self.table.name)
                    .await
                    .map(Arc::new)
                    .map_err(|e| {
                        DataFusionError::External(
                            format!(
                                "cannot read the manifest of {}.{}: {e}",
                                self.table.database, self.table.name
                            )
                            .into(),
                        )
                    })
            })
            .await
            .cloned()
    }

    fn partition_names(&self) -> Vec<&str> {
        self.partition_fields
            .iter()
            .map(|f| f.name().as_str())
            .collect()
    }

    /// The column statistics of `files` together, in the order of the table's schema (partition
    /// columns unknown); `None` unless every file's footer gave them.
    fn column_statistics(
        &self,
        files: &[(TableFile, Vec<ScalarValue>)],
    ) -> Result<Option<Vec<ColumnStatistics>>> {
        let mut per_file = Vec::with_capacity(files.len());
        for (file, _) in files {
            let (Some(columns), Some(rows)) = (self.file_statistics.get(&file.key), file.row_count)
            else {
                return Ok(None);
            };
            per_file.push(Statistics {
                num_rows: Precision::Inexact(rows.max(0) as usize),
                total_byte_size: Precision::Absent,
                column_statistics: columns.clone(),
            });
        }
        let mut columns =
            Statistics::try_merge_iter(&per_file, &self.file_schema)?.column_statistics;
        columns.extend(
            self.partition_fields
                .iter()
                .map(|_| ColumnStatistics::new_unknown()),
        );
        Ok(Some(columns))
    }

    /// The manifest's files whose partition values pass `filters` (which reference partition
    /// columns only), with those values as typed scalars. All files are checked in one batch.
    fn prune(
        &self,
        state: &dyn Session,
        files: &[TableFile],
        filters: &[Expr],
    ) -> Result<Vec<(TableFile, Vec<ScalarValue>)>> {
        let count = self.partition_fields.len();
        let mut typed = Vec::with_capacity(files.len());
        for file in files {
            if file.partition_values.len() != count {
                return Err(DataFusionError::Execution(format!(
                    "file {} of {}.{} has {} partition values, the table has {count} partition columns",
                    file.key,
                    self.table.database,
                    self.table.name,
                    file.partition_values.len()
                )));
            }
            let values = file
                .partition_values
                .iter()
                .zip(&self.partition_fields)
                .map(|(text, field)| partition_scalar(text, field.data_type()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    DataFusionError::Execution(format!("file {}: {}", file.key, e.message))
                })?;
            typed.push((file.clone(), values));
        }
        let Some(predicate) = conjunction(filters.iter().cloned()) else {
            return Ok(typed);
        };
        if typed.is_empty() {
            return Ok(typed);
        }
        let fields: Vec<Field> = self
            .partition_fields
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let df_schema = DFSchema::from_unqualified_fields(fields.into(), Default::default())?;
        let columns = (0..count)
            .map(|i| ScalarValue::iter_to_array(typed.iter().map(|(_, v)| v[i].clone())))
            .collect::<Result<Vec<ArrayRef>>>()?;
        let batch = RecordBatch::try_new(Arc::clone(df_schema.inner()), columns)?;
        let physical = state.create_physical_expr(predicate, &df_schema)?;
        let result = physical.evaluate(&batch)?.into_array(batch.num_rows())?;
        let Some(keep) = result.as_any().downcast_ref::<BooleanArray>() else {
            return Ok(typed);
        };
        // NULL (unknown) excludes the file, as it excludes a row in WHERE.
        Ok(typed
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep.is_valid(*i) && keep.value(*i))
            .map(|(_, f)| f)
            .collect())
    }

    fn format(&self, state: &dyn Session) -> Arc<dyn FileFormat> {
        let options = state.table_options();
        match self.table.format {
            Format::Parquet => {
                Arc::new(ParquetFormat::default().with_options(options.parquet.clone()))
            }
            Format::Csv => Arc::new(
                CsvFormat::default()
                    .with_options(options.csv.clone())
                    .with_has_header(true),
            ),
            Format::Json => Arc::new(JsonFormat::default().with_options(options.json.clone())),
        }
    }
}

#[async_trait]
impl TableProvider for LakeTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let names = self.partition_names();
        let partition_filters: Vec<Expr> = filters
            .iter()
            .filter(|f| !names.is_empty() && expr_applicable_for_cols(&names, f))
            .cloned()
            .collect();
        let manifest = self.manifest().await?;
        let files = self.prune(state, &manifest, &partition_filters)?;
        if files.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }

        let column_statistics = self.column_statistics(&files)?;
        let mut rows = Some(0usize);
        let mut bytes = 0usize;
        let partitioned: Vec<PartitionedFile> = files
            .into_iter()
            .map(|(file, values)| {
                rows = match (rows, file.row_count) {
                    (Some(total), Some(n)) => Some(total.saturating_add(n.max(0) as usize)),
                    _ => None,
                };
                bytes = bytes.saturating_add(file.size.max(0) as usize);
                let read_schema = self.read_schemas.get(&file.key).cloned();
                let file = PartitionedFile::new_from_meta(object_meta(&self.lake.root, &file))
                    .with_partition_values(values);
                match read_schema {
                    Some(schema) => file.with_arrow_schema(schema),
                    None => file,
                }
            })
            .collect();
        let target = state.config().target_partitions().max(1);
        let groups = FileGroup::new(partitioned).split_files(target);

        // Row counts from the manifest guide join order (build on the small side), column
        // statistics from the footers the estimates of joins and filters; inexact so nothing
        // answers a query from them alone.
        let mut statistics = Statistics::new_unknown(&self.schema);
        if let Some(columns) = column_statistics {
            statistics.column_statistics = columns;
        }
        if let Some(rows) = rows {
            statistics.num_rows = Precision::Inexact(rows);
        }
        statistics.total_byte_size = Precision::Inexact(bytes);

        let format = self.format(state);
        let table_schema = TableSchema::builder(Arc::clone(&self.file_schema))
            .with_table_partition_cols(self.partition_fields.clone())
            .build();
        let source = format.file_source(table_schema);
        let config = FileScanConfigBuilder::new(self.lake.url.clone(), source)
            .with_file_groups(groups)
            .with_statistics(statistics)
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        format.create_physical_plan(state, config).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        let names = self.partition_names();
        Ok(filters
            .iter()
            .map(|f| {
                if !names.is_empty() && expr_applicable_for_cols(&names, f) {
                    // Applied exactly, file by file, from the manifest's partition values.
                    TableProviderFilterPushDown::Exact
                } else {
                    // Given to the reader for pruning; DataFusion still filters the rows.
                    TableProviderFilterPushDown::Inexact
                }
            })
            .collect())
    }
}

/// The object store's view of a manifest entry.
fn object_meta(root: &LakeRoot, file: &TableFile) -> ObjectMeta {
    ObjectMeta {
        location: root.path(&file.key),
        last_modified: chrono::DateTime::from_timestamp_micros(file.last_modified)
            .unwrap_or_default(),
        size: file.size.max(0) as u64,
        e_tag: file.etag.clone(),
        version: None,
    }
}
