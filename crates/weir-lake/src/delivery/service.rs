//! The deliveries a server runs: those of `deliveries/*.yaml` and those made through the
//! Firehose API (kept in the metadata store as the text of a delivery file), each running as a
//! consumer group on its stream. Direct puts go into the delivery's backing stream, durably,
//! before PutRecord answers; the group delivers them like any stream's records.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::Mutex;
use weir_model::Problem;
use weir_model::delivery::{
    DeliveryActivity, DeliveryInfo, DeliverySpec, Draft, Source, parse_delivery,
};
use weir_store::{Committer, ConsumerMutation, DeliveryMutation, DeliveryRecord, Mutation, Store};
use weir_stream::consumer::{self, GroupHandle};
use weir_stream::{NewRecord, NewStream, StreamError, StreamMode, Streams};

use super::processor::{DeliveryProcessor, group_name, group_options};
use super::{Delivery, DeliveryContext};

/// Tags a delivery may have (Firehose's quota).
pub const MAX_TAGS: usize = 50;
/// The partition key of direct puts in the backing stream (it has one shard).
const DIRECT_PARTITION_KEY: &str = "direct";

/// A refusal in Firehose's terms: the exception's name and its message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    pub code: &'static str,
    pub message: String,
}

impl ServiceError {
    fn new(code: &'static str, message: impl Into<String>) -> ServiceError {
        ServiceError {
            code,
            message: message.into(),
        }
    }

    fn internal(error: impl std::fmt::Display) -> ServiceError {
        ServiceError::new("ServiceUnavailableException", error.to_string())
    }
}

struct Running {
    info: DeliveryInfo,
    group: GroupHandle,
    activity: Arc<std::sync::Mutex<DeliveryActivity>>,
}

/// Every delivery of one server. Cloning shares it.
#[derive(Clone)]
pub struct Deliveries {
    inner: Arc<Inner>,
}

struct Inner {
    context: DeliveryContext,
    streams: Streams,
    store: Arc<dyn Store>,
    committer: Committer,
    /// Who this server is in the consumer groups' lease tables.
    owner: String,
    running: Mutex<BTreeMap<String, Running>>,
    /// Held through a whole CreateDeliveryStream, so two creates of one name cannot both pass
    /// the check and start two consumer groups over the same shards (creates are rare).
    creating: Mutex<()>,
}

impl Deliveries {
    /// Starts the deliveries of `project/deliveries/*.yaml` and of the store. A file with
    /// problems is skipped and its problems returned.
    pub async fn start(
        context: DeliveryContext,
        streams: Streams,
        store: Arc<dyn Store>,
        committer: Committer,
        project: Option<&Path>,
        owner: &str,
    ) -> Result<(Deliveries, Vec<Problem>), ServiceError> {
        let deliveries = Deliveries {
            inner: Arc::new(Inner {
                creating: Mutex::new(()),
                context,
                streams,
                store: store.clone(),
                committer,
                owner: owner.to_string(),
                running: Mutex::new(BTreeMap::new()),
            }),
        };
        let (files, problems) = project.map(read_files).unwrap_or_default();
        for (file, spec) in files {
            let info = deliveries.info(spec, None, Some(file), 1, now(), Vec::new());
            deliveries.run(info).await?;
        }
        for record in store.deliveries().await.map_err(ServiceError::internal)? {
            if deliveries
                .inner
                .running
                .lock()
                .await
                .contains_key(&record.name)
            {
                tracing::warn!(
                    delivery = %record.name,
                    "a delivery file and an API-made delivery share this name: the file's runs"
                );
                continue;
            }
            match parse_delivery(
                &format!("store:{}", record.name),
                &record.name,
                &record.definition,
            ) {
                Ok(spec) => {
                    let tags = tags_from(&record.tags);
                    let info = deliveries.info(
                        spec,
                        Some(record.request.clone()),
                        None,
                        record.version,
                        record.created_at,
                        tags,
                    );
                    deliveries.run(info).await?;
                }
                Err(found) => {
                    for problem in &found {
                        tracing::error!("stored delivery `{}`: {problem}", record.name);
                    }
                }
            }
        }
        Ok((deliveries, problems))
    }

    fn info(
        &self,
        spec: DeliverySpec,
        request: Option<Value>,
        file: Option<String>,
        version: i64,
        created_at: i64,
        tags: Vec<(String, String)>,
    ) -> DeliveryInfo {
        let context = &self.inner.context;
        let source_stream_arn = match &spec.source {
            Source::Stream { name, .. } => Some(self.inner.streams.config().stream_arn(name)),
            Source::Direct => None,
        };
        DeliveryInfo {
            arn: format!(
                "arn:aws:firehose:{}:{}:deliverystream/{}",
                context.region, context.account, spec.name
            ),
            spec,
            source_stream_arn,
            version,
            created_at,
            updated_at: created_at,
            request,
            file,
            tags,
        }
    }

    /// Makes the backing stream of a direct-put delivery, and starts its group.
    async fn run(&self, info: DeliveryInfo) -> Result<(), ServiceError> {
        if info.spec.source == Source::Direct {
            let created = self
                .inner
                .streams
                .create_stream(NewStream {
                    name: info.spec.stream(),
                    mode: StreamMode::Provisioned,
                    shard_count: Some(1),
                    tags: Vec::new(),
                })
                .await;
            match created {
                Ok(_) | Err(StreamError::InUse { .. }) => {}
                Err(e) => return Err(ServiceError::internal(e)),
            }
        }
        let delivery = Arc::new(Delivery::new(info.spec.clone(), &self.inner.context));
        let processor = DeliveryProcessor::new(delivery);
        let activity = Arc::clone(&processor.activity);
        let group = consumer::start(
            self.inner.streams.clone(),
            self.inner.store.clone(),
            self.inner.committer.clone(),
            group_options(&info.spec, &self.inner.owner),
            Arc::new(processor),
        );
        tracing::info!(delivery = %info.spec.name, stream = %info.spec.stream(), "delivery started");
        self.inner.running.lock().await.insert(
            info.spec.name.clone(),
            Running {
                info,
                group,
                activity,
            },
        );
        Ok(())
    }

    fn not_found(&self, name: &str) -> ServiceError {
        ServiceError::new(
            "ResourceNotFoundException",
            format!(
                "Firehose {name} under account {} not found.",
                self.inner.context.account
            ),
        )
    }

    /// CreateDeliveryStream: checks the draft, stores it, starts it.
    pub async fn create(
        &self,
        draft: Draft,
        request: Value,
        tags: Vec<(String, String)>,
    ) -> Result<DeliveryInfo, ServiceError> {
        let name = draft.name.clone();
        let _creating = self.inner.creating.lock().await;
        if self.inner.running.lock().await.contains_key(&name) {
            return Err(ServiceError::new(
                "ResourceInUseException",
                format!(
                    "Firehose {name} under accountId {} already exists",
                    self.inner.context.account
                ),
            ));
        }
        if tags.len() > MAX_TAGS {
            return Err(ServiceError::new(
                "LimitExceededException",
                format!("A Firehose stream can have at most {MAX_TAGS} tags."),
            ));
        }
        let definition = draft.definition().to_string();
        let spec =
            parse_delivery(&format!("store:{name}"), &name, &definition).map_err(|found| {
                let messages: Vec<String> = found.iter().map(|p| p.message.clone()).collect();
                ServiceError::new("InvalidArgumentException", messages.join("; "))
            })?;
        let created_at = now();
        let record = DeliveryRecord {
            name: name.clone(),
            definition,
            request: request.clone(),
            tags: tags_json(&tags),
            version: 1,
            created_at,
            updated_at: created_at,
        };
        self.inner
            .store
            .apply(&[DeliveryMutation::PutDelivery(record).into()])
            .await
            .map_err(ServiceError::internal)?;
        let info = self.info(spec, Some(request), None, 1, created_at, tags);
        self.run(info.clone()).await?;
        Ok(info)
    }

    /// DeleteDeliveryStream: stops it, forgets it, and drops what it had not delivered (its
    /// backing stream), as Firehose does.
    pub async fn delete(&self, name: &str) -> Result<(), ServiceError> {
        let mut running = self.inner.running.lock().await;
        let Some(entry) = running.get(name) else {
            return Err(self.not_found(name));
        };
        if let Some(file) = &entry.info.file {
            return Err(ServiceError::new(
                "ResourceInUseException",
                format!("Firehose {name} is defined in {file}: remove the file to delete it"),
            ));
        }
        let Some(entry) = running.remove(name) else {
            return Err(self.not_found(name));
        };
        drop(running);
        entry.group.stop().await;
        let batch: Vec<Mutation> = vec![
            DeliveryMutation::DeleteDelivery {
                name: name.to_string(),
            }
            .into(),
            ConsumerMutation::DeleteGroup {
                group_name: group_name(name),
            }
            .into(),
        ];
        self.inner
            .store
            .apply(&batch)
            .await
            .map_err(ServiceError::internal)?;
        if entry.info.spec.source == Source::Direct {
            match self
                .inner
                .streams
                .delete_stream(&entry.info.spec.stream(), true)
                .await
            {
                Ok(()) | Err(StreamError::NotFound { .. }) => {}
                Err(e) => tracing::warn!(delivery = name, "cannot delete the backing stream: {e}"),
            }
        }
        Ok(())
    }

    pub async fn describe(&self, name: &str) -> Result<DeliveryInfo, ServiceError> {
        self.inner
            .running
            .lock()
            .await
            .get(name)
            .map(|r| r.info.clone())
            .ok_or_else(|| self.not_found(name))
    }

    /// What a delivery did since this server started it: counts, its latest objects and errors.
    pub async fn activity(&self, name: &str) -> Option<DeliveryActivity> {
        let running = self.inner.running.lock().await;
        let activity = &running.get(name)?.activity;
        Some(activity.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// Every delivery, by name.
    pub async fn list(&self) -> Vec<DeliveryInfo> {
        let running = self.inner.running.lock().await;
        running.values().map(|r| r.info.clone()).collect()
    }

    /// PutRecord / PutRecordBatch: each record's id (its sequence number in the backing
    /// stream) or its error code and message. Returns once the records are durable.
    pub async fn put(
        &self,
        name: &str,
        records: Vec<Bytes>,
    ) -> Result<Vec<Result<String, (String, String)>>, ServiceError> {
        let spec = self.describe(name).await?.spec;
        if spec.source != Source::Direct {
            return Err(ServiceError::new(
                "InvalidArgumentException",
                "This operation is not permitted on KinesisStreamAsSource delivery stream type.",
            ));
        }
        let records = records
            .into_iter()
            .map(|data| NewRecord {
                partition_key: DIRECT_PARTITION_KEY.to_string(),
                explicit_hash_key: None,
                data,
            })
            .collect();
        let results = self
            .inner
            .streams
            .put(&spec.stream(), records)
            .await
            .map_err(ServiceError::internal)?;
        Ok(results
            .into_iter()
            .map(|r| match r {
                Ok(appended) => Ok(appended.sequence.to_string()),
                Err(failure) => Err((failure.error_code, failure.error_message)),
            })
            .collect())
    }

    /// TagDeliveryStream / UntagDeliveryStream: `add` replaces values by key; `remove` drops keys.
    pub async fn retag(
        &self,
        name: &str,
        add: Vec<(String, String)>,
        remove: Vec<String>,
    ) -> Result<(), ServiceError> {
        let mut running = self.inner.running.lock().await;
        let Some(entry) = running.get_mut(name) else {
            return Err(self.not_found(name));
        };
        if let Some(file) = &entry.info.file {
            return Err(ServiceError::new(
                "ResourceInUseException",
                format!("Firehose {name} is defined in {file}, which has no tags"),
            ));
        }
        let mut tags = entry.info.tags.clone();
        for (key, value) in add {
            match tags.iter_mut().find(|(k, _)| *k == key) {
                Some(existing) => existing.1 = value,
                None => tags.push((key, value)),
            }
        }
        tags.retain(|(k, _)| !remove.contains(k));
        if tags.len() > MAX_TAGS {
            return Err(ServiceError::new(
                "LimitExceededException",
                format!("A Firehose stream can have at most {MAX_TAGS} tags."),
            ));
        }
        let Some(mut record) = self
            .inner
            .store
            .delivery(name)
            .await
            .map_err(ServiceError::internal)?
        else {
            return Err(self.not_found(name));
        };
        record.tags = tags_json(&tags);
        record.updated_at = now();
        self.inner
            .store
            .apply(&[DeliveryMutation::PutDelivery(record).into()])
            .await
            .map_err(ServiceError::internal)?;
        entry.info.tags = tags;
        Ok(())
    }

    /// Stops every group, each after the batch it is in.
    pub async fn stop(&self) {
        let running = std::mem::take(&mut *self.inner.running.lock().await);
        for (_, entry) in running {
            entry.group.stop().await;
        }
    }
}

/// The deliveries of `project/deliveries/*.yaml`, and the problems of the files that have some.
fn read_files(project: &Path) -> (Vec<(String, DeliverySpec)>, Vec<Problem>) {
    let dir = project.join("deliveries");
    let mut specs = Vec::new();
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return (specs, problems);
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    paths.sort();
    for path in paths {
        let file = format!(
            "deliveries/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => match parse_delivery(&file, &name, &text) {
                Ok(spec) => specs.push((file, spec)),
                Err(found) => problems.extend(found),
            },
            Err(e) => problems.push(Problem::new(&file, weir_model::Pos::START, e.to_string())),
        }
    }
    (specs, problems)
}

fn tags_json(tags: &[(String, String)]) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| serde_json::json!({"Key": k, "Value": v}))
            .collect(),
    )
}

fn tags_from(value: &Value) -> Vec<(String, String)> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|t| {
                    Some((
                        t.get("Key")?.as_str()?.to_string(),
                        t.get("Value")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_micros()
}
