//! Typed readers shared by the recipe's parts: each reads one YAML value with its position, or
//! records a problem at the value's position and returns None.

use std::collections::HashMap;

use super::{At, SqlExpr};
use crate::pipeline::fields::{Ctx, unknown_key};
use crate::pipeline::yaml::{Entry, Node, Value};
use crate::problem::{Pos, did_you_mean};
use crate::sql_tables::TableName;

/// Longest stream name (Kinesis's limit).
const MAX_STREAM_NAME: usize = 128;

/// The entries of a mapping whose keys were checked.
pub(super) struct Fields<'n> {
    pub entries: &'n [Entry],
    pub pos: Pos,
}

impl<'n> Fields<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.value)
    }

    fn key_pos(&self, key: &str) -> Pos {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map_or(self.pos, |e| e.key_pos)
    }
}

/// A mapping with only `keys` (others reported with the nearest valid key); anything else is
/// reported as "PLACE must be a mapping such as EXAMPLE".
pub(super) fn fields<'n>(
    ctx: &mut Ctx<'_>,
    place: &str,
    node: &'n Node,
    keys: &[&str],
    example: &str,
) -> Option<Fields<'n>> {
    let Some(entries) = node.as_map() else {
        ctx.problem(
            node.pos,
            format!(
                "{place} must be a mapping such as `{example}`, not {}",
                node.describe()
            ),
        );
        return None;
    };
    for e in entries {
        if !keys.contains(&e.key.as_str()) {
            unknown_key(ctx, &e.key, e.key_pos, place, keys);
        }
    }
    Some(Fields {
        entries,
        pos: node.pos,
    })
}

/// A required member of `fields`: reported at the mapping when missing.
pub(super) fn need<'n>(
    ctx: &mut Ctx<'_>,
    fields: &Fields<'n>,
    place: &str,
    key: &str,
    what: &str,
) -> Option<&'n Node> {
    let node = fields.get(key);
    if node.is_none() {
        ctx.problem(fields.pos, format!("{place} needs `{key}`: {what}"));
    }
    node
}

/// Which of `keys` the mapping sets: exactly one.
pub(super) struct Chosen<'n> {
    pub key: &'static str,
    pub node: &'n Node,
}

pub(super) fn one_of_keys<'n>(
    ctx: &mut Ctx<'_>,
    what: &str,
    fields: &Fields<'n>,
    keys: &[&'static str],
) -> Option<Chosen<'n>> {
    let set: Vec<&'static str> = keys
        .iter()
        .copied()
        .filter(|k| fields.get(k).is_some())
        .collect();
    let listed = keys
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match set.as_slice() {
        [] => {
            ctx.problem(fields.pos, format!("`{what}` needs one of {listed}"));
            None
        }
        [key, rest @ ..] => {
            for other in rest {
                ctx.problem(
                    fields.key_pos(other),
                    format!("`{what}` takes one of {listed}: `{key}` is set already"),
                );
            }
            Some(Chosen {
                key,
                node: fields.get(key)?,
            })
        }
    }
}

/// A string naming one of `choices`; an unknown one is reported with the nearest name.
pub(super) fn pick<T: Copy>(
    ctx: &mut Ctx<'_>,
    key: &str,
    node: &Node,
    choices: &[(&str, T)],
) -> Option<T> {
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    let Some(text) = ctx.string(key, node) else {
        if node.is_null() {
            ctx.problem(
                node.pos,
                format!("`{key}` needs a value: one of {}", names.join(", ")),
            );
        }
        return None;
    };
    if let Some((_, value)) = choices.iter().find(|(name, _)| *name == text) {
        return Some(*value);
    }
    let hint = did_you_mean(&text, names.iter().copied());
    ctx.problem(
        node.pos,
        format!("unknown {key} `{text}`{hint} (one of {})", names.join(", ")),
    );
    None
}

/// A non-empty string.
pub(super) fn text(ctx: &mut Ctx<'_>, key: &str, node: &Node) -> Option<At<String>> {
    let Some(value) = ctx.string(key, node) else {
        if node.is_null() {
            ctx.problem(node.pos, format!("`{key}` needs a value"));
        }
        return None;
    };
    if value.trim().is_empty() {
        ctx.problem(node.pos, format!("`{key}` is empty"));
        return None;
    }
    Some(At {
        value,
        pos: node.pos,
    })
}

/// A column name: a non-empty string (a plain number such as `2024` is the text written).
pub(super) fn column(ctx: &mut Ctx<'_>, key: &str, node: &Node) -> Option<At<String>> {
    let value = match &node.value {
        Value::Str(s) => s.clone(),
        Value::Int(_) => node.text.clone(),
        _ => {
            ctx.problem(
                node.pos,
                format!("`{key}` must be a column name, not {}", node.describe()),
            );
            return None;
        }
    };
    if value.trim().is_empty() {
        ctx.problem(node.pos, format!("`{key}` has an empty column name"));
        return None;
    }
    Some(At {
        value,
        pos: node.pos,
    })
}

/// A list of column names (or one), each named once, at least `min` of them.
pub(super) fn columns(ctx: &mut Ctx<'_>, key: &str, node: &Node, min: usize) -> Vec<At<String>> {
    let before = ctx.problems.len();
    let mut out: Vec<At<String>> = Vec::new();
    for (value, pos) in ctx.strings(key, node) {
        if value.trim().is_empty() {
            ctx.problem(pos, format!("`{key}` has an empty column name"));
        } else if let Some(first) = out.iter().find(|c| c.value == value) {
            let line = first.pos.line;
            ctx.problem(
                pos,
                format!("`{key}` names `{value}` twice (first on line {line})"),
            );
        } else {
            out.push(At { value, pos });
        }
    }
    if out.len() < min && ctx.problems.len() == before {
        let needed = if min == 1 {
            "at least one column".to_string()
        } else {
            format!("at least {min} columns")
        };
        ctx.problem(node.pos, format!("`{key}` needs {needed}"));
    }
    out
}

/// Pairs of a mapping's keys and values, read by `value`; a non-mapping or an empty one is
/// reported as "`key` must map WHAT".
pub(super) fn pairs<'n, T>(
    ctx: &mut Ctx<'_>,
    key: &str,
    what: &str,
    node: &'n Node,
    mut value: impl FnMut(&mut Ctx<'_>, &'n Entry) -> Option<T>,
) -> Vec<(At<String>, T)> {
    let entries = match &node.value {
        Value::Map(entries) if !entries.is_empty() => entries,
        _ => {
            let found = match &node.value {
                Value::Map(_) => "an empty mapping",
                _ => node.describe(),
            };
            ctx.problem(node.pos, format!("`{key}` must map {what}, not {found}"));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for e in entries {
        let name = if e.key.trim().is_empty() {
            ctx.problem(e.key_pos, format!("`{key}` has an empty column name"));
            None
        } else {
            Some(At {
                value: e.key.clone(),
                pos: e.key_pos,
            })
        };
        if let (Some(name), Some(v)) = (name, value(ctx, e)) {
            out.push((name, v));
        }
    }
    out
}

/// `database.table`, each part a plain identifier, lower-cased as SQL reads unquoted names.
pub(super) fn table_name(ctx: &mut Ctx<'_>, key: &str, node: &Node) -> Option<At<TableName>> {
    let text = ctx.string(key, node);
    let Some(text) = text else {
        if node.is_null() {
            ctx.problem(
                node.pos,
                format!("`{key}` needs a table, such as `database.table`"),
            );
        }
        return None;
    };
    let identifier = |s: &str| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    match text.trim().split_once('.') {
        Some((database, name)) if identifier(database) && identifier(name) => Some(At {
            value: TableName::new(database.to_ascii_lowercase(), name.to_ascii_lowercase()),
            pos: node.pos,
        }),
        _ => {
            ctx.problem(
                node.pos,
                format!("`{key}` must be `database.table` (letters, digits and `_`), not `{text}`"),
            );
            None
        }
    }
}

/// A stream's name: 1 to 128 letters, digits, `.`, `-` or `_`.
pub(super) fn stream_name(ctx: &mut Ctx<'_>, key: &str, node: &Node) -> Option<At<String>> {
    let name = text(ctx, key, node)?;
    if !crate::events::rule_file::is_resource_name(&name.value, MAX_STREAM_NAME) {
        ctx.problem(
            node.pos,
            format!(
                "`{key}` must be a stream name: 1 to {MAX_STREAM_NAME} letters, digits, `.`, `-` or `_`"
            ),
        );
        return None;
    }
    Some(name)
}

/// SQL expression text, with where each of its lines is in the file.
pub(super) fn sql(ctx: &mut Ctx<'_>, key: &str, node: &Node) -> Option<SqlExpr> {
    match &node.value {
        Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => {}
        _ => {
            ctx.problem(
                node.pos,
                format!(
                    "`{key}` must be a SQL expression (a string), not {}",
                    node.describe()
                ),
            );
            return None;
        }
    }
    if node.text.trim().is_empty() {
        ctx.problem(node.pos, format!("`{key}` is an empty SQL expression"));
        return None;
    }
    Some(SqlExpr {
        text: node.text.clone(),
        pos: node.pos,
        line_starts: node.line_starts(ctx.source),
    })
}

/// Reports a name given twice among `names` (such as two columns renamed to one).
pub(super) fn check_unique(ctx: &mut Ctx<'_>, what: &str, names: &[&At<String>]) {
    let mut seen: HashMap<&str, Pos> = HashMap::new();
    for name in names {
        if let Some(first) = seen.get(name.value.as_str()) {
            ctx.problem(
                name.pos,
                format!(
                    "{what} `{}` twice (first on line {})",
                    name.value, first.line
                ),
            );
        } else {
            seen.insert(&name.value, name.pos);
        }
    }
}
