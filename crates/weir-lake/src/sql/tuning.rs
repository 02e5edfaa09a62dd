//! Physical plan rewrites that DataFusion does not make by itself.
//!
//! Window functions: DataFusion runs a window whose functions need bounded memory (`lag`,
//! `row_number`, running sums) with `BoundedWindowAggExec`, which keeps state per window
//! partition and is slow when partitions are many and small (sessions, users: hundreds of
//! thousands of partitions of a few rows). When the window's input is a full sort, everything is
//! in memory already, and `WindowAggExec`, which evaluates each partition over the sorted batch in
//! one pass, is several times faster at no extra memory. Where every window function is `lag`,
//! `lead` or `row_number`, [`SortedWindowExec`] goes further and evaluates all partitions at once.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::InputOrderMode;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec};

use super::dictionary_aggregate::DictionaryAggregateExec;
use super::sorted_window::SortedWindowExec;

/// `plan` with every node that `rewrite` returns a replacement for replaced, bottom up.
pub(super) fn replace_nodes(
    plan: Arc<dyn ExecutionPlan>,
    rewrite: impl Fn(&Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>>,
) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        Ok(match rewrite(&node)? {
            Some(replacement) => Transformed::yes(replacement),
            None => Transformed::no(node),
        })
    })
    .map(|t| t.data)
}

/// The one input of a single-input operator `name` being given new children.
pub(super) fn only_child(
    mut children: Vec<Arc<dyn ExecutionPlan>>,
    name: &str,
) -> Result<Arc<dyn ExecutionPlan>> {
    match (children.pop(), children.is_empty()) {
        (Some(input), true) => Ok(input),
        _ => datafusion::common::internal_err!("{name} takes one input"),
    }
}

/// Runs aggregations grouped by dictionary columns by key ([`DictionaryAggregateExec`]).
#[derive(Debug, Default)]
pub struct GroupByDictionaryKey;

impl PhysicalOptimizerRule for GroupByDictionaryKey {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        replace_nodes(plan, |node| {
            let Some(aggregate) = node.downcast_ref::<AggregateExec>() else {
                return Ok(None);
            };
            Ok(
                DictionaryAggregateExec::try_wrap(Arc::new(aggregate.clone()))
                    .map(|by_key| Arc::new(by_key) as Arc<dyn ExecutionPlan>),
            )
        })
    }

    fn name(&self) -> &str {
        "weir_group_by_dictionary_key"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[derive(Debug, Default)]
pub struct WindowAfterSort;

impl PhysicalOptimizerRule for WindowAfterSort {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        replace_nodes(plan, |node| {
            let Some(window) = node.downcast_ref::<BoundedWindowAggExec>() else {
                return Ok(None);
            };
            let sorted_input = window.input_order_mode == InputOrderMode::Sorted
                && window
                    .input()
                    .downcast_ref::<SortExec>()
                    .is_some_and(|s| s.fetch().is_none());
            if !sorted_input {
                return Ok(None);
            }
            let unbounded = Arc::new(WindowAggExec::try_new(
                window.window_expr().to_vec(),
                Arc::clone(window.input()),
                !window.partition_keys().is_empty(),
            )?);
            Ok(Some(
                match SortedWindowExec::try_wrap(Arc::clone(&unbounded)) {
                    Some(sorted) => Arc::new(sorted) as Arc<dyn ExecutionPlan>,
                    None => unbounded as Arc<dyn ExecutionPlan>,
                },
            ))
        })
    }

    fn name(&self) -> &str {
        "weir_window_after_sort"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
