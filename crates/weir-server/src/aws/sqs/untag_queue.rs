//! UntagQueue: removes the named tags from the queue.

use serde_json::json;

use super::{Answer, Call, errors};

pub async fn handle(call: &Call<'_>) -> Answer {
    let queue = call.queue()?;
    if call
        .request
        .get("TagKeys")
        .is_none_or(serde_json::Value::is_null)
    {
        return Err(errors::missing("TagKeys"));
    }
    let keys = call.strings("TagKeys")?;
    call.queues.untag(queue, &keys).await?;
    Ok(json!({}))
}
