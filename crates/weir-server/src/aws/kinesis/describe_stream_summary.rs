//! DescribeStreamSummary: the stream without its shards, with its open shard and consumer
//! counts.

use serde::Serialize;

use super::members::with_stream;
use super::shapes::{EnhancedMetrics, StreamModeDetails};
use super::wire::Timestamp;
use super::{Answer, Call};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    stream_description_summary: Summary,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Summary {
    stream_name: String,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
    stream_status: String,
    stream_mode_details: StreamModeDetails,
    retention_period_hours: u32,
    stream_creation_timestamp: Timestamp,
    enhanced_monitoring: Vec<EnhancedMetrics>,
    encryption_type: String,
    open_shard_count: u32,
    consumer_count: u32,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&with_stream(&[]))?;
    let stream = call.stream()?;
    let description = call.streams.describe(&stream)?;
    call.ok(&Output {
        stream_description_summary: Summary {
            stream_name: description.name.clone(),
            stream_arn: description.arn.clone(),
            stream_status: description.status.clone(),
            stream_mode_details: StreamModeDetails::of(&description),
            retention_period_hours: description.retention_hours,
            stream_creation_timestamp: Timestamp(description.created_ms),
            enhanced_monitoring: vec![EnhancedMetrics {
                shard_level_metrics: Vec::new(),
            }],
            encryption_type: description.encryption.clone(),
            open_shard_count: description.open_shard_count,
            consumer_count: description.consumer_count,
        },
    })
}
