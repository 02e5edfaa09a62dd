//! DeleteStream: the stream, its shards' files and, with `EnforceConsumerDeletion`, its
//! registered consumers (without it, a stream with consumers is refused).

use super::members::{Member, with_stream};
use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request
        .validate_typed(&with_stream(&[Member::boolean("EnforceConsumerDeletion")]))?;
    let stream = call.stream()?;
    let enforce = call
        .request
        .boolean("EnforceConsumerDeletion")?
        .unwrap_or(false);
    call.streams.delete_stream(&stream, enforce).await?;
    call.empty()
}
