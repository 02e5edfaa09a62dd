//! SQL over the real `Lake` (local directory) and the `Catalog` persisted in SQLite, through
//! `SqlEngine::for_lake` and the `CatalogAccess` bridge: the wiring `weir server` uses.

use std::sync::Arc;

use serde_json::json;
use weir_lake::sql::SqlEngine;
use weir_lake::{Catalog, Lake};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctas_and_queries_on_the_real_lake_and_catalog() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lake = Arc::new(Lake::open_local(&dir.path().join("lake")).expect("lake"));
    let url = format!("sqlite://{}/weir.db", dir.path().display());
    let store = weir_store::open(&url).await.expect("store");
    let catalog = Arc::new(Catalog::new(store));
    let mut events = lake.subscribe();
    let engine = SqlEngine::for_lake(Arc::clone(&lake), catalog.clone()).expect("engine");

    engine
        .execute(
            "CREATE TABLE sales.daily PARTITIONED BY (day) AS \
             SELECT * FROM (VALUES (DATE '2024-01-01', 'eu', 10.0), (DATE '2024-01-02', 'us', 20.0)) \
             AS t(day, region, amount)",
        )
        .await
        .expect("ctas");
    let table = catalog
        .table("sales", "daily")
        .await
        .expect("catalog")
        .expect("table");
    assert_eq!(table.stats.file_count, 2);
    let files = catalog.files("sales", "daily").await.expect("files");
    for file in &files {
        assert!(file.key.starts_with("sales/daily/w"), "{}", file.key);
        assert!(
            lake.head(&file.key).await.is_ok(),
            "{} not in the lake",
            file.key
        );
    }
    let event = events.recv().await.expect("object created");
    assert_eq!(event.table.as_deref(), Some("sales.daily"));

    engine
        .execute("INSERT INTO sales.daily VALUES ('apac', 5.0, DATE '2024-01-02')")
        .await
        .expect("insert");
    let result = engine
        .execute("SELECT count(*) AS n, sum(amount) AS total FROM sales.daily WHERE day = DATE '2024-01-02'")
        .await
        .expect("query");
    assert_eq!(result.files_scanned, 2);
    assert_eq!(result.to_json_rows()[0]["total"], json!(25.0));

    engine
        .execute("CREATE OR REPLACE TABLE sales.daily AS SELECT 1 AS one")
        .await
        .expect("replace");
    for file in &files {
        assert!(
            lake.head(&file.key).await.is_err(),
            "{} not deleted",
            file.key
        );
    }
    engine
        .execute("DROP TABLE sales.daily")
        .await
        .expect("drop");
    assert!(
        catalog
            .table("sales", "daily")
            .await
            .expect("catalog")
            .is_none()
    );
}
