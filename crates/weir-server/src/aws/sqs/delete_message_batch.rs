//! DeleteMessageBatch: up to ten messages by receipt handle, each deleted or refused on its own.

use serde_json::json;

use super::batch::{self, failed, id_of};
use super::{Answer, Call, errors, text_of};

pub async fn handle(call: &Call<'_>) -> Answer {
    let queue = call.queue()?;
    let entries = batch::entries(call.request, "DeleteMessageBatchRequestEntry")?;
    let mut handles = Vec::with_capacity(entries.len());
    for entry in entries {
        let handle = text_of(entry, "ReceiptHandle")?
            .ok_or_else(|| errors::missing("DeleteMessageBatchRequestEntry.ReceiptHandle"))?;
        handles.push(handle.to_string());
    }
    let outcomes = call.queues.delete(queue, handles).await?;
    let (mut successful, mut refused) = (Vec::new(), Vec::new());
    for (entry, outcome) in entries.iter().zip(outcomes) {
        match outcome {
            Ok(()) => successful.push(json!({"Id": id_of(entry)})),
            Err(error) => refused.push(failed(
                id_of(entry),
                errors::entry_code(&error.code),
                &error.message,
                error.sender_fault,
            )),
        }
    }
    Ok(batch::answer(successful, refused))
}
