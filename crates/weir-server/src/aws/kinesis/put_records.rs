//! PutRecords: up to 500 records (5 MiB with their partition keys), each placed by its
//! partition key's MD5 (or `ExplicitHashKey`), in order within a shard, durable before this
//! returns. A record that fails (throughput quotas) carries its `ErrorCode` and `ErrorMessage`;
//! the others are appended.

use serde::Serialize;

use super::members::{Member, with_stream};
use super::put_record::{RECORD, new_record};
use super::{Answer, Call, Request, invalid_argument};

/// "up to a limit of 5 MiB for the entire request, including partition keys".
const MAX_REQUEST_DATA: usize = 5 << 20;

const RECORDS: Member = Member::structures("Records", 1, 500, &RECORD).required();

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    failed_record_count: usize,
    records: Vec<Entry>,
    encryption_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&with_stream(&[RECORDS]))?;
    let stream = call.stream()?;
    let entries = call
        .request
        .member("Records")
        .and_then(serde_json::Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let records = entries
        .iter()
        .map(|entry| new_record(&Request(entry)))
        .collect::<Result<Vec<_>, _>>()?;
    let size: usize = records
        .iter()
        .map(|r| r.data.len() + r.partition_key.len())
        .sum();
    if size > MAX_REQUEST_DATA {
        return Err(invalid_argument("Records size exceeds 5 MB limit"));
    }
    let results = call.streams.put(&stream, records).await?;
    let failed_record_count = results.iter().filter(|r| r.is_err()).count();
    let records = results
        .into_iter()
        .map(|result| match result {
            Ok(appended) => Entry {
                sequence_number: Some(appended.sequence.to_string()),
                shard_id: Some(appended.shard.to_string()),
                error_code: None,
                error_message: None,
            },
            Err(failure) => Entry {
                sequence_number: None,
                shard_id: None,
                error_code: Some(failure.error_code),
                error_message: Some(failure.error_message),
            },
        })
        .collect();
    call.ok(&Output {
        failed_record_count,
        records,
        encryption_type: "NONE",
    })
}
