//! Dynamic filters applied to the rows a scan reads, where the rows they drop would otherwise be
//! joined or grouped before being dropped.
//!
//! A hash join, once its build side is read, knows which key values can match (their bounds,
//! and for small build sides the values themselves); a top-k knows the value a row must beat.
//! DataFusion hands these on as dynamic filters down to the Parquet scans that feed the other
//! side. Without Parquet filter pushdown (off in weir: late materialisation costs more than it
//! saves on most queries) a scan uses them only to skip whole files and row groups by their
//! statistics, and every row still flows up to the node that discards it.
//!
//! Where the scan feeds that node directly (through filters, projections and repartitioning
//! only), applying the filter to rows first repeats the node's own work: a partitioned join's
//! filter is a hash of each row's key, as dear as the join's probe. Measured on TPC-H, applying
//! them everywhere made the suite slower (median 1.26 → 1.50 against DuckDB). Where another
//! join or an aggregation lies between (an `IN (subquery)` above a join of the fact table, a
//! correlated subquery's aggregate grouped by the join key over the whole fact table), every
//! row dropped at the scan is a row not joined or grouped for nothing.
//! [`ApplyDynamicFilters`] puts a [`DynamicRowFilterExec`] with just those filters right above
//! such scans, which stops filtering where its filters turn out to drop too few rows.
//!
//! The filters are conservative (a row they drop cannot contribute to the result), and `true`
//! until their producer completes, so the answer never depends on timing.

mod exec;
mod routed;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{Column, DynamicFilterPhysicalExpr};
use datafusion::physical_expr::utils::{conjunction, reassign_expr_columns, split_conjunction};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::union::{InterleaveExec, UnionExec};

use super::dictionary_aggregate::DictionaryAggregateExec;

pub use exec::DynamicRowFilterExec;

#[derive(Debug, Default)]
pub struct ApplyDynamicFilters;

impl PhysicalOptimizerRule for ApplyDynamicFilters {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // With pushdown on, the Parquet reader applies them itself.
        if config.execution.parquet.pushdown_filters {
            return Ok(plan);
        }
        rewrite(plan, &Producers::new())
    }

    fn name(&self) -> &str {
        "weir_apply_dynamic_filters"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// What lies between a dynamic filter's producer and a node below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Between {
    /// Nodes that hand rows on as they come: the producer drops the rows itself.
    Nothing,
    /// Joins (or other nodes that combine rows): dropping rows first pays only when nearly all
    /// go (an `IN` of a few keys above a join of the fact table); a filter that keeps more
    /// costs about what the joins save (it hashes each row as they do).
    Joins,
    /// An aggregation: rows dropped first are rows not grouped for nothing.
    Aggregation,
}

/// The dynamic filters produced above a node, by expression id.
type Producers = HashMap<u64, Between>;

fn rewrite(plan: Arc<dyn ExecutionPlan>, producers: &Producers) -> Result<Arc<dyn ExecutionPlan>> {
    // At a scan, or a filter right over one: the dynamic filter then runs after it, over fewer
    // rows. (When the filter does not output the key, the scan below is wrapped instead.)
    if let Some(scan) = scan_at(&plan) {
        // Measured on TPC-H (q07, q08, q17, q18): below an aggregation, filtering pays while
        // up to half the rows pass; across joins only, while up to 1 % do.
        let filters =
            [(Between::Aggregation, 0.5), (Between::Joins, 0.01)].map(|(across, most_passing)| {
                (row_filter(&scan, &plan, producers, across), most_passing)
            });
        // A filter over the scan that drops a key column: wrap the scan below instead.
        let placeable = !filters.iter().any(|(f, _)| matches!(f, Some(None)));
        if placeable && filters.iter().any(|(f, _)| f.is_some()) {
            let mut filtered = Arc::clone(&plan);
            for (filter, most_passing) in filters {
                if let Some(Some(filter)) = filter {
                    filtered = Arc::new(DynamicRowFilterExec::new(filtered, filter, most_passing));
                }
            }
            return Ok(filtered);
        }
    }
    let mut below = producers.clone();
    let step = between(&plan);
    below.values_mut().for_each(|b| *b = (*b).max(step));
    for produced in plan.dynamic_expressions_produced() {
        if let Some(id) = produced.expression_id() {
            below.insert(id, Between::Nothing);
        }
    }
    let children = plan
        .children()
        .into_iter()
        .map(|child| rewrite(Arc::clone(child), &below))
        .collect::<Result<Vec<_>>>()?;
    replace_children_if_necessary(plan, children)
}

/// The scan `plan` is, or reads through one filter.
fn scan_at(plan: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    if plan.downcast_ref::<DataSourceExec>().is_some() {
        return Some(Arc::clone(plan));
    }
    plan.downcast_ref::<FilterExec>()?;
    let child = plan.children().first().map(|c| Arc::clone(*c))?;
    child
        .downcast_ref::<DataSourceExec>()
        .map(|_| child.clone())
}

/// What passing rows up through `plan` does to them.
fn between(plan: &Arc<dyn ExecutionPlan>) -> Between {
    let passes_on = plan.downcast_ref::<FilterExec>().is_some()
        || plan.downcast_ref::<ProjectionExec>().is_some()
        || plan.downcast_ref::<RepartitionExec>().is_some()
        || plan.downcast_ref::<CoalescePartitionsExec>().is_some()
        || plan.downcast_ref::<CooperativeExec>().is_some()
        || plan.downcast_ref::<UnionExec>().is_some()
        || plan.downcast_ref::<InterleaveExec>().is_some()
        || plan.downcast_ref::<SortPreservingMergeExec>().is_some()
        || plan.downcast_ref::<DynamicRowFilterExec>().is_some();
    if passes_on {
        Between::Nothing
    } else if plan.downcast_ref::<AggregateExec>().is_some()
        || plan.downcast_ref::<DictionaryAggregateExec>().is_some()
        // A full sort costs per row as an aggregation does.
        || plan.downcast_ref::<SortExec>().is_some()
    {
        Between::Aggregation
    } else {
        Between::Joins
    }
}

/// The conjunction of `scan`'s dynamic filters whose producer is `across` from it, over
/// `node`'s output columns (`node` is the scan or a filter over it); `None` when there are
/// none to apply, `Some(None)` when `node` lacks a column they read.
fn row_filter(
    scan: &Arc<dyn ExecutionPlan>,
    node: &Arc<dyn ExecutionPlan>,
    producers: &Producers,
    across: Between,
) -> Option<Option<Arc<dyn PhysicalExpr>>> {
    let config = scan
        .downcast_ref::<DataSourceExec>()?
        .data_source()
        .downcast_ref::<FileScanConfig>()?;
    // The predicate reads the table's columns. A projection folded into the scan that renames
    // or computes columns (`k + 1000 AS k`) would make the name-for-name mapping below wrong:
    // such scans keep the filters for pruning only.
    if let Some(projection) = config.file_source().projection() {
        let plain = projection.iter().all(|p| {
            p.expr
                .downcast_ref::<Column>()
                .is_some_and(|c| c.name() == p.alias)
        });
        if !plain {
            return None;
        }
    }
    let predicate = config.file_source().filter()?;
    let worth: Vec<Arc<dyn PhysicalExpr>> = split_conjunction(&predicate)
        .into_iter()
        .filter(|c| {
            c.downcast_ref::<DynamicFilterPhysicalExpr>().is_some()
                && c.expression_id()
                    .is_some_and(|id| producers.get(&id) == Some(&across))
        })
        .cloned()
        .collect();
    if worth.is_empty() {
        return None;
    }
    // The scan's predicate reads the table's columns; the filter reads the node's output
    // (`None` inside when the node does not output a column it needs).
    Some(reassign_expr_columns(conjunction(worth), &node.schema()).ok())
}
