//! `validate`: rules on columns. A row breaks a rule when the rule's condition is true (a null
//! passes every rule but `not_null`); the first rule it breaks, in file order, is its `_rule`.
//! The rows that pass are filtered with the conjunction of the rules' negations (cheap
//! conditions DataFusion evaluates on whole batches); the refused rows carry `_rule`, a `CASE`.
//! `unique` flags the values more than one row has (an aggregation joined back).

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{JoinType, ScalarValue};
use datafusion::dataframe::DataFrame;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{Expr, ExprSchemable, cast, col, lit, when};
use weir_model::transform::{Check, OnFailure, Rule, Step, Validate};

use super::context::{Ctx, as_text, ident, is_text, literal};
use crate::sql::type_name;

/// The column naming the rule a refused row broke.
pub const RULE_COLUMN: &str = "_rule";
/// When the row was refused (quarantine rows only).
pub const FAILED_AT_COLUMN: &str = "_failed_at";

pub(super) struct Validated {
    /// The rows that pass every rule.
    pub output: DataFrame,
    /// The rows that break one (with `_rule`; with `_failed_at` for a quarantine; at most 10
    /// for `on_failure: fail`).
    pub refused: DataFrame,
}

pub(super) fn apply(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    step: &Step,
    validate: &Validate,
) -> Option<Validated> {
    let original: Vec<Expr> = frame
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    let mut frame = frame;
    let mut breaks: Vec<(Expr, String)> = Vec::new();
    let mut ok = true;
    for (index, rule) in validate.rules.iter().enumerate() {
        match condition(ctx, &mut frame, rule, index) {
            Some(broken) => breaks.push((broken, rule.label())),
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    let Some(((first, first_label), rest)) = breaks.split_first() else {
        ctx.problem(step.pos, "validate: no rules");
        return None;
    };
    // Passing rows: no rule's condition is true (a null condition passes).
    let passes = breaks
        .iter()
        .map(|(broken, _)| broken.clone().is_not_true())
        .reduce(Expr::and)
        .unwrap_or(lit(true));
    // With `on_failure: fail` a refused row stops the run before anything is written, so the
    // output needs no filter.
    let output = match validate.on_failure {
        OnFailure::Fail => frame.clone().select(original.clone()),
        _ => frame
            .clone()
            .filter(passes)
            .and_then(|f| f.select(original.clone())),
    }
    .map_err(|e| ctx.planning(step.pos, step.name(), &e))
    .ok()?;
    let mut rule = when(first.clone(), lit(first_label.as_str()));
    for (broken, label) in rest {
        rule = rule.when(broken.clone(), lit(label.as_str()));
    }
    let rule = match rule.end() {
        Ok(rule) => rule,
        Err(err) => {
            ctx.planning(step.pos, step.name(), &err);
            return None;
        }
    };
    let mut refused_columns = original.clone();
    refused_columns.push(col(RULE_COLUMN));
    let refused = frame
        .with_column(RULE_COLUMN, rule)
        .and_then(|f| f.filter(col(RULE_COLUMN).is_not_null()));
    let refused = match &validate.on_failure {
        OnFailure::Quarantine(_) => refused.and_then(|f| {
            refused_columns.push(
                cast(
                    datafusion::functions::expr_fn::now(),
                    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                )
                .alias(FAILED_AT_COLUMN),
            );
            f.select(refused_columns)
        }),
        OnFailure::Fail => refused.and_then(|f| f.select(refused_columns)?.limit(0, Some(10))),
        OnFailure::Drop => refused.and_then(|f| f.select(refused_columns)),
    };
    let refused = refused
        .map_err(|e| ctx.planning(step.pos, step.name(), &e))
        .ok()?;
    Some(Validated { output, refused })
}

/// The condition under which a row breaks `rule`. A `unique` rule adds its count column to the
/// frame (dropped again from what comes out).
fn condition(ctx: &mut Ctx<'_>, frame: &mut DataFrame, rule: &Rule, index: usize) -> Option<Expr> {
    let column = ctx.column(frame, &rule.column)?;
    let name = ident(&column.name);
    let sql = match &rule.check {
        Check::NotNull => return Some(column.expr.is_null()),
        Check::Range { min, max } => {
            let mut parts = Vec::new();
            if let Some(min) = min {
                parts.push(format!("{name} < {min}"));
            }
            if let Some(max) = max {
                parts.push(format!("{name} > {max}"));
            }
            if parts.is_empty() {
                ctx.problem(rule.pos, "validate: a range needs `min` or `max`");
                return None;
            }
            parts.join(" OR ")
        }
        Check::Regex(pattern) => {
            if let Err(err) = regex::Regex::new(pattern) {
                ctx.problem(
                    rule.pos,
                    format!("validate: `{pattern}` is not a regular expression: {err}"),
                );
                return None;
            }
            format!(
                "NOT regexp_like({}, {})",
                as_text(&column.name, &column.data_type),
                literal(pattern)
            )
        }
        Check::Allowed(values) => {
            if values.is_empty() {
                ctx.problem(rule.pos, "validate: `allowed` lists no value");
                return None;
            }
            if !is_text(&column.data_type) {
                // Compared as the column's type, so `allowed: [1, 2]` on a DECIMAL(12,2) column
                // matches 1.00 (as text it would be "1.00" and break every row).
                let mut list = Vec::with_capacity(values.len());
                for value in values {
                    match ScalarValue::try_from_string(value.clone(), &column.data_type) {
                        Ok(value) => list.push(lit(value)),
                        Err(_) => {
                            ctx.problem(
                                rule.pos,
                                format!(
                                    "validate: allowed value `{value}` is not a {} value (column `{}`)",
                                    type_name(&column.data_type),
                                    column.name
                                ),
                            );
                            return None;
                        }
                    }
                }
                return Some(column.expr.in_list(list, true));
            }
            let list: Vec<String> = values.iter().map(|v| literal(v)).collect();
            format!(
                "{} NOT IN ({})",
                as_text(&column.name, &column.data_type),
                list.join(", ")
            )
        }
        Check::Unique => {
            // The values more than one row has (one hash aggregation), flagged onto the rows
            // with a join whose build side is that small set: measured 4.1-5.2 s over 10
            // million rows where `count(*) OVER (PARTITION BY col)` takes 12-14 s (it sorts
            // every row; `unique_forms` in the tests). Nulls never match, so they pass.
            let key = format!("__weir_unique_key_{index}");
            let flag = format!("__weir_unique_{index}");
            let flagged = frame
                .clone()
                .aggregate(
                    vec![column.expr.clone().alias(&key)],
                    vec![count(lit(1)).alias("__weir_rows")],
                )
                .and_then(|f| f.filter(col("__weir_rows").gt(lit(1))))
                .and_then(|f| f.select(vec![col(&key), lit(true).alias(&flag)]))
                .and_then(|duplicated| {
                    duplicated.join_on(
                        frame.clone(),
                        JoinType::Right,
                        vec![col(&key).eq(column.expr.clone())],
                    )
                });
            *frame = flagged
                .map_err(|e| ctx.planning(rule.pos, "validate", &e))
                .ok()?;
            return Some(col(flag).is_true());
        }
    };
    let broken = ctx.internal(rule.pos, "validate", frame, &sql)?;
    match broken.get_type(frame.schema()) {
        Ok(DataType::Boolean) => Some(broken),
        Ok(other) => {
            ctx.problem(
                rule.pos,
                format!("validate: `{}` gives {}", rule.label(), type_name(&other)),
            );
            None
        }
        Err(err) => {
            ctx.planning(rule.pos, "validate", &err);
            None
        }
    }
}
