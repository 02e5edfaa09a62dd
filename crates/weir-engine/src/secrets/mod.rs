//! Secrets (Airflow's connections and variables): values that tasks, notifications and
//! functions use (`{{ secrets.NAME }}`) and that weir never shows (`***`).
//!
//! A secret comes from, in this order of precedence:
//! 1. the environment: `WEIR_SECRET_NAME`, as the server was started;
//! 2. a file `NAME` in `[secrets] dir` (as Docker and Kubernetes mount secrets), read when used;
//! 3. the metadata store, where `weir secrets set` puts it, sealed (`seal.rs`) with a key kept
//!    outside the database (`key.rs`).
//!
//! This service holds the key and the opened values; the HTTP server only calls it. Everything
//! that writes text a secret could reach masks it (`mask.rs`): task and function logs as they
//! stream, the command line shown in a log, outputs, errors and state machine history.

mod key;
mod log_sink;
mod mask;
mod seal;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use serde_json::{Map, Value};
use weir_model::secret::{self, Reads, is_secret_name};
use weir_store::{Committer, SecretMutation, SecretRecord, Store};

pub use key::{KEY_VARIABLE, default_key_file, load_key};
pub(crate) use log_sink::{LogSink, hide_from_children};
pub use mask::{MASK, MIN_MASKED_LEN, Masker, MaskingWriter};
pub use seal::{OpenError, SealingKey};

use crate::EngineError;
use crate::time::now_us;

/// The prefix of environment variables that are secrets: `WEIR_SECRET_NAME` is `NAME`.
pub const ENV_PREFIX: &str = "WEIR_SECRET_";

/// The largest value a secret may have.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// How often the files of `[secrets] dir` are looked at again for masking.
const DIR_RESCAN: Duration = Duration::from_secs(1);

/// Where a secret in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Environment,
    File,
    Store,
}

/// A secret as listed: never its value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecretInfo {
    pub name: String,
    /// Where the value in force comes from.
    pub source: Source,
    /// When it last changed (RFC 3339; none for the environment).
    pub updated_at: Option<String>,
    /// Also set in the store but hidden by the environment or a file.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shadows_stored: bool,
}

/// An action's configuration rendered for an attempt.
pub struct RenderedAction {
    /// What the action runs with.
    pub config: Map<String, Value>,
    /// What weir shows of it: secrets as `***`.
    pub shown: Map<String, Value>,
}

/// A stored secret, opened (or why it does not open).
struct Opened {
    value: Result<String, String>,
    updated_at: i64,
}

/// The secrets service. Built by `Engine::start`; shared through `Engine::secrets`.
pub struct Secrets {
    key: Option<key::LoadedKey>,
    store: Option<(Arc<dyn Store>, Committer)>,
    environment: BTreeMap<String, String>,
    dir: Option<PathBuf>,
    stored: RwLock<BTreeMap<String, Opened>>,
    masker: Mutex<(Masker, Instant)>,
}

impl Secrets {
    /// No secrets at all (tools and tests that start parts of the engine on their own).
    pub fn none() -> Secrets {
        Secrets {
            key: None,
            store: None,
            environment: BTreeMap::new(),
            dir: None,
            stored: RwLock::new(BTreeMap::new()),
            masker: Mutex::new((Masker::default(), Instant::now())),
        }
    }

    /// Loads the key (creating the key file at first start), the environment's secrets, and
    /// opens the stored ones. A stored secret that does not open (another key, damaged) is
    /// reported now and is an error when used; the server still starts, so that it can be set
    /// again or removed.
    pub async fn open(
        store: Arc<dyn Store>,
        committer: Committer,
        key_variable: Option<&str>,
        key_file: &Path,
        dir: Option<PathBuf>,
        environment: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Secrets, EngineError> {
        let loaded = load_key(key_variable, key_file)
            .map_err(|e| EngineError::Invalid(format!("secrets key: {e}")))?;
        let environment = environment
            .into_iter()
            .filter_map(|(name, value)| {
                let name = name.strip_prefix(ENV_PREFIX)?.to_string();
                is_secret_name(&name).then_some((name, value))
            })
            .collect();
        let mut opened = BTreeMap::new();
        for record in store.secrets().await? {
            let value = open_record(&loaded, &record);
            if let Err(why) = &value {
                tracing::error!("{why}");
            }
            opened.insert(
                record.name.clone(),
                Opened {
                    value,
                    updated_at: record.updated_at,
                },
            );
        }
        let secrets = Secrets {
            key: Some(loaded),
            store: Some((store, committer)),
            environment,
            dir,
            stored: RwLock::new(opened),
            masker: Mutex::new((Masker::default(), Instant::now())),
        };
        secrets.refresh_masker();
        Ok(secrets)
    }

    /// The value of the secret `name`, from the first source that has it.
    pub fn value(&self, name: &str) -> Result<String, String> {
        if let Some(value) = self.environment.get(name) {
            return Ok(value.clone());
        }
        if let Some(value) = self.file_value(name)? {
            return Ok(value);
        }
        match self.read_stored().get(name) {
            Some(opened) => opened.value.clone(),
            None => Err(format!(
                "secret `{name}` is not set (set it with `weir secrets set {name}`, or \
                 ${ENV_PREFIX}{name}, or a file {name} in [secrets] dir)"
            )),
        }
    }

    /// Every secret in force, by name.
    pub fn list(&self) -> Vec<SecretInfo> {
        let stored = self.read_stored();
        let mut out: BTreeMap<String, SecretInfo> = stored
            .iter()
            .map(|(name, opened)| {
                let info = SecretInfo {
                    name: name.clone(),
                    source: Source::Store,
                    updated_at: Some(crate::time::format_us(opened.updated_at)),
                    shadows_stored: false,
                };
                (name.clone(), info)
            })
            .collect();
        for (name, modified) in self.dir_files() {
            let info = SecretInfo {
                name: name.clone(),
                source: Source::File,
                updated_at: modified.map(|at| {
                    crate::time::format_us(
                        chrono::DateTime::<chrono::Utc>::from(at).timestamp_micros(),
                    )
                }),
                shadows_stored: stored.contains_key(&name),
            };
            out.insert(name, info);
        }
        for name in self.environment.keys() {
            let info = SecretInfo {
                name: name.clone(),
                source: Source::Environment,
                updated_at: None,
                shadows_stored: stored.contains_key(name),
            };
            out.insert(name.clone(), info);
        }
        out.into_values().collect()
    }

    /// Seals `value` and stores it as `name`; answers the secret as listed.
    pub async fn set(&self, name: &str, value: &str) -> Result<SecretInfo, EngineError> {
        if !is_secret_name(name) {
            return Err(EngineError::Invalid(format!(
                "`{name}` is not a secret name: {}",
                secret::name_rule()
            )));
        }
        if value.len() > MAX_VALUE_BYTES {
            return Err(EngineError::Invalid(format!(
                "a secret's value is at most {MAX_VALUE_BYTES} bytes, this one has {}",
                value.len()
            )));
        }
        if value.contains('\0') {
            return Err(EngineError::Invalid(
                "a secret's value cannot hold a NUL byte (no environment variable can)".into(),
            ));
        }
        let (Some(key), Some((_, committer))) = (&self.key, &self.store) else {
            return Err(EngineError::Invalid("this server keeps no secrets".into()));
        };
        let sealed = key
            .key
            .seal(name, value.as_bytes())
            .map_err(EngineError::Invalid)?;
        let now = now_us();
        let created_at = match self.stored_record(name).await? {
            Some(existing) => existing.created_at,
            None => now,
        };
        let record = SecretRecord {
            name: name.to_string(),
            sealed,
            key_id: key.key.id().to_string(),
            created_at,
            updated_at: now,
        };
        committer
            .submit(vec![SecretMutation::PutSecret(record)])
            .await
            .map_err(|e| EngineError::Commit(e.to_string()))?;
        self.write_stored().insert(
            name.to_string(),
            Opened {
                value: Ok(value.to_string()),
                updated_at: now,
            },
        );
        self.refresh_masker();
        self.list()
            .into_iter()
            .find(|info| info.name == name)
            .ok_or_else(|| EngineError::NotFound(format!("secret `{name}` vanished")))
    }

    /// Removes the stored secret `name`.
    pub async fn remove(&self, name: &str) -> Result<(), EngineError> {
        let Some((_, committer)) = &self.store else {
            return Err(EngineError::NotFound(format!("no secret `{name}`")));
        };
        if self.stored_record(name).await?.is_none() {
            let elsewhere = if self.environment.contains_key(name) {
                format!(": it comes from the environment (unset ${ENV_PREFIX}{name} there)")
            } else if self.dir_files().iter().any(|(n, _)| n == name) {
                format!(": it comes from a file of [secrets] dir (remove {name} there)")
            } else {
                String::new()
            };
            return Err(EngineError::NotFound(format!(
                "no secret `{name}` in the store{elsewhere}"
            )));
        }
        committer
            .submit(vec![SecretMutation::DeleteSecret {
                name: name.to_string(),
            }])
            .await
            .map_err(|e| EngineError::Commit(e.to_string()))?;
        self.write_stored().remove(name);
        self.refresh_masker();
        Ok(())
    }

    /// The values to mask now: every secret's, from every source.
    pub fn masker(&self) -> Masker {
        let Ok(mut cached) = self.masker.lock() else {
            return Masker::default();
        };
        if self.dir.is_some() && cached.1.elapsed() >= DIR_RESCAN {
            *cached = (self.build_masker(), Instant::now());
        }
        cached.0.clone()
    }

    /// `context` with `secrets` added for the templates among `texts` (the values they read),
    /// and the same with every value shown as `***` (for what weir prints of what ran). Answers
    /// `None` when the templates read no secret.
    pub fn contexts<'a>(
        &self,
        texts: impl IntoIterator<Item = &'a str>,
        context: &Value,
    ) -> Result<Option<(Value, Value)>, String> {
        let names = match secret::reads(texts) {
            Reads::None => return Ok(None),
            Reads::Names(names) => names,
            Reads::All => self.list().into_iter().map(|info| info.name).collect(),
        };
        let mut real = Map::new();
        let mut shown = Map::new();
        for name in names {
            real.insert(name.clone(), Value::String(self.value(&name)?));
            shown.insert(name, Value::String(MASK.into()));
        }
        let with = |secrets: Map<String, Value>| {
            let mut context = context.clone();
            if let Value::Object(map) = &mut context {
                map.insert(secret::ROOT.into(), Value::Object(secrets));
            }
            context
        };
        Ok(Some((with(real), with(shown))))
    }

    /// An action's configuration rendered for an attempt, with the secrets its templates read;
    /// and rendered as weir shows it, each secret as `***` (and any value masked).
    pub fn render_action(
        &self,
        spec: &weir_model::action::ActionSpec,
        context: &Value,
    ) -> Result<RenderedAction, String> {
        let texts = spec.config.values().flat_map(secret::strings);
        let Some((real, shown)) = self.contexts(texts, context)? else {
            let config = weir_model::action::render_config(spec, context)?;
            let shown = self.masker().mask_json(&Value::Object(config.clone()));
            return Ok(RenderedAction {
                config,
                shown: as_object(shown),
            });
        };
        let config = weir_model::action::render_config(spec, &real)?;
        let shown = weir_model::action::render_config(spec, &shown)?;
        let shown = self.masker().mask_json(&Value::Object(shown));
        Ok(RenderedAction {
            config,
            shown: as_object(shown),
        })
    }

    fn refresh_masker(&self) {
        let masker = self.build_masker();
        if let Ok(mut cached) = self.masker.lock() {
            *cached = (masker, Instant::now());
        }
    }

    fn build_masker(&self) -> Masker {
        let mut values: Vec<String> = self.environment.values().cloned().collect();
        values.extend(
            self.read_stored()
                .values()
                .filter_map(|opened| opened.value.clone().ok()),
        );
        for (name, _) in self.dir_files() {
            if let Ok(Some(value)) = self.file_value(&name) {
                values.push(value);
            }
        }
        Masker::new(values)
    }

    async fn stored_record(&self, name: &str) -> Result<Option<SecretRecord>, EngineError> {
        match &self.store {
            Some((store, _)) => Ok(store.secret(name).await?),
            None => Ok(None),
        }
    }

    /// The value of `name` in `[secrets] dir`, its one trailing newline removed.
    fn file_value(&self, name: &str) -> Result<Option<String>, String> {
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        if !is_secret_name(name) {
            return Ok(None);
        }
        let path = dir.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| format!("secret file {} is not UTF-8 text", path.display()))?;
                Ok(Some(without_trailing_newline(text)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read secret file {}: {e}", path.display())),
        }
    }

    /// The secrets of `[secrets] dir`: files with a secret's name (Kubernetes' `..data` and
    /// other entries are not secrets), with when they changed.
    fn dir_files(&self) -> Vec<(String, Option<SystemTime>)> {
        let Some(dir) = &self.dir else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out: Vec<_> = entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let metadata = std::fs::metadata(entry.path()).ok()?;
                (is_secret_name(&name) && metadata.is_file())
                    .then(|| (name, metadata.modified().ok()))
            })
            .collect();
        out.sort();
        out
    }

    fn read_stored(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Opened>> {
        self.stored.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_stored(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Opened>> {
        self.stored.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// A stored secret's value, or why it does not open (naming the key's source, never the key).
fn open_record(loaded: &key::LoadedKey, record: &SecretRecord) -> Result<String, String> {
    let name = &record.name;
    if record.key_id != loaded.key.id() {
        return Err(format!(
            "secret `{name}` was sealed with another key (id {}) than {} (id {}): restore the \
             key it was set with, or set the secret again",
            record.key_id,
            loaded.source,
            loaded.key.id()
        ));
    }
    match loaded.key.open(name, &record.sealed) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
            format!(
                "secret `{name}` opened with {} to bytes that are not UTF-8",
                loaded.source
            )
        }),
        Err(_) => Err(format!(
            "secret `{name}` does not open with {} although it was sealed with it: its stored \
             value was changed or damaged; set it again",
            loaded.source
        )),
    }
}

fn as_object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn without_trailing_newline(mut text: String) -> String {
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    text
}

#[cfg(test)]
mod tests;
