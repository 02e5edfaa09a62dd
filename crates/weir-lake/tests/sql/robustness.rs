//! Any input gives a result or an error, never a panic.

use proptest::prelude::*;

use crate::fixtures::{lake, sales};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

const WORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "LIMIT",
    "JOIN",
    "ON",
    "AS",
    "CREATE",
    "TABLE",
    "OR REPLACE",
    "INSERT INTO",
    "VALUES",
    "DROP",
    "PARTITIONED BY",
    "(",
    ")",
    ",",
    "*",
    "shop.sales",
    "shop.x",
    "id",
    "region",
    "amount",
    "day",
    "count(*)",
    "sum(amount)",
    "1",
    "0",
    "'eu'",
    "NULL",
    "=",
    "/",
    "-",
    "over (partition by region)",
    "row_number()",
    ";",
    "DATE '2024-01-02'",
    "CAST(",
    "AS INT)",
    "WITH",
    "UNION ALL",
    "EXPLAIN",
    "SHOW TABLES",
    "DESCRIBE",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(sql in ".{0,200}") {
        let rt = runtime();
        rt.block_on(async {
            let lake = lake();
            let _ = lake.engine.execute(&sql).await;
        });
    }

    #[test]
    fn sql_like_token_soup_never_panics(words in prop::collection::vec(prop::sample::select(WORDS), 0..25)) {
        let sql = words.join(" ");
        let rt = runtime();
        rt.block_on(async {
            let lake = lake();
            sales(&lake, weir_lake::catalog::Format::Parquet).await;
            let _ = lake.engine.execute(&sql).await;
        });
    }
}

#[tokio::test]
async fn deep_parentheses_are_an_error_not_a_stack_overflow() {
    let lake = lake();
    let sql = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
    assert!(lake.engine.execute(&sql).await.is_err());
}

#[tokio::test]
async fn long_expressions_do_not_overflow_the_stack() {
    let lake = lake();
    for chain in [
        " + 1",
        " OR true",
        " UNION ALL SELECT 1",
        " JOIN (SELECT 1) ON true",
    ] {
        let sql = format!("SELECT 1{}", chain.repeat(20_000));
        let err = lake.engine.execute(&sql).await.expect_err("too long");
        assert!(err.message.contains("too complex"), "{err}");
    }
    // Below the limit it runs.
    let sql = format!("SELECT 1{} AS n", " + 1".repeat(400));
    let rows = lake
        .engine
        .execute(&sql)
        .await
        .expect("400 terms")
        .to_json_rows();
    assert_eq!(rows[0]["n"], serde_json::json!(401));
}
