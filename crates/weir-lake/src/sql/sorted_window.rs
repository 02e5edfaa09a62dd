//! Window functions over many small partitions, evaluated column-at-a-time.
//!
//! Sessionizing queries (`lag(ts) OVER (PARTITION BY session_id ORDER BY ts)`) have hundreds of
//! thousands of window partitions of a few rows each. DataFusion's window operators evaluate
//! each partition separately (slice, evaluate, concatenate), which costs microseconds per
//! partition and dominates such queries. For the offset functions (`lag`, `lead`) and
//! `row_number` the result of every partition can be computed at once over the whole sorted
//! input: find the partition boundaries with one comparison pass, then gather.
//!
//! [`SortedWindowExec`] wraps the `WindowAggExec` it replaces and delegates everything about the
//! plan (schema, ordering, distribution, display) to it; only execution differs. The physical
//! rule in `tuning` swaps it in when every window expression is one it evaluates here.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, RecordBatch, UInt32Array, UInt64Array,
};
use datafusion::arrow::compute::kernels::zip::zip;
use datafusion::arrow::compute::{concat_batches, partition, take};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::MemoryConsumer;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Literal;
use datafusion::physical_expr::window::{StandardWindowExpr, WindowExpr};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::windows::{WindowAggExec, WindowUDFExpr};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, InputDistributionRequirements, PlanProperties,
    SendableRecordBatchStream,
};
use futures::TryStreamExt;

use super::whole_result::stream_whole_result;

/// What one window expression computes, in terms this operator evaluates.
#[derive(Debug, Clone)]
enum Shift {
    /// `lag(x, offset, default)` (positive offset) or `lead` (negative offset).
    Offset {
        offset: i64,
        default: ScalarValue,
    },
    RowNumber,
}

impl Shift {
    /// The evaluation of `expr`, when it is one this operator supports.
    fn of(expr: &Arc<dyn WindowExpr>) -> Option<Shift> {
        let standard = expr.as_any().downcast_ref::<StandardWindowExpr>()?;
        let udwf = standard
            .get_standard_func_expr()
            .as_any()
            .downcast_ref::<WindowUDFExpr>()?;
        // `IGNORE NULLS` changes what the offset counts; DataFusion keeps that flag private.
        if format!("{udwf:?}").contains("ignore_nulls: true") {
            return None;
        }
        let args = udwf.args();
        let literal = |i: usize| -> Option<Option<ScalarValue>> {
            match args.get(i) {
                None => Some(None),
                Some(arg) => Some(Some(arg.downcast_ref::<Literal>()?.value().clone())),
            }
        };
        let name = udwf.fun().name();
        match name {
            "row_number" if args.is_empty() => Some(Shift::RowNumber),
            "lag" | "lead" if !args.is_empty() && args.len() <= 3 => {
                let offset = match literal(1)? {
                    None => 1,
                    Some(value) if value.is_null() => 1,
                    Some(value) => {
                        match value.cast_to(&datafusion::arrow::datatypes::DataType::Int64) {
                            Ok(ScalarValue::Int64(Some(n))) => n,
                            _ => return None,
                        }
                    }
                };
                let field = expr.field().ok()?;
                let default = match literal(2)? {
                    None => ScalarValue::try_from(field.data_type()).ok()?,
                    Some(value) => value.cast_to(field.data_type()).ok()?,
                };
                let offset = if name == "lag" {
                    offset
                } else {
                    offset.checked_neg()?
                };
                Some(Shift::Offset { offset, default })
            }
            _ => None,
        }
    }
}

/// Whether `expr` is `row_number()`.
pub(super) fn is_row_number(expr: &Arc<dyn WindowExpr>) -> bool {
    matches!(Shift::of(expr), Some(Shift::RowNumber))
}

/// Evaluates `lag`, `lead` and `row_number` windows over sorted input in one pass per column.
#[derive(Debug)]
pub struct SortedWindowExec {
    inner: Arc<WindowAggExec>,
    shifts: Vec<Shift>,
    metrics: ExecutionPlanMetricsSet,
}

impl SortedWindowExec {
    /// Wraps `window` when every one of its expressions can be evaluated here.
    pub fn try_wrap(window: Arc<WindowAggExec>) -> Option<SortedWindowExec> {
        let exprs = window.window_expr();
        let partition_by = exprs.first()?.partition_by();
        let same_partitions = exprs.iter().all(|e| {
            e.partition_by().len() == partition_by.len()
                && e.partition_by()
                    .iter()
                    .zip(partition_by)
                    .all(|(a, b)| a.eq(b))
        });
        if !same_partitions {
            return None;
        }
        let shifts = exprs.iter().map(Shift::of).collect::<Option<Vec<_>>>()?;
        Some(SortedWindowExec {
            inner: window,
            shifts,
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }
}

impl DisplayAs for SortedWindowExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "SortedWindowExec over ")?;
        self.inner.fmt_as(t, f)
    }
}

impl ExecutionPlan for SortedWindowExec {
    fn name(&self) -> &str {
        "SortedWindowExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.inner.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.inner.children()
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.inner.apply_expressions(f)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        self.inner.maintains_input_order()
    }

    fn required_input_ordering(
        &self,
    ) -> Vec<Option<datafusion::physical_expr::OrderingRequirements>> {
        self.inner.required_input_ordering()
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        self.inner.input_distribution_requirements()
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let inner = Arc::clone(&self.inner).with_new_children(children)?;
        match inner.downcast_ref::<WindowAggExec>() {
            Some(window) => Ok(Arc::new(SortedWindowExec {
                inner: Arc::new(WindowAggExec::try_new(
                    window.window_expr().to_vec(),
                    Arc::clone(window.input()),
                    !window.partition_keys().is_empty(),
                )?),
                shifts: self.shifts.clone(),
                metrics: ExecutionPlanMetricsSet::new(),
            })),
            None => Ok(inner),
        }
    }

    fn execute(
        &self,
        partition_index: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let batch_size = context.session_config().batch_size().max(1);
        // The whole input is held at once: it counts against the SQL memory pool (which fails
        // the statement past its limit, naming it) rather than growing outside it.
        let reservation = MemoryConsumer::new(format!("SortedWindowExec[{partition_index}]"))
            .register(context.memory_pool());
        let mut input = self.inner.input().execute(partition_index, context)?;
        let input_schema = self.inner.input().schema();
        let schema = self.inner.schema();
        let exprs = self.inner.window_expr().to_vec();
        let shifts = self.shifts.clone();
        let metrics = BaselineMetrics::new(&self.metrics, partition_index);
        let output_schema = Arc::clone(&schema);
        let compute_time = metrics.elapsed_compute().clone();
        Ok(stream_whole_result(
            schema,
            batch_size,
            metrics,
            async move {
                let mut batches: Vec<RecordBatch> = Vec::new();
                while let Some(batch) = input.try_next().await? {
                    reservation.try_grow(batch.get_array_memory_size())?;
                    batches.push(batch);
                }
                let timer = compute_time.timer();
                // The concatenated copy sits beside the batches for a moment.
                reservation.try_grow(reservation.size())?;
                let whole = concat_batches(&input_schema, &batches)?;
                drop(batches);
                let result = evaluate(&whole, &exprs, &shifts, &output_schema)?;
                timer.done();
                Ok(result)
            },
        ))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// The input batch with one column appended per window expression.
fn evaluate(
    batch: &RecordBatch,
    exprs: &[Arc<dyn WindowExpr>],
    shifts: &[Shift],
    schema: &datafusion::arrow::datatypes::SchemaRef,
) -> Result<RecordBatch> {
    let rows = batch.num_rows();
    let bounds = partition_bounds(batch, exprs)?;
    let mut columns = batch.columns().to_vec();
    for (expr, shift) in exprs.iter().zip(shifts) {
        let column = match shift {
            Shift::RowNumber => {
                let numbers: UInt64Array = (0..rows)
                    .map(|i| (i - bounds.start[i] as usize + 1) as u64)
                    .collect();
                Arc::new(numbers) as ArrayRef
            }
            Shift::Offset { offset, default } => {
                let values = expr
                    .evaluate_args(batch)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| DataFusionError::Internal("lag/lead without a value".into()))?;
                shifted(&values, *offset, default, &bounds)?
            }
        };
        columns.push(column);
    }
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

/// For every row, where its window partition starts and ends (exclusive).
struct Bounds {
    start: Vec<u32>,
    end: Vec<u32>,
}

fn partition_bounds(batch: &RecordBatch, exprs: &[Arc<dyn WindowExpr>]) -> Result<Bounds> {
    let rows = batch.num_rows();
    let keys = exprs
        .first()
        .map(|e| e.partition_by().to_vec())
        .unwrap_or_default();
    if u32::try_from(rows).is_err() {
        return Err(DataFusionError::ResourcesExhausted(
            "a window partition of more than 4 billion rows".into(),
        ));
    }
    let mut start = vec![0u32; rows];
    let mut end = vec![rows as u32; rows];
    if !keys.is_empty() && rows > 0 {
        let columns = keys
            .iter()
            .map(|k| k.evaluate(batch)?.into_array(rows))
            .collect::<Result<Vec<_>>>()?;
        for range in partition(&columns)?.ranges() {
            start[range.clone()].fill(range.start as u32);
            end[range.clone()].fill(range.end as u32);
        }
    }
    Ok(Bounds { start, end })
}

/// `values` shifted by `offset` rows within each partition (`lag` for positive offsets),
/// `default` where the source row falls outside the partition.
fn shifted(
    values: &ArrayRef,
    offset: i64,
    default: &ScalarValue,
    bounds: &Bounds,
) -> Result<ArrayRef> {
    let rows = values.len();
    let mut inside = Vec::with_capacity(rows);
    let indices: UInt32Array = (0..rows)
        .map(|i| {
            let source = i as i64 - offset;
            let hit = source >= i64::from(bounds.start[i]) && source < i64::from(bounds.end[i]);
            inside.push(hit);
            hit.then_some(source as u32)
        })
        .collect();
    let taken = take(values.as_ref(), &indices, None)?;
    if default.is_null() {
        return Ok(taken);
    }
    let mask = BooleanArray::from(inside);
    let fallback = default.to_scalar()?;
    Ok(zip(&mask, &taken, &fallback)?)
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::datasource::MemTable;
    use datafusion::execution::SessionStateBuilder;
    use datafusion::prelude::{SessionConfig, SessionContext};

    use super::*;
    use crate::sql::tuning::WindowAfterSort;

    /// Events of many small sessions, spread over several input batches, with nulls.
    fn events() -> MemTable {
        let schema = Arc::new(Schema::new(vec![
            Field::new("session", DataType::Int64, true),
            Field::new("ts", DataType::Int64, false),
            Field::new("page", DataType::Utf8, true),
        ]));
        let mut rng = fastrand::Rng::with_seed(7);
        let batches = (0..4)
            .map(|b| {
                let n = 500;
                let sessions: Int64Array = (0..n)
                    .map(|_| (rng.u8(..) != 0).then(|| rng.i64(0..150)))
                    .collect();
                let ts: Int64Array = (0..n).map(|i| (b * n + i) as i64).collect();
                let pages: StringArray = (0..n)
                    .map(|_| (rng.u8(..4) != 0).then(|| format!("/p{}", rng.u8(..20))))
                    .collect();
                RecordBatch::try_new(
                    Arc::clone(&schema),
                    vec![Arc::new(sessions), Arc::new(ts), Arc::new(pages)],
                )
                .unwrap()
            })
            .collect();
        MemTable::try_new(schema, vec![batches]).unwrap()
    }

    fn context(with_rule: bool) -> SessionContext {
        let config = SessionConfig::new()
            .with_target_partitions(3)
            .with_batch_size(97);
        let mut builder = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features();
        if with_rule {
            builder = builder.with_physical_optimizer_rule(Arc::new(WindowAfterSort));
        }
        let ctx = SessionContext::new_with_state(builder.build());
        ctx.register_table("events", Arc::new(events())).unwrap();
        ctx
    }

    /// `sql`'s answer as a table, and its physical plan.
    pub(in crate::sql) async fn run(ctx: &SessionContext, sql: &str) -> (String, String) {
        let frame = ctx.sql(sql).await.unwrap();
        let plan = frame.clone().create_physical_plan().await.unwrap();
        let shown = datafusion::physical_plan::displayable(plan.as_ref())
            .indent(false)
            .to_string();
        let batches = frame.collect().await.unwrap();
        (pretty_format_batches(&batches).unwrap().to_string(), shown)
    }

    #[tokio::test]
    async fn offsets_and_row_numbers_match_datafusion() {
        let queries = [
            "SELECT session, ts, page, lag(page) OVER (PARTITION BY session ORDER BY ts) AS prev \
             FROM events ORDER BY ts",
            "SELECT ts, lead(ts, 2) OVER (PARTITION BY session ORDER BY ts) AS later, \
                    lag(page, 3, 'none') OVER (PARTITION BY session ORDER BY ts) AS before, \
                    row_number() OVER (PARTITION BY session ORDER BY ts DESC) AS rn \
             FROM events ORDER BY ts",
            "SELECT ts, lead(page, 1, 'end') OVER (PARTITION BY session, page ORDER BY ts) AS n \
             FROM events ORDER BY ts",
        ];
        for sql in queries {
            let (expected, _) = run(&context(false), sql).await;
            let (actual, plan) = run(&context(true), sql).await;
            assert!(plan.contains("SortedWindowExec"), "{sql}\n{plan}");
            assert_eq!(actual, expected, "{sql}");
        }
    }

    #[tokio::test]
    async fn other_functions_keep_datafusion_operators() {
        let sql = "SELECT ts, rank() OVER (PARTITION BY session ORDER BY page, ts) AS r, \
                   lag(ts) OVER (PARTITION BY session ORDER BY page, ts) AS p FROM events ORDER BY ts";
        let (expected, _) = run(&context(false), sql).await;
        let (actual, plan) = run(&context(true), sql).await;
        assert!(!plan.contains("SortedWindowExec"), "{plan}");
        assert_eq!(actual, expected);
    }
}
