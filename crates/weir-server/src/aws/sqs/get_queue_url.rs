//! GetQueueUrl: a queue's URL by its name (`QueueOwnerAWSAccountId`, when given, must be this
//! server's account: weir has one).

use serde_json::json;

use super::{Answer, Call, errors};

pub async fn handle(call: &Call<'_>) -> Answer {
    let name = call.required("QueueName")?;
    let url = call.queues.get_queue_url(name)?;
    if let Some(owner) = call.text("QueueOwnerAWSAccountId")?
        && !url.contains(&format!("/{owner}/"))
    {
        return Err(errors::no_queue());
    }
    Ok(json!({ "QueueUrl": url }))
}
