//! PutRecord: one record, placed by its partition key's MD5 (or `ExplicitHashKey`), durable
//! before this returns.

use serde::Serialize;
use weir_stream::NewRecord;

use super::members::{Member, hash_key, sequence_number, with_stream};
use super::{Answer, AwsError, Call, invalid_argument};

/// A record's largest data: 1 MiB, the default maximum record size of AWS's streams, refused in
/// the words AWS used for it before larger records could be configured.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// A `PutRecordsRequestEntry`'s (and PutRecord's) record members.
pub const RECORD: [Member; 3] = [
    Member::blob("Data", MAX_RECORD_BYTES).required(),
    Member::text("PartitionKey", 1, 256).required(),
    hash_key("ExplicitHashKey"),
];

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    shard_id: String,
    sequence_number: String,
    encryption_type: &'static str,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    let mut members = with_stream(&RECORD);
    members.push(sequence_number("SequenceNumberForOrdering"));
    call.request.validate_typed(&members)?;
    let stream = call.stream()?;
    let record = new_record(&call.request)?;
    let mut appended = call.streams.put(&stream, vec![record]).await?;
    match appended.pop() {
        Some(Ok(appended)) => call.ok(&Output {
            shard_id: appended.shard.to_string(),
            sequence_number: appended.sequence.to_string(),
            encryption_type: "NONE",
        }),
        Some(Err(failure)) => Err(AwsError {
            code: code_of(&failure.error_code),
            message: failure.error_message,
        }),
        None => Err(AwsError {
            code: "InternalFailure",
            message: "the record was neither appended nor refused".into(),
        }),
    }
}

/// A record of a request whose members were checked.
pub fn new_record(record: &super::Request<'_>) -> Result<NewRecord, AwsError> {
    let explicit_hash_key = match record.optional("ExplicitHashKey")? {
        Some(text) => Some(text.parse::<u128>().map_err(|_| {
            invalid_argument(format!(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {text}"
            ))
        })?),
        None => None,
    };
    Ok(NewRecord {
        partition_key: record.required("PartitionKey")?.to_string(),
        explicit_hash_key,
        data: record.blob("Data")?.unwrap_or_default().into(),
    })
}

/// The exception a per-record failure is when PutRecord has only one record to fail.
fn code_of(error_code: &str) -> &'static str {
    match error_code {
        "ProvisionedThroughputExceededException" => "ProvisionedThroughputExceededException",
        _ => "InternalFailure",
    }
}
