//! AddTagsToStream: adds or overwrites a stream's tags.

use super::create_stream::tags;
use super::members::{TAG_MAP, with_stream};
use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request
        .validate_typed(&with_stream(&[TAG_MAP.required()]))?;
    let stream = call.stream()?;
    call.streams
        .add_tags(&stream, tags(call.request.member("Tags")))
        .await?;
    call.empty()
}
