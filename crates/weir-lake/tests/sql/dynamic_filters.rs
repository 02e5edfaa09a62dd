//! Dynamic filters applied to a scan's rows (`DynamicRowFilterExec`) where a join or an
//! aggregation lies between the scan and the join that built them, not where the scan feeds
//! that join directly; answers equal to those of plans without dynamic filters at all.

use weir_lake::sql::SessionOptions;

use crate::fixtures::{TestLake, lake_with};
use crate::statistics::{LARGE_ORDERS, shop};

/// The lines of customer 3's orders below their order's average quantity: a correlated
/// subquery whose aggregate groups every line by order, of which the join wants 50.
const BELOW_AVERAGE: &str = "SELECT o_key, sum(l_quantity) AS q FROM pg.lines, pg.orders \
    WHERE o_key = l_order AND o_customer = 3 \
      AND l_quantity < (SELECT avg(l2.l_quantity) FROM pg.lines l2 WHERE l2.l_order = o_key) \
    GROUP BY o_key";

/// A join the scan feeds directly: the join drops the rows itself.
const DIRECT: &str = "SELECT count(*) AS n FROM pg.orders JOIN pg.lines ON o_key = l_order \
    WHERE o_customer = 3";

/// A join key computed and renamed under the join: a scan that folds `l_order + 1000 AS
/// l_order` must not have the join's filter (on the output `l_order`) read the table's.
const RENAMED_KEY: &str = "SELECT o_key, q FROM (SELECT l_order, sum(l_quantity) AS q \
    FROM (SELECT l_order + 1000 AS l_order, l_quantity FROM pg.lines) GROUP BY l_order) x \
    JOIN pg.orders ON o_key + 1000 = x.l_order WHERE o_customer = 3";

async fn shops() -> (TestLake, TestLake) {
    shops_with(Vec::new()).await
}

/// Two shops with `settings`, the second without dynamic filters at all.
async fn shops_with(settings: Vec<(String, String)>) -> (TestLake, TestLake) {
    let with = lake_with(SessionOptions {
        settings: settings.clone(),
        ..SessionOptions::default()
    });
    shop(&with).await;
    let mut off = settings;
    off.push((
        "datafusion.optimizer.enable_dynamic_filter_pushdown".into(),
        "false".into(),
    ));
    let without = lake_with(SessionOptions {
        settings: off,
        ..SessionOptions::default()
    });
    shop(&without).await;
    (with, without)
}

/// The rows each `DynamicRowFilterExec` of `sql`'s run handed on, from `EXPLAIN ANALYZE`.
async fn rows_handed_on(lake: &TestLake, sql: &str) -> Vec<f64> {
    lake.rows(&format!("EXPLAIN ANALYZE {sql}"))
        .await
        .iter()
        .filter_map(|r| r.get("plan").and_then(serde_json::Value::as_str))
        .flat_map(|plan| plan.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|line| line.contains("DynamicRowFilterExec"))
        .filter_map(|line| {
            let shown = line
                .split("output_rows=")
                .nth(1)?
                .split(',')
                .next()?
                .trim()
                .to_string();
            let (number, unit) = shown.split_once(' ').unwrap_or((&shown, ""));
            let scale = if unit == "K" { 1e3 } else { 1.0 };
            Some(number.parse::<f64>().ok()? * scale)
        })
        .collect()
}

#[tokio::test]
async fn a_correlated_aggregate_reads_only_the_keys_the_join_wants() {
    let (with, without) = shops().await;
    let plan = with.explain(BELOW_AVERAGE).await;
    assert!(
        plan.contains("DynamicRowFilterExec (while at most 50 % pass)"),
        "{plan}"
    );
    assert!(
        !without
            .explain(BELOW_AVERAGE)
            .await
            .contains("DynamicRowFilterExec")
    );
    let expected = without.sorted_rows(BELOW_AVERAGE).await;
    assert_eq!(expected.len(), 50);
    assert_eq!(with.sorted_rows(BELOW_AVERAGE).await, expected);
    // Customer 3's 50 orders have 200 lines of the 20,000 the aggregate would group.
    let handed_on = rows_handed_on(&with, BELOW_AVERAGE).await;
    assert!(
        !handed_on.is_empty() && handed_on.iter().sum::<f64>() <= 200.0,
        "{handed_on:?}"
    );
}

#[tokio::test]
async fn an_in_subquery_above_a_join_filters_the_fact_rows_and_answers_the_same() {
    let (with, without) = shops().await;
    let plan = with.explain(LARGE_ORDERS).await;
    assert!(
        plan.contains("DynamicRowFilterExec (while at most 1 % pass)"),
        "{plan}"
    );
    let expected = without.sorted_rows(LARGE_ORDERS).await;
    assert!(!expected.is_empty());
    assert_eq!(with.sorted_rows(LARGE_ORDERS).await, expected);
}

#[tokio::test]
async fn a_scan_that_feeds_its_join_directly_is_not_filtered_twice() {
    let (with, without) = shops().await;
    let plan = with.explain(DIRECT).await;
    assert!(plan.contains("DynamicFilter"), "{plan}");
    assert!(!plan.contains("DynamicRowFilterExec"), "{plan}");
    assert_eq!(with.rows(DIRECT).await, without.rows(DIRECT).await);
}

#[tokio::test]
async fn partitioned_joins_and_renamed_keys_answer_as_without_dynamic_filters() {
    // Joins built per partition: their filters route each row by its key's hash.
    let partitioned = vec![
        (
            "datafusion.optimizer.hash_join_single_partition_threshold".to_string(),
            "0".to_string(),
        ),
        (
            "datafusion.optimizer.hash_join_single_partition_threshold_rows".to_string(),
            "0".to_string(),
        ),
    ];
    let (with, without) = shops_with(partitioned).await;
    assert!(
        with.explain(LARGE_ORDERS)
            .await
            .contains("mode=Partitioned")
    );
    for sql in [BELOW_AVERAGE, LARGE_ORDERS, RENAMED_KEY, DIRECT] {
        let expected = without.sorted_rows(sql).await;
        assert!(!expected.is_empty(), "{sql}");
        assert_eq!(with.sorted_rows(sql).await, expected, "{sql}");
    }
    // One partition: the projection computing the key is folded into the scan itself.
    let (with, without) = shops_with(vec![(
        "datafusion.execution.target_partitions".to_string(),
        "1".to_string(),
    )])
    .await;
    let expected = without.sorted_rows(RENAMED_KEY).await;
    assert_eq!(expected.len(), 50);
    assert_eq!(with.sorted_rows(RENAMED_KEY).await, expected);
}
