//! Steps on text: mask, truncate, split, combine. Each is one vectorised expression per column
//! (DataFusion's string functions), written as SQL text over quoted names.

use std::collections::HashSet;

use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::Expr;
use weir_model::transform::{At, Mask, MaskMethod, Step};

use super::context::{Ctx, Found, as_text, find, ident, is_text, literal, replace_in_place};
use crate::sql::type_name;

/// Hide values: `*` for every character (full), all but the first and last few (partial; a
/// value too short to hide anything is hidden whole), or a hex SHA-256 of a salt and the value
/// (hash). Nulls stay null; masked columns become text.
pub(super) fn mask(ctx: &mut Ctx<'_>, frame: DataFrame, masks: &[Mask]) -> Option<DataFrame> {
    let mut replaced: Vec<(String, Expr)> = Vec::new();
    let mut ok = true;
    for mask in masks {
        let Some(column) = ctx.column(&frame, &mask.column) else {
            ok = false;
            continue;
        };
        let value = as_text(&column.name, &column.data_type);
        let sql = match &mask.method {
            MaskMethod::Full => format!("repeat('*', CAST(character_length({value}) AS INT))"),
            MaskMethod::Partial {
                keep_first,
                keep_last,
            } => {
                let kept = keep_first.saturating_add(*keep_last);
                format!(
                    "CASE WHEN character_length({value}) > {kept} \
                     THEN concat(left({value}, {keep_first}), \
                     repeat('*', CAST(character_length({value}) - {kept} AS INT)), \
                     right({value}, {keep_last})) \
                     ELSE repeat('*', CAST(character_length({value}) AS INT)) END"
                )
            }
            MaskMethod::Hash { salt_secret } => {
                let salt = match salt_secret {
                    None => String::new(),
                    Some(secret) => match (ctx.salts)(&secret.value) {
                        Ok(salt) => salt,
                        Err(why) => {
                            ctx.problem(
                                secret.pos,
                                format!("mask: the salt secret `{}`: {why}", secret.value),
                            );
                            ok = false;
                            continue;
                        }
                    },
                };
                // `||` is null when the value is, so nulls stay null.
                format!("encode(sha256({} || {value}), 'hex')", literal(&salt))
            }
        };
        match ctx.internal(mask.column.pos, "mask", &frame, &sql) {
            Some(expr) => replaced.push((column.name, expr)),
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    replace_in_place(frame, replaced)
}

/// Cut text to at most `length` characters.
pub(super) fn truncate(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    columns: &[(At<String>, usize)],
) -> Option<DataFrame> {
    let mut replaced = Vec::new();
    let mut ok = true;
    for (name, length) in columns {
        let Some(column) = text_column(ctx, &frame, "truncate", name) else {
            ok = false;
            continue;
        };
        let sql = format!("left({}, {length})", ident(&column.name));
        match ctx.internal(name.pos, "truncate", &frame, &sql) {
            Some(expr) => replaced.push((column.name, expr)),
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    replace_in_place(frame, replaced)
}

/// Split text on a separator into new columns, placed where the column was (after it when
/// kept): part i is the i-th piece, null when there are fewer pieces, and the last column takes
/// the rest of the text, separators included.
pub(super) fn split(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    step: &Step,
    column: &At<String>,
    separator: &str,
    into: &[At<String>],
    keep: bool,
) -> Option<DataFrame> {
    let source = text_column(ctx, &frame, "split", column)?;
    if separator.is_empty() {
        ctx.problem(step.pos, "split: the separator is empty");
        return None;
    }
    if into.is_empty() {
        ctx.problem(step.pos, "split: `into` names no column");
        return None;
    }
    let replaced_name = (!keep).then_some(source.name.as_str());
    if !new_names_free(ctx, &frame, "split", into, replaced_name) {
        return None;
    }
    let parts = format!(
        "string_to_array({}, {})",
        ident(&source.name),
        literal(separator)
    );
    let count = into.len();
    let mut new_columns = Vec::with_capacity(count);
    for (i, name) in into.iter().enumerate() {
        let position = i + 1;
        let sql = if position < count {
            format!("array_element({parts}, {position})")
        } else {
            format!(
                "CASE WHEN array_length({parts}) >= {position} THEN \
                 array_to_string(array_slice({parts}, {position}, -1), {}) END",
                literal(separator)
            )
        };
        let expr = ctx.internal(name.pos, "split", &frame, &sql)?;
        new_columns.push(expr.alias(&name.value));
    }
    insert_at(frame, &source.name, keep, new_columns)
}

/// Join columns' text with a separator into a new column (nulls are skipped), placed where the
/// first column was (after the columns when kept).
pub(super) fn combine(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    step: &Step,
    columns: &[At<String>],
    separator: &str,
    into: &At<String>,
    keep: bool,
) -> Option<DataFrame> {
    let found = ctx.columns(&frame, columns)?;
    let Some(first) = found.first() else {
        ctx.problem(step.pos, "combine: `columns` names no column");
        return None;
    };
    let combined: HashSet<&str> = found.iter().map(|c| c.name.as_str()).collect();
    let taken = find(frame.schema(), &into.value)
        .is_some_and(|c| keep || !combined.contains(c.name.as_str()));
    if taken {
        ctx.problem(
            into.pos,
            format!("combine: there is already a column `{}`", into.value),
        );
        return None;
    }
    let parts: Vec<String> = found
        .iter()
        .map(|c| as_text(&c.name, &c.data_type))
        .collect();
    let sql = format!("concat_ws({}, {})", literal(separator), parts.join(", "));
    let expr = ctx
        .internal(into.pos, "combine", &frame, &sql)?
        .alias(&into.value);
    let anchor = if keep {
        found.last().map_or(first.name.clone(), |c| c.name.clone())
    } else {
        first.name.clone()
    };
    let mut exprs = Vec::new();
    for column in frame.schema().columns() {
        let is_combined = combined.contains(column.name.as_str());
        let is_anchor = column.name == anchor;
        if keep || !is_combined {
            exprs.push(Expr::Column(column.clone()));
        }
        if is_anchor {
            exprs.push(expr.clone());
        }
    }
    frame.select(exprs).ok()
}

/// A text column, or a problem saying it is not one.
fn text_column(
    ctx: &mut Ctx<'_>,
    frame: &DataFrame,
    step: &str,
    name: &At<String>,
) -> Option<Found> {
    let column = ctx.column(frame, name)?;
    if !is_text(&column.data_type) {
        ctx.problem(
            name.pos,
            format!(
                "{step}: `{}` is {}, not text (cast it to VARCHAR first)",
                column.name,
                type_name(&column.data_type)
            ),
        );
        return None;
    }
    Some(column)
}

/// Whether every name in `into` is new (or the one column being replaced) and none repeats.
fn new_names_free(
    ctx: &mut Ctx<'_>,
    frame: &DataFrame,
    step: &str,
    into: &[At<String>],
    replaced: Option<&str>,
) -> bool {
    let mut seen = HashSet::new();
    let mut ok = true;
    for name in into {
        let taken =
            find(frame.schema(), &name.value).is_some_and(|c| Some(c.name.as_str()) != replaced);
        if taken || !seen.insert(name.value.to_ascii_lowercase()) {
            ctx.problem(
                name.pos,
                format!("{step}: there is already a column `{}`", name.value),
            );
            ok = false;
        }
    }
    ok
}

/// The frame with `new_columns` where `anchor` is (after it when it is kept).
fn insert_at(
    frame: DataFrame,
    anchor: &str,
    keep: bool,
    new_columns: Vec<Expr>,
) -> Option<DataFrame> {
    let mut exprs = Vec::new();
    for column in frame.schema().columns() {
        if column.name == anchor {
            if keep {
                exprs.push(Expr::Column(column.clone()));
            }
            exprs.extend(new_columns.iter().cloned());
        } else {
            exprs.push(Expr::Column(column));
        }
    }
    frame.select(exprs).ok()
}
