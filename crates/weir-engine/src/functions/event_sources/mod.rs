//! Event source mappings, weir's Lambda trigger from streams and queues: a stream's mapping is a
//! consumer group (`weir_stream::consumer`) on its stream whose processor invokes the function
//! with Lambda's Kinesis event (`event.rs`, `processor.rs`), checkpointing only what succeeded,
//! and describing what it gives up on to the on-failure destination (`failure.rs`); a queue's
//! mapping is a set of pollers (`queue_poller.rs`) that invoke the function with Lambda's SQS
//! event (`queue_event.rs`) and delete what it processed.
//!
//! Mappings come from two places: `event_sources:` in `functions/*.yaml` (definitions, re-read
//! when the files change, with a UUID derived from the function, the stream and the position in
//! the file, so it stays the same across restarts), and the Lambda API (kept in the store).
//! [`EventSources`] holds both and runs the enabled ones.

mod event;
mod failure;
mod processor;
mod queue_event;
mod queue_poller;
#[cfg(test)]
mod queue_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weir_model::event_source::{EventSourceConfig, Source, StartingPosition};
use weir_store::{
    Committer, ConsumerMutation, EventSourceMappingRecord, EventSourceMutation, Mutation, Store,
};
use weir_stream::Streams;
use weir_stream::consumer::{self, GroupHandle, GroupOptions, ShardLag};

pub use failure::ObjectWriter;

use super::Functions;
use crate::queues::Queues;

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
    /// The stream's or the queue's ARN (`EventSourceArn`).
    pub source_arn: String,
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
    /// The stream's or the queue's ARN.
    pub source_arn: String,
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

/// One mapping and, when enabled, what runs it.
struct Entry {
    record: EventSourceMappingRecord,
    config: EventSourceConfig,
    source: String,
    runtime: Arc<Runtime>,
    running: Option<Running>,
}

/// What runs an enabled mapping: a stream's consumer group or a queue's pollers.
enum Running {
    Group(GroupHandle),
    Pollers(queue_poller::PollerHandle),
}

impl Running {
    async fn stop(self) {
        match self {
            Running::Group(group) => group.stop().await,
            Running::Pollers(pollers) => pollers.stop().await,
        }
    }
}

/// The event source mappings of a server. Cheap to clone.
#[derive(Clone)]
pub struct EventSources {
    inner: Arc<Inner>,
}

struct Inner {
    streams: Streams,
    /// The server's queues, for queue mappings (None: a queue mapping is refused).
    queues: Option<Queues>,
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
        queues: Option<Queues>,
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
                queues,
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

    /// The ARN of what a mapping reads.
    fn source_arn(&self, config: &EventSourceConfig) -> String {
        match config.source() {
            Source::Stream(stream) => self.stream_arn(stream),
            Source::Queue(queue) => format!(
                "arn:aws:sqs:{}:{}:{queue}",
                self.inner.region, self.inner.account
            ),
        }
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
            source_arn: self.source_arn(&config),
            config: config.clone(),
            last_result: Mutex::new("No records processed".into()),
        });
        let running = (record.state == "Enabled")
            .then(|| self.run(&runtime))
            .flatten();
        Entry {
            record,
            config,
            source,
            runtime,
            running,
        }
    }

    /// Starts what runs a mapping: its consumer group, or its queue's pollers (none when this
    /// server has no queues).
    fn run(&self, runtime: &Arc<Runtime>) -> Option<Running> {
        match runtime.config.source() {
            Source::Stream(_) => Some(Running::Group(self.run_group(runtime))),
            Source::Queue(queue) => {
                let Some(queues) = &self.inner.queues else {
                    tracing::error!(mapping = %runtime.uuid, queue, "this server has no queues: the mapping does not run");
                    return None;
                };
                Some(Running::Pollers(queue_poller::start(
                    Arc::clone(runtime),
                    Arc::clone(&self.inner.functions),
                    queues.clone(),
                    queue,
                    &self.inner.region,
                )))
            }
        }
    }

    /// Starts the consumer group of a stream's mapping.
    fn run_group(&self, runtime: &Arc<Runtime>) -> GroupHandle {
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
            source_arn: self.source_arn(&entry.config),
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
            .find(|e| e.record.function_name == function && e.config.source() == config.source())
        {
            return Err(MappingError::Conflict(format!(
                "The event source arn (\" {} \") and function (\" {function} \") provided mapping already exists. Please update or delete the existing mapping with UUID {}",
                self.source_arn(&config),
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

    /// ListEventSourceMappings: those of a function, of a stream or queue, or all; oldest first.
    pub async fn list(
        &self,
        function: Option<&str>,
        source: Option<Source<'_>>,
    ) -> Vec<MappingInfo> {
        self.sync_definitions().await;
        let entries = self.inner.entries.lock().await;
        let mut found: Vec<MappingInfo> = entries
            .values()
            .filter(|e| function.is_none_or(|f| e.record.function_name == f))
            .filter(|e| source.is_none_or(|s| e.config.source() == s))
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
        if let Some(running) = old.running {
            running.stop().await;
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
        if let Some(running) = entry.running {
            running.stop().await;
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
        Ok(match &entry.running {
            Some(Running::Group(group)) => group.lag(),
            _ => Vec::new(),
        })
    }

    /// Stops every mapping's group (each finishes the batch it is in).
    pub async fn stop(&self) {
        let mut entries = self.inner.entries.lock().await;
        for entry in entries.values_mut() {
            if let Some(running) = entry.running.take() {
                running.stop().await;
            }
        }
    }

    /// Refuses a mapping whose function, stream or queue does not exist, or whose settings do
    /// not go together.
    fn check(&self, function: &str, config: &EventSourceConfig) -> Result<(), MappingError> {
        if self.inner.functions.get(function).is_none() {
            return Err(MappingError::NotFound(format!(
                "Function not found: {}",
                self.function_arn(function)
            )));
        }
        match config.source() {
            Source::Stream(stream) if self.inner.streams.describe(stream).is_err() => {
                return Err(MappingError::Invalid(format!(
                    "Stream not found: {}",
                    self.stream_arn(stream)
                )));
            }
            Source::Queue(queue) => {
                let exists = self
                    .inner
                    .queues
                    .as_ref()
                    .is_some_and(|queues| queues.queue_arn(queue).is_ok());
                if !exists {
                    // Lambda's words: it finds out by receiving from the queue.
                    return Err(MappingError::Invalid(
                        "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist for this wsdl version.".to_string(),
                    ));
                }
            }
            Source::Stream(_) => {}
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
                let source = match config.source() {
                    Source::Stream(stream) => stream.to_string(),
                    Source::Queue(queue) => format!("queue:{queue}"),
                };
                let uuid = definition_uuid(&function, &source, position);
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
                && let Some(running) = entry.running
            {
                running.stop().await;
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
