//! A request's fields for every AWS protocol weir speaks: typed access, the members' types
//! (a value of the wrong type is a `SerializationException`, as AWS's services refuse it), and
//! the constraints a service's API model puts on each member (the service model the SDKs are
//! generated from: lengths, ranges, required members, enumerations, patterns, nested lists and
//! structures). An operation checks its members before anything else, and every violation is
//! reported at once in AWS's words: `1 validation error detected: Value 'x' at 'name' failed to
//! satisfy constraint: Member must have length less than or equal to 80`, or `2 validation
//! errors detected: …; …`. Sensitive members are named without their value, as AWS does:
//! `Value at 'input' failed to satisfy …`. A protocol's own members (Step Functions' `Arn`,
//! Kinesis' `StreamName`) are constructors in its own `fields.rs` or `members.rs`.

use base64::Engine as _;
use serde_json::Value;

use super::AwsError;

/// A regular expression of the model and a test that stands for it.
pub type Pattern = (&'static str, fn(&str) -> bool);

/// What a member must be.
#[derive(Clone, Copy)]
enum Rule {
    /// A string of `min..=max` characters (Unicode scalar values, as the model's `length`
    /// counts them), or of bytes of UTF-8 when `bytes`, matching `pattern` when it has one.
    Text {
        min: usize,
        max: usize,
        bytes: bool,
        pattern: Option<Pattern>,
    },
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// A whole number in `min..=max`.
    Integer {
        min: i64,
        max: i64,
    },
    Boolean,
    /// A blob of `0..=max` bytes: base64 text in JSON (checked as AWS checks it), a byte string
    /// in CBOR (which the wire layer hands on as base64 text).
    Blob {
        max: usize,
    },
    /// A point in time: epoch seconds in JSON (the wire layer converts CBOR's).
    Timestamp,
    /// A list of `min..=max` structures, each with these members.
    Structures {
        min: usize,
        max: usize,
        members: &'static [Member],
    },
    /// A list of `min..=max` strings of `each.0..=each.1` characters.
    Strings {
        min: usize,
        max: usize,
        each: (usize, usize),
    },
    /// A map of `min..=max` entries, keys of `keys.0..=keys.1` characters and values of
    /// `values.0..=values.1`.
    TextMap {
        min: usize,
        max: usize,
        keys: (usize, usize),
        values: (usize, usize),
    },
    /// A structure with these members.
    Structure(&'static [Member]),
}

/// A member of an operation's request as the model declares it.
#[derive(Clone, Copy)]
pub struct Member {
    /// Its name on the wire (`StreamName`, `name`); messages name it with a lower-case first
    /// letter, as AWS's do (`streamName`).
    name: &'static str,
    rule: Rule,
    required: bool,
    /// Left out of messages (the model's `sensitive` trait).
    sensitive: bool,
}

impl Member {
    /// A string of `min..=max` characters.
    pub const fn text(name: &'static str, min: usize, max: usize) -> Member {
        Member {
            name,
            rule: Rule::Text {
                min,
                max,
                bytes: false,
                pattern: None,
            },
            required: false,
            sensitive: false,
        }
    }

    /// A string of at most `max` bytes of UTF-8 ("Length constraints apply to the payload size,
    /// and are expressed as bytes in UTF-8 encoding").
    pub const fn utf8_bytes(name: &'static str, max: usize) -> Member {
        Member {
            rule: Rule::Text {
                min: 0,
                max,
                bytes: true,
                pattern: None,
            },
            ..Member::text(name, 0, 0)
        }
    }

    /// A string of `min..=max` characters matching the model's `pattern` (`test` stands for it).
    pub const fn matching(
        name: &'static str,
        min: usize,
        max: usize,
        pattern: &'static str,
        test: fn(&str) -> bool,
    ) -> Member {
        Member {
            rule: Rule::Text {
                min,
                max,
                bytes: false,
                pattern: Some((pattern, test)),
            },
            ..Member::text(name, 0, 0)
        }
    }

    /// A string enumeration.
    pub const fn one_of(name: &'static str, values: &'static [&'static str]) -> Member {
        Member {
            rule: Rule::OneOf(values),
            ..Member::text(name, 0, 0)
        }
    }

    /// A whole number in `min..=max`.
    pub const fn integer(name: &'static str, min: i64, max: i64) -> Member {
        Member {
            rule: Rule::Integer { min, max },
            ..Member::text(name, 0, 0)
        }
    }

    pub const fn boolean(name: &'static str) -> Member {
        Member {
            rule: Rule::Boolean,
            ..Member::text(name, 0, 0)
        }
    }

    /// A blob of at most `max` bytes.
    pub const fn blob(name: &'static str, max: usize) -> Member {
        Member {
            rule: Rule::Blob { max },
            ..Member::text(name, 0, 0)
        }
    }

    pub const fn timestamp(name: &'static str) -> Member {
        Member {
            rule: Rule::Timestamp,
            ..Member::text(name, 0, 0)
        }
    }

    /// A list of `min..=max` structures with `members`.
    pub const fn structures(
        name: &'static str,
        min: usize,
        max: usize,
        members: &'static [Member],
    ) -> Member {
        Member {
            rule: Rule::Structures { min, max, members },
            ..Member::text(name, 0, 0)
        }
    }

    /// A list of `min..=max` strings, each of `each.0..=each.1` characters.
    pub const fn strings(
        name: &'static str,
        min: usize,
        max: usize,
        each: (usize, usize),
    ) -> Member {
        Member {
            rule: Rule::Strings { min, max, each },
            ..Member::text(name, 0, 0)
        }
    }

    /// A map of strings to strings.
    pub const fn text_map(
        name: &'static str,
        entries: (usize, usize),
        keys: (usize, usize),
        values: (usize, usize),
    ) -> Member {
        Member {
            rule: Rule::TextMap {
                min: entries.0,
                max: entries.1,
                keys,
                values,
            },
            ..Member::text(name, 0, 0)
        }
    }

    /// A structure with `members`.
    pub const fn structure(name: &'static str, members: &'static [Member]) -> Member {
        Member {
            rule: Rule::Structure(members),
            ..Member::text(name, 0, 0)
        }
    }

    /// Left out of messages.
    pub const fn secret(self) -> Member {
        Member {
            sensitive: true,
            ..self
        }
    }

    /// The request fails without it.
    pub const fn required(self) -> Member {
        Member {
            required: true,
            ..self
        }
    }

    /// The same member under another name (one shape, several members: `ShardToMerge` and
    /// `AdjacentShardToMerge` are both `ShardId`s).
    pub const fn named(self, name: &'static str) -> Member {
        Member { name, ..self }
    }
}

pub fn invalid(message: impl Into<String>) -> AwsError {
    AwsError {
        code: "ValidationException",
        message: message.into(),
    }
}

fn serialization(message: impl Into<String>) -> AwsError {
    AwsError {
        code: "SerializationException",
        message: message.into(),
    }
}

/// Typed access to the request's fields, with errors that name the field.
pub struct Request<'a>(pub &'a Value);

impl<'a> Request<'a> {
    /// Checks `members` against the model, all of them: every violation in one
    /// `ValidationException`, as AWS reports them.
    pub fn validate(&self, members: &[Member]) -> Result<(), AwsError> {
        let mut violations = Vec::new();
        for member in members {
            let path = lower_first(member.name);
            member.check(&path, self.0.get(member.name), &mut violations);
        }
        match violations.len() {
            0 => Ok(()),
            1 => Err(invalid(format!(
                "1 validation error detected: {}",
                violations[0]
            ))),
            n => Err(invalid(format!(
                "{n} validation errors detected: {}",
                violations.join("; ")
            ))),
        }
    }

    /// Checks the type of each of `members` (a `SerializationException`, in the words of AWS's
    /// deserializer, for the first of the wrong type), then [`Request::validate`]s them.
    pub fn validate_typed(&self, members: &[Member]) -> Result<(), AwsError> {
        for member in members {
            if let Some(value) = self.0.get(member.name)
                && let Some(problem) = member.type_problem(value)
            {
                return Err(serialization(problem));
            }
        }
        self.validate(members)
    }

    /// The member, when the request has it (and not as null).
    pub fn member(&self, field: &str) -> Option<&'a Value> {
        self.0.get(field).filter(|value| !value.is_null())
    }

    /// The request's `field` as a structure of its own.
    pub fn nested(&self, field: &str) -> Option<Request<'a>> {
        self.member(field)
            .filter(|value| value.is_object())
            .map(Request)
    }

    pub fn optional(&self, field: &str) -> Result<Option<&'a str>, AwsError> {
        match self.member(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(invalid(format!("{field} must be a string"))),
        }
    }

    pub fn required(&self, field: &str) -> Result<&'a str, AwsError> {
        self.optional(field)?.ok_or_else(|| {
            invalid(format!(
                "1 validation error detected: {}",
                null(&lower_first(field))
            ))
        })
    }

    /// A whole number (a fraction is cut, as AWS's deserializer does).
    pub fn integer(&self, field: &str) -> Result<Option<i64>, AwsError> {
        match self.member(field) {
            None => Ok(None),
            Some(value) => whole(value)
                .map(Some)
                .ok_or_else(|| invalid(format!("{field} must be a whole number"))),
        }
    }

    pub fn boolean(&self, field: &str) -> Result<Option<bool>, AwsError> {
        match self.member(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(invalid(format!("{field} must be true or false"))),
        }
    }

    /// A blob's bytes.
    pub fn blob(&self, field: &str) -> Result<Option<Vec<u8>>, AwsError> {
        match self.optional(field)? {
            None => Ok(None),
            Some(text) => base64::engine::general_purpose::STANDARD
                .decode(text)
                .map(Some)
                .map_err(|e| {
                    serialization(format!("'{text}' can not be converted to a Blob: {e}"))
                }),
        }
    }

    /// A timestamp, in milliseconds since the epoch.
    pub fn timestamp_ms(&self, field: &str) -> Result<Option<i64>, AwsError> {
        match self.member(field) {
            None => Ok(None),
            Some(value) => value
                .as_f64()
                .map(|seconds| Some((seconds * 1000.0).round() as i64))
                .ok_or_else(|| invalid(format!("{field} must be a timestamp"))),
        }
    }

    /// The arguments weir keeps and describes back without acting on them (logging, tracing,
    /// tags, …): those of `keys` the request has.
    pub fn kept(&self, keys: &[&str]) -> serde_json::Map<String, Value> {
        keys.iter()
            .filter_map(|k| self.0.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect()
    }
}

/// A list of `Tag` structures (`{"Key": …, "Value": …}`, as Firehose's and EventBridge's models
/// have them) as (key, value) pairs; a tag without a value has the empty one.
pub fn tag_pairs(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tag| {
            Some((
                tag.get("Key")?.as_str()?.to_string(),
                tag.get("Value")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            ))
        })
        .collect()
}

/// `StreamName` → `streamName`: how AWS's messages name a member.
fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn null(path: &str) -> String {
    format!("Value null at '{path}' failed to satisfy constraint: Member must not be null")
}

/// A JSON number as a whole number (a fraction cut).
fn whole(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.floor() as i64)
        }),
        _ => None,
    }
}

/// How AWS's (Java) deserializer names a JSON value of the wrong type: `class
/// java.lang.Boolean can not be converted to an String`, `Start of list found where not
/// expected`.
fn found(value: &Value, wanted: &str) -> String {
    match value {
        Value::Bool(_) => format!("class java.lang.Boolean can not be converted to {wanted}"),
        Value::Number(_) => format!("class java.math.BigDecimal can not be converted to {wanted}"),
        Value::String(_) => format!("class java.lang.String can not be converted to {wanted}"),
        Value::Array(_) => "Start of list found where not expected".into(),
        Value::Object(_) => "Start of structure or map found where not expected.".into(),
        Value::Null => String::new(),
    }
}

impl Member {
    /// Why `value` cannot be this member's type, in AWS's deserializer's words.
    fn type_problem(&self, value: &Value) -> Option<String> {
        match (self.rule, value) {
            (_, Value::Null) => None,
            (Rule::Text { .. } | Rule::OneOf(_), Value::String(_)) => None,
            (Rule::Text { .. } | Rule::OneOf(_), _) => Some(found(value, "an String")),
            (Rule::Integer { .. }, Value::Number(_)) => None,
            (Rule::Integer { .. }, _) => Some(found(value, "an Integer")),
            (Rule::Boolean, Value::Bool(_)) => None,
            (Rule::Boolean, Value::String(s))
                if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") =>
            {
                None
            }
            (Rule::Boolean, Value::String(s)) => Some(format!(
                "'{}' can not be converted to an Boolean",
                s.to_uppercase()
            )),
            (Rule::Boolean, _) => Some(found(value, "an Boolean")),
            (Rule::Timestamp, Value::Number(_)) => None,
            (Rule::Timestamp, _) => Some(found(value, "a Timestamp")),
            (Rule::Blob { .. }, Value::String(text)) => blob_problem(text),
            (Rule::Blob { .. }, _) => Some(found(value, "a Blob")),
            (Rule::Structures { members, .. }, Value::Array(items)) => {
                items.iter().find_map(|item| match item {
                    Value::Object(_) => members.iter().find_map(|member| {
                        item.get(member.name)
                            .and_then(|value| member.type_problem(value))
                    }),
                    Value::Null => None,
                    Value::Array(_) => Some("Start of list found where not expected".into()),
                    _ => Some("Expected null".into()),
                })
            }
            (Rule::Strings { .. }, Value::Array(items)) => items
                .iter()
                .find(|item| !matches!(item, Value::String(_) | Value::Null))
                .map(|item| found(item, "an String")),
            (Rule::Structures { .. } | Rule::Strings { .. }, Value::Object(_)) => {
                Some(found(value, ""))
            }
            (Rule::Structures { .. } | Rule::Strings { .. }, _) => {
                Some("Expected list or null".into())
            }
            (Rule::TextMap { .. }, Value::Object(entries)) => entries
                .values()
                .find(|item| !matches!(item, Value::String(_) | Value::Null))
                .map(|item| found(item, "an String")),
            (Rule::TextMap { .. }, Value::Array(_)) => Some(found(value, "")),
            (Rule::TextMap { .. }, _) => Some("Expected map or null".into()),
            (Rule::Structure(members), Value::Object(_)) => members.iter().find_map(|member| {
                value
                    .get(member.name)
                    .and_then(|value| member.type_problem(value))
            }),
            (Rule::Structure(_), Value::Array(_)) => Some(found(value, "")),
            (Rule::Structure(_), _) => Some("Expected null".into()),
        }
    }

    /// Adds the constraints `value`, at `path` in the request, breaks.
    fn check(&self, path: &str, value: Option<&Value>, violations: &mut Vec<String>) {
        let value = match value {
            None | Some(Value::Null) => {
                if self.required {
                    violations.push(null(path));
                }
                return;
            }
            Some(value) => value,
        };
        let violation = |shown: &str, constraint: String| {
            if self.sensitive {
                format!("Value at '{path}' failed to satisfy constraint: {constraint}")
            } else {
                format!("Value '{shown}' at '{path}' failed to satisfy constraint: {constraint}")
            }
        };
        match (self.rule, value) {
            (Rule::Text { .. } | Rule::OneOf(_), Value::String(text)) => {
                for constraint in self.rule.broken_by(text) {
                    violations.push(violation(text, constraint));
                }
            }
            (Rule::Integer { min, max }, value) => {
                let Some(n) = whole(value) else { return };
                if n < min {
                    violations.push(violation(
                        &n.to_string(),
                        format!("Member must have value greater than or equal to {min}"),
                    ));
                } else if n > max {
                    violations.push(violation(
                        &n.to_string(),
                        format!("Member must have value less than or equal to {max}"),
                    ));
                }
            }
            (Rule::Blob { max }, Value::String(text)) => {
                let length = decoded_length(text);
                if length > max {
                    // AWS shows a blob as the Java buffer that held it.
                    let shown = format!("java.nio.HeapByteBuffer[pos=0 lim={length} cap={length}]");
                    violations.push(violation(
                        &shown,
                        format!("Member must have length less than or equal to {max}"),
                    ));
                }
            }
            (Rule::Structures { min, max, members }, Value::Array(items)) => {
                // AWS shows a list of structures by its members' Java names, which mean
                // nothing here: the count is what the constraint is about.
                // Written out only when a violation shows it: PutRecords' 500 records pass here
                // on every call.
                if !(min..=max).contains(&items.len()) {
                    let shown = format!("[{}]", vec!["…"; items.len()].join(", "));
                    length_violations(items.len(), min, max, &shown, &violation, violations);
                }
                for (index, item) in items.iter().enumerate() {
                    for member in members {
                        let path =
                            format!("{path}.{}.member.{}", index + 1, lower_first(member.name));
                        member.check(&path, item.get(member.name), violations);
                    }
                }
            }
            (Rule::Strings { min, max, each }, Value::Array(items)) => {
                let texts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                let shown = format!("[{}]", texts.join(", "));
                length_violations(items.len(), min, max, &shown, &violation, violations);
                let outside = |t: &&str| !(each.0..=each.1).contains(&t.chars().count());
                if texts.iter().any(outside) {
                    violations.push(violation(
                        &shown,
                        format!(
                            "Member must satisfy constraint: [Member must have length less than or equal to {}, Member must have length greater than or equal to {}]",
                            each.1, each.0
                        ),
                    ));
                }
            }
            (
                Rule::TextMap {
                    min,
                    max,
                    keys,
                    values,
                },
                Value::Object(entries),
            ) => {
                let shown = format!(
                    "{{{}}}",
                    entries
                        .iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                length_violations(entries.len(), min, max, &shown, &violation, violations);
                let outside = |text: &str, (low, high): (usize, usize)| {
                    !(low..=high).contains(&text.chars().count())
                };
                if entries.keys().any(|k| outside(k, keys)) {
                    violations.push(violation(
                        &shown,
                        format!(
                            "Map keys must satisfy constraint: [Member must have length less than or equal to {}, Member must have length greater than or equal to {}]",
                            keys.1, keys.0
                        ),
                    ));
                }
                if entries
                    .values()
                    .any(|v| outside(v.as_str().unwrap_or_default(), values))
                {
                    violations.push(violation(
                        &shown,
                        format!(
                            "Map value must satisfy constraint: [Member must have length less than or equal to {}, Member must have length greater than or equal to {}]",
                            values.1, values.0
                        ),
                    ));
                }
            }
            (Rule::Structure(members), Value::Object(_)) => {
                for member in members {
                    let path = format!("{path}.{}", lower_first(member.name));
                    member.check(&path, value.get(member.name), violations);
                }
            }
            // A value of the wrong type is the deserializer's to refuse, not the model's.
            _ => {}
        }
    }
}

/// The violations of a list's or map's `min..=max` entries.
fn length_violations(
    length: usize,
    min: usize,
    max: usize,
    shown: &str,
    violation: &dyn Fn(&str, String) -> String,
    violations: &mut Vec<String>,
) {
    if length < min {
        violations.push(violation(
            shown,
            format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if length > max {
        violations.push(violation(
            shown,
            format!("Member must have length less than or equal to {max}"),
        ));
    }
}

/// The bytes base64 `text` decodes to (counted, not decoded).
fn decoded_length(text: &str) -> usize {
    let padding = text.bytes().rev().take_while(|b| *b == b'=').count().min(2);
    (text.len() / 4 * 3).saturating_sub(padding)
}

/// Why base64 `text` is not a blob, in AWS's words.
fn blob_problem(text: &str) -> Option<String> {
    if !text.len().is_multiple_of(4) {
        return Some(format!(
            "'{text}' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            text.len()
        ));
    }
    let body = text.trim_end_matches('=');
    let padding = text.len() - body.len();
    if let Some(bad) = body
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '+' || *c == '/'))
        .or((padding > 2).then_some('='))
    {
        return Some(format!(
            "'{text}' can not be converted to a Blob: Invalid Base64 character: '{bad}'"
        ));
    }
    // Every character is of the alphabet (so the text is ASCII): only the last group can still
    // be wrong (bits set past the data's end), so only it is decoded here, not the whole blob.
    let last_group = &text[text.len().saturating_sub(4)..];
    if base64::engine::general_purpose::STANDARD
        .decode(last_group)
        .is_err()
    {
        // The spelling is AWS's.
        return Some(format!(
            "'{text}' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"
        ));
    }
    None
}

impl Rule {
    /// The constraints `text` breaks, in AWS's words and order: the pattern, then the length.
    fn broken_by(&self, text: &str) -> Vec<String> {
        let mut broken = Vec::new();
        match *self {
            Rule::Text {
                max, bytes: true, ..
            } if text.len() > max => broken.push(format!(
                "Member must have size less than or equal to {max} bytes in UTF-8 encoding"
            )),
            Rule::Text {
                min,
                max,
                bytes: false,
                pattern,
            } => {
                if let Some((expression, matches)) = pattern
                    && !matches(text)
                {
                    broken.push(format!(
                        "Member must satisfy regular expression pattern: {expression}"
                    ));
                }
                let length = text.chars().count();
                if length < min {
                    broken.push(format!(
                        "Member must have length greater than or equal to {min}"
                    ));
                }
                if length > max {
                    broken.push(format!(
                        "Member must have length less than or equal to {max}"
                    ));
                }
            }
            Rule::OneOf(values) if !values.contains(&text) => broken.push(format!(
                "Member must satisfy enum value set: [{}]",
                values.join(", ")
            )),
            _ => {}
        }
        broken
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refusal(request: Value, members: &[Member]) -> String {
        match Request(&request).validate_typed(members) {
            Ok(()) => String::new(),
            Err(error) => format!("{}: {}", error.code, error.message),
        }
    }

    #[test]
    fn lengths_count_characters_and_utf8_bytes_count_bytes() {
        let text = Member::text("definition", 1, 10).required();
        assert_eq!(refusal(json!({"definition": "é".repeat(10)}), &[text]), "");
        assert_eq!(
            refusal(json!({"definition": "x".repeat(11)}), &[text.secret()]),
            "ValidationException: 1 validation error detected: Value at 'definition' failed to \
             satisfy constraint: Member must have length less than or equal to 10"
        );
        let data = Member::utf8_bytes("input", 4);
        assert_eq!(refusal(json!({"input": "éé"}), &[data]), "");
        assert_eq!(
            refusal(json!({"input": "ééé"}), &[data]),
            "ValidationException: 1 validation error detected: Value 'ééé' at 'input' failed to \
             satisfy constraint: Member must have size less than or equal to 4 bytes in UTF-8 encoding"
        );
    }

    #[test]
    fn a_value_breaking_pattern_and_length_is_reported_twice_and_paths_are_lower_case() {
        let name = Member::matching("StreamName", 1, 128, "[a-zA-Z0-9_.-]+", |s| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
                && !s.is_empty()
        })
        .required();
        assert_eq!(
            refusal(json!({"StreamName": ""}), &[name]),
            "ValidationException: 2 validation errors detected: Value '' at 'streamName' failed \
             to satisfy constraint: Member must satisfy regular expression pattern: \
             [a-zA-Z0-9_.-]+; Value '' at 'streamName' failed to satisfy constraint: Member must \
             have length greater than or equal to 1"
        );
        assert_eq!(
            refusal(json!({}), &[name]),
            "ValidationException: 1 validation error detected: Value null at 'streamName' failed \
             to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn nested_lists_and_structures_name_each_member_by_its_path() {
        const RECORD: &[Member] = &[
            Member::blob("Data", 4).required(),
            Member::text("PartitionKey", 1, 3).required(),
        ];
        let records = Member::structures("Records", 1, 2, RECORD).required();
        assert_eq!(
            refusal(
                json!({"Records": [{"Data": "AAAAAAAA", "PartitionKey": "k"}, {"Data": ""}]}),
                &[records]
            ),
            "ValidationException: 2 validation errors detected: Value \
             'java.nio.HeapByteBuffer[pos=0 lim=6 cap=6]' at 'records.1.member.data' failed to \
             satisfy constraint: Member must have length less than or equal to 4; Value null at \
             'records.2.member.partitionKey' failed to satisfy constraint: Member must not be null"
        );
        const MODE: &[Member] =
            &[Member::one_of("StreamMode", &["PROVISIONED", "ON_DEMAND"]).required()];
        assert_eq!(
            refusal(
                json!({"StreamModeDetails": {"StreamMode": "X"}}),
                &[Member::structure("StreamModeDetails", MODE)]
            ),
            "ValidationException: 1 validation error detected: Value 'X' at \
             'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy \
             enum value set: [PROVISIONED, ON_DEMAND]"
        );
    }

    #[test]
    fn values_of_the_wrong_type_are_serialization_errors_in_aws_words() {
        let name = Member::text("StreamName", 1, 128);
        let count = Member::integer("ShardCount", 1, i64::MAX);
        let data = Member::blob("Data", 100);
        let flag = Member::boolean("EnforceConsumerDeletion");
        let cases = [
            (
                json!({"StreamName": true}),
                "class java.lang.Boolean can not be converted to an String",
            ),
            (
                json!({"StreamName": 1}),
                "class java.math.BigDecimal can not be converted to an String",
            ),
            (
                json!({"StreamName": []}),
                "Start of list found where not expected",
            ),
            (
                json!({"ShardCount": "1"}),
                "class java.lang.String can not be converted to an Integer",
            ),
            (
                json!({"EnforceConsumerDeletion": "maybe"}),
                "'MAYBE' can not be converted to an Boolean",
            ),
            (
                json!({"Data": "abc"}),
                "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3",
            ),
            (
                json!({"Data": "ab*c"}),
                "'ab*c' can not be converted to a Blob: Invalid Base64 character: '*'",
            ),
        ];
        for (request, message) in cases {
            assert_eq!(
                refusal(request.clone(), &[name, count, data, flag]),
                format!("SerializationException: {message}"),
                "{request}"
            );
        }
        assert_eq!(
            refusal(
                json!({"EnforceConsumerDeletion": "true", "ShardCount": 2.7}),
                &[count, flag]
            ),
            ""
        );
    }
}
