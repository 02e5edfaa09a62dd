//! ListTagsForStream: a stream's tags by key, `Limit` at a time after `ExclusiveStartTagKey`.

use serde::Serialize;

use super::members::{Member, with_stream};
use super::shapes::Tag;
use super::{Answer, Call};

/// Tags listed when `Limit` is not given.
const DEFAULT_LIMIT: usize = 10;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    tags: Vec<Tag>,
    has_more_tags: bool,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&with_stream(&[
        Member::text("ExclusiveStartTagKey", 1, 128),
        Member::integer("Limit", 1, 50),
    ]))?;
    let stream = call.stream()?;
    let limit = call
        .request
        .integer("Limit")?
        .map_or(DEFAULT_LIMIT, |n| n as usize);
    let after = call.request.optional("ExclusiveStartTagKey")?;
    let mut tags: Vec<Tag> = call
        .streams
        .tags(&stream)
        .await?
        .into_iter()
        .filter(|(key, _)| after.is_none_or(|after| key.as_str() > after))
        .map(|(key, value)| Tag {
            key,
            value: Some(value),
        })
        .collect();
    let has_more_tags = tags.len() > limit;
    tags.truncate(limit);
    call.ok(&Output {
        tags,
        has_more_tags,
    })
}
