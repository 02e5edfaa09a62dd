//! ChangeMessageVisibilityBatch: up to ten visibility changes, each made or refused on its own.

use serde_json::json;

use super::batch::{self, failed, id_of};
use super::change_message_visibility::visibility;
use super::{Answer, Call, errors, integer_of, text_of};

pub async fn handle(call: &Call<'_>) -> Answer {
    let queue = call.queue()?;
    let entries = batch::entries(call.request, "ChangeMessageVisibilityBatchRequestEntry")?;
    let mut refused = Vec::new();
    let mut changes = Vec::with_capacity(entries.len());
    let mut ids = Vec::with_capacity(entries.len());
    for entry in entries {
        let handle = text_of(entry, "ReceiptHandle")?.ok_or_else(|| {
            errors::missing("ChangeMessageVisibilityBatchRequestEntry.ReceiptHandle")
        })?;
        match visibility(integer_of(entry, "VisibilityTimeout")?) {
            Ok(seconds) => {
                changes.push((handle.to_string(), seconds));
                ids.push(id_of(entry));
            }
            Err(error) => refused.push(failed(
                id_of(entry),
                errors::query_error(error.code).0,
                &error.message,
                true,
            )),
        }
    }
    let outcomes = if changes.is_empty() {
        Vec::new()
    } else {
        call.queues.change_visibility(queue, changes).await?
    };
    let mut successful = Vec::new();
    for (id, outcome) in ids.into_iter().zip(outcomes) {
        match outcome {
            Ok(()) => successful.push(json!({"Id": id})),
            Err(error) => refused.push(failed(
                id,
                errors::entry_code(&error.code),
                &error.message,
                error.sender_fault,
            )),
        }
    }
    Ok(batch::answer(successful, refused))
}
