//! SetQueueAttributes: changes the queue's attributes (each checked by the service, in SQS's
//! words; a FIFO queue stays FIFO).

use serde_json::json;

use super::{Answer, Call, errors};

pub async fn handle(call: &Call<'_>) -> Answer {
    let queue = call.queue()?;
    if call
        .request
        .get("Attributes")
        .is_none_or(serde_json::Value::is_null)
    {
        return Err(errors::missing("Attributes"));
    }
    let attributes = call.string_map("Attributes")?;
    call.queues.set_attributes(queue, attributes).await?;
    Ok(json!({}))
}
