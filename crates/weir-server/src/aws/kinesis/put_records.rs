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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};
    use weir_stream::{NewStream, StreamMode, Streams, StreamsConfig};

    use super::*;
    use crate::aws::kinesis::Wire;

    /// A stream of one shard on real files and SQLite, with AWS's per-shard write quotas on.
    async fn streams_with_quotas(dir: &std::path::Path) -> Streams {
        let store = weir_store::open(&format!("sqlite://{}/weir.db", dir.display()))
            .await
            .expect("store");
        let committer = weir_store::Committer::start(Arc::clone(&store));
        let mut config = StreamsConfig::new(dir.join("streams"), "us-east-1", "000000000000");
        config.throughput_quotas = true;
        let streams = Streams::open(config, store, committer).await.expect("open");
        streams
            .create_stream(NewStream {
                name: "q".into(),
                mode: StreamMode::Provisioned,
                shard_count: Some(1),
                tags: Vec::new(),
            })
            .await
            .expect("create");
        streams
    }

    async fn put(streams: &Streams, operation: &str, body: Value) -> (u16, Value) {
        let granted = |_: &str| true;
        let call = Call {
            streams,
            request: Request(&body),
            wire: Wire::Json,
            granted: &granted,
        };
        let answer = match operation {
            "PutRecords" => handle(&call).await,
            _ => crate::aws::kinesis::put_record::handle(&call).await,
        };
        match answer {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .expect("body");
                (status, serde_json::from_slice(&body).expect("JSON"))
            }
            Err(error) => (400, json!({"__type": error.code, "message": error.message})),
        }
    }

    /// Over the shard's 1 MiB a second, the records past the quota fail one by one with AWS's
    /// code and words, and the others are appended. (One PutRecords is one moment: 500 records of
    /// 4 KiB, 2 MiB in all, cannot all fit whatever second it falls in.)
    #[tokio::test]
    async fn records_over_a_shards_quota_fail_each_with_its_error_and_the_rest_land() {
        let dir = tempfile::tempdir().expect("dir");
        let streams = streams_with_quotas(dir.path()).await;
        let four_kib = "A".repeat(4096 / 3 * 4 + 4);
        let records: Vec<Value> = (0..500)
            .map(|i| json!({"PartitionKey": format!("k{i}"), "Data": four_kib}))
            .collect();
        let (status, answer) = put(
            &streams,
            "PutRecords",
            json!({"StreamName": "q", "Records": records}),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        let entries = answer["Records"].as_array().expect("records");
        assert_eq!(entries.len(), 500);
        let failed: Vec<&Value> = entries
            .iter()
            .filter(|e| e.get("ErrorCode").is_some())
            .collect();
        let count = answer["FailedRecordCount"].as_u64().expect("a count") as usize;
        assert_eq!(failed.len(), count);
        assert!(count > 0 && count < 500, "{count} failed");
        for failure in failed {
            assert_eq!(
                failure["ErrorCode"],
                "ProvisionedThroughputExceededException"
            );
            assert_eq!(
                failure["ErrorMessage"],
                "Rate exceeded for shard shardId-000000000000 in stream q under account 000000000000."
            );
            assert!(failure.get("SequenceNumber").is_none() && failure.get("ShardId").is_none());
        }
        // PutRecord has one record to fail: the call is refused. Two of three records of 600 KiB
        // put within a moment fall in one second, where they cannot both fit.
        let big = "A".repeat(600 * 1024 / 3 * 4);
        let mut refused = 0;
        for _ in 0..3 {
            let (status, answer) = put(
                &streams,
                "PutRecord",
                json!({"StreamName": "q", "PartitionKey": "k", "Data": big}),
            )
            .await;
            match status {
                200 => {}
                _ => {
                    assert_eq!(
                        answer["__type"], "ProvisionedThroughputExceededException",
                        "{answer}"
                    );
                    refused += 1;
                }
            }
        }
        assert!(refused > 0);
    }
}
