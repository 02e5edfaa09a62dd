//! One step of a recipe from its key and value (`filter: "amount > 0"`), and a flow's `mapping`.

use super::read::{check_unique, column, columns, fields, need, pairs, pick, sql, table_name};
use super::{
    Aggregate, At, Check, Join, JoinKind, Mask, MaskMethod, OnFailure, Rule, STEP_KEYS, Step,
    StepKind, Validate,
};
use crate::pipeline::fields::Ctx;
use crate::pipeline::yaml::{Node, Value};
use crate::problem::{Pos, nearest};

/// Reads the step `key` (at `pos`) with its value; None (with the problems recorded) when it is
/// not a step or not a valid one.
pub(super) fn read_step(ctx: &mut Ctx<'_>, key: &str, pos: Pos, node: &Node) -> Option<Step> {
    let kind = match key {
        "select" => StepKind::Select(columns(ctx, key, node, 1)),
        "drop" => StepKind::Drop(columns(ctx, key, node, 1)),
        "drop_null_fields" => match node.value {
            Value::Null | Value::Bool(true) => StepKind::DropNullFields,
            Value::Bool(false) => {
                ctx.problem(
                    node.pos,
                    "`drop_null_fields: false` does nothing: leave the step out",
                );
                return None;
            }
            _ => {
                ctx.problem(
                    node.pos,
                    format!("`drop_null_fields` takes `true`, not {}", node.describe()),
                );
                return None;
            }
        },
        "filter" => StepKind::Filter(sql(ctx, key, node)?),
        "rename" => {
            let renames = pairs(ctx, key, "old column names to new ones", node, |ctx, e| {
                column(ctx, &format!("rename.{}", e.key), &e.value)
            });
            let targets: Vec<&At<String>> = renames.iter().map(|(_, new)| new).collect();
            check_unique(ctx, "`rename` makes", &targets);
            StepKind::Rename(renames)
        }
        "cast" => StepKind::Cast(pairs(
            ctx,
            key,
            "columns to SQL types such as DECIMAL(12,2)",
            node,
            |ctx, e| super::read::text(ctx, &format!("cast.{}", e.key), &e.value),
        )),
        "derive" => StepKind::Derive(pairs(
            ctx,
            key,
            "new column names to SQL expressions",
            node,
            |ctx, e| sql(ctx, &format!("derive.{}", e.key), &e.value),
        )),
        "mask" => StepKind::Mask(
            pairs(
                ctx,
                key,
                "columns to a method (full, partial, hash)",
                node,
                |ctx, e| mask_method(ctx, &e.key, &e.value),
            )
            .into_iter()
            .map(|(column, method)| Mask { column, method })
            .collect(),
        ),
        "truncate" => StepKind::Truncate(pairs(
            ctx,
            key,
            "columns to a length in characters",
            node,
            |ctx, e| {
                ctx.whole(&format!("truncate.{}", e.key), &e.value, 1)
                    .and_then(|n| usize::try_from(n).ok())
            },
        )),
        "split" => split(ctx, node)?,
        "combine" => combine(ctx, node)?,
        "validate" => StepKind::Validate(validate(ctx, node)?),
        "dedupe" => dedupe(ctx, node)?,
        "join" => StepKind::Join(join(ctx, node)?),
        "union" => {
            let table = match node.as_map() {
                Some(_) => {
                    let f = fields(
                        ctx,
                        "`union`",
                        node,
                        &["table"],
                        "{ table: raw.orders_backfill }",
                    )?;
                    let table = need(
                        ctx,
                        &f,
                        "`union`",
                        "table",
                        "the table whose rows to append",
                    )?;
                    table_name(ctx, "union.table", table)
                }
                None => table_name(ctx, "union", node),
            };
            StepKind::Union(table?)
        }
        "pivot" => pivot(ctx, node)?,
        "unpivot" => unpivot(ctx, pos, node)?,
        other => {
            let hint = nearest(other, STEP_KEYS)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            ctx.problem(
                pos,
                format!(
                    "unknown step `{other}`{hint} (steps: {})",
                    STEP_KEYS.join(", ")
                ),
            );
            return None;
        }
    };
    Some(Step { pos, kind })
}

/// `full`, `hash`, `{ hash: { salt: SECRET } }`, `{ partial: { keep_first: N, keep_last: N } }`.
fn mask_method(ctx: &mut Ctx<'_>, column: &str, node: &Node) -> Option<MaskMethod> {
    let key = format!("mask.{column}");
    let (method, settings) = match &node.value {
        Value::Str(name) => (name.as_str(), None),
        Value::Map(entries) if entries.len() == 1 => (entries[0].key.as_str(), Some(&entries[0])),
        _ => {
            ctx.problem(
                node.pos,
                format!(
                    "`{key}` must be `full`, `hash`, `{{ hash: {{ salt: SECRET }} }}` or `{{ partial: {{ keep_last: 4 }} }}`, not {}",
                    match &node.value {
                        Value::Map(_) => "a mapping of several methods",
                        _ => node.describe(),
                    }
                ),
            );
            return None;
        }
    };
    let at = settings.map_or(node.pos, |e| e.key_pos);
    let value = settings.map(|e| &e.value).filter(|v| !v.is_null());
    match method {
        "full" => {
            if let Some(v) = value
                && v.value != Value::Bool(true)
            {
                ctx.problem(v.pos, "`full` takes no settings");
                return None;
            }
            Some(MaskMethod::Full)
        }
        "hash" => {
            let Some(v) = value else {
                return Some(MaskMethod::Hash { salt_secret: None });
            };
            let f = fields(ctx, "`hash`", v, &["salt"], "{ salt: email_salt }")?;
            let salt = match f.get("salt") {
                None => None,
                Some(n) => {
                    let name = super::read::text(ctx, "hash.salt", n)?;
                    if !crate::secret::is_secret_name(&name.value) {
                        ctx.problem(
                            n.pos,
                            format!(
                                "`salt` names a secret: `{}` is not one ({})",
                                name.value,
                                crate::secret::name_rule()
                            ),
                        );
                        return None;
                    }
                    Some(name)
                }
            };
            Some(MaskMethod::Hash { salt_secret: salt })
        }
        "partial" => {
            let Some(v) = value else {
                ctx.problem(
                    at,
                    "`partial` needs `keep_first` or `keep_last`: the characters left as they are, such as `{ partial: { keep_last: 4 } }`",
                );
                return None;
            };
            let f = fields(
                ctx,
                "`partial`",
                v,
                &["keep_first", "keep_last"],
                "{ keep_last: 4 }",
            )?;
            let mut count = |k: &str| {
                f.get(k)
                    .and_then(|n| ctx.whole(&format!("partial.{k}"), n, 0))
                    .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
            };
            let (first, last) = (count("keep_first"), count("keep_last"));
            if first.unwrap_or(0) == 0 && last.unwrap_or(0) == 0 {
                if f.get("keep_first").is_none() && f.get("keep_last").is_none() {
                    ctx.problem(
                        v.pos,
                        "`partial` needs `keep_first` or `keep_last` above 0 (to hide every character, use `full`)",
                    );
                }
                if f.get("keep_first").is_some() || f.get("keep_last").is_some() {
                    ctx.problem(
                        v.pos,
                        "`partial` keeps no character: give `keep_first` or `keep_last` above 0, or use `full`",
                    );
                }
                return None;
            }
            Some(MaskMethod::Partial {
                keep_first: first.unwrap_or(0),
                keep_last: last.unwrap_or(0),
            })
        }
        other => {
            let hint = nearest(other, ["full", "hash", "partial"])
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            ctx.problem(
                at,
                format!("unknown mask method `{other}`{hint} (full, partial, hash)"),
            );
            None
        }
    }
}

/// `{ column, separator, into: [a, b], keep }`.
fn split(ctx: &mut Ctx<'_>, node: &Node) -> Option<StepKind> {
    let place = "`split`";
    let f = fields(
        ctx,
        place,
        node,
        &["column", "separator", "into", "keep"],
        "{ column: name, separator: \" \", into: [first, last] }",
    )?;
    let column = need(ctx, &f, place, "column", "the column to split")
        .and_then(|n| self::column(ctx, "split.column", n));
    let separator = need(ctx, &f, place, "separator", "the text between parts")
        .and_then(|n| separator(ctx, "split.separator", n, false));
    let into = need(
        ctx,
        &f,
        place,
        "into",
        "the new columns, such as [first, last]",
    )
    .map(|n| columns(ctx, "split.into", n, 2));
    let keep = f.get("keep").and_then(|n| ctx.boolean("keep", n));
    let into = into?;
    if into.len() < 2 {
        return None;
    }
    Some(StepKind::Split {
        column: column?,
        separator: separator?,
        into,
        keep: keep.unwrap_or(false),
    })
}

/// `{ columns: [a, b], separator, into, keep }`.
fn combine(ctx: &mut Ctx<'_>, node: &Node) -> Option<StepKind> {
    let place = "`combine`";
    let f = fields(
        ctx,
        place,
        node,
        &["columns", "separator", "into", "keep"],
        "{ columns: [first, last], separator: \" \", into: full_name }",
    )?;
    let cols = need(
        ctx,
        &f,
        place,
        "columns",
        "the columns to join, such as [first, last]",
    )
    .map(|n| columns(ctx, "combine.columns", n, 2));
    let separator = match f.get("separator") {
        Some(n) => separator(ctx, "combine.separator", n, true),
        None => Some(String::new()),
    };
    let into =
        need(ctx, &f, place, "into", "the new column").and_then(|n| column(ctx, "combine.into", n));
    let keep = f.get("keep").and_then(|n| ctx.boolean("keep", n));
    let cols = cols?;
    if cols.len() < 2 {
        return None;
    }
    Some(StepKind::Combine {
        columns: cols,
        separator: separator?,
        into: into?,
        keep: keep.unwrap_or(false),
    })
}

/// A separator: any string (a plain number is its text), empty only where `empty_ok`.
fn separator(ctx: &mut Ctx<'_>, key: &str, node: &Node, empty_ok: bool) -> Option<String> {
    let text = match &node.value {
        Value::Str(s) => s.clone(),
        Value::Int(_) | Value::Float(_) => node.text.clone(),
        Value::Null if empty_ok => String::new(),
        _ => {
            ctx.problem(
                node.pos,
                format!("`{key}` must be a string, not {}", node.describe()),
            );
            return None;
        }
    };
    if text.is_empty() && !empty_ok {
        ctx.problem(node.pos, format!("`{key}` is empty"));
        return None;
    }
    Some(text)
}

const CHECK_KEYS: [&str; 5] = ["not_null", "range", "regex", "allowed", "unique"];

/// `{ rules: [...], on_failure: { quarantine: TABLE } | drop | fail }` (default: fail).
fn validate(ctx: &mut Ctx<'_>, node: &Node) -> Option<Validate> {
    let place = "`validate`";
    let f = fields(
        ctx,
        place,
        node,
        &["rules", "on_failure"],
        "{ rules: [{ column: id, not_null: true }], on_failure: drop }",
    )?;
    let rules_node = need(
        ctx,
        &f,
        place,
        "rules",
        "a list such as [{ column: id, not_null: true }]",
    );
    let mut rules = Vec::new();
    if let Some(rules_node) = rules_node {
        let items = ctx.list(
            "rules",
            "rules such as `{ column: id, not_null: true }`",
            rules_node,
        );
        if items.is_empty() && matches!(rules_node.value, Value::Seq(_) | Value::Null) {
            ctx.problem(rules_node.pos, "`rules` needs at least one rule");
        }
        for item in items {
            rules.extend(rule(ctx, item));
        }
    }
    let on_failure = match f.get("on_failure") {
        None => Some(OnFailure::Fail),
        Some(n) => on_failure(ctx, n),
    };
    rules_node?;
    Some(Validate {
        rules,
        on_failure: on_failure?,
    })
}

/// `{ column: C, CHECK: … }`: one rule per check, in the order written.
fn rule(ctx: &mut Ctx<'_>, node: &Node) -> Vec<Rule> {
    let mut keys = vec!["column"];
    keys.extend(CHECK_KEYS);
    let Some(f) = fields(ctx, "a rule", node, &keys, "{ column: id, not_null: true }") else {
        return Vec::new();
    };
    let column = need(ctx, &f, "a rule", "column", "the column it checks")
        .and_then(|n| self::column(ctx, "column", n));
    let mut rules = Vec::new();
    let mut any = false;
    for e in f.entries {
        if !CHECK_KEYS.contains(&e.key.as_str()) {
            continue;
        }
        any = true;
        let check =
            match e.key.as_str() {
                "not_null" | "unique" => match e.value.value {
                    Value::Bool(true) | Value::Null => Some(if e.key == "unique" {
                        Check::Unique
                    } else {
                        Check::NotNull
                    }),
                    Value::Bool(false) => {
                        ctx.problem(
                            e.value.pos,
                            format!("`{}: false` checks nothing: leave it out", e.key),
                        );
                        None
                    }
                    _ => {
                        ctx.problem(
                            e.value.pos,
                            format!("`{}` takes `true`, not {}", e.key, e.value.describe()),
                        );
                        None
                    }
                },
                "range" => range(ctx, &e.value),
                "regex" => super::read::text(ctx, "regex", &e.value).and_then(|pattern| {
                    match regex::Regex::new(&pattern.value) {
                        Ok(_) => Some(Check::Regex(pattern.value)),
                        Err(error) => {
                            let first = error.to_string();
                            let reason = first.lines().last().unwrap_or_default().trim();
                            ctx.problem(
                                e.value.pos,
                                format!("invalid `regex` `{}`: {reason}", pattern.value),
                            );
                            None
                        }
                    }
                }),
                _ => allowed(ctx, &e.value),
            };
        if let (Some(column), Some(check)) = (&column, check) {
            rules.push(Rule {
                pos: node.pos,
                column: column.clone(),
                check,
            });
        }
    }
    // A misspelled check is reported as such; "needs a check" would only repeat it.
    let misspelled = f.entries.iter().any(|e| !keys.contains(&e.key.as_str()));
    if !any && !misspelled {
        ctx.problem(
            node.pos,
            format!("a rule needs a check: one of {}", CHECK_KEYS.join(", ")),
        );
    }
    rules
}

/// `{ min: N, max: N }` (either may be left out), as SQL literals.
fn range(ctx: &mut Ctx<'_>, node: &Node) -> Option<Check> {
    let f = fields(
        ctx,
        "`range`",
        node,
        &["min", "max"],
        "{ min: 0, max: 100 }",
    )?;
    let literal = |ctx: &mut Ctx<'_>, key: &str| -> Result<Option<(String, Option<f64>)>, ()> {
        let Some(n) = f.get(key) else {
            return Ok(None);
        };
        match &n.value {
            Value::Int(i) => Ok(Some((n.text.clone(), Some(*i as f64)))),
            Value::Float(x) if x.is_finite() => Ok(Some((n.text.clone(), Some(*x)))),
            Value::Str(s) if !s.trim().is_empty() => {
                Ok(Some((format!("'{}'", s.replace('\'', "''")), None)))
            }
            _ => {
                ctx.problem(
                    n.pos,
                    format!(
                        "`range.{key}` must be a number, or a date or time as a string, not {}",
                        n.describe()
                    ),
                );
                Err(())
            }
        }
    };
    let min = literal(ctx, "min");
    let max = literal(ctx, "max");
    let (Ok(min), Ok(max)) = (min, max) else {
        return None;
    };
    if min.is_none() && max.is_none() {
        ctx.problem(node.pos, "`range` needs `min`, `max` or both");
        return None;
    }
    if let (Some((_, Some(lo))), Some((_, Some(hi)))) = (&min, &max)
        && lo > hi
    {
        ctx.problem(node.pos, "`range` has `min` above `max`: no value passes");
        return None;
    }
    Some(Check::Range {
        min: min.map(|(text, _)| text),
        max: max.map(|(text, _)| text),
    })
}

/// `allowed: [A, B, 3]`: values compared as text.
fn allowed(ctx: &mut Ctx<'_>, node: &Node) -> Option<Check> {
    let items = ctx.list("allowed", "values", node);
    if items.is_empty() {
        ctx.problem(node.pos, "`allowed` needs at least one value");
        return None;
    }
    let mut values = Vec::new();
    for item in items {
        match &item.value {
            Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                values.push(item.text.clone())
            }
            _ => {
                ctx.problem(
                    item.pos,
                    format!(
                        "`allowed` values must be strings or numbers, not {}",
                        item.describe()
                    ),
                );
                return None;
            }
        }
    }
    Some(Check::Allowed(values))
}

/// `{ quarantine: TABLE }`, `drop` or `fail`.
fn on_failure(ctx: &mut Ctx<'_>, node: &Node) -> Option<OnFailure> {
    match &node.value {
        Value::Str(s) if s == "quarantine" => {
            ctx.problem(
                node.pos,
                "a quarantine needs a table for the failing rows: `on_failure: { quarantine: database.table }`",
            );
            None
        }
        Value::Map(_) => {
            let f = fields(
                ctx,
                "`on_failure`",
                node,
                &["quarantine"],
                "{ quarantine: curated.orders_quarantine }",
            )?;
            let table = need(
                ctx,
                &f,
                "`on_failure`",
                "quarantine",
                "the table failing rows go to",
            )?;
            table_name(ctx, "quarantine", table).map(OnFailure::Quarantine)
        }
        _ => pick(ctx, "on_failure", node, &[("drop", true), ("fail", false)]).map(|drop| {
            if drop {
                OnFailure::Drop
            } else {
                OnFailure::Fail
            }
        }),
    }
}

/// `{ keys: [id], order_by: updated_at, keep: latest|earliest }`.
fn dedupe(ctx: &mut Ctx<'_>, node: &Node) -> Option<StepKind> {
    let place = "`dedupe`";
    let f = fields(
        ctx,
        place,
        node,
        &["keys", "order_by", "keep"],
        "{ keys: [id], order_by: updated_at, keep: latest }",
    )?;
    let keys = need(ctx, &f, place, "keys", "the columns that identify a row")
        .map(|n| columns(ctx, "keys", n, 1));
    let order_by = f.get("order_by").and_then(|n| column(ctx, "order_by", n));
    let latest = match f.get("keep") {
        None => Some(false),
        Some(n) => {
            let keep = pick(ctx, "keep", n, &[("latest", true), ("earliest", false)]);
            if f.get("order_by").is_none() {
                ctx.problem(
                    n.pos,
                    "`keep` needs `order_by`: the column that says which row is the latest",
                );
            }
            keep
        }
    };
    let keys = keys?;
    if keys.is_empty() {
        return None;
    }
    Some(StepKind::Dedupe {
        keys,
        order_by,
        latest: latest?,
    })
}

/// `{ table, on: { left: right }, type, columns }`.
fn join(ctx: &mut Ctx<'_>, node: &Node) -> Option<Join> {
    let place = "`join`";
    let f = fields(
        ctx,
        place,
        node,
        &["table", "on", "type", "columns"],
        "{ table: curated.customers, on: { customer_id: id } }",
    )?;
    let table = need(ctx, &f, place, "table", "the table to join with")
        .and_then(|n| table_name(ctx, "join.table", n));
    let on = need(
        ctx,
        &f,
        place,
        "on",
        "this side's columns mapped to the table's, such as { customer_id: id }",
    )
    .map(|n| {
        pairs(
            ctx,
            "on",
            "this side's columns to the table's",
            n,
            |ctx, e| column(ctx, &format!("on.{}", e.key), &e.value),
        )
    });
    let kind = match f.get("type") {
        None => Some(JoinKind::Inner),
        Some(n) => pick(
            ctx,
            "join type",
            n,
            &[
                ("inner", JoinKind::Inner),
                ("left", JoinKind::Left),
                ("right", JoinKind::Right),
                ("full", JoinKind::Full),
                ("semi", JoinKind::Semi),
                ("anti", JoinKind::Anti),
            ],
        ),
    };
    let columns = f
        .get("columns")
        .map(|n| (columns(ctx, "columns", n, 1), n.pos));
    if let (Some(JoinKind::Semi | JoinKind::Anti), Some((_, pos))) = (kind, &columns) {
        ctx.problem(
            *pos,
            "a semi or anti join keeps this side's columns only: leave `columns` out",
        );
        return None;
    }
    let on = on?;
    if on.is_empty() {
        return None;
    }
    Some(Join {
        table: table?,
        on,
        kind: kind?,
        columns: columns.map(|(c, _)| c),
    })
}

/// `{ index: [id], column, values, agg, columns: [...] }`.
fn pivot(ctx: &mut Ctx<'_>, node: &Node) -> Option<StepKind> {
    let place = "`pivot`";
    let f = fields(
        ctx,
        place,
        node,
        &["index", "column", "values", "agg", "columns"],
        "{ index: [id], column: metric, values: value, agg: sum, columns: [clicks, views] }",
    )?;
    let index = need(
        ctx,
        &f,
        place,
        "index",
        "the columns that identify an output row",
    )
    .map(|n| columns(ctx, "index", n, 1));
    let column = need(
        ctx,
        &f,
        place,
        "column",
        "the column whose values become columns",
    )
    .and_then(|n| self::column(ctx, "column", n));
    let values = need(
        ctx,
        &f,
        place,
        "values",
        "the column whose values fill the new columns",
    )
    .and_then(|n| self::column(ctx, "values", n));
    let agg = need(
        ctx,
        &f,
        place,
        "agg",
        "how values that land in one cell combine: sum, count, min, max, avg or first",
    )
    .and_then(|n| {
        pick(
            ctx,
            "agg",
            n,
            &[
                ("sum", Aggregate::Sum),
                ("count", Aggregate::Count),
                ("min", Aggregate::Min),
                ("max", Aggregate::Max),
                ("avg", Aggregate::Avg),
                ("first", Aggregate::First),
            ],
        )
        .map(|value| At { value, pos: n.pos })
    });
    let cols = need(
        ctx,
        &f,
        place,
        "columns",
        "the values of `column` that become columns (a plan's columns must be known before it runs)",
    )
    .map(|n| columns(ctx, "columns", n, 1));
    let (index, cols) = (index?, cols?);
    if index.is_empty() || cols.is_empty() {
        return None;
    }
    Some(StepKind::Pivot {
        index,
        column: column?,
        values: values?,
        agg: agg?,
        columns: cols,
    })
}

/// `{ columns: [...], name: metric, value: value }` (`name` and `value` default to those words).
fn unpivot(ctx: &mut Ctx<'_>, pos: Pos, node: &Node) -> Option<StepKind> {
    let place = "`unpivot`";
    let f = fields(
        ctx,
        place,
        node,
        &["columns", "name", "value"],
        "{ columns: [clicks, views], name: metric, value: value }",
    )?;
    let cols = need(ctx, &f, place, "columns", "the columns that become rows")
        .map(|n| columns(ctx, "columns", n, 1));
    let mut named = |key: &str| match f.get(key) {
        Some(n) => column(ctx, key, n),
        None => Some(At {
            value: key.to_string(),
            pos,
        }),
    };
    let (name, value) = (named("name"), named("value"));
    if let (Some(name), Some(value)) = (&name, &value)
        && name.value == value.value
    {
        ctx.problem(
            value.pos,
            format!(
                "`name` and `value` are both `{}`: name two columns",
                name.value
            ),
        );
        return None;
    }
    let cols = cols?;
    if cols.is_empty() {
        return None;
    }
    Some(StepKind::Unpivot {
        columns: cols,
        name: name?,
        value: value?,
    })
}

/// A flow's `mapping: { target: "source expression" }`: a bare column name is a rename, anything
/// else a derived column. Expressions read the source's columns: the derived columns are added
/// first, then the renames made, so this reads as one step (a `derive` then a `rename`).
pub(super) fn read_mapping(ctx: &mut Ctx<'_>, pos: Pos, node: &Node) -> Vec<Step> {
    let entries = pairs(
        ctx,
        "mapping",
        "target columns to a source column or a SQL expression",
        node,
        |ctx, e| sql(ctx, &format!("mapping.{}", e.key), &e.value),
    );
    let mut renames = Vec::new();
    let mut derives = Vec::new();
    for (target, expr) in entries {
        let source = expr.text.trim();
        if is_bare_column(source) {
            renames.push((
                At {
                    value: source.to_string(),
                    pos: expr.pos,
                },
                target,
            ));
        } else {
            derives.push((target, expr));
        }
    }
    for (target, _) in &derives {
        if let Some((source, _)) = renames
            .iter()
            .find(|(source, _)| source.value == target.value)
        {
            ctx.problem(
                target.pos,
                format!(
                    "`{}` is both computed here and renamed (on line {}): the expression would replace the column before it is renamed",
                    target.value, source.pos.line
                ),
            );
        }
    }
    let targets: Vec<&At<String>> = renames.iter().map(|(_, t)| t).collect();
    check_unique(ctx, "`mapping` makes", &targets);
    let mut steps = Vec::new();
    if !derives.is_empty() {
        steps.push(Step {
            pos,
            kind: StepKind::Derive(derives),
        });
    }
    if !renames.is_empty() {
        steps.push(Step {
            pos,
            kind: StepKind::Rename(renames),
        });
    }
    steps
}

/// A plain column name (not a SQL literal): letters, digits and `_`, not starting with a digit.
fn is_bare_column(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !["null", "true", "false"].contains(&text.to_ascii_lowercase().as_str())
}
