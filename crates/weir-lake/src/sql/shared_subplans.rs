//! A grouped result a statement needs twice, computed once.
//!
//! A `WITH` query or view named twice (TPC-H q15: the revenue per supplier, and its maximum) is
//! planned as two copies of the same subplan, each scanning and grouping the fact table.
//! [`ShareRepeatedAggregates`] finds copies that are the same plan down to their scans, rooted at
//! an aggregation (whose result is usually small), and wraps each in a [`SharedExec`] with one
//! cache per output partition: whichever copy runs a partition first keeps its batches, and the
//! others read them.
//!
//! Each copy keeps its own subplan: if the result does not fit the memory pool, the first copy
//! hands on what it read and reads the rest, and the others run their own subplans as if
//! nothing were shared. Copies may fill different partitions' caches when they run at once;
//! each subplan then reads its whole input (its repartitioning holding the rows of partitions
//! it does not hand on), which costs what running both copies did. Only subplans that read
//! files, compute nothing volatile and hold no join are shared (see `same_everywhere`).
//!
//! The rule runs before DataFusion pushes dynamic filters down, and `SharedExec` does not let
//! them through: a filter one consumer's join builds would otherwise filter the rows the other
//! consumer reads.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr_common::physical_expr::is_volatile;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
    SendableRecordBatchStream, displayable,
};
use futures::{StreamExt, TryStreamExt};
use tokio::sync::OnceCell;

use super::tuning::{only_child, replace_nodes};

/// One output partition's batches, held against the memory pool until the plan is dropped.
#[derive(Debug)]
struct Kept {
    batches: Vec<RecordBatch>,
    _reservation: MemoryReservation,
}

/// One output partition's cache: `None` when its batches did not fit the memory pool.
type Cached = Option<Arc<Kept>>;

#[derive(Debug, Default)]
pub struct ShareRepeatedAggregates;

impl PhysicalOptimizerRule for ShareRepeatedAggregates {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        count_candidates(&plan, &mut seen);
        let repeated: HashSet<String> = seen
            .into_iter()
            .filter(|(_, count)| *count > 1)
            .map(|(key, _)| key)
            .collect();
        if repeated.is_empty() {
            return Ok(plan);
        }
        // One set of caches per repeated subplan, sized to its output partitions.
        let caches: RefCell<HashMap<String, Arc<Vec<OnceCell<Cached>>>>> = RefCell::default();
        replace_nodes(plan, |node| {
            let Some(key) = candidate_key(node) else {
                return Ok(None);
            };
            if !repeated.contains(&key) {
                return Ok(None);
            }
            let partitions = node.output_partitioning().partition_count();
            let mut caches = caches.borrow_mut();
            let cache = caches
                .entry(key)
                .or_insert_with(|| Arc::new((0..partitions).map(|_| OnceCell::new()).collect()));
            Ok(Some(Arc::new(SharedExec {
                inner: Arc::clone(node),
                cache: Arc::clone(cache),
            }) as Arc<dyn ExecutionPlan>))
        })
    }

    fn name(&self) -> &str {
        "weir_share_repeated_aggregates"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Counts every candidate subplan by its text; a candidate's own candidates are not counted
/// (the outermost repeated one is shared).
fn count_candidates(plan: &Arc<dyn ExecutionPlan>, seen: &mut HashMap<String, usize>) {
    if let Some(key) = candidate_key(plan) {
        *seen.entry(key).or_default() += 1;
        return;
    }
    for child in plan.children() {
        count_candidates(child, seen);
    }
}

/// The text of a final aggregation over scans, which identifies its copies.
fn candidate_key(plan: &Arc<dyn ExecutionPlan>) -> Option<String> {
    let aggregate = plan.downcast_ref::<AggregateExec>()?;
    if !matches!(
        aggregate.mode(),
        AggregateMode::Final
            | AggregateMode::FinalPartitioned
            | AggregateMode::Single
            | AggregateMode::SinglePartitioned
    ) || aggregate.group_expr().is_empty()
    {
        return None;
    }
    if !same_everywhere(plan) {
        return None;
    }
    let text = displayable(plan.as_ref()).indent(true).to_string();
    // Dynamic filters differ from copy to copy (each its own producer's); a scalar subquery's
    // value is not in the text.
    (!text.contains("DynamicFilter") && !text.contains("scalar_subquery")).then_some(text)
}

/// Whether every copy of `plan` is bound to give the same rows whichever runs, and runs alone:
/// it reads only files (a memory source's text does not show its values), computes nothing
/// volatile, and holds no join. A join waits for its build side in every partition, and copies
/// may fill different partitions' caches, so a copy with a join could wait for a partition only
/// another copy ran.
fn same_everywhere(plan: &Arc<dyn ExecutionPlan>) -> bool {
    let mut fine = true;
    let mut scans = false;
    let _ = plan.apply(|node| {
        let children = node.children().len();
        if children == 0 {
            let file_scan = node
                .downcast_ref::<DataSourceExec>()
                .is_some_and(|s| s.data_source().downcast_ref::<FileScanConfig>().is_some());
            scans |= file_scan;
            fine &= file_scan;
        }
        fine &= children <= 1 && node.downcast_ref::<SharedExec>().is_none();
        let _ = node.apply_expressions(&mut |expr| {
            fine &= !is_volatile(expr);
            Ok(TreeNodeRecursion::Continue)
        });
        Ok(if fine {
            TreeNodeRecursion::Continue
        } else {
            TreeNodeRecursion::Stop
        })
    });
    fine && scans
}

/// One copy of a repeated subplan, reading the batches another copy computed when it can.
#[derive(Debug)]
pub struct SharedExec {
    inner: Arc<dyn ExecutionPlan>,
    cache: Arc<Vec<OnceCell<Cached>>>,
}

impl DisplayAs for SharedExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "SharedExec")
    }
}

impl ExecutionPlan for SharedExec {
    fn name(&self) -> &str {
        "SharedExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.inner.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.inner]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // Rules after this one rewrite every copy alike (filters from outside do not pass
        // through), so the copies stay one result.
        Ok(Arc::new(SharedExec {
            inner: only_child(children, self.name())?,
            cache: Arc::clone(&self.cache),
        }))
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let schema = self.inner.schema();
        let inner = Arc::clone(&self.inner);
        let cache = Arc::clone(&self.cache);
        let stream = futures::stream::once(async move {
            let Some(cell) = cache.get(partition) else {
                return inner.execute(partition, context);
            };
            // Whoever comes first runs its own subplan into the cache; a result too large for
            // the pool is handed on as it streams, and the cache says so.
            let mut handed_on: Option<SendableRecordBatchStream> = None;
            let cached = cell
                .get_or_try_init(|| async {
                    let mut input = inner.execute(partition, Arc::clone(&context))?;
                    let reservation = MemoryConsumer::new(format!("SharedExec[{partition}]"))
                        .register(context.memory_pool());
                    let mut batches = Vec::new();
                    while let Some(batch) = input.try_next().await? {
                        if reservation.try_grow(batch.get_array_memory_size()).is_err() {
                            batches.push(batch);
                            let read = futures::stream::iter(batches.into_iter().map(Ok));
                            handed_on = Some(Box::pin(RecordBatchStreamAdapter::new(
                                input.schema(),
                                read.chain(input),
                            )));
                            return Ok::<Cached, datafusion::error::DataFusionError>(None);
                        }
                        batches.push(batch);
                    }
                    Ok(Some(Arc::new(Kept {
                        batches,
                        _reservation: reservation,
                    })))
                })
                .await?;
            if let Some(stream) = handed_on {
                return Ok(stream);
            }
            match cached {
                Some(kept) => {
                    let batches: Vec<Result<RecordBatch>> =
                        kept.batches.iter().cloned().map(Ok).collect();
                    Ok(Box::pin(RecordBatchStreamAdapter::new(
                        inner.schema(),
                        futures::stream::iter(batches),
                    )) as SendableRecordBatchStream)
                }
                None => inner.execute(partition, context),
            }
        })
        .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, Int64Array};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::execution::memory_pool::GreedyMemoryPool;
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use datafusion::physical_plan::collect;

    use super::*;

    /// A one-partition plan of the values given.
    fn values(values: &[i64]) -> Arc<dyn ExecutionPlan> {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(Int64Array::from(values.to_vec()))],
        )
        .unwrap();
        MemorySourceConfig::try_new_exec(&[vec![batch]], schema, None).unwrap()
    }

    /// Two copies sharing one cache; their subplans differ only so that the test can tell
    /// whose rows a copy hands on.
    fn copies() -> (Arc<dyn ExecutionPlan>, Arc<dyn ExecutionPlan>) {
        let cache: Arc<Vec<OnceCell<Cached>>> = Arc::new(vec![OnceCell::new()]);
        let first = SharedExec {
            inner: values(&[1, 2, 3]),
            cache: Arc::clone(&cache),
        };
        let second = SharedExec {
            inner: values(&[4, 5, 6]),
            cache,
        };
        (Arc::new(first), Arc::new(second))
    }

    async fn run(plan: Arc<dyn ExecutionPlan>, context: Arc<TaskContext>) -> Vec<i64> {
        collect(plan, context)
            .await
            .unwrap()
            .iter()
            .flat_map(|b| {
                let column = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                column.values().to_vec()
            })
            .collect()
    }

    #[tokio::test]
    async fn the_copy_run_second_reads_what_the_first_computed() {
        let (first, second) = copies();
        let context = Arc::new(TaskContext::default());
        assert_eq!(run(first, Arc::clone(&context)).await, vec![1, 2, 3]);
        assert_eq!(run(second, context).await, vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn a_result_the_pool_cannot_hold_is_computed_by_each_copy() {
        let (first, second) = copies();
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(GreedyMemoryPool::new(1)))
            .build_arc()
            .unwrap();
        let context = Arc::new(TaskContext::default().with_runtime(runtime));
        assert_eq!(run(first, Arc::clone(&context)).await, vec![1, 2, 3]);
        assert_eq!(run(second, context).await, vec![4, 5, 6]);
    }
}
