//! MergeShards: closes two adjacent shards and opens one child covering both their hash keys.

use super::members::{shard_id, with_stream};
use super::shapes::shard_of;
use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&with_stream(&[
        shard_id("ShardToMerge").required(),
        shard_id("AdjacentShardToMerge").required(),
    ]))?;
    let stream = call.stream()?;
    let shard = shard_of(call, &stream, call.request.required("ShardToMerge")?)?;
    let adjacent = shard_of(
        call,
        &stream,
        call.request.required("AdjacentShardToMerge")?,
    )?;
    call.streams.merge_shards(&stream, shard, adjacent).await?;
    call.empty()
}
