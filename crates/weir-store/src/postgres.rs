//! The scale-out backend: PostgreSQL, where several servers may share one metadata database.

use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::{ConnectOptions, Postgres};

use crate::sql_store::SqlStore;
use crate::statements::Placeholders;
use crate::{Result, StoreError};

/// The store on PostgreSQL (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`).
pub type PostgresStore = SqlStore<Postgres>;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

const CONNECTIONS: u32 = 8;

impl SqlStore<Postgres> {
    /// Connects to and migrates the database at `url`. Migrations take an advisory lock, so
    /// servers starting together do not race.
    pub async fn open(url: &str) -> Result<PostgresStore> {
        let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Url {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        // PostgreSQL serialises writers itself, so `apply` borrows from the same pool as reads.
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqlStore::new(pool.clone(), pool, Placeholders::Numbered))
    }
}

/// The advisory lock that says "a weir server runs on this database": two keys, weir's and the
/// lock's, so it meets no other application's advisory locks.
const CLAIM_KEYS: (i32, i32) = (0x7765_6972, 1); // "weir", 1

/// Held for a server's life: its own session holds the database's server lock. PostgreSQL drops
/// the lock when the session ends, however the server ends.
pub struct ServerClaim {
    _session: PgConnection,
}

/// Claims the database at `url` for one server, or names the server that holds it. `holder`
/// describes this one (`pid N on HOST`); it is set as the session's `application_name`, where the
/// next server finds it. Until several servers can share a database (scale-out), two on one
/// would each take the other's running work for a crash's leftovers.
pub async fn claim_postgres(url: &str, holder: &str) -> Result<ServerClaim> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Url {
            url: url.to_string(),
            reason: e.to_string(),
        })?
        .application_name(&format!("weir server {holder}"));
    let mut session = options.connect().await?;
    let claimed: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
        .bind(CLAIM_KEYS.0)
        .bind(CLAIM_KEYS.1)
        .fetch_one(&mut session)
        .await?;
    if claimed {
        return Ok(ServerClaim { _session: session });
    }
    let other: Option<String> = sqlx::query_scalar(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2 \
         AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         LIMIT 1",
    )
    .bind(i64::from(CLAIM_KEYS.0))
    .bind(i64::from(CLAIM_KEYS.1))
    .fetch_optional(&mut session)
    .await?;
    let other = other
        .and_then(|name| name.strip_prefix("weir server ").map(str::to_string))
        .unwrap_or_else(|| "a server whose pid is unknown".into());
    Err(StoreError::InUse(other))
}
