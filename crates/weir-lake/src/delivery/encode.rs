//! Object bodies: JSON lines (compressed as the delivery says) and Parquet (the delivery's
//! compression as the file's codec), and the Arrow schema records are written with.

use std::io::Write;

use bytes::Bytes;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::json::reader::{ReaderBuilder, infer_json_schema_from_iterator};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression as ParquetCompression, GzipLevel, ZstdLevel};
use serde_json::Value;
use weir_model::delivery::{Compression, Format};

use crate::catalog::Column;

/// The file name's ending for a format and compression.
pub fn extension(format: Format, compression: Compression) -> &'static str {
    match (format, compression) {
        (Format::Parquet, _) => ".parquet",
        (Format::JsonLines, Compression::None) => ".json",
        (Format::JsonLines, Compression::Gzip) => ".json.gz",
        (Format::JsonLines, Compression::Snappy) => ".json.snappy",
        (Format::JsonLines, Compression::Zstd) => ".json.zst",
    }
}

/// Records as lines (a newline added to each that lacks one), compressed.
pub fn json_lines<'a>(
    records: impl Iterator<Item = &'a [u8]>,
    compression: Compression,
) -> std::io::Result<Bytes> {
    let mut plain = Vec::new();
    for data in records {
        plain.extend_from_slice(data);
        if !data.ends_with(b"\n") {
            plain.push(b'\n');
        }
    }
    compress(plain, compression).map(Bytes::from)
}

/// Gzip, framed Snappy (what Firehose's `Snappy` writes) or zstd.
pub fn compress(plain: Vec<u8>, compression: Compression) -> std::io::Result<Vec<u8>> {
    match compression {
        Compression::None => Ok(plain),
        Compression::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(&plain)?;
            encoder.finish()
        }
        Compression::Snappy => {
            let mut encoder = snap::write::FrameEncoder::new(Vec::new());
            encoder.write_all(&plain)?;
            encoder.into_inner().map_err(|e| e.into_error())
        }
        Compression::Zstd => zstd::stream::encode_all(plain.as_slice(), 0),
    }
}

/// The schema of JSON records, every field nullable (a later record may leave any out).
pub fn infer_schema(records: &[&Value]) -> Result<Schema, String> {
    let schema = infer_json_schema_from_iterator(records.iter().map(|v| Ok((*v).clone())))
        .map_err(|e| e.to_string())?;
    Ok(nullable(&schema))
}

fn nullable(schema: &Schema) -> Schema {
    Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    )
}

/// A catalog table's columns (without its partition columns) as an Arrow schema.
pub fn schema_of(columns: &[Column]) -> Schema {
    Schema::new(
        columns
            .iter()
            .map(|c| {
                let data_type = c.data_type.parse::<DataType>().unwrap_or(DataType::Utf8);
                Field::new(&c.name, data_type, true)
            })
            .collect::<Vec<_>>(),
    )
}

/// Decodes records into one batch of `schema`; the error says why when one does not fit. A
/// nested object or list meets a text column as its JSON text (the catalog keeps nested types it
/// cannot name as text, as the crawler does).
pub fn decode(schema: &SchemaRef, records: &[&Value]) -> Result<RecordBatch, String> {
    let mut decoder = ReaderBuilder::new(schema.clone())
        .with_coerce_primitive(true)
        .with_batch_size(records.len().max(1))
        .build_decoder()
        .map_err(|e| e.to_string())?;
    let text_columns: Vec<&str> = schema
        .fields()
        .iter()
        .filter(|f| f.data_type() == &DataType::Utf8)
        .map(|f| f.name().as_str())
        .collect();
    let records: Vec<Value> = records
        .iter()
        .map(|record| nested_as_text(record, &text_columns))
        .collect();
    decoder.serialize(&records).map_err(|e| e.to_string())?;
    match decoder.flush().map_err(|e| e.to_string())? {
        Some(batch) => Ok(batch),
        None => Ok(RecordBatch::new_empty(schema.clone())),
    }
}

fn nested_as_text(record: &Value, text_columns: &[&str]) -> Value {
    let mut record = record.clone();
    if let Value::Object(fields) = &mut record {
        for name in text_columns {
            if let Some(value) = fields.get_mut(*name)
                && (value.is_object() || value.is_array())
            {
                *value = Value::String(value.to_string());
            }
        }
    }
    record
}

/// One Parquet file of `batch`, with the lake's writer settings and the delivery's codec.
pub fn parquet(batch: &RecordBatch, compression: Compression) -> Result<Bytes, String> {
    let codec = match compression {
        Compression::None => ParquetCompression::UNCOMPRESSED,
        Compression::Snappy => ParquetCompression::SNAPPY,
        Compression::Gzip => ParquetCompression::GZIP(GzipLevel::default()),
        Compression::Zstd => ParquetCompression::ZSTD(ZstdLevel::default()),
    };
    let properties = crate::sql::write::writer_properties(&batch.schema())
        .into_builder()
        .set_compression(codec)
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(properties))
        .map_err(|e| e.to_string())?;
    writer.write(batch).map_err(|e| e.to_string())?;
    writer.close().map_err(|e| e.to_string())?;
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Read;
    use std::sync::Arc;

    #[test]
    fn json_lines_are_lines_and_compress_back() {
        let plain = json_lines(
            [&b"{\"a\":1}"[..], &b"{\"a\":2}\n"[..]].into_iter(),
            Compression::None,
        )
        .unwrap();
        assert_eq!(&plain[..], b"{\"a\":1}\n{\"a\":2}\n");
        let gz = json_lines([&b"x"[..]].into_iter(), Compression::Gzip).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "x\n");
        let sn = json_lines([&b"y"[..]].into_iter(), Compression::Snappy).unwrap();
        let mut text = String::new();
        snap::read::FrameDecoder::new(&sn[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "y\n");
        let zs = json_lines([&b"z"[..]].into_iter(), Compression::Zstd).unwrap();
        assert_eq!(zstd::stream::decode_all(&zs[..]).unwrap(), b"z\n");
    }

    #[test]
    fn records_decode_with_an_inferred_schema() {
        let a = json!({"id": 1, "name": "x"});
        let b = json!({"id": 2.5, "extra": true});
        let schema = Arc::new(infer_schema(&[&a, &b]).unwrap());
        let batch = decode(&schema, &[&a, &b]).unwrap();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(
            schema.field_with_name("id").unwrap().data_type(),
            &DataType::Float64
        );
        let bytes = parquet(&batch, Compression::Zstd).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        let narrow = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]));
        assert!(decode(&narrow, &[&json!({"id": "not a number"})]).is_err());
    }
}
