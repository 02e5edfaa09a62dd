//! Aggregating a fact table before joining it with a dimension table.
//!
//! `SELECT d.region, count(*), sum(f.revenue) FROM facts f JOIN dims d ON f.country = d.code
//! GROUP BY d.region` joins every fact row, then groups. When the join key takes few values, it
//! is much cheaper to group the facts by the key first (millions of rows become dozens), join the
//! groups, and combine them: counts and sums add up, minima and maxima combine. This is exact for
//! an inner equi-join whatever the dimension holds (a key matching two dimension rows contributes
//! its partial aggregates twice, as its rows would have).
//!
//! "Few values" is judged from the type: fact join keys that are dictionaries, as repeating
//! strings are read (see `footers`). Grouping by a key with many values first would be no faster
//! than joining first.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchema, ExprSchema, NullEquality, Result};
use datafusion::functions_aggregate::expr_fn::{max, min, sum};
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{Expr, Join, JoinType, LogicalPlan, LogicalPlanBuilder, col};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

#[derive(Debug, Default)]
pub struct AggregateBeforeDimensionJoin;

impl OptimizerRule for AggregateBeforeDimensionJoin {
    fn name(&self) -> &str {
        "weir_aggregate_before_dimension_join"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        match eager(&plan)? {
            Some(rewritten) => Ok(Transformed::yes(rewritten)),
            None => Ok(Transformed::no(plan)),
        }
    }
}

/// How a partial aggregate combines into the final one.
#[derive(Clone, Copy)]
enum Combine {
    /// count and sum: the partials add up.
    Sum,
    Min,
    Max,
}

/// One aggregate of the original plan, split in two.
struct Split {
    partial: Expr,
    combine: Combine,
    /// The original's output name, kept so that nothing above notices.
    name: String,
}

fn split(expr: &Expr) -> Option<Split> {
    let (inner, name) = match expr {
        Expr::Alias(alias) => (alias.expr.as_ref(), alias.name.clone()),
        other => (other, other.schema_name().to_string()),
    };
    let Expr::AggregateFunction(function) = inner else {
        return None;
    };
    let params = &function.params;
    if params.distinct
        || params.filter.is_some()
        || !params.order_by.is_empty()
        || params.args.len() != 1
    {
        return None;
    }
    let combine = match function.func.name() {
        "count" | "sum" => Combine::Sum,
        "min" => Combine::Min,
        "max" => Combine::Max,
        _ => return None,
    };
    Some(Split {
        partial: Expr::AggregateFunction(AggregateFunction::new_udf(
            Arc::clone(&function.func),
            params.args.clone(),
            false,
            None,
            vec![],
            None,
        )),
        combine,
        name,
    })
}

fn columns_within(expr: &Expr, schema: &DFSchema) -> bool {
    expr.column_refs().iter().all(|c| schema.has_column(c))
}

/// The plan with the aggregation split around the join, when `plan` is an aggregation that
/// qualifies.
fn eager(plan: &LogicalPlan) -> Result<Option<LogicalPlan>> {
    let LogicalPlan::Aggregate(aggregate) = plan else {
        return Ok(None);
    };
    // A projection that only picks columns may sit between the aggregation and the join.
    let below = match aggregate.input.as_ref() {
        LogicalPlan::Projection(p) if p.expr.iter().all(|e| matches!(e, Expr::Column(_))) => {
            p.input.as_ref()
        }
        other => other,
    };
    let LogicalPlan::Join(join) = below else {
        return Ok(None);
    };
    if join.join_type != JoinType::Inner
        || join.filter.is_some()
        || join.on.is_empty()
        || join.null_equality != NullEquality::NullEqualsNothing
        || aggregate.group_expr.is_empty()
        || aggregate
            .group_expr
            .iter()
            .any(|e| matches!(e, Expr::GroupingSet(_)))
    {
        return Ok(None);
    }
    let Some(splits) = aggregate
        .aggr_expr
        .iter()
        .map(split)
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    for fact_is_left in [true, false] {
        let (fact, dimension) = match fact_is_left {
            true => (&join.left, &join.right),
            false => (&join.right, &join.left),
        };
        let fact_schema = fact.schema();
        let keys: Option<Vec<Column>> = join
            .on
            .iter()
            .map(|(l, r)| match if fact_is_left { l } else { r } {
                Expr::Column(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        let Some(keys) = keys else { continue };
        let few_values = keys.iter().all(|k| {
            fact_schema
                .field_from_column(k)
                .is_ok_and(|f| matches!(f.data_type(), DataType::Dictionary(_, _)))
        });
        let arguments_on_fact = splits
            .iter()
            .all(|s| columns_within(&s.partial, fact_schema));
        let groups_on_dimension = aggregate
            .group_expr
            .iter()
            .all(|e| columns_within(e, dimension.schema()));
        if !(few_values && arguments_on_fact && groups_on_dimension) {
            continue;
        }
        let partial_name = |i: usize| format!("__weir_partial_{i}");
        let partials = LogicalPlanBuilder::from(fact.as_ref().clone())
            .aggregate(
                keys.iter().cloned().map(Expr::Column),
                splits
                    .iter()
                    .enumerate()
                    .map(|(i, s)| s.partial.clone().alias(partial_name(i))),
            )?
            .build()?;
        let (left, right) = match fact_is_left {
            true => (Arc::new(partials), Arc::clone(dimension)),
            false => (Arc::clone(dimension), Arc::new(partials)),
        };
        let joined = LogicalPlan::Join(Join::try_new(
            left,
            right,
            join.on.clone(),
            None,
            JoinType::Inner,
            join.join_constraint,
            join.null_equality,
            join.null_aware,
        )?);
        let combined = splits.iter().enumerate().map(|(i, s)| {
            let partial = col(Column::from_name(partial_name(i)));
            match s.combine {
                Combine::Sum => sum(partial),
                Combine::Min => min(partial),
                Combine::Max => max(partial),
            }
            .alias(s.name.clone())
        });
        let rewritten = LogicalPlanBuilder::from(joined)
            .aggregate(aggregate.group_expr.clone(), combined)?
            .build()?;
        // Only a plan with the same columns of the same types replaces the original (a sum of
        // decimal sums, for one, would be wider).
        let same =
            rewritten.schema().fields().len() == plan.schema().fields().len()
                && rewritten.schema().iter().zip(plan.schema().iter()).all(
                    |((q1, f1), (q2, f2))| {
                        q1 == q2 && f1.name() == f2.name() && f1.data_type() == f2.data_type()
                    },
                );
        return Ok(same.then_some(rewritten));
    }
    Ok(None)
}
