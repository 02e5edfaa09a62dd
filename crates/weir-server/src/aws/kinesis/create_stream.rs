//! CreateStream: a provisioned stream of `ShardCount` shards, or an on-demand one (which starts
//! with 4 shards, as AWS's do), ACTIVE when this returns.

use weir_stream::{NewStream, StreamMode};

use super::members::{Member, STREAM_NAME, TAG_MAP};
use super::{Answer, Call};

const MODE: &[Member] = &[Member::one_of("StreamMode", &["PROVISIONED", "ON_DEMAND"]).required()];

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[
        STREAM_NAME.required(),
        Member::integer("ShardCount", 1, i64::from(i32::MAX)),
        Member::structure("StreamModeDetails", MODE),
        TAG_MAP,
        Member::integer("WarmThroughputMiBps", 0, i64::from(i32::MAX)),
        Member::integer("MaxRecordSizeInKiB", 1024, 10240),
    ])?;
    let mode = match request.nested("StreamModeDetails") {
        Some(details) => details
            .optional("StreamMode")?
            .and_then(StreamMode::parse)
            .unwrap_or(StreamMode::Provisioned),
        None => StreamMode::Provisioned,
    };
    let shard_count = request
        .integer("ShardCount")?
        .and_then(|n| u32::try_from(n).ok());
    // A provisioned stream without a shard count is the service's to refuse.
    call.streams
        .create_stream(NewStream {
            name: request.required("StreamName")?.to_string(),
            mode,
            shard_count,
            tags: tags(request.member("Tags")),
        })
        .await?;
    call.empty()
}

/// A `TagMap` as (key, value) pairs.
pub fn tags(map: Option<&serde_json::Value>) -> Vec<(String, String)> {
    map.and_then(serde_json::Value::as_object)
        .map(|entries| {
            entries
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}
