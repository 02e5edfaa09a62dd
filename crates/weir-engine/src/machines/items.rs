//! A Map's `ItemReader`: items read from the lake, as Step Functions reads them from S3.
//!
//! ```json
//! "ItemReader": {
//!   "Resource": "arn:aws:states:::s3:getObject",
//!   "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 100},
//!   "Parameters": {"Bucket": "ignored", "Key.$": "$.key"}
//! }
//! ```
//!
//! `s3:getObject` reads one object: `JSON` (an array), `JSONL` (one value per line) or `CSV`
//! (rows as objects keyed by the header, which is the first row or `CSVHeaders`).
//! `s3:listObjectsV2` lists the objects under `Prefix` (`{Key, Size}` each). The bucket is the
//! lake's, whatever `Bucket` says: weir has one.

use serde_json::{Map, Value, json};
use weir_model::asl::errors::names;
use weir_model::asl::{Entropy, Env, Path, StatesError};

/// Reads objects from the lake for item readers.
#[async_trait::async_trait]
pub trait ObjectReader: Send + Sync {
    /// The object's bytes.
    async fn read(&self, key: &str) -> Result<Vec<u8>, String>;
    /// Keys and sizes of the objects under `prefix`.
    async fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>, String>;
}

fn failed(cause: impl Into<String>) -> StatesError {
    StatesError::new(names::ITEM_READER_FAILED, cause)
}

/// The reader's `Parameters` with `….$` paths evaluated against the state's input.
fn parameters(reader: &Value, input: &Value) -> Result<Map<String, Value>, StatesError> {
    let mut out = Map::new();
    let Some(given) = reader.get("Parameters").and_then(Value::as_object) else {
        return Ok(out);
    };
    let (context, variables, entropy) = (Value::Null, Map::new(), Entropy::new(0));
    let env = Env::new(input, &context, &variables, &entropy);
    for (key, value) in given {
        match (key.strip_suffix(".$"), value) {
            (Some(name), Value::String(path)) => {
                let path = Path::parse(path)
                    .map_err(|e| failed(format!("ItemReader Parameters {key}: {}", e.message)))?;
                let found = path.evaluate(&env).map_err(|_| {
                    failed(format!(
                        "ItemReader Parameters {key}: {path} matched nothing"
                    ))
                })?;
                out.insert(name.to_string(), found);
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(out)
}

/// The items `reader` names.
pub async fn read_items(
    objects: &dyn ObjectReader,
    reader: &Value,
    input: &Value,
) -> Result<Vec<Value>, StatesError> {
    let resource = reader["Resource"].as_str().unwrap_or_default();
    let params = parameters(reader, input)?;
    let config = &reader["ReaderConfig"];
    let max = config["MaxItems"].as_u64().map(|n| n as usize);
    let mut items = match resource {
        "arn:aws:states:::s3:getObject" => {
            let key = params
                .get("Key")
                .and_then(Value::as_str)
                .ok_or_else(|| failed("ItemReader s3:getObject needs Parameters.Key"))?;
            let bytes = objects.read(key).await.map_err(failed)?;
            parse(&bytes, config, key)?
        }
        "arn:aws:states:::s3:listObjectsV2" => {
            let prefix = params.get("Prefix").and_then(Value::as_str).unwrap_or("");
            objects
                .list(prefix)
                .await
                .map_err(failed)?
                .into_iter()
                .map(|(key, size)| json!({"Key": key, "Size": size}))
                .collect()
        }
        other => {
            return Err(failed(format!(
                "ItemReader Resource {other}: weir reads arn:aws:states:::s3:getObject and \
                 arn:aws:states:::s3:listObjectsV2 from the lake"
            )));
        }
    };
    if let Some(max) = max {
        items.truncate(max);
    }
    Ok(items)
}

/// An object's items by `ReaderConfig.InputType`.
pub fn parse(bytes: &[u8], config: &Value, key: &str) -> Result<Vec<Value>, StatesError> {
    let input_type = config["InputType"].as_str().unwrap_or("JSON");
    match input_type {
        "JSON" => match serde_json::from_slice(bytes) {
            Ok(Value::Array(items)) => Ok(items),
            Ok(_) => Err(failed(format!(
                "{key}: a JSON item file must hold an array"
            ))),
            Err(e) => Err(failed(format!("{key}: not JSON: {e}"))),
        },
        "JSONL" => {
            let text =
                std::str::from_utf8(bytes).map_err(|_| failed(format!("{key}: not UTF-8 text")))?;
            text.lines()
                .enumerate()
                .filter(|(_, line)| !line.trim().is_empty())
                .map(|(n, line)| {
                    serde_json::from_str(line)
                        .map_err(|e| failed(format!("{key} line {}: not JSON: {e}", n + 1)))
                })
                .collect()
        }
        "CSV" => csv_items(bytes, config, key),
        other => Err(failed(format!(
            "ReaderConfig.InputType {other}: use JSON, JSONL or CSV"
        ))),
    }
}

fn csv_items(bytes: &[u8], config: &Value, key: &str) -> Result<Vec<Value>, StatesError> {
    let given: Option<Vec<String>> = match config["CSVHeaderLocation"].as_str() {
        Some("GIVEN") => Some(
            config["CSVHeaders"]
                .as_array()
                .ok_or_else(|| failed("CSVHeaderLocation GIVEN needs CSVHeaders"))?
                .iter()
                .map(|h| h.as_str().unwrap_or_default().to_string())
                .collect(),
        ),
        _ => None,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(given.is_none())
        .flexible(true)
        .from_reader(bytes);
    let headers: Vec<String> = match given {
        Some(headers) => headers,
        None => reader
            .headers()
            .map_err(|e| failed(format!("{key}: {e}")))?
            .iter()
            .map(str::to_string)
            .collect(),
    };
    let mut items = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| failed(format!("{key}: {e}")))?;
        let row: Map<String, Value> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.clone(), Value::String(v.to_string())))
            .collect();
        items.push(Value::Object(row));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_input_types() {
        let json = parse(br#"[{"a": 1}, 2]"#, &json!({"InputType": "JSON"}), "k").unwrap();
        assert_eq!(json, vec![json!({"a": 1}), json!(2)]);
        let lines = parse(
            b"{\"a\": 1}\n\n\"x\"\n",
            &json!({"InputType": "JSONL"}),
            "k",
        )
        .unwrap();
        assert_eq!(lines, vec![json!({"a": 1}), json!("x")]);
        let csv = parse(
            b"id,name\n1,\"Smith, J\"\n2,Lee\n",
            &json!({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}),
            "k",
        )
        .unwrap();
        assert_eq!(csv[0], json!({"id": "1", "name": "Smith, J"}));
        assert_eq!(csv.len(), 2);
        let given = parse(
            b"1,a\n2,b\n",
            &json!({"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["n", "s"]}),
            "k",
        )
        .unwrap();
        assert_eq!(given[1], json!({"n": "2", "s": "b"}));
    }

    #[test]
    fn bad_files_fail_with_the_reader_error() {
        for (bytes, config) in [
            (&b"{\"a\": 1}"[..], json!({"InputType": "JSON"})),
            (&b"{oops"[..], json!({"InputType": "JSONL"})),
            (&b"x"[..], json!({"InputType": "XML"})),
        ] {
            let error = parse(bytes, &config, "items.txt").unwrap_err();
            assert_eq!(error.error, names::ITEM_READER_FAILED);
        }
    }

    #[test]
    fn parameters_read_paths_from_the_input() {
        let reader = json!({"Parameters": {"Bucket": "b", "Key.$": "$.file"}});
        let params = parameters(&reader, &json!({"file": "in/items.csv"})).unwrap();
        assert_eq!(params["Key"], "in/items.csv");
        assert!(parameters(&reader, &json!({})).is_err());
    }
}
