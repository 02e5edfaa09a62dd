//! The answer shapes several operations share (`Shard`, `Consumer`, `ChildShard`, `Tag`), as the
//! API reference names their members, and reading a shard id of a request.

use serde::Serialize;
use weir_stream::{ConsumerDescription, ShardDescription, ShardId, StreamDescription};

use super::wire::Timestamp;
use super::{AwsError, Call};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HashKeyRange {
    pub starting_hash_key: String,
    pub ending_hash_key: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SequenceNumberRange {
    pub starting_sequence_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ending_sequence_number: Option<String>,
}

/// `Shard`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Shard {
    pub shard_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_shard_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjacent_parent_shard_id: Option<String>,
    pub hash_key_range: HashKeyRange,
    pub sequence_number_range: SequenceNumberRange,
}

impl From<&ShardDescription> for Shard {
    fn from(shard: &ShardDescription) -> Shard {
        Shard {
            shard_id: shard.id.to_string(),
            parent_shard_id: shard.parent.map(|id| id.to_string()),
            adjacent_parent_shard_id: shard.adjacent_parent.map(|id| id.to_string()),
            hash_key_range: HashKeyRange {
                starting_hash_key: shard.hash_start.to_string(),
                ending_hash_key: shard.hash_end.to_string(),
            },
            sequence_number_range: SequenceNumberRange {
                starting_sequence_number: shard.starting_sequence.to_string(),
                ending_sequence_number: shard.ending_sequence.map(|s| s.to_string()),
            },
        }
    }
}

/// `ChildShard`: a shard that replaced the one read to its end, with the parents it has.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChildShard {
    pub shard_id: String,
    pub parent_shards: Vec<String>,
    pub hash_key_range: HashKeyRange,
}

impl From<&ShardDescription> for ChildShard {
    fn from(shard: &ShardDescription) -> ChildShard {
        ChildShard {
            shard_id: shard.id.to_string(),
            parent_shards: shard
                .parent
                .iter()
                .chain(shard.adjacent_parent.iter())
                .map(ShardId::to_string)
                .collect(),
            hash_key_range: HashKeyRange {
                starting_hash_key: shard.hash_start.to_string(),
                ending_hash_key: shard.hash_end.to_string(),
            },
        }
    }
}

/// `Consumer` / `ConsumerDescription` (the latter adds `StreamARN`).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Consumer {
    pub consumer_name: String,
    #[serde(rename = "ConsumerARN")]
    pub consumer_arn: String,
    pub consumer_status: String,
    pub consumer_creation_timestamp: Timestamp,
    #[serde(rename = "StreamARN", skip_serializing_if = "Option::is_none")]
    pub stream_arn: Option<String>,
}

impl Consumer {
    pub fn of(consumer: &ConsumerDescription, with_stream: bool) -> Consumer {
        Consumer {
            consumer_name: consumer.name.clone(),
            consumer_arn: consumer.arn.clone(),
            consumer_status: consumer.status.clone(),
            consumer_creation_timestamp: Timestamp(consumer.created_ms),
            stream_arn: with_stream.then(|| consumer.stream_arn.clone()),
        }
    }
}

/// `Tag`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `StreamModeDetails`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamModeDetails {
    pub stream_mode: &'static str,
}

/// `EnhancedMonitoring`: weir keeps no shard-level metrics of its own choosing, so none are on.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnhancedMetrics {
    pub shard_level_metrics: Vec<String>,
}

impl StreamModeDetails {
    pub fn of(stream: &StreamDescription) -> StreamModeDetails {
        StreamModeDetails {
            stream_mode: stream.mode.as_str(),
        }
    }
}

/// The shard a request's member names, as the stream has it; AWS's message when the text is not
/// a shard id at all.
pub fn shard_of(call: &Call<'_>, stream: &str, text: &str) -> Result<ShardId, AwsError> {
    text.parse::<ShardId>().map_err(|()| AwsError {
        code: "ResourceNotFoundException",
        message: format!(
            "Could not find shard {text} in stream {stream} under account {}.",
            call.streams.config().account
        ),
    })
}
