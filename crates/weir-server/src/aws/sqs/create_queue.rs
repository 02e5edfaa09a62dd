//! CreateQueue: a standard or FIFO queue with its attributes and tags; the URL of the existing
//! queue when one of the name has the same attributes (`QueueAlreadyExists` when they differ).

use serde_json::json;

use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    let name = call.required("QueueName")?;
    let attributes = call.string_map("Attributes")?;
    let tags = call.string_map("tags")?;
    let url = call.queues.create_queue(name, attributes, tags).await?;
    Ok(json!({ "QueueUrl": url }))
}
