//! PutRecord(s): records checked, their hash keys computed here (on the callers' threads, in
//! parallel), then handed to the stream's writer, which places, appends and fsyncs them.

use tokio::sync::oneshot;

use super::Streams;
use crate::hash::hash_key;
use crate::log::{Command, Routed};
use crate::{Appended, NewRecord, PutFailure, StreamError};

/// AWS's largest record: 1 MiB of data.
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// AWS's longest partition key, in characters.
pub const MAX_PARTITION_KEY_CHARS: usize = 256;

impl Streams {
    /// PutRecord(s): returns once every appended record is durable (fsynced). Records keep their
    /// order within a shard; each record's result says where it went or why it did not.
    pub async fn put(
        &self,
        stream: &str,
        records: Vec<NewRecord>,
    ) -> Result<Vec<Result<Appended, PutFailure>>, StreamError> {
        let state = self.stream(stream)?;
        for (i, record) in records.iter().enumerate() {
            check_record(i, record)?;
        }
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let routed = records
            .into_iter()
            .map(|record| Routed {
                hash: record
                    .explicit_hash_key
                    .unwrap_or_else(|| hash_key(&record.partition_key)),
                partition_key: record.partition_key,
                data: record.data,
            })
            .collect();
        let (reply, results) = oneshot::channel();
        let command = Command::Append {
            records: routed,
            reply,
        };
        if !state.writer.send(command) {
            return Err(StreamError::stream_not_found(stream, self.account()));
        }
        results
            .await
            .map_err(|_| StreamError::stream_not_found(stream, self.account()))
    }
}

/// AWS's limits on one record, in the validation words AWS uses for PutRecords.
fn check_record(i: usize, record: &NewRecord) -> Result<(), StreamError> {
    let position = i + 1;
    let key_chars = record.partition_key.chars().count();
    if key_chars == 0 {
        return Err(StreamError::Validation(format!(
            "1 validation error detected: Value at 'records.{position}.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )));
    }
    if key_chars > MAX_PARTITION_KEY_CHARS {
        return Err(StreamError::Validation(format!(
            "1 validation error detected: Value at 'records.{position}.member.partitionKey' failed to satisfy constraint: Member must have length less than or equal to {MAX_PARTITION_KEY_CHARS}"
        )));
    }
    if record.data.len() > MAX_RECORD_BYTES {
        return Err(StreamError::Validation(format!(
            "1 validation error detected: Value at 'records.{position}.member.data' failed to satisfy constraint: Member must have length less than or equal to {MAX_RECORD_BYTES}"
        )));
    }
    Ok(())
}
