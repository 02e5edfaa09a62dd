//! SendMessageBatch: up to ten messages, each sent or refused on its own (`Successful` with the
//! message's id and digests, `Failed` with SQS's code and message), the sent ones durable before
//! this answers. The whole batch (bodies and attributes) may hold at most as much as one message
//! may (`BatchRequestTooLong`).

use std::collections::BTreeMap;

use serde_json::Value;
use weir_engine::queues::{MessageAttributeValue, NewMessage};

use super::batch::{self, failed, id_of};
use super::messages::new_message;
use super::send_message::sent_json;
use super::{Answer, AwsError, Call};

/// The most a batch's messages may hold together: SQS's largest message, 1 MiB.
pub const MAX_BATCH_BYTES: usize = 1 << 20;

pub async fn handle(call: &Call<'_>) -> Answer {
    let queue = call.queue()?;
    let entries = batch::entries(call.request, "SendMessageBatchRequestEntry")?;
    // Entries whose members cannot be read fail on their own; the rest are sent together.
    let mut refused: Vec<Value> = Vec::new();
    let mut sending: Vec<(&str, NewMessage)> = Vec::new();
    for entry in entries {
        match new_message(entry) {
            Ok(message) => sending.push((id_of(entry), message)),
            Err(error) => refused.push(failed(
                id_of(entry),
                super::errors::query_error(error.code).0,
                &error.message,
                true,
            )),
        }
    }
    let total: usize = sending.iter().map(|(_, m)| size_of(m)).sum();
    if total > MAX_BATCH_BYTES {
        return Err(AwsError {
            code: "BatchRequestTooLong",
            message: format!(
                "Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes."
            ),
        });
    }
    let (ids, messages): (Vec<&str>, Vec<NewMessage>) = sending.into_iter().unzip();
    let outcomes = if messages.is_empty() {
        Vec::new()
    } else {
        call.queues.send(queue, messages).await?
    };
    let mut successful = Vec::new();
    for (id, outcome) in ids.into_iter().zip(outcomes) {
        match outcome {
            Ok(sent) => successful.push(sent_json(&sent, Some(id))),
            Err(error) => refused.push(failed(
                id,
                super::errors::entry_code(&error.code),
                &error.message,
                error.sender_fault,
            )),
        }
    }
    Ok(batch::answer(successful, refused))
}

/// What a message counts toward the batch's size: its body and its attributes' names, types and
/// values.
fn size_of(message: &NewMessage) -> usize {
    message.body.len() + attributes_size(&message.message_attributes)
}

fn attributes_size(attributes: &BTreeMap<String, MessageAttributeValue>) -> usize {
    attributes
        .iter()
        .map(|(name, a)| {
            name.len()
                + a.data_type.len()
                + a.string_value.as_ref().map_or(0, String::len)
                + a.binary_value.as_ref().map_or(0, Vec::len)
                + a.string_list_values.iter().map(String::len).sum::<usize>()
                + a.binary_list_values.iter().map(Vec::len).sum::<usize>()
        })
        .sum()
}
