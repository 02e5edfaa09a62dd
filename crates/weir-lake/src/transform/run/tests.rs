//! Runs against a real lake directory and a real SQLite store, read back with SQL. Recipes are
//! built in Rust (the files' reader is `weir_model::transform::parse_transform`).

use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::{Array, StringArray};
use weir_model::problem::Pos;
use weir_model::transform::*;

use super::*;
use crate::sql::SqlEngine;

struct Setup {
    _dir: tempfile::TempDir,
    lake: Arc<Lake>,
    sql: Arc<SqlEngine>,
    transforms: Transforms,
    catalog: Catalog,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let lake = Arc::new(Lake::open_local(&dir.path().join("lake")).unwrap());
    let store = weir_store::open(&format!("sqlite://{}/weir.db", dir.path().display()))
        .await
        .unwrap();
    let catalog = Catalog::new(store);
    let sql = Arc::new(SqlEngine::for_lake(lake.clone(), Arc::new(catalog.clone())).unwrap());
    let transforms = Transforms::new(sql.clone(), catalog.clone(), lake.clone());
    Setup {
        _dir: dir,
        lake,
        sql,
        transforms,
        catalog,
    }
}

fn at<T>(value: T) -> At<T> {
    At {
        value,
        pos: Pos::START,
    }
}

fn expr(text: &str) -> SqlExpr {
    SqlExpr {
        text: text.into(),
        pos: Pos::START,
        line_starts: Vec::new(),
    }
}

fn step(kind: StepKind) -> Step {
    Step {
        pos: Pos::START,
        kind,
    }
}

fn table(name: &str) -> At<TableName> {
    let (database, table) = name.split_once('.').unwrap();
    at(TableName::new(database, table))
}

fn table_sink(name: &str, mode: WriteMode, partition_by: &[&str]) -> Sink {
    Sink::Table(TableSink {
        table: table(name),
        mode,
        partition_by: partition_by.iter().map(|c| at(c.to_string())).collect(),
        compression: Compression::Zstd,
    })
}

fn recipe(source: Source, bookmark: Option<Bookmark>, steps: Vec<StepKind>, sink: Sink) -> Recipe {
    Recipe {
        name: "clean".into(),
        file: "transforms/clean.yaml".into(),
        description: None,
        source,
        bookmark,
        steps: steps.into_iter().map(step).collect(),
        sink,
    }
}

fn no_salts(name: &str) -> Result<String, String> {
    Err(format!("no secret {name}"))
}

async fn run(setup: &Setup, recipe: &Recipe) -> Result<RunReport, RunError> {
    let mut log = Vec::new();
    setup
        .transforms
        .run(recipe, "test", &no_salts, &mut log)
        .await
}

/// The first column of a query's result, as text.
async fn strings(setup: &Setup, sql: &str) -> Vec<String> {
    let result = setup.sql.execute(sql).await.unwrap();
    let mut values = Vec::new();
    for batch in &result.batches {
        let column = datafusion::arrow::compute::cast(
            batch.column(0),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )
        .unwrap();
        let column = column.as_any().downcast_ref::<StringArray>().unwrap();
        values.extend((0..column.len()).map(|i| column.value(i).to_string()));
    }
    values
}

async fn ints(setup: &Setup, sql: &str) -> Vec<i64> {
    strings(setup, sql)
        .await
        .iter()
        .map(|v| v.parse().unwrap())
        .collect()
}

#[tokio::test]
async fn a_column_bookmark_reads_only_new_rows_and_a_reset_reads_all() {
    let setup = setup().await;
    setup
        .sql
        .execute(
            "CREATE TABLE raw.orders AS SELECT * FROM (VALUES (1, 'a', 10, DATE '2024-01-01'), \
             (2, 'b', -5, DATE '2024-01-01'), (3, 'c', 7, DATE '2024-01-02')) \
             AS t(id, customer, amount, day)",
        )
        .await
        .unwrap();
    let recipe = recipe(
        Source::Table(table("raw.orders")),
        Some(Bookmark::Column(at("id".into()))),
        vec![
            StepKind::Filter(expr("amount > 0")),
            StepKind::Derive(vec![(at("double".into()), expr("amount * 2"))]),
        ],
        table_sink("curated.orders", WriteMode::Append, &["day"]),
    );
    let report = run(&setup, &recipe).await.unwrap();
    assert_eq!((report.rows_in, report.rows_out), (3, 2));
    assert_eq!(report.bookmark_before, Value::Null);
    assert_eq!(report.bookmark_after["value"], "3");
    assert_eq!(
        ints(&setup, "SELECT id FROM curated.orders ORDER BY id").await,
        [1, 3]
    );
    assert_eq!(
        ints(&setup, "SELECT double FROM curated.orders ORDER BY id").await,
        [20, 14]
    );
    // Partitioned by day, with zstd.
    let files = setup.catalog.files("curated", "orders").await.unwrap();
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|f| f.key.contains("/day=2024-01-0")));

    // Nothing new: nothing written, the bookmark stays.
    let again = run(&setup, &recipe).await.unwrap();
    assert_eq!((again.rows_in, again.rows_out, again.files), (0, 0, 0));
    assert_eq!(again.bookmark_after["value"], "3");

    setup
        .sql
        .execute("INSERT INTO raw.orders VALUES (4, 'd', 1, DATE '2024-01-03'), (5, 'e', 2, DATE '2024-01-01')")
        .await
        .unwrap();
    let third = run(&setup, &recipe).await.unwrap();
    assert_eq!((third.rows_in, third.rows_out), (2, 2));
    assert_eq!(
        ints(&setup, "SELECT id FROM curated.orders ORDER BY id").await,
        [1, 3, 4, 5]
    );
    let shown = setup.transforms.bookmark("clean").await.unwrap();
    assert_eq!(shown["state"]["value"], "5");
    assert_eq!(shown["run"], "test");

    assert!(setup.transforms.reset_bookmark("clean").await.unwrap());
    assert_eq!(
        setup.transforms.bookmark("clean").await.unwrap(),
        Value::Null
    );
    let fourth = run(&setup, &recipe).await.unwrap();
    assert_eq!(fourth.rows_in, 5);
    assert_eq!(
        ints(&setup, "SELECT count(*) FROM curated.orders").await,
        [8]
    );
}

/// Rows whose bookmark column is null are never read (a null is above no mark): the run's log
/// counts them, whether or not anything is new.
#[tokio::test]
async fn rows_with_a_null_bookmark_column_are_counted_in_the_log() {
    let setup = setup().await;
    setup
        .sql
        .execute(
            "CREATE TABLE raw.orders AS SELECT * FROM (VALUES (1, 'a'), (NULL, 'b'), \
             (NULL, 'c')) AS t(id, name)",
        )
        .await
        .unwrap();
    let recipe = recipe(
        Source::Table(table("raw.orders")),
        Some(Bookmark::Column(at("id".into()))),
        vec![],
        table_sink("curated.orders", WriteMode::Append, &[]),
    );
    for rows_in in [1, 0] {
        let mut log = Vec::new();
        let report = setup
            .transforms
            .run(&recipe, "test", &no_salts, &mut log)
            .await
            .unwrap();
        assert_eq!(report.rows_in, rows_in);
        let log = String::from_utf8_lossy(&log);
        assert!(
            log.contains("2 row(s) with a null `id` not read: a null is above no bookmark"),
            "{log}"
        );
    }
}

/// With no row above the mark, a run writes and commits nothing (as a prefix or stream source
/// with nothing unread): an overwrite would otherwise commit an empty table.
#[tokio::test]
async fn a_column_bookmark_with_nothing_new_commits_nothing() {
    let setup = setup().await;
    setup
        .sql
        .execute(
            "CREATE TABLE raw.orders AS SELECT * FROM (VALUES (1, DATE '2024-01-01'), \
             (2, DATE '2024-01-02')) AS t(id, day)",
        )
        .await
        .unwrap();
    // Built by hand: the recipe reader refuses a bookmark with an overwrite mode.
    let recipe = recipe(
        Source::Table(table("raw.orders")),
        Some(Bookmark::Column(at("id".into()))),
        vec![],
        table_sink("curated.orders", WriteMode::Overwrite, &[]),
    );
    let first = run(&setup, &recipe).await.unwrap();
    assert_eq!(first.rows_out, 2);
    let files = setup.catalog.files("curated", "orders").await.unwrap();

    let again = run(&setup, &recipe).await.unwrap();
    assert_eq!((again.rows_in, again.rows_out, again.files), (0, 0, 0));
    assert_eq!(again.bookmark_after, first.bookmark_after);
    assert_eq!(
        ints(&setup, "SELECT id FROM curated.orders ORDER BY id").await,
        [1, 2],
        "a run with nothing new must not replace the table"
    );
    assert_eq!(
        setup.catalog.files("curated", "orders").await.unwrap(),
        files
    );
}

#[tokio::test]
async fn an_object_bookmark_reads_new_and_rewritten_objects_once() {
    let setup = setup().await;
    let put = |key: &'static str, text: &'static str| {
        let lake = setup.lake.clone();
        async move { lake.put(key, Bytes::from(text)).await.unwrap() }
    };
    put("raw/orders/a.csv", "id,amount\n1,10\n2,20\n").await;
    put("raw/orders/b.csv", "id,amount\n3,30\n").await;
    put("raw/orders/_SUCCESS", "").await;
    let recipe = recipe(
        Source::Prefix {
            prefix: at("raw/orders/".into()),
            format: None,
        },
        Some(Bookmark::Default),
        vec![StepKind::Select(vec![at("id".into()), at("amount".into())])],
        table_sink("curated.orders", WriteMode::Append, &[]),
    );
    let first = run(&setup, &recipe).await.unwrap();
    assert_eq!(first.rows_out, 3);
    assert_eq!(first.bookmark_after, json!({"objects": 2}));
    let nothing = run(&setup, &recipe).await.unwrap();
    assert_eq!(nothing.rows_in, 0);

    put("raw/orders/c.csv", "id,amount\n4,40\n").await;
    // A rewritten object (a new etag) is read again.
    put("raw/orders/a.csv", "id,amount\n5,50\n").await;
    let second = run(&setup, &recipe).await.unwrap();
    assert_eq!(second.rows_out, 2);
    assert_eq!(
        ints(&setup, "SELECT id FROM curated.orders ORDER BY id").await,
        [1, 2, 3, 4, 5]
    );
    let objects = setup
        .catalog
        .store()
        .bookmark_objects("clean")
        .await
        .unwrap();
    assert_eq!(objects.len(), 3);
}

#[tokio::test]
async fn overwrite_partitions_replaces_only_the_partitions_it_touches() {
    let setup = setup().await;
    setup
        .sql
        .execute(
            "CREATE TABLE raw.events AS SELECT * FROM (VALUES (1, 'x', 'a'), (2, 'y', 'b')) \
             AS t(id, v, day)",
        )
        .await
        .unwrap();
    let mut recipe = recipe(
        Source::Table(table("raw.events")),
        None,
        vec![],
        table_sink("curated.events", WriteMode::OverwritePartitions, &["day"]),
    );
    run(&setup, &recipe).await.unwrap();
    setup.sql.execute("DROP TABLE raw.events").await.unwrap();
    setup
        .sql
        .execute(
            "CREATE TABLE raw.events AS SELECT * FROM (VALUES (3, 'z', 'b'), (4, 'w', 'c')) \
             AS t(id, v, day)",
        )
        .await
        .unwrap();
    run(&setup, &recipe).await.unwrap();
    assert_eq!(
        ints(&setup, "SELECT id FROM curated.events ORDER BY id").await,
        [1, 3, 4],
        "day=a kept, day=b replaced, day=c added"
    );
    // The replaced partition's file is gone from the lake too.
    let listed = setup.lake.list("curated/events").await.unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");

    // overwrite replaces the whole table.
    if let Sink::Table(sink) = &mut recipe.sink {
        sink.mode = WriteMode::Overwrite;
    }
    run(&setup, &recipe).await.unwrap();
    assert_eq!(
        ints(&setup, "SELECT id FROM curated.events ORDER BY id").await,
        [3, 4]
    );
}

#[tokio::test]
async fn failing_rows_go_to_the_quarantine_with_their_rule() {
    let setup = setup().await;
    setup
        .sql
        .execute(
            "CREATE TABLE raw.people AS SELECT * FROM (VALUES (1, 'a@x.org', 'DE', 5), \
             (NULL, 'b@x.org', 'FR', 5), (3, 'nope', 'US', 5), (4, 'd@x.org', 'XX', 5), \
             (5, 'e@x.org', 'DE', 500)) AS t(id, email, country, amount)",
        )
        .await
        .unwrap();
    let rule = |column: &str, check: Check| Rule {
        pos: Pos::START,
        column: at(column.to_string()),
        check,
    };
    let recipe = recipe(
        Source::Table(table("raw.people")),
        None,
        vec![StepKind::Validate(Validate {
            rules: vec![
                rule("id", Check::NotNull),
                rule("email", Check::Regex("^[^@]+@[^@]+$".into())),
                rule(
                    "country",
                    Check::Allowed(vec!["DE".into(), "FR".into(), "US".into()]),
                ),
                rule(
                    "amount",
                    Check::Range {
                        min: Some("0".into()),
                        max: Some("100".into()),
                    },
                ),
            ],
            on_failure: OnFailure::Quarantine(table("curated.people_quarantine")),
        })],
        table_sink("curated.people", WriteMode::Append, &[]),
    );
    let report = run(&setup, &recipe).await.unwrap();
    assert_eq!((report.rows_out, report.rows_quarantined), (1, 4));
    assert_eq!(
        strings(
            &setup,
            "SELECT _rule FROM curated.people_quarantine ORDER BY email"
        )
        .await,
        [
            "id not_null",
            "country allowed [DE, FR, US]",
            "amount range [0, 100]",
            "email regex ^[^@]+@[^@]+$",
        ]
    );
    assert_eq!(
        ints(
            &setup,
            "SELECT count(*) FROM curated.people_quarantine WHERE _failed_at IS NOT NULL"
        )
        .await,
        [4]
    );
}

/// `allowed` compares as the column's type: `[1, 2]` matches a DECIMAL 1.00 and a DOUBLE 1.0
/// (compared as text, "1.00" and "1.0" matched nothing and every row was quarantined).
#[tokio::test]
async fn allowed_values_compare_as_the_columns_type() {
    let setup = setup().await;
    setup
        .sql
        .execute(
            "CREATE TABLE raw.prices AS SELECT CAST(price AS DECIMAL(12,2)) AS price, \
             CAST(score AS DOUBLE) AS score, id FROM (VALUES (1, 1, 1), (2, 2, 2.5), \
             (3, 3, 1), (4, 1, 7)) AS t(id, price, score)",
        )
        .await
        .unwrap();
    let validate = |price: &[&str], score: &[&str]| {
        let allowed =
            |values: &[&str]| Check::Allowed(values.iter().map(|v| v.to_string()).collect());
        let rule = |column: &str, check: Check| Rule {
            pos: Pos::START,
            column: at(column.to_string()),
            check,
        };
        recipe(
            Source::Table(table("raw.prices")),
            None,
            vec![StepKind::Validate(Validate {
                rules: vec![rule("price", allowed(price)), rule("score", allowed(score))],
                on_failure: OnFailure::Quarantine(table("curated.prices_quarantine")),
            })],
            table_sink("curated.prices", WriteMode::Append, &[]),
        )
    };
    let report = run(&setup, &validate(&["1", "2"], &["1", "2.5"]))
        .await
        .unwrap();
    assert_eq!((report.rows_out, report.rows_quarantined), (2, 2));
    assert_eq!(
        ints(&setup, "SELECT id FROM curated.prices ORDER BY id").await,
        [1, 2]
    );

    let error = run(&setup, &validate(&["1", "cheap"], &["1"]))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("allowed value `cheap` is not a Decimal128(12, 2) value (column `price`)"),
        "{error}"
    );
}

#[tokio::test]
async fn a_failed_run_commits_nothing_and_keeps_its_bookmark() {
    let setup = setup().await;
    setup
        .sql
        .execute("CREATE TABLE raw.t AS SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS t(id, v)")
        .await
        .unwrap();
    setup
        .sql
        .execute("CREATE TABLE curated.t AS SELECT 0 AS id")
        .await
        .unwrap();
    // The output has a column the sink table lacks: refused after the source was read.
    let bad = recipe(
        Source::Table(table("raw.t")),
        Some(Bookmark::Column(at("id".into()))),
        vec![],
        table_sink("curated.t", WriteMode::Append, &[]),
    );
    let error = run(&setup, &bad).await.unwrap_err();
    assert!(
        error
            .message
            .contains("`v` is not a column of table curated.t"),
        "{error}"
    );
    assert_eq!(
        setup.transforms.bookmark("clean").await.unwrap(),
        Value::Null
    );
    assert_eq!(ints(&setup, "SELECT count(*) FROM curated.t").await, [1]);
    let good = Recipe {
        steps: vec![step(StepKind::Select(vec![at("id".into())]))],
        ..bad
    };
    assert_eq!(run(&setup, &good).await.unwrap().rows_out, 2);
    assert_eq!(ints(&setup, "SELECT count(*) FROM curated.t").await, [3]);
}

#[tokio::test]
async fn a_query_source_must_only_read_and_a_prefix_sink_writes_objects() {
    let setup = setup().await;
    setup
        .sql
        .execute("CREATE TABLE raw.t AS SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS t(id, v)")
        .await
        .unwrap();
    let sink = Sink::Prefix {
        prefix: at("exports/t/".into()),
        format: FileFormat::Csv,
        compression: Compression::None,
        partition_by: vec![],
    };
    let writes = recipe(
        Source::Query(expr("DROP TABLE raw.t")),
        None,
        vec![],
        sink.clone(),
    );
    assert!(run(&setup, &writes).await.is_err());
    assert_eq!(ints(&setup, "SELECT count(*) FROM raw.t").await, [2]);

    let reads = recipe(
        Source::Query(expr("SELECT id, upper(v) AS v FROM raw.t WHERE id > 1")),
        None,
        vec![],
        sink,
    );
    let report = run(&setup, &reads).await.unwrap();
    assert_eq!(report.rows_out, 1);
    let objects = setup.lake.list("exports/t").await.unwrap();
    assert_eq!(objects.len(), 1);
    let text = setup.lake.get(&objects[0].key).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&text), "id,v\n2,B\n");
}

#[tokio::test]
async fn a_stream_source_reads_from_its_positions_and_a_stream_sink_appends_rows() {
    use weir_stream::{NewRecord, NewStream, StreamMode, Streams, StreamsConfig};
    let setup = setup().await;
    let store = setup.catalog.store().clone();
    let dir = tempfile::tempdir().unwrap();
    let streams = Streams::open(
        StreamsConfig::new(dir.path().join("streams"), "us-east-1", "000000000000"),
        store.clone(),
        weir_store::Committer::start(store),
    )
    .await
    .unwrap();
    for (name, shards) in [("orders", 2), ("clean", 1)] {
        streams
            .create_stream(NewStream {
                name: name.into(),
                mode: StreamMode::Provisioned,
                shard_count: Some(shards),
                tags: Vec::new(),
            })
            .await
            .unwrap();
    }
    let put = |ids: std::ops::Range<i64>| {
        let streams = streams.clone();
        async move {
            let records = ids
                .map(|id| NewRecord {
                    partition_key: format!("k{id}"),
                    explicit_hash_key: None,
                    data: Bytes::from(format!(r#"{{"id": {id}, "amount": {}}}"#, id * 10)),
                })
                .collect();
            streams.put("orders", records).await.unwrap();
        }
    };
    put(0..20).await;
    setup.transforms.set_streams(streams.clone());
    let recipe = recipe(
        Source::Stream(at("orders".into())),
        Some(Bookmark::Default),
        vec![StepKind::Filter(expr("amount >= 50"))],
        table_sink("curated.orders", WriteMode::Append, &[]),
    );
    let first = run(&setup, &recipe).await.unwrap();
    assert_eq!((first.rows_in, first.rows_out), (20, 15));
    let offsets: u64 = first.bookmark_after["shards"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(offsets, 20, "{}", first.bookmark_after);
    assert_eq!(run(&setup, &recipe).await.unwrap().rows_in, 0);
    put(20..25).await;
    let second = run(&setup, &recipe).await.unwrap();
    assert_eq!(second.rows_in, 5);
    assert_eq!(
        ints(&setup, "SELECT count(DISTINCT id) FROM curated.orders").await,
        [20]
    );

    // Rows out to a stream, as JSON objects keyed by a column.
    let to_stream = Recipe {
        name: "to_stream".into(),
        source: Source::Table(table("curated.orders")),
        bookmark: None,
        steps: vec![],
        sink: Sink::Stream {
            stream: at("clean".into()),
            partition_key: Some(at("id".into())),
        },
        ..recipe
    };
    let out = run(&setup, &to_stream).await.unwrap();
    assert_eq!(out.rows_out, 20);
    let batch = streams
        .read("clean", weir_stream::ShardId(0), 0, 100, 1 << 20)
        .unwrap();
    assert_eq!(batch.records.len(), 20);
    let first_record: Value = serde_json::from_slice(&batch.records[0].data).unwrap();
    assert!(
        first_record["id"].is_i64() && first_record["amount"].is_i64(),
        "{first_record}"
    );
    assert_eq!(
        batch.records[0].partition_key,
        first_record["id"].to_string()
    );
}
