//! Event source mappings, weir's Lambda trigger from streams: each mapping is a consumer group
//! (`weir_stream::consumer`) on its stream whose processor invokes the function with Lambda's
//! Kinesis event (`event.rs`, `processor.rs`), checkpointing only what succeeded, and describing
//! what it gives up on to the on-failure destination (`failure.rs`).
//!
//! Mappings come from two places: `event_sources:` in `functions/*.yaml` (definitions, re-read
//! when the files change, with a UUID derived from the function, the stream and the position in
//! the file, so it stays the same across restarts), and the Lambda API (kept in the store).
//! [`EventSources`] holds both and runs the enabled ones.

mod event;
mod failure;
mod processor;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weir_model::event_source::{EventSourceConfig, StartingPosition};
use weir_store::{
    Committer, ConsumerMutation, EventSourceMappingRecord, EventSourceMutation, Mutation, Store,
};
use weir_stream::Streams;
use weir_stream::consumer::{self, GroupHandle, GroupOptions, ShardLag};

pub use failure::ObjectWriter;

use super::Functions;

/// How often definitions in files are compared with the mappings running.
const DEFINITIONS_EVERY: Duration = Duration::from_secs(2);
/// Most data bytes in one batch: Lambda's 6 MB payload, less base64's growth and the envelope.
const BATCH_BYTES: usize = 4 << 20;

/// What a mapping is, as the Lambda API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingInfo {
    pub uuid: String,
    pub function_name: String,
    pub function_arn: String,
    pub stream_arn: String,
    pub config: EventSourceConfig,
    /// `Enabled` or `Disabled`.
    pub state: String,
    pub state_reason: String,
    /// `No records processed`, `OK` or `PROBLEM: …`.
    pub last_processing_result: String,
    /// Milliseconds since the epoch.
    pub last_modified_ms: i64,
    /// `api`, or the file that defines it.
    pub source: String,
}

/// Why a request about mappings was refused, in the Lambda API's terms.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MappingError {
    /// ResourceNotFoundException.
    #[error("{0}")]
    NotFound(String),
    /// ResourceConflictException.
    #[error("{0}")]
    Conflict(String),
    /// InvalidParameterValueException.
    #[error("{0}")]
    Invalid(String),
    /// ResourceInUseException: a mapping defined in a file is changed in the file.
    #[error("{0}")]
    InUse(String),
    /// ServiceException: the store refused.
    #[error("{0}")]
    Service(String),
}

/// What the processor and the listing share about a running mapping.
pub(crate) struct Runtime {
    pub uuid: String,
    pub function: String,
    pub function_arn: String,
    pub stream_arn: String,
    pub config: EventSourceConfig,
    last_result: Mutex<String>,
}

impl Runtime {
    fn set_result(&self, result: &str) {
        let mut last = self.last_result.lock().unwrap_or_else(|e| e.into_inner());
        if *last != result {
            *last = result.to_string();
        }
    }

    fn result(&self) -> String {
        self.last_result
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// One mapping and, when enabled, its running group.
struct Entry {
    record: EventSourceMappingRecord,
    config: EventSourceConfig,
    source: String,
    runtime: Arc<Runtime>,
    group: Option<GroupHandle>,
}

/// The event source mappings of a server. Cheap to clone.
#[derive(Clone)]
pub struct EventSources {
    inner: Arc<Inner>,
}

struct Inner {
    streams: Streams,
    store: Arc<dyn Store>,
    committer: Committer,
    functions: Arc<Functions>,
    objects: Option<Arc<dyn ObjectWriter>>,
    /// This server in the lease tables.
    owner: String,
    region: String,
    account: String,
    entries: tokio::sync::Mutex<BTreeMap<String, Entry>>,
}

impl EventSources {
    /// Loads the mappings made through the API and those in function files, and starts the
    /// enabled ones.
    pub async fn start(
        streams: Streams,
        store: Arc<dyn Store>,
        committer: Committer,
        functions: Arc<Functions>,
        objects: Option<Arc<dyn ObjectWriter>>,
    ) -> Result<EventSources, MappingError> {
        let config = streams.config();
        let (region, account) = (config.region.clone(), config.account.clone());
        let sources = EventSources {
            inner: Arc::new(Inner {
                streams,
                store: store.clone(),
                committer,
                functions,
                objects,
                owner: format!("weir-{:016x}", fastrand::u64(..)),
                region,
                account,
                entries: tokio::sync::Mutex::new(BTreeMap::new()),
            }),
        };
        let stored = store
            .event_source_mappings()
            .await
            .map_err(|e| MappingError::Service(e.to_string()))?;
        {
            let mut entries = sources.inner.entries.lock().await;
            for record in stored {
                let config: EventSourceConfig = match serde_json::from_value(record.config.clone())
                {
                    Ok(config) => config,
                    Err(error) => {
                        tracing::error!(uuid = %record.uuid, %error, "a stored event source mapping cannot be read; it is not run");
                        continue;
                    }
                };
                let entry = sources.entry(record, config, "api".into());
                entries.insert(entry.record.uuid.clone(), entry);
            }
        }
        sources.sync_definitions().await;
        tokio::spawn(definitions_loop(Arc::downgrade(&sources.inner)));
        Ok(sources)
    }

    fn function_arn(&self, function: &str) -> String {
        self.inner.functions.arn(function)
    }

    fn stream_arn(&self, stream: &str) -> String {
        match self.inner.streams.describe(stream) {
            Ok(description) => description.arn,
            Err(_) => format!(
                "arn:aws:kinesis:{}:{}:stream/{stream}",
                self.inner.region, self.inner.account
            ),
        }
    }

    /// An entry for `record`, started if enabled.
    fn entry(
        &self,
        record: EventSourceMappingRecord,
        config: EventSourceConfig,
        source: String,
    ) -> Entry {
        let runtime = Arc::new(Runtime {
            uuid: record.uuid.clone(),
            function: record.function_name.clone(),
            function_arn: self.function_arn(&record.function_name),
            stream_arn: self.stream_arn(&config.stream),
            config: config.clone(),
            last_result: Mutex::new("No records processed".into()),
        });
        let group = (record.state == "Enabled").then(|| self.run(&runtime));
        Entry {
            record,
            config,
            source,
            runtime,
            group,
        }
    }

    /// Starts the consumer group of a mapping.
    fn run(&self, runtime: &Arc<Runtime>) -> GroupHandle {
        let config = &runtime.config;
        let start = match config.starting_position {
            StartingPosition::TrimHorizon => weir_stream::StartingPosition::TrimHorizon,
            StartingPosition::Latest => weir_stream::StartingPosition::Latest,
            StartingPosition::AtTimestamp => weir_stream::StartingPosition::AtTimestamp(
                (config.starting_position_timestamp.unwrap_or(0.0) * 1000.0) as i64,
            ),
        };
        let mut options = GroupOptions::new(
            &group_name(&runtime.uuid),
            &config.stream,
            &self.inner.owner,
            start,
        );
        options.description = format!(
            "function {} (event source mapping {})",
            runtime.function, runtime.uuid
        );
        options.batch_size = config.batch_size as usize;
        options.batch_bytes = BATCH_BYTES;
        options.batching_window = Duration::from_secs(u64::from(config.batching_window_seconds));
        let processor = processor::StreamInvoker::new(
            Arc::clone(runtime),
            Arc::clone(&self.inner.functions),
            self.inner.streams.clone(),
            self.inner.objects.clone(),
            self.inner.region.clone(),
            format!("arn:aws:iam::{}:role/weir", self.inner.account),
        );
        consumer::start(
            self.inner.streams.clone(),
            Arc::clone(&self.inner.store),
            self.inner.committer.clone(),
            options,
            processor,
        )
    }

    fn info(&self, entry: &Entry) -> MappingInfo {
        MappingInfo {
            uuid: entry.record.uuid.clone(),
            function_name: entry.record.function_name.clone(),
            function_arn: entry.runtime.function_arn.clone(),
            stream_arn: self.stream_arn(&entry.config.stream),
            config: entry.config.clone(),
            state: entry.record.state.clone(),
            state_reason: entry.record.state_reason.clone(),
            last_processing_result: entry.runtime.result(),
            last_modified_ms: entry.record.updated_at / 1000,
            source: entry.source.clone(),
        }
    }

    /// CreateEventSourceMapping.
    pub async fn create(
        &self,
        function: &str,
        config: EventSourceConfig,
    ) -> Result<MappingInfo, MappingError> {
        self.check(function, &config)?;
        let mut entries = self.inner.entries.lock().await;
        if let Some(existing) = entries
            .values()
            .find(|e| e.record.function_name == function && e.config.stream == config.stream)
        {
            return Err(MappingError::Conflict(format!(
                "The event source arn (\" {} \") and function (\" {function} \") provided mapping already exists. Please update or delete the existing mapping with UUID {}",
                self.stream_arn(&config.stream),
                existing.record.uuid
            )));
        }
        let now = now_micros();
        let record = EventSourceMappingRecord {
            uuid: random_uuid(),
            function_name: function.to_string(),
            config: to_json(&config)?,
            state: state_of(&config).into(),
            state_reason: "USER_INITIATED".into(),
            created_at: now,
            updated_at: now,
        };
        self.commit(vec![EventSourceMutation::PutMapping(record.clone()).into()])
            .await?;
        let entry = self.entry(record, config, "api".into());
        let info = self.info(&entry);
        entries.insert(info.uuid.clone(), entry);
        Ok(info)
    }

    /// GetEventSourceMapping.
    pub async fn get(&self, uuid: &str) -> Result<MappingInfo, MappingError> {
        self.sync_definitions().await;
        let entries = self.inner.entries.lock().await;
        entries
            .get(uuid)
            .map(|entry| self.info(entry))
            .ok_or_else(|| not_found(uuid))
    }

    /// ListEventSourceMappings: those of a function, of a stream, or all; oldest first.
    pub async fn list(&self, function: Option<&str>, stream: Option<&str>) -> Vec<MappingInfo> {
        self.sync_definitions().await;
        let entries = self.inner.entries.lock().await;
        let mut found: Vec<MappingInfo> = entries
            .values()
            .filter(|e| function.is_none_or(|f| e.record.function_name == f))
            .filter(|e| stream.is_none_or(|s| e.config.stream == s))
            .map(|entry| self.info(entry))
            .collect();
        found.sort_by(|a, b| (a.last_modified_ms, &a.uuid).cmp(&(b.last_modified_ms, &b.uuid)));
        found
    }

    /// UpdateEventSourceMapping: `change` edits the settings (and `function`, the function).
    pub async fn update(
        &self,
        uuid: &str,
        function: Option<&str>,
        change: impl FnOnce(&mut EventSourceConfig),
    ) -> Result<MappingInfo, MappingError> {
        let mut entries = self.inner.entries.lock().await;
        let entry = entries.get(uuid).ok_or_else(|| not_found(uuid))?;
        if entry.source != "api" {
            return Err(in_file(uuid, &entry.source));
        }
        let mut config = entry.config.clone();
        change(&mut config);
        let function = function.unwrap_or(&entry.record.function_name).to_string();
        self.check(&function, &config)?;
        let record = EventSourceMappingRecord {
            function_name: function,
            config: to_json(&config)?,
            state: state_of(&config).into(),
            state_reason: "USER_INITIATED".into(),
            updated_at: now_micros(),
            ..entry.record.clone()
        };
        self.commit(vec![EventSourceMutation::PutMapping(record.clone()).into()])
            .await?;
        let Some(old) = entries.remove(uuid) else {
            return Err(not_found(uuid));
        };
        if let Some(group) = old.group {
            group.stop().await;
        }
        let entry = self.entry(record, config, "api".into());
        let info = self.info(&entry);
        entries.insert(uuid.to_string(), entry);
        Ok(info)
    }

    /// DeleteEventSourceMapping: stops it and forgets its checkpoints.
    pub async fn delete(&self, uuid: &str) -> Result<MappingInfo, MappingError> {
        let mut entries = self.inner.entries.lock().await;
        let entry = entries.get(uuid).ok_or_else(|| not_found(uuid))?;
        if entry.source != "api" {
            return Err(in_file(uuid, &entry.source));
        }
        let info = self.info(entry);
        let Some(entry) = entries.remove(uuid) else {
            return Err(not_found(uuid));
        };
        if let Some(group) = entry.group {
            group.stop().await;
        }
        let batch: Vec<Mutation> = vec![
            EventSourceMutation::DeleteMapping {
                uuid: uuid.to_string(),
            }
            .into(),
            ConsumerMutation::DeleteGroup {
                group_name: group_name(uuid),
            }
            .into(),
        ];
        self.commit(batch).await?;
        Ok(info)
    }

    /// How far behind each shard of a mapping is (the shards this server holds).
    pub async fn lag(&self, uuid: &str) -> Result<Vec<ShardLag>, MappingError> {
        let entries = self.inner.entries.lock().await;
        let entry = entries.get(uuid).ok_or_else(|| not_found(uuid))?;
        Ok(entry
            .group
            .as_ref()
            .map(GroupHandle::lag)
            .unwrap_or_default())
    }

    /// Stops every mapping's group (each finishes the batch it is in).
    pub async fn stop(&self) {
        let mut entries = self.inner.entries.lock().await;
        for entry in entries.values_mut() {
            if let Some(group) = entry.group.take() {
                group.stop().await;
            }
        }
    }

    /// Refuses a mapping whose function or stream does not exist, or whose settings do not go
    /// together.
    fn check(&self, function: &str, config: &EventSourceConfig) -> Result<(), MappingError> {
        if self.inner.functions.get(function).is_none() {
            return Err(MappingError::NotFound(format!(
                "Function not found: {}",
                self.function_arn(function)
            )));
        }
        if self.inner.streams.describe(&config.stream).is_err() {
            return Err(MappingError::Invalid(format!(
                "Stream not found: {}",
                self.stream_arn(&config.stream)
            )));
        }
        match config.problems().into_iter().next() {
            Some(problem) => Err(MappingError::Invalid(problem)),
            None => Ok(()),
        }
    }

    async fn commit(&self, batch: Vec<Mutation>) -> Result<(), MappingError> {
        self.inner
            .committer
            .submit(batch)
            .await
            .map_err(|e| MappingError::Service(e.to_string()))
    }

    /// Brings the mappings of function files in line with the files: new ones start, removed
    /// ones stop, changed ones restart.
    async fn sync_definitions(&self) {
        let mut wanted: BTreeMap<String, (String, EventSourceConfig, String)> = BTreeMap::new();
        for (function, file, configs) in self.inner.functions.event_sources() {
            for (position, config) in configs.into_iter().enumerate() {
                let uuid = definition_uuid(&function, &config.stream, position);
                wanted.insert(uuid, (function.clone(), config, file.clone()));
            }
        }
        let mut entries = self.inner.entries.lock().await;
        let stale: Vec<String> = entries
            .iter()
            .filter(|(uuid, entry)| {
                entry.source != "api"
                    && wanted.get(*uuid).is_none_or(|(function, config, _)| {
                        *function != entry.record.function_name || *config != entry.config
                    })
            })
            .map(|(uuid, _)| uuid.clone())
            .collect();
        for uuid in stale {
            if let Some(entry) = entries.remove(&uuid)
                && let Some(group) = entry.group
            {
                group.stop().await;
            }
        }
        for (uuid, (function, config, file)) in wanted {
            if entries.contains_key(&uuid) {
                continue;
            }
            let now = now_micros();
            let record = EventSourceMappingRecord {
                uuid: uuid.clone(),
                function_name: function,
                config: serde_json::Value::Null,
                state: state_of(&config).into(),
                state_reason: "USER_INITIATED".into(),
                created_at: now,
                updated_at: now,
            };
            let entry = self.entry(record, config, file);
            entries.insert(uuid, entry);
        }
    }
}

async fn definitions_loop(inner: std::sync::Weak<Inner>) {
    loop {
        tokio::time::sleep(DEFINITIONS_EVERY).await;
        let Some(inner) = inner.upgrade() else { return };
        EventSources { inner }.sync_definitions().await;
    }
}

/// The consumer group of a mapping.
fn group_name(uuid: &str) -> String {
    format!("lambda:{uuid}")
}

fn state_of(config: &EventSourceConfig) -> &'static str {
    if config.enabled {
        "Enabled"
    } else {
        "Disabled"
    }
}

fn to_json(config: &EventSourceConfig) -> Result<serde_json::Value, MappingError> {
    serde_json::to_value(config).map_err(|e| MappingError::Service(e.to_string()))
}

fn not_found(uuid: &str) -> MappingError {
    MappingError::NotFound(format!(
        "The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: {uuid})"
    ))
}

fn in_file(uuid: &str, file: &str) -> MappingError {
    MappingError::InUse(format!(
        "The event source mapping {uuid} is defined in {file}: change it there"
    ))
}

/// A random (version 4) UUID.
pub(crate) fn random_uuid() -> String {
    let bytes: [u8; 16] = std::array::from_fn(|_| fastrand::u8(..));
    format_uuid(bytes, 4)
}

/// A UUID derived from a definition (version 5 style, from SHA-256): the same definition gets the
/// same UUID on every start.
fn definition_uuid(function: &str, stream: &str, position: usize) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("weir:event-source:{function}:{stream}:{position}").as_bytes(),
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    format_uuid(bytes, 5)
}

fn format_uuid(mut bytes: [u8; 16], version: u8) -> String {
    bytes[6] = (bytes[6] & 0x0f) | (version << 4);
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

#[cfg(test)]
mod uuid_tests {
    use super::*;

    #[test]
    fn uuids_look_like_uuids_and_definitions_keep_theirs() {
        let a = random_uuid();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, random_uuid());
        let d = definition_uuid("score", "orders", 0);
        assert_eq!(d, definition_uuid("score", "orders", 0));
        assert_ne!(d, definition_uuid("score", "orders", 1));
        assert_eq!(&d[14..15], "5");
    }
}
