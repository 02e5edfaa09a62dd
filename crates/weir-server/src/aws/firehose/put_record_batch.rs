//! PutRecordBatch: up to 500 records and 4 MiB into a direct-put delivery, each acknowledged or
//! refused on its own (`FailedPutCount`, and `ErrorCode`/`ErrorMessage` per record), once the
//! appended ones are durable.

use bytes::Bytes;
use serde_json::{Value, json};

use super::fields::data;
use super::{Answer, AwsError, DeliveryService, invalid_argument, name_of};

/// Most records in one batch.
pub const MAX_RECORDS: usize = 500;
/// Most bytes of data in one batch.
pub const MAX_BATCH_BYTES: usize = 4 << 20;

pub async fn handle(deliveries: &dyn DeliveryService, body: &Value) -> Answer {
    let mut records: Vec<Bytes> = Vec::new();
    let mut serialization: Option<AwsError> = None;
    let name = name_of(body, |v| {
        v.list(body.get("Records"), "records", 1, MAX_RECORDS, true);
        let items = body.get("Records").and_then(Value::as_array);
        for (i, record) in items.into_iter().flatten().enumerate() {
            match data(record, &format!("records.{}.member.data", i + 1), v) {
                Ok(bytes) => records.push(bytes),
                Err(e) => {
                    serialization.get_or_insert(e);
                }
            }
        }
    })?;
    if let Some(error) = serialization {
        return Err(error);
    }
    let total: usize = records.iter().map(Bytes::len).sum();
    if total > MAX_BATCH_BYTES {
        return Err(invalid_argument(format!(
            "The records in a PutRecordBatch request add up to {total} bytes, more than the limit of {MAX_BATCH_BYTES} bytes (4 MiB)."
        )));
    }
    let outcomes = deliveries.put(&name, records).await?;
    let failed = outcomes.iter().filter(|o| o.is_err()).count();
    let responses: Vec<Value> = outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Ok(id) => json!({"RecordId": id}),
            Err((code, message)) => json!({"ErrorCode": code, "ErrorMessage": message}),
        })
        .collect();
    Ok(json!({
        "FailedPutCount": failed,
        "Encrypted": false,
        "RequestResponses": responses,
    }))
}
