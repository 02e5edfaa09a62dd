//! DescribeStream: the stream and its shards, `Limit` at a time after `ExclusiveStartShardId`
//! (`HasMoreShards` says whether more follow).

use serde::Serialize;

use super::members::{Member, shard_id, with_stream};
use super::shapes::{EnhancedMetrics, Shard, StreamModeDetails};
use super::wire::Timestamp;
use super::{Answer, Call};

/// Shards described when `Limit` is not given ("The default value is 100").
const DEFAULT_LIMIT: usize = 100;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    stream_description: Description,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Description {
    stream_name: String,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
    stream_status: String,
    stream_mode_details: StreamModeDetails,
    shards: Vec<Shard>,
    has_more_shards: bool,
    retention_period_hours: u32,
    stream_creation_timestamp: Timestamp,
    enhanced_monitoring: Vec<EnhancedMetrics>,
    encryption_type: String,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&with_stream(&[
        Member::integer("Limit", 1, 10_000),
        shard_id("ExclusiveStartShardId"),
    ]))?;
    let stream = call.stream()?;
    let limit = call
        .request
        .integer("Limit")?
        .map_or(DEFAULT_LIMIT, |n| n as usize);
    let after = call.request.optional("ExclusiveStartShardId")?;
    let description = call.streams.describe(&stream)?;
    // Shard ids are zero-padded, so their text sorts as their numbers do.
    let mut shards: Vec<Shard> = description
        .shards
        .iter()
        .map(Shard::from)
        .filter(|shard| after.is_none_or(|after| shard.shard_id.as_str() > after))
        .collect();
    let has_more_shards = shards.len() > limit;
    shards.truncate(limit);
    call.ok(&Output {
        stream_description: Description {
            stream_name: description.name.clone(),
            stream_arn: description.arn.clone(),
            stream_status: description.status.clone(),
            stream_mode_details: StreamModeDetails::of(&description),
            shards,
            has_more_shards,
            retention_period_hours: description.retention_hours,
            stream_creation_timestamp: Timestamp(description.created_ms),
            enhanced_monitoring: vec![EnhancedMetrics {
                shard_level_metrics: Vec::new(),
            }],
            encryption_type: description.encryption.clone(),
        },
    })
}
