//! UpdateShardCount: reshards a stream to `TargetShardCount` open shards of even hash ranges
//! (UNIFORM_SCALING), keeping the lineage of the shards it closes.

use serde::Serialize;

use super::members::{Member, with_stream};
use super::{Answer, Call};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    stream_name: String,
    current_shard_count: u32,
    target_shard_count: u32,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&with_stream(&[
        Member::integer("TargetShardCount", 1, i64::from(i32::MAX)).required(),
        Member::one_of("ScalingType", &["UNIFORM_SCALING"]).required(),
    ]))?;
    let stream = call.stream()?;
    let target = call
        .request
        .integer("TargetShardCount")?
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(1);
    let before = call.streams.describe(&stream)?;
    call.streams.update_shard_count(&stream, target).await?;
    call.ok(&Output {
        stream_name: before.name,
        current_shard_count: before.open_shard_count,
        target_shard_count: target,
        stream_arn: before.arn,
    })
}
