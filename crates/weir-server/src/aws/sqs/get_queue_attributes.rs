//! GetQueueAttributes: the named attributes of a queue (`All` for every one); an unknown name is
//! `InvalidAttributeName` (the service knows the names). SQS leaves `Attributes` out when none
//! were asked for.

use serde_json::json;

use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    let queue = call.queue()?;
    let names = call.strings("AttributeNames")?;
    let attributes = call.queues.attributes(queue, &names)?;
    if attributes.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({ "Attributes": attributes }))
}
