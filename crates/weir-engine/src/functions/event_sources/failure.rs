//! The on-failure destination: when a mapping gives up on records (retries exhausted, records too
//! old), Lambda sends a description of the batch, not the records, to the mapping's
//! `DestinationConfig.OnFailure`. weir's destinations are a stream (one record per batch given
//! up) or a lake prefix (one object per batch, with the event it would have invoked with, as
//! Lambda's S3 destinations carry the invocation record whole).

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};
use weir_model::event_source::Destination;
use weir_stream::{NewRecord, Record, ShardId, Streams};

/// Writes objects into the lake (the binary implements it with weir-lake; the engine does not
/// depend on the lake).
#[async_trait::async_trait]
pub trait ObjectWriter: Send + Sync {
    async fn write(&self, key: &str, bytes: Vec<u8>) -> Result<(), String>;
}

/// Why a batch was given up on, in Lambda's words (`requestContext.condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Condition {
    RetryAttemptsExhausted,
    RecordAgeExceeded,
}

impl Condition {
    fn as_str(self) -> &'static str {
        match self {
            Condition::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            Condition::RecordAgeExceeded => "RecordAgeExceeded",
        }
    }
}

/// A batch given up on.
pub(super) struct GivenUp<'a> {
    pub function_arn: &'a str,
    pub stream_arn: &'a str,
    pub shard: ShardId,
    pub records: &'a [Record],
    pub condition: Condition,
    pub invoke_count: u32,
    /// The function's error, when its last invocation failed (`None` when it answered with
    /// `batchItemFailures` or was not invoked).
    pub error: Option<&'a str>,
}

/// Lambda's invocation record for a Kinesis batch that was given up on.
pub(super) fn description(given_up: &GivenUp<'_>, now_ms: i64) -> Value {
    let first = given_up.records.first();
    let last = given_up.records.last();
    let time = |ms: Option<i64>| ms.map(iso_millis);
    json!({
        "requestContext": {
            "requestId": super::random_uuid(),
            "functionArn": given_up.function_arn,
            "condition": given_up.condition.as_str(),
            "approximateInvokeCount": given_up.invoke_count,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": given_up.error.map(|_| "Unhandled"),
        },
        "version": "1.0",
        "timestamp": iso_millis(now_ms),
        "KinesisBatchInfo": {
            "shardId": given_up.shard.to_string(),
            "startSequenceNumber": first.map(|r| r.sequence.to_string()),
            "endSequenceNumber": last.map(|r| r.sequence.to_string()),
            "approximateArrivalOfFirstRecord": time(first.map(|r| r.arrival_ms)),
            "approximateArrivalOfLastRecord": time(last.map(|r| r.arrival_ms)),
            "batchSize": given_up.records.len(),
            "streamArn": given_up.stream_arn,
        },
    })
}

fn iso_millis(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|at| at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// Sends `description` (and, to the lake, the event the batch would have been) to `destination`.
pub(super) async fn send(
    destination: &Destination,
    streams: &Streams,
    objects: Option<&Arc<dyn ObjectWriter>>,
    description: Value,
    event: Value,
) -> Result<(), String> {
    match destination {
        Destination::Stream(name) => {
            let shard = description["KinesisBatchInfo"]["shardId"]
                .as_str()
                .unwrap_or("shardId-000000000000")
                .to_string();
            let record = NewRecord {
                partition_key: shard,
                explicit_hash_key: None,
                data: Bytes::from(description.to_string()),
            };
            let results = streams
                .put(name, vec![record])
                .await
                .map_err(|e| format!("on-failure stream {name}: {e}"))?;
            match results.into_iter().next() {
                Some(Ok(_)) => Ok(()),
                Some(Err(failure)) => Err(format!(
                    "on-failure stream {name}: {}",
                    failure.error_message
                )),
                None => Err(format!("on-failure stream {name}: nothing appended")),
            }
        }
        Destination::Lake { prefix, .. } => {
            let Some(objects) = objects else {
                return Err("this server has no lake to write the on-failure record to".into());
            };
            let batch = &description["KinesisBatchInfo"];
            // Named after the batch, so that a retried send writes the same object again.
            let key = format!(
                "{}{}/{}-{}.json",
                if prefix.is_empty() {
                    String::new()
                } else {
                    format!("{prefix}/")
                },
                batch["shardId"].as_str().unwrap_or("shard"),
                batch["startSequenceNumber"].as_str().unwrap_or("start"),
                batch["endSequenceNumber"].as_str().unwrap_or("end"),
            );
            let mut record = description;
            if let Some(fields) = record.as_object_mut() {
                fields.insert("payload".into(), event);
            }
            objects.write(&key, record.to_string().into_bytes()).await
        }
    }
}
