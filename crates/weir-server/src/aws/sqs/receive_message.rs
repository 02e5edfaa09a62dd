//! ReceiveMessage: up to `MaxNumberOfMessages` (1–10) messages, hidden for the visibility
//! timeout, long-polling up to `WaitTimeSeconds` (0–20) when none is there; the system
//! attributes asked for (`MessageSystemAttributeNames`, or the deprecated `AttributeNames`) and
//! the message attributes asked for (`MessageAttributeNames`: names, `prefix.*`, `All`/`.*`).
//! SQS leaves `Messages` out when none came.

use serde_json::{Map, Value, json};
use weir_engine::queues::ReceiveRequest;

use super::messages::attributes_json;
use super::{Answer, AwsError, Call, errors};

/// The longest visibility timeout: 12 hours.
const MAX_VISIBILITY_SECONDS: i64 = 43_200;
/// The longest long poll.
const MAX_WAIT_SECONDS: i64 = 20;

pub async fn handle(call: &Call<'_>) -> Answer {
    let queue = call.queue()?;
    let max = ranged(
        call,
        "MaxNumberOfMessages",
        1,
        10,
        "Must be between 1 and 10, if provided.",
    )?;
    let wait = ranged(
        call,
        "WaitTimeSeconds",
        0,
        MAX_WAIT_SECONDS,
        "Must be >= 0 and <= 20, if provided.",
    )?;
    let visibility = ranged(
        call,
        "VisibilityTimeout",
        0,
        MAX_VISIBILITY_SECONDS,
        "Must be >= 0 and <= 43200, if provided.",
    )?;
    let mut attribute_names = call.strings("MessageSystemAttributeNames")?;
    for name in call.strings("AttributeNames")? {
        if !attribute_names.contains(&name) {
            attribute_names.push(name);
        }
    }
    let request = ReceiveRequest {
        max_messages: max.map_or(1, |n| n as u32),
        visibility_timeout: visibility.map(|n| n as u32),
        wait_seconds: wait.map(|n| n as u32),
        attribute_names,
        message_attribute_names: call.strings("MessageAttributeNames")?,
        receive_request_attempt_id: call.text("ReceiveRequestAttemptId")?.map(str::to_string),
    };
    let received = call.queues.receive(queue, request).await?;
    if received.is_empty() {
        return Ok(json!({}));
    }
    let messages: Vec<Value> = received
        .iter()
        .map(|message| {
            let mut shown = Map::new();
            shown.insert("MessageId".into(), json!(message.message_id));
            shown.insert("ReceiptHandle".into(), json!(message.receipt_handle));
            shown.insert("MD5OfBody".into(), json!(message.md5_of_body));
            shown.insert("Body".into(), json!(message.body));
            if !message.attributes.is_empty() {
                shown.insert("Attributes".into(), json!(message.attributes));
            }
            if let Some(md5) = &message.md5_of_message_attributes {
                shown.insert("MD5OfMessageAttributes".into(), json!(md5));
            }
            if !message.message_attributes.is_empty() {
                shown.insert(
                    "MessageAttributes".into(),
                    attributes_json(&message.message_attributes),
                );
            }
            Value::Object(shown)
        })
        .collect();
    Ok(json!({ "Messages": messages }))
}

/// An integer member in `min..=max`, refused in SQS's words.
fn ranged(
    call: &Call<'_>,
    member: &str,
    min: i64,
    max: i64,
    reason: &str,
) -> Result<Option<i64>, AwsError> {
    match call.integer(member)? {
        Some(n) if !(min..=max).contains(&n) => Err(errors::invalid_value(format!(
            "Value {n} for parameter {member} is invalid. Reason: {reason}"
        ))),
        other => Ok(other),
    }
}
