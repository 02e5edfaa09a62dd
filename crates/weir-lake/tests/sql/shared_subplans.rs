//! A grouped subquery named twice (a `WITH` used twice, as TPC-H q15) is computed once, and
//! answers as the same query whose two copies differ and are computed apart.

use crate::fixtures::lake;
use crate::statistics::shop;

/// The orders whose lines hold the most, by a `WITH` named twice.
const SHARED: &str = "WITH per_order AS (SELECT l_order, sum(l_quantity) AS q FROM pg.lines \
    GROUP BY l_order) \
    SELECT o_key, o_customer, q FROM pg.orders, per_order \
    WHERE o_key = l_order AND q = (SELECT max(q) FROM per_order)";

/// The same question with copies that are not the same plan (`+ 0`).
const APART: &str = "SELECT o_key, o_customer, q FROM pg.orders, \
    (SELECT l_order, sum(l_quantity) AS q FROM pg.lines GROUP BY l_order) per_order \
    WHERE o_key = l_order AND q = (SELECT max(q) FROM \
    (SELECT l_order, sum(l_quantity + 0) AS q FROM pg.lines GROUP BY l_order))";

#[tokio::test]
async fn a_with_named_twice_is_computed_once_and_answers_the_same() {
    let lake = lake();
    shop(&lake).await;
    let plan = lake.explain(SHARED).await;
    assert_eq!(plan.matches("SharedExec").count(), 2, "{plan}");
    assert!(!lake.explain(APART).await.contains("SharedExec"));
    let expected = lake.sorted_rows(APART).await;
    assert!(!expected.is_empty());
    assert_eq!(lake.sorted_rows(SHARED).await, expected);
}
