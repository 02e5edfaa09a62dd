//! UntagResource: removes tags, by key, from a stream named by its ARN.

use super::members::{RESOURCE_ARN_MEMBER, STREAM_ID_MEMBER, TAG_KEYS};
use super::remove_tags_from_stream::tag_keys;
use super::tag_resource::resource_stream;
use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&[
        TAG_KEYS.required(),
        RESOURCE_ARN_MEMBER.required(),
        STREAM_ID_MEMBER,
    ])?;
    let stream = resource_stream(call)?;
    call.streams
        .remove_tags(&stream, tag_keys(&call.request))
        .await?;
    call.empty()
}
