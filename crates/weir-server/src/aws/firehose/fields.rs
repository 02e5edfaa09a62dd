//! A request's members checked against Firehose's API model (`firehose-2015-08-04`: lengths,
//! patterns, ranges, required members), every violation reported at once in AWS's words:
//! `1 validation error detected: Value 'x' at 'deliveryStreamName' failed to satisfy
//! constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`. Kept small so
//! that it folds into the AWS protocols' shared field checks.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde_json::Value;

use super::{AwsError, invalid};
pub use crate::aws::fields::tag_pairs;

/// `DeliveryStreamName`: 1–64 of `[a-zA-Z0-9_.-]`.
pub const NAME: &str = "DeliveryStreamName";
/// `Data`: at most 1,000 KiB once decoded.
pub const MAX_RECORD_BYTES: usize = 1_024_000;

/// A regular expression of the model and a test that stands for it.
type Pattern = (&'static str, fn(&str) -> bool);

/// Collects violations, then refuses them all in one `ValidationException`.
#[derive(Default)]
pub struct Violations(Vec<String>);

impl Violations {
    fn push(&mut self, path: &str, shown: Option<&str>, constraint: String) {
        self.0.push(match shown {
            Some(value) => {
                format!("Value '{value}' at '{path}' failed to satisfy constraint: {constraint}")
            }
            None => format!("Value at '{path}' failed to satisfy constraint: {constraint}"),
        });
    }

    fn null(&mut self, path: &str) {
        self.0.push(format!(
            "Value null at '{path}' failed to satisfy constraint: Member must not be null"
        ));
    }

    pub fn finish(self) -> Result<(), AwsError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(invalid(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(invalid(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }

    /// The delivery's name, required.
    pub fn name(&mut self, body: &Value, member: &str) {
        self.text(
            body.get(member),
            &path_of(member),
            1,
            64,
            true,
            Some(name_pattern()),
        );
    }

    /// A string member of `min..=max` characters, matching `pattern` when given.
    pub fn text(
        &mut self,
        value: Option<&Value>,
        path: &str,
        min: usize,
        max: usize,
        required: bool,
        pattern: Option<Pattern>,
    ) {
        let Some(text) = value.and_then(Value::as_str) else {
            if required && value.is_none_or(Value::is_null) {
                self.null(path);
            }
            return;
        };
        let length = text.chars().count();
        if length > max {
            self.push(
                path,
                Some(text),
                format!("Member must have length less than or equal to {max}"),
            );
        } else if length < min {
            self.push(
                path,
                Some(text),
                format!("Member must have length greater than or equal to {min}"),
            );
        } else if let Some((expression, matches)) = pattern
            && !matches(text)
        {
            self.push(
                path,
                Some(text),
                format!("Member must satisfy regular expression pattern: {expression}"),
            );
        }
    }

    /// A string member that must be one of `values`.
    pub fn one_of(&mut self, value: Option<&Value>, path: &str, values: &[&str]) {
        if let Some(text) = value.and_then(Value::as_str)
            && !values.contains(&text)
        {
            self.push(
                path,
                Some(text),
                format!(
                    "Member must satisfy enum value set: [{}]",
                    values.join(", ")
                ),
            );
        }
    }

    /// A whole number member in `min..=max`.
    pub fn integer(&mut self, value: Option<&Value>, path: &str, min: i64, max: i64) {
        let Some(number) = value.and_then(Value::as_i64) else {
            return;
        };
        if number > max {
            self.push(
                path,
                Some(&number.to_string()),
                format!("Member must have value less than or equal to {max}"),
            );
        } else if number < min {
            self.push(
                path,
                Some(&number.to_string()),
                format!("Member must have value greater than or equal to {min}"),
            );
        }
    }

    /// A list member of `min..=max` items.
    pub fn list(
        &mut self,
        value: Option<&Value>,
        path: &str,
        min: usize,
        max: usize,
        required: bool,
    ) {
        match value {
            None | Some(Value::Null) if required => self.null(path),
            Some(Value::Array(items)) if items.len() > max => self.push(
                path,
                None,
                format!("Member must have length less than or equal to {max}"),
            ),
            Some(Value::Array(items)) if items.len() < min => self.push(
                path,
                None,
                format!("Member must have length greater than or equal to {min}"),
            ),
            _ => {}
        }
    }

    /// A `Tag` list: keys of 1–128 and values of 0–256 characters of the model's pattern.
    pub fn tags(
        &mut self,
        value: Option<&Value>,
        path: &str,
        min: usize,
        max: usize,
        required: bool,
    ) {
        self.list(value, path, min, max, required);
        for (i, tag) in value
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("{path}.{}.member", i + 1);
            self.text(
                tag.get("Key"),
                &format!("{at}.key"),
                1,
                128,
                true,
                Some(tag_key_pattern()),
            );
            self.text(
                tag.get("Value"),
                &format!("{at}.value"),
                0,
                256,
                false,
                Some(tag_value_pattern()),
            );
        }
    }
}

/// `DeliveryStreamName` → `deliveryStreamName`: the model's member as its messages name it.
pub fn path_of(member: &str) -> String {
    let mut chars = member.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

fn name_pattern() -> Pattern {
    ("[a-zA-Z0-9_.-]+", |s| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    })
}

/// Letters, separators, digits and `_.:/=+-@%`, not starting with `aws:`.
fn tag_key_pattern() -> Pattern {
    ("^(?!aws:)[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%]*$", |s| {
        !s.starts_with("aws:") && s.chars().all(tag_char)
    })
}

fn tag_value_pattern() -> Pattern {
    ("^[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%]*$", |s| {
        s.chars().all(tag_char)
    })
}

fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@%".contains(c)
}

/// A record's `Data`: base64 text (a `SerializationException` otherwise), at most
/// [`MAX_RECORD_BYTES`] once decoded (a validation error at `path`).
pub fn data(record: &Value, path: &str, violations: &mut Violations) -> Result<Bytes, AwsError> {
    let Some(value) = record.get("Data") else {
        violations.null(path);
        return Ok(Bytes::new());
    };
    let Some(text) = value.as_str() else {
        return Err(AwsError {
            code: "SerializationException",
            message: format!("Data must be a base64-encoded string at '{path}'"),
        });
    };
    let bytes = STANDARD.decode(text).map_err(|_| AwsError {
        code: "SerializationException",
        message: format!("Data at '{path}' is not valid base64"),
    })?;
    if bytes.len() > MAX_RECORD_BYTES {
        violations.push(
            path,
            None,
            format!("Member must have length less than or equal to {MAX_RECORD_BYTES}"),
        );
    }
    Ok(Bytes::from(bytes))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refusal(check: impl FnOnce(&mut Violations)) -> String {
        let mut violations = Violations::default();
        check(&mut violations);
        match violations.finish() {
            Ok(()) => String::new(),
            Err(e) => format!("{}: {}", e.code, e.message),
        }
    }

    #[test]
    fn messages_are_aws_s() {
        assert_eq!(
            refusal(|v| v.name(&json!({"DeliveryStreamName": "a b"}), NAME)),
            "ValidationException: 1 validation error detected: Value 'a b' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        );
        assert_eq!(
            refusal(|v| {
                v.name(&json!({}), NAME);
                v.list(Some(&json!([])), "records", 1, 500, true);
            }),
            "ValidationException: 2 validation errors detected: Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null; Value at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
        assert_eq!(
            refusal(|v| v.tags(Some(&json!([{"Key": "aws:x"}])), "tags", 1, 50, true)),
            "ValidationException: 1 validation error detected: Value 'aws:x' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!aws:)[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%]*$"
        );
        let mut v = Violations::default();
        let big = STANDARD.encode(vec![0u8; MAX_RECORD_BYTES + 1]);
        data(&json!({"Data": big}), "record.data", &mut v).unwrap();
        assert!(v.finish().unwrap_err().message.contains("at 'record.data'"));
        let mut v = Violations::default();
        assert_eq!(
            data(&json!({"Data": "!!"}), "record.data", &mut v)
                .unwrap_err()
                .code,
            "SerializationException"
        );
    }
}
