//! Queries over catalog tables in each format, partition pruning, name resolution.

use serde_json::json;
use weir_lake::catalog::Format;

use crate::fixtures::{col, lake, sales, table};

async fn totals_by_region(format: Format) {
    let lake = lake();
    sales(&lake, format).await;
    let rows = lake
        .rows("SELECT region, sum(amount) AS total, count(*) AS n FROM shop.sales GROUP BY region ORDER BY region")
        .await;
    assert_eq!(
        serde_json::Value::Array(rows.into_iter().map(Into::into).collect()),
        json!([
            {"region": "eu", "total": 180.0, "n": 6},
            {"region": "us", "total": 90.0, "n": 3},
        ]),
        "{format:?}"
    );
}

#[tokio::test]
async fn reads_csv() {
    totals_by_region(Format::Csv).await;
}

#[tokio::test]
async fn reads_json_lines() {
    totals_by_region(Format::Json).await;
}

#[tokio::test]
async fn reads_parquet() {
    totals_by_region(Format::Parquet).await;
}

#[tokio::test]
async fn partition_filters_prune_files() {
    for format in [Format::Parquet, Format::Csv, Format::Json] {
        let lake = lake();
        sales(&lake, format).await;
        let all = lake
            .engine
            .execute("SELECT count(*) AS n FROM shop.sales")
            .await
            .expect("all");
        assert_eq!(all.files_scanned, 3, "{format:?}");

        let one = lake
            .engine
            .execute("SELECT count(*) AS n, min(id) AS first FROM shop.sales WHERE day = DATE '2024-01-02'")
            .await
            .expect("one day");
        assert_eq!(one.files_scanned, 1, "{format:?}");
        assert_eq!(one.to_json_rows()[0]["n"], json!(3));
        assert_eq!(one.to_json_rows()[0]["first"], json!(11));

        let two = lake
            .engine
            .execute(
                "SELECT count(*) AS n FROM shop.sales WHERE day >= '2024-01-02' AND amount > 0",
            )
            .await
            .expect("two days");
        assert_eq!(two.files_scanned, 2, "{format:?}");
        assert_eq!(two.to_json_rows()[0]["n"], json!(6));

        let none = lake
            .engine
            .execute("SELECT count(*) AS n FROM shop.sales WHERE day = DATE '2023-12-31'")
            .await
            .expect("no day");
        assert_eq!(none.files_scanned, 0, "{format:?}");
        assert_eq!(none.to_json_rows()[0]["n"], json!(0));
    }
}

#[tokio::test]
async fn data_filters_are_applied() {
    let lake = lake();
    sales(&lake, Format::Parquet).await;
    let rows = lake
        .rows("SELECT id, day FROM shop.sales WHERE amount > 45 AND region = 'eu' ORDER BY id")
        .await;
    assert_eq!(
        serde_json::Value::Array(rows.into_iter().map(Into::into).collect()),
        json!([{"id": 23, "day": "2024-01-03"}])
    );
}

#[tokio::test]
async fn only_manifest_files_are_read() {
    let lake = lake();
    sales(&lake, Format::Csv).await;
    // A file in the table's directory that no manifest lists (a write in progress, say).
    lake.put(
        "shop/sales/day=2024-01-01/stray.csv",
        "id,region,amount\n99,eu,1000\n",
        &[],
    );
    let rows = lake
        .rows("SELECT count(*) AS n, max(id) AS top FROM shop.sales")
        .await;
    assert_eq!(rows[0]["n"], json!(9));
    assert_eq!(rows[0]["top"], json!(23));
}

#[tokio::test]
async fn names_resolve_by_database_and_case() {
    let lake = lake();
    sales(&lake, Format::Csv).await;
    let file = lake.put("default/people/p.csv", "name,age\nada,36\n", &[]);
    lake.register(
        table(
            "default",
            "People",
            Format::Csv,
            vec![col("name", "Utf8"), col("age", "Int64")],
            vec![],
        ),
        vec![file],
    )
    .await;
    assert_eq!(
        lake.rows("SELECT name FROM people").await[0]["name"],
        json!("ada")
    );
    assert_eq!(
        lake.rows("SELECT age FROM default.PEOPLE").await[0]["age"],
        json!(36)
    );
    assert_eq!(
        lake.rows("SELECT count(*) AS n FROM weir.shop.sales").await[0]["n"],
        json!(9)
    );
    let joined = lake
        .rows("SELECT p.name, count(*) AS n FROM people p CROSS JOIN shop.sales s GROUP BY p.name")
        .await;
    assert_eq!(joined[0]["n"], json!(9));
}

#[tokio::test]
async fn show_tables_and_describe() {
    let lake = lake();
    sales(&lake, Format::Parquet).await;
    let tables = lake.rows("SHOW TABLES").await;
    assert!(
        tables
            .iter()
            .any(|r| r["table_schema"] == json!("shop") && r["table_name"] == json!("sales")),
        "{tables:?}"
    );
    let columns = lake.rows("DESCRIBE shop.sales").await;
    let names: Vec<&str> = columns
        .iter()
        .filter_map(|r| r["column_name"].as_str())
        .collect();
    assert_eq!(names, ["id", "region", "amount", "day"]);
    let described = lake
        .rows("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'sales' ORDER BY ordinal_position")
        .await;
    assert_eq!(described.len(), 4);
}

#[tokio::test]
async fn several_statements_return_the_last() {
    let lake = lake();
    sales(&lake, Format::Csv).await;
    let result = lake
        .engine
        .execute("SELECT 1; SELECT count(*) AS n FROM shop.sales;")
        .await
        .expect("two statements");
    assert_eq!(result.to_json_rows()[0]["n"], json!(9));
}

#[tokio::test]
async fn row_limit_keeps_count() {
    let lake = lake();
    sales(&lake, Format::Parquet).await;
    let result = lake
        .engine
        .execute_limited("SELECT * FROM shop.sales", Some(2))
        .await
        .expect("limited");
    assert_eq!(result.row_count, 9);
    assert_eq!(result.kept_rows(), 2);
    assert!(result.truncated);
}

#[tokio::test]
async fn window_functions_over_partitions() {
    let lake = lake();
    sales(&lake, Format::Parquet).await;
    let rows = lake
        .rows(
            "SELECT id, region, \
                    lag(amount) OVER (PARTITION BY region ORDER BY id) AS previous, \
                    row_number() OVER (PARTITION BY region ORDER BY id DESC) AS rn, \
                    sum(amount) OVER (PARTITION BY region ORDER BY id) AS running \
             FROM shop.sales WHERE day <= DATE '2024-01-02' ORDER BY id",
        )
        .await;
    assert_eq!(
        serde_json::Value::Array(rows.into_iter().map(Into::into).collect()),
        json!([
            {"id": 1, "region": "eu", "previous": null, "rn": 4, "running": 10.0},
            {"id": 2, "region": "us", "previous": null, "rn": 2, "running": 20.0},
            {"id": 3, "region": "eu", "previous": 10.0, "rn": 3, "running": 40.0},
            {"id": 11, "region": "eu", "previous": 30.0, "rn": 2, "running": 60.0},
            {"id": 12, "region": "us", "previous": 20.0, "rn": 1, "running": 50.0},
            {"id": 13, "region": "eu", "previous": 20.0, "rn": 1, "running": 100.0},
        ])
    );
}
