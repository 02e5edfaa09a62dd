//! ListTagsForResource: every tag of a stream named by its ARN.

use serde::Serialize;

use super::members::{RESOURCE_ARN_MEMBER, STREAM_ID_MEMBER};
use super::shapes::Tag;
use super::tag_resource::resource_stream;
use super::{Answer, Call};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    tags: Vec<Tag>,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request
        .validate_typed(&[RESOURCE_ARN_MEMBER.required(), STREAM_ID_MEMBER])?;
    let stream = resource_stream(call)?;
    let tags = call
        .streams
        .tags(&stream)
        .await?
        .into_iter()
        .map(|(key, value)| Tag {
            key,
            value: Some(value),
        })
        .collect();
    call.ok(&Output { tags })
}
