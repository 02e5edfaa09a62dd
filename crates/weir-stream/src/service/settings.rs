//! A stream's settings: retention (Increase/DecreaseStreamRetentionPeriod) and tags.

use weir_store::{StreamMutation, StreamRecord};

use super::lifecycle::MAX_TAGS;
use super::state::StreamState;
use super::{MAX_RETENTION_HOURS, MIN_RETENTION_HOURS, Streams};
use crate::StreamError;

impl Streams {
    /// Sets the retention, within AWS's bounds (24 to 8760 hours), whichever the direction.
    pub async fn set_retention(&self, stream: &str, hours: u32) -> Result<(), StreamError> {
        check_retention(hours)?;
        let _admin = self.inner.admin.lock().await;
        let state = self.stream(stream)?;
        let mut record = state.meta().record.clone();
        record.retention_hours = i64::from(hours);
        self.save(&state, record).await
    }

    /// IncreaseStreamRetentionPeriod: refuses a shorter retention, in AWS's words.
    pub async fn increase_retention(&self, stream: &str, hours: u32) -> Result<(), StreamError> {
        check_retention(hours)?;
        let current = self.stream(stream)?.meta().record.retention_hours;
        if i64::from(hours) < current {
            return Err(StreamError::InvalidArgument(format!(
                "Requested retention period ({hours} hours) for stream {stream} can not be shorter than existing retention period ({current} hours). Use DecreaseRetentionPeriod API."
            )));
        }
        self.set_retention(stream, hours).await
    }

    /// DecreaseStreamRetentionPeriod: refuses a longer retention, in AWS's words.
    pub async fn decrease_retention(&self, stream: &str, hours: u32) -> Result<(), StreamError> {
        check_retention(hours)?;
        let current = self.stream(stream)?.meta().record.retention_hours;
        if i64::from(hours) > current {
            return Err(StreamError::InvalidArgument(format!(
                "Requested retention period ({hours} hours) for stream {stream} can not be longer than existing retention period ({current} hours). Use IncreaseRetentionPeriod API."
            )));
        }
        self.set_retention(stream, hours).await
    }

    /// AddTagsToStream: adds or replaces tags, at most 50 in all.
    pub async fn add_tags(
        &self,
        stream: &str,
        tags: Vec<(String, String)>,
    ) -> Result<(), StreamError> {
        let _admin = self.inner.admin.lock().await;
        let state = self.stream(stream)?;
        let mut record = state.meta().record.clone();
        let mut map = record.tags.as_object().cloned().unwrap_or_default();
        for (key, value) in tags {
            map.insert(key, serde_json::Value::String(value));
        }
        if map.len() > MAX_TAGS {
            return Err(StreamError::InvalidArgument(format!(
                "Failed to add tags to stream {stream} under account {} because a given stream cannot have more than {MAX_TAGS} tags associated with it.",
                self.account()
            )));
        }
        record.tags = serde_json::Value::Object(map);
        self.save(&state, record).await
    }

    /// RemoveTagsFromStream: keys that are not there are ignored.
    pub async fn remove_tags(&self, stream: &str, keys: Vec<String>) -> Result<(), StreamError> {
        let _admin = self.inner.admin.lock().await;
        let state = self.stream(stream)?;
        let mut record = state.meta().record.clone();
        let mut map = record.tags.as_object().cloned().unwrap_or_default();
        for key in &keys {
            map.remove(key);
        }
        record.tags = serde_json::Value::Object(map);
        self.save(&state, record).await
    }

    /// ListTagsForStream, sorted by key.
    pub async fn tags(&self, stream: &str) -> Result<Vec<(String, String)>, StreamError> {
        Ok(self.stream(stream)?.meta().tags())
    }

    /// Commits a stream's changed record, then keeps it.
    async fn save(&self, state: &StreamState, record: StreamRecord) -> Result<(), StreamError> {
        self.commit(vec![StreamMutation::PutStream(record.clone()).into()])
            .await?;
        state.meta_mut().record = record;
        Ok(())
    }
}

fn check_retention(hours: u32) -> Result<(), StreamError> {
    if hours < MIN_RETENTION_HOURS {
        return Err(StreamError::InvalidArgument(format!(
            "Minimum allowed retention period is {MIN_RETENTION_HOURS} hours. Requested retention period ({hours} hours) is too short."
        )));
    }
    if hours > MAX_RETENTION_HOURS {
        return Err(StreamError::InvalidArgument(format!(
            "Maximum allowed retention period is {MAX_RETENTION_HOURS} hours. Requested retention period ({hours} hours) is too long."
        )));
    }
    Ok(())
}
