//! Secrets (Airflow's connections and variables) as the metadata store keeps them: sealed. The
//! store never sees a value: the engine encrypts it with a key kept outside this database and
//! hands over the ciphertext, which is all a copy of the database holds. Records and mutations
//! here; how the batch is sorted in `plan.rs`; statements, writes and queries in `sql.rs`.

mod plan;
mod sql;

use serde::{Deserialize, Serialize};

use crate::Result;

pub(crate) use plan::Plan;
pub(crate) use sql::SecretWrites;

/// One write of the secrets. They are applied in batch order (they include deletions).
#[derive(Debug, Clone, PartialEq)]
pub enum SecretMutation {
    /// Upsert a secret (key: name).
    PutSecret(SecretRecord),
    /// Delete a secret; an absent name is ignored.
    DeleteSecret { name: String },
}

/// The secrets' reads.
#[async_trait::async_trait]
pub trait SecretStore: Send + Sync + 'static {
    /// A secret by name.
    async fn secret(&self, name: &str) -> Result<Option<SecretRecord>>;
    /// Every secret, by name.
    async fn secrets(&self) -> Result<Vec<SecretRecord>>;
}

/// A secret, sealed: its value encrypted (with the nonce, as the engine encodes it) and the id of
/// the key that sealed it, so that a value sealed with another key is told from a damaged one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretRecord {
    pub name: String,
    pub sealed: String,
    pub key_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}
