//! SQL over the catalog's tables, on Apache DataFusion.
//!
//! - [`SqlEngine`] runs statements: queries over catalog tables by name (`db.table`), and the
//!   writing statements `CREATE [OR REPLACE] TABLE … AS SELECT`, `INSERT INTO|OVERWRITE`,
//!   `DROP TABLE`, which write Hive-partitioned Parquet into the lake and commit it to the
//!   catalog atomically.
//! - [`QueryResult`] renders rows as JSON objects, CSV or a text table.
//! - [`SqlError`] says what went wrong and where (line and column in the statement).
//! - [`SqlRunner`] is the `sql` pipeline action.
//! - [`SqlEngine::sql_tables`] says which catalog tables SQL text reads and writes, without
//!   running it (for checks before a statement runs).
//!
//! What SQL needs from the catalog is the [`CatalogAccess`] trait, so it is tested against an
//! in-memory fake and wired to the real catalog by the caller.

mod access;
mod bridge;
mod conjunction;
pub(crate) mod ddl;
mod dictionary_aggregate;
mod dictionary_filter;
mod dynamic_filters;
mod eager_aggregate;
mod engine;
mod error;
mod export;
mod export_objects;
mod footers;
mod guard;
mod limits;
mod memory;
mod narrow_decimal;
mod partition_groups;
mod provider;
mod result;
mod runner;
mod session;
mod shared_subplans;
mod snapshot;
mod sorted_window;
mod stream;
mod tables;
mod top_per_key;
mod tuning;
mod types;
mod whole_result;
pub(crate) mod write;

pub use access::{CatalogAccess, CatalogError, LakeRoot, ObjectCreated, ObjectListener};
pub use engine::{SqlEngine, files_scanned};
pub use error::{SqlError, SqlErrorKind};
pub use export::{ExportFormat, ExportPart, export};
pub use export_objects::{Exported, export_to_lake};
pub use memory::MemoryCatalog;
pub use provider::LakeTable;
pub use result::{QueryResult, ResultColumn, json_value};
pub use runner::SqlRunner;
pub use session::{CATALOG, DEFAULT_DATABASE, LAKE_URL, SessionOptions};
pub use stream::ResultStream;
pub use types::{NULL_PARTITION, columns_of, parse_type, type_name};
pub use write::{ROW_GROUP_ROWS, writer_properties, writer_properties_with};
