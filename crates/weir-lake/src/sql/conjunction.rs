//! `AND` of cheap conditions, evaluated on the whole batch.
//!
//! DataFusion evaluates `a AND b` by evaluating `a`, and when few rows pass, filtering the batch
//! down to them, evaluating `b` on what is left and scattering the answers back. That pays off
//! when `b` is expensive (a regular expression on long strings); when every condition is a
//! comparison of a column with a constant, or is answered per dictionary value, the filtering and
//! scattering cost more than evaluating `b` on every row. [`AllOf`] evaluates each condition on
//! the batch and combines the answers with SQL's three-valued `AND`.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::kernels::boolean::and_kleene;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{ColumnarValue, Operator};
use datafusion::physical_expr::expressions::{
    BinaryExpr, Column, IsNotNullExpr, IsNullExpr, Literal, NotExpr,
};
use datafusion::physical_expr::split_conjunction;
use datafusion::physical_plan::PhysicalExpr;

use super::dictionary_filter::DictionaryPredicate;

/// Conditions that must all hold.
#[derive(Debug)]
pub struct AllOf {
    conditions: Vec<Arc<dyn PhysicalExpr>>,
}

impl AllOf {
    /// `expr` as an [`AllOf`] when it is an `AND` of at least two conditions that are all cheap
    /// to evaluate on every row of `schema`.
    pub fn try_new(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Option<AllOf> {
        let conditions = split_conjunction(expr);
        (conditions.len() >= 2 && conditions.iter().all(|c| is_cheap(c, schema))).then(|| AllOf {
            conditions: conditions.into_iter().cloned().collect(),
        })
    }
}

/// A condition that costs about as much per row as combining its answer: a dictionary predicate,
/// a comparison of a fixed-width column with a constant, or a NULL test on a column.
fn is_cheap(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> bool {
    let fixed_width_column = |e: &Arc<dyn PhysicalExpr>| {
        e.downcast_ref::<Column>().is_some_and(|c| {
            schema.fields().get(c.index()).is_some_and(|f| {
                f.data_type().is_primitive() || *f.data_type() == DataType::Boolean
            })
        })
    };
    if expr.is::<DictionaryPredicate>() {
        return true;
    }
    if let Some(not) = expr.downcast_ref::<NotExpr>() {
        return is_cheap(not.arg(), schema);
    }
    if let Some(test) = expr.downcast_ref::<IsNullExpr>() {
        return test.arg().is::<Column>();
    }
    if let Some(test) = expr.downcast_ref::<IsNotNullExpr>() {
        return test.arg().is::<Column>();
    }
    let Some(comparison) = expr.downcast_ref::<BinaryExpr>() else {
        return false;
    };
    let (left, right) = (comparison.left(), comparison.right());
    matches!(
        comparison.op(),
        Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
    ) && ((fixed_width_column(left) && right.is::<Literal>())
        || (left.is::<Literal>() && fixed_width_column(right)))
}

impl PhysicalExpr for AllOf {
    fn data_type(&self, _input_schema: &Schema) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn nullable(&self, input_schema: &Schema) -> Result<bool> {
        for condition in &self.conditions {
            if condition.nullable(input_schema)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let rows = batch.num_rows();
        let mut all: Option<BooleanArray> = None;
        for condition in &self.conditions {
            let answer = condition.evaluate(batch)?.into_array(rows)?;
            let answer = answer.as_boolean_opt().ok_or_else(|| {
                DataFusionError::Internal(format!("{condition} is not a condition"))
            })?;
            let combined = match &all {
                None => answer.clone(),
                Some(so_far) => and_kleene(so_far, answer)?,
            };
            // Nothing can pass any more: the rest need not be evaluated.
            let settled = combined.null_count() == 0 && combined.true_count() == 0;
            all = Some(combined);
            if settled {
                break;
            }
        }
        let all =
            all.ok_or_else(|| DataFusionError::Internal("AllOf without conditions".into()))?;
        Ok(ColumnarValue::Array(Arc::new(all)))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        self.conditions.iter().collect()
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        Ok(Arc::new(AllOf {
            conditions: children,
        }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, condition) in self.conditions.iter().enumerate() {
            if i > 0 {
                write!(f, " AND ")?;
            }
            condition.fmt_sql(f)?;
        }
        Ok(())
    }
}

impl fmt::Display for AllOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "all_of(")?;
        for (i, condition) in self.conditions.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{condition}")?;
        }
        write!(f, ")")
    }
}

// Written out: `derive` trips over `Arc<dyn PhysicalExpr>` (rust-lang/rust#78808).
impl PartialEq for AllOf {
    fn eq(&self, other: &Self) -> bool {
        self.conditions.len() == other.conditions.len()
            && self
                .conditions
                .iter()
                .zip(&other.conditions)
                .all(|(a, b)| a.eq(b))
    }
}

impl Eq for AllOf {}

impl Hash for AllOf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for condition in &self.conditions {
            condition.hash(state);
        }
    }
}
