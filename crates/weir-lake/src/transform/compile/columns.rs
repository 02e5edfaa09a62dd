//! Steps that choose, name and type columns: select, drop, drop_null_fields, rename, cast.

use std::collections::HashSet;

use datafusion::arrow::compute::can_cast_types;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::dataframe::DataFrame;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{Expr, lit};
use weir_model::transform::{At, Step};

use super::context::{Ctx, Found, Mode, find, replace_in_place};
use crate::sql::{parse_type, type_name};

/// Keep these columns, in this order.
pub(super) fn select(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    names: &[At<String>],
) -> Option<DataFrame> {
    let found = ctx.columns(&frame, names)?;
    let mut seen = HashSet::new();
    for (column, name) in found.iter().zip(names) {
        if !seen.insert(column.name.clone()) {
            ctx.problem(
                name.pos,
                format!("select: `{}` is listed twice", name.value),
            );
            return None;
        }
    }
    let exprs: Vec<Expr> = found.into_iter().map(|c| c.expr).collect();
    frame
        .select(exprs)
        .map_err(|e| {
            ctx.planning(
                names.first().map_or_else(Default::default, |n| n.pos),
                "select",
                &e,
            )
        })
        .ok()
}

/// Remove these columns.
pub(super) fn drop(ctx: &mut Ctx<'_>, frame: DataFrame, names: &[At<String>]) -> Option<DataFrame> {
    let found = ctx.columns(&frame, names)?;
    let dropped: HashSet<String> = found.into_iter().map(|c| c.name).collect();
    keep_others(frame, &dropped)
}

/// The frame without the columns named in `dropped`.
fn keep_others(frame: DataFrame, dropped: &HashSet<String>) -> Option<DataFrame> {
    let kept: Vec<Expr> = frame
        .schema()
        .columns()
        .into_iter()
        .filter(|c| !dropped.contains(&c.name))
        .map(Expr::Column)
        .collect();
    frame.select(kept).ok()
}

/// Remove the columns that are null in every row. Which ones those are is in the data, so this
/// counts each column's values (one aggregate over the frame) when the recipe runs; a check
/// keeps every column. A frame with no rows keeps its columns.
pub(super) async fn drop_null_fields(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    step: &Step,
) -> Option<DataFrame> {
    if ctx.mode == Mode::Check {
        return Some(frame);
    }
    let columns = frame.schema().columns();
    let mut counts = vec![count(lit(1)).alias("__weir_rows")];
    counts.extend(
        columns
            .iter()
            .enumerate()
            .map(|(i, c)| count(Expr::Column(c.clone())).alias(format!("__weir_{i}"))),
    );
    let counted = frame
        .clone()
        .aggregate(vec![], counts)
        .map_err(|e| ctx.planning(step.pos, step.name(), &e))
        .ok()?
        .collect()
        .await;
    let batches = match counted {
        Ok(batches) => batches,
        Err(err) => {
            ctx.planning(step.pos, step.name(), &err);
            return None;
        }
    };
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Some(frame);
    };
    let count_at = |i: usize| {
        ScalarValue::try_from_array(batch.column(i), 0)
            .ok()
            .and_then(|v| match v {
                ScalarValue::Int64(n) => n,
                _ => None,
            })
            .unwrap_or(0)
    };
    if count_at(0) == 0 {
        return Some(frame);
    }
    let dropped: HashSet<String> = columns
        .iter()
        .enumerate()
        .filter(|(i, _)| count_at(i + 1) == 0)
        .map(|(_, c)| c.name.clone())
        .collect();
    keep_others(frame, &dropped)
}

/// Rename columns; the others keep their names and places.
pub(super) fn rename(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    pairs: &[(At<String>, At<String>)],
) -> Option<DataFrame> {
    let mut renames: Vec<(String, String)> = Vec::new();
    let mut ok = true;
    for (old, new) in pairs {
        match ctx.column(&frame, old) {
            Some(found) => renames.push((found.name, new.value.clone())),
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    let renamed_away: HashSet<&str> = renames.iter().map(|(old, _)| old.as_str()).collect();
    let mut targets = HashSet::new();
    for ((_, new), (_, to)) in pairs.iter().zip(&renames) {
        let taken =
            find(frame.schema(), to).is_some_and(|c| !renamed_away.contains(c.name.as_str()));
        if taken || !targets.insert(to.to_ascii_lowercase()) {
            ctx.problem(new.pos, format!("rename: there is already a column `{to}`"));
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    let exprs: Vec<Expr> = frame
        .schema()
        .columns()
        .into_iter()
        .map(|c| match renames.iter().find(|(old, _)| *old == c.name) {
            Some((_, new)) => Expr::Column(c).alias(new),
            None => Expr::Column(c),
        })
        .collect();
    frame.select(exprs).ok()
}

/// Cast columns to SQL types, in place.
pub(super) fn cast(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    pairs: &[(At<String>, At<String>)],
) -> Option<DataFrame> {
    let mut casts: Vec<(Found, DataType)> = Vec::new();
    let mut ok = true;
    for (column, type_text) in pairs {
        let found = ctx.column(&frame, column);
        let target = match sql_type(ctx, &type_text.value) {
            Ok(target) => Some(target),
            Err(message) => {
                ctx.problem(type_text.pos, message);
                None
            }
        };
        match (found, target) {
            (Some(found), Some(target)) => {
                if !can_cast_types(&found.data_type, &target) {
                    ctx.problem(
                        type_text.pos,
                        format!(
                            "cast: `{}` is {}, which cannot be cast to {}",
                            found.name,
                            type_name(&found.data_type),
                            type_name(&target)
                        ),
                    );
                    ok = false;
                } else {
                    casts.push((found, target));
                }
            }
            _ => ok = false,
        }
    }
    if !ok {
        return None;
    }
    let replaced = casts
        .into_iter()
        .map(|(found, target)| {
            let expr = datafusion::logical_expr::cast(found.expr, target);
            (found.name, expr)
        })
        .collect();
    replace_in_place(frame, replaced)
}

/// A SQL type as written (`DECIMAL(12,2)`, `DATE`, `VARCHAR`, `BIGINT`), or Arrow's name for
/// one (`Int64`, `Utf8`).
pub(super) fn sql_type(ctx: &Ctx<'_>, text: &str) -> Result<DataType, String> {
    let planned = ctx
        .session
        .state()
        .create_logical_expr(&format!("CAST(NULL AS {text})"), &DFSchema::empty());
    if let Ok(Expr::Cast(cast)) = planned {
        return Ok(cast.field.data_type().clone());
    }
    parse_type(text).map_err(|_| {
        format!("cast: unknown type `{text}` (SQL types: BIGINT, INT, DOUBLE, DECIMAL(p,s), VARCHAR, BOOLEAN, DATE, TIMESTAMP, …)")
    })
}
