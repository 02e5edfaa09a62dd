//! `/api/v1/streams…`: weir's own API over the streams service, for `weir streams` and the
//! dashboard: create, list, describe and delete streams, put records, and read a shard from a
//! position, waiting for new records when asked (a tail without polling). The Kinesis protocol on
//! `POST /` serves the same streams to AWS clients.
//!
//! Records carry their data as text when it is UTF-8 (`data`) and always as base64
//! (`data_base64`), so a person reads JSON records as they are and a program gets exact bytes.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde_json::{Value, json};
use weir_stream::{
    NewRecord, NewStream, ReadBatch, Record, SequenceNumber, ShardDescription, ShardId,
    StartingPosition, StreamDescription, StreamError, StreamMode, Streams,
};

use super::ApiResult;
use crate::auth::Identity;
use crate::{ApiError, AppState};

type Shared = State<Arc<AppState>>;

/// The most records one read returns, and the longest it waits for the first one.
const MAX_READ_RECORDS: usize = 10_000;
const MAX_READ_BYTES: usize = 10 << 20;
const MAX_WAIT_MS: u64 = 20_000;
/// PutRecords' own quotas hold here too: 500 records a call.
const MAX_PUT_RECORDS: usize = 500;

impl From<StreamError> for ApiError {
    fn from(error: StreamError) -> Self {
        let (status, code) = match &error {
            StreamError::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found"),
            StreamError::InUse { .. } => (StatusCode::CONFLICT, "conflict"),
            StreamError::InvalidArgument(_) | StreamError::Validation(_) => {
                (StatusCode::BAD_REQUEST, "invalid_request")
            }
            StreamError::LimitExceeded(_) => (StatusCode::TOO_MANY_REQUESTS, "limit_exceeded"),
            StreamError::Io(_) | StreamError::Store(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "stream_error")
            }
        };
        ApiError {
            status,
            code,
            message: error.to_string(),
        }
    }
}

fn streams(state: &AppState) -> Result<&Streams, ApiError> {
    state
        .streams
        .as_ref()
        .ok_or_else(|| ApiError::not_found("this server runs without streams"))
}

/// The streams the credential's grants name (all of them for an unnarrowed one).
pub async fn list(State(state): Shared, Extension(identity): Extension<Identity>) -> ApiResult {
    let streams = streams(&state)?;
    let listed: Vec<Value> = streams
        .list()
        .into_iter()
        .filter(|s| identity.may_see_stream(&s.name))
        .map(|s| {
            json!({
                "name": s.name, "arn": s.arn, "status": s.status,
                "mode": s.mode.as_str(), "created_ms": s.created_ms,
            })
        })
        .collect();
    Ok(Json(json!({ "streams": listed })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    #[serde(default)]
    shards: Option<u32>,
    /// `PROVISIONED` (the default when `shards` is given) or `ON_DEMAND`.
    #[serde(default)]
    mode: Option<String>,
}

pub async fn create(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    body: Bytes,
) -> ApiResult {
    let streams = streams(&state)?;
    let body: CreateBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be {{\"name\": \"…\", \"shards\": N}} or {{\"name\": \"…\", \"mode\": \"ON_DEMAND\"}}: {e}"
        ))
    })?;
    // The name is in the body, out of the path's reach: checked here as Kinesis checks it.
    if !identity.may_see_stream(&body.name) {
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: format!(
                "credential `{}` is not granted stream `{}`",
                identity.name().unwrap_or("anonymous"),
                body.name
            ),
        });
    }
    let mode = match body.mode.as_deref() {
        None => StreamMode::Provisioned,
        Some(text) => StreamMode::parse(text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "mode: `{text}` is not a stream mode: PROVISIONED or ON_DEMAND"
            ))
        })?,
    };
    let shard_count = match (mode, body.shards) {
        (StreamMode::Provisioned, None) => Some(1),
        (_, shards) => shards,
    };
    let created = streams
        .create_stream(NewStream {
            name: body.name,
            mode,
            shard_count,
            tags: Vec::new(),
        })
        .await?;
    Ok(Json(description_json(&created)))
}

pub async fn show(State(state): Shared, Path(name): Path<String>) -> ApiResult {
    let streams = streams(&state)?;
    Ok(Json(description_json(&streams.describe(&name)?)))
}

/// The consumer groups reading a stream on this server (event source mappings, deliveries),
/// with each shard's checkpoint and how far behind it is.
pub async fn consumers(State(state): Shared, Path(name): Path<String>) -> ApiResult {
    let streams = streams(&state)?;
    // A stream that does not exist is a 404, not an empty list.
    streams.describe(&name)?;
    let groups: Vec<Value> = streams
        .consumer_groups(&name)
        .into_iter()
        .map(|group| {
            let shards: Vec<Value> = group
                .shards
                .iter()
                .map(|lag| {
                    json!({
                        "shard_id": lag.shard.to_string(),
                        "checkpoint": lag.checkpoint,
                        "records_behind": lag.records_behind,
                        "millis_behind": lag.millis_behind,
                        "finished": lag.finished,
                    })
                })
                .collect();
            json!({ "group": group.group, "description": group.description, "shards": shards })
        })
        .collect();
    Ok(Json(json!({ "stream": name, "consumers": groups })))
}

pub async fn delete(State(state): Shared, Path(name): Path<String>) -> ApiResult {
    let streams = streams(&state)?;
    streams.delete_stream(&name, true).await?;
    Ok(Json(json!({ "name": name, "deleted": true })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutBody {
    records: Vec<PutRecordBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutRecordBody {
    partition_key: String,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    data_base64: Option<String>,
    #[serde(default)]
    explicit_hash_key: Option<String>,
}

pub async fn put(State(state): Shared, Path(name): Path<String>, body: Bytes) -> ApiResult {
    let streams = streams(&state)?;
    let body: PutBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be {{\"records\": [{{\"partition_key\": \"…\", \"data\": \"…\"}}, …]}}: {e}"
        ))
    })?;
    if body.records.is_empty() || body.records.len() > MAX_PUT_RECORDS {
        return Err(ApiError::bad_request(format!(
            "records: give 1 to {MAX_PUT_RECORDS} records (got {})",
            body.records.len()
        )));
    }
    let mut records = Vec::with_capacity(body.records.len());
    for (i, record) in body.records.into_iter().enumerate() {
        let data = match (record.data, record.data_base64) {
            (Some(text), None) => Bytes::from(text),
            (None, Some(encoded)) => {
                Bytes::from(BASE64.decode(encoded.as_bytes()).map_err(|e| {
                    ApiError::bad_request(format!("records[{i}].data_base64: not base64: {e}"))
                })?)
            }
            _ => {
                return Err(ApiError::bad_request(format!(
                    "records[{i}]: give exactly one of data (text) and data_base64"
                )));
            }
        };
        let explicit_hash_key = match record.explicit_hash_key {
            None => None,
            Some(text) => Some(text.parse::<u128>().map_err(|_| {
                ApiError::bad_request(format!(
                    "records[{i}].explicit_hash_key: `{text}` is not a number from 0 to 2^128-1"
                ))
            })?),
        };
        records.push(NewRecord {
            partition_key: record.partition_key,
            explicit_hash_key,
            data,
        });
    }
    let results = streams.put(&name, records).await?;
    let failed = results.iter().filter(|r| r.is_err()).count();
    let results: Vec<Value> = results
        .into_iter()
        .map(|result| match result {
            Ok(appended) => json!({
                "shard_id": appended.shard.to_string(),
                "sequence_number": appended.sequence.to_string(),
            }),
            Err(failure) => json!({
                "error_code": failure.error_code,
                "error_message": failure.error_message,
            }),
        })
        .collect();
    Ok(Json(json!({ "records": results, "failed": failed })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadQuery {
    /// `trim_horizon` (default), `latest`, `at:SEQUENCE`, `after:SEQUENCE`, `at_timestamp:MS`,
    /// or `offset:N` (the `next_offset` of a previous read).
    from: Option<String>,
    limit: Option<usize>,
    /// Milliseconds to wait for a first record when there is none yet (at most 20,000).
    wait_ms: Option<u64>,
}

pub async fn read(
    State(state): Shared,
    Path((name, shard)): Path<(String, String)>,
    query: Result<Query<ReadQuery>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query?;
    let streams = streams(&state)?;
    let shard: ShardId = shard.parse().map_err(|()| {
        ApiError::bad_request(format!(
            "shard: `{shard}` is not a shard id (shardId-000000000000, or its number)"
        ))
    })?;
    let from = query.from.as_deref().unwrap_or("trim_horizon");
    let offset = match from.strip_prefix("offset:") {
        Some(offset) => offset.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("from: `{from}`: offset:N takes a whole number"))
        })?,
        None => streams.start_offset(&name, shard, starting_position(from)?)?,
    };
    let limit = query.limit.unwrap_or(1000).clamp(1, MAX_READ_RECORDS);
    let wait = Duration::from_millis(query.wait_ms.unwrap_or(0).min(MAX_WAIT_MS));
    let batch = read_waiting(streams, &name, shard, offset, limit, wait).await?;
    Ok(Json(batch_json(&batch)))
}

/// Reads from `offset`; with nothing there yet and a wait, waits on the shard's watch (woken by
/// the next append) up to `wait`, then reads again.
pub(crate) async fn read_waiting(
    streams: &Streams,
    name: &str,
    shard: ShardId,
    offset: u64,
    limit: usize,
    wait: Duration,
) -> Result<ReadBatch, StreamError> {
    let mut watch = streams.watch(name, shard)?;
    let batch = streams.read(name, shard, offset, limit, MAX_READ_BYTES)?;
    if !batch.records.is_empty() || batch.at_shard_end || wait.is_zero() {
        return Ok(batch);
    }
    let deadline = tokio::time::Instant::now() + wait;
    while *watch.borrow_and_update() <= offset {
        match tokio::time::timeout_at(deadline, watch.changed()).await {
            Ok(Ok(())) => {}
            // Timed out, or the shard's log went away (the stream was deleted): read what is.
            Ok(Err(_)) | Err(_) => break,
        }
    }
    streams.read(name, shard, offset, limit, MAX_READ_BYTES)
}

fn starting_position(from: &str) -> Result<StartingPosition, ApiError> {
    let sequence = |text: &str| {
        text.parse::<SequenceNumber>().map_err(|()| {
            ApiError::bad_request(format!(
                "from: `{text}` is not a sequence number this server gave"
            ))
        })
    };
    Ok(match from.split_once(':') {
        None if from.eq_ignore_ascii_case("trim_horizon") => StartingPosition::TrimHorizon,
        None if from.eq_ignore_ascii_case("latest") => StartingPosition::Latest,
        Some(("at", seq)) => StartingPosition::AtSequence(sequence(seq)?),
        Some(("after", seq)) => StartingPosition::AfterSequence(sequence(seq)?),
        Some(("at_timestamp", ms)) => {
            StartingPosition::AtTimestamp(ms.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "from: `{from}`: at_timestamp:MS takes milliseconds since the epoch"
                ))
            })?)
        }
        _ => {
            return Err(ApiError::bad_request(format!(
                "from: `{from}` is not a position: trim_horizon, latest, at:SEQUENCE, after:SEQUENCE, at_timestamp:MS or offset:N"
            )));
        }
    })
}

fn shard_json(shard: &ShardDescription) -> Value {
    json!({
        "shard_id": shard.id.to_string(),
        "parent_shard_id": shard.parent.map(|s| s.to_string()),
        "adjacent_parent_shard_id": shard.adjacent_parent.map(|s| s.to_string()),
        "hash_key_range": {
            "starting": shard.hash_start.to_string(),
            "ending": shard.hash_end.to_string(),
        },
        "starting_sequence_number": shard.starting_sequence.to_string(),
        "ending_sequence_number": shard.ending_sequence.map(|s| s.to_string()),
        "open": shard.is_open(),
    })
}

fn description_json(stream: &StreamDescription) -> Value {
    json!({
        "name": stream.name,
        "arn": stream.arn,
        "status": stream.status,
        "mode": stream.mode.as_str(),
        "retention_hours": stream.retention_hours,
        "created_ms": stream.created_ms,
        "open_shard_count": stream.open_shard_count,
        "consumer_count": stream.consumer_count,
        "shards": stream.shards.iter().map(shard_json).collect::<Vec<_>>(),
        "tags": stream.tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
    })
}

fn record_json(record: &Record) -> Value {
    let mut json = json!({
        "sequence_number": record.sequence.to_string(),
        "partition_key": record.partition_key,
        "arrival_ms": record.arrival_ms,
        "data_base64": BASE64.encode(&record.data),
    });
    if let Ok(text) = std::str::from_utf8(&record.data) {
        json["data"] = json!(text);
    }
    json
}

fn batch_json(batch: &ReadBatch) -> Value {
    json!({
        "records": batch.records.iter().map(record_json).collect::<Vec<_>>(),
        "next_offset": batch.next_offset,
        "millis_behind_latest": batch.millis_behind_latest,
        "at_shard_end": batch.at_shard_end,
        "child_shards": batch.child_shards.iter().map(shard_json).collect::<Vec<_>>(),
    })
}

/// This subsystem's routes.
pub fn routes() -> crate::Routes {
    use crate::auth::{ADMIN, OPERATOR, VIEWER};
    use crate::openapi;
    crate::Routes::default()
        .get(openapi::STREAMS, VIEWER, list)
        .post(openapi::STREAMS, ADMIN, create)
        .get(openapi::STREAM, VIEWER, show)
        .get(openapi::STREAM_CONSUMERS, VIEWER, consumers)
        .delete(openapi::STREAM, ADMIN, delete)
        .post(openapi::STREAM_RECORDS, OPERATOR, put)
        .get(openapi::SHARD_RECORDS, VIEWER, read)
}
