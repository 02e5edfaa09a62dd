//! CreateDeliveryStream: a delivery from direct puts or a weir stream (`KinesisStreamAsSource`)
//! into the lake, described as Firehose's extended S3 destination: `Prefix` and
//! `ErrorOutputPrefix` in the lake, `BufferingHints`, `CompressionFormat`, a catalog table named
//! by `DataFormatConversionConfiguration.SchemaConfiguration` (Parquet when the conversion is
//! enabled, JSON lines otherwise), `ProcessingConfiguration` with a `Lambda` processor (a weir
//! function) and `MetadataExtraction` (dynamic partitioning's query). The bucket is the lake.

use std::time::Duration;

use serde_json::{Value, json};
use weir_model::delivery::query::parse_query;
use weir_model::delivery::{Buffering, Compression, Draft, Format, Source, Start, Transform};
use weir_model::sql_tables::TableName;

use super::fields::{Violations, tag_pairs};
use super::{Answer, AwsError, DeliveryService, invalid_argument, name_of};

/// Destinations weir cannot deliver to: its destination is the lake.
const OTHER_DESTINATIONS: &[&str] = &[
    "RedshiftDestinationConfiguration",
    "ElasticsearchDestinationConfiguration",
    "AmazonopensearchserviceDestinationConfiguration",
    "SplunkDestinationConfiguration",
    "HttpEndpointDestinationConfiguration",
    "AmazonOpenSearchServerlessDestinationConfiguration",
    "SnowflakeDestinationConfiguration",
    "IcebergDestinationConfiguration",
];

pub async fn handle(deliveries: &dyn DeliveryService, body: &Value) -> Answer {
    let name = name_of(body, |v| check(v, body))?;
    let draft = draft(name, body)?;
    let tags = tag_pairs(body.get("Tags"));
    let view = deliveries.create(draft, body.clone(), tags).await?;
    Ok(json!({"DeliveryStreamARN": view.arn}))
}

/// The model's constraints on the members weir reads.
fn check(v: &mut Violations, body: &Value) {
    v.one_of(
        body.get("DeliveryStreamType"),
        "deliveryStreamType",
        super::DELIVERY_STREAM_TYPES,
    );
    v.tags(body.get("Tags"), "tags", 1, 50, false);
    for (member, path) in [
        (
            "ExtendedS3DestinationConfiguration",
            "extendedS3DestinationConfiguration",
        ),
        ("S3DestinationConfiguration", "s3DestinationConfiguration"),
    ] {
        let Some(dest) = body.get(member) else {
            continue;
        };
        v.text(
            dest.get("RoleARN"),
            &format!("{path}.roleARN"),
            1,
            512,
            true,
            None,
        );
        v.text(
            dest.get("BucketARN"),
            &format!("{path}.bucketARN"),
            1,
            2048,
            true,
            None,
        );
        v.text(
            dest.get("Prefix"),
            &format!("{path}.prefix"),
            0,
            1024,
            false,
            None,
        );
        v.text(
            dest.get("ErrorOutputPrefix"),
            &format!("{path}.errorOutputPrefix"),
            0,
            1024,
            false,
            None,
        );
        let hints = dest.get("BufferingHints");
        v.integer(
            hints.and_then(|h| h.get("SizeInMBs")),
            &format!("{path}.bufferingHints.sizeInMBs"),
            1,
            128,
        );
        v.integer(
            hints.and_then(|h| h.get("IntervalInSeconds")),
            &format!("{path}.bufferingHints.intervalInSeconds"),
            0,
            900,
        );
    }
    if let Some(source) = body.get("KinesisStreamSourceConfiguration") {
        v.text(
            source.get("KinesisStreamARN"),
            "kinesisStreamSourceConfiguration.kinesisStreamARN",
            1,
            512,
            true,
            None,
        );
        v.text(
            source.get("RoleARN"),
            "kinesisStreamSourceConfiguration.roleARN",
            1,
            512,
            true,
            None,
        );
    }
}

/// The request as a delivery draft; what weir cannot do is refused in Firehose's terms.
fn draft(name: String, body: &Value) -> Result<Draft, AwsError> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let mut draft = Draft {
        name,
        ..Draft::default()
    };
    draft.source = Some(
        match body.get("DeliveryStreamType").and_then(Value::as_str) {
            None | Some("DirectPut") => Source::Direct,
            Some("KinesisStreamAsSource") => {
                let arn = text(body.pointer("/KinesisStreamSourceConfiguration/KinesisStreamARN"))
                .ok_or_else(|| {
                    invalid_argument(
                        "KinesisStreamSourceConfiguration is required for KinesisStreamAsSource.",
                    )
                })?;
                let stream = arn
                    .rsplit_once(":stream/")
                    .map(|(_, name)| name.to_string())
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| invalid_argument(format!("Invalid KinesisStreamARN: {arn}")))?;
                Source::Stream {
                    name: stream,
                    start: Start::TrimHorizon,
                }
            }
            Some(other) => {
                return Err(invalid_argument(format!(
                    "DeliveryStreamType {other} is not supported by weir (DirectPut or KinesisStreamAsSource)."
                )));
            }
        },
    );
    if let Some(other) = OTHER_DESTINATIONS.iter().find(|d| body.get(**d).is_some()) {
        return Err(invalid_argument(format!(
            "{other} is not supported: weir delivers into its lake (use ExtendedS3DestinationConfiguration)."
        )));
    }
    let Some(dest) = body
        .get("ExtendedS3DestinationConfiguration")
        .or_else(|| body.get("S3DestinationConfiguration"))
    else {
        return Err(invalid_argument(
            "A destination is required: ExtendedS3DestinationConfiguration (weir delivers into its lake).",
        ));
    };
    let hints = dest.get("BufferingHints");
    let number = |key: &str| hints.and_then(|h| h.get(key)).and_then(Value::as_u64);
    draft.buffering = Buffering {
        size_bytes: number("SizeInMBs").map_or(Buffering::default().size_bytes, |mb| mb << 20),
        interval: number("IntervalInSeconds")
            .map_or(Buffering::default().interval, Duration::from_secs),
    };
    draft.prefix = text(dest.get("Prefix")).filter(|p| !p.is_empty());
    draft.error_prefix = text(dest.get("ErrorOutputPrefix")).filter(|p| !p.is_empty());
    let s3_compression = match dest.get("CompressionFormat").and_then(Value::as_str) {
        None | Some("UNCOMPRESSED") => Compression::None,
        Some("GZIP") => Compression::Gzip,
        Some("Snappy") => Compression::Snappy,
        Some(other) => {
            return Err(invalid_argument(format!(
                "CompressionFormat {other} is not supported by weir (UNCOMPRESSED, GZIP or Snappy)."
            )));
        }
    };
    draft.compression = Some(s3_compression);
    conversion(&mut draft, dest, s3_compression)?;
    processing(&mut draft, dest)?;
    Ok(draft)
}

/// `DataFormatConversionConfiguration`: the table, and Parquet when enabled.
fn conversion(draft: &mut Draft, dest: &Value, s3: Compression) -> Result<(), AwsError> {
    let Some(conversion) = dest.get("DataFormatConversionConfiguration") else {
        return Ok(());
    };
    let enabled = conversion
        .get("Enabled")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if let Some(schema) = conversion.get("SchemaConfiguration") {
        let part = |key| schema.get(key).and_then(Value::as_str);
        match (part("DatabaseName"), part("TableName")) {
            (Some(database), Some(table)) => {
                draft.table = Some(TableName::new(database, table));
            }
            _ => {
                return Err(invalid_argument(
                    "SchemaConfiguration needs DatabaseName and TableName (the catalog table to deliver into).",
                ));
            }
        }
    }
    if !enabled {
        return Ok(());
    }
    if conversion
        .pointer("/OutputFormatConfiguration/Serializer/OrcSerDe")
        .is_some()
    {
        return Err(invalid_argument(
            "OrcSerDe is not supported by weir: use ParquetSerDe.",
        ));
    }
    if s3 != Compression::None {
        return Err(invalid_argument(
            "CompressionFormat must be UNCOMPRESSED when data format conversion is enabled: set the Parquet compression in ParquetSerDe.",
        ));
    }
    draft.format = Some(Format::Parquet);
    let codec = conversion
        .pointer("/OutputFormatConfiguration/Serializer/ParquetSerDe/Compression")
        .and_then(Value::as_str);
    draft.compression = Some(match codec {
        None | Some("SNAPPY") => Compression::Snappy,
        Some("GZIP") => Compression::Gzip,
        Some("UNCOMPRESSED") => Compression::None,
        Some(other) => {
            return Err(invalid_argument(format!(
                "ParquetSerDe Compression {other} is not supported (UNCOMPRESSED, GZIP or SNAPPY)."
            )));
        }
    });
    Ok(())
}

/// `ProcessingConfiguration`: a `Lambda` processor names the transform function (its ARN's
/// function name); `MetadataExtraction` gives the partition keys.
fn processing(draft: &mut Draft, dest: &Value) -> Result<(), AwsError> {
    let Some(processing) = dest.get("ProcessingConfiguration") else {
        return Ok(());
    };
    if processing.get("Enabled").and_then(Value::as_bool) == Some(false) {
        return Ok(());
    }
    let processors = processing
        .get("Processors")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for processor in &processors {
        let parameter = |name: &str| {
            processor
                .get("Parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|p| p.get("ParameterName").and_then(Value::as_str) == Some(name))
                .and_then(|p| p.get("ParameterValue"))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        match processor.get("Type").and_then(Value::as_str) {
            Some("Lambda") => {
                let arn = parameter("LambdaArn").ok_or_else(|| {
                    invalid_argument("The Lambda processor needs a LambdaArn parameter.")
                })?;
                // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER], or a bare name.
                let function = match arn.split(':').collect::<Vec<_>>().as_slice() {
                    [_, _, "lambda", _, _, "function", name, ..] => name.to_string(),
                    [name] => name.to_string(),
                    _ => return Err(invalid_argument(format!("Invalid LambdaArn: {arn}"))),
                };
                draft.transform = Some(Transform { function });
            }
            Some("MetadataExtraction") => {
                let query = parameter("MetadataExtractionQuery").ok_or_else(|| {
                    invalid_argument(
                        "The MetadataExtraction processor needs a MetadataExtractionQuery parameter.",
                    )
                })?;
                draft.partition_keys = parse_query(&query).map_err(invalid_argument)?;
            }
            // Records are written as lines whatever this says.
            Some("AppendDelimiterToRecord") => {}
            Some(other) => {
                return Err(invalid_argument(format!(
                    "Processor type {other} is not supported by weir (Lambda, MetadataExtraction, AppendDelimiterToRecord)."
                )));
            }
            None => return Err(invalid_argument("A processor needs a Type.")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_map_to_drafts() {
        let body = json!({
            "DeliveryStreamName": "clicks",
            "DeliveryStreamType": "KinesisStreamAsSource",
            "KinesisStreamSourceConfiguration": {
                "KinesisStreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/raw",
                "RoleARN": "arn:aws:iam::000000000000:role/r"
            },
            "ExtendedS3DestinationConfiguration": {
                "RoleARN": "arn:aws:iam::000000000000:role/r",
                "BucketARN": "arn:aws:s3:::lake",
                "Prefix": "c=!{partitionKeyFromQuery:c}/",
                "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
                "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
                "DataFormatConversionConfiguration": {
                    "SchemaConfiguration": {"DatabaseName": "web", "TableName": "clicks"},
                    "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "GZIP"}}}
                },
                "ProcessingConfiguration": {"Enabled": true, "Processors": [
                    {"Type": "Lambda", "Parameters": [{"ParameterName": "LambdaArn",
                        "ParameterValue": "arn:aws:lambda:us-east-1:000000000000:function:enrich:$LATEST"}]},
                    {"Type": "MetadataExtraction", "Parameters": [{"ParameterName": "MetadataExtractionQuery",
                        "ParameterValue": "{c: .customer.id}"}]}
                ]},
                "DynamicPartitioningConfiguration": {"Enabled": true}
            }
        });
        let spec = draft("clicks".into(), &body).unwrap().check().unwrap();
        assert_eq!(
            spec.source,
            Source::Stream {
                name: "raw".into(),
                start: Start::TrimHorizon
            }
        );
        assert_eq!(spec.buffering.size_bytes, 64 << 20);
        assert_eq!(spec.format, Format::Parquet);
        assert_eq!(spec.compression, Compression::Gzip);
        assert_eq!(spec.table, Some(TableName::new("web", "clicks")));
        assert_eq!(spec.transform.unwrap().function, "enrich");
        assert_eq!(spec.partition_columns, ["c"]);

        let refused = |body: Value| draft("d".into(), &body).unwrap_err().message;
        assert!(refused(json!({})).contains("A destination is required"));
        assert!(
            refused(json!({"ExtendedS3DestinationConfiguration": {"CompressionFormat": "ZIP"}}))
                .contains("ZIP is not supported")
        );
        assert!(refused(json!({"SplunkDestinationConfiguration": {}})).contains("not supported"));
    }
}
