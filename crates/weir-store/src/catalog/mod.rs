//! The lake's catalog: databases, tables, and each table's manifest of files, kept in the
//! metadata store so that a lake write commits by applying one batch. Records and mutations here;
//! how the batch is sorted in `plan.rs`; statements, writes and queries in `sql.rs`.

mod plan;
mod sql;

use serde::{Deserialize, Serialize};

use crate::Result;

pub(crate) use plan::Plan;
pub(crate) use sql::CatalogWrites;

/// One write of the catalog. They are applied in batch order (they include deletions).
// A table's row is as large as the other subsystems' rows, which are not boxed either: a
// `Mutation` is as large as its largest row whatever this enum does.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogMutation {
    /// Upsert a catalog database (key: name).
    PutDatabase(DatabaseRecord),
    /// Delete a catalog database's row. Its tables are left alone: refusing to drop a database
    /// that has tables, or dropping them first, is the caller's decision.
    DropDatabase { name: String },
    /// Upsert a catalog table (key: database, name).
    PutTable(TableRecord),
    /// Delete a catalog table and its manifest.
    DropTable { database: String, name: String },
    /// Upsert files into manifests (key: database, table_name, key).
    PutTableFiles(Vec<TableFileRecord>),
    /// Delete files from a table's manifest by key; absent keys are ignored.
    DeleteTableFiles {
        database: String,
        table: String,
        keys: Vec<String>,
    },
    /// Replace a table's whole manifest with `files` (whose `database` and `table_name` must be
    /// this table's), in the batch's transaction: readers see the old list or the new one.
    ReplaceTableFiles {
        database: String,
        table: String,
        files: Vec<TableFileRecord>,
    },
}

/// The catalog's reads.
#[async_trait::async_trait]
pub trait CatalogStore: Send + Sync + 'static {
    /// A catalog database by name.
    async fn database(&self, name: &str) -> Result<Option<DatabaseRecord>>;
    /// Every catalog database, by name.
    async fn databases(&self) -> Result<Vec<DatabaseRecord>>;
    /// A catalog table.
    async fn table(&self, database: &str, name: &str) -> Result<Option<TableRecord>>;
    /// The tables of one database (by name), or of all (by database, then name).
    async fn tables(&self, database: Option<&str>) -> Result<Vec<TableRecord>>;
    /// A table's manifest, by key.
    async fn table_files(&self, database: &str, table: &str) -> Result<Vec<TableFileRecord>>;
}

/// A database of the lake's catalog: a namespace of tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseRecord {
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
}

/// A table of the lake's catalog. The store keeps the schema and partitioning as the JSON the
/// catalog gives it; the statistics are columns so that listings can show and sort them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRecord {
    pub database: String,
    pub name: String,
    /// Prefix in the lake, without a trailing slash.
    pub location: String,
    /// `parquet`, `csv` or `json`.
    pub format: String,
    /// The data columns, as a JSON array.
    pub columns: serde_json::Value,
    /// How partition values are read from keys, as a JSON object.
    pub partitioning: serde_json::Value,
    pub row_count: Option<i64>,
    pub size_bytes: i64,
    pub file_count: i64,
    pub last_modified: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One object of a table's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableFileRecord {
    pub database: String,
    pub table_name: String,
    /// Full key in the lake.
    pub key: String,
    pub size: i64,
    pub last_modified: i64,
    pub etag: Option<String>,
    /// Partition values as a JSON array of strings.
    pub partition_values: serde_json::Value,
    pub row_count: Option<i64>,
}
