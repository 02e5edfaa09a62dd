//! Filters on one dictionary-encoded column, evaluated once per distinct value.
//!
//! `event_type = 'purchase'`, `url LIKE '/product/%'` or `device IN (…)` depend on one column
//! that is read as an Arrow dictionary (`footers`): a handful of distinct strings behind an
//! integer key per row. [`DictionaryPredicate`] evaluates the condition on the distinct values
//! (a batch of one row per value), keeps the answers in a small table, and answers each row by
//! looking its key up in that table. Batches from one Parquet column chunk share their dictionary,
//! so the table is computed once per chunk, not once per batch, and a `LIKE` runs on the few
//! hundred distinct pages rather than on every row.
//!
//! [`CheaperFilters`] puts the predicate in place in every `FilterExec` whose condition (or a part
//! of an `AND`/`OR` of it) reads only such a column and is deterministic.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{
    Array, ArrayData, AsArray, BooleanArray, DictionaryArray, Int32Array, RecordBatch,
};
use datafusion::arrow::buffer::{BooleanBuffer, Buffer, NullBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int32Type, Schema};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{ColumnarValue, Operator};
use datafusion::physical_expr::expressions::{BinaryExpr, Column};
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_expr_common::physical_expr::is_volatile;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::filter::{FilterExec, FilterExecBuilder};
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};

use super::conjunction::AllOf;
use super::tuning::replace_nodes;

/// How many dictionaries a predicate remembers answers for: one per scan stream is enough, a few
/// more cover streams that alternate between row groups.
const REMEMBERED_DICTIONARIES: usize = 8;

/// A boolean condition on one dictionary column, answered per distinct value.
#[derive(Debug)]
pub struct DictionaryPredicate {
    /// The condition as planned, over the input batch.
    inner: Arc<dyn PhysicalExpr>,
    /// The column it reads.
    column: Column,
    /// The same condition over a one-column batch of the column's distinct values.
    on_values: Arc<dyn PhysicalExpr>,
    answers: Mutex<Vec<(ArrayData, Arc<Answers>)>>,
}

/// The condition's answer for each distinct value (by key) and, last, for NULL; and whether the
/// answer is NULL.
#[derive(Debug)]
struct Answers {
    truth: Vec<bool>,
    /// `None` when no answer is NULL.
    valid: Option<Vec<bool>>,
}

impl DictionaryPredicate {
    /// `inner` evaluated by distinct value, when it reads exactly one column (and nothing
    /// volatile).
    pub fn try_new(inner: Arc<dyn PhysicalExpr>) -> Option<Self> {
        let columns = collect_columns(&inner);
        if columns.len() != 1 || inner.is::<Column>() || is_volatile(&inner) {
            return None;
        }
        let column = columns.into_iter().next()?;
        let on_values = Arc::clone(&inner)
            .transform_up(|e| {
                Ok(match e.downcast_ref::<Column>() {
                    Some(c) => Transformed::yes(Arc::new(Column::new(c.name(), 0)) as _),
                    None => Transformed::no(e),
                })
            })
            .ok()?
            .data;
        Some(DictionaryPredicate {
            inner,
            column,
            on_values,
            answers: Mutex::new(Vec::new()),
        })
    }

    /// The answers for `dictionary`'s values: remembered, or computed now.
    fn answers(
        &self,
        field: &Field,
        dictionary: &DictionaryArray<Int32Type>,
    ) -> Result<Arc<Answers>> {
        let values = dictionary.values().to_data();
        if let Ok(remembered) = self.answers.lock()
            && let Some((_, answers)) = remembered.iter().find(|(v, _)| v.ptr_eq(&values))
        {
            return Ok(Arc::clone(answers));
        }
        // One row per value, then a NULL row: a condition such as `x IS NULL` or
        // `coalesce(x, …)` has an answer for NULL too.
        let count = dictionary.values().len() + 1;
        let keys =
            Int32Array::from_iter((0..count as i32).map(|k| (k + 1 < count as i32).then_some(k)));
        let each_value =
            DictionaryArray::<Int32Type>::try_new(keys, Arc::clone(dictionary.values()))?;
        let schema = Arc::new(Schema::new(vec![field.clone().with_nullable(true)]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(each_value)])?;
        let result = self.on_values.evaluate(&batch)?.into_array(count)?;
        let result = result.as_boolean_opt().ok_or_else(|| {
            DataFusionError::Internal(format!("{} is not a condition", self.inner))
        })?;
        let answers = Arc::new(Answers {
            truth: (0..count).map(|i| result.value(i)).collect(),
            valid: result
                .nulls()
                .map(|nulls| (0..count).map(|i| nulls.is_valid(i)).collect()),
        });
        if let Ok(mut remembered) = self.answers.lock() {
            if remembered.len() >= REMEMBERED_DICTIONARIES {
                remembered.remove(0);
            }
            remembered.push((values, Arc::clone(&answers)));
        }
        Ok(answers)
    }
}

/// One bit per row: `answer[key]`, and the last answer (NULL's) for NULL rows. A key outside the
/// table cannot happen (keys of rows that are not NULL are checked when read) and reads `false`.
fn per_row(keys: &Int32Array, answer: &[bool]) -> BooleanBuffer {
    let values = keys.values();
    // The values' answers; the last one is NULL's.
    let by_value = &answer[..answer.len().saturating_sub(1)];
    let one_key = |wanted: bool| -> Option<i32> {
        let mut found = by_value.iter().enumerate().filter(|(_, a)| **a == wanted);
        match (found.next(), found.next()) {
            (Some((key, _)), None) => i32::try_from(key).ok(),
            _ => None,
        }
    };
    let answers = if by_value.iter().all(|a| !a) {
        BooleanBuffer::new_unset(keys.len())
    } else if by_value.iter().all(|a| *a) {
        BooleanBuffer::new_set(keys.len())
    } else if let Some(only) = one_key(true) {
        // `x = 'a'`: comparing keys vectorises, a table lookup does not.
        pack(values, |key| u8::from(key == only))
    } else if let Some(only) = one_key(false) {
        pack(values, |key| u8::from(key != only))
    } else if by_value.len() <= 64 {
        // A few distinct values: a table indexed by the key's low bits needs no bounds check.
        let mut table = [0u8; 64];
        for (slot, &a) in table.iter_mut().zip(by_value) {
            *slot = u8::from(a);
        }
        pack(values, |key| table[(key & 63) as usize])
    } else {
        pack(values, |key| {
            u8::from(by_value.get(key as usize).copied().unwrap_or(false))
        })
    };
    // NULL rows take NULL's answer, whatever their key.
    match keys.nulls().filter(|n| n.null_count() > 0) {
        None => answers,
        Some(nulls) if answer.last().copied().unwrap_or(false) => &answers | &!nulls.inner(),
        Some(nulls) => &answers & nulls.inner(),
    }
}

/// `bit(key)` (0 or 1) for each key, eight to a byte.
fn pack(keys: &[i32], bit: impl Fn(i32) -> u8) -> BooleanBuffer {
    let mut bytes = Vec::with_capacity(keys.len().div_ceil(8));
    let eights = keys.chunks_exact(8);
    let rest = eights.remainder();
    for k in eights {
        bytes.push(
            bit(k[0])
                | bit(k[1]) << 1
                | bit(k[2]) << 2
                | bit(k[3]) << 3
                | bit(k[4]) << 4
                | bit(k[5]) << 5
                | bit(k[6]) << 6
                | bit(k[7]) << 7,
        );
    }
    if !rest.is_empty() {
        bytes.push(
            rest.iter()
                .enumerate()
                .fold(0u8, |byte, (i, &key)| byte | bit(key) << i),
        );
    }
    BooleanBuffer::new(Buffer::from_vec(bytes), 0, keys.len())
}

impl PhysicalExpr for DictionaryPredicate {
    fn data_type(&self, _input_schema: &Schema) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn nullable(&self, input_schema: &Schema) -> Result<bool> {
        self.inner.nullable(input_schema)
    }

    fn return_field(&self, input_schema: &Schema) -> Result<FieldRef> {
        self.inner.return_field(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let array = batch.column(self.column.index());
        let Some(dictionary) = array.as_dictionary_opt::<Int32Type>() else {
            return self.inner.evaluate(batch);
        };
        // More distinct values than rows (a filtered slice of a large dictionary): per row is
        // cheaper.
        if dictionary.values().len() > batch.num_rows().max(64) {
            return self.inner.evaluate(batch);
        }
        let field = batch.schema().field(self.column.index()).clone();
        let answers = self.answers(&field, dictionary)?;
        let keys = dictionary.keys();
        let truth = per_row(keys, &answers.truth);
        let nulls = answers
            .valid
            .as_ref()
            .map(|valid| NullBuffer::new(per_row(keys, valid)));
        Ok(ColumnarValue::Array(Arc::new(BooleanArray::new(
            truth, nulls,
        ))))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.inner]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let inner = children.into_iter().next().ok_or_else(|| {
            DataFusionError::Internal("a dictionary predicate has one child".into())
        })?;
        Ok(match DictionaryPredicate::try_new(Arc::clone(&inner)) {
            Some(predicate) => Arc::new(predicate),
            None => inner,
        })
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt_sql(f)
    }
}

impl fmt::Display for DictionaryPredicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "by_dictionary_value({})", self.inner)
    }
}

impl PartialEq for DictionaryPredicate {
    fn eq(&self, other: &Self) -> bool {
        self.inner.eq(&other.inner)
    }
}

impl Eq for DictionaryPredicate {}

impl Hash for DictionaryPredicate {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.hash(state);
    }
}

/// `expr` with its conditions on one dictionary column answered by value; `None` if nothing
/// applies.
fn by_value(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Option<Arc<dyn PhysicalExpr>> {
    if let Some(predicate) = DictionaryPredicate::try_new(Arc::clone(expr))
        && is_int32_dictionary(schema, predicate.column.index())
        && matches!(expr.data_type(schema), Ok(DataType::Boolean))
    {
        return Some(Arc::new(predicate));
    }
    let binary = expr.downcast_ref::<BinaryExpr>()?;
    if !matches!(binary.op(), Operator::And | Operator::Or) {
        return None;
    }
    let left = by_value(binary.left(), schema);
    let right = by_value(binary.right(), schema);
    if left.is_none() && right.is_none() {
        return None;
    }
    Some(Arc::new(BinaryExpr::new(
        left.unwrap_or_else(|| Arc::clone(binary.left())),
        *binary.op(),
        right.unwrap_or_else(|| Arc::clone(binary.right())),
    )))
}

fn is_int32_dictionary(schema: &Schema, index: usize) -> bool {
    schema.fields().get(index).is_some_and(
        |f| matches!(f.data_type(), DataType::Dictionary(key, _) if **key == DataType::Int32),
    )
}

/// Makes filters cheaper to evaluate: conditions on one dictionary column are answered by value
/// ([`DictionaryPredicate`]), and an `AND` of cheap conditions is evaluated on the whole batch
/// ([`AllOf`]).
#[derive(Debug, Default)]
pub struct CheaperFilters;

impl PhysicalOptimizerRule for CheaperFilters {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        replace_nodes(plan, |node| {
            let Some(filter) = node.downcast_ref::<FilterExec>() else {
                return Ok(None);
            };
            let schema = filter.input().schema();
            let by_value = by_value(filter.predicate(), &schema);
            let predicate = by_value.as_ref().unwrap_or(filter.predicate());
            let predicate: Arc<dyn PhysicalExpr> =
                match (AllOf::try_new(predicate, &schema), by_value) {
                    (Some(all), _) => Arc::new(all),
                    (None, Some(by_value)) => by_value,
                    (None, None) => return Ok(None),
                };
            let rebuilt = FilterExecBuilder::from(filter)
                .with_predicate(predicate)
                .build()?;
            Ok(Some(Arc::new(rebuilt) as Arc<dyn ExecutionPlan>))
        })
    }

    fn name(&self) -> &str {
        "weir_cheaper_filters"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::StringArray;
    use datafusion::common::ScalarValue;
    use datafusion::physical_expr::expressions::{IsNullExpr, NotExpr, lit};

    use super::*;

    /// Rows: a, b, NULL value, NULL row, b, c, then keys under NULL rows that point nowhere.
    fn batch() -> RecordBatch {
        let values = StringArray::from(vec![Some("a"), Some("b"), None, Some("c")]);
        let keys = Int32Array::from(vec![Some(0), Some(1), Some(2), None, Some(1), Some(3)]);
        let dictionary =
            DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values)).expect("dictionary");
        let field = Field::new(
            "x",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            true,
        );
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("n", DataType::Int64, false),
                field,
            ])),
            vec![
                Arc::new(datafusion::arrow::array::Int64Array::from(vec![1; 6])),
                Arc::new(dictionary),
            ],
        )
        .expect("batch")
    }

    fn x() -> Arc<dyn PhysicalExpr> {
        Arc::new(Column::new("x", 1))
    }

    fn equals(value: &str) -> Arc<dyn PhysicalExpr> {
        let value = ScalarValue::Dictionary(
            Box::new(DataType::Int32),
            Box::new(ScalarValue::Utf8(Some(value.into()))),
        );
        Arc::new(BinaryExpr::new(x(), Operator::Eq, lit(value)))
    }

    #[test]
    fn answers_by_value_equal_answers_by_row() {
        let batch = batch();
        let conditions: Vec<Arc<dyn PhysicalExpr>> = vec![
            equals("b"),
            Arc::new(NotExpr::new(equals("a"))),
            Arc::new(IsNullExpr::new(x())),
            Arc::new(BinaryExpr::new(equals("a"), Operator::Or, equals("c"))),
        ];
        for condition in conditions {
            let by_row = condition.evaluate(&batch).expect("by row").into_array(6);
            let predicate = DictionaryPredicate::try_new(Arc::clone(&condition)).expect("applies");
            // Twice: the second answer comes from the remembered table.
            for _ in 0..2 {
                let by_value = predicate.evaluate(&batch).expect("by value").into_array(6);
                assert_eq!(
                    by_value.as_ref().map(|a| a.to_data()).ok(),
                    by_row.as_ref().map(|a| a.to_data()).ok(),
                    "{condition}"
                );
            }
        }
    }

    #[test]
    fn a_column_declared_not_null_is_answered_too() {
        let values = StringArray::from(vec!["a", "b"]);
        let keys = Int32Array::from(vec![1, 0, 1]);
        let dictionary =
            DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values)).expect("dictionary");
        let field = Field::new("x", dictionary.data_type().clone(), false);
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("n", DataType::Int64, false),
                field,
            ])),
            vec![
                Arc::new(datafusion::arrow::array::Int64Array::from(vec![1; 3])),
                Arc::new(dictionary),
            ],
        )
        .expect("batch");
        let predicate = DictionaryPredicate::try_new(equals("b")).expect("applies");
        let answer = predicate.evaluate(&batch).expect("by value").into_array(3);
        let answer = answer.expect("array");
        assert_eq!(
            answer.as_boolean(),
            &BooleanArray::from(vec![true, false, true])
        );
    }

    #[test]
    fn large_dictionaries_and_null_rows_are_answered_like_rows() {
        let values = StringArray::from_iter_values((0..100).map(|i| format!("v{i}")));
        let keys = Int32Array::from_iter((0..300).map(|i| (i % 7 != 3).then_some((i * 13) % 100)));
        let dictionary =
            DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values)).expect("dictionary");
        let field = Field::new("x", dictionary.data_type().clone(), true);
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("n", DataType::Int64, false),
                field,
            ])),
            vec![
                Arc::new(datafusion::arrow::array::Int64Array::from(vec![1; 300])),
                Arc::new(dictionary),
            ],
        )
        .expect("batch");
        let conditions: Vec<Arc<dyn PhysicalExpr>> = vec![
            equals("v78"),
            Arc::new(NotExpr::new(equals("v78"))),
            Arc::new(NotExpr::new(Arc::new(IsNullExpr::new(x())))),
            Arc::new(IsNullExpr::new(x())),
            Arc::new(BinaryExpr::new(
                Arc::new(IsNullExpr::new(x())),
                Operator::Or,
                equals("v39"),
            )),
        ];
        for condition in conditions {
            let by_row = condition.evaluate(&batch).expect("by row").into_array(300);
            let predicate = DictionaryPredicate::try_new(Arc::clone(&condition)).expect("applies");
            let by_value = predicate
                .evaluate(&batch)
                .expect("by value")
                .into_array(300);
            let (by_row, by_value) = (by_row.expect("array"), by_value.expect("array"));
            assert_eq!(by_value.to_data(), by_row.to_data(), "{condition}");
            assert!(by_row.as_boolean().true_count() > 0, "{condition}");
        }
    }

    #[test]
    fn only_deterministic_conditions_on_one_dictionary_column_apply() {
        let schema = batch().schema();
        assert!(by_value(&equals("a"), &schema).is_some());
        let both = Arc::new(BinaryExpr::new(
            equals("a"),
            Operator::And,
            Arc::new(BinaryExpr::new(
                Arc::new(Column::new("n", 0)),
                Operator::Gt,
                lit(3i64),
            )),
        )) as Arc<dyn PhysicalExpr>;
        let rewritten = by_value(&both, &schema).expect("the dictionary side applies");
        assert!(
            rewritten.to_string().contains("by_dictionary_value(x@1 = "),
            "{rewritten}"
        );
        assert!(
            !rewritten.to_string().contains("by_dictionary_value(n@0"),
            "{rewritten}"
        );
        let on_integers = Arc::new(BinaryExpr::new(
            Arc::new(Column::new("n", 0)),
            Operator::Gt,
            lit(3i64),
        )) as Arc<dyn PhysicalExpr>;
        assert!(by_value(&on_integers, &schema).is_none());
        assert!(by_value(&x(), &schema).is_none());
    }
}
