//! Writing through a reference path, as ResultPath does: `$.a.b` puts the result at `b` inside
//! `a`, creating `a` (an object) when the input has none. A path through a value that is not an
//! object (or an index beyond an array's end) cannot be written: Step Functions reports that as
//! `States.ReferencePathConflict`, with the cause `Unable to apply step "b" to input {…}`.

use serde_json::{Map, Value};

use super::{Path, Root, Selector, Step};

/// Why a value could not be written: a description for the error's cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteError(pub String);

impl Path {
    /// `target` with `value` written at this path. `$` replaces the whole target.
    pub fn write(&self, target: Value, value: Value) -> Result<Value, WriteError> {
        if self.root != Root::Input {
            return Err(WriteError(format!(
                "{} is not a reference path into the input",
                self.text
            )));
        }
        // Causes quote the whole input, as Step Functions does.
        let whole = target.to_string();
        let mut target = target;
        let mut slot = &mut target;
        for step in &self.steps {
            slot = match step {
                Step::Child(Selector::Name(name)) => match slot {
                    Value::Object(map) => map
                        .entry(name.clone())
                        .or_insert_with(|| Value::Object(Map::new())),
                    _ => return Err(WriteError(unable(name, &whole))),
                },
                Step::Child(Selector::Index(i)) => match slot {
                    Value::Array(items) => {
                        let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                        let at = if *i < 0 { len + *i } else { *i };
                        match usize::try_from(at).ok().and_then(|at| items.get_mut(at)) {
                            Some(item) => item,
                            None => {
                                return Err(WriteError(format!(
                                    "index {i} is outside the array (in {})",
                                    self.text
                                )));
                            }
                        }
                    }
                    other => {
                        return Err(WriteError(format!(
                            "cannot index {} (in {})",
                            kind(other),
                            self.text
                        )));
                    }
                },
                _ => {
                    return Err(WriteError(format!("{} is not a definite path", self.text)));
                }
            };
        }
        *slot = value;
        Ok(target)
    }
}

/// Step Functions' words for a member that cannot be set or read through.
pub(crate) fn unable(step: &str, input: &str) -> String {
    format!("Unable to apply step \"{step}\" to input {input}")
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(path: &str, target: Value, value: Value) -> Result<Value, WriteError> {
        Path::parse(path).unwrap().write(target, value)
    }

    #[test]
    fn writes_and_creates_objects_on_the_way() {
        assert_eq!(write("$", json!({"a": 1}), json!(2)).unwrap(), json!(2));
        assert_eq!(
            write("$.b", json!({"a": 1}), json!(2)).unwrap(),
            json!({"a": 1, "b": 2})
        );
        assert_eq!(
            write("$.x.y.z", json!({"a": 1}), json!(true)).unwrap(),
            json!({"a": 1, "x": {"y": {"z": true}}})
        );
        assert_eq!(
            write("$.a[1]", json!({"a": [1, 2]}), json!(9)).unwrap(),
            json!({"a": [1, 9]})
        );
        assert_eq!(
            write("$['a b']", json!({}), json!(1)).unwrap(),
            json!({"a b": 1})
        );
    }

    #[test]
    fn refuses_to_write_through_non_objects() {
        assert_eq!(
            write("$.a.b", json!({"a": "text"}), json!(1))
                .unwrap_err()
                .0,
            r#"Unable to apply step "b" to input {"a":"text"}"#
        );
        assert_eq!(
            write("$.x", json!([1]), json!(1)).unwrap_err().0,
            r#"Unable to apply step "x" to input [1]"#
        );
        assert!(write("$.a", json!("text"), json!(1)).is_err());
        assert!(write("$.a[5]", json!({"a": [1]}), json!(1)).is_err());
        assert!(write("$.a[*]", json!({"a": [1]}), json!(1)).is_err());
        assert!(write("$$.a", json!({}), json!(1)).is_err());
    }
}
