//! CreateStream, DeleteStream, DescribeStream and ListStreams.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::oneshot;
use weir_store::{Mutation, StreamMutation, StreamRecord};

use super::state::{ShardSpec, StreamMeta, StreamState};
use super::{DEFAULT_RETENTION_HOURS, ON_DEMAND_SHARDS, SHARD_LIMIT, Streams, blocking, now_ms};
use crate::hash::even_ranges;
use crate::log::{Command, OpenShard, WriterHandle, sync_dir};
use crate::{NewStream, ShardId, StreamDescription, StreamError, StreamMode, StreamSummary};

/// Most tags a stream may have, as AWS allows.
pub(crate) const MAX_TAGS: usize = 50;

impl Streams {
    /// CreateStream. The stream is ACTIVE when this returns.
    pub async fn create_stream(&self, new: NewStream) -> Result<StreamDescription, StreamError> {
        check_stream_name(&new.name)?;
        let count = match new.mode {
            StreamMode::OnDemand => ON_DEMAND_SHARDS,
            StreamMode::Provisioned => match new.shard_count {
                Some(count) if count >= 1 => count,
                Some(count) => {
                    return Err(StreamError::Validation(format!(
                        "1 validation error detected: Value '{count}' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1"
                    )));
                }
                None => {
                    return Err(StreamError::InvalidArgument(
                        "ShardCount is required for a stream in PROVISIONED mode.".into(),
                    ));
                }
            },
        };
        if new.tags.len() > MAX_TAGS {
            return Err(StreamError::InvalidArgument(format!(
                "Failed to create stream {} under account {} because a given stream cannot have more than {MAX_TAGS} tags associated with it.",
                new.name,
                self.account()
            )));
        }
        let admin = self.admin().await;
        if self.stream(&new.name).is_ok() {
            return Err(StreamError::stream_exists(&new.name, self.account()));
        }
        self.check_shard_limit(count)?;
        // A folder of its own, even when a stream of the same name was deleted within the same
        // millisecond and its files are still being removed.
        let mut created_ms = now_ms();
        while self
            .inner
            .config
            .dir
            .join(format!("{}-{created_ms}", new.name))
            .exists()
        {
            created_ms += 1;
        }
        let storage_dir = format!("{}-{created_ms}", new.name);
        let dir = self.inner.config.dir.join(&storage_dir);
        let specs: Vec<ShardSpec> = even_ranges(count)
            .into_iter()
            .enumerate()
            .map(|(i, (hash_start, hash_end))| ShardSpec {
                id: ShardId(i as u32),
                parent: None,
                adjacent_parent: None,
                hash_start,
                hash_end,
                starting_offset: 0,
                ending_offset: None,
                created_ms,
                closed_ms: None,
            })
            .collect();
        let (root, shards_dir) = (self.inner.config.dir.clone(), dir.clone());
        let shards = blocking(move || {
            let shards = specs
                .into_iter()
                .map(|spec| Ok((spec.id, spec.open(&shards_dir, true)?)))
                .collect::<Result<BTreeMap<_, _>, StreamError>>()?;
            sync_dir(&shards_dir)?;
            sync_dir(&root)?;
            Ok(shards)
        })
        .await?;
        let tags: serde_json::Map<String, serde_json::Value> = new
            .tags
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        let record = StreamRecord {
            name: new.name.clone(),
            arn: self.inner.config.stream_arn(&new.name),
            mode: new.mode.as_str().to_string(),
            retention_hours: i64::from(DEFAULT_RETENTION_HOURS),
            status: "ACTIVE".into(),
            created_ms,
            tags: serde_json::Value::Object(tags),
            storage_dir,
        };
        let mut mutations: Vec<Mutation> = vec![StreamMutation::PutStream(record.clone()).into()];
        mutations.extend(
            shards
                .values()
                .map(|s| StreamMutation::PutShard(s.record(&new.name)).into()),
        );
        let open: Vec<OpenShard> = shards.values().map(|s| s.open_shard()).collect();
        let options = self.writer_options(&new.name);
        let this = self.clone();
        let stream_dir = dir.clone();
        let created = self
            .commit_then(admin, mutations, move |committed| {
                committed?;
                let writer = WriterHandle::start(options, open)?;
                let meta = StreamMeta {
                    record,
                    shards,
                    consumers: BTreeMap::new(),
                };
                let description = meta.description(now_ms());
                let state = Arc::new(StreamState::new(stream_dir, writer, meta));
                this.inner
                    .streams
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(new.name, state);
                Ok(description)
            })
            .await;
        match &created {
            Ok(description) => self.announce(&description.name, "CREATED"),
            // Nothing names the folder; a restart would remove it too.
            Err(_) => {
                let _ = blocking(move || Ok(std::fs::remove_dir_all(dir)?)).await;
            }
        }
        created
    }

    /// DeleteStream: its metadata, then its files. With consumers registered, only when
    /// `enforce_consumer_deletion` (they go with it).
    pub async fn delete_stream(
        &self,
        name: &str,
        enforce_consumer_deletion: bool,
    ) -> Result<(), StreamError> {
        let admin = self.admin().await;
        let state = self.stream(name)?;
        if !enforce_consumer_deletion && !state.meta().consumers.is_empty() {
            return Err(StreamError::InUse {
                message: format!(
                    "Stream {name} under account {} has registered consumers. Set EnforceConsumerDeletion to delete them with the stream.",
                    self.account()
                ),
            });
        }
        let mutation = StreamMutation::DeleteStream {
            name: name.to_string(),
        };
        let this = self.clone();
        let forgotten = name.to_string();
        self.commit_then(admin, vec![mutation.into()], move |committed| {
            committed?;
            this.inner
                .streams
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&forgotten);
            Ok(())
        })
        .await?;
        self.announce(name, "DELETED");
        // The writer commits what it holds and stops; then nothing writes the files.
        let (done, stopped) = oneshot::channel();
        if state.writer.send(Command::Stop { done }) {
            let _ = stopped.await;
        }
        let dir = state.dir.clone();
        let removed = blocking(move || Ok(std::fs::remove_dir_all(dir)?)).await;
        if let Err(error) = removed {
            // The next start removes what no stream owns.
            tracing::warn!(stream = name, %error, "cannot remove a deleted stream's files");
        }
        Ok(())
    }

    /// Stops every stream's writer once what it holds is durable, for a server's orderly stop;
    /// appends after this fail (as for a deleted stream). Reads go on working.
    pub async fn close(&self) {
        for state in self.all_streams() {
            let (done, stopped) = oneshot::channel();
            if state.writer.send(Command::Stop { done }) {
                let _ = stopped.await;
            }
        }
    }

    /// DescribeStream: every shard not yet expired.
    pub fn describe(&self, name: &str) -> Result<StreamDescription, StreamError> {
        Ok(self.stream(name)?.meta().description(now_ms()))
    }

    /// ListStreams, sorted by name.
    pub fn list(&self) -> Vec<StreamSummary> {
        self.all_streams()
            .iter()
            .map(|state| state.meta().summary())
            .collect()
    }

    /// Refuses a change that would take the open shards of all streams past [`SHARD_LIMIT`].
    pub(super) fn check_shard_limit(&self, more: u32) -> Result<(), StreamError> {
        let open: usize = self
            .all_streams()
            .iter()
            .map(|state| state.meta().open_shards().count())
            .sum();
        let open = open as u64;
        if open + u64::from(more) > u64::from(SHARD_LIMIT) {
            let config = &self.inner.config;
            return Err(StreamError::LimitExceeded(format!(
                "This request would exceed the shard limit for the account {} in {}. Current shard count for the account: {open}. Limit: {SHARD_LIMIT}. Number of additional shards that would have resulted from this request: {more}. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
                config.account, config.region
            )));
        }
        Ok(())
    }
}

/// AWS's constraints on a stream name (1 to 128 of `[a-zA-Z0-9_.-]`), which also keep it a safe
/// folder name.
pub(crate) fn check_stream_name(name: &str) -> Result<(), StreamError> {
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if name.is_empty() || name.len() > 128 {
        return Err(StreamError::Validation(format!(
            "1 validation error detected: Value '{name}' at 'streamName' failed to satisfy constraint: Member must have length {}",
            if name.is_empty() {
                "greater than or equal to 1"
            } else {
                "less than or equal to 128"
            }
        )));
    }
    if !valid_chars {
        return Err(StreamError::Validation(format!(
            "1 validation error detected: Value '{name}' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )));
    }
    Ok(())
}
