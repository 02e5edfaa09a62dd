//! DeregisterStreamConsumer: removes a consumer, named by its ARN or by its stream's ARN and its
//! name.

use weir_stream::ConsumerDescription;

use super::members::{
    CONSUMER_ARN_MEMBER, CONSUMER_NAME, Member, STREAM_ARN_MEMBER, STREAM_ID_MEMBER,
};
use super::{Answer, AwsError, Call, invalid_argument};

/// The members that name a consumer: its ARN, or its stream's ARN and its name.
pub const CONSUMER: [Member; 4] = [
    STREAM_ARN_MEMBER,
    CONSUMER_NAME,
    CONSUMER_ARN_MEMBER,
    STREAM_ID_MEMBER,
];

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&CONSUMER)?;
    let (stream, consumer) = consumer_named(call).await?;
    call.streams
        .deregister_consumer(&stream, &consumer.name)
        .await?;
    call.empty()
}

/// The consumer a request names (`ConsumerARN`, or `StreamARN` and `ConsumerName`), with its
/// stream's name.
pub async fn consumer_named(call: &Call<'_>) -> Result<(String, ConsumerDescription), AwsError> {
    if let Some(arn) = call.request.optional("ConsumerARN")? {
        return Ok(call.streams.consumer_by_arn(arn).await?);
    }
    match (
        call.request.optional("StreamARN")?,
        call.request.optional("ConsumerName")?,
    ) {
        (Some(stream_arn), Some(name)) => {
            let stream = call.stream_of_arn(stream_arn)?;
            let consumer = call.streams.describe_consumer(&stream, name).await?;
            Ok((stream, consumer))
        }
        _ => Err(invalid_argument(
            "Either ConsumerARN or both StreamARN and ConsumerName must be provided.",
        )),
    }
}
