//! SendMessage: one message, durable before this answers, with the MD5 digests SQS computes
//! (of the body, of the message attributes) so clients can check what arrived; a FIFO queue's
//! answer carries the message's sequence number.

use serde_json::{Map, Value, json};

use super::messages::new_message;
use super::{Answer, AwsError, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    let queue = call.queue()?;
    let message = new_message(call.request)?;
    let mut sent = call.queues.send(queue, vec![message]).await?;
    match sent.pop() {
        Some(Ok(sent)) => Ok(sent_json(&sent, None)),
        Some(Err(error)) => Err(AwsError::from(error.into_error())),
        None => Err(super::errors::internal("a send answered nothing")),
    }
}

/// What SQS answers of a sent message (with the entry's `Id` in a batch).
pub fn sent_json(sent: &weir_engine::queues::Sent, id: Option<&str>) -> Value {
    let mut answer = Map::new();
    if let Some(id) = id {
        answer.insert("Id".into(), json!(id));
    }
    answer.insert("MessageId".into(), json!(sent.message_id));
    answer.insert("MD5OfMessageBody".into(), json!(sent.md5_of_message_body));
    if let Some(md5) = &sent.md5_of_message_attributes {
        answer.insert("MD5OfMessageAttributes".into(), json!(md5));
    }
    if let Some(md5) = &sent.md5_of_message_system_attributes {
        answer.insert("MD5OfMessageSystemAttributes".into(), json!(md5));
    }
    if let Some(sequence) = &sent.sequence_number {
        answer.insert("SequenceNumber".into(), json!(sequence));
    }
    Value::Object(answer)
}
