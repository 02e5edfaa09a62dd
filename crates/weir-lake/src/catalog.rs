//! The catalog's model: databases, tables and the files that make up each table.
//!
//! A table is a location (a prefix in the lake), a format, a schema, partition columns, and a
//! *manifest*: the list of files that belong to it, kept in the metadata store. Queries read only
//! the files in the manifest, so a write becomes visible all at once when its files are added to
//! the manifest in one metadata transaction, and a failed or killed write leaves nothing visible.

use serde::{Deserialize, Serialize};

/// File formats the lake reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Parquet,
    Csv,
    /// JSON lines: one JSON object per line.
    Json,
}

/// One column of a table's schema. `data_type` uses Arrow's names as DataFusion prints them
/// (`Int64`, `Float64`, `Utf8`, `Boolean`, `Date32`, `Timestamp(Microsecond, None)`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
}

/// How partition values are read from object keys under a table's location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "style", rename_all = "lowercase")]
pub enum Partitioning {
    /// No partitions: every file directly under (or anywhere below) the location.
    None,
    /// Hive layout: `key=value/` directories, in the order of `columns`.
    Hive { columns: Vec<Column> },
    /// A date layout such as `yyyy/MM/dd/HH`, giving columns `year`, `month`, `day`, `hour`
    /// (`columns` names them in order).
    Pattern {
        pattern: String,
        columns: Vec<Column>,
    },
}

/// A table in the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub database: String,
    pub name: String,
    /// Prefix in the lake, without a trailing slash (e.g. `warehouse/sales`).
    pub location: String,
    pub format: Format,
    /// Data columns (partition columns are not repeated here).
    pub columns: Vec<Column>,
    pub partitioning: Partitioning,
    pub stats: TableStats,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableStats {
    /// Known when every file's row count is known.
    pub row_count: Option<i64>,
    pub size_bytes: i64,
    pub file_count: i64,
    /// Latest modification time of any file (µs since the epoch).
    pub last_modified: Option<i64>,
}

/// One object in a table's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableFile {
    /// Full key in the lake.
    pub key: String,
    pub size: i64,
    /// µs since the epoch.
    pub last_modified: i64,
    /// The store's entity tag when it has one: with size and time, what re-crawls compare.
    pub etag: Option<String>,
    /// Partition values in the order of the table's partition columns, as text.
    pub partition_values: Vec<String>,
    pub row_count: Option<i64>,
}

/// A database: a namespace of tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Database {
    pub name: String,
    pub description: Option<String>,
    /// µs since the epoch.
    pub created_at: i64,
}
