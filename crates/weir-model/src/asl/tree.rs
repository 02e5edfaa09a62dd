//! A JSON document that keeps the position of every key and value, so that every problem the
//! definition checks find can point at `file:line:column` as well as at a JSON path.
//!
//! JSON text is read by [`super::json`]; YAML text by the pipeline loader's positioned YAML tree,
//! converted here. Both report duplicate keys, which a plain `serde_json::Value` would silently
//! collapse (the spec forbids them).

use serde_json::{Map, Number, Value as Json};

use crate::pipeline::yaml;
use crate::problem::Pos;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Node>),
    Object(Vec<Member>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.value {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// What the node is, for messages.
    pub fn describe(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// The node as a plain JSON value (duplicate keys were already dropped by the readers).
    pub fn to_json(&self) -> Json {
        match &self.value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Number(n.clone()),
            Value::String(s) => Json::String(s.clone()),
            Value::Array(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            Value::Object(members) => {
                let mut map = Map::new();
                for m in members {
                    map.insert(m.key.clone(), m.value.to_json());
                }
                Json::Object(map)
            }
        }
    }

    /// Converts the pipeline loader's YAML tree (same positions, same duplicate-key handling).
    /// YAML floats that JSON cannot hold (`.inf`, `.nan`) become problems.
    pub fn from_yaml(node: &yaml::Node, problems: &mut Vec<(Pos, String)>) -> Node {
        let value = match &node.value {
            yaml::Value::Null => Value::Null,
            yaml::Value::Bool(b) => Value::Bool(*b),
            yaml::Value::Int(i) => Value::Number((*i).into()),
            yaml::Value::Float(f) => match Number::from_f64(*f) {
                Some(n) => Value::Number(n),
                None => {
                    problems.push((node.pos, format!("`{}` is not a finite number", node.text)));
                    Value::Null
                }
            },
            yaml::Value::Str(s) => Value::String(s.clone()),
            yaml::Value::Seq(items) => Value::Array(
                items
                    .iter()
                    .map(|item| Node::from_yaml(item, problems))
                    .collect(),
            ),
            yaml::Value::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|e| Member {
                        key: e.key.clone(),
                        key_pos: e.key_pos,
                        value: Node::from_yaml(&e.value, problems),
                    })
                    .collect(),
            ),
        };
        Node {
            pos: node.pos,
            value,
        }
    }
}

/// Appends a member name to a JSON path the way validators print it: `$.States.A` for plain
/// names, `$.States['Hello World']` for the rest.
pub(crate) fn child(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        format!("{path}.{key}")
    } else {
        format!(
            "{path}['{}']",
            key.replace('\\', "\\\\").replace('\'', "\\'")
        )
    }
}

/// Appends an array index to a JSON path: `$.States.A.Retry[0]`.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_names_that_need_it() {
        assert_eq!(child("$", "States"), "$.States");
        assert_eq!(child("$.States", "Hello World"), "$.States['Hello World']");
        assert_eq!(child("$.States", "it's"), "$.States['it\\'s']");
        assert_eq!(index("$.Retry", 2), "$.Retry[2]");
    }

    #[test]
    fn yaml_converts_with_positions() {
        let loaded = yaml::load("a: [1, 2.5, x]\nb: .inf\n");
        let root = loaded.root.unwrap();
        let mut problems = Vec::new();
        let node = Node::from_yaml(&root, &mut problems);
        assert_eq!(problems.len(), 1);
        let members = node.as_object().unwrap();
        assert_eq!(members[0].key_pos, Pos::new(1, 1));
        assert_eq!(
            node.to_json(),
            serde_json::json!({"a": [1, 2.5, "x"], "b": null})
        );
    }
}
