//! ListQueueTags: the queue's tags (`Tags` is left out when it has none, as SQS does).

use serde_json::{Value, json};

use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    let tags = call.queues.tags(call.queue()?)?;
    if tags.is_empty() {
        return Ok(json!({}));
    }
    let tags: serde_json::Map<String, Value> = tags
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    Ok(json!({ "Tags": tags }))
}
