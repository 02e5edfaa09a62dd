//! Long to wide and back: pivot (one aggregation grouped by the index, one conditional
//! aggregate per listed value) and unpivot (a union of one projection per column).

use std::collections::HashSet;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::functions_aggregate::expr_fn::{avg, count, first_value, max, min, sum};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{Expr, cast, lit, when};
use weir_model::transform::{Aggregate, At, Step};

use super::context::{Ctx, find, is_text};
use crate::sql::type_name;

/// One row per `index` values; for each listed value `v` of `column`, a column `v` holding
/// `agg(values)` over the rows where `column = v`.
#[allow(clippy::too_many_arguments)]
pub(super) fn pivot(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    step: &Step,
    index: &[At<String>],
    column: &At<String>,
    values: &At<String>,
    agg: &At<Aggregate>,
    columns: &[At<String>],
) -> Option<DataFrame> {
    let index_found = ctx.columns(&frame, index);
    let pivoted = ctx.column(&frame, column);
    let measured = ctx.column(&frame, values);
    let (index_found, pivoted, measured) = (index_found?, pivoted?, measured?);
    if columns.is_empty() {
        ctx.problem(step.pos, "pivot: `columns` lists no value");
        return None;
    }
    if matches!(agg.value, Aggregate::Sum | Aggregate::Avg) && !measured.data_type.is_numeric() {
        ctx.problem(
            agg.pos,
            format!(
                "pivot: `{}` is {}; sum and avg need numbers",
                measured.name,
                type_name(&measured.data_type)
            ),
        );
        return None;
    }
    let mut names: HashSet<String> = index_found
        .iter()
        .map(|c| c.name.to_ascii_lowercase())
        .collect();
    let mut aggregates = Vec::with_capacity(columns.len());
    let mut ok = true;
    for value in columns {
        if !names.insert(value.value.to_ascii_lowercase()) {
            ctx.problem(
                value.pos,
                format!("pivot: the column `{}` would appear twice", value.value),
            );
            ok = false;
            continue;
        }
        let Some(matches) = value_of(ctx, &value.value, &pivoted.data_type, value) else {
            ok = false;
            continue;
        };
        let picked = match when(pivoted.expr.clone().eq(matches), measured.expr.clone()).end() {
            Ok(picked) => picked,
            Err(err) => {
                ctx.planning(value.pos, "pivot", &err);
                ok = false;
                continue;
            }
        };
        let aggregate = match agg.value {
            Aggregate::Sum => sum(picked),
            Aggregate::Count => count(picked),
            Aggregate::Min => min(picked),
            Aggregate::Max => max(picked),
            Aggregate::Avg => avg(picked),
            Aggregate::First => first_value(picked, vec![]),
        };
        aggregates.push(aggregate.alias(&value.value));
    }
    if !ok {
        return None;
    }
    let group: Vec<Expr> = index_found.iter().map(|c| c.expr.clone()).collect();
    frame
        .aggregate(group, aggregates)
        .map_err(|e| ctx.planning(step.pos, step.name(), &e))
        .ok()
}

/// A listed value as a literal of the pivoted column's type.
fn value_of(ctx: &mut Ctx<'_>, text: &str, data_type: &DataType, at: &At<String>) -> Option<Expr> {
    if is_text(data_type) {
        return Some(lit(text));
    }
    match ScalarValue::try_from_string(text.to_string(), data_type) {
        Ok(value) => Some(lit(value)),
        Err(_) => {
            ctx.problem(
                at.pos,
                format!("pivot: `{text}` is not a {} value", type_name(data_type)),
            );
            None
        }
    }
}

/// The listed columns become rows of (`name`, `value`); the other columns repeat on each. Values
/// take the listed columns' common type; null values are kept.
pub(super) fn unpivot(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    step: &Step,
    columns: &[At<String>],
    name: &At<String>,
    value: &At<String>,
) -> Option<DataFrame> {
    let found = ctx.columns(&frame, columns)?;
    if found.is_empty() {
        ctx.problem(step.pos, "unpivot: `columns` names no column");
        return None;
    }
    let listed: HashSet<&str> = found.iter().map(|c| c.name.as_str()).collect();
    let kept: Vec<Expr> = frame
        .schema()
        .columns()
        .into_iter()
        .filter(|c| !listed.contains(c.name.as_str()))
        .map(|c| {
            let name = c.name.clone();
            Expr::Column(c).alias(name)
        })
        .collect();
    let mut ok = true;
    for new in [name, value] {
        let taken =
            find(frame.schema(), &new.value).is_some_and(|c| !listed.contains(c.name.as_str()));
        if taken {
            ctx.problem(
                new.pos,
                format!("unpivot: there is already a column `{}`", new.value),
            );
            ok = false;
        }
    }
    if name.value.eq_ignore_ascii_case(&value.value) {
        ctx.problem(value.pos, "unpivot: `name` and `value` are the same column");
        ok = false;
    }
    let types: Vec<DataType> = found.iter().map(|c| c.data_type.clone()).collect();
    let Some(common) = type_union_resolution(&types) else {
        let listed: Vec<String> = found
            .iter()
            .map(|c| format!("{} {}", c.name, type_name(&c.data_type)))
            .collect();
        ctx.problem(
            step.pos,
            format!(
                "unpivot: the columns have no common type ({}); cast them first",
                listed.join(", ")
            ),
        );
        return None;
    };
    if !ok {
        return None;
    }
    let mut unioned: Option<DataFrame> = None;
    for column in &found {
        let mut exprs = kept.clone();
        exprs.push(lit(column.name.as_str()).alias(&name.value));
        exprs.push(cast(column.expr.clone(), common.clone()).alias(&value.value));
        let part = frame.clone().select(exprs);
        let next = match (unioned, part) {
            (None, part) => part,
            (Some(all), Ok(part)) => all.union(part),
            (Some(_), Err(err)) => Err(err),
        };
        match next {
            Ok(next) => unioned = Some(next),
            Err(err) => {
                ctx.planning(step.pos, step.name(), &err);
                return None;
            }
        }
    }
    unioned
}
