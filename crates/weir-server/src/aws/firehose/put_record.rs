//! PutRecord: one record into a direct-put delivery, acknowledged once it is durable in the
//! delivery's backing stream.

use serde_json::{Value, json};

use super::fields::data;
use super::{Answer, AwsError, DeliveryService, name_of};

pub async fn handle(deliveries: &dyn DeliveryService, body: &Value) -> Answer {
    let mut record = None;
    let mut serialization = None;
    let name = name_of(body, |v| match body.get("Record") {
        Some(r) if !r.is_null() => match data(r, "record.data", v) {
            Ok(bytes) => record = Some(bytes),
            Err(e) => serialization = Some(e),
        },
        _ => v.text(None, "record", 0, 0, true, None),
    })?;
    if let Some(error) = serialization {
        return Err(error);
    }
    let record = record.unwrap_or_default();
    let mut outcomes = deliveries.put(&name, vec![record]).await?;
    match outcomes.pop() {
        Some(Ok(id)) => Ok(json!({"RecordId": id, "Encrypted": false})),
        // A record the log could not take: Firehose's answer to a put it cannot take now.
        Some(Err((_, message))) => Err(AwsError {
            code: "ServiceUnavailableException",
            message,
        }),
        None => Err(AwsError {
            code: "ServiceUnavailableException",
            message: "the record was not appended".into(),
        }),
    }
}
