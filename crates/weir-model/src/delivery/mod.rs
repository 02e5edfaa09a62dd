//! Deliveries (weir's Firehose): `deliveries/*.yaml`, or a `CreateDeliveryStream` call, says
//! where records come from (a weir stream, or direct puts), how long and how much to buffer,
//! the format and compression of the objects written, where they go (a catalog table, a prefix
//! with Firehose's `!{…}` expressions, or both), where failed records go, the partition keys
//! read from each record, and an optional transform function. See `docs/deliveries.md`.
//!
//! Both sources build a [`Draft`] and check it into a [`DeliverySpec`] with [`Draft::check`], so a
//! file and an API call obey the same rules; [`parse_delivery`] adds positions for files.

pub mod activity;
pub mod datetime;
pub mod prefix;
pub mod query;
mod yaml_reader;

use std::time::Duration;

pub use activity::{DeliveryActivity, WrittenObject};
pub use prefix::{Part, Prefix, Values};
pub use query::FieldPath;
pub use yaml_reader::parse_delivery;

use crate::sql_tables::TableName;

/// Firehose's buffering defaults and bounds (`SizeInMBs` 1–128, `IntervalInSeconds` 0–900).
pub const DEFAULT_BUFFER_BYTES: u64 = 5 << 20;
pub const MIN_BUFFER_BYTES: u64 = 1 << 20;
pub const MAX_BUFFER_BYTES: u64 = 128 << 20;
pub const DEFAULT_BUFFER_INTERVAL: Duration = Duration::from_secs(300);
pub const MAX_BUFFER_INTERVAL: Duration = Duration::from_secs(900);
/// Longest delivery name (Firehose's `DeliveryStreamName`: 1–64 of `[a-zA-Z0-9_.-]`).
pub const MAX_NAME_LEN: usize = 64;
/// Where direct puts are kept: a weir stream of this name plus the delivery's, so that both
/// sources share one durable path.
pub const BACKING_STREAM_PREFIX: &str = "__delivery-";

/// Where records come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// PutRecord / PutRecordBatch, kept in the backing stream [`DeliverySpec::stream`].
    Direct,
    /// A weir stream, read by a consumer group named after the delivery.
    Stream { name: String, start: Start },
}

/// Where a new delivery starts reading its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    TrimHorizon,
    Latest,
}

/// Flush when either is reached, whichever first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffering {
    pub size_bytes: u64,
    pub interval: Duration,
}

impl Default for Buffering {
    fn default() -> Self {
        Buffering {
            size_bytes: DEFAULT_BUFFER_BYTES,
            interval: DEFAULT_BUFFER_INTERVAL,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One record per line (a newline is added to records that lack one).
    JsonLines,
    Parquet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Zstd,
}

impl Compression {
    pub const NAMES: [&'static str; 4] = ["none", "gzip", "snappy", "zstd"];

    pub fn parse(name: &str) -> Option<Compression> {
        Some(match name.to_ascii_lowercase().as_str() {
            "none" | "uncompressed" => Compression::None,
            "gzip" => Compression::Gzip,
            "snappy" => Compression::Snappy,
            "zstd" => Compression::Zstd,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Zstd => "zstd",
        }
    }
}

/// Where a Parquet delivery's schema comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaSource {
    /// Inferred from the records and widened as new fields and types arrive.
    Infer,
    /// The destination table's columns (the table must exist with columns); records that do not
    /// fit go under the error prefix.
    Table,
}

/// The transform function, with Firehose's Lambda contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transform {
    pub function: String,
}

/// A checked delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliverySpec {
    pub name: String,
    pub description: Option<String>,
    pub source: Source,
    pub buffering: Buffering,
    pub format: Format,
    pub compression: Compression,
    pub schema: SchemaSource,
    pub table: Option<TableName>,
    /// The prefix as given (relative to the table's location when there is a table), with
    /// Firehose's default time folders appended when it has no timestamp and no partition keys
    /// and the destination is not a table.
    pub prefix: Prefix,
    /// Where failed records go, relative to the lake's root.
    pub error_prefix: Prefix,
    /// `partitionKeyFromQuery` keys, in order.
    pub partition_keys: Vec<(String, FieldPath)>,
    pub transform: Option<Transform>,
    /// The Hive partition columns the prefix makes (`name=…/` folders) for a table destination.
    pub partition_columns: Vec<String>,
}

impl DeliverySpec {
    /// The weir stream the delivery reads.
    pub fn stream(&self) -> String {
        match &self.source {
            Source::Direct => backing_stream(&self.name),
            Source::Stream { name, .. } => name.clone(),
        }
    }

    /// Where a new consumer starts.
    pub fn start(&self) -> Start {
        match &self.source {
            Source::Direct => Start::TrimHorizon,
            Source::Stream { start, .. } => *start,
        }
    }
}

/// A running delivery as the API describes it: its definition and what the server keeps of it.
#[derive(Debug, Clone)]
pub struct DeliveryInfo {
    pub spec: DeliverySpec,
    /// `arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME`.
    pub arn: String,
    /// The source stream's ARN for a delivery from a stream.
    pub source_stream_arn: Option<String>,
    /// Firehose's `VersionId`.
    pub version: i64,
    /// µs since the epoch.
    pub created_at: i64,
    pub updated_at: i64,
    /// The CreateDeliveryStream request, for deliveries made through the API.
    pub request: Option<serde_json::Value>,
    /// The file that defines it, for deliveries from files.
    pub file: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// The backing stream of a delivery fed by direct puts.
pub fn backing_stream(delivery: &str) -> String {
    format!("{BACKING_STREAM_PREFIX}{delivery}")
}

/// `[a-zA-Z0-9_.-]{1,64}`, Firehose's delivery stream names.
pub fn is_delivery_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// What a file or an API call says, before the rules between settings are checked.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub name: String,
    pub description: Option<String>,
    pub source: Option<Source>,
    pub buffering: Buffering,
    pub format: Option<Format>,
    pub compression: Option<Compression>,
    pub schema: Option<SchemaSource>,
    pub table: Option<TableName>,
    pub prefix: Option<String>,
    pub error_prefix: Option<String>,
    pub partition_keys: Vec<(String, FieldPath)>,
    pub transform: Option<Transform>,
}

/// Which setting a problem is about (a file reports it at that key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    Name,
    Buffering,
    Format,
    Compression,
    Schema,
    Table,
    Prefix,
    ErrorPrefix,
    PartitionKeys,
}

impl Draft {
    /// The draft in the `deliveries/*.yaml` format (as JSON, which that format reads): how a
    /// delivery made through the API is stored, so one parser reads both.
    pub fn definition(&self) -> serde_json::Value {
        use serde_json::{Map, Value, json};
        let mut out = Map::new();
        let mut put = |key: &str, value: Value| {
            out.insert(key.to_string(), value);
        };
        if let Some(description) = &self.description {
            put("description", json!(description));
        }
        if let Some(Source::Stream { name, start }) = &self.source {
            let start = match start {
                Start::TrimHorizon => "trim_horizon",
                Start::Latest => "latest",
            };
            put("source", json!({"stream": name, "start": start}));
        }
        put(
            "buffering",
            json!({"size": self.buffering.size_bytes, "interval": self.buffering.interval.as_secs()}),
        );
        if let Some(format) = self.format {
            put(
                "format",
                json!(match format {
                    Format::JsonLines => "json",
                    Format::Parquet => "parquet",
                }),
            );
        }
        if let Some(compression) = self.compression {
            put("compression", json!(compression.name()));
        }
        if let Some(schema) = self.schema {
            put(
                "schema",
                json!(match schema {
                    SchemaSource::Infer => "infer",
                    SchemaSource::Table => "table",
                }),
            );
        }
        if let Some(table) = &self.table {
            put("table", json!(table.to_string()));
        }
        if let Some(prefix) = &self.prefix {
            put("prefix", json!(prefix));
        }
        if let Some(prefix) = &self.error_prefix {
            put("error_prefix", json!(prefix));
        }
        if !self.partition_keys.is_empty() {
            let keys: Map<String, Value> = self
                .partition_keys
                .iter()
                .map(|(k, path)| (k.clone(), json!(path.text)))
                .collect();
            put("partition_keys", Value::Object(keys));
        }
        if let Some(transform) = &self.transform {
            put("transform", json!(transform.function));
        }
        Value::Object(out)
    }

    /// Checks the settings against each other and applies Firehose's defaults.
    pub fn check(self) -> Result<DeliverySpec, Vec<(Setting, String)>> {
        let mut problems: Vec<(Setting, String)> = Vec::new();
        if !is_delivery_name(&self.name) {
            problems.push((
                Setting::Name,
                format!(
                    "delivery name `{}` must be 1 to {MAX_NAME_LEN} letters, digits, `_`, `.` or `-`",
                    self.name
                ),
            ));
        }
        let b = self.buffering;
        if !(MIN_BUFFER_BYTES..=MAX_BUFFER_BYTES).contains(&b.size_bytes) {
            problems.push((
                Setting::Buffering,
                "the buffer size must be from 1 MiB to 128 MiB (Firehose's bounds; the default is 5 MiB)".into(),
            ));
        }
        if b.interval > MAX_BUFFER_INTERVAL {
            problems.push((
                Setting::Buffering,
                "the buffer interval must be from 0 to 900 seconds (the default is 300)".into(),
            ));
        }
        let format = self.format.unwrap_or(Format::JsonLines);
        let compression = self.compression.unwrap_or(match format {
            Format::JsonLines => Compression::None,
            Format::Parquet => Compression::Snappy,
        });
        if format == Format::JsonLines && self.table.is_some() && compression != Compression::None {
            problems.push((
                Setting::Compression,
                "a table of JSON lines must be uncompressed (SQL reads plain JSON lines); use `format: parquet` for compressed tables".into(),
            ));
        }
        let schema = self.schema.unwrap_or(SchemaSource::Infer);
        if schema == SchemaSource::Table && self.table.is_none() {
            problems.push((
                Setting::Schema,
                "`schema: table` needs a destination `table`".into(),
            ));
        }

        let parse = |setting, text: &Option<String>, problems: &mut Vec<(Setting, String)>| {
            let text = text.as_deref()?;
            match prefix::parse(text) {
                Ok(p) => Some(p),
                Err(e) => {
                    problems.push((setting, e));
                    None
                }
            }
        };
        let given_prefix = parse(Setting::Prefix, &self.prefix, &mut problems);
        let given_error = parse(Setting::ErrorPrefix, &self.error_prefix, &mut problems);
        let keys: Vec<String> = self.partition_keys.iter().map(|(k, _)| k.clone()).collect();
        for problem in prefix::check(
            given_prefix.as_ref(),
            given_error.as_ref(),
            &keys,
            self.transform.is_some(),
        ) {
            let setting = if problem.contains("error prefix") && !problem.contains("needs an") {
                Setting::ErrorPrefix
            } else {
                Setting::Prefix
            };
            problems.push((setting, problem));
        }
        let mut partition_columns = Vec::new();
        if let (Some(_), Some(p)) = (&self.table, &given_prefix) {
            match hive_columns(p) {
                Ok(columns) => partition_columns = columns,
                Err(e) => problems.push((Setting::Prefix, e)),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }

        let dynamic = given_prefix
            .as_ref()
            .is_some_and(|p| p.keys() != (vec![], vec![]));
        let prefix = match (given_prefix, &self.table) {
            (Some(p), Some(_)) => p,
            (None, Some(_)) => empty_prefix(),
            (Some(p), None) if dynamic => p,
            (Some(p), None) => p.with_default_time(),
            (None, None) => empty_prefix().with_default_time(),
        };
        let error_prefix = match given_error {
            Some(p) => p.with_default_time(),
            None => default_error_prefix(&self.name),
        };
        Ok(DeliverySpec {
            name: self.name,
            description: self.description,
            source: self.source.unwrap_or(Source::Direct),
            buffering: self.buffering,
            format,
            compression,
            schema,
            table: self.table,
            prefix,
            error_prefix,
            partition_keys: self.partition_keys,
            transform: self.transform,
            partition_columns,
        })
    }
}

fn empty_prefix() -> Prefix {
    Prefix {
        text: String::new(),
        parts: Vec::new(),
    }
}

/// `errors/NAME/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH/}`: beside, never inside,
/// the delivery's data (a table's folder holds only its files).
fn default_error_prefix(name: &str) -> Prefix {
    let text = format!("errors/{name}/!{{firehose:error-output-type}}/");
    prefix::parse(&text)
        .unwrap_or_else(|_| empty_prefix())
        .with_default_time()
}

/// The Hive columns of a table destination's prefix: every folder must be `name=…`, so that SQL
/// reads the values back as partition columns. Text after the last `/` starts the file name.
pub fn hive_columns(prefix: &Prefix) -> Result<Vec<String>, String> {
    // The folders' text, an expression standing as NUL; a timestamp must not print a slash.
    let mut folders: Vec<String> = Vec::new();
    let mut segment_text = String::new();
    for part in &prefix.parts {
        match part {
            Part::Literal(text) => {
                for (i, piece) in text.split('/').enumerate() {
                    if i > 0 {
                        folders.push(std::mem::take(&mut segment_text));
                    }
                    segment_text.push_str(piece);
                }
            }
            Part::Timestamp(pattern) if pattern.text.contains('/') => {
                return Err(format!(
                    "a table's prefix is made of `column=value/` folders: `!{{timestamp:{}}}` prints `/`; use one folder per column, such as `day=!{{timestamp:yyyy-MM-dd}}/`",
                    pattern.text
                ));
            }
            _ => segment_text.push('\u{0}'),
        }
    }
    let mut columns: Vec<String> = Vec::new();
    for text in &folders {
        let Some((name, _)) = text.split_once('=') else {
            return Err(format!(
                "a table's prefix is made of `column=value/` folders, and `{}` is not one",
                text.replace('\u{0}', "!{…}")
            ));
        };
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "partition column `{}` in the prefix must be a plain identifier",
                name.replace('\u{0}', "!{…}")
            ));
        }
        if columns.iter().any(|c| c == name) {
            return Err(format!(
                "partition column `{name}` appears twice in the prefix"
            ));
        }
        columns.push(name.to_string());
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft {
            name: "clicks".into(),
            ..Draft::default()
        }
    }

    #[test]
    fn defaults_are_firehose_s() {
        let spec = draft().check().unwrap();
        assert_eq!(spec.buffering.size_bytes, 5 << 20);
        assert_eq!(spec.buffering.interval, Duration::from_secs(300));
        assert_eq!(spec.format, Format::JsonLines);
        assert_eq!(spec.compression, Compression::None);
        assert_eq!(spec.prefix.text, "!{timestamp:yyyy/MM/dd/HH/}");
        assert_eq!(
            spec.error_prefix.text,
            "errors/clicks/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH/}"
        );
        assert_eq!(spec.stream(), "__delivery-clicks");
        let parquet = Draft {
            format: Some(Format::Parquet),
            ..draft()
        };
        assert_eq!(parquet.check().unwrap().compression, Compression::Snappy);
    }

    #[test]
    fn table_prefixes_are_hive_folders() {
        let with = |prefix: &str| Draft {
            table: Some(TableName::new("web", "clicks")),
            prefix: Some(prefix.into()),
            error_prefix: Some("errors/!{firehose:error-output-type}/".into()),
            ..draft()
        };
        let spec = with("day=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/")
            .check()
            .unwrap();
        assert_eq!(spec.partition_columns, ["day", "hour"]);
        assert!(!spec.prefix.text.contains("yyyy/MM"));
        let bad = with("!{timestamp:yyyy/MM}/").check().unwrap_err();
        assert!(bad[0].1.contains("prints `/`"), "{bad:?}");
        let bad = with("raw/day=!{timestamp:dd}/").check().unwrap_err();
        assert!(bad[0].1.contains("`raw` is not one"), "{bad:?}");
    }

    #[test]
    fn a_draft_s_definition_reads_back_as_the_same_delivery() {
        let draft = Draft {
            source: Some(Source::Stream {
                name: "clicks".into(),
                start: Start::Latest,
            }),
            buffering: Buffering {
                size_bytes: 2 << 20,
                interval: Duration::from_secs(7),
            },
            format: Some(Format::Parquet),
            compression: Some(Compression::Gzip),
            table: Some(TableName::new("web", "clicks")),
            prefix: Some("c=!{partitionKeyFromQuery:c}/".into()),
            error_prefix: Some("e/!{firehose:error-output-type}/".into()),
            partition_keys: vec![("c".into(), query::parse_path(".a.b").unwrap())],
            transform: Some(Transform {
                function: "f".into(),
            }),
            ..draft()
        };
        let text = draft.definition().to_string();
        let read = parse_delivery("store:clicks", "clicks", &text).unwrap();
        assert_eq!(read, draft.check().unwrap());
    }

    #[test]
    fn settings_are_checked_together() {
        let problems = Draft {
            name: "bad name".into(),
            buffering: Buffering {
                size_bytes: 1,
                interval: Duration::from_secs(901),
            },
            table: Some(TableName::new("a", "b")),
            compression: Some(Compression::Gzip),
            ..Draft::default()
        }
        .check()
        .unwrap_err();
        let settings: Vec<Setting> = problems.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            settings,
            [
                Setting::Name,
                Setting::Buffering,
                Setting::Buffering,
                Setting::Compression
            ]
        );
    }
}
