//! The best `k` rows per key without sorting every row.
//!
//! "The latest row per key" and "the top `k` per group" are written as
//! `row_number() OVER (PARTITION BY keys ORDER BY o) <= k` (a transform's `dedupe` compiles to
//! it too). DataFusion plans that as a sort of every row, the window, then the filter: over ten
//! million rows and a million keys the sort is most of the time. [`KeepTopRowsPerKey`] puts a
//! [`TopPerKeyExec`] under that sort, which keeps each key's best `k` rows in one hash pass and
//! drops the rest, so the sort, window and filter (all kept, unchanged) see only the rows that
//! can pass.
//!
//! DataFusion 55 has a rule for this shape (`enable_window_topn`, off by default) whose
//! operator keeps a heap and takes a sub-batch per key per input batch: its documentation
//! warns of regressions with many keys, the common case here. This one keeps a flat slot table
//! and references into the input batches instead.

mod exec;
mod keys;
mod orders;
mod rows;

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{BinaryExpr, CastExpr, Column, Literal, TryCastExpr};
use datafusion::physical_expr::utils::split_conjunction;
use datafusion::physical_expr::window::WindowExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::execution_plan::{Boundedness, replace_children_if_necessary};
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec};
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};

pub use exec::TopPerKeyExec;

use super::sorted_window::is_row_number;
use super::tuning::replace_nodes;

/// The largest `k` rewritten: past it, keys rarely have more rows than are kept.
const MAX_K: usize = 64;
// Each key's filled slots are counted in a u8.
const _: () = assert!(MAX_K <= u8::MAX as usize);

/// Puts a [`TopPerKeyExec`] under the sort of a `row_number()` window whose rows are then
/// filtered to the first `k`.
#[derive(Debug, Default)]
pub struct KeepTopRowsPerKey;

impl PhysicalOptimizerRule for KeepTopRowsPerKey {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        replace_nodes(plan, |node| {
            if node.downcast_ref::<FilterExec>().is_none() {
                return Ok(None);
            }
            rewrite(node)
        })
    }

    fn name(&self) -> &str {
        "weir_keep_top_rows_per_key"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `filter` (over an optional projection, over a window, over a sort) with the top-rows
/// filter under the sort, when the shape qualifies.
fn rewrite(node: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some(filter) = node.downcast_ref::<FilterExec>() else {
        return Ok(None);
    };
    let mut below = Arc::clone(filter.input());
    let projection = below.downcast_ref::<ProjectionExec>().map(|p| {
        p.expr()
            .iter()
            .map(|e| Arc::clone(&e.expr))
            .collect::<Vec<_>>()
    });
    if projection.is_some() {
        below = Arc::clone(below.children()[0]);
    }
    let (window_exprs, sort) = match window_parts(&below) {
        Some(parts) => parts,
        None => return Ok(None),
    };
    let Some(sort_exec) = sort.downcast_ref::<SortExec>() else {
        return Ok(None);
    };
    if sort_exec.fetch().is_some() || sort_exec.input().boundedness() != Boundedness::Bounded {
        return Ok(None);
    }
    let window_input_width = sort.schema().fields().len();
    // Every window expression is `row_number()` with the same partitioning and order: removing
    // rows then changes no value the filter keeps.
    let Some(first) = window_exprs.first() else {
        return Ok(None);
    };
    let same_window = |e: &Arc<dyn WindowExpr>| {
        is_row_number(e)
            && e.partition_by().len() == first.partition_by().len()
            && e.partition_by()
                .iter()
                .zip(first.partition_by())
                .all(|(a, b)| a.eq(b))
            && e.order_by() == first.order_by()
    };
    if !window_exprs.iter().all(same_window) || first.partition_by().is_empty() {
        return Ok(None);
    }
    let numbered = |column: usize| -> bool {
        let column = match &projection {
            Some(exprs) => match exprs.get(column).and_then(|e| e.downcast_ref::<Column>()) {
                Some(c) => c.index(),
                None => return false,
            },
            None => column,
        };
        column >= window_input_width && column < window_input_width + window_exprs.len()
    };
    let Some(k) = split_conjunction(filter.predicate())
        .into_iter()
        .filter_map(|conjunct| row_limit(conjunct, &numbered))
        .min()
    else {
        return Ok(None);
    };
    if k == 0 || k > MAX_K {
        return Ok(None);
    }
    let top = Arc::new(TopPerKeyExec::new(
        Arc::clone(sort_exec.input()),
        first.partition_by().to_vec(),
        first.order_by().to_vec(),
        k,
    ));
    let sort = replace_children_if_necessary(sort, vec![top])?;
    let window = replace_children_if_necessary(below, vec![sort])?;
    let filtered_input = match projection {
        Some(_) => replace_children_if_necessary(Arc::clone(filter.input()), vec![window])?,
        None => window,
    };
    Ok(Some(replace_children_if_necessary(
        Arc::clone(node),
        vec![filtered_input],
    )?))
}

type WindowParts = (Vec<Arc<dyn WindowExpr>>, Arc<dyn ExecutionPlan>);

/// A window node's expressions and input.
fn window_parts(node: &Arc<dyn ExecutionPlan>) -> Option<WindowParts> {
    if let Some(window) = node.downcast_ref::<BoundedWindowAggExec>() {
        return Some((window.window_expr().to_vec(), Arc::clone(window.input())));
    }
    let window = node.downcast_ref::<WindowAggExec>()?;
    Some((window.window_expr().to_vec(), Arc::clone(window.input())))
}

/// The `k` that `conjunct` limits a row number to (`rn <= k`, `rn < k + 1`, `rn = 1`, or the
/// literal first), when `numbered` says its column is a row number.
fn row_limit(conjunct: &Arc<dyn PhysicalExpr>, numbered: &impl Fn(usize) -> bool) -> Option<usize> {
    let binary = conjunct.downcast_ref::<BinaryExpr>()?;
    let (column, op, literal) = match (
        row_number_column(binary.left()),
        binary.right().downcast_ref::<Literal>(),
    ) {
        (Some(column), Some(literal)) => (column, *binary.op(), literal),
        _ => {
            let literal = binary.left().downcast_ref::<Literal>()?;
            let column = row_number_column(binary.right())?;
            (column, binary.op().swap()?, literal)
        }
    };
    if !numbered(column) {
        return None;
    }
    let value = literal.value();
    let k = if value.data_type().is_integer() {
        let ScalarValue::Int64(Some(bound)) = value.cast_to(&DataType::Int64).ok()? else {
            return None;
        };
        match op {
            Operator::LtEq => bound,
            Operator::Lt => bound.checked_sub(1)?,
            Operator::Eq if bound == 1 => 1,
            _ => return None,
        }
    } else {
        // A float or decimal may have been rounded on its way to f64 (3.000…01 becomes 3.0):
        // `floor` is exact or one too many for both comparisons, and more rows kept is safe.
        let ScalarValue::Float64(Some(bound)) = value.cast_to(&DataType::Float64).ok()? else {
            return None;
        };
        match op {
            Operator::LtEq | Operator::Lt if bound.is_finite() => bound.floor() as i64,
            _ => return None,
        }
    };
    usize::try_from(k).ok().filter(|k| *k <= MAX_K)
}

/// The column `expr` reads, directly or through a cast to a number (which keeps the order of
/// row numbers).
fn row_number_column(expr: &Arc<dyn PhysicalExpr>) -> Option<usize> {
    if let Some(column) = expr.downcast_ref::<Column>() {
        return Some(column.index());
    }
    let (inner, to) = if let Some(cast) = expr.downcast_ref::<CastExpr>() {
        (cast.expr(), cast.cast_type())
    } else {
        let cast = expr.downcast_ref::<TryCastExpr>()?;
        (cast.expr(), cast.cast_type())
    };
    if !to.is_numeric() {
        return None;
    }
    inner.downcast_ref::<Column>().map(Column::index)
}

#[cfg(test)]
mod tests;
