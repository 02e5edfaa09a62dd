//! GetShardIterator: where a shard's reading starts, of the five kinds (the oldest record, after
//! the newest, at or after a sequence number, at a time), as an iterator valid for five minutes.

use serde::Serialize;
use weir_stream::{SequenceNumber, ShardId, ShardIterator, StartingPosition};

use super::members::{ITERATOR_TYPES, Member, sequence_number, shard_id, with_stream};
use super::shapes::shard_of;
use super::{Answer, AwsError, Call, Request, invalid_argument, now_ms};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    shard_iterator: String,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&with_stream(&[
        shard_id("ShardId").required(),
        Member::one_of("ShardIteratorType", ITERATOR_TYPES).required(),
        sequence_number("StartingSequenceNumber"),
        Member::timestamp("Timestamp"),
    ]))?;
    let stream = call.stream()?;
    let shard = shard_of(call, &stream, call.request.required("ShardId")?)?;
    let position = starting_position(
        call,
        &stream,
        shard,
        &call.request,
        ("ShardIteratorType", "StartingSequenceNumber", "Timestamp"),
        "GetShardIterator",
    )?;
    let offset = call.streams.start_offset(&stream, shard, position)?;
    let iterator = ShardIterator {
        stream,
        shard,
        offset,
        issued_ms: now_ms(),
    };
    call.ok(&Output {
        shard_iterator: iterator.encode(),
    })
}

/// The position a request's iterator type, sequence number and time (named by `members`) say,
/// refused in AWS's words when they do not fit together (shared with SubscribeToShard's
/// `StartingPosition`).
pub fn starting_position(
    call: &Call<'_>,
    stream: &str,
    shard: ShardId,
    request: &Request<'_>,
    members: (&str, &str, &str),
    operation: &str,
) -> Result<StartingPosition, AwsError> {
    let (type_member, sequence_member, time_member) = members;
    let kind = request.required(type_member)?;
    let sequence = request.optional(sequence_member)?;
    let account = &call.streams.config().account;
    let parse = |text: &str| -> Result<SequenceNumber, AwsError> {
        let number = text.parse::<SequenceNumber>().map_err(|()| {
            invalid_argument(format!(
                "StartingSequenceNumber {text} used in {operation} on shard {shard} in stream {stream} under account {account} is invalid."
            ))
        })?;
        if number.shard() != shard {
            return Err(invalid_argument(format!(
                "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a shard with {shard}",
                number.shard()
            )));
        }
        Ok(number)
    };
    let both = "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber.";
    match (kind, sequence) {
        ("TRIM_HORIZON" | "LATEST", Some(_)) => Err(invalid_argument(format!(
            "{both} Request specified {kind} and also a StartingSequenceNumber."
        ))),
        ("AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER", None) => Err(invalid_argument(format!(
            "{both} Request specified {kind} and no StartingSequenceNumber."
        ))),
        ("TRIM_HORIZON", None) => Ok(StartingPosition::TrimHorizon),
        ("LATEST", None) => Ok(StartingPosition::Latest),
        ("AT_SEQUENCE_NUMBER", Some(text)) => Ok(StartingPosition::AtSequence(parse(text)?)),
        ("AFTER_SEQUENCE_NUMBER", Some(text)) => Ok(StartingPosition::AfterSequence(parse(text)?)),
        _ => {
            let Some(at) = request.timestamp_ms(time_member)? else {
                return Err(invalid_argument(
                    "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.",
                ));
            };
            let now = now_ms();
            if at > now {
                return Err(invalid_argument(format!(
                    "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: {at}, currentTimestampInMillis: {now}"
                )));
            }
            Ok(StartingPosition::AtTimestamp(at))
        }
    }
}
