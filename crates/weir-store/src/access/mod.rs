//! Access: the credentials that may call weir (their roles, grants and the hashes of their
//! secrets) and the audit log of what was asked of weir and by whom. Records and mutations here;
//! how the batch is sorted in `plan.rs`; statements, writes and queries in `sql.rs`.

mod plan;
mod sql;

use serde::{Deserialize, Serialize};

use crate::Result;

pub(crate) use plan::Plan;
pub(crate) use sql::AccessWrites;

/// One write of the access subsystem.
#[derive(Debug, Clone, PartialEq)]
pub enum AccessMutation {
    /// Upsert a credential (key: name). Revoking one is an upsert with `revoked_at` set: the row
    /// stays, so the audit log's names keep their meaning.
    PutCredential(CredentialRecord),
    /// Append entries to the audit log.
    Audit(Vec<AuditRecord>),
    /// A browser session that ended before its cookie expires (signed out): its cookie no longer
    /// signs anyone in (key: id).
    EndSession(EndedSession),
}

/// The access subsystem's reads.
#[async_trait::async_trait]
pub trait AccessStore: Send + Sync + 'static {
    /// Every credential, revoked ones included, by name.
    async fn credentials(&self) -> Result<Vec<CredentialRecord>>;
    /// Audit entries at or after `since` (microseconds), oldest first, at most `limit`; with
    /// `after`, only the entries with a larger id (the next page).
    async fn audit(&self, since: i64, after: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>>;
    /// The sessions ended before their cookies expire, those whose cookies have not expired by
    /// `now` (microseconds).
    async fn ended_sessions(&self, now: i64) -> Result<Vec<EndedSession>>;
}

/// A browser session ended by signing out, kept until its cookie would have expired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndedSession {
    /// The session's random id, as its cookie carries it.
    pub id: String,
    /// When its cookie expires (microseconds); the row means nothing after that.
    pub expires_at: i64,
}

/// A credential: a bearer token and an AWS access key pair with one role and its grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialRecord {
    pub name: String,
    /// `viewer`, `operator` or `admin`.
    pub role: String,
    /// Hex SHA-256 of the bearer token (the token itself is never stored).
    pub token_hash: String,
    /// The AWS access key id (the secret key is derived from it with the server's key, never
    /// stored).
    pub access_key_id: String,
    /// The grants, as JSON (`{"pipelines": [...], "tables": [...], "prefixes": [...]}`).
    pub grants: serde_json::Value,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// One audited call: a mutating call, or any call that was refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub at: i64,
    /// The credential's name; None for an anonymous or unrecognised caller.
    pub credential: Option<String>,
    pub role: Option<String>,
    /// The peer's address.
    pub source: String,
    /// `METHOD /route/{param}` for the REST API, `Service.Operation` for the AWS protocols.
    pub action: String,
    /// What the call was about: the request's path, or the AWS operation's resource.
    pub target: String,
    /// `ok`, `failed`, `denied` or `unauthenticated`.
    pub outcome: String,
    /// The HTTP status answered.
    pub status: i32,
    /// Why a call was refused or failed, when that is known.
    pub detail: Option<String>,
}

/// An audit record as read back, with its position in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(flatten)]
    pub record: AuditRecord,
}
