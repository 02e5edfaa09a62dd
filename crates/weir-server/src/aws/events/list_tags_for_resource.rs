//! ListTagsForResource: the tags of a bus or a rule named by its ARN.

use serde_json::json;

use super::members::RESOURCE_ARN;
use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[RESOURCE_ARN.required()])?;
    let mut tags = call.events.tags(request.required("ResourceARN")?)?;
    tags.sort();
    let tags: Vec<_> = tags
        .into_iter()
        .map(|(key, value)| json!({"Key": key, "Value": value}))
        .collect();
    Ok(json!({"Tags": tags}))
}
