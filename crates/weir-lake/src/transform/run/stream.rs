//! A stream as a source (its records' data, JSON objects, from each shard's bookmarked position
//! to the shard's durable end when the run starts; at most [`MAX_SOURCE_BYTES`] a run, the
//! bookmark saying where it stopped) and as a sink (each row a JSON object record; at least
//! once: a run killed after its records were appended but before its commit appends them again).

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::{Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::json::reader::{ReaderBuilder, infer_json_schema_from_iterator};
use datafusion::arrow::json::writer::LineDelimitedWriter;
use datafusion::prelude::{DataFrame, SessionContext};
use serde_json::{Value, json};
use weir_stream::{NewRecord, StartingPosition, Streams};

use super::RunError;

/// Most record bytes one run reads from a stream; the rest waits for the next run.
pub const MAX_SOURCE_BYTES: usize = 256 << 20;
/// Records per read of a shard.
const READ_RECORDS: usize = 10_000;
/// Records per append to a sink stream.
const PUT_RECORDS: usize = 500;

/// Each shard's next offset to read (`{"shards": {"0": 12, …}}`).
pub type Positions = BTreeMap<u32, u64>;

pub fn positions_from(state: &Value) -> Positions {
    state["shards"]
        .as_object()
        .map(|shards| {
            shards
                .iter()
                .filter_map(|(k, v)| Some((k.parse().ok()?, v.as_u64()?)))
                .collect()
        })
        .unwrap_or_default()
}

pub fn positions_json(positions: &Positions) -> Value {
    let shards: serde_json::Map<String, Value> = positions
        .iter()
        .map(|(shard, offset)| (shard.to_string(), json!(offset)))
        .collect();
    json!({ "shards": shards })
}

/// The records since `from`, as a DataFrame (None when there are none), and the positions after.
pub async fn read(
    ctx: &SessionContext,
    streams: &Streams,
    stream: &str,
    from: &Positions,
) -> Result<(Option<DataFrame>, Positions), RunError> {
    let error = |e: weir_stream::StreamError| RunError::new(format!("stream {stream}: {e}"));
    let description = streams.describe(stream).map_err(error)?;
    let mut positions = from.clone();
    let mut lines: Vec<Bytes> = Vec::new();
    let mut bytes = 0usize;
    'shards: for shard in &description.shards {
        let id = shard.id;
        let first = streams
            .start_offset(stream, id, StartingPosition::TrimHorizon)
            .map_err(error)?;
        let end = *streams.watch(stream, id).map_err(error)?.borrow();
        // Records past retention are gone: start at the oldest kept one.
        let mut offset = from.get(&id.0).copied().unwrap_or(first).max(first);
        while offset < end {
            let batch = streams
                .read(stream, id, offset, READ_RECORDS, 8 << 20)
                .map_err(error)?;
            if batch.records.is_empty() {
                break;
            }
            for record in batch.records {
                if record.offset >= end {
                    break;
                }
                bytes += record.data.len();
                offset = record.offset + 1;
                lines.push(record.data);
                if bytes >= MAX_SOURCE_BYTES {
                    positions.insert(id.0, offset);
                    break 'shards;
                }
            }
            offset = offset.max(batch.next_offset.min(end));
        }
        positions.insert(id.0, offset);
    }
    if lines.is_empty() {
        return Ok((None, positions));
    }
    let mut values = Vec::with_capacity(lines.len());
    for line in &lines {
        let value: Value = serde_json::from_slice(line).map_err(|e| {
            RunError::new(format!(
                "stream {stream}: a record's data is not a JSON object ({e}): {}",
                String::from_utf8_lossy(&line[..line.len().min(200)])
            ))
        })?;
        if !value.is_object() {
            return Err(RunError::new(format!(
                "stream {stream}: a record's data is not a JSON object: {value}"
            )));
        }
        values.push(value);
    }
    let arrow =
        |e: datafusion::arrow::error::ArrowError| RunError::new(format!("stream {stream}: {e}"));
    let schema =
        Arc::new(infer_json_schema_from_iterator(values.iter().map(Ok::<_, _>)).map_err(arrow)?);
    let mut decoder = ReaderBuilder::new(schema.clone())
        .build_decoder()
        .map_err(arrow)?;
    let mut batches = Vec::new();
    for chunk in values.chunks(8192) {
        decoder.serialize(chunk).map_err(arrow)?;
        if let Some(batch) = decoder.flush().map_err(arrow)? {
            batches.push(batch);
        }
    }
    let frame = ctx
        .read_batches(batches)
        .map_err(|e| RunError::new(format!("stream {stream}: {}", e.find_root())))?;
    Ok((Some(frame), positions))
}

/// Appends every row of `frame` to `stream` as a JSON object record. Returns the rows appended.
pub async fn write(
    streams: &Streams,
    frame: DataFrame,
    stream: &str,
    partition_key: Option<&str>,
) -> Result<u64, RunError> {
    let batches = frame
        .collect()
        .await
        .map_err(|e| RunError::new(format!("writing to stream {stream}: {}", e.find_root())))?;
    let mut rows = 0u64;
    for batch in batches {
        let records = records_of(&batch, partition_key, stream)?;
        for chunk in records.chunks(PUT_RECORDS) {
            let results = streams
                .put(stream, chunk.to_vec())
                .await
                .map_err(|e| RunError::new(format!("stream {stream}: {e}")))?;
            if let Some(Err(failure)) = results.iter().find(|r| r.is_err()) {
                return Err(RunError::new(format!(
                    "stream {stream} refused a record: {failure:?}"
                )));
            }
            rows += chunk.len() as u64;
        }
    }
    Ok(rows)
}

fn records_of(
    batch: &RecordBatch,
    partition_key: Option<&str>,
    stream: &str,
) -> Result<Vec<NewRecord>, RunError> {
    let arrow =
        |e: datafusion::arrow::error::ArrowError| RunError::new(format!("stream {stream}: {e}"));
    let mut writer = LineDelimitedWriter::new(Cursor::new(Vec::new()));
    writer.write(batch).map_err(arrow)?;
    writer.finish().map_err(arrow)?;
    let text = writer.into_inner().into_inner();
    let keys: Option<StringArray> = match partition_key {
        Some(column) => {
            let index = batch.schema().index_of(column).map_err(|_| {
                RunError::new(format!(
                    "partition_key `{column}` is not a column of the output"
                ))
            })?;
            let keys = cast(batch.column(index), &DataType::Utf8).map_err(arrow)?;
            keys.as_any().downcast_ref::<StringArray>().cloned()
        }
        None => None,
    };
    let mut records = Vec::with_capacity(batch.num_rows());
    for (row, line) in text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let partition_key = match &keys {
            Some(keys) if !keys.is_null(row) && !keys.value(row).is_empty() => {
                keys.value(row).to_string()
            }
            // No key column (or a null key): a hash of the row spreads rows over the shards.
            _ => format!("{:016x}", fnv1a(line)),
        };
        records.push(NewRecord {
            partition_key,
            explicit_hash_key: None,
            data: Bytes::copy_from_slice(line),
        });
    }
    Ok(records)
}

/// FNV-1a: a stable hash of a row's JSON, for partition keys.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
