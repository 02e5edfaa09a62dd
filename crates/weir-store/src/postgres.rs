//! The scale-out backend: PostgreSQL, where several servers may share one metadata database.

use std::str::FromStr;

use sqlx::Postgres;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

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
