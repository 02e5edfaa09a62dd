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

#[tokio::test]
async fn copies_read_at_once_by_a_self_join_answer_the_same() {
    let lake = lake();
    shop(&lake).await;
    // Both sides of a join run their copy at once: the cache of each partition goes to
    // whichever copy comes first.
    let shared = "WITH per_order AS (SELECT l_order, sum(l_quantity) AS q FROM pg.lines \
        GROUP BY l_order) \
        SELECT a.l_order, a.q, b.q AS before FROM per_order a \
        JOIN per_order b ON a.l_order = b.l_order + 1";
    let apart = "SELECT a.l_order, a.q, b.q AS before FROM \
        (SELECT l_order, sum(l_quantity) AS q FROM pg.lines GROUP BY l_order) a JOIN \
        (SELECT l_order, sum(l_quantity + 0) AS q FROM pg.lines GROUP BY l_order) b \
        ON a.l_order = b.l_order + 1";
    let plan = lake.explain(shared).await;
    assert_eq!(plan.matches("SharedExec").count(), 2, "{plan}");
    let answer = tokio::time::timeout(std::time::Duration::from_secs(60), lake.sorted_rows(shared))
        .await
        .expect("the self-join finishes");
    assert_eq!(answer, lake.sorted_rows(apart).await);
}

#[tokio::test]
async fn subplans_with_joins_values_or_volatile_functions_are_not_shared() {
    let lake = lake();
    shop(&lake).await;
    let unshared = [
        // A join inside: it waits for every partition's build side, which another copy may hold.
        "WITH j AS (SELECT o_customer, sum(l_quantity) AS q FROM pg.orders \
         JOIN pg.lines ON o_key = l_order GROUP BY o_customer) \
         SELECT a.o_customer FROM j a JOIN j b ON a.o_customer = b.o_customer WHERE a.q = b.q",
        // Two VALUES lists print alike whatever they hold.
        "WITH a AS (SELECT x, count(*) AS c FROM (VALUES (1), (1), (2)) t(x) GROUP BY x), \
         b AS (SELECT x, count(*) AS c FROM (VALUES (3), (3), (4)) t(x) GROUP BY x) \
         SELECT * FROM a UNION ALL SELECT * FROM b",
        // Each copy draws its own numbers.
        "WITH r AS (SELECT l_order % 3 AS k, max(random()) AS m FROM pg.lines GROUP BY l_order % 3) \
         SELECT a.k, a.m = b.m AS same FROM r a JOIN r b ON a.k = b.k",
    ];
    for sql in unshared {
        let plan = lake.explain(sql).await;
        assert!(!plan.contains("SharedExec"), "{sql}\n{plan}");
    }
    let values = lake.sorted_rows(unshared[1]).await;
    assert_eq!(values.len(), 4, "{values:?}");
}
