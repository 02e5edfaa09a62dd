//! `dedupe`: one row per key, the first by `order_by` (descending for `latest`; rows whose
//! order value is null come last), or any one without an order.
//!
//! It is `row_number() OVER (PARTITION BY keys ORDER BY o) = 1`, which the SQL engine's
//! physical rewrite (`sql::top_per_key`) runs by keeping each key's best row in one hash pass
//! before the window's sort, so only one row per key is sorted. It replaced a hash aggregation
//! of each key's best value and a semi join back on it, which reads the input twice: on the
//! transform benchmark (10 million rows, nearly every key once) the recipe went from 14.1 s to
//! 11.3 s, and where keys repeat (`dedupe_timing` in the tests, 10 rows per key) the sort shrinks
//! tenfold.

use datafusion::dataframe::DataFrame;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{Expr, ExprFunctionExt, SortExpr, col, lit};
use weir_model::transform::{At, Step};

use super::context::{Ctx, Found};

pub(super) fn apply(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    step: &Step,
    keys: &[At<String>],
    order_by: Option<&At<String>>,
    latest: bool,
) -> Option<DataFrame> {
    let keys = ctx.columns(&frame, keys);
    let order = match order_by {
        Some(name) => Some(ctx.column(&frame, name)?),
        None => None,
    };
    let keys = keys?;
    if keys.is_empty() {
        ctx.problem(step.pos, "dedupe: `keys` names no column");
        return None;
    }
    let sort = match &order {
        Some(order) => vec![order.expr.clone().sort(!latest, false)],
        // A window's ORDER BY cannot be empty; the keys order nothing within a key.
        None => keys
            .iter()
            .map(|k| k.expr.clone().sort(true, false))
            .collect(),
    };
    row_numbers(frame, &keys, sort)
        .map_err(|e| ctx.planning(step.pos, step.name(), &e))
        .ok()
}

pub(super) fn row_numbers(
    frame: DataFrame,
    keys: &[Found],
    sort: Vec<SortExpr>,
) -> datafusion::error::Result<DataFrame> {
    let columns: Vec<Expr> = frame
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    let numbered = row_number()
        .partition_by(keys.iter().map(|k| k.expr.clone()).collect())
        .order_by(sort)
        .build()?;
    frame
        .with_column("__weir_row", numbered)?
        .filter(col("__weir_row").eq(lit(1u64)))?
        .select(columns)
}
