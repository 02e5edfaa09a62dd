//! Any input gives a result or an error, never a panic. The engine catches a panic (so that the
//! server lives on) and reports it as an error of kind `Panic`: the properties check that kind,
//! since a caught panic is an error like any other to a caller that only looks for `Err`.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::object_store::local::LocalFileSystem;
use proptest::prelude::*;
use weir_lake::catalog::{Table, TableFile};
use weir_lake::sql::{CatalogAccess, CatalogError, SqlEngine, SqlError, SqlErrorKind};

use crate::fixtures::{lake, sales};

/// Fails the property when `outcome` is a caught panic.
fn not_a_panic<T>(sql: &str, outcome: &Result<T, SqlError>) -> Result<(), TestCaseError> {
    if let Err(error) = outcome {
        prop_assert!(!error.is_panic(), "{sql:?} panicked: {error}");
    }
    Ok(())
}

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
        let outcome = rt.block_on(async {
            let lake = lake();
            lake.engine.execute(&sql).await
        });
        not_a_panic(&sql, &outcome)?;
    }

    #[test]
    fn sql_like_token_soup_never_panics(words in prop::collection::vec(prop::sample::select(WORDS), 0..25)) {
        let sql = words.join(" ");
        let rt = runtime();
        let outcome = rt.block_on(async {
            let lake = lake();
            sales(&lake, weir_lake::catalog::Format::Parquet).await;
            lake.engine.execute(&sql).await
        });
        not_a_panic(&sql, &outcome)?;
    }
}

/// A catalog whose lookups panic: a stand-in for a bug anywhere under a statement.
struct PanickingCatalog;

#[async_trait]
impl CatalogAccess for PanickingCatalog {
    async fn table(&self, _: &str, _: &str) -> Result<Option<Table>, CatalogError> {
        panic!("injected panic in the catalog")
    }
    async fn tables(&self, _: Option<&str>) -> Result<Vec<Table>, CatalogError> {
        panic!("injected panic in the catalog")
    }
    async fn files(&self, _: &str, _: &str) -> Result<Vec<TableFile>, CatalogError> {
        panic!("injected panic in the catalog")
    }
    async fn create_table(&self, _: Table, _: Vec<TableFile>) -> Result<(), CatalogError> {
        panic!("injected panic in the catalog")
    }
    async fn add_files(&self, _: &str, _: &str, _: Vec<TableFile>) -> Result<(), CatalogError> {
        panic!("injected panic in the catalog")
    }
    async fn replace_table(
        &self,
        _: Table,
        _: Vec<TableFile>,
    ) -> Result<Vec<TableFile>, CatalogError> {
        panic!("injected panic in the catalog")
    }
    async fn drop_table(&self, _: &str, _: &str) -> Result<bool, CatalogError> {
        panic!("injected panic in the catalog")
    }
}

#[tokio::test]
async fn a_panic_is_reported_as_one() {
    let engine = SqlEngine::new(
        Arc::new(LocalFileSystem::new()),
        "",
        Arc::new(PanickingCatalog),
    )
    .expect("engine");
    let error = engine
        .execute("SELECT * FROM shop.sales")
        .await
        .expect_err("the catalog panics");
    assert_eq!(error.kind, SqlErrorKind::Panic, "{error}");
    assert!(error.message.contains("injected panic"), "{error}");
    // What the properties check: a caught panic fails them.
    assert!(not_a_panic("SELECT * FROM shop.sales", &Err::<(), _>(error)).is_err());
    // An ordinary error is not a panic.
    let error = lake()
        .engine
        .execute("SELECT nope FROM")
        .await
        .expect_err("bad SQL");
    assert_eq!(error.kind, SqlErrorKind::Statement, "{error}");
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
