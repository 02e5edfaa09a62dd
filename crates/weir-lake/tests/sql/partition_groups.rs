//! Files read grouped by partition value (`partition_groups`): an aggregation grouped by a
//! partition column runs once per stream, with no shuffle, and gives the answer a single stream
//! gives. Plans with joins or unions, and partitions too uneven to balance, are left alone.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use weir_lake::catalog::Format;
use weir_lake::sql::SessionOptions;

use crate::fixtures::{TestLake, col, lake_with, table};

const COLORS: [Option<&str>; 4] = [Some("red"), Some("green"), None, Some("blue")];

/// `pg.events`: one Parquet file per day, `rows_per_day(d)` rows each. `user` repeats across days
/// so that distinct counts per day differ from the total.
async fn events(lake: &TestLake, days: usize, rows_per_day: impl Fn(usize) -> usize) {
    let mut files = Vec::new();
    for d in 0..days {
        let day = format!("2024-02-{:02}", d + 1);
        let n = rows_per_day(d);
        let schema = Arc::new(Schema::new(vec![
            Field::new("user", DataType::Int64, false),
            Field::new("color", DataType::Utf8, true),
            Field::new("amount", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(
                    (0..n).map(|i| ((i * 7 + d * 13) % 97) as i64),
                )),
                Arc::new(StringArray::from_iter(
                    (0..n).map(|i| COLORS[(i + d) % COLORS.len()]),
                )),
                Arc::new(Int64Array::from_iter_values(
                    (0..n).map(|i| (i % 10) as i64),
                )),
            ],
        )
        .expect("batch");
        files.push(lake.put_parquet(
            &format!("pg/events/day={day}/part.parquet"),
            &batch,
            &[&day],
        ));
    }
    let mut t = table(
        "pg",
        "events",
        Format::Parquet,
        vec![
            col("user", "Int64"),
            col("color", "Utf8"),
            col("amount", "Int64"),
        ],
        vec![col("day", "Date32")],
    );
    t.location = "pg/events".into();
    lake.register(t, files).await;
}

fn partitions(n: usize) -> SessionOptions {
    SessionOptions {
        target_partitions: n,
        ..SessionOptions::default()
    }
}

const QUERIES: [&str; 7] = [
    "SELECT day, count(DISTINCT user) AS users FROM pg.events GROUP BY day",
    "SELECT day, count(*) AS c, sum(amount) AS s, min(user) AS lo FROM pg.events GROUP BY day",
    "SELECT day, color, count(*) AS c FROM pg.events WHERE amount > 2 GROUP BY day, color",
    "SELECT day, c, rank() OVER (ORDER BY c DESC, day) AS r FROM (SELECT day, count(*) AS c FROM pg.events WHERE amount < 5 GROUP BY day) t",
    "SELECT d, count(*) AS c FROM (SELECT day AS d, user FROM pg.events) t GROUP BY d",
    // Several inputs: left alone, and still right.
    "SELECT e.day, count(*) AS c, max(t.c) AS per_day FROM pg.events e JOIN (SELECT day, count(*) AS c FROM pg.events GROUP BY day) t ON e.day = t.day GROUP BY e.day",
    "SELECT day, count(*) AS c FROM (SELECT day FROM pg.events WHERE amount = 1 UNION ALL SELECT day FROM pg.events WHERE color = 'red') u GROUP BY day",
];

#[tokio::test]
async fn grouped_files_give_the_answers_of_one_stream() {
    let (grouped, single) = (lake_with(partitions(2)), lake_with(partitions(1)));
    events(&grouped, 6, |_| 400).await;
    events(&single, 6, |_| 400).await;
    for query in QUERIES {
        let expected = single.sorted_rows(query).await;
        assert!(!expected.is_empty(), "{query}");
        assert_eq!(grouped.sorted_rows(query).await, expected, "{query}");
    }
}

#[tokio::test]
async fn an_aggregation_by_partition_column_needs_no_shuffle() {
    let lake = lake_with(partitions(2));
    events(&lake, 6, |_| 400).await;
    for query in [QUERIES[0], QUERIES[1], QUERIES[2], QUERIES[4]] {
        let plan = lake.explain(query).await;
        assert!(
            plan.contains("output_partitioning=Hash("),
            "{query}\n{plan}"
        );
        assert!(plan.contains("SinglePartitioned"), "{query}\n{plan}");
        assert!(!plan.contains("RepartitionExec"), "{query}\n{plan}");
    }
    // Not grouped by a partition column: the files are split evenly as usual.
    let plan_text = lake
        .explain("SELECT color, count(*) FROM pg.events GROUP BY color")
        .await;
    assert!(!plan_text.contains("output_partitioning"), "{plan_text}");
    // Joins and unions compare two inputs' partitionings, which must then be real hashes.
    for query in [QUERIES[5], QUERIES[6]] {
        let plan = lake.explain(query).await;
        assert!(!plan.contains("output_partitioning"), "{query}\n{plan}");
    }
}

#[tokio::test]
async fn uneven_partitions_are_split_as_usual() {
    // One day holds most rows: one stream would read it alone.
    let lake = lake_with(partitions(2));
    events(&lake, 4, |d| if d == 0 { 20_000 } else { 200 }).await;
    let plan_text = lake.explain(QUERIES[1]).await;
    assert!(!plan_text.contains("output_partitioning"), "{plan_text}");
    // Fewer values than streams: the same.
    let lake = lake_with(partitions(2));
    events(&lake, 1, |_| 400).await;
    let plan_text = lake.explain(QUERIES[1]).await;
    assert!(!plan_text.contains("output_partitioning"), "{plan_text}");
}
