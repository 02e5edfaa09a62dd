//! CREATE TABLE … AS SELECT, INSERT, CREATE OR REPLACE, DROP: what they write, what they
//! register, and that a failure registers nothing and leaves nothing behind.

use serde_json::json;
use weir_lake::catalog::{Format, Partitioning};
use weir_lake::sql::CatalogAccess;

use crate::fixtures::{TestLake, lake, sales};

async fn count(lake: &TestLake, table: &str) -> i64 {
    let rows = lake
        .rows(&format!("SELECT count(*) AS n FROM {table}"))
        .await;
    rows[0]["n"].as_i64().expect("count")
}

#[tokio::test]
async fn ctas_writes_partitioned_parquet_and_registers() {
    let lake = lake();
    sales(&lake, Format::Csv).await;
    let result = lake
        .engine
        .execute(
            "CREATE TABLE shop.by_region PARTITIONED BY (region) AS \
             SELECT id, amount * 2 AS doubled, region FROM shop.sales",
        )
        .await
        .expect("ctas");
    assert_eq!(result.row_count, 9);
    assert_eq!(result.to_json_rows()[0]["count"], json!(9));

    let table = lake
        .catalog
        .table("shop", "by_region")
        .await
        .expect("catalog")
        .expect("registered");
    assert_eq!(table.format, Format::Parquet);
    assert_eq!(table.location, "shop/by_region");
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "doubled"]);
    assert!(
        matches!(&table.partitioning, Partitioning::Hive { columns } if columns[0].name == "region")
    );
    let files = lake
        .catalog
        .files("shop", "by_region")
        .await
        .expect("files");
    assert_eq!(files.len(), 2);
    for file in &files {
        assert!(file.key.starts_with("shop/by_region/w"), "{}", file.key);
        assert!(file.key.contains("/region=eu/") || file.key.contains("/region=us/"));
        assert!(lake.path(&file.key).exists());
    }
    assert_eq!(files.iter().filter_map(|f| f.row_count).sum::<i64>(), 9);

    let events = lake.events.lock().expect("events").clone();
    assert_eq!(events.len(), 2);
    assert!(
        events
            .iter()
            .all(|e| e.table.as_deref() == Some("shop.by_region"))
    );
    assert!(
        events
            .iter()
            .any(|e| e.partition.as_deref() == Some("region=us"))
    );

    let us = lake
        .engine
        .execute("SELECT sum(doubled) AS total FROM shop.by_region WHERE region = 'us'")
        .await
        .expect("read back");
    assert_eq!(us.files_scanned, 1);
    assert_eq!(us.to_json_rows()[0]["total"], json!(180.0));
}

#[tokio::test]
async fn ctas_on_existing_table_fails_with_position_or_is_skipped() {
    let lake = lake();
    sales(&lake, Format::Csv).await;
    let err = lake
        .engine
        .execute("CREATE TABLE shop.sales AS SELECT 1 AS x")
        .await
        .expect_err("exists");
    assert_eq!((err.line, err.column), (Some(1), Some(14)), "{err}");
    assert!(err.message.contains("already exists"), "{err}");
    let skipped = lake
        .engine
        .execute("CREATE TABLE IF NOT EXISTS shop.sales AS SELECT 1 AS x")
        .await
        .expect("if not exists");
    assert_eq!(skipped.row_count, 0);
    assert_eq!(count(&lake, "shop.sales").await, 9);
}

#[tokio::test]
async fn insert_appends_and_casts() {
    let lake = lake();
    sales(&lake, Format::Csv).await;
    lake.engine
        .execute("CREATE TABLE shop.t PARTITIONED BY (region) AS SELECT id, amount, region FROM shop.sales")
        .await
        .expect("ctas");
    let inserted = lake
        .engine
        .execute("INSERT INTO shop.t SELECT 100, 7, 'apac'")
        .await
        .expect("insert");
    assert_eq!(inserted.row_count, 1);
    lake.engine
        .execute("INSERT INTO shop.t (region, id) VALUES ('eu', 200), ('us', 201)")
        .await
        .expect("insert with columns");
    assert_eq!(count(&lake, "shop.t").await, 12);
    let rows = lake
        .rows("SELECT id, amount, region FROM shop.t WHERE id >= 100 ORDER BY id")
        .await;
    assert_eq!(
        serde_json::Value::Array(rows.into_iter().map(Into::into).collect()),
        json!([
            {"id": 100, "amount": 7.0, "region": "apac"},
            {"id": 200, "amount": null, "region": "eu"},
            {"id": 201, "amount": null, "region": "us"},
        ])
    );
    let err = lake
        .engine
        .execute("INSERT INTO shop.t SELECT 1, 2")
        .await
        .expect_err("too few columns");
    assert!(err.message.contains("columns"), "{err}");
    let err = lake
        .engine
        .execute("INSERT INTO shop.t (id, nope) SELECT 1, 2")
        .await
        .expect_err("unknown column");
    assert!(err.message.contains("nope"), "{err}");
    let err = lake
        .engine
        .execute("INSERT INTO shop.sales SELECT 1, 'eu', 1.0, DATE '2024-01-01'")
        .await
        .expect_err("csv table");
    assert!(err.message.contains("Parquet"), "{err}");
}

#[tokio::test]
async fn create_or_replace_swaps_data_and_deletes_old_files() {
    let lake = lake();
    sales(&lake, Format::Csv).await;
    lake.engine
        .execute("CREATE TABLE shop.r PARTITIONED BY (region) AS SELECT id, region FROM shop.sales")
        .await
        .expect("ctas");
    let old = lake.catalog.files("shop", "r").await.expect("files");
    lake.engine
        .execute("CREATE OR REPLACE TABLE shop.r AS SELECT 'new' AS label, count(*) AS n FROM shop.sales")
        .await
        .expect("replace");
    let rows = lake.rows("SELECT * FROM shop.r").await;
    assert_eq!(
        serde_json::Value::Array(rows.into_iter().map(Into::into).collect()),
        json!([{"label": "new", "n": 9}])
    );
    for file in old {
        assert!(!lake.path(&file.key).exists(), "{} not deleted", file.key);
    }
    let table = lake
        .catalog
        .table("shop", "r")
        .await
        .expect("catalog")
        .expect("table");
    assert_eq!(table.partitioning, Partitioning::None);

    lake.engine
        .execute("INSERT OVERWRITE shop.r SELECT 'over', 1")
        .await
        .expect("overwrite");
    assert_eq!(
        lake.rows("SELECT label FROM shop.r").await[0]["label"],
        json!("over")
    );
    assert_eq!(lake.files_under("shop/r").len(), 1);
}

#[tokio::test]
async fn failed_writes_register_nothing_and_leave_no_files() {
    let lake = lake();
    sales(&lake, Format::Parquet).await;
    // Division by zero fails while the rows are being written.
    let err = lake
        .engine
        .execute("CREATE TABLE shop.bad PARTITIONED BY (region) AS SELECT id / (id - id) AS x, region FROM shop.sales")
        .await
        .expect_err("runtime error");
    assert!(
        err.message.to_lowercase().contains("divide by zero"),
        "{err}"
    );
    assert!(
        lake.catalog
            .table("shop", "bad")
            .await
            .expect("catalog")
            .is_none()
    );
    assert!(
        lake.files_under("shop/bad").is_empty(),
        "{:?}",
        lake.files_under("shop/bad")
    );

    lake.engine
        .execute("CREATE TABLE shop.good AS SELECT id, region FROM shop.sales")
        .await
        .expect("ctas");
    let before = lake.catalog.files("shop", "good").await.expect("files");
    let before_on_disk = lake.files_under("shop/good");
    lake.engine
        .execute("INSERT INTO shop.good SELECT id / (id - id), region FROM shop.sales")
        .await
        .expect_err("insert fails");
    lake.engine
        .execute("CREATE OR REPLACE TABLE shop.good AS SELECT id / (id - id) AS id FROM shop.sales")
        .await
        .expect_err("replace fails");
    assert_eq!(
        lake.catalog.files("shop", "good").await.expect("files"),
        before
    );
    assert_eq!(lake.files_under("shop/good"), before_on_disk);
    assert_eq!(count(&lake, "shop.good").await, 9);

    // A commit that fails after the files were written removes them.
    lake.catalog.fail_commits(true);
    lake.engine
        .execute("INSERT INTO shop.good SELECT 1, 'eu'")
        .await
        .expect_err("commit fails");
    lake.engine
        .execute("CREATE TABLE shop.never AS SELECT 1 AS x")
        .await
        .expect_err("commit fails");
    lake.catalog.fail_commits(false);
    assert_eq!(lake.files_under("shop/good"), before_on_disk);
    assert!(lake.files_under("shop/never").is_empty());
    assert!(
        lake.catalog
            .table("shop", "never")
            .await
            .expect("catalog")
            .is_none()
    );
    assert_eq!(count(&lake, "shop.good").await, 9);
}

#[tokio::test]
async fn create_empty_table_then_insert_and_drop() {
    let lake = lake();
    lake.engine
        .execute("CREATE TABLE logs.events (msg VARCHAR, level INT) PARTITIONED BY (day DATE)")
        .await
        .expect("create");
    assert_eq!(count(&lake, "logs.events").await, 0);
    lake.engine
        .execute("INSERT INTO logs.events VALUES ('up', 1, DATE '2024-05-01'), ('down', 2, NULL)")
        .await
        .expect("insert");
    let rows = lake
        .rows("SELECT msg, day FROM logs.events ORDER BY msg")
        .await;
    assert_eq!(
        serde_json::Value::Array(rows.into_iter().map(Into::into).collect()),
        json!([{"msg": "down", "day": null}, {"msg": "up", "day": "2024-05-01"}])
    );
    lake.engine
        .execute("DROP TABLE logs.events")
        .await
        .expect("drop");
    assert!(
        lake.catalog
            .table("logs", "events")
            .await
            .expect("catalog")
            .is_none()
    );
    let err = lake
        .engine
        .execute("DROP TABLE logs.events")
        .await
        .expect_err("gone");
    assert_eq!((err.line, err.column), (Some(1), Some(12)), "{err}");
    lake.engine
        .execute("DROP TABLE IF EXISTS logs.events")
        .await
        .expect("if exists");
}

#[tokio::test]
async fn other_writes_are_refused() {
    let lake = lake();
    let target = lake.dir.path().join("escaped.csv");
    for sql in [
        format!("COPY (SELECT 1) TO '{}'", target.display()),
        "CREATE VIEW v AS SELECT 1".to_string(),
        format!(
            "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '{}'",
            lake.dir.path().display()
        ),
        "SET datafusion.execution.batch_size = 1".to_string(),
        "CREATE TABLE a.b AS SELECT 1 AS x, 2 AS x".to_string(),
        "CREATE TABLE `a/../b`.c AS SELECT 1 AS x".to_string(),
        "CREATE TABLE a.c PARTITIONED BY (x) AS SELECT 1 AS x".to_string(),
        "CREATE TABLE a.d PARTITIONED BY (t) AS SELECT 1 AS x, now() AS t".to_string(),
    ] {
        let result = lake.engine.execute(&sql).await;
        assert!(result.is_err(), "{sql} should fail");
    }
    assert!(!target.exists());
}
