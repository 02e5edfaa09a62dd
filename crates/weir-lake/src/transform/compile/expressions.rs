//! Steps written as SQL expressions: filter (a condition) and derive (new columns).

use datafusion::arrow::datatypes::DataType;
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::ExprSchemable;
use weir_model::transform::{At, SqlExpr, Step};

use super::context::{Ctx, find};
use crate::sql::type_name;

/// Keep the rows for which the condition is true.
pub(super) fn filter(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    step: &Step,
    condition: &SqlExpr,
) -> Option<DataFrame> {
    let predicate = ctx.sql(step.name(), &frame, condition)?;
    let data_type = predicate.get_type(frame.schema()).ok()?;
    if !matches!(data_type, DataType::Boolean | DataType::Null) {
        ctx.problem(
            condition.pos,
            format!(
                "filter: the condition is {}, not true or false (compare it: `… > 0`, `… IS NOT NULL`)",
                type_name(&data_type)
            ),
        );
        return None;
    }
    frame
        .filter(predicate)
        .map_err(|e| ctx.planning(condition.pos, step.name(), &e))
        .ok()
}

/// Add (or replace) columns, in order: each expression sees the columns derived before it.
pub(super) fn derive(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    columns: &[(At<String>, SqlExpr)],
) -> Option<DataFrame> {
    let mut frame = frame;
    let mut ok = true;
    for (name, sql) in columns {
        let Some(expr) = ctx.sql("derive", &frame, sql) else {
            ok = false;
            continue;
        };
        // Replacing a column keeps its place under the frame's spelling of the name.
        let target = find(frame.schema(), &name.value).map_or(name.value.clone(), |c| c.name);
        match frame.clone().with_column(&target, expr) {
            Ok(next) => frame = next,
            Err(err) => {
                ctx.planning(sql.pos, "derive", &err);
                ok = false;
            }
        }
    }
    ok.then_some(frame)
}
