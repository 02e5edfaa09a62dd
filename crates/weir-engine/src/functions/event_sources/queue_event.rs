//! The event a function receives from a queue: Lambda's SQS event, field for field, so that
//! handlers written for AWS run unchanged; and what the function answers about it
//! (`batchItemFailures`, by message id).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value, json};

/// A message attribute as the event shows it (`dataType`, and a string or binary value).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Attribute {
    pub data_type: String,
    pub string_value: Option<String>,
    pub binary_value: Option<Vec<u8>>,
}

/// One received message, as much of it as the event shows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueueMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub md5_of_body: String,
    /// The system attributes (`ApproximateReceiveCount`, `SentTimestamp`, …, and a FIFO queue's
    /// `SequenceNumber`, `MessageGroupId`, `MessageDeduplicationId`), as SQS writes them.
    pub attributes: BTreeMap<String, String>,
    pub message_attributes: BTreeMap<String, Attribute>,
    pub md5_of_message_attributes: Option<String>,
}

/// What every record of a mapping's events shares.
pub(crate) struct QueueSource<'a> {
    pub queue_arn: &'a str,
    pub region: &'a str,
}

/// The system attributes a record carries, in Lambda's order: a standard queue's four, and a
/// FIFO queue's three more.
const RECORD_ATTRIBUTES: [&str; 7] = [
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "SenderId",
    "MessageDeduplicationId",
    "ApproximateFirstReceiveTimestamp",
];

/// `{"Records": [...]}` for a batch of messages.
pub(crate) fn sqs_event(source: &QueueSource<'_>, messages: &[QueueMessage]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|message| sqs_record(source, message))
        .collect();
    json!({ "Records": records })
}

fn sqs_record(source: &QueueSource<'_>, message: &QueueMessage) -> Value {
    let mut attributes = Map::new();
    for name in RECORD_ATTRIBUTES {
        if let Some(value) = message.attributes.get(name) {
            attributes.insert(name.to_string(), json!(value));
        }
    }
    if let Some(trace) = message.attributes.get("AWSTraceHeader") {
        attributes.insert("AWSTraceHeader".into(), json!(trace));
    }
    let message_attributes: Map<String, Value> = message
        .message_attributes
        .iter()
        .map(|(name, attribute)| (name.clone(), record_attribute(attribute)))
        .collect();
    let mut record = Map::new();
    record.insert("messageId".into(), json!(message.message_id));
    record.insert("receiptHandle".into(), json!(message.receipt_handle));
    record.insert("body".into(), json!(message.body));
    record.insert("attributes".into(), Value::Object(attributes));
    record.insert(
        "messageAttributes".into(),
        Value::Object(message_attributes),
    );
    if let Some(md5) = &message.md5_of_message_attributes {
        record.insert("md5OfMessageAttributes".into(), json!(md5));
    }
    record.insert("md5OfBody".into(), json!(message.md5_of_body));
    record.insert("eventSource".into(), json!("aws:sqs"));
    record.insert("eventSourceARN".into(), json!(source.queue_arn));
    record.insert("awsRegion".into(), json!(source.region));
    Value::Object(record)
}

/// `{"stringValue" | "binaryValue", "stringListValues": [], "binaryListValues": [], "dataType"}`:
/// Lambda writes the (reserved, always empty) list values too.
fn record_attribute(attribute: &Attribute) -> Value {
    let mut shown = Map::new();
    if let Some(text) = &attribute.string_value {
        shown.insert("stringValue".into(), json!(text));
    }
    if let Some(bytes) = &attribute.binary_value {
        shown.insert(
            "binaryValue".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
        );
    }
    shown.insert("stringListValues".into(), json!([]));
    shown.insert("binaryListValues".into(), json!([]));
    shown.insert("dataType".into(), json!(attribute.data_type));
    Value::Object(shown)
}

/// What a function's answer says about a batch of messages.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum QueueAnswer {
    /// Every message was processed: all are deleted.
    AllDone,
    /// The messages at these positions failed (the rest are deleted).
    Failed(Vec<usize>),
}

/// Reads `batchItemFailures` as Lambda does for SQS: absent, null or empty means success; an item
/// whose `itemIdentifier` is missing, empty or not a message id of the batch fails the whole
/// batch ("Success and failure conditions" in Lambda's guide).
pub(crate) fn read_queue_answer(result: &Value, messages: &[QueueMessage]) -> QueueAnswer {
    let every = || QueueAnswer::Failed((0..messages.len()).collect());
    let Some(failures) = result.get("batchItemFailures") else {
        return QueueAnswer::AllDone;
    };
    let failures = match failures {
        Value::Null => return QueueAnswer::AllDone,
        Value::Array(items) if items.is_empty() => return QueueAnswer::AllDone,
        Value::Array(items) => items,
        _ => return every(),
    };
    let mut failed = Vec::new();
    for failure in failures {
        let identifier = failure.get("itemIdentifier").and_then(Value::as_str);
        let position = identifier.and_then(|id| {
            messages
                .iter()
                .position(|message| !id.is_empty() && message.message_id == id)
        });
        match position {
            Some(i) if !failed.contains(&i) => failed.push(i),
            Some(_) => {}
            None => return every(),
        }
    }
    failed.sort_unstable();
    QueueAnswer::Failed(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str) -> QueueMessage {
        QueueMessage {
            message_id: id.into(),
            receipt_handle: format!("handle-{id}"),
            body: "Test message.".into(),
            md5_of_body: "e4e68fb7bd0e697a0ae8f1bb342846b3".into(),
            attributes: BTreeMap::from([
                ("ApproximateReceiveCount".into(), "1".into()),
                ("SentTimestamp".into(), "1545082649183".into()),
                ("SenderId".into(), "AIDAIENQZJOLO23YVJ4VO".into()),
                (
                    "ApproximateFirstReceiveTimestamp".into(),
                    "1545082649185".into(),
                ),
            ]),
            message_attributes: BTreeMap::new(),
            md5_of_message_attributes: None,
        }
    }

    const SOURCE: QueueSource<'static> = QueueSource {
        queue_arn: "arn:aws:sqs:us-east-2:123456789012:my-queue",
        region: "us-east-2",
    };

    #[test]
    fn the_event_is_lambdas_sqs_event() {
        let mut with_attribute = message("059f36b4-87a3-44ab-83d2-661975830a7d");
        with_attribute.message_attributes.insert(
            "myAttribute".into(),
            Attribute {
                data_type: "String".into(),
                string_value: Some("myValue".into()),
                binary_value: None,
            },
        );
        with_attribute.message_attributes.insert(
            "raw".into(),
            Attribute {
                data_type: "Binary".into(),
                string_value: None,
                binary_value: Some(b"\x00\x01".to_vec()),
            },
        );
        with_attribute.md5_of_message_attributes = Some("abc".into());
        let event = sqs_event(&SOURCE, &[with_attribute]);
        let expected = json!({"Records": [{
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "handle-059f36b4-87a3-44ab-83d2-661975830a7d",
            "body": "Test message.",
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1545082649183",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082649185"
            },
            "messageAttributes": {
                "myAttribute": {
                    "stringValue": "myValue",
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": "String"
                },
                "raw": {
                    "binaryValue": "AAE=",
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": "Binary"
                }
            },
            "md5OfMessageAttributes": "abc",
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
            "awsRegion": "us-east-2"
        }]});
        assert_eq!(event, expected);
        // Field order as Lambda writes it (handlers that print the event see the same text).
        let keys: Vec<&String> = event["Records"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys[..3], ["messageId", "receiptHandle", "body"]);
    }

    #[test]
    fn a_fifo_message_carries_its_group_sequence_and_deduplication_id() {
        let mut fifo = message("m");
        fifo.attributes
            .insert("SequenceNumber".into(), "18849496460467696128".into());
        fifo.attributes.insert("MessageGroupId".into(), "1".into());
        fifo.attributes
            .insert("MessageDeduplicationId".into(), "1".into());
        let event = sqs_event(&SOURCE, &[fifo]);
        let keys: Vec<&String> = event["Records"][0]["attributes"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(
            keys,
            [
                "ApproximateReceiveCount",
                "SentTimestamp",
                "SequenceNumber",
                "MessageGroupId",
                "SenderId",
                "MessageDeduplicationId",
                "ApproximateFirstReceiveTimestamp"
            ]
        );
    }

    #[test]
    fn batch_item_failures_name_messages_by_id() {
        let batch = [message("a"), message("b"), message("c")];
        assert_eq!(
            read_queue_answer(&json!(null), &batch),
            QueueAnswer::AllDone
        );
        assert_eq!(
            read_queue_answer(&json!({"batchItemFailures": null}), &batch),
            QueueAnswer::AllDone
        );
        assert_eq!(
            read_queue_answer(&json!({"batchItemFailures": []}), &batch),
            QueueAnswer::AllDone
        );
        let two = json!({"batchItemFailures": [{"itemIdentifier": "c"}, {"itemIdentifier": "a"}, {"itemIdentifier": "c"}]});
        assert_eq!(
            read_queue_answer(&two, &batch),
            QueueAnswer::Failed(vec![0, 2])
        );
        let all = QueueAnswer::Failed(vec![0, 1, 2]);
        for bad in [
            json!({"batchItemFailures": [{"itemIdentifier": "nope"}]}),
            json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
            json!({"batchItemFailures": [{"itemIdentifier": null}]}),
            json!({"batchItemFailures": [{"id": "a"}]}),
            json!({"batchItemFailures": "a"}),
        ] {
            assert_eq!(read_queue_answer(&bad, &batch), all, "{bad}");
        }
    }
}
