//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`, `Credentials`, and
//! `Assign` in JSONPath states) and JSONata-bearing values (`Arguments`, `Output`, `Assign`,
//! `Items`, … in JSONata states), compiled once when the definition is read and evaluated each
//! time the state runs.
//!
//! JSONPath templates: a field whose name ends in `.$` is renamed without the suffix and its
//! string value is evaluated as a path or an intrinsic function; the spec forbids two fields that
//! collide after renaming. JSONata values: every string of the form `{% … %}` (at any depth, not
//! in keys) is an expression; other strings are literals.

use serde_json::{Map, Value};

use super::env::Env;
use super::errors::StatesError;
use super::intrinsic::{Intrinsic, lookup_error};
use super::jsonata::{Jsonata, Surround, surround};
use super::path::{Lookup, Path};
use super::read::Ctx;
use super::tree::{Node, Value as Tree, child, index};

/// A compiled template.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// Nothing to evaluate.
    Constant(Value),
    /// An object with something to evaluate inside (keys already stripped of `.$`).
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    Path(Path),
    Intrinsic(Intrinsic),
    Jsonata(Jsonata),
}

impl Template {
    /// The template's value in `env`.
    pub fn evaluate(&self, env: &Env<'_>) -> Result<Value, StatesError> {
        self.evaluate_field(env, "")
    }

    /// The template's value in `env`, naming `field` (the state's field it was written in:
    /// `Output`, `Arguments`, `ErrorPath`, …) in errors, as Step Functions does. Inside an
    /// object or array the name grows as AWS writes it: `Output/a/b[0]`.
    pub fn evaluate_field(&self, env: &Env<'_>, field: &str) -> Result<Value, StatesError> {
        Ok(match self {
            Template::Constant(v) => v.clone(),
            Template::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, t)| t.evaluate_field(env, &format!("{field}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            Template::Object(fields) => {
                let mut map = Map::new();
                for (key, t) in fields {
                    let value = match t {
                        Template::Path(path) => match path.evaluate(env) {
                            Ok(value) => value,
                            // As on AWS: `"x.$": "$.items[5]"` on two items is null, the
                            // one leniency of a `.$` path that finds nothing (floci-io/floci#3199
                            // keeps it as AWS's; any other miss fails the state).
                            Err(Lookup::NotFound) if path.ends_past_an_array(env) => Value::Null,
                            Err(e) => {
                                return Err(field_error(&format!("{key}.$"), path, env, e));
                            }
                        },
                        t if field.is_empty() => t.evaluate_field(env, key)?,
                        t => t.evaluate_field(env, &format!("{field}/{key}"))?,
                    };
                    map.insert(key.clone(), value);
                }
                Value::Object(map)
            }
            Template::Path(path) if field.is_empty() => path
                .evaluate(env)
                .map_err(|e| lookup_error(path.text(), env, e))?,
            Template::Path(path) => path
                .evaluate(env)
                .map_err(|e| field_error(field, path, env, e))?,
            Template::Intrinsic(call) => call.evaluate(env)?,
            Template::Jsonata(expr) => expr.evaluate_field(env, field)?,
        })
    }

    /// Whether evaluating could do anything but return a constant.
    pub fn is_constant(&self) -> bool {
        matches!(self, Template::Constant(_))
    }
}

/// Step Functions' message for a path written in `field` (`x.$`, `ErrorPath`) that finds
/// nothing: `The JSONPath '$.x' specified for the field 'x.$' could not be found in the input
/// '{"y":1}'`.
fn field_error(field: &str, path: &Path, env: &Env<'_>, lookup: Lookup) -> StatesError {
    match lookup {
        Lookup::NotFound => StatesError::runtime(format!(
            "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{}'",
            env.shown_input()
        )),
        other => lookup_error(path.text(), env, other),
    }
}

/// Parses a string that must be a path or an intrinsic function call (a `.$` field's value,
/// `ErrorPath`, …), reporting a problem when it is neither.
pub(crate) fn path_or_intrinsic(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    what: &str,
) -> Option<Template> {
    let Some(text) = node.as_str() else {
        ctx.report(
            node.pos,
            path,
            format!("{what} must be a string holding a JSONPath or intrinsic function expression, not {}", node.describe()),
        );
        return None;
    };
    if Intrinsic::looks_like(text) {
        return match Intrinsic::parse(text) {
            Ok(call) => Some(Template::Intrinsic(call)),
            Err(e) => {
                ctx.report(
                    node.pos,
                    path,
                    format!(
                        "{what} \"{text}\" is not a JSONPath or intrinsic function expression: {e}"
                    ),
                );
                None
            }
        };
    }
    match Path::parse(text) {
        Ok(p) => Some(Template::Path(p)),
        Err(e) => {
            ctx.report(
                node.pos,
                path,
                format!(
                    "{what} \"{text}\" is not a JSONPath or intrinsic function expression: {e}"
                ),
            );
            None
        }
    }
}

/// Compiles a JSONPath payload template.
pub(crate) fn jsonpath(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<Template> {
    let before = ctx.problems.len();
    let template = jsonpath_node(ctx, node, path);
    (ctx.problems.len() == before).then_some(template)
}

fn jsonpath_node(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Template {
    match &node.value {
        Tree::Object(members) => {
            let mut fields = Vec::new();
            let mut dynamic = false;
            for m in members {
                let member_path = child(path, &m.key);
                let (key, template) = match m.key.strip_suffix(".$") {
                    Some(stripped) if !stripped.is_empty() => {
                        let what = format!("field \"{}\"", m.key);
                        let t = path_or_intrinsic(ctx, &m.value, &member_path, &what)
                            .unwrap_or(Template::Constant(Value::Null));
                        (stripped.to_string(), t)
                    }
                    _ => (m.key.clone(), jsonpath_node(ctx, &m.value, &member_path)),
                };
                if members.iter().any(|other| {
                    other.key != m.key && other.key.strip_suffix(".$").unwrap_or(&other.key) == key
                }) && m.key.ends_with(".$")
                {
                    ctx.report(
                        m.key_pos,
                        &member_path,
                        format!("field \"{}\" and field \"{key}\" would both be named \"{key}\" once \".$\" is removed", m.key),
                    );
                }
                dynamic |= !template.is_constant();
                fields.push((key, template));
            }
            if dynamic {
                Template::Object(fields)
            } else {
                Template::Constant(constant_object(fields))
            }
        }
        Tree::Array(items) => {
            let items: Vec<Template> = items
                .iter()
                .enumerate()
                .map(|(i, item)| jsonpath_node(ctx, item, &index(path, i)))
                .collect();
            array(items)
        }
        _ => Template::Constant(node.to_json()),
    }
}

/// Compiles a value whose `{% … %}` strings are JSONata expressions.
pub(crate) fn jsonata(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<Template> {
    let before = ctx.problems.len();
    let template = jsonata_node(ctx, node, path);
    (ctx.problems.len() == before).then_some(template)
}

fn jsonata_node(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Template {
    match &node.value {
        Tree::String(s) => match surround(s) {
            Surround::Plain => Template::Constant(Value::String(s.clone())),
            Surround::Malformed(why) => {
                ctx.report(node.pos, path, format!("invalid JSONata syntax: {why}"));
                Template::Constant(Value::Null)
            }
            Surround::Expr(expr) => match Jsonata::parse(expr) {
                Ok(j) => Template::Jsonata(j),
                Err(e) => {
                    ctx.report(node.pos, path, e);
                    Template::Constant(Value::Null)
                }
            },
        },
        Tree::Object(members) => {
            let fields: Vec<(String, Template)> = members
                .iter()
                .map(|m| {
                    (
                        m.key.clone(),
                        jsonata_node(ctx, &m.value, &child(path, &m.key)),
                    )
                })
                .collect();
            if fields.iter().all(|(_, t)| t.is_constant()) {
                Template::Constant(constant_object(fields))
            } else {
                Template::Object(fields)
            }
        }
        Tree::Array(items) => array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| jsonata_node(ctx, item, &index(path, i)))
                .collect(),
        ),
        _ => Template::Constant(node.to_json()),
    }
}

/// A JSONata-state field that takes either a literal or a `{% … %}` expression (`Seconds`,
/// `TimeoutSeconds`, `Items`, …): `Ok(None)` for a literal, left to the caller to type-check.
pub(crate) fn jsonata_expr(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
) -> Result<Option<Template>, ()> {
    let Some(s) = node.as_str() else {
        return Ok(None);
    };
    match surround(s) {
        Surround::Plain => Ok(None),
        _ => jsonata(ctx, node, path).map(Some).ok_or(()),
    }
}

fn constant_object(fields: Vec<(String, Template)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(k, t)| match t {
                Template::Constant(v) => (k, v),
                _ => (k, Value::Null),
            })
            .collect(),
    )
}

fn array(items: Vec<Template>) -> Template {
    if items.iter().all(Template::is_constant) {
        Template::Constant(Value::Array(
            items
                .into_iter()
                .map(|t| match t {
                    Template::Constant(v) => v,
                    _ => Value::Null,
                })
                .collect(),
        ))
    } else {
        Template::Array(items)
    }
}
