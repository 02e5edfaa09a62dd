//! The catalog's statements: how its records are stored, its writes and its queries.

use std::sync::Arc;

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use super::plan::unique_files;
use super::{CatalogMutation, CatalogStore, DatabaseRecord, Plan, TableFileRecord, TableRecord};
use crate::Result;
use crate::driver::{Driver, Record, Statement, mapping};
use crate::sql_store::{SqlStore, write};
use crate::statements::{CHUNK_SIZES, OnConflict, Placeholders, Write};

mapping!(DatabaseRecord {
    name: text,
    description: opt_text,
    created_at: value,
});

mapping!(TableRecord {
    database: text,
    name: text,
    location: text,
    format: text,
    columns: json,
    partitioning: json,
    row_count: value,
    size_bytes: value,
    file_count: value,
    last_modified: value,
    created_at: value,
    updated_at: value,
});

mapping!(TableFileRecord {
    database: text,
    table_name: text,
    key: text,
    size: value,
    last_modified: value,
    etag: opt_text,
    partition_values: json,
    row_count: value,
});

/// The catalog's write statements, in the backend's placeholder style.
pub(crate) struct CatalogWrites {
    databases: Write,
    tables: Write,
    files: Write,
    delete_files: DeleteFiles,
}

impl CatalogWrites {
    pub(crate) fn new(placeholders: Placeholders) -> CatalogWrites {
        let write = |table, columns, key, on_conflict| {
            Write::new(table, columns, key, on_conflict, placeholders)
        };
        CatalogWrites {
            databases: write(
                "catalog_databases",
                DatabaseRecord::COLUMNS,
                &["name"],
                OnConflict::Update,
            ),
            tables: write(
                "catalog_tables",
                TableRecord::COLUMNS,
                &["database", "name"],
                OnConflict::Update,
            ),
            files: write(
                "catalog_files",
                TableFileRecord::COLUMNS,
                &["database", "table_name", "key"],
                OnConflict::Update,
            ),
            delete_files: DeleteFiles::new(placeholders),
        }
    }

    /// Writes the catalog's part of a batch, inside the batch's transaction: its mutations one by
    /// one, in batch order (see `plan.rs`).
    pub(crate) async fn apply<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        plan: Plan<'_>,
    ) -> Result<()> {
        for mutation in plan.mutations {
            self.apply_one::<DB>(conn, mutation).await?;
        }
        Ok(())
    }

    async fn apply_one<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        mutation: &CatalogMutation,
    ) -> Result<()> {
        match mutation {
            CatalogMutation::PutDatabase(database) => {
                write::<DB, _>(conn, &self.databases, &[database]).await
            }
            CatalogMutation::DropDatabase { name } => {
                DB::execute(conn, Statement::new(DELETE_DATABASE).bind(name.as_str())).await
            }
            CatalogMutation::PutTable(table) => write::<DB, _>(conn, &self.tables, &[table]).await,
            CatalogMutation::DropTable { database, name } => {
                delete_all_files::<DB>(conn, database, name).await?;
                let statement = Statement::new(DELETE_TABLE)
                    .bind(database.as_str())
                    .bind(name.as_str());
                DB::execute(conn, statement).await
            }
            CatalogMutation::PutTableFiles(files) => {
                write::<DB, _>(conn, &self.files, &unique_files(files)).await
            }
            CatalogMutation::DeleteTableFiles {
                database,
                table,
                keys,
            } => {
                let mut rest = keys.as_slice();
                while !rest.is_empty() {
                    let (sql, count) = self.delete_files.chunk(rest.len());
                    // Not a cached prepared statement: PostgreSQL would soon switch to a generic
                    // plan, which, before the table has statistics, scans every file of the
                    // table for each key (seconds for a large manifest instead of milliseconds).
                    let mut statement = Statement::<DB>::with(sql, DB::Arguments::default())
                        .persistent(false)
                        .bind(database.as_str())
                        .bind(table.as_str());
                    for key in &rest[..count] {
                        statement = statement.bind(key.as_str());
                    }
                    DB::execute(conn, statement).await?;
                    rest = &rest[count..];
                }
                Ok(())
            }
            CatalogMutation::ReplaceTableFiles {
                database,
                table,
                files,
            } => {
                delete_all_files::<DB>(conn, database, table).await?;
                write::<DB, _>(conn, &self.files, &unique_files(files)).await
            }
        }
    }
}

async fn delete_all_files<DB: Driver>(
    conn: &mut DB::Connection,
    database: &str,
    table: &str,
) -> Result<()> {
    let statement = Statement::new(DELETE_ALL_TABLE_FILES)
        .bind(database)
        .bind(table);
    DB::execute(conn, statement).await
}

/// `DELETE FROM catalog_files WHERE database = ? AND table_name = ? AND key IN (?, …)`, in the
/// same chunk sizes as the writes: removing many files from a manifest takes a few statements.
pub(crate) struct DeleteFiles {
    /// `(keys, sql)`, largest first as [`CHUNK_SIZES`].
    statements: Vec<(usize, SqlStr)>,
}

impl DeleteFiles {
    pub(crate) fn new(placeholders: Placeholders) -> DeleteFiles {
        let statements = CHUNK_SIZES
            .iter()
            .map(|&keys| {
                let sql = delete_files_sql(placeholders, keys);
                (keys, AssertSqlSafe(Arc::<str>::from(sql)).into_sql_str())
            })
            .collect();
        DeleteFiles { statements }
    }

    /// The statement for the largest chunk that fits in `remaining` (> 0) keys, and its key count.
    pub(crate) fn chunk(&self, remaining: usize) -> (SqlStr, usize) {
        let (keys, sql) = self
            .statements
            .iter()
            .find(|(keys, _)| *keys <= remaining)
            .unwrap_or(&self.statements[self.statements.len() - 1]);
        (sql.clone(), *keys)
    }
}

fn delete_files_sql(placeholders: Placeholders, keys: usize) -> String {
    let list: Vec<String> = (0..keys + 2)
        .map(|i| match placeholders {
            Placeholders::Numbered => format!("${}", i + 1),
            Placeholders::Anonymous => "?".to_string(),
        })
        .collect();
    format!(
        "DELETE FROM catalog_files WHERE database = {} AND table_name = {} AND key IN ({})",
        list[0],
        list[1],
        list[2..].join(", ")
    )
}

const DELETE_DATABASE: &str = "DELETE FROM catalog_databases WHERE name = $1";
const DELETE_TABLE: &str = "DELETE FROM catalog_tables WHERE database = $1 AND name = $2";
const DELETE_ALL_TABLE_FILES: &str =
    "DELETE FROM catalog_files WHERE database = $1 AND table_name = $2";

// Reads. Rows are decoded by column name, so `SELECT *` stays correct as columns are added.

const DATABASE: &str = "SELECT * FROM catalog_databases WHERE name = $1";
const DATABASES: &str = "SELECT * FROM catalog_databases ORDER BY name";
const TABLE: &str = "SELECT * FROM catalog_tables WHERE database = $1 AND name = $2";
const TABLES: &str = "SELECT * FROM catalog_tables ORDER BY database, name";
const TABLES_OF_DATABASE: &str = "SELECT * FROM catalog_tables WHERE database = $1 ORDER BY name";
const TABLE_FILES: &str =
    "SELECT * FROM catalog_files WHERE database = $1 AND table_name = $2 ORDER BY key";

#[async_trait::async_trait]
impl<DB: Driver> CatalogStore for SqlStore<DB> {
    async fn database(&self, name: &str) -> Result<Option<DatabaseRecord>> {
        self.fetch_optional(Statement::new(DATABASE).bind(name))
            .await
    }

    async fn databases(&self) -> Result<Vec<DatabaseRecord>> {
        self.fetch_all(Statement::new(DATABASES)).await
    }

    async fn table(&self, database: &str, name: &str) -> Result<Option<TableRecord>> {
        self.fetch_optional(Statement::new(TABLE).bind(database).bind(name))
            .await
    }

    async fn tables(&self, database: Option<&str>) -> Result<Vec<TableRecord>> {
        let query = match database {
            Some(database) => Statement::new(TABLES_OF_DATABASE).bind(database),
            None => Statement::new(TABLES),
        };
        self.fetch_all(query).await
    }

    async fn table_files(&self, database: &str, table: &str) -> Result<Vec<TableFileRecord>> {
        self.fetch_all(Statement::new(TABLE_FILES).bind(database).bind(table))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_deletes_list_their_keys() {
        assert_eq!(
            delete_files_sql(Placeholders::Numbered, 2),
            "DELETE FROM catalog_files WHERE database = $1 AND table_name = $2 AND key IN ($3, $4)"
        );
        assert_eq!(
            delete_files_sql(Placeholders::Anonymous, 1),
            "DELETE FROM catalog_files WHERE database = ? AND table_name = ? AND key IN (?)"
        );
        assert_eq!(DeleteFiles::new(Placeholders::Anonymous).chunk(300).1, 256);
    }
}
