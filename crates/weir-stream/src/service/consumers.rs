//! Enhanced fan-out consumers: RegisterStreamConsumer, DeregisterStreamConsumer,
//! DescribeStreamConsumer and ListStreamConsumers. weir registers them (SubscribeToShard reads
//! the same log as GetRecords, so a consumer needs no resources of its own).

use weir_store::{StreamConsumerRecord, StreamMutation};

use super::state::consumer_description;
use super::{Streams, now_ms};
use crate::{ConsumerDescription, StreamError};

/// Most consumers a stream may have, as AWS allows.
pub const MAX_CONSUMERS: usize = 20;

impl Streams {
    /// RegisterStreamConsumer. The consumer is ACTIVE at once.
    pub async fn register_consumer(
        &self,
        stream: &str,
        name: &str,
    ) -> Result<ConsumerDescription, StreamError> {
        check_consumer_name(name)?;
        let _admin = self.inner.admin.lock().await;
        let state = self.stream(stream)?;
        let (stream_arn, count, exists) = {
            let meta = state.meta();
            let exists = meta.consumers.contains_key(name);
            (meta.record.arn.clone(), meta.consumers.len(), exists)
        };
        if exists {
            return Err(StreamError::InUse {
                message: format!(
                    "Consumer {name} under stream {stream} already exists for account {}.",
                    self.account()
                ),
            });
        }
        if count >= MAX_CONSUMERS {
            return Err(StreamError::LimitExceeded(format!(
                "Stream {stream} under account {} has reached the limit of {MAX_CONSUMERS} registered consumers.",
                self.account()
            )));
        }
        let created_ms = now_ms();
        let record = StreamConsumerRecord {
            stream: stream.to_string(),
            name: name.to_string(),
            arn: format!("{stream_arn}/consumer/{name}:{}", created_ms / 1000),
            status: "ACTIVE".into(),
            created_ms,
        };
        self.commit(vec![StreamMutation::PutConsumer(record.clone()).into()])
            .await?;
        let description = consumer_description(&record, &stream_arn);
        state.meta_mut().consumers.insert(name.to_string(), record);
        Ok(description)
    }

    /// DeregisterStreamConsumer.
    pub async fn deregister_consumer(&self, stream: &str, name: &str) -> Result<(), StreamError> {
        let _admin = self.inner.admin.lock().await;
        let state = self.stream(stream)?;
        if !state.meta().consumers.contains_key(name) {
            return Err(self.consumer_not_found(name));
        }
        self.commit(vec![
            StreamMutation::DeleteConsumer {
                stream: stream.to_string(),
                name: name.to_string(),
            }
            .into(),
        ])
        .await?;
        state.meta_mut().consumers.remove(name);
        Ok(())
    }

    /// DescribeStreamConsumer.
    pub async fn describe_consumer(
        &self,
        stream: &str,
        name: &str,
    ) -> Result<ConsumerDescription, StreamError> {
        let state = self.stream(stream)?;
        let meta = state.meta();
        meta.consumers
            .get(name)
            .map(|record| consumer_description(record, &meta.record.arn))
            .ok_or_else(|| self.consumer_not_found(name))
    }

    /// A consumer by its ARN, with its stream's name.
    pub async fn consumer_by_arn(
        &self,
        arn: &str,
    ) -> Result<(String, ConsumerDescription), StreamError> {
        for state in self.all_streams() {
            let meta = state.meta();
            if let Some(record) = meta.consumers.values().find(|c| c.arn == arn) {
                return Ok((
                    state.name.clone(),
                    consumer_description(record, &meta.record.arn),
                ));
            }
        }
        Err(self.consumer_not_found(arn))
    }

    /// ListStreamConsumers, by name.
    pub async fn list_consumers(
        &self,
        stream: &str,
    ) -> Result<Vec<ConsumerDescription>, StreamError> {
        let state = self.stream(stream)?;
        let meta = state.meta();
        Ok(meta
            .consumers
            .values()
            .map(|record| consumer_description(record, &meta.record.arn))
            .collect())
    }

    fn consumer_not_found(&self, consumer: &str) -> StreamError {
        StreamError::NotFound {
            message: format!("Consumer {consumer}, account {} not found.", self.account()),
        }
    }
}

/// AWS's constraints on a consumer name: 1 to 128 of `[a-zA-Z0-9_.-]`.
fn check_consumer_name(name: &str) -> Result<(), StreamError> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !valid {
        return Err(StreamError::Validation(format!(
            "1 validation error detected: Value '{name}' at 'consumerName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )));
    }
    Ok(())
}
