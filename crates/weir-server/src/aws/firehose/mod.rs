//! Firehose's JSON 1.1 protocol (`X-Amz-Target: Firehose_20150804.<Operation>`), over the
//! server's [`DeliveryService`]. Field names, shapes, limits and error names are Firehose's, so
//! boto3's `firehose` client, the AWS CLI and the Kinesis Agent work unchanged. One file per
//! operation; this module routes an operation to its file and holds what several share (the
//! description of a delivery).

mod create_delivery_stream;
mod delete_delivery_stream;
mod describe_delivery_stream;
mod fields;
mod list_delivery_streams;
mod list_tags_for_delivery_stream;
mod put_record;
mod put_record_batch;
mod tag_delivery_stream;
mod untag_delivery_stream;

use serde_json::{Value, json};
use weir_model::access::Role;
use weir_model::delivery::{Compression, Format, Source};

pub use super::AwsError;
use crate::deliveries::{DeliveryFailure, DeliveryInfo, DeliveryService};

/// PutRecordBatch's quota is 4 MiB of records; their base64 in JSON takes a third more, so a
/// body is read up to this before it is refused unread.
pub const MAX_REQUEST_BYTES: usize = 6 << 20;

/// Each operation and the role it needs. An operation not listed needs an admin.
pub const OPERATIONS: &[(&str, Role)] = &[
    ("CreateDeliveryStream", Role::Admin),
    ("DeleteDeliveryStream", Role::Admin),
    ("DescribeDeliveryStream", Role::Viewer),
    ("ListDeliveryStreams", Role::Viewer),
    ("PutRecord", Role::Operator),
    ("PutRecordBatch", Role::Operator),
    ("TagDeliveryStream", Role::Admin),
    ("UntagDeliveryStream", Role::Admin),
    ("ListTagsForDeliveryStream", Role::Viewer),
];

/// The role an operation needs (an admin's for one not listed).
pub fn role_of(operation: &str) -> Role {
    OPERATIONS
        .iter()
        .find(|(name, _)| *name == operation)
        .map_or(Role::Admin, |(_, role)| *role)
}

/// `DeliveryStreamType`'s values in the model (weir runs the first two).
pub const DELIVERY_STREAM_TYPES: &[&str] = &[
    "DirectPut",
    "KinesisStreamAsSource",
    "MSKAsSource",
    "DatabaseAsSource",
];

pub type Answer = Result<Value, AwsError>;

impl From<DeliveryFailure> for AwsError {
    fn from(e: DeliveryFailure) -> Self {
        AwsError {
            code: e.code,
            message: e.message,
        }
    }
}

pub fn invalid(message: impl Into<String>) -> AwsError {
    AwsError {
        code: "ValidationException",
        message: message.into(),
    }
}

pub fn invalid_argument(message: impl Into<String>) -> AwsError {
    AwsError {
        code: "InvalidArgumentException",
        message: message.into(),
    }
}

/// The delivery a request names, for grants and the audit log.
pub fn delivery_named(body: &Value) -> Option<String> {
    body.get(fields::NAME)
        .and_then(Value::as_str)
        .map(str::to_string)
}

pub async fn handle(deliveries: &dyn DeliveryService, operation: &str, body: &Value) -> Answer {
    match operation {
        "CreateDeliveryStream" => create_delivery_stream::handle(deliveries, body).await,
        "DeleteDeliveryStream" => delete_delivery_stream::handle(deliveries, body).await,
        "DescribeDeliveryStream" => describe_delivery_stream::handle(deliveries, body).await,
        "ListDeliveryStreams" => list_delivery_streams::handle(deliveries, body).await,
        "PutRecord" => put_record::handle(deliveries, body).await,
        "PutRecordBatch" => put_record_batch::handle(deliveries, body).await,
        "TagDeliveryStream" => tag_delivery_stream::handle(deliveries, body).await,
        "UntagDeliveryStream" => untag_delivery_stream::handle(deliveries, body).await,
        "ListTagsForDeliveryStream" => {
            list_tags_for_delivery_stream::handle(deliveries, body).await
        }
        _ => Err(AwsError {
            code: "UnknownOperationException",
            message: format!("Firehose_20150804.{operation} is not supported by this server"),
        }),
    }
}

/// Checks the name member (the only one of most operations) and returns it.
pub fn name_of(
    body: &Value,
    more: impl FnOnce(&mut fields::Violations),
) -> Result<String, AwsError> {
    let mut violations = fields::Violations::default();
    violations.name(body, fields::NAME);
    more(&mut violations);
    violations.finish()?;
    Ok(delivery_named(body).unwrap_or_default())
}

/// `DirectPut` or `KinesisStreamAsSource`.
pub fn kind_of(view: &DeliveryInfo) -> &'static str {
    match view.spec.source {
        Source::Direct => "DirectPut",
        Source::Stream { .. } => "KinesisStreamAsSource",
    }
}

pub fn seconds(micros: i64) -> f64 {
    micros as f64 / 1_000_000.0
}

/// DescribeDeliveryStream's `DeliveryStreamDescription`: the destination as Firehose describes
/// an extended S3 destination, with the ARNs the request gave (or weir's placeholders).
pub fn description(view: &DeliveryInfo) -> Value {
    let spec = &view.spec;
    let account = view.arn.split(':').nth(4).unwrap_or("000000000000");
    let given = |pointer: &str| {
        view.request
            .as_ref()
            .and_then(|r| r.pointer(pointer))
            .cloned()
    };
    let role = given("/ExtendedS3DestinationConfiguration/RoleARN")
        .or_else(|| given("/S3DestinationConfiguration/RoleARN"))
        .unwrap_or_else(|| json!(format!("arn:aws:iam::{account}:role/weir")));
    let bucket = given("/ExtendedS3DestinationConfiguration/BucketARN")
        .or_else(|| given("/S3DestinationConfiguration/BucketARN"))
        .unwrap_or_else(|| json!("arn:aws:s3:::weir-lake"));
    let compression = match (spec.format, spec.compression) {
        (Format::Parquet, _) | (_, Compression::None) => "UNCOMPRESSED",
        (_, Compression::Gzip) => "GZIP",
        (_, Compression::Snappy) => "Snappy",
        (_, Compression::Zstd) => "ZSTD",
    };
    let mut destination = json!({
        "RoleARN": role,
        "BucketARN": bucket,
        "Prefix": spec.prefix.text,
        "ErrorOutputPrefix": spec.error_prefix.text,
        "BufferingHints": {
            "SizeInMBs": spec.buffering.size_bytes >> 20,
            "IntervalInSeconds": spec.buffering.interval.as_secs(),
        },
        "CompressionFormat": compression,
        "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
        "S3BackupMode": "Disabled",
    });
    if let Some(table) = &spec.table {
        destination["DataFormatConversionConfiguration"] = json!({
            "Enabled": spec.format == Format::Parquet,
            "SchemaConfiguration": {"DatabaseName": table.database, "TableName": table.name},
        });
    }
    if !spec.partition_keys.is_empty() {
        destination["DynamicPartitioningConfiguration"] = json!({"Enabled": true});
    }
    let mut answer = json!({
        "DeliveryStreamName": spec.name,
        "DeliveryStreamARN": view.arn,
        "DeliveryStreamStatus": "ACTIVE",
        "DeliveryStreamType": kind_of(view),
        "VersionId": view.version.to_string(),
        "CreateTimestamp": seconds(view.created_at),
        "LastUpdateTimestamp": seconds(view.updated_at),
        "DeliveryStreamEncryptionConfiguration": {"Status": "DISABLED"},
        "Destinations": [{
            "DestinationId": "destinationId-000000000001",
            "ExtendedS3DestinationDescription": destination,
        }],
        "HasMoreDestinations": false,
    });
    if let Some(arn) = &view.source_stream_arn {
        answer["Source"] = json!({"KinesisStreamSourceDescription": {
            "KinesisStreamARN": arn,
            "RoleARN": given("/KinesisStreamSourceConfiguration/RoleARN")
                .unwrap_or_else(|| json!(format!("arn:aws:iam::{account}:role/weir"))),
            "DeliveryStartTimestamp": seconds(view.created_at),
        }});
    }
    answer
}
