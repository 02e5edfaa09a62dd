//! SubscribeToShard: an enhanced fan-out consumer's push of one shard's records, for up to five
//! minutes, as an event stream (`application/vnd.amazon.eventstream`): an `initial-response`
//! event, then a `SubscribeToShardEvent` whenever records arrive (and at least every five
//! seconds when none do), each with the sequence number to continue from and how far behind the
//! reader is; at the end of a closed shard, a last event with the shards that replaced it.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use bytes::Bytes;
use futures::StreamExt as _;
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;
use weir_stream::{SequenceNumber, ShardId, Streams};

use super::get_records::OutRecord;
use super::get_shard_iterator::starting_position;
use super::members::{
    CONSUMER_ARN_MEMBER, ITERATOR_TYPES, Member, STREAM_ID_MEMBER, sequence_number, shard_id,
};
use super::shapes::{ChildShard, shard_of};
use super::{Answer, AwsError, Call, Wire, eventstream};

/// How long a subscription lasts ("the subscription… is active for up to 5 minutes").
const SUBSCRIPTION: Duration = Duration::from_secs(5 * 60);
/// An event goes out at least this often, records or not.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// At most this much data per event.
const MAX_EVENT_BYTES: usize = 10 << 20;
const MAX_EVENT_RECORDS: usize = 10_000;

const POSITION: &[Member] = &[
    Member::one_of("Type", ITERATOR_TYPES).required(),
    sequence_number("SequenceNumber"),
    Member::timestamp("Timestamp"),
];

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Event<'a> {
    records: Vec<OutRecord<'a>>,
    continuation_sequence_number: String,
    millis_behind_latest: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    child_shards: Option<Vec<ChildShard>>,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&[
        CONSUMER_ARN_MEMBER.required(),
        STREAM_ID_MEMBER,
        shard_id("ShardId").required(),
        Member::structure("StartingPosition", POSITION).required(),
    ])?;
    let (stream, _consumer) = call
        .streams
        .consumer_by_arn(call.request.required("ConsumerARN")?)
        .await?;
    let shard = shard_of(call, &stream, call.request.required("ShardId")?)?;
    let Some(position) = call.request.nested("StartingPosition") else {
        return Err(super::invalid_argument(
            "StartingPosition must be provided.",
        ));
    };
    let at = starting_position(
        call,
        &stream,
        shard,
        &position,
        ("Type", "SequenceNumber", "Timestamp"),
        "SubscribeToShard",
    )?;
    let offset = call.streams.start_offset(&stream, shard, at)?;
    let watch = call.streams.watch(&stream, shard)?;
    let feed = Feed {
        streams: call.streams.clone(),
        stream,
        shard,
        offset,
        watch,
        wire: call.wire,
        ends: Instant::now() + SUBSCRIPTION,
        last_event: None,
        done: false,
    };
    let initial = initial_response(call.wire)?;
    let events = futures::stream::once(async move { Ok::<Bytes, Infallible>(initial) }).chain(
        futures::stream::unfold(feed, |mut feed| async move {
            feed.next().await.map(|event| (Ok(event), feed))
        }),
    );
    let mut response = (StatusCode::OK, Body::from_stream(events)).into_response();
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/vnd.amazon.eventstream"),
    );
    Ok(response)
}

/// The first event: the operation's (empty) output.
fn initial_response(wire: Wire) -> Result<Bytes, AwsError> {
    #[derive(Serialize)]
    struct Empty {}
    let payload = wire.encode(&Empty {})?;
    Ok(eventstream::event("initial-response", wire.content_type(), &payload).into())
}

/// A subscription's reading position and what it waits on.
struct Feed {
    streams: Streams,
    stream: String,
    shard: ShardId,
    offset: u64,
    /// The shard's durable end: changes when records are appended.
    watch: watch::Receiver<u64>,
    wire: Wire,
    ends: Instant,
    last_event: Option<Instant>,
    done: bool,
}

impl Feed {
    /// The next event, once there are records, a heartbeat is due, or the shard ended; None when
    /// the subscription is over.
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            let now = Instant::now();
            if self.done || now >= self.ends {
                return None;
            }
            let batch = match self.streams.read(
                &self.stream,
                self.shard,
                self.offset,
                MAX_EVENT_RECORDS,
                MAX_EVENT_BYTES,
            ) {
                Ok(batch) => batch,
                Err(error) => {
                    self.done = true;
                    return Some(self.exception(&AwsError::from(error)));
                }
            };
            let heartbeat_due = self.last_event.is_none_or(|at| now >= at + HEARTBEAT);
            if !batch.records.is_empty() || batch.at_shard_end || heartbeat_due {
                self.offset = batch.next_offset;
                self.done = batch.at_shard_end;
                self.last_event = Some(now);
                // The sequence number of the last record handed on (or, before any, the
                // position before the next record, which on an empty shard is its starting
                // sequence number): a subscription AFTER it goes on where this one stopped.
                let continuation = batch
                    .records
                    .last()
                    .map(|r| r.sequence)
                    .unwrap_or_else(|| SequenceNumber::before(self.shard, batch.next_offset));
                let event = Event {
                    records: batch.records.iter().map(OutRecord::of).collect(),
                    continuation_sequence_number: continuation.to_string(),
                    millis_behind_latest: batch.millis_behind_latest,
                    child_shards: batch
                        .at_shard_end
                        .then(|| batch.child_shards.iter().map(ChildShard::from).collect()),
                };
                return Some(match self.wire.encode(&event) {
                    Ok(payload) => eventstream::event(
                        "SubscribeToShardEvent",
                        self.wire.content_type(),
                        &payload,
                    )
                    .into(),
                    Err(error) => {
                        self.done = true;
                        self.exception(&error)
                    }
                });
            }
            // Nothing new: wait for an append, the next heartbeat or the subscription's end.
            let next_heartbeat = self.last_event.map_or(now, |at| at + HEARTBEAT);
            let until = next_heartbeat.min(self.ends);
            match tokio::time::timeout_at(until, self.watch.changed()).await {
                Ok(Ok(())) | Err(_) => {}
                // The stream is gone (deleted): the next read says so.
                Ok(Err(_)) => tokio::time::sleep_until(until).await,
            }
        }
    }

    fn exception(&self, error: &AwsError) -> Bytes {
        #[derive(Serialize)]
        struct Payload<'a> {
            message: &'a str,
        }
        let payload = self
            .wire
            .encode(&Payload {
                message: &error.message,
            })
            .unwrap_or_default();
        let kind = match error.code {
            "InternalFailure" => "InternalFailureException",
            code => code,
        };
        eventstream::exception(kind, self.wire.content_type(), &payload).into()
    }
}
