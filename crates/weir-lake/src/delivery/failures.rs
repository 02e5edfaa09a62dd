//! Records that failed (transform, conversion, partitioning) go under the error prefix as JSON
//! lines in Firehose's error record shape: `attemptsMade`, `arrivalTimestamp`, `errorCode`,
//! `errorMessage`, `attemptEndingTimestamp`, `rawData` (the record as it arrived, base64), with
//! the record's `sequenceNumber`. One object per evaluated error prefix, named from the batch.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use weir_model::delivery::{Compression, Format, Values};
use weir_stream::Record;

use super::records::BatchId;
use super::{Delivery, DeliveryError};
use crate::lake::ObjectCreated;

/// A record that did not make it into a data object, and why.
pub struct Failure<'r> {
    pub record: &'r Record,
    /// `!{firehose:error-output-type}`: `processing-failed` or `format-conversion-failed`.
    pub output_type: &'static str,
    pub code: &'static str,
    pub message: String,
}

/// Writes the failures; returns the objects written.
pub async fn write(
    delivery: &Delivery,
    id: &BatchId,
    failed: &[Failure<'_>],
) -> Result<Vec<ObjectCreated>, DeliveryError> {
    let mut by_prefix: BTreeMap<String, Vec<&Failure<'_>>> = BTreeMap::new();
    for failure in failed {
        let prefix = delivery
            .spec
            .error_prefix
            .evaluate(&Values {
                at: id.at(),
                error_output_type: Some(failure.output_type),
                random_string: &id.random_string(failure.output_type),
                ..Values::default()
            })
            .map_err(|message| DeliveryError::Destination {
                delivery: delivery.spec.name.clone(),
                message: format!("error prefix: {message}"),
            })?;
        by_prefix.entry(prefix).or_default().push(failure);
    }
    let now = chrono::Utc::now().timestamp_millis();
    let mut objects = Vec::new();
    for (prefix, failures) in by_prefix {
        let lines: Vec<Vec<u8>> = failures
            .iter()
            .map(|f| {
                json!({
                    "attemptsMade": 1,
                    "arrivalTimestamp": f.record.arrival_ms,
                    "errorCode": f.code,
                    "errorMessage": f.message,
                    "attemptEndingTimestamp": now,
                    "rawData": STANDARD.encode(&f.record.data),
                    "sequenceNumber": f.record.sequence.to_string(),
                })
                .to_string()
                .into_bytes()
            })
            .collect();
        let body = super::encode::json_lines(lines.iter().map(Vec::as_slice), Compression::None)
            .map_err(|e| DeliveryError::Encode {
                delivery: delivery.spec.name.clone(),
                message: e.to_string(),
            })?;
        let first = failures.iter().map(|f| f.record.offset).min().unwrap_or(0);
        let last = failures.iter().map(|f| f.record.offset).max().unwrap_or(0);
        let extension = super::encode::extension(Format::JsonLines, Compression::None);
        let key = format!("{prefix}{}", id.file_name(first, last, extension));
        let info = delivery.lake().put_unannounced(&key, body).await?;
        tracing::warn!(
            delivery = %delivery.spec.name,
            key = %key,
            records = failures.len(),
            "records failed and were written under the error prefix"
        );
        objects.push(ObjectCreated {
            key: info.key,
            size: info.size,
            table: None,
            partition: None,
            delivery: Some(delivery.spec.name.clone()),
        });
    }
    Ok(objects)
}
