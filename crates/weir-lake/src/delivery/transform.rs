//! Firehose's data transformation contract. The function gets
//! `{invocationId, deliveryStreamArn, region, records: [{recordId, approximateArrivalTimestamp,
//! data (base64)}]}` (plus `sourceKinesisStreamArn` and each record's `kinesisRecordMetadata`
//! when the source is a stream) and answers `{records: [{recordId, result, data, metadata}]}`
//! with `result` one of `Ok`, `Dropped`, `ProcessingFailed`. A record the answer leaves out, or
//! answers twice, has failed, as Firehose treats it.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde_json::{Value, json};
use weir_stream::{Record, ShardId};

/// Invokes a function by name with a JSON event and returns its JSON answer. The binary
/// implements it with the engine's functions, so the lake needs no more of the engine.
#[async_trait::async_trait]
pub trait Transformer: Send + Sync {
    /// The function's answer, or why it could not give one (not found, crashed, timed out…).
    async fn invoke(&self, function: &str, event: &Value) -> Result<Value, String>;
}

/// Invocation attempts before a batch's records are failed (Firehose retries a failed Lambda
/// invocation 3 times by default).
pub const ATTEMPTS: usize = 4;

/// What the transform made of one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok {
        data: Bytes,
        /// `metadata.partitionKeys`: the `partitionKeyFromLambda` values.
        keys: BTreeMap<String, String>,
    },
    Dropped,
    Failed {
        code: &'static str,
        message: String,
    },
}

/// Where the invoked records come from, for the event.
pub struct Invocation<'a> {
    pub function: &'a str,
    pub delivery_arn: &'a str,
    pub region: &'a str,
    pub source_stream_arn: Option<&'a str>,
    pub shard: ShardId,
    pub records: &'a [Record],
}

/// The record id the function sees: the record's sequence number, so that a retried batch
/// gives the function the same ids.
pub fn record_id(record: &Record) -> String {
    record.sequence.to_string()
}

/// The event Firehose sends.
pub fn event(invocation: &Invocation<'_>) -> Value {
    let first = invocation
        .records
        .first()
        .map(|r| r.sequence.to_string())
        .unwrap_or_default();
    let records: Vec<Value> = invocation
        .records
        .iter()
        .map(|record| {
            let mut item = json!({
                "recordId": record_id(record),
                "approximateArrivalTimestamp": record.arrival_ms,
                "data": STANDARD.encode(&record.data),
            });
            if invocation.source_stream_arn.is_some() {
                item["kinesisRecordMetadata"] = json!({
                    "sequenceNumber": record.sequence.to_string(),
                    "subsequenceNumber": 0,
                    "partitionKey": record.partition_key,
                    "shardId": invocation.shard.to_string(),
                    "approximateArrivalTimestamp": record.arrival_ms,
                });
            }
            item
        })
        .collect();
    let mut event = json!({
        "invocationId": format!("{}-{}", invocation.shard.0, first),
        "deliveryStreamArn": invocation.delivery_arn,
        "region": invocation.region,
        "records": records,
    });
    if let Some(arn) = invocation.source_stream_arn {
        event["sourceKinesisStreamArn"] = json!(arn);
    }
    event
}

/// Reads the function's answer: one outcome per record, in the records' order.
pub fn outcomes(records: &[Record], answer: &Value) -> Vec<Outcome> {
    let failed = |code, message: String| Outcome::Failed { code, message };
    let Some(items) = answer.get("records").and_then(Value::as_array) else {
        let message = "the function's answer has no `records` list".to_string();
        return records
            .iter()
            .map(|_| failed("Lambda.FunctionError", message.clone()))
            .collect();
    };
    let mut by_id: HashMap<&str, Vec<&Value>> = HashMap::new();
    for item in items {
        if let Some(id) = item.get("recordId").and_then(Value::as_str) {
            by_id.entry(id).or_default().push(item);
        }
    }
    records
        .iter()
        .map(|record| {
            let id = record_id(record);
            match by_id.get(id.as_str()).map(Vec::as_slice) {
                None | Some([]) => failed(
                    "Lambda.MissingRecordId",
                    format!("the function's answer has no record with recordId {id}"),
                ),
                Some([item]) => outcome(item),
                Some(_) => failed(
                    "Lambda.DuplicatedRecordId",
                    format!("the function's answer has recordId {id} more than once"),
                ),
            }
        })
        .collect()
}

fn outcome(item: &Value) -> Outcome {
    let failed = |code, message: String| Outcome::Failed { code, message };
    match item.get("result").and_then(Value::as_str) {
        Some("Dropped") => Outcome::Dropped,
        Some("ProcessingFailed") => failed(
            "Lambda.ProcessingFailed",
            "the function answered ProcessingFailed".into(),
        ),
        Some("Ok") => {
            let Some(data) = item.get("data").and_then(Value::as_str) else {
                return failed(
                    "Lambda.MissingData",
                    "a record answered Ok has no `data`".into(),
                );
            };
            let Ok(data) = STANDARD.decode(data) else {
                return failed(
                    "Lambda.InvalidBase64Data",
                    "a record's `data` is not base64".into(),
                );
            };
            let mut keys = BTreeMap::new();
            if let Some(found) = item
                .pointer("/metadata/partitionKeys")
                .and_then(Value::as_object)
            {
                for (key, value) in found {
                    let text = match value {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => {
                            return failed(
                                "Lambda.InvalidPartitionKeys",
                                format!("partition key `{key}` is not a string"),
                            );
                        }
                    };
                    keys.insert(key.clone(), text);
                }
            }
            Outcome::Ok {
                data: Bytes::from(data),
                keys,
            }
        }
        other => failed(
            "Lambda.InvalidResult",
            format!(
                "a record's `result` must be Ok, Dropped or ProcessingFailed, not {}",
                other.map_or("missing".to_string(), |r| format!("`{r}`"))
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_stream::SequenceNumber;

    fn record(offset: u64, data: &'static [u8]) -> Record {
        Record {
            sequence: SequenceNumber::of_record(ShardId(1), offset),
            offset,
            partition_key: "k".into(),
            data: Bytes::from_static(data),
            arrival_ms: 1_000 + offset as i64,
        }
    }

    #[test]
    fn the_event_is_firehose_s() {
        let records = [record(0, b"hello")];
        let event = event(&Invocation {
            function: "f",
            delivery_arn: "arn:aws:firehose:us-east-1:000000000000:deliverystream/d",
            region: "us-east-1",
            source_stream_arn: Some("arn:aws:kinesis:us-east-1:000000000000:stream/s"),
            shard: ShardId(1),
            records: &records,
        });
        assert_eq!(event["records"][0]["data"], "aGVsbG8=");
        assert_eq!(
            event["records"][0]["recordId"],
            records[0].sequence.to_string()
        );
        assert_eq!(
            event["records"][0]["kinesisRecordMetadata"]["shardId"],
            "shardId-000000000001"
        );
        assert_eq!(
            event["sourceKinesisStreamArn"],
            "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        );
    }

    #[test]
    fn answers_map_to_outcomes() {
        let records = [
            record(0, b"a"),
            record(1, b"b"),
            record(2, b"c"),
            record(3, b"d"),
        ];
        let id = |i: usize| records[i].sequence.to_string();
        let answer = json!({"records": [
            {"recordId": id(0), "result": "Ok", "data": "eA==", "metadata": {"partitionKeys": {"tier": "gold", "n": 3}}},
            {"recordId": id(1), "result": "Dropped"},
            {"recordId": id(2), "result": "ProcessingFailed", "data": ""},
        ]});
        let got = outcomes(&records, &answer);
        assert_eq!(
            got[0],
            Outcome::Ok {
                data: Bytes::from_static(b"x"),
                keys: [("n".into(), "3".into()), ("tier".into(), "gold".into())].into()
            }
        );
        assert_eq!(got[1], Outcome::Dropped);
        assert!(matches!(
            got[2],
            Outcome::Failed {
                code: "Lambda.ProcessingFailed",
                ..
            }
        ));
        assert!(matches!(
            got[3],
            Outcome::Failed {
                code: "Lambda.MissingRecordId",
                ..
            }
        ));
        let broken = outcomes(&records[..1], &json!({"nope": 1}));
        assert!(matches!(
            broken[0],
            Outcome::Failed {
                code: "Lambda.FunctionError",
                ..
            }
        ));
    }
}
