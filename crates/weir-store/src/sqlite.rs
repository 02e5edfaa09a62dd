//! The embedded backend: one SQLite file in WAL mode, one writing connection and a few reading
//! ones, so that queries from the dashboard never wait behind a commit.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::sql_store::SqlStore;
use crate::statements::Placeholders;
use crate::{Result, StoreError};

/// The store on SQLite (`sqlite://PATH`, or `sqlite::memory:` for tests).
pub type SqliteStore = SqlStore<Sqlite>;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

const READERS: u32 = 4;
/// How long a statement waits for another process's lock (a backup tool, the sqlite3 shell)
/// before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl SqlStore<Sqlite> {
    /// Opens (creating it and its directory if missing) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<SqliteStore> {
        let invalid = |reason: String| StoreError::Url {
            url: url.to_string(),
            reason,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| invalid(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // An acknowledged commit must survive power loss: WAL + FULL syncs the log on commit.
            .synchronous(SqliteSynchronous::Full)
            // Checkpoints copy the log into the database file and sync it. Every 4,000 pages
            // (16 MiB) instead of SQLite's 1,000: a page appended to by many commits (the tail
            // of a history) is copied once instead of four times.
            .pragma("wal_autocheckpoint", "4000")
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(false);
        // sqlx shares an in-memory database between connections through SQLite's shared cache,
        // whose table locks fail at once instead of waiting; there the writer also serves reads.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory
            && let Some(dir) = options
                .get_filename()
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| invalid(format!("cannot create {}: {e}", dir.display())))?;
        }
        // The writer lives as long as the store: closing an in-memory database's last connection
        // would drop the database.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&writer).await?;
        let readers = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(READERS)
                .connect_with(options.read_only(true))
                .await?
        };
        Ok(SqlStore::new(writer, readers, Placeholders::Anonymous))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RunStore, Store};

    async fn pragma<T>(pool: &sqlx::SqlitePool, statement: &'static str) -> T
    where
        T: for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite> + Send + Unpin,
    {
        sqlx::query_scalar(statement).fetch_one(pool).await.unwrap()
    }

    #[tokio::test]
    async fn files_are_durable_wal_databases() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/a/b/weir.db", dir.path().display());
        let store = SqliteStore::open(&url).await.unwrap();
        assert_eq!(
            pragma::<String>(&store.writer, "PRAGMA journal_mode").await,
            "wal"
        );
        // 2 is FULL: the WAL is synced at every commit.
        assert_eq!(pragma::<i64>(&store.writer, "PRAGMA synchronous").await, 2);
        assert_eq!(pragma::<i64>(&store.readers, "PRAGMA synchronous").await, 2);
        assert!(dir.path().join("a/b/weir.db").exists());
    }

    #[tokio::test]
    async fn memory_databases_work() {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        let schedule = crate::ScheduleStateRecord {
            pipeline: "p".into(),
            last_interval_end: None,
            paused: true,
        };
        store
            .apply(&[crate::RunMutation::PutScheduleState(schedule.clone()).into()])
            .await
            .unwrap();
        assert_eq!(store.schedule_states().await.unwrap(), vec![schedule]);
    }

    #[tokio::test]
    async fn bad_urls_are_reported() {
        let error = crate::open("mysql://localhost/weir").await.err().unwrap();
        assert!(matches!(error, StoreError::Url { .. }), "{error}");
        let error = SqliteStore::open("sqlite://host?mode=bogus")
            .await
            .err()
            .unwrap();
        assert!(matches!(error, StoreError::Url { .. }), "{error}");
    }
}
