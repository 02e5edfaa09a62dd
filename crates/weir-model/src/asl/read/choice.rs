//! Choice states: rules with a comparison (`Variable` and one operator), `And`/`Or`/`Not`, or
//! (JSONata) a `Condition`; the top-level rules name their `Next` state, nested ones may not.

use serde_json::Value;

use super::state::{is_timestamp, template};
use super::{Ctx, Obj};
use crate::asl::model::{
    Choice, ChoiceRule, Comparison, Condition, Operand, QueryLanguage, Rel, Test,
};
use crate::asl::path::Path;
use crate::asl::payload;
use crate::asl::tree::{Node, Value as Tree, index};

/// Boolean rules nest at most this deep (definitions stay far below it).
const MAX_NESTING: usize = 32;

/// Every comparison operator: its name, what it tests, and whether it reads a path.
const OPERATORS: &[(&str, Test, bool)] = &[
    ("StringEquals", Test::String(Rel::Eq), false),
    ("StringEqualsPath", Test::String(Rel::Eq), true),
    ("StringLessThan", Test::String(Rel::Lt), false),
    ("StringLessThanPath", Test::String(Rel::Lt), true),
    ("StringGreaterThan", Test::String(Rel::Gt), false),
    ("StringGreaterThanPath", Test::String(Rel::Gt), true),
    ("StringLessThanEquals", Test::String(Rel::Le), false),
    ("StringLessThanEqualsPath", Test::String(Rel::Le), true),
    ("StringGreaterThanEquals", Test::String(Rel::Ge), false),
    ("StringGreaterThanEqualsPath", Test::String(Rel::Ge), true),
    ("StringMatches", Test::StringMatches, false),
    ("NumericEquals", Test::Numeric(Rel::Eq), false),
    ("NumericEqualsPath", Test::Numeric(Rel::Eq), true),
    ("NumericLessThan", Test::Numeric(Rel::Lt), false),
    ("NumericLessThanPath", Test::Numeric(Rel::Lt), true),
    ("NumericGreaterThan", Test::Numeric(Rel::Gt), false),
    ("NumericGreaterThanPath", Test::Numeric(Rel::Gt), true),
    ("NumericLessThanEquals", Test::Numeric(Rel::Le), false),
    ("NumericLessThanEqualsPath", Test::Numeric(Rel::Le), true),
    ("NumericGreaterThanEquals", Test::Numeric(Rel::Ge), false),
    ("NumericGreaterThanEqualsPath", Test::Numeric(Rel::Ge), true),
    ("BooleanEquals", Test::BooleanEquals, false),
    ("BooleanEqualsPath", Test::BooleanEquals, true),
    ("TimestampEquals", Test::Timestamp(Rel::Eq), false),
    ("TimestampEqualsPath", Test::Timestamp(Rel::Eq), true),
    ("TimestampLessThan", Test::Timestamp(Rel::Lt), false),
    ("TimestampLessThanPath", Test::Timestamp(Rel::Lt), true),
    ("TimestampGreaterThan", Test::Timestamp(Rel::Gt), false),
    ("TimestampGreaterThanPath", Test::Timestamp(Rel::Gt), true),
    ("TimestampLessThanEquals", Test::Timestamp(Rel::Le), false),
    (
        "TimestampLessThanEqualsPath",
        Test::Timestamp(Rel::Le),
        true,
    ),
    (
        "TimestampGreaterThanEquals",
        Test::Timestamp(Rel::Ge),
        false,
    ),
    (
        "TimestampGreaterThanEqualsPath",
        Test::Timestamp(Rel::Ge),
        true,
    ),
    ("IsNull", Test::IsNull, false),
    ("IsPresent", Test::IsPresent, false),
    ("IsNumeric", Test::IsNumeric, false),
    ("IsString", Test::IsString, false),
    ("IsBoolean", Test::IsBoolean, false),
    ("IsTimestamp", Test::IsTimestamp, false),
];

pub(super) fn choice(ctx: &mut Ctx<'_>, obj: &Obj<'_>, language: QueryLanguage) -> Option<Choice> {
    let m = obj.require(ctx, "Choices", "a Choice state")?;
    let path = obj.path_of("Choices");
    let Tree::Array(items) = &m.value.value else {
        ctx.report(
            m.value.pos,
            &path,
            format!("\"Choices\" must be an array, not {}", m.value.describe()),
        );
        return None;
    };
    if items.is_empty() {
        ctx.report(m.value.pos, &path, "\"Choices\" must not be empty");
    }
    let default = obj.string(ctx, "Default").map(str::to_string);
    let choices: Vec<ChoiceRule> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| top_rule(ctx, item, &index(&path, i), language))
        .collect();
    (choices.len() == items.len()).then_some(Choice { choices, default })
}

fn top_rule(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    language: QueryLanguage,
) -> Option<ChoiceRule> {
    let obj = Obj::of(ctx, node, path, "a choice rule")?;
    let next = obj
        .require(ctx, "Next", "a choice rule")
        .and_then(|_| obj.string(ctx, "Next"));
    let comment = obj.string(ctx, "Comment").map(str::to_string);
    let assign = template(ctx, &obj, "Assign", language);
    let condition = match language {
        QueryLanguage::Jsonata => {
            obj.only(
                ctx,
                &["Condition", "Next", "Comment", "Assign", "Output"],
                "a choice rule of a JSONata state",
            );
            let m = obj.require(ctx, "Condition", "a choice rule of a JSONata state")?;
            let cpath = obj.path_of("Condition");
            match &m.value.value {
                Tree::Bool(b) => Some(Condition::Jsonata(payload::Template::Constant(
                    Value::Bool(*b),
                ))),
                Tree::String(_) => match payload::jsonata_expr(ctx, &m.value, &cpath) {
                    Ok(Some(t)) => Some(Condition::Jsonata(t)),
                    Ok(None) => {
                        ctx.report(
                            m.value.pos,
                            &cpath,
                            "\"Condition\" must be a {% … %} expression or a boolean",
                        );
                        None
                    }
                    Err(()) => None,
                },
                _ => {
                    ctx.report(
                        m.value.pos,
                        &cpath,
                        format!(
                            "\"Condition\" must be a {{% … %}} expression or a boolean, not {}",
                            m.value.describe()
                        ),
                    );
                    None
                }
            }
        }
        QueryLanguage::JsonPath => rule(ctx, &obj, true, 0),
    };
    let output = template(ctx, &obj, "Output", language);
    Some(ChoiceRule {
        comment,
        condition: condition?,
        next: next?.to_string(),
        assign,
        output,
    })
}

/// A JSONPath rule's condition. `top` rules may also hold Next, Comment and Assign.
fn rule(ctx: &mut Ctx<'_>, obj: &Obj<'_>, top: bool, depth: usize) -> Option<Condition> {
    if depth > MAX_NESTING {
        ctx.report(obj.node.pos, obj.path, "choice rules are nested too deeply");
        return None;
    }
    let mut allowed: Vec<&str> = vec!["Variable", "And", "Or", "Not", "Comment"];
    allowed.extend(OPERATORS.iter().map(|(name, _, _)| *name));
    if top {
        allowed.extend(["Next", "Assign"]);
    }
    obj.only(
        ctx,
        &allowed,
        if top {
            "a choice rule"
        } else {
            "a nested choice rule"
        },
    );
    for key in ["And", "Or"] {
        if let Some(m) = obj.get(key) {
            let path = obj.path_of(key);
            let Tree::Array(items) = &m.value.value else {
                ctx.report(
                    m.value.pos,
                    &path,
                    format!(
                        "\"{key}\" must be an array of rules, not {}",
                        m.value.describe()
                    ),
                );
                return None;
            };
            if items.is_empty() {
                ctx.report(m.value.pos, &path, format!("\"{key}\" must not be empty"));
                return None;
            }
            let mut rules = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let item_path = index(&path, i);
                let inner = Obj::of(ctx, item, &item_path, "a nested choice rule")?;
                rules.push(rule(ctx, &inner, false, depth + 1)?);
            }
            return Some(if key == "And" {
                Condition::And(rules)
            } else {
                Condition::Or(rules)
            });
        }
    }
    if let Some(m) = obj.get("Not") {
        let path = obj.path_of("Not");
        let inner = Obj::of(ctx, &m.value, &path, "\"Not\"")?;
        return Some(Condition::Not(Box::new(rule(
            ctx,
            &inner,
            false,
            depth + 1,
        )?)));
    }
    comparison(ctx, obj).map(Condition::Compare)
}

fn comparison(ctx: &mut Ctx<'_>, obj: &Obj<'_>) -> Option<Comparison> {
    let ops: Vec<_> = OPERATORS
        .iter()
        .filter(|(name, _, _)| obj.has(name))
        .collect();
    let Some(&&(op_name, test, reads_path)) = ops.first() else {
        ctx.report(obj.node.pos, obj.path, "a choice rule needs a comparison operator (with \"Variable\"), or \"And\", \"Or\" or \"Not\"");
        return None;
    };
    if ops.len() > 1 {
        let m = obj.get(ops[1].0)?;
        ctx.report(
            m.key_pos,
            &obj.path_of(ops[1].0),
            "a choice rule may have only one comparison operator",
        );
        return None;
    }
    let vm = obj.require(ctx, "Variable", "a comparison")?;
    let vpath = obj.path_of("Variable");
    let variable = match vm.value.as_str().map(Path::parse) {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            ctx.report(
                vm.value.pos,
                &vpath,
                format!("\"Variable\" must be a path: {e}"),
            );
            return None;
        }
        None => {
            ctx.report(
                vm.value.pos,
                &vpath,
                format!("\"Variable\" must be a path, not {}", vm.value.describe()),
            );
            return None;
        }
    };
    let m = obj.get(op_name)?;
    let path = obj.path_of(op_name);
    let operand = if reads_path {
        match m.value.as_str().map(Path::parse) {
            Some(Ok(p)) => Operand::Path(p),
            _ => {
                ctx.report(m.value.pos, &path, format!("\"{op_name}\" must be a path"));
                return None;
            }
        }
    } else {
        let v = m.value.to_json();
        let ok = match test {
            Test::String(_) | Test::StringMatches => v.is_string(),
            Test::Numeric(_) => v.is_number(),
            Test::Timestamp(_) => v.as_str().is_some_and(is_timestamp),
            _ => v.is_boolean(),
        };
        if !ok {
            let wanted = match test {
                Test::String(_) | Test::StringMatches => "a string",
                Test::Numeric(_) => "a number",
                Test::Timestamp(_) => "an RFC 3339 timestamp",
                _ => "true or false",
            };
            ctx.report(
                m.value.pos,
                &path,
                format!("\"{op_name}\" must be {wanted}, not {v}"),
            );
            return None;
        }
        Operand::Literal(v)
    };
    Some(Comparison {
        variable,
        test,
        operand,
    })
}
