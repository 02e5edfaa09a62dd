//! A YAML tree that keeps the position of every key and value, built from saphyr's event stream.
//!
//! saphyr's own loaders stop at the first duplicate key; this one records every duplicate as a
//! problem and carries on, so a file's problems are all reported at once. Mappings keep their
//! entries in file order. Anchors and aliases work (with a budget against alias bombs); tags are
//! honoured for the core schema (`!!str 123` is a string) and otherwise ignored.

use std::collections::HashMap;

use saphyr::{Scalar, ScalarStyle};
use saphyr_parser::{Event, Marker, Parser};
use serde_json::{Map, Number, Value as Json};

use crate::problem::Pos;

/// Collections nested deeper than this are refused (definitions are shallow; this keeps every
/// recursive walk over the tree far from the stack's limit).
pub(crate) const MAX_DEPTH: usize = 64;
/// Nodes that alias expansion may produce in one file.
const ALIAS_BUDGET: usize = 100_000;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub pos: Pos,
    pub value: Value,
    /// A scalar's text as written (after unescaping); empty for collections.
    pub text: String,
    /// How a scalar was written; `Style::Plain` for collections.
    pub style: Style,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    /// `'…'` or `"…"`: the text starts one column after the node's position.
    Quoted,
    /// `|` blocks: each line of the text is a line of the file, below the node's position.
    Literal,
    /// `>` blocks: lines are folded, so offsets cannot be mapped back.
    Folded,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

impl Node {
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// What the node is, for messages: "a string", "a list", ….
    pub fn describe(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "true/false",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The node as JSON, or the position and description of the first value JSON cannot hold.
    pub fn to_json(&self) -> Result<Json, (Pos, String)> {
        Ok(match &self.value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::Number((*i).into()),
            Value::Float(f) => match Number::from_f64(*f) {
                Some(n) => Json::Number(n),
                None => return Err((self.pos, format!("`{}` is not a finite number", self.text))),
            },
            Value::Str(s) => Json::String(s.clone()),
            Value::Seq(items) => {
                Json::Array(items.iter().map(Node::to_json).collect::<Result<_, _>>()?)
            }
            Value::Map(entries) => {
                let mut map = Map::new();
                for entry in entries {
                    map.insert(entry.key.clone(), entry.value.to_json()?);
                }
                Json::Object(map)
            }
        })
    }

    /// The position of the key or item at `path` below this node (as an action's `ConfigError`
    /// names it): a mapping key's own position, a list item's position; where the path leaves the
    /// tree, the deepest position found.
    pub fn pos_of_path(&self, path: &[String]) -> Pos {
        let mut node = self;
        let mut pos = self.pos;
        for (i, segment) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            match &node.value {
                Value::Map(entries) => match entries.iter().find(|e| &e.key == segment) {
                    Some(entry) => {
                        pos = if last { entry.key_pos } else { entry.value.pos };
                        node = &entry.value;
                    }
                    None => return pos,
                },
                Value::Seq(items) => match segment.parse::<usize>().ok().and_then(|i| items.get(i))
                {
                    Some(item) => {
                        pos = item.pos;
                        node = item;
                    }
                    None => return pos,
                },
                _ => return pos,
            }
        }
        pos
    }

    /// Where each line of this scalar's text starts in the file, when every line is written as it
    /// reads (plain or quoted on one line without escapes, or a `|` block); else empty.
    pub fn line_starts(&self, source: &str) -> Vec<Pos> {
        let indent = self.pos.column.saturating_sub(1) as usize;
        let skip = match self.style {
            Style::Plain | Style::Quoted if self.text.contains(['\n', '\r']) => return Vec::new(),
            Style::Plain | Style::Literal => indent,
            Style::Quoted => indent + 1,
            Style::Folded => return Vec::new(),
        };
        let first = (self.pos.line as usize).saturating_sub(1);
        let mut written_lines = source.lines().skip(first);
        let mut starts = Vec::new();
        for (i, text_line) in self.text.split('\n').enumerate() {
            let Some(written) = written_lines.next() else {
                // A block's last line break ends the text at the end of the file.
                if text_line.is_empty() {
                    break;
                }
                return Vec::new();
            };
            let mut written = written.chars().skip(skip);
            if !text_line.chars().all(|c| written.next() == Some(c)) {
                return Vec::new();
            }
            starts.push(Pos::new(
                u32::try_from(first + i + 1).unwrap_or(u32::MAX),
                u32::try_from(skip + 1).unwrap_or(u32::MAX),
            ));
        }
        starts
    }

    /// The position of byte `offset` inside this string node: exact when the string's line is
    /// written in the file as it reads (no escapes, no folding), else the string's start.
    pub fn pos_in_string(&self, source: &str, offset: usize) -> Pos {
        let Value::Str(s) = &self.value else {
            return self.pos;
        };
        let Some(before) = s.get(..offset) else {
            return self.pos;
        };
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_index = before.matches('\n').count();
        let indent = self.pos.column.saturating_sub(1) as usize;
        let skip = match self.style {
            Style::Plain | Style::Quoted if s.contains(['\n', '\r']) => return self.pos,
            Style::Plain => indent,
            Style::Quoted => indent + 1,
            Style::Literal => indent,
            Style::Folded => return self.pos,
        };
        let line_number = self.pos.line as usize + line_index;
        let Some(written) = source.lines().nth(line_number.saturating_sub(1)) else {
            return self.pos;
        };
        let text_line = s[line_start..].split('\n').next().unwrap_or_default();
        let mut written = written.chars().skip(skip);
        if !text_line.chars().all(|c| written.next() == Some(c)) {
            return self.pos;
        }
        let column = skip + 1 + before[line_start..].chars().count();
        Pos::new(
            u32::try_from(line_number).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }
}

/// A loaded file: its single document (None when empty or unreadable) and the problems found.
pub(crate) struct Loaded {
    pub root: Option<Node>,
    pub problems: Vec<(Pos, String)>,
}

/// Loads `source`. A syntax error ends loading (with that error among the problems, and no root);
/// duplicate keys, non-string keys, bad core-schema tags and extra documents are problems that do not.
pub(crate) fn load(source: &str) -> Loaded {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(source);
    while let Some(event) = parser.next_event() {
        match event {
            Ok((event, span)) => {
                if let Err(fatal) = builder.on_event(event, span.start) {
                    builder.problems.push(fatal);
                    return Loaded {
                        root: None,
                        problems: builder.problems,
                    };
                }
            }
            Err(e) => {
                builder
                    .problems
                    .push((pos(e.marker()), format!("invalid YAML: {}", e.info())));
                return Loaded {
                    root: None,
                    problems: builder.problems,
                };
            }
        }
    }
    Loaded {
        root: builder.root,
        problems: builder.problems,
    }
}

fn pos(marker: &Marker) -> Pos {
    let line = u32::try_from(marker.line()).unwrap_or(u32::MAX);
    let column = u32::try_from(marker.col().saturating_add(1)).unwrap_or(u32::MAX);
    Pos::new(line, column)
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<Node>,
        seen: HashMap<String, Pos>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    aliased: usize,
    documents: usize,
    root: Option<Node>,
    problems: Vec<(Pos, String)>,
}

impl Builder {
    fn on_event(&mut self, event: Event<'_>, mark: Marker) -> Result<(), (Pos, String)> {
        let at = pos(&mark);
        match event {
            Event::DocumentStart(_) => self.documents += 1,
            Event::Scalar(text, style, anchor, tag) => {
                let value =
                    match Scalar::parse_from_cow_and_metadata(text.clone(), style, tag.as_ref()) {
                        Some(Scalar::Null) => Value::Null,
                        Some(Scalar::Boolean(b)) => Value::Bool(b),
                        Some(Scalar::Integer(i)) => Value::Int(i),
                        Some(Scalar::FloatingPoint(f)) => Value::Float(f.0),
                        Some(Scalar::String(s)) => Value::Str(s.into_owned()),
                        None => {
                            let tag = match tag {
                                Some(t) if t.is_yaml_core_schema() => format!("!!{}", t.suffix),
                                Some(t) => t.to_string(),
                                None => String::new(),
                            };
                            self.problems
                                .push((at, format!("`{text}` is not a valid `{tag}` value")));
                            Value::Str(text.to_string())
                        }
                    };
                let style = match style {
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                    _ => Style::Plain,
                };
                self.insert(
                    Node {
                        pos: at,
                        value,
                        text: text.into_owned(),
                        style,
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => {
                self.check_depth(at)?;
                self.stack.push(Frame::Seq {
                    pos: at,
                    anchor,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, _) => {
                self.check_depth(at)?;
                self.stack.push(Frame::Map {
                    pos: at,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    seen: HashMap::new(),
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { pos, anchor, items }) => {
                        (collection(pos, Value::Seq(items)), anchor)
                    }
                    Some(Frame::Map {
                        pos,
                        anchor,
                        entries,
                        ..
                    }) => (collection(pos, Value::Map(entries)), anchor),
                    None => return Ok(()),
                };
                self.insert(node, anchor);
            }
            Event::Alias(id) => {
                let node = match self.anchors.get(&id) {
                    Some(node) => {
                        self.aliased += count(node);
                        if self.aliased > ALIAS_BUDGET {
                            return Err((
                                at,
                                format!("aliases expand to more than {ALIAS_BUDGET} values"),
                            ));
                        }
                        node.clone()
                    }
                    None => collection(at, Value::Null),
                };
                self.insert(node, 0);
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
        Ok(())
    }

    fn check_depth(&self, at: Pos) -> Result<(), (Pos, String)> {
        if self.stack.len() >= MAX_DEPTH {
            return Err((
                at,
                format!("values are nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    fn insert(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries, key, seen, ..
            }) => {
                let Some(key) = key.take() else {
                    *key = Some(node);
                    return;
                };
                if matches!(key.value, Value::Seq(_) | Value::Map(_)) {
                    self.problems.push((
                        key.pos,
                        format!("keys must be strings, not {}", key.describe()),
                    ));
                    return;
                }
                let name = match key.value {
                    Value::Str(s) => s,
                    _ => key.text,
                };
                if let Some(first) = seen.get(&name) {
                    let message =
                        format!("duplicate key `{name}` (first set on line {})", first.line);
                    self.problems.push((key.pos, message));
                    return;
                }
                seen.insert(name.clone(), key.pos);
                entries.push(Entry {
                    key: name,
                    key_pos: key.pos,
                    value: node,
                });
            }
            None if self.documents > 1 => {
                if !node.is_null() {
                    let message = "a pipeline file holds one YAML document: remove this one, or the `---` before it";
                    self.problems.push((node.pos, message.into()));
                }
            }
            None => self.root = Some(node),
        }
    }
}

fn collection(pos: Pos, value: Value) -> Node {
    Node {
        pos,
        value,
        text: String::new(),
        style: Style::Plain,
    }
}

fn count(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        Value::Map(entries) => 1 + entries.iter().map(|e| 1 + count(&e.value)).sum::<usize>(),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(source: &str) -> Node {
        let loaded = load(source);
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        loaded.root.unwrap()
    }

    #[test]
    fn keeps_positions_and_order() {
        let node = root("b: 1\na:\n  - x\n  - 'y'\n");
        let entries = node.as_map().unwrap();
        assert_eq!(entries[0].key, "b");
        assert_eq!(entries[0].key_pos, Pos::new(1, 1));
        assert_eq!(entries[0].value.pos, Pos::new(1, 4));
        assert_eq!(entries[1].key, "a");
        let Value::Seq(items) = &entries[1].value.value else {
            panic!()
        };
        assert_eq!(items[1].pos, Pos::new(4, 5));
        assert_eq!(items[1].style, Style::Quoted);
        assert_eq!(node.pos_of_path(&["a".into(), "1".into()]), Pos::new(4, 5));
        assert_eq!(node.pos_of_path(&["a".into()]), Pos::new(2, 1));
        assert_eq!(node.pos_of_path(&["a".into(), "9".into()]), Pos::new(3, 3));
    }

    #[test]
    fn resolves_scalars_with_the_core_schema() {
        let node = root("a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: !!str 2\ng: 2026-01-01\nh: yes\n");
        let json = node.to_json().unwrap();
        assert_eq!(
            json,
            serde_json::json!({"a": 1, "b": 1.5, "c": true, "d": null, "e": "1", "f": "2", "g": "2026-01-01", "h": "yes"})
        );
    }

    #[test]
    fn reports_every_duplicate_key_and_continues() {
        let loaded = load("a: 1\nb:\n  x: 1\n  x: 2\na: 3\n");
        assert_eq!(
            loaded.problems,
            vec![
                (
                    Pos::new(4, 3),
                    "duplicate key `x` (first set on line 3)".to_string()
                ),
                (
                    Pos::new(5, 1),
                    "duplicate key `a` (first set on line 1)".to_string()
                ),
            ]
        );
        assert!(loaded.root.is_some());
    }

    #[test]
    fn syntax_errors_have_positions() {
        let loaded = load("a: [1, 2\nb: 3\n");
        assert!(loaded.root.is_none());
        assert_eq!(loaded.problems.len(), 1);
        assert!(
            loaded.problems[0].1.starts_with("invalid YAML: "),
            "{:?}",
            loaded.problems
        );
    }

    #[test]
    fn aliases_expand_within_a_budget() {
        let node = root("base: &b {x: 1}\nuse: *b\n");
        assert_eq!(
            node.to_json().unwrap(),
            serde_json::json!({"base": {"x": 1}, "use": {"x": 1}})
        );
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g"])
        {
            bomb.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let loaded = load(&bomb);
        assert!(loaded.root.is_none());
        assert!(
            loaded.problems[0].1.contains("aliases expand"),
            "{:?}",
            loaded.problems
        );
    }

    #[test]
    fn refuses_deep_nesting_and_extra_documents() {
        let deep = "[".repeat(200);
        assert!(load(&deep).problems[0].1.contains("nested more than"));
        let loaded = load("a: 1\n---\nb: 2\n");
        assert_eq!(loaded.problems[0].0, Pos::new(3, 1));
    }

    #[test]
    fn maps_string_offsets_to_columns() {
        let source = "cmd: run {{ x }}\nq: \"a {{ y\"\nesc: \"\\t{{\"\n";
        let node = root(source);
        let entries = node.as_map().unwrap();
        assert_eq!(entries[0].value.pos_in_string(source, 4), Pos::new(1, 10));
        assert_eq!(entries[1].value.pos_in_string(source, 2), Pos::new(2, 7));
        // Escapes: the string does not read as written, so its start is the best position.
        assert_eq!(entries[2].value.pos_in_string(source, 1), Pos::new(3, 6));
        let source = "a: |\n  one\n\n  two {{ x\nb: >\n  one\n  {{ y\n";
        let node = root(source);
        let entries = node.as_map().unwrap();
        assert_eq!(entries[0].value.pos_in_string(source, 9), Pos::new(4, 7));
        assert_eq!(
            entries[1].value.pos_in_string(source, 4),
            entries[1].value.pos
        );
    }
}
