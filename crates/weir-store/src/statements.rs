//! The SQL text of the store. SQLite and PostgreSQL run the very same statements: both accept `$N`
//! placeholders, `ON CONFLICT (…) DO UPDATE SET c = excluded.c` and `FALSE`, so the dialects differ
//! only in their migrations, and in how the large writes spell placeholders ([`Placeholders`]).

use std::sync::Arc;

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

/// How many rows one write statement carries, largest first. A statement per row would cost a
/// round trip per row (to SQLite's worker thread, or to the PostgreSQL server); a few fixed sizes
/// keep the number of distinct statements small enough for the per-connection statement cache.
/// 256 rows of the widest table bind 3,328 values, well under both databases' limits.
const CHUNK_SIZES: [usize; 3] = [256, 16, 1];

/// What a write does when a row with the same key exists.
pub(crate) enum OnConflict {
    /// Replace every non-key column: rows are sent whole.
    Update,
    /// Keep the existing row: pipeline versions are immutable.
    Ignore,
    /// No key: the table is append-only.
    Append,
    /// A plain insert: a row with the same key is an error, so a new row never replaces one.
    Refuse,
}

/// How a dialect spells the bind parameters of the multi-row writes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Placeholders {
    /// `$1, $2, …`, which PostgreSQL requires.
    Numbered,
    /// `?, ?, …`. SQLite finds each named or numbered parameter by a linear scan, which makes
    /// binding a statement with thousands of them quadratic (it was 75% of a large commit);
    /// anonymous ones are bound by position.
    Anonymous,
}

/// The multi-row statements that write one table.
pub(crate) struct Write {
    /// `(rows, sql)`, largest first as [`CHUNK_SIZES`].
    statements: Vec<(usize, SqlStr)>,
    /// Placeholders per row.
    columns: usize,
}

impl Write {
    /// `columns` in the order the table's binder binds them; `key` among them.
    pub(crate) fn new(
        table: &str,
        columns: &[&str],
        key: &[&str],
        on_conflict: OnConflict,
        placeholders: Placeholders,
    ) -> Write {
        let statements = CHUNK_SIZES
            .iter()
            .map(|&rows| {
                let sql = write_sql(table, columns, key, &on_conflict, placeholders, rows);
                (rows, AssertSqlSafe(Arc::<str>::from(sql)).into_sql_str())
            })
            .collect();
        Write {
            statements,
            columns: columns.len(),
        }
    }

    /// Placeholders per row.
    pub(crate) fn columns(&self) -> usize {
        self.columns
    }

    /// The statement for the largest chunk that fits in `remaining` (> 0) rows, and its row count.
    pub(crate) fn chunk(&self, remaining: usize) -> (SqlStr, usize) {
        let (rows, sql) = self
            .statements
            .iter()
            .find(|(rows, _)| *rows <= remaining)
            .unwrap_or(&self.statements[self.statements.len() - 1]);
        (sql.clone(), *rows)
    }
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

fn write_sql(
    table: &str,
    columns: &[&str],
    key: &[&str],
    on_conflict: &OnConflict,
    placeholders: Placeholders,
    rows: usize,
) -> String {
    let width = columns.len();
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let placeholders: Vec<String> = (1..=width)
                .map(|column| match placeholders {
                    Placeholders::Numbered => format!("${}", row * width + column),
                    Placeholders::Anonymous => "?".to_string(),
                })
                .collect();
            format!("({})", placeholders.join(", "))
        })
        .collect();
    let mut sql = format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        values.join(", ")
    );
    match on_conflict {
        OnConflict::Update => {
            let set: Vec<String> = columns
                .iter()
                .filter(|c| !key.contains(c))
                .map(|c| format!("{c} = excluded.{c}"))
                .collect();
            sql += &format!(
                " ON CONFLICT ({}) DO UPDATE SET {}",
                key.join(", "),
                set.join(", ")
            );
        }
        OnConflict::Ignore => sql += &format!(" ON CONFLICT ({}) DO NOTHING", key.join(", ")),
        OnConflict::Append | OnConflict::Refuse => {}
    }
    sql
}

// Reads. Rows are decoded by column name, so `SELECT *` stays correct as columns are added.
// Ties on timestamps are broken by key so that listings are stable.

pub(crate) const VERSION: &str =
    "SELECT * FROM pipeline_versions WHERE pipeline = $1 AND version = $2";
pub(crate) const RUN: &str = "SELECT * FROM runs WHERE id = $1";
pub(crate) const RUNS: &str = "SELECT * FROM runs ORDER BY created_at DESC, id DESC LIMIT $1";
pub(crate) const RUNS_OF_PIPELINE: &str =
    "SELECT * FROM runs WHERE pipeline = $1 ORDER BY created_at DESC, id DESC LIMIT $2";
pub(crate) const UNFINISHED_RUNS: &str =
    "SELECT * FROM runs WHERE state IN ('queued', 'running') ORDER BY created_at, id";
/// Only finished runs can owe an end-of-run notification.
pub(crate) const RUNS_PENDING_NOTIFICATION: &str = "SELECT * FROM runs WHERE notified = FALSE AND state NOT IN ('queued', 'running') ORDER BY created_at, id";
/// The predicate repeats the unique index's, so that both databases answer from it.
pub(crate) const RUN_FOR_LOGICAL_DATE: &str = "SELECT * FROM runs WHERE pipeline = $1 AND logical_date = $2 AND run_type IN ('scheduled', 'backfill')";
pub(crate) const TASKS: &str =
    "SELECT * FROM task_instances WHERE run_id = $1 ORDER BY task_id, map_index";
pub(crate) const ATTEMPTS: &str =
    "SELECT * FROM attempts WHERE run_id = $1 ORDER BY task_id, map_index, try_number";
pub(crate) const ATTEMPTS_OF_TASK: &str =
    "SELECT * FROM attempts WHERE run_id = $1 AND task_id = $2 ORDER BY map_index, try_number";
pub(crate) const OPEN_ATTEMPTS: &str = "SELECT * FROM attempts WHERE ended_at IS NULL ORDER BY started_at, run_id, task_id, map_index, try_number";
pub(crate) const EVENTS: &str = "SELECT * FROM run_events WHERE run_id = $1 ORDER BY id";
pub(crate) const SCHEDULE_STATES: &str = "SELECT * FROM schedule_state ORDER BY pipeline";

// The catalog.

pub(crate) const DATABASE: &str = "SELECT * FROM catalog_databases WHERE name = $1";
pub(crate) const DATABASES: &str = "SELECT * FROM catalog_databases ORDER BY name";
pub(crate) const TABLE: &str = "SELECT * FROM catalog_tables WHERE database = $1 AND name = $2";
pub(crate) const TABLES: &str = "SELECT * FROM catalog_tables ORDER BY database, name";
pub(crate) const TABLES_OF_DATABASE: &str =
    "SELECT * FROM catalog_tables WHERE database = $1 ORDER BY name";
pub(crate) const TABLE_FILES: &str =
    "SELECT * FROM catalog_files WHERE database = $1 AND table_name = $2 ORDER BY key";
pub(crate) const MACHINE: &str = "SELECT * FROM state_machines WHERE arn = $1";
pub(crate) const MACHINES: &str = "SELECT * FROM state_machines ORDER BY name";
pub(crate) const DELETE_MACHINE: &str = "DELETE FROM state_machines WHERE arn = $1";
pub(crate) const EXECUTION: &str = "SELECT * FROM executions WHERE arn = $1";
pub(crate) const EXECUTIONS: &str = "SELECT * FROM executions WHERE ($1 IS NULL OR machine_arn = $1) AND ($2 IS NULL OR status = $2) ORDER BY started_at DESC, arn DESC LIMIT $3";
pub(crate) const HISTORY: &str =
    "SELECT * FROM execution_events WHERE execution_arn = $1 ORDER BY id";
pub(crate) const LAST_EVENT_ID: &str =
    "SELECT COALESCE(MAX(id), 0) AS last_id FROM execution_events WHERE execution_arn = $1";
pub(crate) const STEPS: &str = "SELECT * FROM execution_steps WHERE execution_arn = $1";
pub(crate) const DELETE_DATABASE: &str = "DELETE FROM catalog_databases WHERE name = $1";
pub(crate) const DELETE_TABLE: &str =
    "DELETE FROM catalog_tables WHERE database = $1 AND name = $2";
pub(crate) const DELETE_ALL_TABLE_FILES: &str =
    "DELETE FROM catalog_files WHERE database = $1 AND table_name = $2";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_any_count() {
        let write = Write::new(
            "t",
            &["k", "v"],
            &["k"],
            OnConflict::Update,
            Placeholders::Anonymous,
        );
        assert_eq!(write.chunk(20_000).1, 256);
        assert_eq!(write.chunk(256).1, 256);
        assert_eq!(write.chunk(255).1, 16);
        assert_eq!(write.chunk(15).1, 1);
    }

    #[test]
    fn placeholders_follow_the_dialect() {
        let sql = write_sql(
            "t",
            &["k", "v"],
            &["k"],
            &OnConflict::Update,
            Placeholders::Numbered,
            2,
        );
        assert_eq!(
            sql,
            "INSERT INTO t (k, v) VALUES ($1, $2), ($3, $4) ON CONFLICT (k) DO UPDATE SET v = excluded.v"
        );
        let sql = write_sql(
            "t",
            &["k", "v"],
            &["k"],
            &OnConflict::Ignore,
            Placeholders::Anonymous,
            2,
        );
        assert_eq!(
            sql,
            "INSERT INTO t (k, v) VALUES (?, ?), (?, ?) ON CONFLICT (k) DO NOTHING"
        );
        let sql = write_sql(
            "t",
            &["k", "v"],
            &[],
            &OnConflict::Append,
            Placeholders::Anonymous,
            1,
        );
        assert_eq!(sql, "INSERT INTO t (k, v) VALUES (?, ?)");
    }

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
