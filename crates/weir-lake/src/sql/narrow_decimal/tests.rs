//! The narrow path against Arrow's checked kernels: the same values, types, NULLs and errors, on
//! random operands and through whole plans.

use std::sync::Arc;

use datafusion::arrow::array::{Array, Decimal128Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::MemTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::{ColumnarValue, Operator};
use datafusion::physical_expr::expressions::{BinaryExpr, Column, Literal};
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};
use datafusion::prelude::{SessionConfig, SessionContext};
use proptest::prelude::*;

use super::{NarrowDecimal, NarrowDecimalArithmetic};
use crate::sql::sorted_window::tests::run;

/// One operand: a column of `DECIMAL(precision, scale)` values (`None` is NULL), or a literal.
#[derive(Debug, Clone)]
enum Side {
    Column(u8, i8, Vec<Option<i128>>),
    Literal(u8, i8, Option<i128>),
}

fn decimal_type() -> impl Strategy<Value = (u8, i8)> {
    // Negative scales too: Arrow allows them (a value times a power of ten).
    (1u8..=38).prop_flat_map(|p| (Just(p), -10i8..=(p as i8).min(20)))
}

/// Values mostly within 64 bits, sometimes near the type's limit, sometimes NULL.
fn value(precision: u8) -> impl Strategy<Value = Option<i128>> {
    let max = 10i128.pow(precision as u32) - 1;
    prop_oneof![
        6 => (-max.min(1 << 40)..=max.min(1 << 40)).prop_map(Some),
        2 => (-max..=max).prop_map(Some),
        1 => Just(None),
    ]
}

fn side(rows: usize) -> impl Strategy<Value = Side> {
    decimal_type().prop_flat_map(move |(p, s)| {
        prop_oneof![
            4 => prop::collection::vec(value(p), rows).prop_map(move |v| Side::Column(p, s, v)),
            1 => value(p).prop_map(move |v| Side::Literal(p, s, v)),
        ]
    })
}

fn decimals(p: u8, s: i8, values: &[Option<i128>]) -> Decimal128Array {
    values
        .iter()
        .copied()
        .collect::<Decimal128Array>()
        .with_precision_and_scale(p, s)
        .unwrap()
}

/// The batch holding the column operands, and each side's expression over it.
fn operands(
    left: &Side,
    right: &Side,
) -> (RecordBatch, Arc<dyn PhysicalExpr>, Arc<dyn PhysicalExpr>) {
    let mut fields = Vec::new();
    let mut columns: Vec<Arc<dyn Array>> = Vec::new();
    let mut expr = |side: &Side, name: &str| -> Arc<dyn PhysicalExpr> {
        match side {
            Side::Column(p, s, values) => {
                fields.push(Field::new(name, DataType::Decimal128(*p, *s), true));
                columns.push(Arc::new(decimals(*p, *s, values)));
                Arc::new(Column::new(name, columns.len() - 1))
            }
            Side::Literal(p, s, v) => Arc::new(Literal::new(ScalarValue::Decimal128(*v, *p, *s))),
        }
    };
    let (l, r) = (expr(left, "l"), expr(right, "r"));
    // Literals alone still make a batch of rows.
    let rows = columns.first().map_or(ROWS, |c| c.len());
    fields.push(Field::new("rows", DataType::Boolean, true));
    columns.push(Arc::new(datafusion::arrow::array::BooleanArray::from(
        vec![None; rows],
    )));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    (batch, l, r)
}

const ROWS: usize = 17;

/// What each expression answers: the array, or the error's text.
fn answer(expr: &dyn PhysicalExpr, batch: &RecordBatch) -> Result<Decimal128Array, String> {
    match expr.evaluate(batch) {
        Ok(ColumnarValue::Array(array)) => Ok(array
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap()
            .clone()),
        Ok(ColumnarValue::Scalar(scalar)) => {
            let array = scalar.to_array_of_size(batch.num_rows()).unwrap();
            Ok(array
                .as_any()
                .downcast_ref::<Decimal128Array>()
                .unwrap()
                .clone())
        }
        Err(e) => Err(e.strip_backtrace()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn answers_as_arrows_checked_kernels(
        left in side(ROWS),
        right in side(ROWS),
        op in prop_oneof![Just(Operator::Plus), Just(Operator::Minus), Just(Operator::Multiply)],
    ) {
        let (batch, l, r) = operands(&left, &right);
        let planned: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(l, op, r));
        let Some(narrow) = NarrowDecimal::try_new(&planned, &batch.schema()) else {
            // Only a result type Arrow cannot name (a scale above 38) is left as planned.
            prop_assert!(!matches!(planned.data_type(&batch.schema()), Ok(DataType::Decimal128(_, _))));
            return Ok(());
        };
        let expected = answer(planned.as_ref(), &batch);
        let actual = answer(&narrow, &batch);
        prop_assert_eq!(&actual, &expected);
        if let (Ok(a), Ok(e)) = (&actual, &expected) {
            prop_assert_eq!(a.data_type(), e.data_type());
            prop_assert_eq!(a.nulls(), e.nulls());
        }
    }
}

fn column(p: u8, s: i8, values: &[Option<i128>]) -> (ColumnarValue, Side) {
    (
        ColumnarValue::Array(Arc::new(decimals(p, s, values))),
        Side::Column(p, s, values.to_vec()),
    )
}

/// The fast path is taken where every value fits in 64 bits, and only there.
#[test]
fn narrow_only_where_values_fit_in_64_bits() {
    let small = [Some(12_345), None, Some(-99)];
    let (price, price_side) = column(15, 2, &small);
    let (big, big_side) = column(38, 2, &[Some(1 << 70), Some(1), None]);
    for (other, other_side, fits) in [
        (price.clone(), price_side.clone(), true),
        (big, big_side, false),
    ] {
        let (batch, l, r) = operands(&price_side, &other_side);
        let planned: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(l, Operator::Multiply, r));
        let narrow = NarrowDecimal::try_new(&planned, &batch.schema()).unwrap();
        assert_eq!(narrow.narrow(&price, &other).is_some(), fits);
    }
    // A rescale beyond 10^18 could overflow 128 bits: left to Arrow.
    let (wide, wide_side) = column(38, 20, &[Some(1), Some(2), Some(3)]);
    let (tiny, tiny_side) = column(2, 0, &[Some(1), Some(2), Some(3)]);
    let (batch, l, r) = operands(&tiny_side, &wide_side);
    let planned: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(l, Operator::Plus, r));
    let narrow = NarrowDecimal::try_new(&planned, &batch.schema()).unwrap();
    assert!(narrow.narrow(&tiny, &wide).is_none());
}

/// Prices, discounts and taxes as TPC-H types them, some NULL, and a column too wide for 64 bits.
fn lines() -> Arc<MemTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("flag", DataType::Utf8, false),
        Field::new("price", DataType::Decimal128(15, 2), true),
        Field::new("discount", DataType::Decimal128(15, 2), false),
        Field::new("tax", DataType::Decimal128(15, 2), false),
        Field::new("huge", DataType::Decimal128(38, 0), false),
    ]));
    let mut rng = fastrand::Rng::with_seed(5);
    let batches = (0..8)
        .map(|b| {
            let n = 1_000;
            let flag: datafusion::arrow::array::StringArray = (0..n)
                .map(|_| Some(["A", "N", "R"][rng.usize(..3)]))
                .collect();
            let price: Vec<_> = (0..n)
                .map(|_| (rng.u8(..) > 20).then(|| rng.i128(100..10_000_000)))
                .collect();
            let discount: Vec<_> = (0..n).map(|_| Some(rng.i128(0..=10))).collect();
            let tax: Vec<_> = (0..n).map(|_| Some(rng.i128(0..=8))).collect();
            // Every other batch holds a value past 64 bits: it takes Arrow's path.
            let huge: Vec<_> = (0..n)
                .map(|i| {
                    Some(if b % 2 == 0 && i == 7 {
                        1i128 << 90
                    } else {
                        rng.i128(-1000..1000)
                    })
                })
                .collect();
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    Arc::new(flag),
                    Arc::new(decimals(15, 2, &price)),
                    Arc::new(decimals(15, 2, &discount)),
                    Arc::new(decimals(15, 2, &tax)),
                    Arc::new(decimals(38, 0, &huge)),
                ],
            )
            .unwrap()
        })
        .collect();
    Arc::new(MemTable::try_new(schema, vec![batches]).unwrap())
}

fn context(table: &Arc<MemTable>, with_rule: bool) -> SessionContext {
    let config = SessionConfig::new()
        .with_target_partitions(2)
        .with_batch_size(700);
    let mut builder = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features();
    if with_rule {
        builder = builder.with_physical_optimizer_rule(Arc::new(NarrowDecimalArithmetic));
    }
    let ctx = SessionContext::new_with_state(builder.build());
    ctx.register_table("t", Arc::clone(table) as _).unwrap();
    ctx
}

/// How many narrow expressions `plan`'s projections and aggregations hold.
fn narrow_count(plan: &Arc<dyn ExecutionPlan>) -> usize {
    let mut exprs: Vec<Arc<dyn PhysicalExpr>> = Vec::new();
    plan.apply(|node| {
        if let Some(p) = node.downcast_ref::<ProjectionExec>() {
            exprs.extend(p.expr().iter().map(|e| Arc::clone(&e.expr)));
        }
        if let Some(a) = node.downcast_ref::<AggregateExec>() {
            exprs.extend(a.aggr_expr().iter().flat_map(|f| f.expressions()));
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .unwrap();
    let mut count = 0;
    for expr in exprs {
        expr.apply(|e| {
            count += usize::from(e.downcast_ref::<NarrowDecimal>().is_some());
            Ok(TreeNodeRecursion::Continue)
        })
        .unwrap();
    }
    count
}

#[tokio::test]
async fn plans_answer_as_datafusion_alone() {
    let table = lines();
    let queries = [
        // TPC-H q01's arithmetic, in the arguments of a grouped aggregation.
        "SELECT flag, sum(price * (1 - discount)) AS disc, \
         sum(price * (1 - discount) * (1 + tax)) AS charge, avg(price + tax) AS a \
         FROM t GROUP BY flag ORDER BY flag",
        // In a projection, literals on either side, rescaled operands, and a wide column
        // whose batches alternate between the two paths.
        "SELECT price * discount AS p, CAST(0.5 AS DECIMAL(2, 1)) - discount AS d, tax + 1.125 AS t2, huge * 3 AS h, \
         huge - price AS hp FROM t ORDER BY h, hp, p, d, t2",
    ];
    for (sql, arithmetic) in queries
        .iter()
        .zip(["price@1 * (1 - discount@2)", "(huge@3 - price@0)"])
    {
        let (expected, _) = run(&context(&table, false), sql).await;
        let (actual, shown) = run(&context(&table, true), sql).await;
        assert_eq!(actual, expected, "{sql}");
        let plan = context(&table, true)
            .sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        assert!(narrow_count(&plan) >= 2, "{sql}\n{shown}");
        // Printed as the arithmetic it computes, with the parentheses it needs.
        assert!(shown.contains(arithmetic), "{shown}");
    }
}

#[tokio::test]
async fn ordered_aggregates_answer_as_datafusion_alone() {
    // DataFusion serves both orders from one sort by reversing one aggregate, which a rebuilt
    // aggregate would forget: such aggregates keep their arguments as planned.
    let table = lines();
    let sql = "SELECT flag, array_agg(price * (1 - discount) ORDER BY price, discount) AS up, \
               array_agg(price * (1 - discount) ORDER BY price DESC, discount DESC) AS down, \
               sum(price * tax) AS s FROM t WHERE price IS NOT NULL GROUP BY flag ORDER BY flag";
    let (expected, _) = run(&context(&table, false), sql).await;
    let (actual, _) = run(&context(&table, true), sql).await;
    assert_eq!(actual, expected);
}

#[test]
fn sums_and_differences_print_with_the_parentheses_they_need() {
    let schema = Schema::new(vec![
        Field::new("a", DataType::Decimal128(15, 2), false),
        Field::new("b", DataType::Decimal128(15, 2), false),
        Field::new("c", DataType::Decimal128(15, 2), false),
    ]);
    let column = |name: &str, i| Arc::new(Column::new(name, i)) as Arc<dyn PhysicalExpr>;
    let sum: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(
        column("a", 0),
        Operator::Plus,
        column("b", 1),
    ));
    let product: Arc<dyn PhysicalExpr> =
        Arc::new(BinaryExpr::new(sum, Operator::Multiply, column("c", 2)));
    let narrowed = super::narrowed(&product, &schema).unwrap().unwrap();
    assert_eq!(narrowed.to_string(), "(a@0 + b@1) * c@2");
    let sql = datafusion::physical_expr_common::physical_expr::fmt_sql(narrowed.as_ref());
    assert_eq!(sql.to_string(), "(a + b) * c");
}

#[tokio::test]
async fn an_overflow_is_the_same_error() {
    let table = lines();
    let sql = "SELECT huge * huge * huge * huge * huge FROM t";
    let failed = |with_rule| {
        let ctx = context(&table, with_rule);
        async move {
            ctx.sql(sql)
                .await
                .unwrap()
                .collect()
                .await
                .unwrap_err()
                .strip_backtrace()
        }
    };
    let expected = failed(false).await;
    assert!(expected.contains("Overflow"), "{expected}");
    assert_eq!(failed(true).await, expected);
}
