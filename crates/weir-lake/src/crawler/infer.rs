//! What the crawler learns from one file, reading as little as it can: the footer of a Parquet
//! file (a ranged read; the row count is in it), the first rows of a CSV or JSON lines file (the
//! whole file, and so its row count, when it is small).

use std::io::{BufReader, Cursor};

use bytes::Bytes;
use datafusion::arrow::csv::reader::Format as CsvFormat;
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::json::reader::infer_json_schema;
use datafusion::parquet::arrow::parquet_to_arrow_schema;

use crate::catalog::Format;
use crate::lake::{Lake, ObjectInfo};

/// Text files up to this size are read whole: schema from every row, exact row count.
const WHOLE_TEXT: u64 = 4 * 1024 * 1024;
/// Larger text files: the schema comes from this much of their beginning.
const TEXT_SAMPLE: u64 = 1024 * 1024;

/// A file's schema and, when cheap to know, its row count.
pub(crate) struct Facts {
    pub schema: Schema,
    pub row_count: Option<i64>,
}

/// The format a file's name says it has; None for files the crawler does not read.
pub(crate) fn format_of(key: &str) -> Option<Format> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let (_, extension) = name.rsplit_once('.')?;
    match extension.to_ascii_lowercase().as_str() {
        "parquet" | "parq" => Some(Format::Parquet),
        "csv" => Some(Format::Csv),
        "json" | "jsonl" | "ndjson" => Some(Format::Json),
        _ => None,
    }
}

/// Reads what the crawler needs from `object`. Errors are messages naming the file.
pub(crate) async fn inspect(
    lake: &Lake,
    object: &ObjectInfo,
    format: Format,
) -> Result<Facts, String> {
    let key = object.key.as_str();
    let facts = match format {
        Format::Parquet => parquet(lake, object).await,
        Format::Csv | Format::Json => {
            let whole = object.size <= WHOLE_TEXT;
            let bytes = if whole {
                lake.get(key).await
            } else {
                lake.get_range(key, 0..TEXT_SAMPLE).await
            }
            .map_err(|e| e.to_string())?;
            let text = if whole { bytes } else { complete_lines(bytes) };
            let (schema, rows) = if format == Format::Csv {
                csv(text)
            } else {
                json(text)
            }
            .map_err(|e| format!("{key}: {e}"))?;
            Ok(Facts {
                schema,
                row_count: whole.then_some(rows as i64),
            })
        }
    };
    facts.map_err(|e| {
        if e.contains(key) {
            e
        } else {
            format!("{key}: {e}")
        }
    })
}

/// CSV with a header row, comma-separated: the format weir writes and DataFusion reads.
fn csv(bytes: Bytes) -> Result<(Schema, usize), String> {
    if bytes.is_empty() {
        return Ok((Schema::empty(), 0));
    }
    CsvFormat::default()
        .with_header(true)
        .infer_schema(Cursor::new(bytes), None)
        .map_err(|e| e.to_string())
}

fn json(bytes: Bytes) -> Result<(Schema, usize), String> {
    infer_json_schema(BufReader::new(Cursor::new(bytes)), None).map_err(|e| e.to_string())
}

/// A sample of a text file, cut after its last complete line.
fn complete_lines(bytes: Bytes) -> Bytes {
    match bytes.iter().rposition(|&b| b == b'\n') {
        Some(end) => bytes.slice(..=end),
        None => bytes,
    }
}

async fn parquet(lake: &Lake, object: &ObjectInfo) -> Result<Facts, String> {
    let key = object.key.as_str();
    let metadata = crate::parquet_footer::parquet_metadata(key, object.size, |range| async move {
        lake.get_range(key, range).await.map_err(|e| e.to_string())
    })
    .await?;
    let file = metadata.file_metadata();
    let schema = parquet_to_arrow_schema(file.schema_descr(), file.key_value_metadata())
        .map_err(|e| format!("{key}: Parquet schema: {e}"))?;
    Ok(Facts {
        // Field metadata (Parquet field ids, …) is not part of the catalog's schema.
        schema: Schema::new(
            schema
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_metadata(Default::default()))
                .collect::<Vec<_>>(),
        ),
        row_count: Some(file.num_rows()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_extensions() {
        assert_eq!(format_of("a/b.parquet"), Some(Format::Parquet));
        assert_eq!(format_of("a/b.CSV"), Some(Format::Csv));
        assert_eq!(format_of("b.jsonl"), Some(Format::Json));
        assert_eq!(format_of("b.ndjson"), Some(Format::Json));
        assert_eq!(format_of("b.json"), Some(Format::Json));
        assert_eq!(format_of("b.csv.gz"), None);
        assert_eq!(format_of("a.d/README"), None);
    }

    #[test]
    fn text_inference_counts_rows_of_whole_files() {
        let (schema, rows) = csv(Bytes::from_static(b"id,name,score\n1,a,1.5\n2,b,\n")).unwrap();
        assert_eq!(rows, 2);
        assert_eq!(schema.fields().len(), 3);
        assert_eq!(schema.field(0).data_type().to_string(), "Int64");
        let (schema, rows) =
            json(Bytes::from_static(b"{\"a\":1}\n\n{\"a\":2,\"b\":\"x\"}\n")).unwrap();
        assert_eq!(rows, 2);
        assert_eq!(schema.fields().len(), 2);
        assert_eq!(
            complete_lines(Bytes::from_static(b"a\nb\nc")),
            Bytes::from_static(b"a\nb\n")
        );
    }
}
