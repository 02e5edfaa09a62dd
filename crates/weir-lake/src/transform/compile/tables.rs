//! Steps that read another catalog table through the same session: join and union.

use std::collections::HashSet;

use datafusion::common::{JoinType, TableReference};
use datafusion::dataframe::DataFrame;
use datafusion::functions::expr_fn::coalesce;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use weir_model::sql_tables::TableName;
use weir_model::transform::{At, Join, JoinKind, Step};

use super::context::{Ctx, Found, find};
use crate::sql::type_name;

/// The other table, or a problem at its name.
async fn table(ctx: &mut Ctx<'_>, step: &str, name: &At<TableName>) -> Option<DataFrame> {
    let reference = TableReference::partial(name.value.database.as_str(), name.value.name.as_str());
    match ctx.session.table(reference).await {
        Ok(frame) => Some(frame),
        Err(_) => {
            ctx.problem(
                name.pos,
                format!("{step}: no table `{}` in the catalog", name.value),
            );
            None
        }
    }
}

/// Join with another table on equal columns. The right table's columns (`columns`, or all but
/// its join keys) come after the left's; a name the left already has gets the table's name as a
/// prefix (`customers_id`). In a right or full join the left key takes the right key's value
/// where the left side is missing.
pub(super) async fn join(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    step: &Step,
    join: &Join,
) -> Option<DataFrame> {
    let right = table(ctx, "join", &join.table).await;
    let mut left_keys: Vec<Found> = Vec::new();
    let mut right_keys: Vec<Found> = Vec::new();
    let mut ok = right.is_some();
    for (left_name, right_name) in &join.on {
        let left = ctx.column(&frame, left_name);
        let right = right.as_ref().and_then(|r| ctx.column(r, right_name));
        match (left, right) {
            (Some(left), Some(right)) => {
                if comparison_coercion(&left.data_type, &right.data_type).is_none() {
                    ctx.problem(
                        right_name.pos,
                        format!(
                            "join: `{}` ({}) cannot be compared with `{}.{}` ({})",
                            left.name,
                            type_name(&left.data_type),
                            join.table.value,
                            right.name,
                            type_name(&right.data_type)
                        ),
                    );
                    ok = false;
                }
                left_keys.push(left);
                right_keys.push(right);
            }
            _ => ok = false,
        }
    }
    if join.on.is_empty() {
        ctx.problem(step.pos, "join: `on` names no columns");
        ok = false;
    }
    let right = right?;
    let brought: Vec<Found> = match &join.columns {
        Some(names) => ctx.columns(&right, names)?,
        None => {
            let keys: HashSet<&str> = right_keys.iter().map(|k| k.name.as_str()).collect();
            right
                .schema()
                .fields()
                .iter()
                .filter(|f| !keys.contains(f.name().as_str()))
                .filter_map(|f| find(right.schema(), f.name()))
                .collect()
        }
    };
    if !ok {
        return None;
    }
    let left_names: HashSet<String> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().to_ascii_lowercase())
        .collect();
    // The right side, unqualified: its keys under private names, its columns under their names
    // in the output.
    let mut right_exprs: Vec<Expr> = right_keys
        .iter()
        .enumerate()
        .map(|(i, k)| k.expr.clone().alias(format!("__weir_key_{i}")))
        .collect();
    let mut taken = left_names.clone();
    let mut brought_names = Vec::new();
    for column in &brought {
        let mut name = column.name.clone();
        if taken.contains(&name.to_ascii_lowercase()) {
            name = format!("{}_{}", join.table.value.name, column.name);
        }
        if !taken.insert(name.to_ascii_lowercase()) {
            ctx.problem(
                step.pos,
                format!("join: the column `{name}` would appear twice; rename one first"),
            );
            return None;
        }
        right_exprs.push(column.expr.clone().alias(&name));
        brought_names.push(name);
    }
    let planned = (|| {
        let right = right.select(right_exprs)?;
        let on: Vec<Expr> = left_keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                k.expr
                    .clone()
                    .eq(datafusion::logical_expr::col(format!("__weir_key_{i}")))
            })
            .collect();
        let kind = join_type(join.kind);
        let joined = frame.clone().join_on(right, kind, on)?;
        let mut output: Vec<Expr> = Vec::new();
        for column in frame.schema().columns() {
            let key = left_keys.iter().position(|k| k.name == column.name);
            let keep_right_value = matches!(join.kind, JoinKind::Right | JoinKind::Full);
            match key {
                Some(i)
                    if keep_right_value && left_keys[i].data_type == right_keys[i].data_type =>
                {
                    output.push(
                        coalesce(vec![
                            Expr::Column(column.clone()),
                            datafusion::logical_expr::col(format!("__weir_key_{i}")),
                        ])
                        .alias(&column.name),
                    );
                }
                _ => output.push(Expr::Column(column.clone()).alias(&column.name)),
            }
        }
        if !matches!(join.kind, JoinKind::Semi | JoinKind::Anti) {
            for name in &brought_names {
                output.push(datafusion::logical_expr::ident(name));
            }
        }
        joined.select(output)
    })();
    planned
        .map_err(|e| ctx.planning(step.pos, step.name(), &e))
        .ok()
}

fn join_type(kind: JoinKind) -> JoinType {
    match kind {
        JoinKind::Inner => JoinType::Inner,
        JoinKind::Left => JoinType::Left,
        JoinKind::Right => JoinType::Right,
        JoinKind::Full => JoinType::Full,
        JoinKind::Semi => JoinType::LeftSemi,
        JoinKind::Anti => JoinType::LeftAnti,
    }
}

/// Append another table's rows, columns matched by name (a column one side lacks is null on
/// that side's rows).
pub(super) async fn union(
    ctx: &mut Ctx<'_>,
    frame: DataFrame,
    step: &Step,
    other: &At<TableName>,
) -> Option<DataFrame> {
    let other_frame = table(ctx, "union", other).await?;
    // Unqualified on both sides, so columns match by name alone.
    let unqualified = |f: DataFrame| {
        let exprs: Vec<Expr> = f
            .schema()
            .columns()
            .into_iter()
            .map(|c| {
                let name = c.name.clone();
                Expr::Column(c).alias(name)
            })
            .collect();
        f.select(exprs)
    };
    let planned = unqualified(frame).and_then(|left| left.union_by_name(unqualified(other_frame)?));
    planned
        .map_err(|e| ctx.planning(step.pos, step.name(), &e))
        .ok()
}
