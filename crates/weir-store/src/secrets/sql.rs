//! The secrets' statements: how their records are stored, their writes and their queries.

use super::{Plan, SecretMutation, SecretRecord, SecretStore};
use crate::Result;
use crate::driver::{Driver, Record, Statement, mapping};
use crate::sql_store::{SqlStore, write};
use crate::statements::{OnConflict, Placeholders, Write};

mapping!(SecretRecord {
    name: text,
    sealed: text,
    key_id: text,
    created_at: value,
    updated_at: value,
});

/// The secrets' write statements, in the backend's placeholder style.
pub(crate) struct SecretWrites {
    secrets: Write,
}

impl SecretWrites {
    pub(crate) fn new(placeholders: Placeholders) -> SecretWrites {
        SecretWrites {
            secrets: Write::new(
                "secrets",
                SecretRecord::COLUMNS,
                &["name"],
                OnConflict::Update,
                placeholders,
            ),
        }
    }

    /// Writes the secrets' part of a batch, inside the batch's transaction, in batch order.
    pub(crate) async fn apply<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        plan: Plan<'_>,
    ) -> Result<()> {
        for mutation in plan.mutations {
            match mutation {
                SecretMutation::PutSecret(secret) => {
                    write::<DB, _>(conn, &self.secrets, &[secret]).await?
                }
                SecretMutation::DeleteSecret { name } => {
                    DB::execute(conn, Statement::new(DELETE_SECRET).bind(name.as_str())).await?
                }
            }
        }
        Ok(())
    }
}

const DELETE_SECRET: &str = "DELETE FROM secrets WHERE name = $1";

// Reads. Rows are decoded by column name, so `SELECT *` stays correct as columns are added.

const SECRET: &str = "SELECT * FROM secrets WHERE name = $1";
const SECRETS: &str = "SELECT * FROM secrets ORDER BY name";

#[async_trait::async_trait]
impl<DB: Driver> SecretStore for SqlStore<DB> {
    async fn secret(&self, name: &str) -> Result<Option<SecretRecord>> {
        self.fetch_optional(Statement::new(SECRET).bind(name)).await
    }

    async fn secrets(&self) -> Result<Vec<SecretRecord>> {
        self.fetch_all(Statement::new(SECRETS)).await
    }
}
