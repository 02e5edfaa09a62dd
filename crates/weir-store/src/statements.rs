//! The multi-row writes every subsystem uses. SQLite and PostgreSQL run the very same statements:
//! both accept `$N` placeholders, `ON CONFLICT (…) DO UPDATE SET c = excluded.c` and `FALSE`, so the
//! dialects differ only in their migrations, and in how the large writes spell placeholders
//! ([`Placeholders`]). Each subsystem's queries are in its own `sql.rs`.

use std::sync::Arc;

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

/// How many rows one write statement carries, largest first. A statement per row would cost a
/// round trip per row (to SQLite's worker thread, or to the PostgreSQL server); a few fixed sizes
/// keep the number of distinct statements small enough for the per-connection statement cache.
/// 256 rows of the widest table bind 3,328 values, well under both databases' limits.
pub(crate) const CHUNK_SIZES: [usize; 3] = [256, 16, 1];

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
}
