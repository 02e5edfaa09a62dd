//! The event a function receives from a stream: Lambda's Kinesis event, field for field, so that
//! handlers written for AWS run unchanged; and what the function answers (`batchItemFailures`,
//! a tumbling window's `state`).

use base64::Engine as _;
use serde_json::{Map, Value, json};
use weir_stream::{Record, ShardId};

/// What every record of a mapping's events shares.
pub(super) struct EventSource<'a> {
    pub stream_arn: &'a str,
    pub region: &'a str,
    /// `invokeIdentityArn`: the role Lambda invokes with; weir's functions' role.
    pub identity_arn: &'a str,
}

/// `{"Records": [...]}` for a batch of one shard.
pub(super) fn kinesis_event(source: &EventSource<'_>, shard: ShardId, records: &[Record]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|record| kinesis_record(source, shard, record))
        .collect();
    json!({ "Records": records })
}

fn kinesis_record(source: &EventSource<'_>, shard: ShardId, record: &Record) -> Value {
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record.partition_key,
            "sequenceNumber": record.sequence.to_string(),
            "data": base64::engine::general_purpose::STANDARD.encode(&record.data),
            // Seconds, with the milliseconds as a fraction.
            "approximateArrivalTimestamp": record.arrival_ms as f64 / 1000.0,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("{shard}:{}", record.sequence),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": source.identity_arn,
        "awsRegion": source.region,
        "eventSourceARN": source.stream_arn,
    })
}

/// A tumbling window's invocation adds, beside `Records`: the window, the state the previous
/// invocation of the window returned, the shard and stream, and whether this is the window's
/// final invocation (whose result is the window's).
pub(super) struct Window<'a> {
    pub start_ms: i64,
    pub end_ms: i64,
    pub state: &'a Value,
    pub is_final: bool,
}

pub(super) fn windowed_event(
    source: &EventSource<'_>,
    shard: ShardId,
    records: &[Record],
    window: &Window<'_>,
) -> Value {
    let mut event = kinesis_event(source, shard, records);
    if let Some(fields) = event.as_object_mut() {
        fields.insert(
            "window".into(),
            json!({ "start": rfc3339(window.start_ms), "end": rfc3339(window.end_ms) }),
        );
        fields.insert("state".into(), window.state.clone());
        fields.insert("shardId".into(), json!(shard.to_string()));
        fields.insert("eventSourceARN".into(), json!(source.stream_arn));
        fields.insert("isFinalInvokeForWindow".into(), json!(window.is_final));
        fields.insert("isWindowTerminatedEarly".into(), json!(false));
    }
    event
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// What a function's answer says about its batch.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Answer {
    /// Every record was processed.
    AllDone,
    /// The records before this index were processed; it and the rest were not
    /// (`batchItemFailures`: the lowest sequence number reported).
    FailedFrom(usize),
}

/// Reads `batchItemFailures` as Lambda does: absent, null or empty means success; an item whose
/// `itemIdentifier` is missing, empty or not a sequence number of the batch fails the whole batch.
pub(super) fn read_answer(result: &Value, records: &[Record]) -> Answer {
    let Some(failures) = result.get("batchItemFailures") else {
        return Answer::AllDone;
    };
    let failures = match failures {
        Value::Null => return Answer::AllDone,
        Value::Array(items) if items.is_empty() => return Answer::AllDone,
        Value::Array(items) => items,
        _ => return Answer::FailedFrom(0),
    };
    let mut first = records.len();
    for failure in failures {
        let identifier = failure.get("itemIdentifier").and_then(Value::as_str);
        let position = identifier.and_then(|id| {
            records
                .iter()
                .position(|record| record.sequence.to_string() == id)
        });
        match position {
            Some(i) => first = first.min(i),
            None => return Answer::FailedFrom(0),
        }
    }
    Answer::FailedFrom(first)
}

/// The `state` a tumbling window's invocation returned (`{}` when it returned none).
pub(super) fn returned_state(result: &Value) -> Value {
    match result.get("state") {
        Some(Value::Object(state)) => Value::Object(state.clone()),
        _ => Value::Object(Map::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use weir_stream::SequenceNumber;

    fn record(offset: u64) -> Record {
        Record {
            sequence: SequenceNumber::of_record(ShardId(6), offset),
            offset,
            partition_key: "1".into(),
            data: Bytes::from_static(b"Hello, this is a test."),
            arrival_ms: 1_545_084_650_987,
        }
    }

    const SOURCE: EventSource<'static> = EventSource {
        stream_arn: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
        region: "us-east-2",
        identity_arn: "arn:aws:iam::123456789012:role/weir",
    };

    #[test]
    fn the_event_is_lambdas_kinesis_event() {
        let event = kinesis_event(&SOURCE, ShardId(6), &[record(3)]);
        let sequence = SequenceNumber::of_record(ShardId(6), 3).to_string();
        assert_eq!(
            event,
            json!({"Records": [{
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "1",
                    "sequenceNumber": sequence,
                    "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
                    "approximateArrivalTimestamp": 1545084650.987
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("shardId-000000000006:{sequence}"),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/weir",
                "awsRegion": "us-east-2",
                "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
            }]})
        );
    }

    #[test]
    fn a_window_adds_its_fields() {
        let state = json!({"count": 2});
        let window = Window {
            start_ms: 1_596_128_400_000,
            end_ms: 1_596_128_700_000,
            state: &state,
            is_final: false,
        };
        let event = windowed_event(&SOURCE, ShardId(6), &[], &window);
        assert_eq!(
            event["window"],
            json!({"start": "2020-07-30T17:00:00Z", "end": "2020-07-30T17:05:00Z"})
        );
        assert_eq!(event["state"], state);
        assert_eq!(event["shardId"], "shardId-000000000006");
        assert_eq!(event["isFinalInvokeForWindow"], false);
        assert_eq!(event["Records"], json!([]));
    }

    #[test]
    fn batch_item_failures_point_at_the_first_failed_record() {
        let records = [record(0), record(1), record(2)];
        let id = |i: u64| SequenceNumber::of_record(ShardId(6), i).to_string();
        assert_eq!(read_answer(&json!(null), &records), Answer::AllDone);
        assert_eq!(
            read_answer(&json!({"batchItemFailures": []}), &records),
            Answer::AllDone
        );
        let two =
            json!({"batchItemFailures": [{"itemIdentifier": id(2)}, {"itemIdentifier": id(1)}]});
        assert_eq!(read_answer(&two, &records), Answer::FailedFrom(1));
        let unknown = json!({"batchItemFailures": [{"itemIdentifier": "nope"}]});
        assert_eq!(read_answer(&unknown, &records), Answer::FailedFrom(0));
        let empty = json!({"batchItemFailures": [{"itemIdentifier": ""}]});
        assert_eq!(read_answer(&empty, &records), Answer::FailedFrom(0));
        assert_eq!(returned_state(&json!({"state": {"n": 1}})), json!({"n": 1}));
        assert_eq!(returned_state(&json!({})), json!({}));
    }
}
