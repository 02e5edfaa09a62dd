//! Messages as callers give and get them, and the checks SQS makes of a message before taking
//! it (body characters and size, delays, message attributes, FIFO's group and de-duplication
//! ids), with SQS's texts.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::attributes::{MAX_DELAY_SECONDS, MAX_VISIBILITY_TIMEOUT, MAX_WAIT_SECONDS, Settings};
use super::error::QueueError;

/// Most message attributes on one message.
pub const MAX_MESSAGE_ATTRIBUTES: usize = 10;

/// A message attribute's value (SQS's `MessageAttributeValue`). Binary values are raw bytes
/// (the protocol base64-encodes them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageAttributeValue {
    /// `String`, `Number`, `Binary`, optionally followed by `.` and a custom type.
    pub data_type: String,
    pub string_value: Option<String>,
    pub binary_value: Option<Vec<u8>>,
    pub string_list_values: Vec<String>,
    pub binary_list_values: Vec<Vec<u8>>,
}

/// A message to send (SendMessage's, or one SendMessageBatch entry's, members).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewMessage {
    pub body: String,
    pub delay_seconds: Option<u32>,
    pub message_attributes: BTreeMap<String, MessageAttributeValue>,
    /// MessageSystemAttributes: only `AWSTraceHeader`.
    pub system_attributes: BTreeMap<String, MessageAttributeValue>,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
}

/// A message accepted (SendMessageResult, or a SendMessageBatchResultEntry without its Id).
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub message_id: String,
    pub md5_of_message_body: String,
    pub md5_of_message_attributes: Option<String>,
    pub md5_of_message_system_attributes: Option<String>,
    /// FIFO queues only.
    pub sequence_number: Option<String>,
}

/// ReceiveMessage's members.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiveRequest {
    /// 1–10.
    pub max_messages: u32,
    /// The queue's VisibilityTimeout when absent.
    pub visibility_timeout: Option<u32>,
    /// Long polling, 0–20 seconds; the queue's ReceiveMessageWaitTimeSeconds when absent.
    pub wait_seconds: Option<u32>,
    /// System attributes to return (AttributeNames and MessageSystemAttributeNames together):
    /// `All`, `SenderId`, `SentTimestamp`, `ApproximateReceiveCount`,
    /// `ApproximateFirstReceiveTimestamp`, `SequenceNumber`, `MessageDeduplicationId`,
    /// `MessageGroupId`, `AWSTraceHeader`.
    pub attribute_names: Vec<String>,
    /// Message attributes to return: names, `All`, `.*`, or prefixes ending in `.*`.
    pub message_attribute_names: Vec<String>,
    /// FIFO's ReceiveRequestAttemptId (accepted; retries are not de-duplicated).
    pub receive_request_attempt_id: Option<String>,
}

impl Default for ReceiveRequest {
    fn default() -> Self {
        ReceiveRequest {
            max_messages: 1,
            visibility_timeout: None,
            wait_seconds: None,
            attribute_names: Vec::new(),
            message_attribute_names: Vec::new(),
            receive_request_attempt_id: None,
        }
    }
}

/// A received message (ReceiveMessage's `Message`).
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub md5_of_body: String,
    /// Of the message attributes returned, when any are.
    pub md5_of_message_attributes: Option<String>,
    /// The system attributes asked for.
    pub attributes: BTreeMap<String, String>,
    /// The message attributes asked for.
    pub message_attributes: BTreeMap<String, MessageAttributeValue>,
}

/// A queue's messages by state (ApproximateNumberOfMessages, …NotVisible, …Delayed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
}

/// What a message weighs against MaximumMessageSize: its body and each attribute's name, type
/// and value, in bytes.
pub(crate) fn message_size(message: &NewMessage) -> usize {
    message.body.len()
        + message
            .message_attributes
            .iter()
            .map(|(name, value)| name.len() + attribute_size(value))
            .sum::<usize>()
}

fn attribute_size(value: &MessageAttributeValue) -> usize {
    value.data_type.len()
        + value.string_value.as_ref().map_or(0, String::len)
        + value.binary_value.as_ref().map_or(0, Vec::len)
        + value
            .string_list_values
            .iter()
            .map(String::len)
            .sum::<usize>()
        + value.binary_list_values.iter().map(Vec::len).sum::<usize>()
}

/// Checks a message against its queue's settings, as SQS does before taking it.
pub(crate) fn check(message: &NewMessage, settings: &Settings) -> Result<(), QueueError> {
    if message.body.is_empty() {
        return Err(QueueError::MissingParameter(
            "The request must contain the parameter MessageBody.".into(),
        ));
    }
    if !message.body.chars().all(allowed_char) {
        return Err(QueueError::InvalidMessageContents(
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF".into(),
        ));
    }
    check_attributes(&message.message_attributes)?;
    check_system_attributes(&message.system_attributes)?;
    let size = message_size(message);
    if size > settings.maximum_message_size as usize {
        return Err(QueueError::InvalidParameterValue(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
            settings.maximum_message_size
        )));
    }
    let not_for_this_queue = |parameter: &str, value: &str| {
        QueueError::InvalidParameterValue(format!(
            "Value {value} for parameter {parameter} is invalid. Reason: The request include parameter that is not valid for this queue type."
        ))
    };
    if let Some(delay) = message.delay_seconds {
        if delay > MAX_DELAY_SECONDS {
            return Err(QueueError::InvalidParameterValue(format!(
                "Value {delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
            )));
        }
        if settings.fifo && delay > 0 {
            return Err(not_for_this_queue("DelaySeconds", &delay.to_string()));
        }
    }
    if let Some(group) = &message.group_id {
        check_id("MessageGroupId", group)?;
    }
    if let Some(dedup) = &message.deduplication_id {
        check_id("MessageDeduplicationId", dedup)?;
    }
    if settings.fifo {
        if message.group_id.is_none() {
            return Err(QueueError::MissingParameter(
                "The request must contain the parameter MessageGroupId.".into(),
            ));
        }
        if message.deduplication_id.is_none() && !settings.content_based_deduplication {
            return Err(QueueError::InvalidParameterValue(
                "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly".into(),
            ));
        }
    } else if let Some(dedup) = &message.deduplication_id {
        return Err(not_for_this_queue("MessageDeduplicationId", dedup));
    }
    Ok(())
}

/// The characters SQS allows in a body and in string attribute values.
fn allowed_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// MessageGroupId and MessageDeduplicationId: 1–128 alphanumeric or punctuation characters.
fn check_id(parameter: &str, value: &str) -> Result<(), QueueError> {
    let valid = (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b.is_ascii_punctuation());
    if valid {
        Ok(())
    } else {
        Err(QueueError::InvalidParameterValue(format!(
            "Value {value} for parameter {parameter} is invalid. Reason: {parameter} can only include alphanumeric and punctuation characters. 1 to 128 in length."
        )))
    }
}

fn check_attributes(
    attributes: &BTreeMap<String, MessageAttributeValue>,
) -> Result<(), QueueError> {
    if attributes.len() > MAX_MESSAGE_ATTRIBUTES {
        return Err(QueueError::InvalidParameterValue(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].",
            attributes.len()
        )));
    }
    for (name, value) in attributes {
        check_attribute_name(name)?;
        check_attribute_value("Message (user)", name, value)?;
    }
    Ok(())
}

fn check_system_attributes(
    attributes: &BTreeMap<String, MessageAttributeValue>,
) -> Result<(), QueueError> {
    for (name, value) in attributes {
        if name != "AWSTraceHeader" {
            return Err(QueueError::InvalidParameterValue(format!(
                "Message system attribute name '{name}' is invalid."
            )));
        }
        if value.data_type != "String" {
            return Err(QueueError::InvalidParameterValue(format!(
                "Message system attribute '{name}' must be of type 'String'."
            )));
        }
        check_attribute_value("Message system", name, value)?;
    }
    Ok(())
}

/// Names: 1–256 characters of `[A-Za-z0-9_.-]`, not starting with `AWS.` or `Amazon.`, no
/// leading, trailing or doubled period.
fn check_attribute_name(name: &str) -> Result<(), QueueError> {
    let lower = name.to_ascii_lowercase();
    let valid = (1..=256).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.");
    if valid {
        Ok(())
    } else {
        Err(QueueError::InvalidParameterValue(format!(
            "Message (user) attribute name '{name}' is invalid. The attribute name can contain A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) characters."
        )))
    }
}

fn check_attribute_value(
    kind: &str,
    name: &str,
    value: &MessageAttributeValue,
) -> Result<(), QueueError> {
    let base = value.data_type.split('.').next().unwrap_or("");
    let custom_ok = value.data_type.len() <= 256;
    if !matches!(base, "String" | "Number" | "Binary") || !custom_ok {
        return Err(QueueError::InvalidParameterValue(format!(
            "{kind} attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
        )));
    }
    let empty = || {
        QueueError::InvalidParameterValue(format!(
            "{kind} attribute '{name}' must contain a non-empty message attribute value for message attribute type '{base}'."
        ))
    };
    match base {
        "Binary" => {
            if value.binary_value.as_ref().is_none_or(Vec::is_empty) {
                return Err(empty());
            }
        }
        _ => {
            let Some(text) = value.string_value.as_deref().filter(|t| !t.is_empty()) else {
                return Err(empty());
            };
            if !text.chars().all(allowed_char) {
                return Err(QueueError::InvalidMessageContents(format!(
                    "{kind} attribute '{name}' has invalid characters."
                )));
            }
            if base == "Number" && !is_number(text) {
                return Err(QueueError::InvalidParameterValue(format!(
                    "Could not cast message attribute '{name}' value to number."
                )));
            }
        }
    }
    Ok(())
}

/// SQS's numbers: up to 38 significant digits, between 10^-128 and 10^+126 (as a decimal text).
fn is_number(text: &str) -> bool {
    text.trim().parse::<f64>().is_ok_and(f64::is_finite)
}

/// Checks ReceiveMessage's numbers, in SQS's words.
pub(crate) fn check_receive(request: &ReceiveRequest) -> Result<(), QueueError> {
    if !(1..=10).contains(&request.max_messages) {
        return Err(QueueError::InvalidParameterValue(format!(
            "Value {} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.",
            request.max_messages
        )));
    }
    if let Some(wait) = request.wait_seconds.filter(|w| *w > MAX_WAIT_SECONDS) {
        return Err(QueueError::InvalidParameterValue(format!(
            "Value {wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
        )));
    }
    if let Some(timeout) = request
        .visibility_timeout
        .filter(|t| *t > MAX_VISIBILITY_TIMEOUT)
    {
        return Err(QueueError::InvalidParameterValue(format!(
            "Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."
        )));
    }
    Ok(())
}

/// Whether a message attribute named `name` is among those `wanted`.
pub(crate) fn wanted(wanted: &[String], name: &str) -> bool {
    wanted.iter().any(|w| {
        w == "All"
            || w == ".*"
            || w == name
            || w.strip_suffix(".*").is_some_and(|prefix| {
                name.starts_with(prefix) && name[prefix.len()..].starts_with('.')
            })
    })
}

/// Message attributes as stored: `{name: {DataType, StringValue | BinaryValue (base64) |
/// StringListValues | BinaryListValues}}`.
pub(crate) fn attributes_to_json(attributes: &BTreeMap<String, MessageAttributeValue>) -> Value {
    let mut object = Map::new();
    for (name, value) in attributes {
        let mut entry = Map::new();
        entry.insert("DataType".into(), json!(value.data_type));
        if let Some(text) = &value.string_value {
            entry.insert("StringValue".into(), json!(text));
        }
        if let Some(binary) = &value.binary_value {
            entry.insert("BinaryValue".into(), json!(STANDARD.encode(binary)));
        }
        if !value.string_list_values.is_empty() {
            entry.insert("StringListValues".into(), json!(value.string_list_values));
        }
        if !value.binary_list_values.is_empty() {
            let list: Vec<String> = value
                .binary_list_values
                .iter()
                .map(|b| STANDARD.encode(b))
                .collect();
            entry.insert("BinaryListValues".into(), json!(list));
        }
        object.insert(name.clone(), Value::Object(entry));
    }
    Value::Object(object)
}

/// The inverse of [`attributes_to_json`]; what does not read is left out.
pub(crate) fn attributes_from_json(value: &Value) -> BTreeMap<String, MessageAttributeValue> {
    let Some(object) = value.as_object() else {
        return BTreeMap::new();
    };
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let binary = |s: &str| STANDARD.decode(s).ok();
    object
        .iter()
        .map(|(name, v)| {
            let strings = |key: &str| -> Vec<String> {
                v.get(key)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let value = MessageAttributeValue {
                data_type: text(v, "DataType").unwrap_or_default(),
                string_value: text(v, "StringValue"),
                binary_value: text(v, "BinaryValue").and_then(|s| binary(&s)),
                string_list_values: strings("StringListValues"),
                binary_list_values: strings("BinaryListValues")
                    .iter()
                    .filter_map(|s| binary(s))
                    .collect(),
            };
            (name.clone(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standard() -> Settings {
        Settings::of(&BTreeMap::new())
    }

    fn fifo(content_based: bool) -> Settings {
        let mut attributes = BTreeMap::from([("FifoQueue".to_string(), "true".to_string())]);
        if content_based {
            attributes.insert("ContentBasedDeduplication".into(), "true".into());
        }
        Settings::of(&attributes)
    }

    fn body(text: &str) -> NewMessage {
        NewMessage {
            body: text.into(),
            ..Default::default()
        }
    }

    fn refusal(message: &NewMessage, settings: &Settings) -> (String, String) {
        let error = check(message, settings).unwrap_err();
        (error.code().to_string(), error.to_string())
    }

    #[test]
    fn bodies_are_checked_as_sqs_does() {
        assert!(check(&body("hello"), &standard()).is_ok());
        assert_eq!(
            refusal(&body(""), &standard()),
            (
                "MissingParameter".into(),
                "The request must contain the parameter MessageBody.".into()
            )
        );
        assert_eq!(
            refusal(&body("a\u{1}b"), &standard()).0,
            "InvalidMessageContents"
        );
        let mut small = BTreeMap::new();
        small.insert("MaximumMessageSize".to_string(), "1024".to_string());
        let (code, text) = refusal(&body(&"x".repeat(1025)), &Settings::of(&small));
        assert_eq!(code, "InvalidParameterValue");
        assert_eq!(
            text,
            "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."
        );
        assert!(check(&body(&"x".repeat(1024)), &Settings::of(&small)).is_ok());
    }

    #[test]
    fn fifo_rules_apply_to_fifo_queues_only() {
        let mut message = body("m");
        assert_eq!(refusal(&message, &fifo(false)).0, "MissingParameter");
        message.group_id = Some("g".into());
        assert_eq!(
            refusal(&message, &fifo(false)).1,
            "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
        );
        assert!(check(&message, &fifo(true)).is_ok());
        message.delay_seconds = Some(5);
        assert_eq!(
            refusal(&message, &fifo(true)).1,
            "Value 5 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."
        );
        let mut standard_with_dedup = body("m");
        standard_with_dedup.deduplication_id = Some("d".into());
        assert_eq!(
            refusal(&standard_with_dedup, &standard()).0,
            "InvalidParameterValue"
        );
        let mut long_delay = body("m");
        long_delay.delay_seconds = Some(901);
        assert_eq!(
            refusal(&long_delay, &standard()).1,
            "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
        );
    }

    #[test]
    fn message_attributes_are_checked() {
        let mut message = body("m");
        for i in 0..11 {
            message.message_attributes.insert(
                format!("a{i}"),
                MessageAttributeValue {
                    data_type: "String".into(),
                    string_value: Some("v".into()),
                    ..Default::default()
                },
            );
        }
        assert_eq!(
            refusal(&message, &standard()).1,
            "Number of message attributes [11] exceeds the allowed maximum [10]."
        );
        let one = |data_type: &str, value: Option<&str>| NewMessage {
            message_attributes: BTreeMap::from([(
                "n".to_string(),
                MessageAttributeValue {
                    data_type: data_type.into(),
                    string_value: value.map(str::to_string),
                    ..Default::default()
                },
            )]),
            ..body("m")
        };
        assert!(check(&one("Number.int", Some("12")), &standard()).is_ok());
        assert!(check(&one("Number", Some("twelve")), &standard()).is_err());
        assert_eq!(
            refusal(&one("String", None), &standard()).1,
            "Message (user) attribute 'n' must contain a non-empty message attribute value for message attribute type 'String'."
        );
        assert!(check(&one("Text", Some("x")), &standard()).is_err());
    }

    #[test]
    fn attribute_selection_and_storage_round_trip() {
        let names = vec!["color".to_string(), "trace.*".to_string()];
        assert!(wanted(&names, "color"));
        assert!(wanted(&names, "trace.id"));
        assert!(!wanted(&names, "tracer"));
        assert!(wanted(&["All".to_string()], "x"));
        let attributes = BTreeMap::from([
            (
                "b".to_string(),
                MessageAttributeValue {
                    data_type: "Binary".into(),
                    binary_value: Some(vec![0, 1, 255]),
                    ..Default::default()
                },
            ),
            (
                "s".to_string(),
                MessageAttributeValue {
                    data_type: "String.custom".into(),
                    string_value: Some("v".into()),
                    ..Default::default()
                },
            ),
        ]);
        assert_eq!(
            attributes_from_json(&attributes_to_json(&attributes)),
            attributes
        );
    }
}
