//! ListQueueTags: the queue's tags (`Tags` is left out when it has none, as SQS does).

use serde_json::json;

use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    let tags = call.queues.tags(call.queue()?)?;
    if tags.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({ "Tags": tags }))
}
