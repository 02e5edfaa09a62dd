//! Decimal `+`, `-` and `*` without per-row overflow checks, where the values allow it.
//!
//! Arrow holds a `DECIMAL(p, s)` of any precision up to 38 as a 128-bit integer, and its kernels
//! check every addition and multiplication for 128-bit overflow, one row at a time: a checked
//! 128-bit multiply per row that the compiler cannot vectorise. Money columns hold far less:
//! `DECIMAL(15,2)` prices, discounts and taxes fit in 64 bits, and two 64-bit integers cannot
//! overflow 128 bits when multiplied, nor when scaled by at most 10^18 and added. [`NarrowDecimal`]
//! checks per batch that every value of both operands fits in 64 bits (a cheap vectorised pass)
//! and then computes with plain widening multiplications; any other batch goes to Arrow's kernel,
//! so answers, result types and errors are the same as before. TPC-H's `price * (1 - discount) *
//! (1 + tax)` spends most of its arithmetic time on those checks.
//!
//! [`NarrowDecimalArithmetic`] puts it in place of decimal arithmetic in projections and in the
//! arguments of aggregations that read rows (not ordered ones), where the arithmetic runs once
//! per row. Filters and join conditions keep DataFusion's expression, whose interval analysis
//! feeds selectivity estimates, and so do projections folded into a Parquet scan. A narrowed
//! expression is not equal to the `BinaryExpr` it replaces, so a projection above no longer
//! matches equivalences its input states about that `BinaryExpr`: orderings were chosen before
//! this rule runs, so answers do not change, only what later rules can see.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::{DECIMAL128_MAX_PRECISION, DECIMAL128_MAX_SCALE, DataType};
use datafusion::arrow::datatypes::{FieldRef, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::interval_arithmetic::Interval;
use datafusion::logical_expr::sort_properties::ExprProperties;
use datafusion::logical_expr::{ColumnarValue, Operator};
use datafusion::physical_expr::expressions::BinaryExpr;
use datafusion::physical_expr_common::datum::apply;
use datafusion::physical_expr_common::physical_expr::fmt_sql;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};

use super::tuning::replace_nodes;

/// The largest power of ten an operand of `+` or `-` may be scaled by on the fast path: a 64-bit
/// value times 10^18 (< 2^60) is below 2^123, and the sum of two such is below 2^124.
const MAX_RESCALE_DIGITS: i8 = 18;

/// `left op right` for two `Decimal128` operands, planned as `inner`.
#[derive(Debug)]
pub struct NarrowDecimal {
    inner: Arc<BinaryExpr>,
    /// What the plan expects the operation to return; the fast path returns only this type.
    result_type: DataType,
}

impl NarrowDecimal {
    /// `expr` computed narrowly, if it is `+`, `-` or `*` of two decimals over `schema`.
    fn try_new(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Option<Self> {
        let binary = expr.downcast_ref::<BinaryExpr>()?;
        if !matches!(
            binary.op(),
            Operator::Plus | Operator::Minus | Operator::Multiply
        ) {
            return None;
        }
        let decimal = |e: &Arc<dyn PhysicalExpr>| {
            matches!(e.data_type(schema), Ok(DataType::Decimal128(_, _)))
        };
        if !decimal(binary.left()) || !decimal(binary.right()) {
            return None;
        }
        let result_type = binary.data_type(schema).ok()?;
        if !matches!(result_type, DataType::Decimal128(_, _)) {
            return None;
        }
        Some(NarrowDecimal {
            inner: Arc::new(BinaryExpr::new(
                Arc::clone(binary.left()),
                *binary.op(),
                Arc::clone(binary.right()),
            )),
            result_type,
        })
    }

    /// The result on the fast path, or `None` when a value does not fit in 64 bits, an operand
    /// is a NULL literal, both are literals, an operand would be rescaled by more than 10^18, a
    /// product's scale would pass 38, or Arrow would type the result otherwise.
    fn narrow(&self, lhs: &ColumnarValue, rhs: &ColumnarValue) -> Option<Result<ArrayRef>> {
        let (left, left_scale) = Operand::of(lhs)?;
        let (right, right_scale) = Operand::of(rhs)?;
        let (left_precision, right_precision) = (left.precision, right.precision);
        // Two literals have no row count: Arrow's kernel answers with a literal.
        let rows = left.len().or(right.len())?;
        // Arrow's result types (Hive's rules, as `numeric::add` and `numeric::mul` apply them).
        let (precision, scale, left_factor, right_factor) = match self.inner.op() {
            Operator::Multiply => {
                let scale = left_scale.checked_add(right_scale)?;
                if scale > DECIMAL128_MAX_SCALE {
                    return None;
                }
                let precision = left_precision
                    .saturating_add(right_precision)
                    .saturating_add(1)
                    .min(DECIMAL128_MAX_PRECISION);
                (precision, scale, 1, 1)
            }
            _ => {
                // Checked where Arrow's i8 arithmetic is not: a scale far below zero (which
                // Arrow's types allow) goes to Arrow's kernel rather than overflowing here.
                let scale = left_scale.max(right_scale);
                let whole = (left_precision as i8)
                    .checked_sub(left_scale)?
                    .max((right_precision as i8).checked_sub(right_scale)?);
                let precision = (scale.saturating_add(whole) as u8)
                    .saturating_add(1)
                    .min(DECIMAL128_MAX_PRECISION);
                (
                    precision,
                    scale,
                    power_of_ten(scale.checked_sub(left_scale)?)?,
                    power_of_ten(scale.checked_sub(right_scale)?)?,
                )
            }
        };
        if DataType::Decimal128(precision, scale) != self.result_type
            || !left.fits_in_64_bits()
            || !right.fits_in_64_bits()
        {
            return None;
        }
        let values: Vec<i128> = match self.inner.op() {
            Operator::Multiply => combine(&left.values, &right.values, rows, |a, b| {
                widen(a).wrapping_mul(widen(b))
            }),
            Operator::Plus => combine(&left.values, &right.values, rows, |a, b| {
                scaled(a, left_factor).wrapping_add(scaled(b, right_factor))
            }),
            _ => combine(&left.values, &right.values, rows, |a, b| {
                scaled(a, left_factor).wrapping_sub(scaled(b, right_factor))
            }),
        };
        let nulls = NullBuffer::union(left.nulls, right.nulls);
        Some(
            Decimal128Array::new(values.into(), nulls)
                .with_precision_and_scale(precision, scale)
                .map(|array| Arc::new(array) as ArrayRef)
                .map_err(DataFusionError::from),
        )
    }

    /// What `BinaryExpr` computes for decimals: Arrow's checked kernels (its wrapping ones
    /// check decimals too).
    fn checked(&self, lhs: &ColumnarValue, rhs: &ColumnarValue) -> Result<ColumnarValue> {
        match self.inner.op() {
            Operator::Plus => apply(lhs, rhs, numeric::add),
            Operator::Minus => apply(lhs, rhs, numeric::sub),
            _ => apply(lhs, rhs, numeric::mul),
        }
    }
}

/// One operand's values, its precision and whether it fits the fast path.
struct Operand<'a> {
    values: Values<'a>,
    precision: u8,
    nulls: Option<&'a NullBuffer>,
}

enum Values<'a> {
    Array(&'a [i128]),
    Scalar(i128),
}

impl<'a> Operand<'a> {
    /// The operand and its scale; `None` for a NULL literal or anything but `Decimal128`.
    fn of(value: &'a ColumnarValue) -> Option<(Self, i8)> {
        match value {
            ColumnarValue::Array(array) => {
                let DataType::Decimal128(precision, scale) = *array.data_type() else {
                    return None;
                };
                let decimals =
                    array.as_primitive_opt::<datafusion::arrow::datatypes::Decimal128Type>()?;
                Some((
                    Operand {
                        values: Values::Array(decimals.values()),
                        precision,
                        nulls: decimals.nulls(),
                    },
                    scale,
                ))
            }
            ColumnarValue::Scalar(ScalarValue::Decimal128(Some(v), precision, scale)) => Some((
                Operand {
                    values: Values::Scalar(*v),
                    precision: *precision,
                    nulls: None,
                },
                *scale,
            )),
            ColumnarValue::Scalar(_) => None,
        }
    }

    fn len(&self) -> Option<usize> {
        match self.values {
            Values::Array(values) => Some(values.len()),
            Values::Scalar(_) => None,
        }
    }

    /// Whether every value (NULL slots too: they are computed with the rest) fits in 64 bits.
    fn fits_in_64_bits(&self) -> bool {
        match self.values {
            Values::Scalar(v) => i64::try_from(v).is_ok(),
            // Folded without early exit, so that the loop vectorises; chunks keep the exit early
            // for the rare batch that does not fit.
            Values::Array(values) => values.chunks(1024).all(|chunk| {
                chunk
                    .iter()
                    .fold(true, |fit, &v| fit & (v as i64 as i128 == v))
            }),
        }
    }
}

/// `op` over the two operands' values, row by row, a literal repeated.
fn combine(
    left: &Values,
    right: &Values,
    rows: usize,
    op: impl Fn(i128, i128) -> i128,
) -> Vec<i128> {
    match (left, right) {
        (Values::Array(l), Values::Array(r)) => l.iter().zip(*r).map(|(&a, &b)| op(a, b)).collect(),
        (Values::Array(l), Values::Scalar(b)) => l.iter().map(|&a| op(a, *b)).collect(),
        (Values::Scalar(a), Values::Array(r)) => r.iter().map(|&b| op(*a, b)).collect(),
        (Values::Scalar(a), Values::Scalar(b)) => vec![op(*a, *b); rows],
    }
}

/// A value known to fit in 64 bits, widened so that the multiplication is one 64×64→128 multiply.
fn widen(v: i128) -> i128 {
    v as i64 as i128
}

/// `v × factor` for a value and a factor that both fit in 64 bits.
fn scaled(v: i128, factor: i128) -> i128 {
    widen(v).wrapping_mul(widen(factor))
}

/// 10^digits, when `digits` is within the fast path's bound.
fn power_of_ten(digits: i8) -> Option<i128> {
    (0..=MAX_RESCALE_DIGITS)
        .contains(&digits)
        .then(|| 10i128.pow(digits as u32))
}

impl PhysicalExpr for NarrowDecimal {
    fn data_type(&self, input_schema: &Schema) -> Result<DataType> {
        self.inner.data_type(input_schema)
    }

    fn nullable(&self, input_schema: &Schema) -> Result<bool> {
        self.inner.nullable(input_schema)
    }

    fn return_field(&self, input_schema: &Schema) -> Result<FieldRef> {
        self.inner.return_field(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let lhs = self.inner.left().evaluate(batch)?;
        let rhs = self.inner.right().evaluate(batch)?;
        match self.narrow(&lhs, &rhs) {
            Some(array) => array.map(ColumnarValue::Array),
            None => self.checked(&lhs, &rhs),
        }
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![self.inner.left(), self.inner.right()]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let [left, right]: [Arc<dyn PhysicalExpr>; 2] = children.try_into().map_err(|_| {
            DataFusionError::Internal("decimal arithmetic takes two operands".into())
        })?;
        Ok(Arc::new(NarrowDecimal {
            inner: Arc::new(BinaryExpr::new(left, *self.inner.op(), right)),
            result_type: self.result_type.clone(),
        }))
    }

    fn evaluate_bounds(&self, children: &[&Interval]) -> Result<Interval> {
        self.inner.evaluate_bounds(children)
    }

    fn propagate_constraints(
        &self,
        interval: &Interval,
        children: &[&Interval],
    ) -> Result<Option<Vec<Interval>>> {
        self.inner.propagate_constraints(interval, children)
    }

    fn get_properties(&self, children: &[ExprProperties]) -> Result<ExprProperties> {
        self.inner.get_properties(children)
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, |f, e| write!(f, "{}", fmt_sql(e.as_ref())))
    }
}

impl NarrowDecimal {
    /// The arithmetic as `BinaryExpr` prints it, each operand by `operand`, except that a sum or a
    /// difference is always in parentheses: a parent `BinaryExpr` cannot tell that it needs them
    /// (it parenthesises only operands that are `BinaryExpr`s).
    fn write(
        &self,
        f: &mut fmt::Formatter<'_>,
        operand: impl Fn(&mut fmt::Formatter<'_>, &Arc<dyn PhysicalExpr>) -> fmt::Result,
    ) -> fmt::Result {
        let op = *self.inner.op();
        let child = |f: &mut fmt::Formatter<'_>, expr: &Arc<dyn PhysicalExpr>| match expr
            .downcast_ref::<BinaryExpr>()
        {
            Some(binary)
                if binary.op().precedence() == 0 || binary.op().precedence() < op.precedence() =>
            {
                f.write_str("(")?;
                operand(f, expr)?;
                f.write_str(")")
            }
            _ => operand(f, expr),
        };
        let parenthesised = op != Operator::Multiply;
        if parenthesised {
            f.write_str("(")?;
        }
        child(f, self.inner.left())?;
        write!(f, " {op} ")?;
        child(f, self.inner.right())?;
        if parenthesised {
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Display for NarrowDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, |f, e| write!(f, "{e}"))
    }
}

impl PartialEq for NarrowDecimal {
    fn eq(&self, other: &Self) -> bool {
        self.inner.eq(&other.inner)
    }
}

impl Eq for NarrowDecimal {}

impl Hash for NarrowDecimal {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.hash(state);
    }
}

/// `expr` with its decimal arithmetic over `schema` computed narrowly; `None` if it has none.
fn narrowed(
    expr: &Arc<dyn PhysicalExpr>,
    schema: &Schema,
) -> Result<Option<Arc<dyn PhysicalExpr>>> {
    let rewritten = Arc::clone(expr).transform_up(|e| {
        Ok(match NarrowDecimal::try_new(&e, schema) {
            Some(narrow) => Transformed::yes(Arc::new(narrow) as Arc<dyn PhysicalExpr>),
            None => Transformed::no(e),
        })
    })?;
    Ok(rewritten.transformed.then_some(rewritten.data))
}

/// Puts [`NarrowDecimal`] in projections and in the arguments of aggregations over rows.
#[derive(Debug, Default)]
pub struct NarrowDecimalArithmetic;

impl NarrowDecimalArithmetic {
    fn projection(projection: &ProjectionExec) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let schema = projection.input().schema();
        let mut changed = false;
        let mut exprs = Vec::with_capacity(projection.expr().len());
        for e in projection.expr() {
            let expr = match narrowed(&e.expr, &schema)? {
                Some(narrow) => {
                    changed = true;
                    narrow
                }
                None => Arc::clone(&e.expr),
            };
            exprs.push(ProjectionExpr::new(expr, e.alias.clone()));
        }
        if !changed {
            return Ok(None);
        }
        // With the planned schema: it may carry metadata the expressions alone do not give.
        Ok(Some(Arc::new(
            ProjectionExec::try_new_with_schema_metadata(
                exprs,
                Arc::clone(projection.input()),
                projection.schema().as_ref(),
            )?,
        )))
    }

    fn aggregate(aggregate: &AggregateExec) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        // Only aggregations over rows evaluate their arguments; the others merge states.
        if aggregate.mode().input_mode()
            != datafusion::physical_plan::aggregates::AggregateInputMode::Raw
        {
            return Ok(None);
        }
        let schema = aggregate.input_schema();
        let mut changed = false;
        let mut functions = Vec::with_capacity(aggregate.aggr_expr().len());
        for function in aggregate.aggr_expr() {
            // Rebuilt functions lose DataFusion's reversal of an ordered aggregate
            // (`with_new_expressions` resets it): those keep their arguments as planned.
            if function.is_reversed() || !function.order_bys().is_empty() {
                functions.push(Arc::clone(function));
                continue;
            }
            let mut args = Vec::new();
            let mut narrowed_any = false;
            for arg in function.expressions() {
                match narrowed(&arg, &schema)? {
                    Some(narrow) => {
                        narrowed_any = true;
                        args.push(narrow);
                    }
                    None => args.push(arg),
                }
            }
            match narrowed_any
                .then(|| function.with_new_expressions(args, Vec::new()))
                .flatten()
            {
                Some(rewritten) => {
                    changed = true;
                    functions.push(Arc::new(rewritten));
                }
                None => functions.push(Arc::clone(function)),
            }
        }
        if !changed {
            return Ok(None);
        }
        Ok(Some(Arc::new(aggregate.with_new_aggr_exprs(functions))))
    }
}

impl PhysicalOptimizerRule for NarrowDecimalArithmetic {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        replace_nodes(plan, |node| {
            if let Some(projection) = node.downcast_ref::<ProjectionExec>() {
                return Self::projection(projection);
            }
            if let Some(aggregate) = node.downcast_ref::<AggregateExec>() {
                return Self::aggregate(aggregate);
            }
            Ok(None)
        })
    }

    fn name(&self) -> &str {
        "weir_narrow_decimal_arithmetic"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
