//! A partitioned join's filter, evaluated on each row only by the partition the row goes to.
//!
//! A hash join that runs per partition builds one filter per partition and publishes them as
//! `CASE hash(key) % n WHEN 0 THEN f0 WHEN 1 THEN f1 … ELSE b END`. DataFusion's `CASE` filters
//! the whole batch once per branch, evaluates the branch, and merges the answers through generic
//! array builders; for a filter applied to every row of a large scan (TPC-H q17's six million
//! lines) that machinery costs more than the hash lookups it routes. [`RoutedByPartition`]
//! computes the routing hash once, sorts row numbers into one list per branch, takes only the
//! columns the branches read for those rows, and writes each branch's answers straight into the
//! result's bits. The answers are the `CASE`'s: a row goes to the branch whose partition its hash
//! names, NULLs stay NULL, and rows of no branch take the `ELSE` value.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BooleanArray, RecordBatch, UInt32Array};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::{DataType, Schema, UInt64Type};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, ScalarValue, internal_err};
use datafusion::logical_expr::{ColumnarValue, Operator};
use datafusion::physical_expr::expressions::{BinaryExpr, CaseExpr, Column, Literal};
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_plan::PhysicalExpr;
use datafusion::physical_plan::joins::HashExpr;

/// One `WHEN partition THEN filter` of the `CASE`.
#[derive(Debug)]
struct Branch {
    /// The filter over the batch of the columns the branches read (`Routed::columns`).
    filter: Arc<dyn PhysicalExpr>,
    /// The filter's value when it is a literal: no rows need taking for it.
    constant: Option<Option<bool>>,
}

/// `CASE hash % partitions WHEN … END`, evaluated by branch on the rows routed to it.
#[derive(Debug)]
pub struct RoutedByPartition {
    /// The `CASE` as published: printed, compared and hashed as itself.
    original: Arc<dyn PhysicalExpr>,
    hash: Arc<dyn PhysicalExpr>,
    partitions: u64,
    branches: Vec<Branch>,
    /// Which branch each partition's rows go to (`None`: the `ELSE`).
    branch_of: Vec<Option<usize>>,
    /// The `ELSE` value; `None` is NULL.
    otherwise: Option<bool>,
    /// The batch columns the branches read, in the order their filters number them.
    columns: Vec<usize>,
}

impl RoutedByPartition {
    /// `case` evaluated by partition, if it has the shape a partitioned hash join publishes.
    fn try_new(case: &CaseExpr, original: &Arc<dyn PhysicalExpr>) -> Option<Self> {
        let routing = case.expr()?.downcast_ref::<BinaryExpr>()?;
        if *routing.op() != Operator::Modulo || !routing.left().is::<HashExpr>() {
            return None;
        }
        let partitions = match literal(routing.right())? {
            ScalarValue::UInt64(Some(n)) if *n > 0 && *n <= 1 << 16 => *n,
            _ => return None,
        };
        let otherwise = match case.else_expr() {
            None => None,
            Some(e) => match literal(e)? {
                ScalarValue::Boolean(b) => *b,
                _ => return None,
            },
        };
        // The columns every branch reads, renumbered from 0 in that order.
        let mut columns: Vec<usize> = Vec::new();
        for (_, then) in case.when_then_expr() {
            for column in collect_columns(then) {
                if !columns.contains(&column.index()) {
                    columns.push(column.index());
                }
            }
        }
        if columns.is_empty() {
            return None;
        }
        let mut branch_of = vec![None; partitions as usize];
        let mut branches = Vec::new();
        for (when, then) in case.when_then_expr() {
            let ScalarValue::UInt64(Some(partition)) = literal(when)? else {
                return None;
            };
            // A second WHEN of one partition never matches: the first one wins.
            let slot = branch_of.get_mut(*partition as usize)?;
            if slot.is_some() {
                continue;
            }
            *slot = Some(branches.len());
            let constant = match literal(then) {
                Some(ScalarValue::Boolean(b)) => Some(*b),
                Some(_) => return None,
                None => None,
            };
            let renumbered = |e: Arc<dyn PhysicalExpr>| {
                let Some(column) = e.downcast_ref::<Column>() else {
                    return Ok(Transformed::no(e));
                };
                match columns.iter().position(|&i| i == column.index()) {
                    Some(at) => Ok(Transformed::yes(
                        Arc::new(Column::new(column.name(), at)) as Arc<dyn PhysicalExpr>
                    )),
                    None => internal_err!("column {column} was not collected"),
                }
            };
            let filter = Arc::clone(then).transform_up(renumbered).ok()?.data;
            branches.push(Branch { filter, constant });
        }
        Some(RoutedByPartition {
            original: Arc::clone(original),
            hash: Arc::clone(routing.left()),
            partitions,
            branches,
            branch_of,
            otherwise,
            columns,
        })
    }
}

fn literal(expr: &Arc<dyn PhysicalExpr>) -> Option<&ScalarValue> {
    expr.downcast_ref::<Literal>().map(Literal::value)
}

/// `expr` with every partitioned join's `CASE` in it evaluated by partition.
pub fn route_by_partition(expr: Arc<dyn PhysicalExpr>) -> Result<Arc<dyn PhysicalExpr>> {
    expr.transform_down(|e| {
        Ok(
            match e
                .downcast_ref::<CaseExpr>()
                .and_then(|case| RoutedByPartition::try_new(case, &e))
            {
                Some(routed) => {
                    Transformed::new(Arc::new(routed) as _, true, TreeNodeRecursion::Jump)
                }
                None => Transformed::no(e),
            },
        )
    })
    .map(|t| t.data)
}

impl PhysicalExpr for RoutedByPartition {
    fn data_type(&self, _input_schema: &Schema) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn nullable(&self, input_schema: &Schema) -> Result<bool> {
        self.original.nullable(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let rows = batch.num_rows();
        let hashes = self.hash.evaluate(batch)?.into_array(rows)?;
        let Some(hashes) = hashes.as_primitive_opt::<UInt64Type>() else {
            return self.original.evaluate(batch);
        };
        // Row numbers by branch; rows of no branch keep the ELSE value.
        let mut routed: Vec<Vec<u32>> = vec![Vec::new(); self.branches.len()];
        let share = rows / self.partitions as usize + 1;
        for list in &mut routed {
            list.reserve(share);
        }
        for (row, &hash) in hashes.values().iter().enumerate() {
            if hashes.is_null(row) {
                continue;
            }
            if let Some(Some(branch)) = self.branch_of.get((hash % self.partitions) as usize) {
                routed[*branch].push(row as u32);
            }
        }
        let mut values = vec![self.otherwise.unwrap_or(false); rows];
        let mut valid = vec![self.otherwise.is_some(); rows];
        let columns = batch.project(&self.columns)?;
        for (branch, rows_of) in self.branches.iter().zip(routed) {
            if rows_of.is_empty() {
                continue;
            }
            if let Some(constant) = branch.constant {
                for row in rows_of {
                    values[row as usize] = constant.unwrap_or(false);
                    valid[row as usize] = constant.is_some();
                }
                continue;
            }
            let rows_of = UInt32Array::from(rows_of);
            let taken = take_record_batch(&columns, &rows_of)?;
            let answers = branch.filter.evaluate(&taken)?.into_array(rows_of.len())?;
            let Some(answers) = answers.as_boolean_opt() else {
                return self.original.evaluate(batch);
            };
            for (i, &row) in rows_of.values().iter().enumerate() {
                values[row as usize] = answers.value(i);
                valid[row as usize] = answers.is_valid(i);
            }
        }
        let nulls = valid
            .iter()
            .any(|v| !v)
            .then(|| NullBuffer::new(BooleanBuffer::from(valid)));
        Ok(ColumnarValue::Array(Arc::new(BooleanArray::new(
            BooleanBuffer::from(values),
            nulls,
        ))))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.original]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let original = children.into_iter().next().ok_or_else(|| {
            datafusion::common::DataFusionError::Internal("a routed filter has one child".into())
        })?;
        route_by_partition(original)
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.original.fmt_sql(f)
    }
}

impl fmt::Display for RoutedByPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.original)
    }
}

impl PartialEq for RoutedByPartition {
    fn eq(&self, other: &Self) -> bool {
        self.original.eq(&other.original)
    }
}

impl Eq for RoutedByPartition {}

impl Hash for RoutedByPartition {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.original.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::Field;
    use datafusion::physical_expr::expressions::lit;
    use datafusion::physical_plan::joins::SeededRandomState;
    use proptest::prelude::*;

    use super::*;

    /// What one partition's WHEN holds.
    #[derive(Debug, Clone)]
    enum Then {
        Absent,
        Constant(Option<bool>),
        /// `a < k`: NULL where `a` is.
        ALessThan(i64),
        /// `b > k`, where `b` is the second column.
        BGreaterThan(i64),
    }

    fn then() -> impl Strategy<Value = Then> {
        prop_oneof![
            Just(Then::Absent),
            prop::option::of(any::<bool>()).prop_map(Then::Constant),
            (-50i64..50).prop_map(Then::ALessThan),
            (-50i64..50).prop_map(Then::BGreaterThan),
        ]
    }

    fn case(
        partitions: u64,
        thens: &[Then],
        otherwise: Option<Option<bool>>,
    ) -> Arc<dyn PhysicalExpr> {
        let (a, b): (Arc<dyn PhysicalExpr>, Arc<dyn PhysicalExpr>) =
            (Arc::new(Column::new("a", 0)), Arc::new(Column::new("b", 1)));
        let hash = Arc::new(HashExpr::new(
            vec![Arc::clone(&a)],
            SeededRandomState::with_seed(0),
            "hash_repartition".into(),
        ));
        let routing = Arc::new(BinaryExpr::new(
            hash,
            Operator::Modulo,
            lit(ScalarValue::UInt64(Some(partitions))),
        ));
        let when_then = thens
            .iter()
            .enumerate()
            .filter_map(|(partition, then)| {
                let filter: Arc<dyn PhysicalExpr> = match then {
                    Then::Absent => return None,
                    Then::Constant(c) => lit(ScalarValue::Boolean(*c)),
                    Then::ALessThan(k) => {
                        Arc::new(BinaryExpr::new(Arc::clone(&a), Operator::Lt, lit(*k)))
                    }
                    Then::BGreaterThan(k) => {
                        Arc::new(BinaryExpr::new(Arc::clone(&b), Operator::Gt, lit(*k)))
                    }
                };
                Some((lit(ScalarValue::UInt64(Some(partition as u64))), filter))
            })
            .collect();
        let otherwise = otherwise.map(|o| lit(ScalarValue::Boolean(o)));
        Arc::new(CaseExpr::try_new(Some(routing), when_then, otherwise).unwrap())
    }

    proptest! {
        #[test]
        fn answers_as_the_case_it_replaces(
            a in prop::collection::vec(prop::option::of(-60i64..60), 0..300),
            partitions in 1u64..5,
            thens in prop::collection::vec(then(), 5),
            otherwise in prop::option::of(prop::option::of(any::<bool>())),
        ) {
            let schema = Arc::new(Schema::new(vec![
                Field::new("a", DataType::Int64, true),
                Field::new("b", DataType::Int64, false),
            ]));
            let b: Int64Array = (0..a.len() as i64).map(|i| i % 97 - 48).collect();
            let batch = RecordBatch::try_new(
                schema,
                vec![Arc::new(a.into_iter().collect::<Int64Array>()), Arc::new(b)],
            )
            .unwrap();
            let thens = &thens[..partitions as usize];
            // A CASE has at least one WHEN.
            prop_assume!(thens.iter().any(|t| !matches!(t, Then::Absent)));
            let planned = case(partitions, thens, otherwise);
            let routed = route_by_partition(Arc::clone(&planned)).unwrap();
            let reads_columns = thens
                .iter()
                .any(|t| matches!(t, Then::ALessThan(_) | Then::BGreaterThan(_)));
            // Branches that read no column are left to the CASE.
            prop_assert_eq!(routed.is::<RoutedByPartition>(), reads_columns);
            let expected = planned.evaluate(&batch).unwrap().into_array(batch.num_rows()).unwrap();
            let actual = routed.evaluate(&batch).unwrap().into_array(batch.num_rows()).unwrap();
            prop_assert_eq!(actual.as_boolean(), expected.as_boolean());
        }
    }

    #[test]
    fn other_cases_are_left_alone() {
        let a: Arc<dyn PhysicalExpr> = Arc::new(Column::new("a", 0));
        // Routed by the value itself, not by a hash.
        let by_value: Arc<dyn PhysicalExpr> = Arc::new(
            CaseExpr::try_new(
                Some(Arc::new(BinaryExpr::new(
                    Arc::clone(&a),
                    Operator::Modulo,
                    lit(2i64),
                ))),
                vec![(lit(0i64), lit(true))],
                Some(lit(false)),
            )
            .unwrap(),
        );
        let routed = route_by_partition(Arc::clone(&by_value)).unwrap();
        assert!(!routed.is::<RoutedByPartition>());
        assert_eq!(routed.to_string(), by_value.to_string());
    }
}
