//! Credentials and the audit log: who may call weir, as what role, narrowed to what.
//!
//! Every credential is a bearer token and an AWS access key pair with one [`Role`] and its
//! [`Grants`]. The store keeps the token's hash and the key id; the secret access key is derived
//! from the key id with the server key (`keys.rs`). All credentials are held in memory (a
//! handful, read at every request) and written through the group committer.
//!
//! The first start creates the credential `admin` and writes its token to `DATA/admin-token`
//! (mode 0600), which the CLI reads when run in the project: the person who can read the data
//! directory already controls the server. Deleting the file and restarting issues a new admin
//! token (the old one stops working).

mod audit;
pub mod keys;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::Serialize;
use weir_model::access::{Grants, Role};
use weir_store::{
    AccessMutation, AuditEntry, AuditRecord, Committer, CredentialRecord, EndedSession, Store,
};

pub use audit::AuditWriter;
use keys::ServerKey;

/// The credential the first start creates, whose token is written to [`ADMIN_TOKEN_FILE`].
pub const ADMIN: &str = "admin";
/// In the data directory: the admin credential's token.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";
/// In the data directory: the server key.
pub const KEY_FILE: &str = "credentials.key";
/// Longest credential name.
const MAX_NAME: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("the key file {path}: {reason}")]
    KeyFile { path: PathBuf, reason: String },
    #[error("the system's random number generator failed")]
    Random,
    #[error("{0}")]
    Invalid(String),
    #[error("credential `{0}` exists; revoke it first or choose another --name")]
    Exists(String),
    #[error("no credential named `{0}`")]
    NotFound(String),
    #[error("{0}")]
    Store(#[from] weir_store::StoreError),
    #[error("cannot write {path}: {reason}")]
    TokenFile { path: PathBuf, reason: String },
}

/// Why a presented credential was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Expired,
    Revoked,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Unknown => "unknown credential",
            Refusal::Expired => "expired credential",
            Refusal::Revoked => "revoked credential",
        }
    }
}

/// The credential a request was made with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    pub grants: Grants,
    /// Microseconds since the epoch.
    pub expires_at: Option<i64>,
}

impl Caller {
    /// Whether this caller's role includes `role`.
    pub fn may(&self, role: Role) -> bool {
        self.role >= role
    }
}

/// What `create` is asked for.
#[derive(Debug, Clone, Default)]
pub struct NewCredential {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub grants: Grants,
    /// Microseconds since the epoch.
    pub expires_at: Option<i64>,
}

/// A credential as created: the only time its secrets are shown.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedCredential {
    pub name: String,
    pub role: Role,
    pub token: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub expires_at: Option<i64>,
}

/// A credential as listed: never its secrets.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialInfo {
    pub name: String,
    pub role: String,
    pub grants: serde_json::Value,
    pub access_key_id: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
}

#[derive(Clone)]
pub struct Access {
    inner: Arc<Inner>,
}

struct Inner {
    committer: Committer,
    store: Arc<dyn Store>,
    key: ServerKey,
    known: RwLock<Known>,
    /// Sessions signed out before their cookies expire: id → when the cookie expires (µs).
    ended_sessions: RwLock<HashMap<String, i64>>,
    /// Held from a change's check to its commit, so that two creations of one name cannot both
    /// pass the check (the second would replace the first, whose token then stops working).
    changes: tokio::sync::Mutex<()>,
    audit: AuditWriter,
}

/// Every credential, and the active ones by what a request presents.
#[derive(Default)]
struct Known {
    records: BTreeMap<String, CredentialRecord>,
    by_token_hash: HashMap<String, Arc<Caller>>,
    by_access_key: HashMap<String, Arc<Caller>>,
}

impl Known {
    fn new(records: Vec<CredentialRecord>) -> Known {
        let mut known = Known::default();
        for record in records {
            known.put(record);
        }
        known
    }

    fn put(&mut self, record: CredentialRecord) {
        if let Some(old) = self.records.remove(&record.name) {
            self.by_token_hash.remove(&old.token_hash);
            self.by_access_key.remove(&old.access_key_id);
        }
        if record.revoked_at.is_none() {
            let caller = Arc::new(Caller {
                name: record.name.clone(),
                role: record.role.parse().unwrap_or(Role::Viewer),
                grants: serde_json::from_value(record.grants.clone()).unwrap_or_default(),
                expires_at: record.expires_at,
            });
            self.by_token_hash
                .insert(record.token_hash.clone(), caller.clone());
            self.by_access_key
                .insert(record.access_key_id.clone(), caller);
        }
        self.records.insert(record.name.clone(), record);
    }
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

impl Access {
    /// Loads the credentials and the server key, and makes sure the admin token file holds a
    /// working admin token (see the module's comment).
    pub async fn open(store: Arc<dyn Store>, data_dir: &Path) -> Result<Access, AccessError> {
        let key = ServerKey::load_or_create(&data_dir.join(KEY_FILE))?;
        let records = store.credentials().await?;
        let ended_sessions = store
            .ended_sessions(now_micros())
            .await?
            .into_iter()
            .map(|ended| (ended.id, ended.expires_at))
            .collect();
        let committer = Committer::start(store.clone());
        let access = Access {
            inner: Arc::new(Inner {
                audit: AuditWriter::start(committer.clone()),
                committer,
                store,
                key,
                known: RwLock::new(Known::new(records)),
                ended_sessions: RwLock::new(ended_sessions),
                changes: tokio::sync::Mutex::new(()),
            }),
        };
        access.ensure_admin_token(data_dir).await?;
        Ok(access)
    }

    async fn ensure_admin_token(&self, data_dir: &Path) -> Result<(), AccessError> {
        let path = data_dir.join(ADMIN_TOKEN_FILE);
        let on_disk = std::fs::read_to_string(&path).ok();
        let stored = self.record(ADMIN);
        if let Some(admin) = &stored {
            if admin.revoked_at.is_some() {
                tracing::warn!(
                    "the `admin` credential is revoked; {} is not renewed",
                    path.display()
                );
                return Ok(());
            }
            if on_disk.as_deref().map(|t| keys::token_hash(t.trim()))
                == Some(admin.token_hash.clone())
            {
                return keys::keep_private(&path).map_err(|e| AccessError::TokenFile {
                    path: path.clone(),
                    reason: e.to_string(),
                });
            }
        }
        // First start, or the file is gone or stale: a new admin token (and key pair).
        let issued = self
            .issue(
                ADMIN.to_string(),
                Role::Admin,
                Grants::default(),
                None,
                stored.map(|r| r.created_at),
            )
            .await?;
        keys::write_private(&path, format!("{}\n", issued.token).as_bytes()).map_err(|e| {
            AccessError::TokenFile {
                path: path.clone(),
                reason: e.to_string(),
            }
        })?;
        tracing::info!("wrote a new admin token to {}", path.display());
        Ok(())
    }

    fn record(&self, name: &str) -> Option<CredentialRecord> {
        self.read().records.get(name).cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Known> {
        self.inner
            .known
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The caller a bearer token belongs to.
    pub fn by_token(&self, token: &str) -> Result<Arc<Caller>, Refusal> {
        let hash = keys::token_hash(token);
        let known = self.read();
        match known.by_token_hash.get(&hash) {
            Some(caller) => check_expiry(caller),
            None => Err(if known.records.values().any(|r| r.token_hash == hash) {
                Refusal::Revoked
            } else {
                Refusal::Unknown
            }),
        }
    }

    /// The caller an access key id belongs to, and its secret access key.
    pub fn by_access_key(&self, access_key_id: &str) -> Result<(Arc<Caller>, String), Refusal> {
        let known = self.read();
        match known.by_access_key.get(access_key_id) {
            Some(caller) => {
                let caller = check_expiry(caller)?;
                Ok((caller, self.inner.key.secret_access_key(access_key_id)))
            }
            None => Err(
                if known
                    .records
                    .values()
                    .any(|r| r.access_key_id == access_key_id)
                {
                    Refusal::Revoked
                } else {
                    Refusal::Unknown
                },
            ),
        }
    }

    /// The caller by name, if active (a signed session cookie names its credential).
    pub fn by_name(&self, name: &str) -> Result<Arc<Caller>, Refusal> {
        let known = self.read();
        let record = known.records.get(name).ok_or(Refusal::Unknown)?;
        match known.by_token_hash.get(&record.token_hash) {
            Some(caller) => check_expiry(caller),
            None => Err(Refusal::Revoked),
        }
    }

    /// Creates a credential; its secrets are in the answer and nowhere else.
    pub async fn create(&self, request: NewCredential) -> Result<IssuedCredential, AccessError> {
        let name = match request.name {
            Some(name) => name,
            None => format!("token-{}", hex::encode(keys::random_bytes::<4>()?)),
        };
        check_name(&name)?;
        if let Some(problem) = request.grants.problem() {
            return Err(AccessError::Invalid(problem));
        }
        if request.expires_at.is_some_and(|at| at <= now_micros()) {
            return Err(AccessError::Invalid(
                "expires: the expiry must be in the future".into(),
            ));
        }
        let _change = self.inner.changes.lock().await;
        if self.record(&name).is_some_and(|r| r.revoked_at.is_none()) {
            return Err(AccessError::Exists(name));
        }
        self.issue(
            name,
            request.role.unwrap_or(Role::Viewer),
            request.grants,
            request.expires_at,
            None,
        )
        .await
    }

    async fn issue(
        &self,
        name: String,
        role: Role,
        grants: Grants,
        expires_at: Option<i64>,
        created_at: Option<i64>,
    ) -> Result<IssuedCredential, AccessError> {
        let token = keys::new_token()?;
        let access_key_id = keys::new_access_key_id()?;
        let record = CredentialRecord {
            name: name.clone(),
            role: role.as_str().into(),
            token_hash: keys::token_hash(&token),
            access_key_id: access_key_id.clone(),
            grants: serde_json::to_value(&grants).unwrap_or_default(),
            created_at: created_at.unwrap_or_else(now_micros),
            expires_at,
            revoked_at: None,
        };
        self.put(record).await?;
        Ok(IssuedCredential {
            name,
            role,
            token,
            secret_access_key: self.inner.key.secret_access_key(&access_key_id),
            access_key_id,
            expires_at,
        })
    }

    /// Durable first, then in memory: a credential that works was stored.
    async fn put(&self, record: CredentialRecord) -> Result<(), AccessError> {
        self.inner
            .committer
            .submit(vec![AccessMutation::PutCredential(record.clone())])
            .await?;
        self.inner
            .known
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .put(record);
        Ok(())
    }

    /// Revokes a credential: its token and key pair stop working at once.
    pub async fn revoke(&self, name: &str) -> Result<(), AccessError> {
        let _change = self.inner.changes.lock().await;
        let record = self
            .record(name)
            .filter(|r| r.revoked_at.is_none())
            .ok_or_else(|| AccessError::NotFound(name.to_string()))?;
        self.put(CredentialRecord {
            revoked_at: Some(now_micros()),
            ..record
        })
        .await
    }

    /// Every credential, without secrets, by name.
    pub fn list(&self) -> Vec<CredentialInfo> {
        let now = now_micros();
        self.read()
            .records
            .values()
            .map(|r| CredentialInfo {
                name: r.name.clone(),
                role: r.role.clone(),
                grants: r.grants.clone(),
                access_key_id: r.access_key_id.clone(),
                created_at: r.created_at,
                expires_at: r.expires_at,
                revoked_at: r.revoked_at,
                state: if r.revoked_at.is_some() {
                    "revoked"
                } else if r.expires_at.is_some_and(|at| at <= now) {
                    "expired"
                } else {
                    "active"
                },
            })
            .collect()
    }

    /// A browser session for the holder of `token`: the value of a cookie that names the
    /// credential, its expiry, a random id (what signing out ends) and a signature over them and
    /// the token's hash, so that revoking or re-issuing the credential ends the session too.
    pub fn new_session(
        &self,
        token: &str,
        lifetime: std::time::Duration,
    ) -> Result<(String, Arc<Caller>), Refusal> {
        let caller = self.by_token(token)?;
        let lifetime = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
        let mut expires = (now_micros() / 1_000_000).saturating_add(lifetime);
        if let Some(at) = caller.expires_at {
            expires = expires.min(at / 1_000_000);
        }
        let expires = expires.to_string();
        let id = keys::random_bytes::<16>()
            .map(hex::encode)
            .map_err(|_| Refusal::Unknown)?;
        let hash = keys::token_hash(token);
        let tag = self
            .inner
            .key
            .sign(&["session", &caller.name, &expires, &id, &hash]);
        let value = format!("{}.{expires}.{id}.{}", caller.name, hex::encode(tag));
        Ok((value, caller))
    }

    /// A session cookie's parts (name, expiry in seconds, id) once its signature is checked.
    fn session_parts<'v>(&self, value: &'v str) -> Result<(&'v str, i64, &'v str), Refusal> {
        // The name comes first and may hold dots; the other parts hold none.
        let mut parts = value.rsplitn(4, '.');
        let (Some(tag), Some(id), Some(expires), Some(name)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refusal::Unknown);
        };
        let tag = hex::decode(tag).ok().ok_or(Refusal::Unknown)?;
        let hash = self
            .record(name)
            .map(|r| r.token_hash)
            .ok_or(Refusal::Unknown)?;
        if !self
            .inner
            .key
            .verify(&["session", name, expires, id, &hash], &tag)
        {
            return Err(Refusal::Unknown);
        }
        let expires = expires.parse::<i64>().map_err(|_| Refusal::Unknown)?;
        Ok((name, expires, id))
    }

    /// The caller of a session cookie's value.
    pub fn by_session(&self, value: &str) -> Result<Arc<Caller>, Refusal> {
        let (name, expires, id) = self.session_parts(value)?;
        if expires <= now_micros() / 1_000_000 {
            return Err(Refusal::Expired);
        }
        let ended = self
            .inner
            .ended_sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_key(id);
        if ended {
            return Err(Refusal::Revoked);
        }
        self.by_name(name)
    }

    /// Ends a session before its cookie expires (signing out): durable first, then in memory,
    /// so that the cookie stops working here and after a restart. A cookie that is not a valid
    /// session's ends nothing.
    pub async fn end_session(&self, value: &str) -> Result<(), AccessError> {
        let Ok((_, expires, id)) = self.session_parts(value) else {
            return Ok(());
        };
        let ended = EndedSession {
            id: id.to_string(),
            expires_at: expires.saturating_mul(1_000_000),
        };
        self.inner
            .committer
            .submit(vec![AccessMutation::EndSession(ended.clone())])
            .await?;
        let now = now_micros();
        let mut sessions = self
            .inner
            .ended_sessions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Those whose cookies have expired need no keeping.
        sessions.retain(|_, expires_at| *expires_at > now);
        sessions.insert(ended.id, ended.expires_at);
        Ok(())
    }

    /// The name of this server's session cookie: `weir_session_` and a tag of the server key.
    /// Browsers send a host's cookies to every port of it, so two weir servers on one machine
    /// need names of their own, or signing in to one would sign out of the other.
    pub fn session_cookie_name(&self) -> String {
        let tag = hex::encode(self.inner.key.sign(&["session-cookie-name"]));
        format!("weir_session_{}", tag.get(..8).unwrap_or_default())
    }

    /// The CSRF token of a session: what a page served to that session sends back in
    /// `X-CSRF-Token` with each change it asks for.
    pub fn csrf_token(&self, session: &str) -> String {
        hex::encode(self.inner.key.sign(&["csrf", session]))
    }

    /// Whether `token` is the CSRF token of `session`.
    pub fn check_csrf_token(&self, session: &str, token: &str) -> bool {
        hex::decode(token)
            .ok()
            .is_some_and(|tag| self.inner.key.verify(&["csrf", session], &tag))
    }

    /// Queues an entry for the audit log (committed within a tenth of a second, see `audit.rs`).
    pub async fn audit(&self, entry: AuditRecord) {
        self.inner.audit.record(entry).await
    }

    /// Commits the audit entries queued so far: when the server stops.
    pub async fn flush_audit(&self) {
        self.inner.audit.flush().await
    }

    /// Audit entries at or after `since` (microseconds), oldest first; the entries queued before
    /// the call are among them.
    pub async fn audit_log(
        &self,
        since: i64,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, AccessError> {
        self.inner.audit.flush().await;
        Ok(self.inner.store.audit(since, after, limit).await?)
    }
}

fn check_expiry(caller: &Arc<Caller>) -> Result<Arc<Caller>, Refusal> {
    match caller.expires_at {
        Some(at) if at <= now_micros() => Err(Refusal::Expired),
        _ => Ok(caller.clone()),
    }
}

fn check_name(name: &str) -> Result<(), AccessError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(AccessError::Invalid(format!(
            "name: `{name}` must be 1 to {MAX_NAME} letters, digits, `-`, `_` or `.`"
        )))
    }
}

#[cfg(test)]
mod tests;
