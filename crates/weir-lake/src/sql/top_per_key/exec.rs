//! [`TopPerKeyExec`]: passes on, of each key's rows in one input partition, only the best `k` by
//! an order, and drops the rest before they are sorted.
//!
//! It is a pre-filter, never the final answer: the sort, window and filter above it still run,
//! over far fewer rows. That makes two shortcuts safe. Under memory pressure it hands on what
//! it keeps and starts over (a dropped row was beaten by `k` rows of its key that are handed on
//! or still kept, so the final filter picks the same rows). And when nearly every row is kept
//! (keys that hardly repeat), it stops filtering and passes batches through, so the rewrite
//! costs little where it cannot help.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::Result;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::physical_expr::{PhysicalExpr, PhysicalSortExpr};
use datafusion::physical_plan::execution_plan::{
    ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions,
};
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
    SendableRecordBatchStream,
};
use futures::TryStreamExt;

use super::super::tuning::only_child;
use super::rows::TopRows;

/// Rows offered before the first check whether filtering pays; checks follow at each doubling.
const FIRST_PROBE_ROWS: usize = 131_072;

#[derive(Debug)]
pub struct TopPerKeyExec {
    input: Arc<dyn ExecutionPlan>,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    order: Vec<PhysicalSortExpr>,
    k: usize,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl TopPerKeyExec {
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        keys: Vec<Arc<dyn PhysicalExpr>>,
        order: Vec<PhysicalSortExpr>,
        k: usize,
    ) -> TopPerKeyExec {
        let mut equivalences = input.equivalence_properties().clone();
        // Rows leave in the order of their keys' first appearance, not the input's.
        equivalences.clear_orderings();
        let properties = PlanProperties::new(
            equivalences,
            input.output_partitioning().clone(),
            EmissionType::Final,
            input.boundedness(),
        );
        TopPerKeyExec {
            input,
            keys,
            order,
            k,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for TopPerKeyExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let keys: Vec<String> = self.keys.iter().map(|k| k.to_string()).collect();
        let order: Vec<String> = self.order.iter().map(|o| o.to_string()).collect();
        write!(
            f,
            "TopPerKeyExec: k={}, keys=[{}], order=[{}]",
            self.k,
            keys.join(", "),
            order.join(", ")
        )
    }
}

impl ExecutionPlan for TopPerKeyExec {
    fn name(&self) -> &str {
        "TopPerKeyExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        for expr in self.keys.iter().chain(self.order.iter().map(|o| &o.expr)) {
            if f(expr)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false]
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(TopPerKeyExec::new(
            only_child(children, self.name())?,
            self.keys.clone(),
            self.order.clone(),
            self.k,
        )))
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
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let schema = self.input.schema();
        let run = Run {
            input: Some(input),
            top: TopRows::new(
                &schema,
                self.keys.clone(),
                self.order.clone(),
                self.k,
                context.session_config().batch_size(),
            )?,
            ready: VecDeque::new(),
            passing: false,
            next_probe: FIRST_PROBE_ROWS,
            // It gives memory back by handing on what it keeps, as a spill would: a fair pool
            // then shares the memory between it and the sort above.
            reservation: MemoryConsumer::new(format!("TopPerKeyExec[{partition}]"))
                .with_can_spill(true)
                .register(context.memory_pool()),
            metrics: BaselineMetrics::new(&self.metrics, partition),
            passed_through: MetricBuilder::new(&self.metrics)
                .counter("rows_passed_through", partition),
        };
        let batches = futures::stream::try_unfold(run, Run::next);
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// One partition's execution.
struct Run {
    /// `None` once the input has ended.
    input: Option<SendableRecordBatchStream>,
    top: TopRows,
    /// Batches to hand on before reading more.
    ready: VecDeque<RecordBatch>,
    /// Whether filtering was found not to pay and batches now pass unchanged.
    passing: bool,
    next_probe: usize,
    reservation: MemoryReservation,
    metrics: BaselineMetrics,
    passed_through: Count,
}

impl Run {
    async fn next(mut self) -> Result<Option<(RecordBatch, Run)>> {
        loop {
            if let Some(batch) = self.ready.pop_front() {
                self.metrics.record_output(batch.num_rows());
                return Ok(Some((batch, self)));
            }
            let Some(input) = self.input.as_mut() else {
                return Ok(None);
            };
            let Some(batch) = input.try_next().await? else {
                self.input = None;
                self.hand_on_kept()?;
                continue;
            };
            if self.passing {
                self.passed_through.add(batch.num_rows());
                self.ready.push_back(batch);
                continue;
            }
            let timer = self.metrics.elapsed_compute().timer();
            self.top.insert(&batch)?;
            timer.done();
            if self.top.seen() >= self.next_probe {
                self.next_probe = self.next_probe.saturating_mul(2);
                // Keys that hardly repeat: the sort above would see nearly every row anyway.
                if self.top.kept() * 20 > self.top.seen() * 19 {
                    self.passing = true;
                    self.hand_on_kept()?;
                    continue;
                }
            }
            if self.reservation.try_resize(self.top.size()).is_err() {
                self.hand_on_kept()?;
                self.next_probe = FIRST_PROBE_ROWS;
            }
        }
    }

    /// Queues every kept row and empties the state.
    fn hand_on_kept(&mut self) -> Result<()> {
        let timer = self.metrics.elapsed_compute().timer();
        let kept = self.top.take()?;
        timer.done();
        self.ready.extend(kept);
        self.reservation.free();
        Ok(())
    }
}
