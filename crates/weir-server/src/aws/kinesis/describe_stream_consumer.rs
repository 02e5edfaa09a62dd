//! DescribeStreamConsumer: a consumer, named by its ARN or by its stream's ARN and its name.

use serde::Serialize;

use super::deregister_stream_consumer::consumer_named;
use super::members::{CONSUMER_ARN_MEMBER, CONSUMER_NAME, STREAM_ARN_MEMBER, STREAM_ID_MEMBER};
use super::shapes::Consumer;
use super::{Answer, Call};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    consumer_description: Consumer,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&[
        STREAM_ARN_MEMBER,
        CONSUMER_NAME,
        CONSUMER_ARN_MEMBER,
        STREAM_ID_MEMBER,
    ])?;
    let (_, consumer) = consumer_named(call).await?;
    call.ok(&Output {
        consumer_description: Consumer::of(&consumer, true),
    })
}
