//! What sending and receiving share: a message's attributes as the JSON protocol writes them
//! (`{"NAME": {"DataType": "String", "StringValue": …}}`, binary values in base64), read into
//! and written from the service's [`MessageAttributeValue`]; and the request members every send
//! entry has, read into a [`NewMessage`] (the service checks them, in SQS's words).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use weir_engine::queues::{MessageAttributeValue, NewMessage};

use super::{AwsError, errors, integer_of, text_of};

/// A map of message attributes (`MessageAttributes`, `MessageSystemAttributes`) of `object`.
pub fn attributes_of(
    object: &Value,
    member: &str,
) -> Result<BTreeMap<String, MessageAttributeValue>, AwsError> {
    let entries = match object.get(member) {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(entries)) => entries,
        Some(_) => {
            return Err(AwsError {
                code: "SerializationException",
                message: format!("{member} must be a map of message attribute values"),
            });
        }
    };
    let mut attributes = BTreeMap::new();
    for (name, value) in entries {
        let data_type = text_of(value, "DataType")?.ok_or_else(|| {
            errors::invalid_value(format!(
                "The message attribute '{name}' must contain non-empty message attribute type."
            ))
        })?;
        let binary_value = text_of(value, "BinaryValue")?.map(blob).transpose()?;
        let strings = |member: &str| -> Result<Vec<String>, AwsError> {
            match value.get(member) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_string).ok_or_else(|| AwsError {
                            code: "SerializationException",
                            message: format!("{member} must be a list of strings"),
                        })
                    })
                    .collect(),
                Some(_) => Err(AwsError {
                    code: "SerializationException",
                    message: format!("{member} must be a list"),
                }),
            }
        };
        attributes.insert(
            name.clone(),
            MessageAttributeValue {
                data_type: data_type.to_string(),
                string_value: text_of(value, "StringValue")?.map(str::to_string),
                binary_value,
                string_list_values: strings("StringListValues")?,
                binary_list_values: strings("BinaryListValues")?
                    .iter()
                    .map(|text| blob(text))
                    .collect::<Result<_, _>>()?,
            },
        );
    }
    Ok(attributes)
}

/// A blob member's bytes (base64 in JSON).
fn blob(text: &str) -> Result<Vec<u8>, AwsError> {
    STANDARD.decode(text).map_err(|e| AwsError {
        code: "SerializationException",
        message: format!("'{text}' can not be converted to a Blob: {e}"),
    })
}

/// Message attributes as a received message shows them.
pub fn attributes_json(attributes: &BTreeMap<String, MessageAttributeValue>) -> Value {
    let shown: Map<String, Value> = attributes
        .iter()
        .map(|(name, attribute)| {
            let mut value = Map::new();
            if let Some(text) = &attribute.string_value {
                value.insert("StringValue".into(), json!(text));
            }
            if let Some(bytes) = &attribute.binary_value {
                value.insert("BinaryValue".into(), json!(STANDARD.encode(bytes)));
            }
            if !attribute.string_list_values.is_empty() {
                value.insert(
                    "StringListValues".into(),
                    json!(attribute.string_list_values),
                );
            }
            if !attribute.binary_list_values.is_empty() {
                let encoded: Vec<String> = attribute
                    .binary_list_values
                    .iter()
                    .map(|bytes| STANDARD.encode(bytes))
                    .collect();
                value.insert("BinaryListValues".into(), json!(encoded));
            }
            value.insert("DataType".into(), json!(attribute.data_type));
            (name.clone(), Value::Object(value))
        })
        .collect();
    Value::Object(shown)
}

/// The members of a message to send (SendMessage's, or one SendMessageBatch entry's).
pub fn new_message(object: &Value) -> Result<NewMessage, AwsError> {
    let body = text_of(object, "MessageBody")?.ok_or_else(|| errors::missing("MessageBody"))?;
    let delay_seconds = match integer_of(object, "DelaySeconds")? {
        None => None,
        Some(n) => Some(u32::try_from(n).map_err(|_| {
            errors::invalid_value(format!(
                "Value {n} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
            ))
        })?),
    };
    Ok(NewMessage {
        body: body.to_string(),
        delay_seconds,
        message_attributes: attributes_of(object, "MessageAttributes")?,
        system_attributes: attributes_of(object, "MessageSystemAttributes")?,
        group_id: text_of(object, "MessageGroupId")?.map(str::to_string),
        deduplication_id: text_of(object, "MessageDeduplicationId")?.map(str::to_string),
    })
}
