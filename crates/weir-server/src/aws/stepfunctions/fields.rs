//! A request's fields: typed access, and the constraints Step Functions' API model puts on each
//! member (the `states-2016-11-23` service model the SDKs are generated from: lengths, required
//! members, enumerations, patterns). An operation checks its members before anything else, and
//! every violation is reported at once in AWS's words: `1 validation error detected: Value 'x'
//! at 'name' failed to satisfy constraint: Member must have length less than or equal to 80`, or
//! `2 validation errors detected: …; …`. Sensitive members (inputs, outputs, definitions, errors,
//! causes) are named without their value, as AWS does: `Value at 'input' failed to satisfy …`.

use serde_json::Value;
use weir_engine::machines::MAX_DATA_BYTES;

use super::{AwsError, invalid};

/// A regular expression of the model and a test that stands for it.
type Pattern = (&'static str, fn(&str) -> bool);

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
    Integer { min: u64, max: u64 },
    /// A list of `{key, value}` tags, keys of 1–128 characters and values of 0–256.
    Tags,
}

/// A member of an operation's request as the model declares it.
#[derive(Clone, Copy)]
pub struct Member {
    name: &'static str,
    rule: Rule,
    required: bool,
    /// Left out of messages (the model's `sensitive` trait).
    sensitive: bool,
}

impl Member {
    const fn text(name: &'static str, min: usize, max: usize) -> Member {
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

    const fn secret(self) -> Member {
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

    /// `Arn`: 1–256 characters.
    pub const fn arn(name: &'static str) -> Member {
        Member::text(name, 1, 256)
    }

    /// `Name` (machines and executions): 1–80 characters. The characters it may not hold are
    /// the engine's to refuse, with `InvalidName`, once the machine is known to exist.
    pub const fn name(name: &'static str) -> Member {
        Member::text(name, 1, 80)
    }

    /// `SensitiveData` (an execution's input, a task's output): JSON text of at most
    /// [`MAX_DATA_BYTES`] bytes of UTF-8 ("Length constraints apply to the payload size, and are
    /// expressed as bytes in UTF-8 encoding").
    pub const fn data(name: &'static str) -> Member {
        Member {
            rule: Rule::Text {
                min: 0,
                max: MAX_DATA_BYTES,
                bytes: true,
                pattern: None,
            },
            ..Member::text(name, 0, 0)
        }
        .secret()
    }

    /// `Definition`: 1–1,048,576 characters.
    pub const fn definition() -> Member {
        Member::text("definition", 1, 1_048_576).secret()
    }

    /// `SensitiveError`: at most 256 characters.
    pub const fn error() -> Member {
        Member::text("error", 0, 256).secret()
    }

    /// `SensitiveCause`: at most 32,768 characters.
    pub const fn cause() -> Member {
        Member::text("cause", 0, 32_768).secret()
    }

    /// `TaskToken`: 1–2048 characters.
    pub const fn task_token() -> Member {
        Member::text("taskToken", 1, 2048)
    }

    /// `ClientToken`: 1–64 printable ASCII characters.
    pub const fn client_token() -> Member {
        Member {
            rule: Rule::Text {
                min: 1,
                max: 64,
                bytes: false,
                pattern: Some(("[!-~]+", |s| s.chars().all(|c| ('!'..='~').contains(&c)))),
            },
            ..Member::text("clientToken", 0, 0)
        }
    }

    /// A string enumeration (`StateMachineType`, `ExecutionStatus`, …).
    pub const fn one_of(name: &'static str, values: &'static [&'static str]) -> Member {
        Member {
            rule: Rule::OneOf(values),
            ..Member::text(name, 0, 0)
        }
    }

    /// `PageSize`: 0–1000.
    pub const fn page_size() -> Member {
        Member {
            rule: Rule::Integer { min: 0, max: 1000 },
            ..Member::text("maxResults", 0, 0)
        }
    }

    /// `VersionDescription`: at most 256 characters.
    pub const fn version_description() -> Member {
        Member::text("versionDescription", 0, 256).secret()
    }

    /// `PageToken` (`nextToken`): 1–1024 characters.
    pub const fn page_token() -> Member {
        Member::text("nextToken", 1, 1024)
    }

    /// `ListExecutionsPageToken` (ListExecutions' `nextToken`): 1–3096 characters.
    pub const fn executions_page_token() -> Member {
        Member::text("nextToken", 1, 3096)
    }

    /// `TagList`.
    pub const fn tags() -> Member {
        Member {
            rule: Rule::Tags,
            ..Member::text("tags", 0, 0)
        }
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
            member.check(member.name, self.0.get(member.name), &mut violations);
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

    pub fn optional(&self, field: &str) -> Result<Option<&'a str>, AwsError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(invalid(format!("{field} must be a string"))),
        }
    }

    /// The arguments weir keeps and describes back without acting on them (logging, tracing,
    /// tags, …): those of `keys` the request has.
    pub fn kept(&self, keys: &[&str]) -> serde_json::Map<String, Value> {
        keys.iter()
            .filter_map(|k| self.0.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect()
    }

    pub fn required(&self, field: &str) -> Result<&'a str, AwsError> {
        self.optional(field)?
            .ok_or_else(|| invalid(format!("1 validation error detected: {}", null(field))))
    }
}

fn null(path: &str) -> String {
    format!("Value null at '{path}' failed to satisfy constraint: Member must not be null")
}

impl Member {
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
                if let Some(constraint) = self.rule.broken_by(text) {
                    violations.push(violation(text, constraint));
                }
            }
            (Rule::Integer { min, max }, Value::Number(number)) => match number.as_u64() {
                Some(n) if n > max => violations.push(violation(
                    &n.to_string(),
                    format!("Member must have value less than or equal to {max}"),
                )),
                Some(n) if n >= min => {}
                _ => violations.push(violation(
                    &number.to_string(),
                    format!("Member must have value greater than or equal to {min}"),
                )),
            },
            (Rule::Tags, Value::Array(tags)) => {
                for (index, tag) in tags.iter().enumerate() {
                    for (field, min, max) in [("key", 1, 128), ("value", 0, 256)] {
                        let path = format!("{path}.{}.member.{field}", index + 1);
                        Member::text(field, min, max).check(&path, tag.get(field), violations);
                    }
                }
            }
            // A value of the wrong JSON type is the protocol's to refuse, not the model's.
            _ => {}
        }
    }
}

impl Rule {
    /// The constraint `text` breaks, in AWS's words.
    fn broken_by(&self, text: &str) -> Option<String> {
        match *self {
            Rule::Text {
                max, bytes: true, ..
            } => (text.len() > max).then(|| {
                format!("Member must have size less than or equal to {max} bytes in UTF-8 encoding")
            }),
            Rule::Text {
                min,
                max,
                bytes: false,
                pattern,
            } => {
                let length = text.chars().count();
                if length > max {
                    Some(format!(
                        "Member must have length less than or equal to {max}"
                    ))
                } else if length < min {
                    Some(format!(
                        "Member must have length greater than or equal to {min}"
                    ))
                } else {
                    pattern
                        .filter(|(_, matches)| !matches(text))
                        .map(|(expression, _)| {
                            format!("Member must satisfy regular expression pattern: {expression}")
                        })
                }
            }
            Rule::OneOf(values) if !values.contains(&text) => Some(format!(
                "Member must satisfy enum value set: [{}]",
                values.join(", ")
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refusal(request: Value, members: &[Member]) -> String {
        match Request(&request).validate(members) {
            Ok(()) => String::new(),
            Err(error) => format!("{}: {}", error.code, error.message),
        }
    }

    /// A definition over its limit cannot reach the API in one request (the request quota is
    /// smaller), but a caller of the model's checks gets AWS's text for it all the same.
    #[test]
    fn lengths_count_characters_and_data_counts_bytes() {
        let definition = Member::definition().required();
        assert_eq!(
            refusal(json!({"definition": "é".repeat(1_048_576)}), &[definition]),
            "",
            "characters, not bytes"
        );
        assert_eq!(
            refusal(json!({"definition": "x".repeat(1_048_577)}), &[definition]),
            "ValidationException: 1 validation error detected: Value at 'definition' failed to \
             satisfy constraint: Member must have length less than or equal to 1048576"
        );
        let name = Member::name("name");
        assert_eq!(refusal(json!({"name": "名".repeat(80)}), &[name]), "");
        assert_eq!(
            refusal(
                json!({"input": "é".repeat(131_072)}),
                &[Member::data("input")]
            ),
            "",
            "262,144 bytes exactly"
        );
        assert_eq!(
            refusal(
                json!({"maxResults": 0, "name": null}),
                &[Member::page_size(), name]
            ),
            "",
            "0 and null are allowed"
        );
    }
}
