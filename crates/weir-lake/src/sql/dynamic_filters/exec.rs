//! [`DynamicRowFilterExec`]: dynamic filters applied to rows while they pay.
//!
//! Whether a filter drops many rows is known only once its producer has finished (a join's
//! build side read): a join of every order with its customer builds a filter that drops none.
//! So the operator filters, and once every filter it applies is complete and it has judged
//! [`JUDGED_ROWS`] rows by them, it stops for the rest of its input if more of them passed than
//! its limit allows: evaluating the filter then costs more than the rows it drops save.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::filter_record_batch;
use datafusion::common::Result;
use datafusion::common::cast::as_boolean_array;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::DynamicFilterPhysicalExpr;
use datafusion::physical_expr::utils::split_conjunction;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};
use futures::{FutureExt, StreamExt};

use super::super::tuning::only_child;
use super::routed::route_by_partition;

/// Rows judged, once the filters are complete, before deciding whether filtering pays.
const JUDGED_ROWS: usize = 65_536;

#[derive(Debug)]
pub struct DynamicRowFilterExec {
    input: Arc<dyn ExecutionPlan>,
    predicate: Arc<dyn PhysicalExpr>,
    most_passing: f64,
    metrics: ExecutionPlanMetricsSet,
}

impl DynamicRowFilterExec {
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        predicate: Arc<dyn PhysicalExpr>,
        most_passing: f64,
    ) -> Self {
        DynamicRowFilterExec {
            input,
            predicate,
            most_passing,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for DynamicRowFilterExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "DynamicRowFilterExec (while at most {:.0} % pass): {}",
            self.most_passing * 100.0,
            self.predicate
        )
    }
}

impl ExecutionPlan for DynamicRowFilterExec {
    fn name(&self) -> &str {
        "DynamicRowFilterExec"
    }

    // Rows are only dropped: the input's ordering, partitioning and equivalences hold.
    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        f(&self.predicate)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(DynamicRowFilterExec::new(
            only_child(children, self.name())?,
            Arc::clone(&self.predicate),
            self.most_passing,
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
        let input = self.input.execute(partition, context)?;
        let schema = input.schema();
        let filters: Vec<Arc<dyn PhysicalExpr>> = split_conjunction(&self.predicate)
            .into_iter()
            .cloned()
            .collect();
        let mut state = Judge {
            predicate: Arc::clone(&self.predicate),
            complete_predicate: None,
            filters,
            most_passing: self.most_passing,
            complete: false,
            judged: 0,
            passed: 0,
            off: false,
            metrics: BaselineMetrics::new(&self.metrics, partition),
            unfiltered: MetricBuilder::new(&self.metrics).counter("rows_unfiltered", partition),
        };
        // Batches the filter empties are not handed on.
        let batches = input.filter_map(move |batch| {
            futures::future::ready(match batch.and_then(|b| state.filter(b)) {
                Ok(kept) if kept.num_rows() == 0 => None,
                other => Some(other),
            })
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

struct Judge {
    predicate: Arc<dyn PhysicalExpr>,
    /// The predicate once every filter is complete: their final expressions, with partitioned
    /// joins' filters evaluated by partition ([`route_by_partition`]).
    complete_predicate: Option<Arc<dyn PhysicalExpr>>,
    filters: Vec<Arc<dyn PhysicalExpr>>,
    most_passing: f64,
    complete: bool,
    judged: usize,
    passed: usize,
    off: bool,
    metrics: BaselineMetrics,
    unfiltered: Count,
}

impl Judge {
    fn filter(&mut self, batch: RecordBatch) -> Result<RecordBatch> {
        if self.off {
            self.unfiltered.add(batch.num_rows());
            self.metrics.record_output(batch.num_rows());
            return Ok(batch);
        }
        // Completion is read before evaluating: a batch judged as complete saw the final filter.
        if !self.complete {
            self.complete = self.filters.iter().all(|f| {
                f.downcast_ref::<DynamicFilterPhysicalExpr>()
                    .is_none_or(|dynamic| dynamic.wait_complete().now_or_never().is_some())
            });
        }
        let timer = self.metrics.elapsed_compute().timer();
        if self.complete && self.complete_predicate.is_none() {
            self.complete_predicate = Some(final_expressions(&self.predicate)?);
        }
        let mask = self
            .complete_predicate
            .as_ref()
            .unwrap_or(&self.predicate)
            .evaluate(&batch)?
            .into_array(batch.num_rows())?;
        let kept = filter_record_batch(&batch, as_boolean_array(&mask)?)?;
        timer.done();
        if self.complete {
            self.judged += batch.num_rows();
            self.passed += kept.num_rows();
            if self.judged >= JUDGED_ROWS
                && self.passed as f64 > self.most_passing * self.judged as f64
            {
                self.off = true;
            }
        }
        self.metrics.record_output(kept.num_rows());
        Ok(kept)
    }
}

/// `predicate` with each dynamic filter replaced by its final expression, evaluated by partition
/// where it routes rows by partition.
fn final_expressions(predicate: &Arc<dyn PhysicalExpr>) -> Result<Arc<dyn PhysicalExpr>> {
    Arc::clone(predicate)
        .transform_down(|e| {
            let Some(dynamic) = e.downcast_ref::<DynamicFilterPhysicalExpr>() else {
                return Ok(Transformed::no(e));
            };
            Ok(Transformed::new(
                route_by_partition(dynamic.current()?)?,
                true,
                TreeNodeRecursion::Jump,
            ))
        })
        .map(|t| t.data)
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::logical_expr::Operator;
    use datafusion::physical_expr::expressions::{BinaryExpr, Column, lit};

    use super::*;

    fn batch(values: std::ops::Range<i64>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(values.collect::<Int64Array>())]).unwrap()
    }

    /// A judge of `a < bound` once complete, for `most_passing`.
    fn judge(bound: i64, most_passing: f64) -> (Judge, Arc<DynamicFilterPhysicalExpr>) {
        let a: Arc<dyn PhysicalExpr> = Arc::new(Column::new("a", 0));
        let dynamic = Arc::new(DynamicFilterPhysicalExpr::new(
            vec![Arc::clone(&a)],
            lit(true),
        ));
        let set = ExecutionPlanMetricsSet::new();
        let judge = Judge {
            predicate: Arc::clone(&dynamic) as Arc<dyn PhysicalExpr>,
            complete_predicate: None,
            filters: vec![Arc::clone(&dynamic) as Arc<dyn PhysicalExpr>],
            most_passing,
            complete: false,
            judged: 0,
            passed: 0,
            off: false,
            metrics: BaselineMetrics::new(&set, 0),
            unfiltered: MetricBuilder::new(&set).counter("rows_unfiltered", 0),
        };
        dynamic
            .update(Arc::new(BinaryExpr::new(a, Operator::Lt, lit(bound))))
            .unwrap();
        (judge, dynamic)
    }

    #[test]
    fn rows_are_judged_only_once_the_filter_completes() {
        let (mut judge, dynamic) = judge(10, 0.01);
        // Updated but not complete: the filter applies, nothing is judged yet.
        assert_eq!(judge.filter(batch(0..100_000)).unwrap().num_rows(), 10);
        assert_eq!(judge.judged, 0);
        dynamic.mark_complete();
        assert_eq!(judge.filter(batch(0..100_000)).unwrap().num_rows(), 10);
        assert!(!judge.off, "0.01 % passed: filtering pays");
    }

    #[test]
    fn a_complete_partitioned_filter_is_evaluated_by_partition() {
        use datafusion::common::ScalarValue;
        use datafusion::physical_expr::expressions::CaseExpr;
        use datafusion::physical_plan::joins::{HashExpr, SeededRandomState};

        use super::super::routed::RoutedByPartition;

        let a: Arc<dyn PhysicalExpr> = Arc::new(Column::new("a", 0));
        let dynamic = Arc::new(DynamicFilterPhysicalExpr::new(
            vec![Arc::clone(&a)],
            lit(true),
        ));
        let routing = Arc::new(BinaryExpr::new(
            Arc::new(HashExpr::new(
                vec![Arc::clone(&a)],
                SeededRandomState::with_seed(0),
                "hash_repartition".into(),
            )),
            Operator::Modulo,
            lit(ScalarValue::UInt64(Some(2))),
        ));
        // Partition 0 keeps a < 100, partition 1 keeps a >= 900.
        let case: Arc<dyn PhysicalExpr> = Arc::new(
            CaseExpr::try_new(
                Some(routing),
                vec![
                    (
                        lit(ScalarValue::UInt64(Some(0))),
                        Arc::new(BinaryExpr::new(Arc::clone(&a), Operator::Lt, lit(100i64))),
                    ),
                    (
                        lit(ScalarValue::UInt64(Some(1))),
                        Arc::new(BinaryExpr::new(Arc::clone(&a), Operator::GtEq, lit(900i64))),
                    ),
                ],
                Some(lit(false)),
            )
            .unwrap(),
        );
        dynamic.update(Arc::clone(&case)).unwrap();
        dynamic.mark_complete();
        let predicate = Arc::clone(&dynamic) as Arc<dyn PhysicalExpr>;
        let routed = final_expressions(&predicate).unwrap();
        assert!(routed.is::<RoutedByPartition>(), "{routed}");
        let rows = batch(0..1_000);
        let expected = case.evaluate(&rows).unwrap().into_array(1_000).unwrap();
        let actual = routed.evaluate(&rows).unwrap().into_array(1_000).unwrap();
        assert_eq!(actual.as_ref(), expected.as_ref());
        assert!(as_boolean_array(&actual).unwrap().true_count() > 0);
    }

    #[test]
    fn a_filter_that_keeps_too_much_turns_itself_off() {
        let (mut judge, dynamic) = judge(50_000, 0.5);
        dynamic.mark_complete();
        // 80 % pass: more than half, so the rest of the input is not filtered.
        assert_eq!(judge.filter(batch(0..62_500)).unwrap().num_rows(), 50_000);
        assert!(!judge.off, "fewer than 65,536 rows judged");
        judge.filter(batch(0..10_000)).unwrap();
        assert!(judge.off);
        assert_eq!(
            judge.filter(batch(60_000..70_000)).unwrap().num_rows(),
            10_000
        );
        assert_eq!(judge.unfiltered.value(), 10_000);
    }
}
