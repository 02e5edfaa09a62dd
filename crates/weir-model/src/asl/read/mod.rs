//! From a positioned document to a checked [`StateMachine`]: the field-by-field reading of every
//! state type (`state.rs`, `choice.rs`, `map.rs`, `retry.rs`), sharing the typed field readers
//! below. Reading goes on after a problem, so one pass reports as many as it can; the graph
//! checks (`super::validate`) run on whatever was read.

mod choice;
mod map;
mod retry;
mod state;
mod task;

pub(crate) use state::is_timestamp;

use indexmap::IndexMap;

use super::model::{Branch, QueryLanguage, State, StateMachine};
use super::tree::{Member, Node, Value, child};
use crate::problem::{Pos, Problem, did_you_mean};

/// State names are limited to this many characters (AWS's limit).
pub const MAX_NAME_CHARS: usize = 80;

/// Collects problems while reading one file.
pub(crate) struct Ctx<'f> {
    pub file: &'f str,
    pub problems: Vec<Problem>,
    /// States that could not be read (already reported): the graph checks take them as present.
    pub unread: Vec<String>,
    /// How many DISTRIBUTED Map processors enclose what is being read: each runs as a child
    /// execution of its own, where JSONPath states are allowed under a JSONata machine.
    pub distributed: usize,
}

impl Ctx<'_> {
    pub fn report(&mut self, pos: Pos, path: &str, message: impl Into<String>) {
        self.problems
            .push(Problem::at_path(self.file, pos, path, message));
    }
}

/// An object being read: its node, members and JSON path.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'n> {
    pub node: &'n Node,
    pub members: &'n [Member],
    pub path: &'n str,
}

impl<'n> Obj<'n> {
    /// `node` as an object, or a problem saying what it should have been.
    pub fn of(ctx: &mut Ctx<'_>, node: &'n Node, path: &'n str, what: &str) -> Option<Obj<'n>> {
        match node.as_object() {
            Some(members) => Some(Obj {
                node,
                members,
                path,
            }),
            None => {
                ctx.report(
                    node.pos,
                    path,
                    format!("{what} must be an object, not {}", node.describe()),
                );
                None
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&'n Member> {
        self.members.iter().find(|m| m.key == key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn path_of(&self, key: &str) -> String {
        child(self.path, key)
    }

    /// Reports every member not in `allowed`.
    pub fn only(&self, ctx: &mut Ctx<'_>, allowed: &[&str], what: &str) {
        for m in self.members {
            if !allowed.contains(&m.key.as_str()) {
                let hint = did_you_mean(&m.key, allowed.iter().copied());
                ctx.report(
                    m.key_pos,
                    &self.path_of(&m.key),
                    format!("field \"{}\" is not allowed in {what}{hint}", m.key),
                );
            }
        }
    }

    /// Reports a missing required field.
    pub fn require(&self, ctx: &mut Ctx<'_>, key: &str, what: &str) -> Option<&'n Member> {
        let found = self.get(key);
        if found.is_none() {
            ctx.report(
                self.node.pos,
                self.path,
                format!("{what} requires field \"{key}\""),
            );
        }
        found
    }

    /// Reports when more than one of `keys` is present (statelint's wording).
    pub fn at_most_one(&self, ctx: &mut Ctx<'_>, keys: &[&str]) {
        let present: Vec<&Member> = keys.iter().filter_map(|k| self.get(k)).collect();
        if present.len() > 1 {
            let names: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
            let m = present[1];
            ctx.report(
                m.key_pos,
                &self.path_of(&m.key),
                format!("may have only one of [{}]", names.join(", ")),
            );
        }
    }

    pub fn string(&self, ctx: &mut Ctx<'_>, key: &str) -> Option<&'n str> {
        let m = self.get(key)?;
        match m.value.as_str() {
            Some(s) => Some(s),
            None => {
                ctx.report(
                    m.value.pos,
                    &self.path_of(key),
                    format!("\"{key}\" must be a string, not {}", m.value.describe()),
                );
                None
            }
        }
    }

    pub fn boolean(&self, ctx: &mut Ctx<'_>, key: &str) -> Option<bool> {
        let m = self.get(key)?;
        match m.value.value {
            Value::Bool(b) => Some(b),
            _ => {
                ctx.report(
                    m.value.pos,
                    &self.path_of(key),
                    format!(
                        "\"{key}\" must be true or false, not {}",
                        m.value.describe()
                    ),
                );
                None
            }
        }
    }

    /// A number within `[min, max]`.
    pub fn number(&self, ctx: &mut Ctx<'_>, key: &str, min: f64, max: f64) -> Option<f64> {
        let m = self.get(key)?;
        let path = self.path_of(key);
        let Value::Number(n) = &m.value.value else {
            ctx.report(
                m.value.pos,
                &path,
                format!("\"{key}\" must be a number, not {}", m.value.describe()),
            );
            return None;
        };
        let x = n.as_f64().unwrap_or(f64::NAN);
        if !(min..=max).contains(&x) {
            ctx.report(
                m.value.pos,
                &path,
                format!("\"{key}\" is {n}; the allowed minimum is {min} and maximum {max}"),
            );
            return None;
        }
        Some(x)
    }

    /// A whole number within `[min, max]`.
    pub fn uint(&self, ctx: &mut Ctx<'_>, key: &str, min: u64, max: u64) -> Option<u64> {
        let m = self.get(key)?;
        let path = self.path_of(key);
        let n = match &m.value.value {
            Value::Number(n) => n,
            _ => {
                ctx.report(
                    m.value.pos,
                    &path,
                    format!(
                        "\"{key}\" must be a whole number, not {}",
                        m.value.describe()
                    ),
                );
                return None;
            }
        };
        let whole = n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        });
        match whole {
            Some(x) if (min..=max).contains(&x) => Some(x),
            Some(_) => {
                ctx.report(
                    m.value.pos,
                    &path,
                    format!("\"{key}\" is {n}; the allowed floor is {min} and ceiling {max}"),
                );
                None
            }
            None => {
                let message = if n.as_f64().is_some_and(|f| f < 0.0) {
                    format!("\"{key}\" is {n}; the allowed floor is {min}")
                } else {
                    format!("\"{key}\" must be a whole number, not {n}")
                };
                ctx.report(m.value.pos, &path, message);
                None
            }
        }
    }

    /// `QueryLanguage` of this object, if set (reported when not one of the two).
    pub fn query_language(&self, ctx: &mut Ctx<'_>) -> Option<QueryLanguage> {
        let s = self.string(ctx, "QueryLanguage")?;
        match s {
            "JSONPath" => Some(QueryLanguage::JsonPath),
            "JSONata" => Some(QueryLanguage::Jsonata),
            other => {
                let m = self.get("QueryLanguage")?;
                ctx.report(
                    m.value.pos,
                    &self.path_of("QueryLanguage"),
                    format!("QueryLanguage \"{other}\" is not one of the allowed values [\"JSONPath\", \"JSONata\"]"),
                );
                None
            }
        }
    }
}

/// Reads the top of a definition.
pub(crate) fn machine(ctx: &mut Ctx<'_>, root: &Node) -> Option<StateMachine> {
    let obj = Obj::of(ctx, root, "$", "a state machine definition")?;
    obj.only(
        ctx,
        &[
            "Comment",
            "StartAt",
            "States",
            "Version",
            "TimeoutSeconds",
            "QueryLanguage",
        ],
        "a state machine",
    );
    let language = obj.query_language(ctx).unwrap_or_default();
    let comment = obj.string(ctx, "Comment").map(str::to_string);
    let version = obj.string(ctx, "Version").map(str::to_string);
    let timeout_seconds = obj.uint(ctx, "TimeoutSeconds", 1, 99_999_999);
    let (start_at, states) = graph(ctx, obj, language, "a state machine")?;
    Some(StateMachine {
        comment,
        version,
        timeout_seconds,
        query_language: language,
        start_at,
        states,
    })
}

/// Reads `StartAt` and `States` of a machine, a branch or an item processor.
pub(crate) fn graph(
    ctx: &mut Ctx<'_>,
    obj: Obj<'_>,
    language: QueryLanguage,
    what: &str,
) -> Option<(String, IndexMap<String, State>)> {
    let start_at = obj.require(ctx, "StartAt", what);
    let start_at = start_at.and_then(|_| obj.string(ctx, "StartAt"));
    let states_member = obj.require(ctx, "States", what)?;
    let states_path = obj.path_of("States");
    let states_obj = Obj::of(ctx, &states_member.value, &states_path, "\"States\"")?;
    if states_obj.members.is_empty() {
        ctx.report(
            states_obj.node.pos,
            &states_path,
            "\"States\" must not be empty",
        );
    }
    let mut states = IndexMap::new();
    for m in states_obj.members {
        let path = states_obj.path_of(&m.key);
        if m.key.chars().count() > MAX_NAME_CHARS {
            ctx.report(
                m.key_pos,
                &path,
                format!("state names are limited to {MAX_NAME_CHARS} characters"),
            );
        }
        if m.key.is_empty() {
            ctx.report(m.key_pos, &path, "a state name cannot be empty");
        }
        match state::state(ctx, &m.key, &m.value, &path, language) {
            Some(state) => {
                states.insert(m.key.clone(), state);
            }
            None => ctx.unread.push(m.key.clone()),
        }
    }
    Some((start_at?.to_string(), states))
}

/// Reads a Parallel branch or an item processor.
pub(crate) fn branch(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    language: QueryLanguage,
    what: &str,
    extra: &[&str],
) -> Option<Branch> {
    let obj = Obj::of(ctx, node, path, what)?;
    let mut allowed = vec!["Comment", "StartAt", "States"];
    allowed.extend_from_slice(extra);
    obj.only(ctx, &allowed, what);
    let comment = obj.string(ctx, "Comment").map(str::to_string);
    let processor_config = obj.get("ProcessorConfig").map(|m| m.value.to_json());
    let distributed = processor_config
        .as_ref()
        .is_some_and(|c| c.get("Mode").and_then(|m| m.as_str()) == Some("DISTRIBUTED"));
    ctx.distributed += usize::from(distributed);
    let read = graph(ctx, obj, language, what);
    ctx.distributed -= usize::from(distributed);
    let (start_at, states) = read?;
    Some(Branch {
        comment,
        start_at,
        states,
        processor_config,
    })
}
