//! SplitShard: closes a shard and opens two children that divide its hash keys at
//! `NewStartingHashKey`; the parent stays readable until retention drops it.

use super::members::{hash_key, shard_id, with_stream};
use super::shapes::shard_of;
use super::{Answer, Call, invalid_argument};

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&with_stream(&[
        shard_id("ShardToSplit").required(),
        hash_key("NewStartingHashKey").required(),
    ]))?;
    let stream = call.stream()?;
    let shard = shard_of(call, &stream, call.request.required("ShardToSplit")?)?;
    let text = call.request.required("NewStartingHashKey")?;
    // The pattern allows 39 digits, some of them past 2^128 - 1.
    let key = text.parse::<u128>().map_err(|_| {
        invalid_argument(format!(
            "NewStartingHashKey {text} used in SplitShard() on shard {shard} in stream {stream} under account {} is not both greater than one plus the shard's StartingHashKey and less than the shard's EndingHashKey.",
            call.streams.config().account
        ))
    })?;
    call.streams.split_shard(&stream, shard, key).await?;
    call.empty()
}
