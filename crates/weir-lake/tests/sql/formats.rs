//! Output formats and error positions.

use serde_json::json;

use crate::fixtures::lake;

#[tokio::test]
async fn json_rows_map_arrow_types() {
    let lake = lake();
    let result = lake
        .engine
        .execute(
            "SELECT 1 AS i, 2.5 AS f, 'x' AS s, true AS b, NULL AS n, \
             DATE '2024-03-01' AS d, \
             TIMESTAMP '2024-03-01 10:20:30' AS ts, \
             TIMESTAMP '2024-03-01 10:20:30.123456' AS ts_us, \
             arrow_cast(TIMESTAMP '2024-03-01 10:20:30', 'Timestamp(Microsecond, Some(\"UTC\"))') AS ts_utc, \
             CAST(12.34 AS DECIMAL(10, 2)) AS dec, \
             make_array(1, 2) AS arr, \
             named_struct('a', 1, 'b', 'two') AS st, \
             CAST('NaN' AS DOUBLE) AS nan",
        )
        .await
        .expect("query");
    let rows = result.to_json_rows();
    let row = serde_json::Value::Object(rows[0].clone());
    assert_eq!(row["i"], json!(1));
    assert_eq!(row["f"], json!(2.5));
    assert_eq!(row["s"], json!("x"));
    assert_eq!(row["b"], json!(true));
    assert_eq!(row["n"], json!(null));
    assert_eq!(row["d"], json!("2024-03-01"));
    assert_eq!(row["ts"], json!("2024-03-01T10:20:30Z"));
    assert_eq!(row["ts_us"], json!("2024-03-01T10:20:30.123456Z"));
    let utc = row["ts_utc"].as_str().expect("utc text");
    assert!(
        utc.starts_with("2024-03-01T10:20:30") && (utc.ends_with('Z') || utc.ends_with("+00:00")),
        "{utc}"
    );
    assert_eq!(row["dec"], json!(12.34));
    assert_eq!(row["arr"], json!([1, 2]));
    assert_eq!(row["st"], json!({"a": 1, "b": "two"}));
    assert_eq!(row["nan"], json!(null));
    let columns = result.columns();
    assert_eq!(columns[0].name, "i");
    assert_eq!(columns[6].data_type, "Timestamp(ns)");
}

#[tokio::test]
async fn csv_and_table_text() {
    let lake = lake();
    let result = lake
        .engine
        .execute("SELECT * FROM (VALUES (1, 'a,b'), (2, NULL)) AS t(id, label) ORDER BY id")
        .await
        .expect("query");
    let csv = result.to_csv().expect("csv");
    assert_eq!(csv, "id,label\n1,\"a,b\"\n2,\n");
    let table = result.to_table().expect("table");
    assert!(table.contains("| id | label |"), "{table}");
    assert!(table.contains("| 1  | a,b   |"), "{table}");

    let empty = lake
        .engine
        .execute("SELECT 1 AS only WHERE false")
        .await
        .expect("empty");
    assert_eq!(empty.row_count, 0);
    assert!(empty.to_table().expect("table").contains("only"));
    assert_eq!(empty.to_csv().expect("csv"), "only\n");
}

#[tokio::test]
async fn parse_errors_have_positions() {
    let lake = lake();
    let err = lake
        .engine
        .execute("SELECT id,\n  amount\nFORM t")
        .await
        .expect_err("parse error");
    assert_eq!(err.line, Some(3), "{err}");
    assert!(err.column.is_some(), "{err}");
    assert!(err.to_string().starts_with("line 3, column "), "{err}");

    let err = lake
        .engine
        .execute("SELECT 'unterminated")
        .await
        .expect_err("tokenizer");
    assert_eq!(err.line, Some(1), "{err}");
}

#[tokio::test]
async fn planning_errors_name_the_thing_and_where() {
    let lake = lake();
    crate::fixtures::sales(&lake, weir_lake::catalog::Format::Csv).await;

    let err = lake
        .engine
        .execute("SELECT *\nFROM shop.nope")
        .await
        .expect_err("unknown table");
    assert!(err.message.contains("nope"), "{err}");
    assert_eq!((err.line, err.column), (Some(2), Some(6)), "{err}");

    let err = lake
        .engine
        .execute("SELECT id,\n       amout\nFROM shop.sales")
        .await
        .expect_err("unknown column");
    assert!(err.message.contains("amout"), "{err}");
    assert_eq!((err.line, err.column), (Some(2), Some(8)), "{err}");

    let err = lake
        .engine
        .execute("SELECT no_such_function(id) FROM shop.sales")
        .await
        .expect_err("unknown function");
    assert!(err.message.contains("no_such_function"), "{err}");
    assert_eq!((err.line, err.column), (Some(1), Some(8)), "{err}");
}
