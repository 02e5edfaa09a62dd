//! The access subsystem's statements: how its records are stored, its writes and its queries.

use super::{AccessStore, AuditEntry, AuditRecord, CredentialRecord, EndedSession, Plan};
use crate::Result;
use crate::driver::{Driver, Record, Statement, mapping};
use crate::sql_store::{SqlStore, write};
use crate::statements::{OnConflict, Placeholders, Write};

mapping!(CredentialRecord {
    name: text,
    role: text,
    token_hash: text,
    access_key_id: text,
    grants: json,
    created_at: value,
    expires_at: value,
    revoked_at: value,
});

mapping!(AuditRecord {
    at: value,
    credential: opt_text,
    role: opt_text,
    source: text,
    action: text,
    target: text,
    outcome: text,
    status: value,
    detail: opt_text,
});

mapping!(EndedSession {
    id: text,
    expires_at: value,
});

/// The access subsystem's write statements, in the backend's placeholder style.
pub(crate) struct AccessWrites {
    credentials: Write,
    audit: Write,
    ended_sessions: Write,
}

impl AccessWrites {
    pub(crate) fn new(placeholders: Placeholders) -> AccessWrites {
        AccessWrites {
            credentials: Write::new(
                "credentials",
                CredentialRecord::COLUMNS,
                &["name"],
                OnConflict::Update,
                placeholders,
            ),
            audit: Write::new(
                "audit_log",
                AuditRecord::COLUMNS,
                &[],
                OnConflict::Append,
                placeholders,
            ),
            ended_sessions: Write::new(
                "ended_sessions",
                EndedSession::COLUMNS,
                &["id"],
                OnConflict::Update,
                placeholders,
            ),
        }
    }

    /// Writes the access subsystem's part of a batch, inside the batch's transaction.
    pub(crate) async fn apply<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        plan: Plan<'_>,
    ) -> Result<()> {
        write::<DB, _>(conn, &self.credentials, &plan.credentials.into_rows()).await?;
        write::<DB, _>(conn, &self.audit, &plan.audit).await?;
        write::<DB, _>(conn, &self.ended_sessions, &plan.ended_sessions.into_rows()).await
    }
}

const CREDENTIALS: &str = "SELECT * FROM credentials ORDER BY name";
const ENDED_SESSIONS: &str = "SELECT * FROM ended_sessions WHERE expires_at > $1 ORDER BY id";
const AUDIT: &str = "SELECT * FROM audit_log WHERE at >= $1 AND id > $2 ORDER BY id LIMIT $3";

#[async_trait::async_trait]
impl<DB: Driver> AccessStore for SqlStore<DB> {
    async fn credentials(&self) -> Result<Vec<CredentialRecord>> {
        self.fetch_all(Statement::new(CREDENTIALS)).await
    }

    async fn ended_sessions(&self, now: i64) -> Result<Vec<EndedSession>> {
        self.fetch_all(Statement::new(ENDED_SESSIONS).bind(now))
            .await
    }

    async fn audit(&self, since: i64, after: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>> {
        let statement = Statement::new(AUDIT)
            .bind(since)
            .bind(after.unwrap_or(0))
            .bind(i64::from(limit));
        let rows = DB::fetch_all(&self.readers, statement).await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: DB::load(row, "id")?,
                    record: AuditRecord::decode::<DB>(row)?,
                })
            })
            .collect()
    }
}
