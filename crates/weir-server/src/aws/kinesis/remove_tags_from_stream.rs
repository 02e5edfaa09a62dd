//! RemoveTagsFromStream: removes a stream's tags by key (keys it does not have are ignored).

use super::members::{TAG_KEYS, with_stream};
use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request
        .validate_typed(&with_stream(&[TAG_KEYS.required()]))?;
    let stream = call.stream()?;
    call.streams
        .remove_tags(&stream, tag_keys(&call.request))
        .await?;
    call.empty()
}

/// The request's `TagKeys`.
pub fn tag_keys(request: &super::Request<'_>) -> Vec<String> {
    request
        .member("TagKeys")
        .and_then(serde_json::Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
