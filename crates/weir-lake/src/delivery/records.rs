//! From records to groups: each record's JSON (when the destination needs it), its partition
//! keys, its evaluated prefix, and the records grouped by prefix, each group one object. Names
//! and `!{firehose:random-string}` derive from the batch, never from a clock or a random source,
//! so a retried batch writes the same keys.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::Value;
use weir_model::delivery::prefix::{
    FORMAT_CONVERSION_FAILED, PROCESSING_FAILED, RANDOM_STRING_LEN,
};
use weir_model::delivery::{DeliverySpec, Format, Prefix, Values};
use weir_stream::{Record, ShardId};

use super::failures::Failure;

/// A record after the transform.
pub struct Item<'r> {
    pub record: &'r Record,
    pub data: Bytes,
    /// `partitionKeyFromLambda` values.
    pub lambda_keys: BTreeMap<String, String>,
}

/// A record placed in its group; `json` is set when the destination reads the record's fields.
pub struct Entry<'r> {
    pub item: Item<'r>,
    pub json: Option<Value>,
}

/// The records of one object.
pub struct Group<'r> {
    /// The evaluated prefix (relative to the table's location for a table).
    pub prefix: String,
    pub entries: Vec<Entry<'r>>,
}

pub struct Plan<'r> {
    /// By prefix.
    pub groups: Vec<Group<'r>>,
}

impl Plan<'_> {
    /// Every parsed record, for schema inference.
    pub fn json_records(&self) -> Vec<&Value> {
        self.groups
            .iter()
            .flat_map(|g| g.entries.iter().filter_map(|e| e.json.as_ref()))
            .collect()
    }
}

/// Which batch this is: what object names and random strings are derived from.
#[derive(Debug, Clone)]
pub struct BatchId {
    pub delivery: String,
    pub shard: ShardId,
    pub first: u64,
    pub last: u64,
    /// The oldest record's arrival (ms): the instant `!{timestamp:…}` prints.
    pub oldest_ms: i64,
}

impl BatchId {
    pub fn at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.oldest_ms).unwrap_or_default()
    }

    /// `NAME-yyyy-MM-dd-HH-mm-ss-SHARD-FIRST-LAST.EXT`, Firehose's name pattern with the shard and
    /// the offsets of the object's first and last records where Firehose puts a random UUID.
    pub fn file_name(&self, first: u64, last: u64, extension: &str) -> String {
        format!(
            "{}-{}-{:04}-{first:012}-{last:012}{extension}",
            self.delivery,
            self.at().format("%Y-%m-%d-%H-%M-%S"),
            self.shard.0,
        )
    }

    /// Eleven letters and digits that look random and are the same for the same batch and prefix.
    pub fn random_string(&self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut hash = fnv1a(
            format!(
                "{}\n{}\n{}\n{}\n{prefix}",
                self.delivery, self.shard.0, self.first, self.last
            )
            .as_bytes(),
        );
        (0..RANDOM_STRING_LEN)
            .map(|_| {
                // xorshift steps spread the one hash over every character.
                hash ^= hash << 13;
                hash ^= hash >> 7;
                hash ^= hash << 17;
                ALPHABET[(hash % ALPHABET.len() as u64) as usize] as char
            })
            .collect()
    }
}

/// FNV-1a, 64 bits: stable across builds, which a derived name must be.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Stands for the random string while records are grouped: it is derived from the group.
const RANDOM_MARK: &str = "\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}";

/// Groups the items by evaluated prefix; records that cannot be read or placed join `failed`.
pub fn plan<'r>(
    spec: &DeliverySpec,
    id: &BatchId,
    items: Vec<Item<'r>>,
    failed: &mut Vec<Failure<'r>>,
) -> Plan<'r> {
    let needs_json =
        spec.table.is_some() || spec.format == Format::Parquet || !spec.partition_keys.is_empty();
    let mut groups: BTreeMap<String, Vec<Entry<'r>>> = BTreeMap::new();
    for item in items {
        let json = if needs_json {
            match parse_object(&item.data) {
                Ok(value) => Some(value),
                Err(message) => {
                    failed.push(Failure {
                        record: item.record,
                        output_type: FORMAT_CONVERSION_FAILED,
                        code: "DataFormatConversion.MalformedData",
                        message,
                    });
                    continue;
                }
            }
        } else {
            None
        };
        match place(spec, id, &item, json.as_ref()) {
            Ok(prefix) => groups.entry(prefix).or_default().push(Entry { item, json }),
            Err(message) => failed.push(Failure {
                record: item.record,
                output_type: PROCESSING_FAILED,
                code: "DynamicPartitioning.MetadataExtractionFailed",
                message,
            }),
        }
    }
    Plan {
        groups: groups
            .into_iter()
            .map(|(marked, entries)| Group {
                prefix: marked.replace(RANDOM_MARK, &id.random_string(&marked)),
                entries,
            })
            .collect(),
    }
}

/// One JSON object (surrounding whitespace and a trailing newline allowed).
fn parse_object(data: &[u8]) -> Result<Value, String> {
    match serde_json::from_slice::<Value>(data) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err("the record is JSON but not an object".into()),
        Err(e) => Err(format!("the record is not JSON: {e}")),
    }
}

/// The record's prefix, with the random string still marked.
fn place(
    spec: &DeliverySpec,
    id: &BatchId,
    item: &Item<'_>,
    json: Option<&Value>,
) -> Result<String, String> {
    let mut query_keys = BTreeMap::new();
    if let Some(json) = json {
        for (name, path) in &spec.partition_keys {
            query_keys.insert(name.clone(), path.extract(json)?);
        }
    }
    for value in query_keys.values().chain(item.lambda_keys.values()) {
        if value.contains('/') || value.chars().any(char::is_control) {
            return Err(format!(
                "partition key value `{value}` has a `/` or a control character"
            ));
        }
    }
    evaluate(&spec.prefix, id, &query_keys, &item.lambda_keys)
}

fn evaluate(
    prefix: &Prefix,
    id: &BatchId,
    query_keys: &BTreeMap<String, String>,
    lambda_keys: &BTreeMap<String, String>,
) -> Result<String, String> {
    prefix.evaluate(&Values {
        at: id.at(),
        query_keys: Some(query_keys),
        lambda_keys: Some(lambda_keys),
        error_output_type: None,
        random_string: RANDOM_MARK,
    })
}

/// The Hive partition values of an evaluated table prefix (`a=1/b=x/` gives `["1", "x"]`),
/// checked against the table's partition columns.
pub fn partition_values(prefix: &str, columns: &[String]) -> Result<Vec<String>, String> {
    let folders: Vec<&str> = prefix.split('/').collect();
    let folders = &folders[..folders.len().saturating_sub(1)];
    if folders.len() != columns.len() {
        return Err(format!(
            "prefix `{prefix}` has {} folder(s) for {} partition column(s)",
            folders.len(),
            columns.len()
        ));
    }
    folders
        .iter()
        .zip(columns)
        .map(|(folder, column)| match folder.split_once('=') {
            Some((name, value)) if name == column => Ok(value.to_string()),
            _ => Err(format!("folder `{folder}` is not `{column}=…`")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> BatchId {
        BatchId {
            delivery: "clicks".into(),
            shard: ShardId(2),
            first: 10,
            last: 19,
            oldest_ms: 1_535_365_800_000,
        }
    }

    #[test]
    fn names_are_derived_from_the_batch() {
        assert_eq!(
            id().file_name(10, 19, ".json"),
            "clicks-2018-08-27-10-30-00-0002-000000000010-000000000019.json"
        );
        let random = id().random_string("a/");
        assert_eq!(random.len(), RANDOM_STRING_LEN);
        assert!(random.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(random, id().random_string("a/"));
        assert_ne!(random, id().random_string("b/"));
    }

    #[test]
    fn partition_values_come_from_folders() {
        let columns = ["day".to_string(), "c".to_string()];
        assert_eq!(
            partition_values("day=2018-08-27/c=42/", &columns).unwrap(),
            ["2018-08-27", "42"]
        );
        assert_eq!(
            partition_values("day=2018/c=4/part-", &columns).unwrap(),
            ["2018", "4"]
        );
        assert!(partition_values("day=2018/x/c=4/", &columns).is_err());
        assert!(partition_values("c=1/day=2/", &columns).is_err());
    }
}
