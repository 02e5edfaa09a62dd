//! DescribeStreamConsumer: a consumer, named by its ARN or by its stream's ARN and its name.

use serde::Serialize;

use super::deregister_stream_consumer::{CONSUMER, consumer_named};
use super::shapes::Consumer;
use super::{Answer, Call};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    consumer_description: Consumer,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&CONSUMER)?;
    let (_, consumer) = consumer_named(call).await?;
    call.ok(&Output {
        consumer_description: Consumer::of(&consumer, true),
    })
}
