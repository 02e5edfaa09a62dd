//! Writing a run's rows: into a catalog table (created when missing with the output's schema
//! and partitioning; appended, or with the partitions it touches replaced, or replaced whole),
//! as Hive-partitioned Parquet in a fresh write-id folder that no manifest names until the run
//! commits; or as objects under a lake prefix (CSV, JSON lines or Parquet).

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::datatypes::FieldRef;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::parquet::basic::{Compression as ParquetCompression, GzipLevel, ZstdLevel};
use datafusion::prelude::{DataFrame, Expr, cast, ident, lit};
use weir_model::sql_tables::TableName;
use weir_model::transform::{Compression, FileFormat, WriteMode};

use super::RunError;
use crate::catalog::{Format, Partitioning, Table, TableFile, TableStats};
use crate::catalog_store::{Catalog, ManifestChange};
use crate::sql::write::{remove_prefix, write_id, write_parquet_with};
use crate::sql::{LAKE_URL, SqlEngine, columns_of, parse_type};

/// A table's new files, written, with the manifest change that commits them.
pub struct TableWrite {
    pub table: Table,
    pub change: ManifestChange,
    /// The write-id folder, removed when the commit fails.
    pub prefix: String,
    pub files: Vec<TableFile>,
    pub rows: u64,
}

/// Writes `frame` for the table `name`. Nothing is committed.
pub async fn write_table(
    engine: &SqlEngine,
    catalog: &Catalog,
    frame: DataFrame,
    name: &TableName,
    mode: WriteMode,
    partition_by: &[String],
    compression: Compression,
) -> Result<TableWrite, RunError> {
    let existing = find(catalog, name).await?;
    let (table, frame) = match existing {
        Some(table) => {
            if table.format != Format::Parquet
                || matches!(table.partitioning, Partitioning::Pattern { .. })
            {
                return Err(RunError::new(format!(
                    "table {name} is not a Parquet table with Hive partitions: transforms write \
                     only into those"
                )));
            }
            let frame = conform(frame, &table, name)?;
            (table, frame)
        }
        None => {
            catalog.ensure_database(&name.database).await?;
            (new_table(&frame, name, partition_by)?, frame)
        }
    };
    let partitions: Vec<String> = partition_names(&table);
    let prefix = format!("{}/{}", table.location, write_id());
    let plan =
        frame.clone().create_physical_plan().await.map_err(|e| {
            RunError::new(format!("planning the write to {name}: {}", e.find_root()))
        })?;
    let written = write_parquet_with(
        plan,
        Arc::new(frame.task_ctx()),
        engine.lake_context(),
        &prefix,
        &partitions,
        parquet_compression(compression),
    )
    .await
    .map_err(|e| RunError::new(format!("writing {name}: {e}")))?;
    let current = catalog.files(&table.database, &table.name).await?;
    let change = match mode {
        WriteMode::Append => ManifestChange::add(written.files.clone()),
        WriteMode::Overwrite => ManifestChange::replace(written.files.clone()),
        WriteMode::OverwritePartitions => {
            let touched: HashSet<&Vec<String>> =
                written.files.iter().map(|f| &f.partition_values).collect();
            ManifestChange {
                replace: false,
                put: written.files.clone(),
                remove: current
                    .iter()
                    .filter(|f| touched.contains(&f.partition_values))
                    .map(|f| f.key.clone())
                    .collect(),
            }
        }
    };
    Ok(TableWrite {
        table,
        change,
        prefix,
        files: written.files,
        rows: written.rows,
    })
}

/// Deletes a failed run's write-id folder.
pub async fn discard(engine: &SqlEngine, prefix: &str) {
    let lake = engine.lake_context();
    remove_prefix(&lake.store, &lake.root.path(prefix)).await;
}

/// Writes `frame` as objects under `prefix/WRITE_ID/` in `format`. Returns the folder and the
/// rows written.
pub async fn write_prefix(
    engine: &SqlEngine,
    frame: DataFrame,
    prefix: &str,
    format: FileFormat,
    partition_by: &[String],
    compression: Compression,
) -> Result<(String, u64), RunError> {
    let folder = format!("{}/{}", prefix.trim_matches('/'), write_id());
    let lake = engine.lake_context();
    let error = |e: datafusion::error::DataFusionError| {
        RunError::new(format!("writing under {prefix}: {}", e.find_root()))
    };
    if format == FileFormat::Parquet {
        let task = Arc::new(frame.task_ctx());
        let plan = frame.create_physical_plan().await.map_err(error)?;
        let written = write_parquet_with(
            plan,
            task,
            lake,
            &folder,
            partition_by,
            parquet_compression(compression),
        )
        .await
        .map_err(|e| RunError::new(format!("writing under {prefix}: {e}")))?;
        return Ok((folder, written.rows));
    }
    if matches!(compression, Compression::Gzip | Compression::Zstd) {
        return Err(RunError::new(
            "CSV and JSON lines objects are written uncompressed: use `format: parquet` for a \
             compressed prefix sink",
        ));
    }
    let url = format!("{LAKE_URL}/{}/", lake.root.path(&folder));
    let options = DataFrameWriteOptions::new().with_partition_by(partition_by.to_vec());
    let counts = match format {
        FileFormat::Csv => frame.write_csv(&url, options, None).await.map_err(error)?,
        _ => frame.write_json(&url, options, None).await.map_err(error)?,
    };
    let rows = counts
        .first()
        .filter(|b| b.num_rows() > 0)
        .and_then(|b| ScalarValue::try_from_array(b.column(0), 0).ok())
        .and_then(|v| match v {
            ScalarValue::UInt64(Some(n)) => Some(n),
            _ => None,
        })
        .unwrap_or(0);
    Ok((folder, rows))
}

fn partition_names(table: &Table) -> Vec<String> {
    match &table.partitioning {
        Partitioning::None => Vec::new(),
        Partitioning::Hive { columns } | Partitioning::Pattern { columns, .. } => {
            columns.iter().map(|c| c.name.clone()).collect()
        }
    }
}

fn parquet_compression(compression: Compression) -> ParquetCompression {
    match compression {
        Compression::None => ParquetCompression::UNCOMPRESSED,
        Compression::Snappy => ParquetCompression::SNAPPY,
        Compression::Gzip => ParquetCompression::GZIP(GzipLevel::default()),
        Compression::Zstd => ParquetCompression::ZSTD(ZstdLevel::default()),
    }
}

/// The table by exact name, else ignoring case (as SQL finds it).
async fn find(catalog: &Catalog, name: &TableName) -> Result<Option<Table>, RunError> {
    if let Some(table) = catalog.table(&name.database, &name.name).await? {
        return Ok(Some(table));
    }
    Ok(catalog.tables(None).await?.into_iter().find(|t| {
        t.database.eq_ignore_ascii_case(&name.database) && t.name.eq_ignore_ascii_case(&name.name)
    }))
}

/// A new table for `frame`'s columns, partitioned by `partition_by`.
fn new_table(
    frame: &DataFrame,
    name: &TableName,
    partition_by: &[String],
) -> Result<Table, RunError> {
    let fields: Vec<FieldRef> = frame.schema().fields().iter().cloned().collect();
    for column in partition_by {
        if !fields.iter().any(|f| f.name() == column) {
            return Err(RunError::new(format!(
                "partition column `{column}` is not a column of the output"
            )));
        }
    }
    let data: Vec<FieldRef> = fields
        .iter()
        .filter(|f| !partition_by.contains(f.name()))
        .cloned()
        .collect();
    if data.is_empty() {
        return Err(RunError::new(
            "the output needs at least one column besides its partition columns",
        ));
    }
    let partitions: Vec<FieldRef> = partition_by
        .iter()
        .filter_map(|p| fields.iter().find(|f| f.name() == p).cloned())
        .collect();
    let now = chrono::Utc::now().timestamp_micros();
    Ok(Table {
        database: name.database.clone(),
        name: name.name.clone(),
        location: format!("{}/{}", name.database, name.name),
        format: Format::Parquet,
        columns: columns_of(&data),
        partitioning: if partitions.is_empty() {
            Partitioning::None
        } else {
            Partitioning::Hive {
                columns: columns_of(&partitions),
            }
        },
        stats: TableStats::default(),
        created_at: now,
        updated_at: now,
    })
}

/// The output's columns as the table has them, by name: cast to the table's types, in its order
/// (data, then partitions); a column the output lacks is null; one the table lacks is an error.
fn conform(frame: DataFrame, table: &Table, name: &TableName) -> Result<DataFrame, RunError> {
    let partition_columns = match &table.partitioning {
        Partitioning::None => Vec::new(),
        Partitioning::Hive { columns } | Partitioning::Pattern { columns, .. } => columns.clone(),
    };
    let targets: Vec<_> = table.columns.iter().chain(&partition_columns).collect();
    let schema = frame.schema().clone();
    for field in schema.fields() {
        if !targets.iter().any(|t| t.name == *field.name()) {
            return Err(RunError::new(format!(
                "the output's column `{}` is not a column of table {name} ({}): drop it or \
                 rename it",
                field.name(),
                targets
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let mut exprs: Vec<Expr> = Vec::with_capacity(targets.len());
    for target in targets {
        let data_type = parse_type(&target.data_type).map_err(|e| RunError::new(e.to_string()))?;
        let value = if schema.has_column_with_unqualified_name(&target.name) {
            cast(ident(&target.name), data_type)
        } else {
            let null =
                ScalarValue::try_from(&data_type).map_err(|e| RunError::new(e.to_string()))?;
            lit(null)
        };
        exprs.push(value.alias(&target.name));
    }
    frame
        .select(exprs)
        .map_err(|e| RunError::new(format!("table {name}: {}", e.find_root())))
}
