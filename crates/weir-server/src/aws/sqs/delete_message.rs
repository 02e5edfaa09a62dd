//! DeleteMessage: the message a receipt handle was given for (an old handle of a message
//! received again is accepted, as SQS accepts it).

use serde_json::json;

use super::{Answer, AwsError, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    let queue = call.queue()?;
    let handle = call.required("ReceiptHandle")?.to_string();
    let mut outcomes = call.queues.delete(queue, vec![handle]).await?;
    match outcomes.pop() {
        Some(Err(error)) => Err(AwsError::from(error.into_error())),
        _ => Ok(json!({})),
    }
}
