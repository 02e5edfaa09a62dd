//! RegisterStreamConsumer: an enhanced fan-out consumer of a stream, which SubscribeToShard
//! pushes records to.

use serde::Serialize;

use super::members::{CONSUMER_NAME, STREAM_ARN_MEMBER, STREAM_ID_MEMBER, TAG_MAP};
use super::shapes::Consumer;
use super::{Answer, Call};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    consumer: Consumer,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&[
        STREAM_ARN_MEMBER.required(),
        CONSUMER_NAME.required(),
        STREAM_ID_MEMBER,
        TAG_MAP,
    ])?;
    let stream = call.stream_of_arn(call.request.required("StreamARN")?)?;
    let consumer = call
        .streams
        .register_consumer(&stream, call.request.required("ConsumerName")?)
        .await?;
    call.ok(&Output {
        consumer: Consumer::of(&consumer, false),
    })
}
