//! GetRecords: up to `Limit` records (and 10 MiB) from where an iterator points, with the next
//! iterator, how far behind the shard's newest record the reader is, and, at the end of a
//! closed shard, the shards that replaced it (and no next iterator). An iterator older than five
//! minutes is refused as AWS refuses it.

use serde::Serialize;
use weir_stream::{ITERATOR_LIFETIME_MS, ShardIterator};

use super::members::{Member, STREAM_ARN_MEMBER, STREAM_ID_MEMBER};
use super::shapes::ChildShard;
use super::wire::{Blob, Timestamp};
use super::{Answer, AwsError, Call, invalid_argument, now_ms};

/// Records returned when `Limit` is not given, and at most ("The maximum number of records…
/// 10,000").
const MAX_RECORDS: usize = 10_000;
/// "each call can return up to 10 MiB of data".
const MAX_BYTES: usize = 10 << 20;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output<'a> {
    records: Vec<OutRecord<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_shard_iterator: Option<String>,
    millis_behind_latest: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    child_shards: Option<Vec<ChildShard>>,
}

/// `Record`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutRecord<'a> {
    pub sequence_number: String,
    pub approximate_arrival_timestamp: Timestamp,
    pub data: Blob<'a>,
    pub partition_key: &'a str,
}

impl<'a> OutRecord<'a> {
    pub fn of(record: &'a weir_stream::Record) -> OutRecord<'a> {
        OutRecord {
            sequence_number: record.sequence.to_string(),
            approximate_arrival_timestamp: Timestamp(record.arrival_ms),
            data: Blob(&record.data),
            partition_key: &record.partition_key,
        }
    }
}

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&[
        Member::text("ShardIterator", 1, 512).required(),
        Member::integer("Limit", 1, MAX_RECORDS as i64),
        STREAM_ARN_MEMBER,
        STREAM_ID_MEMBER,
    ])?;
    let token = call.request.required("ShardIterator")?;
    let Some(iterator) = ShardIterator::decode(token) else {
        return Err(invalid_argument("Invalid ShardIterator."));
    };
    let now = now_ms();
    if iterator.expired(now) {
        return Err(AwsError {
            code: "ExpiredIteratorException",
            message: format!(
                "Iterator expired. The iterator was created at time {} while right now it is {} which is further in the future than the tolerated delay of {ITERATOR_LIFETIME_MS} milliseconds.",
                aws_time(iterator.issued_ms),
                aws_time(now)
            ),
        });
    }
    let limit = call
        .request
        .integer("Limit")?
        .map_or(MAX_RECORDS, |n| n as usize);
    let batch = call.streams.read(
        &iterator.stream,
        iterator.shard,
        iterator.offset,
        limit,
        MAX_BYTES,
    )?;
    let next_shard_iterator = (!batch.at_shard_end).then(|| {
        ShardIterator {
            offset: batch.next_offset,
            issued_ms: now,
            ..iterator.clone()
        }
        .encode()
    });
    let child_shards = batch
        .at_shard_end
        .then(|| batch.child_shards.iter().map(ChildShard::from).collect());
    call.ok(&Output {
        records: batch.records.iter().map(OutRecord::of).collect(),
        next_shard_iterator,
        millis_behind_latest: batch.millis_behind_latest,
        child_shards,
    })
}

/// A time as AWS's iterator messages write it: `Thu Jan 22 01:22:02 UTC 2015`.
fn aws_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%a %b %d %H:%M:%S UTC %Y").to_string())
        .unwrap_or_else(|| ms.to_string())
}
