//! Kinesis' two wire formats. JSON 1.1 (`application/x-amz-json-1.1`, what boto3 and the AWS
//! CLI send): blobs are base64 text, timestamps epoch seconds as numbers. CBOR
//! (`application/x-amz-cbor-1.1`, what the AWS Java SDKs and the Kinesis Client Library send by
//! default): blobs are byte strings, timestamps tag 1 over epoch *milliseconds* (the SDKs'
//! `UNIX_TIMESTAMP_MILLIS`, not RFC 8949's seconds). An answer goes back in the format the request
//! came in.
//!
//! A request is read into the JSON 1.1 shape whatever its format (a CBOR byte string becomes
//! base64 text, a timestamp epoch seconds), so the model's checks and the operations read one
//! shape. An answer is a `Serialize` value whose [`Blob`]s and [`Timestamp`]s write themselves
//! in the format's own way: serde tells the formats apart by `is_human_readable` (true for
//! serde_json, false for ciborium).

use base64::Engine as _;
use serde::{Serialize, Serializer};
use serde_json::{Map, Number, Value};

use super::AwsError;

pub const JSON: &str = "application/x-amz-json-1.1";
pub const CBOR: &str = "application/x-amz-cbor-1.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Json,
    Cbor,
}

/// CBOR timestamps at or past this are milliseconds. The SDKs send milliseconds under tag 1;
/// a client that follows RFC 8949 sends seconds, and no second count of the next thousands of
/// years comes near it (10^11 seconds is the year 5138; 10^11 milliseconds is 1973).
const MILLIS_FROM: f64 = 1e11;

impl Wire {
    /// The format a request's `Content-Type` names (JSON unless it names CBOR).
    pub fn of(content_type: Option<&str>) -> Wire {
        match content_type {
            Some(value) if value.trim_start().starts_with("application/x-amz-cbor") => Wire::Cbor,
            _ => Wire::Json,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Wire::Json => JSON,
            Wire::Cbor => CBOR,
        }
    }

    /// The request body in the JSON 1.1 shape (an empty body counts as `{}`).
    pub fn decode(self, body: &[u8]) -> Result<Value, AwsError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Map::new()));
        }
        let value = match self {
            Wire::Json => serde_json::from_slice::<Value>(body)
                .map_err(|e| serialization(format!("the request body is not JSON: {e}")))?,
            Wire::Cbor => {
                let value = ciborium::from_reader::<ciborium::Value, _>(body)
                    .map_err(|e| serialization(format!("the request body is not CBOR: {e}")))?;
                from_cbor(value)?
            }
        };
        if value.is_object() {
            Ok(value)
        } else {
            // AWS's words for a body that is not a structure.
            Err(serialization(
                "Start of structure or map found where not expected.",
            ))
        }
    }

    /// An answer's body.
    pub fn encode<T: Serialize + ?Sized>(self, answer: &T) -> Result<Vec<u8>, AwsError> {
        let encoded = match self {
            Wire::Json => serde_json::to_vec(answer).map_err(|e| e.to_string()),
            Wire::Cbor => {
                let mut body = Vec::new();
                ciborium::into_writer(answer, &mut body)
                    .map(|()| body)
                    .map_err(|e| e.to_string())
            }
        };
        encoded.map_err(|e| AwsError {
            code: "InternalFailure",
            message: format!("cannot encode the answer: {e}"),
        })
    }

    /// An error's body: `{"__type": CODE, "message": MESSAGE}`, in either format.
    pub fn error(self, error: &AwsError) -> Vec<u8> {
        #[derive(Serialize)]
        struct Body<'a> {
            __type: &'a str,
            message: &'a str,
        }
        let body = Body {
            __type: error.code,
            message: &error.message,
        };
        self.encode(&body).unwrap_or_default()
    }
}

fn serialization(message: impl Into<String>) -> AwsError {
    AwsError {
        code: "SerializationException",
        message: message.into(),
    }
}

/// A CBOR value in the JSON 1.1 shape.
fn from_cbor(value: ciborium::Value) -> Result<Value, AwsError> {
    use ciborium::Value as Cbor;
    Ok(match value {
        Cbor::Null => Value::Null,
        Cbor::Bool(b) => Value::Bool(b),
        Cbor::Text(text) => Value::String(text),
        Cbor::Bytes(bytes) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        Cbor::Integer(n) => integer(i128::from(n)),
        Cbor::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        Cbor::Tag(1, time) => match *time {
            Cbor::Integer(n) => seconds(i128::from(n) as f64),
            Cbor::Float(f) => seconds(f),
            _ => return Err(serialization("a timestamp (tag 1) must be a number")),
        },
        // Other tags (bignums and the like) are read as what they wrap.
        Cbor::Tag(_, inner) => from_cbor(*inner)?,
        Cbor::Array(items) => {
            Value::Array(items.into_iter().map(from_cbor).collect::<Result<_, _>>()?)
        }
        Cbor::Map(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (key, value) in entries {
                let Cbor::Text(key) = key else {
                    return Err(serialization("a map key must be a text string"));
                };
                map.insert(key, from_cbor(value)?);
            }
            Value::Object(map)
        }
        _ => return Err(serialization("unsupported CBOR value")),
    })
}

fn integer(n: i128) -> Value {
    if let Ok(n) = i64::try_from(n) {
        Value::from(n)
    } else if let Ok(n) = u64::try_from(n) {
        Value::from(n)
    } else {
        Number::from_f64(n as f64).map_or(Value::Null, Value::Number)
    }
}

/// A CBOR timestamp (milliseconds as the SDKs send it, or seconds) as JSON's epoch seconds.
fn seconds(time: f64) -> Value {
    let seconds = if time.abs() >= MILLIS_FROM {
        time / 1000.0
    } else {
        time
    };
    Number::from_f64(seconds).map_or(Value::Null, Value::Number)
}

/// A blob of an answer: base64 text in JSON, a byte string in CBOR.
pub struct Blob<'a>(pub &'a [u8]);

impl Serialize for Blob<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(&base64::display::Base64Display::new(
                self.0,
                &base64::engine::general_purpose::STANDARD,
            ))
        } else {
            serializer.serialize_bytes(self.0)
        }
    }
}

/// A point in time of an answer, in milliseconds since the epoch: epoch seconds (with the
/// milliseconds as a fraction) in JSON, tag 1 over epoch milliseconds in CBOR, as the SDKs read
/// them.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub i64);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_f64(self.0 as f64 / 1000.0)
        } else {
            ciborium::tag::Required::<i64, 1>(self.0).serialize(serializer)
        }
    }
}

/// The refusals of the layers before the Kinesis dispatch (authentication, signatures) are
/// written in AWS's JSON shape; a client that sent CBOR reads its errors in CBOR, so this layer
/// writes those again in CBOR. Other answers pass through untouched.
pub async fn cbor_refusals(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
    let content_type = |headers: &axum::http::HeaderMap| {
        headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let cbor = Wire::of(content_type(request.headers()).as_deref()) == Wire::Cbor;
    let response = next.run(request).await;
    let refused_in_json = content_type(response.headers())
        .is_some_and(|value| value.starts_with("application/x-amz-json-1.0"));
    if !cbor || !refused_in_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // A refusal is a short message; anything longer is not one of them.
    let error = match axum::body::to_bytes(body, 64 << 10).await {
        Ok(bytes) => {
            let value: Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default();
            (text("__type").to_string(), text("message").to_string())
        }
        Err(_) => ("InternalFailure".to_string(), String::new()),
    };
    #[derive(Serialize)]
    struct Body<'a> {
        __type: &'a str,
        message: &'a str,
    }
    let body = Wire::Cbor
        .encode(&Body {
            __type: &error.0,
            message: &error.1,
        })
        .unwrap_or_default();
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, axum::http::HeaderValue::from_static(CBOR));
    axum::response::Response::from_parts(parts, axum::body::Body::from(body))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer<'a> {
        data: Blob<'a>,
        approximate_arrival_timestamp: Timestamp,
    }

    #[test]
    fn blobs_and_timestamps_take_each_formats_shape() {
        let answer = Answer {
            data: Blob(b"hi"),
            approximate_arrival_timestamp: Timestamp(1_700_000_000_123),
        };
        let json: Value = serde_json::from_slice(&Wire::Json.encode(&answer).unwrap()).unwrap();
        assert_eq!(
            json,
            json!({"Data": "aGk=", "ApproximateArrivalTimestamp": 1_700_000_000.123})
        );
        let cbor = Wire::Cbor.encode(&answer).unwrap();
        let value: ciborium::Value = ciborium::from_reader(&cbor[..]).unwrap();
        let entries = value.as_map().unwrap();
        assert_eq!(entries[0].1, ciborium::Value::Bytes(b"hi".to_vec()));
        assert_eq!(
            entries[1].1,
            ciborium::Value::Tag(1, Box::new(ciborium::Value::from(1_700_000_000_123i64)))
        );
        // And back: what the SDKs send reads as the JSON shape.
        assert_eq!(
            Wire::Cbor.decode(&cbor).unwrap(),
            json!({"Data": "aGk=", "ApproximateArrivalTimestamp": 1_700_000_000.123})
        );
    }

    #[test]
    fn a_cbor_timestamp_in_seconds_is_read_as_seconds() {
        let mut body = Vec::new();
        let request = ciborium::Value::Map(vec![(
            ciborium::Value::Text("Timestamp".into()),
            ciborium::Value::Tag(1, Box::new(ciborium::Value::from(1_700_000_000i64))),
        )]);
        ciborium::into_writer(&request, &mut body).unwrap();
        assert_eq!(
            Wire::Cbor.decode(&body).unwrap(),
            json!({"Timestamp": 1_700_000_000.0})
        );
    }

    /// Jackson's CBOR generator, which the Java SDKs use, writes maps, arrays and strings of
    /// indefinite length.
    #[test]
    fn indefinite_lengths_as_the_java_sdks_write_them_are_read() {
        // {_ "StreamName": "s", "Records": [_ {_ "Data": (_ h'01', h'02')}]}
        let body = b"\xbf\x6aStreamName\x61s\x67Records\x9f\xbf\x64Data\x5f\x41\x01\x41\x02\xff\xff\xff\xff";
        assert_eq!(
            Wire::Cbor.decode(body).unwrap(),
            json!({"StreamName": "s", "Records": [{"Data": "AQI="}]})
        );
    }

    #[test]
    fn bodies_that_are_not_structures_are_serialization_errors() {
        for (wire, body) in [
            (Wire::Json, &b"[1]"[..]),
            (Wire::Json, b"{"),
            (Wire::Cbor, b"\x01"),
            (Wire::Cbor, b"\xff\xff"),
        ] {
            let error = wire.decode(body).unwrap_err();
            assert_eq!(error.code, "SerializationException", "{body:?}");
        }
        assert_eq!(Wire::Json.decode(b"").unwrap(), json!({}));
        assert_eq!(
            Wire::of(Some("application/x-amz-cbor-1.1; charset=utf-8")),
            Wire::Cbor
        );
    }
}
