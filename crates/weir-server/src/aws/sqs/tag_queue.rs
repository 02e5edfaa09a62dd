//! TagQueue: adds or overwrites the queue's tags.

use serde_json::json;

use super::{Answer, Call, errors};

pub async fn handle(call: &Call<'_>) -> Answer {
    let queue = call.queue()?;
    if call
        .request
        .get("Tags")
        .is_none_or(serde_json::Value::is_null)
    {
        return Err(errors::missing("Tags"));
    }
    let tags = call.string_map("Tags")?;
    call.queues.tag(queue, tags).await?;
    Ok(json!({}))
}
