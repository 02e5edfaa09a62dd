//! Strings that Parquet stores dictionary-encoded are read as dictionaries and grouped by key.
//! The same rows as CSV (read as plain strings, grouped by DataFusion's hash aggregation) are the
//! reference: every query must give the same answer both ways.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::file::properties::WriterProperties;
use serde_json::Value;
use weir_lake::catalog::Format;

use crate::fixtures::{TestLake, col, lake, table};

const COLORS: [Option<&str>; 5] = [
    Some("red"),
    Some("green"),
    None,
    Some("blue"),
    Some("a much longer colour name"),
];
const SHAPES: [Option<&str>; 3] = [Some("square"), Some("circle"), None];

/// Rows of file `f`: each file uses the values in another order, so dictionaries differ.
fn rows(f: usize) -> Vec<(i64, Option<&'static str>, Option<&'static str>)> {
    (0..50)
        .map(|i| {
            let n = (f * 50 + i) as i64;
            let color = COLORS[(i * 7 + f * 3) % COLORS.len()];
            let shape = SHAPES[(i * 5 + f) % SHAPES.len()];
            (n, color, shape)
        })
        .collect()
}

/// `dict.parquet_t` and `dict.csv_t`: the same three days of rows. With `plain_file`, one Parquet
/// file stores `shape` without a dictionary.
async fn tables(lake: &TestLake, plain_file: bool) {
    let days = ["2024-01-01", "2024-01-02", "2024-01-03"];
    let (mut parquet, mut csv) = (Vec::new(), Vec::new());
    for (f, day) in days.iter().enumerate() {
        let rows = rows(f);
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("color", DataType::Utf8, true),
            Field::new("shape", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(StringArray::from_iter(rows.iter().map(|r| r.1))),
                Arc::new(StringArray::from_iter(rows.iter().map(|r| r.2))),
            ],
        )
        .expect("batch");
        let properties = (plain_file && f == 1).then(|| {
            WriterProperties::builder()
                .set_column_dictionary_enabled("shape".into(), false)
                .build()
        });
        parquet.push(lake.put_parquet_with(
            &format!("dict/parquet_t/day={day}/part.parquet"),
            &batch,
            &[day],
            properties,
        ));
        let mut text = String::from("n,color,shape\n");
        for (n, color, shape) in &rows {
            text.push_str(&format!(
                "{n},{},{}\n",
                color.unwrap_or(""),
                shape.unwrap_or("")
            ));
        }
        csv.push(lake.put(&format!("dict/csv_t/day={day}/part.csv"), &text, &[day]));
    }
    // A dimension: colour families; "red" is in two, "blue" in none.
    let families = [
        ("red", "warm"),
        ("red", "bright"),
        ("green", "cool"),
        ("a much longer colour name", "long"),
    ];
    let dims_schema = Arc::new(Schema::new(vec![
        Field::new("color", DataType::Utf8, false),
        Field::new("family", DataType::Utf8, false),
    ]));
    let dims = RecordBatch::try_new(
        dims_schema,
        vec![
            Arc::new(StringArray::from_iter_values(families.iter().map(|f| f.0))),
            Arc::new(StringArray::from_iter_values(families.iter().map(|f| f.1))),
        ],
    )
    .expect("dims");
    let mut dims_csv = String::from("color,family\n");
    for (color, family) in families {
        dims_csv.push_str(&format!("{color},{family}\n"));
    }
    let dims_files = [
        (
            "parquet_d",
            Format::Parquet,
            lake.put_parquet("dict/parquet_d/part.parquet", &dims, &[]),
        ),
        (
            "csv_d",
            Format::Csv,
            lake.put("dict/csv_d/part.csv", &dims_csv, &[]),
        ),
    ];
    for (name, format, file) in dims_files {
        let columns = vec![col("color", "Utf8"), col("family", "Utf8")];
        let mut t = table("dict", name, format, columns, vec![]);
        t.location = format!("dict/{name}");
        lake.register(t, vec![file]).await;
    }
    for (name, format, files) in [
        ("parquet_t", Format::Parquet, parquet),
        ("csv_t", Format::Csv, csv),
    ] {
        let mut t = table(
            "dict",
            name,
            format,
            vec![
                col("n", "Int64"),
                col("color", "Utf8"),
                col("shape", "Utf8"),
            ],
            vec![col("day", "Date32")],
        );
        t.location = format!("dict/{name}");
        lake.register(t, files).await;
    }
}

const QUERIES: [&str; 17] = [
    // Aggregated before the join on a dictionary key (see `eager_aggregate`).
    "SELECT d.family, count(*) AS c, sum(t.n) AS s, min(t.n) AS lo, max(t.n) AS hi FROM {t} t JOIN {d} d ON t.color = d.color GROUP BY d.family",
    "SELECT d.family, d.color, count(t.n) AS c FROM {d} d JOIN {t} t ON d.color = t.color WHERE t.n > 20 GROUP BY d.family, d.color",
    "SELECT color, count(*) AS c, sum(n) AS s, min(n) AS lo, max(n) AS hi, avg(n) AS mean FROM {t} GROUP BY color",
    // The filter leaves dictionary values no row has: they must not become groups.
    "SELECT color, count(*) AS c FROM {t} WHERE color IN ('red', 'blue') GROUP BY color",
    "SELECT color, shape, count(*) AS c, sum(n) AS s FROM {t} GROUP BY color, shape",
    "SELECT shape, count(n) FILTER (WHERE n % 2 = 0) AS even, count(color) AS colored FROM {t} GROUP BY shape",
    "SELECT color, day, count(*) AS c FROM {t} GROUP BY color, day",
    "SELECT shape, n % 3 AS r, count(*) AS c FROM {t} GROUP BY shape, n % 3",
    "SELECT color, count(*) AS c FROM {t} WHERE n > 1000 GROUP BY color",
    "SELECT upper(color) AS u, count(*) AS c FROM {t} WHERE color LIKE '%e%' GROUP BY upper(color)",
    // Filters answered once per distinct value (see `dictionary_filter`).
    "SELECT n FROM {t} WHERE color = 'red' AND n > 10",
    "SELECT n FROM {t} WHERE color IS NULL OR shape = 'circle'",
    "SELECT n FROM {t} WHERE NOT (color IN ('red', 'green')) AND shape <> 'square'",
    "SELECT n FROM {t} WHERE coalesce(color, 'none') = 'none'",
    "SELECT n FROM {t} WHERE CASE WHEN color LIKE 'a %' THEN n < 60 ELSE shape IS NOT NULL END",
    "SELECT count(*) AS c FROM {t} WHERE length(color) > 4 AND color <> 'green'",
    "SELECT n FROM {t} WHERE color = shape OR color > 'g'",
];

/// The query's rows as JSON, in a stable order; CSV reads an empty field as NULL, as Parquet
/// stores it.
async fn answer(lake: &TestLake, sql: &str) -> Vec<String> {
    lake.sorted_rows(sql).await
}

async fn same_answers(plain_file: bool) {
    let lake = lake();
    tables(&lake, plain_file).await;
    for query in QUERIES {
        let on = |t: &str, d: &str| query.replace("{t}", t).replace("{d}", d);
        let parquet = answer(&lake, &on("dict.parquet_t", "dict.parquet_d")).await;
        let csv = answer(&lake, &on("dict.csv_t", "dict.csv_d")).await;
        assert!(!csv.is_empty() || query.contains("1000"), "{query}");
        assert_eq!(parquet, csv, "{query} (plain file: {plain_file})");
    }
}

#[tokio::test]
async fn grouping_by_dictionary_key_gives_the_same_answers() {
    same_answers(false).await;
}

#[tokio::test]
async fn a_file_without_dictionaries_reads_the_column_as_strings() {
    same_answers(true).await;
}

/// What the plan says about `query` on the Parquet table.
async fn plan(lake: &TestLake, query: &str) -> String {
    let query = query
        .replace("{t}", "dict.parquet_t")
        .replace("{d}", "dict.parquet_d");
    lake.explain(&query).await
}

#[tokio::test]
async fn dictionary_columns_are_grouped_by_key() {
    let lake = lake();
    tables(&lake, false).await;
    let plan_text = plan(&lake, QUERIES[4]).await;
    assert!(plan_text.contains("DictionaryAggregateExec"), "{plan_text}");
    // A date beside a dictionary: grouped by key too.
    let plan_text = plan(&lake, QUERIES[6]).await;
    assert!(plan_text.contains("DictionaryAggregateExec"), "{plan_text}");
    // The join's facts are grouped by their dictionary key first.
    let plan_text = plan(&lake, QUERIES[0]).await;
    assert!(plan_text.contains("__weir_partial_0"), "{plan_text}");
    // A condition on one dictionary column is answered per value; one on two columns is not.
    let plan_text = plan(&lake, QUERIES[10]).await;
    assert!(
        plan_text.contains("by_dictionary_value(color@"),
        "{plan_text}"
    );
    let plan_text = plan(&lake, QUERIES[16]).await;
    assert!(
        plan_text.contains("by_dictionary_value(color@"),
        "{plan_text}"
    );
    assert!(
        !plan_text.contains("by_dictionary_value(color@1 = shape"),
        "{plan_text}"
    );
    // A column one file stores plain is read as strings in every file, so DataFusion groups it.
    let lake = lake_with_plain_file().await;
    let plan_text = plan(&lake, "SELECT shape, count(*) FROM {t} GROUP BY shape").await;
    assert!(
        !plan_text.contains("DictionaryAggregateExec"),
        "{plan_text}"
    );
    let plan_text = plan(&lake, "SELECT color, count(*) FROM {t} GROUP BY color").await;
    assert!(plan_text.contains("DictionaryAggregateExec"), "{plan_text}");
}

async fn lake_with_plain_file() -> TestLake {
    let lake = lake();
    tables(&lake, true).await;
    lake
}

#[tokio::test]
async fn dictionary_results_print_as_text_csv_and_json() {
    let lake = lake();
    tables(&lake, false).await;
    let result = lake
        .engine
        .execute(
            "SELECT color, count(*) AS c FROM dict.parquet_t WHERE color = 'red' GROUP BY color",
        )
        .await
        .expect("query");
    let csv = result.to_csv().expect("csv");
    assert_eq!(csv.trim(), "color,c\nred,30", "{csv}");
    let table = result.to_table().expect("table");
    assert!(table.contains("| red"), "{table}");
    assert_eq!(result.to_json_rows()[0]["color"], Value::from("red"));
}
