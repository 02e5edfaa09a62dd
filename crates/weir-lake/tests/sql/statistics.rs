//! Column statistics from the Parquet footers (row counts, nulls, min/max) reach the planner, so
//! that its join estimates follow the data: a semi join (`IN (subquery)`) builds its hash table
//! on the subquery when that is the smaller side, and answers as the plan without them does.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use weir_lake::catalog::Format;
use weir_lake::sql::SessionOptions;

use crate::fixtures::{TestLake, col, lake, lake_with, table};

const CUSTOMERS: i64 = 100;
const ORDERS: i64 = 5_000;
const LINES_PER_ORDER: i64 = 4;

/// Writes `pg.{name}` as one Parquet file of Int64 columns.
async fn int_table(lake: &TestLake, name: &str, columns: Vec<(&str, Vec<i64>)>) {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(c, _)| Field::new(*c, DataType::Int64, false))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|(_, v)| Arc::new(Int64Array::from(v.clone())) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(schema, arrays).expect("batch");
    let file = lake.put_parquet(&format!("pg/{name}/part.parquet"), &batch, &[]);
    let mut t = table(
        "pg",
        name,
        Format::Parquet,
        columns.iter().map(|(c, _)| col(c, "Int64")).collect(),
        vec![],
    );
    t.location = format!("pg/{name}");
    lake.register(t, vec![file]).await;
}

/// Customers, their orders and the orders' lines: a chain of one-to-many joins.
pub(crate) async fn shop(lake: &TestLake) {
    int_table(lake, "customers", vec![("c_key", (0..CUSTOMERS).collect())]).await;
    int_table(
        lake,
        "orders",
        vec![
            ("o_key", (0..ORDERS).collect()),
            (
                "o_customer",
                (0..ORDERS).map(|o| (o * 7) % CUSTOMERS).collect(),
            ),
        ],
    )
    .await;
    let lines = ORDERS * LINES_PER_ORDER;
    int_table(
        lake,
        "lines",
        vec![
            ("l_order", (0..lines).map(|l| l / LINES_PER_ORDER).collect()),
            ("l_quantity", (0..lines).map(|l| (l * 13) % 50).collect()),
        ],
    )
    .await;
}

/// Orders whose lines together hold much: few, found by a subquery over the largest table.
pub(crate) const LARGE_ORDERS: &str = "SELECT c_key, o_key, sum(l_quantity) AS quantity \
    FROM pg.customers, pg.orders, pg.lines \
    WHERE o_key IN (SELECT l_order FROM pg.lines GROUP BY l_order HAVING sum(l_quantity) > 110) \
      AND c_key = o_customer AND o_key = l_order \
    GROUP BY c_key, o_key";

#[tokio::test]
async fn a_semi_join_builds_on_the_smaller_side_and_answers_the_same() {
    let estimated = lake();
    shop(&estimated).await;
    let plan = estimated.explain(LARGE_ORDERS).await;
    // Build (left) on the subquery, probe with the join of the three tables.
    assert!(plan.contains("join_type=RightSemi"), "{plan}");

    let in_written_order = lake_with(SessionOptions {
        settings: vec![(
            "datafusion.optimizer.join_reordering".into(),
            "false".into(),
        )],
        ..SessionOptions::default()
    });
    shop(&in_written_order).await;
    let original = in_written_order.explain(LARGE_ORDERS).await;
    assert!(original.contains("join_type=LeftSemi"), "{original}");
    let expected = in_written_order.sorted_rows(LARGE_ORDERS).await;
    assert!(!expected.is_empty());
    assert_eq!(estimated.sorted_rows(LARGE_ORDERS).await, expected);
}
