//! Each step compiled over real catalog tables (Parquet written by CTAS into a temporary lake)
//! and run, its values checked; each problem at its position.

use std::sync::Arc;

use datafusion::dataframe::DataFrame;
use datafusion::execution::session_state::SessionState;
use datafusion::object_store::local::LocalFileSystem;
use datafusion::prelude::SessionContext;
use serde_json::{Value, json};
use weir_model::problem::{Pos, Problem};
use weir_model::sql_tables::TableName;
use weir_model::transform::*;

use super::*;
use crate::sql::{CatalogAccess, MemoryCatalog, QueryResult, SqlEngine};

pub(crate) struct Lake {
    _dir: tempfile::TempDir,
    pub engine: SqlEngine,
}

/// A lake with `db.orders`, `db.customers` and `db.backfill`.
pub(crate) async fn lake() -> Lake {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical");
    let root = datafusion::object_store::path::Path::from_absolute_path(&root).expect("root");
    let catalog = Arc::new(MemoryCatalog::new()) as Arc<dyn CatalogAccess>;
    let engine =
        SqlEngine::new(Arc::new(LocalFileSystem::new()), root.as_ref(), catalog).expect("engine");
    for sql in [
        "CREATE TABLE db.orders AS SELECT * FROM (VALUES \
           (1, 'Ann Lee', 'ann@x.com', 10.5, 'DE', 1, CAST(NULL AS VARCHAR), '555-1234'), \
           (2, 'Bob', 'bob-at-x', -3.0, 'FR', 2, CAST(NULL AS VARCHAR), NULL), \
           (3, 'Cy Young Jr', NULL, 99.0, 'XX', 3, CAST(NULL AS VARCHAR), '12'), \
           (1, 'Ann Lee', 'ann@y.com', 12.0, 'DE', 5, CAST(NULL AS VARCHAR), '555-9999')\
         ) AS t(id, customer, email, amount, country, updated_at, note, phone)",
        "CREATE TABLE db.customers AS SELECT * FROM (VALUES \
           (1, 'gold', 'Ann'), (2, 'silver', 'Bob'), (4, 'none', 'Dee')\
         ) AS t(id, segment, customer)",
        "CREATE TABLE db.backfill AS SELECT * FROM (VALUES (7, 70.0, 'US')) AS t(id, amount, country)",
        "CREATE TABLE db.metrics AS SELECT * FROM (VALUES \
           (1, 'clicks', 3), (1, 'views', 10), (1, 'clicks', 2), (2, 'views', 7), (2, 'other', 1)\
         ) AS t(id, metric, value)",
    ] {
        engine.execute(sql).await.expect(sql);
    }
    Lake { _dir: dir, engine }
}

pub(crate) fn pos(line: u32) -> Pos {
    Pos::new(line, 5)
}

pub(crate) fn at<T>(value: T, line: u32) -> At<T> {
    At {
        value,
        pos: pos(line),
    }
}

pub(crate) fn name(text: &str, line: u32) -> At<String> {
    at(text.to_string(), line)
}

/// A one-line SQL expression written at `line`, column 10.
pub(crate) fn sql(text: &str, line: u32) -> SqlExpr {
    SqlExpr {
        text: text.to_string(),
        pos: Pos::new(line, 10),
        line_starts: vec![Pos::new(line, 10)],
    }
}

/// A recipe reading `db.orders` with `steps`, the n-th step at line n + 10.
pub(crate) fn recipe(steps: Vec<StepKind>) -> Recipe {
    Recipe {
        name: "t".into(),
        file: "transforms/t.yaml".into(),
        description: None,
        source: Source::Table(at(TableName::new("db", "orders"), 2)),
        bookmark: None,
        steps: steps
            .into_iter()
            .enumerate()
            .map(|(i, kind)| Step {
                pos: Pos::new(i as u32 + 11, 5),
                kind,
            })
            .collect(),
        sink: Sink::Table(TableSink {
            table: at(TableName::new("db", "out"), 30),
            mode: WriteMode::Append,
            partition_by: vec![],
            compression: Compression::Snappy,
        }),
    }
}

fn salts(name: &str) -> Result<String, String> {
    match name {
        "email_salt" => Ok("pepper".into()),
        _ => Err("no such secret".into()),
    }
}

async fn session_input(lake: &Lake, recipe: &Recipe) -> (SessionState, DataFrame) {
    crate::transform::prepare(&lake.engine, recipe)
        .await
        .expect("source")
}

async fn compile_recipe(lake: &Lake, recipe: &Recipe) -> Result<Compiled, Vec<Problem>> {
    let (session, input) = session_input(lake, recipe).await;
    compile(&session, recipe, input, &salts).await
}

/// The frame's rows as JSON objects, sorted by their text.
pub(crate) async fn rows(frame: DataFrame) -> Vec<Value> {
    let schema = Arc::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await.expect("run");
    let result = QueryResult {
        schema,
        row_count: 0,
        batches,
        truncated: false,
        elapsed: Default::default(),
        files_scanned: 0,
    };
    let mut rows: Vec<Value> = result
        .to_json_rows()
        .into_iter()
        .map(Value::Object)
        .collect();
    rows.sort_by_key(|r| r.to_string());
    rows
}

async fn output(steps: Vec<StepKind>) -> Vec<Value> {
    let lake = lake().await;
    let compiled = compile_recipe(&lake, &recipe(steps))
        .await
        .expect("compiles");
    rows(compiled.output).await
}

async fn problems(steps: Vec<StepKind>) -> Vec<String> {
    let lake = lake().await;
    let recipe = recipe(steps);
    let (session, input) = session_input(&lake, &recipe).await;
    let found = check(&session, &recipe, input.clone(), &salts).await;
    // Compiling finds the same problems as checking.
    let compiled = compile(&session, &recipe, input, &salts).await.err();
    if !found.is_empty() {
        assert_eq!(compiled.as_ref(), Some(&found), "compile and check agree");
    }
    found.iter().map(ToString::to_string).collect()
}

fn column<'a>(rows: &'a [Value], key: &str) -> Vec<&'a Value> {
    rows.iter().map(|r| &r[key]).collect()
}

#[tokio::test]
async fn select_keeps_columns_in_order_and_drop_removes() {
    let rows = output(vec![
        StepKind::Select(vec![name("amount", 1), name("ID", 1)]),
        StepKind::Drop(vec![name("amount", 2)]),
    ])
    .await;
    assert_eq!(
        rows,
        vec![
            json!({"id": 1}),
            json!({"id": 1}),
            json!({"id": 2}),
            json!({"id": 3})
        ]
    );
}

#[tokio::test]
async fn unknown_columns_are_problems_at_their_position_with_did_you_mean() {
    let found = problems(vec![
        StepKind::Select(vec![name("amout", 1), name("id", 1)]),
        StepKind::Filter(sql("id > 0 AND contry = 'DE'", 12)),
        StepKind::Derive(vec![(name("x", 13), sql("amount *\n 2 + zzz", 13))]),
    ])
    .await;
    assert_eq!(
        found,
        vec![
            "transforms/t.yaml:1:5: unknown column `amout`; did you mean `amount`?".to_string(),
            // `contry` is at offset 11 of the expression, which starts at column 10.
            "transforms/t.yaml:12:21: filter: unknown column `contry`; did you mean `country`?"
                .to_string(),
            "transforms/t.yaml:13:10: derive: unknown column `zzz` (columns: id, customer, email, amount, country, updated_at, note, phone)"
                .to_string(),
        ]
    );
}

#[tokio::test]
async fn type_errors_are_problems_at_the_step() {
    let found = problems(vec![
        StepKind::Filter(sql("amount + 1", 11)),
        StepKind::Derive(vec![(name("x", 12), sql("customer - 1", 12))]),
        StepKind::Cast(vec![(name("amount", 13), name("NOT A TYPE", 13))]),
        StepKind::Truncate(vec![(name("amount", 14), 3)]),
    ])
    .await;
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(
        found[0].starts_with("transforms/t.yaml:11:10: filter: the condition is Float64"),
        "{}",
        found[0]
    );
    assert!(
        found[1].starts_with("transforms/t.yaml:12:10: derive: "),
        "{}",
        found[1]
    );
    assert!(
        found[2].starts_with("transforms/t.yaml:13:5: cast: unknown type `NOT A TYPE`"),
        "{}",
        found[2]
    );
    assert!(
        found[3].contains("truncate: `amount` is Float64, not text"),
        "{}",
        found[3]
    );
}

#[tokio::test]
async fn a_parse_error_is_placed_inside_the_expression() {
    let found = problems(vec![StepKind::Filter(sql("amount > > 1", 11))]).await;
    assert_eq!(found.len(), 1);
    assert!(
        found[0].starts_with("transforms/t.yaml:11:19: filter: "),
        "{}",
        found[0]
    );
}

#[tokio::test]
async fn filter_and_derive_compute_values() {
    let rows = output(vec![
        StepKind::Filter(sql("amount > 0 AND country <> 'XX'", 11)),
        StepKind::Derive(vec![
            (name("eur", 12), sql("amount * 2", 12)),
            (name("big", 12), sql("eur > 21", 12)),
        ]),
        StepKind::Select(vec![name("id", 13), name("eur", 13), name("big", 13)]),
    ])
    .await;
    assert_eq!(
        rows,
        vec![
            json!({"id": 1, "eur": 21.0, "big": false}),
            json!({"id": 1, "eur": 24.0, "big": true}),
        ]
    );
}

#[tokio::test]
async fn rename_and_cast_keep_places() {
    let lake = lake().await;
    let recipe = recipe(vec![
        StepKind::Rename(vec![(name("customer", 11), name("customer_id", 11))]),
        StepKind::Cast(vec![
            (name("amount", 12), name("DECIMAL(12,2)", 12)),
            (name("id", 12), name("VARCHAR", 12)),
        ]),
    ]);
    let compiled = compile_recipe(&lake, &recipe).await.expect("compiles");
    let fields: Vec<(String, String)> = compiled
        .output
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), crate::sql::type_name(f.data_type())))
        .collect();
    assert_eq!(fields[0], ("id".to_string(), "Utf8".to_string()));
    assert_eq!(fields[1].0, "customer_id");
    assert_eq!(
        fields[3],
        ("amount".to_string(), "Decimal128(12, 2)".to_string())
    );
    let rows = rows(compiled.output).await;
    assert_eq!(rows[0]["amount"], json!(10.5));
    assert_eq!(rows[0]["id"], json!("1"));

    let found = problems(vec![StepKind::Rename(vec![(
        name("customer", 11),
        name("email", 11),
    )])])
    .await;
    assert_eq!(
        found,
        vec!["transforms/t.yaml:11:5: rename: there is already a column `email`"]
    );
}

#[tokio::test]
async fn drop_null_fields_drops_columns_null_everywhere() {
    let rows = output(vec![StepKind::DropNullFields]).await;
    assert!(rows.iter().all(|r| r.get("note").is_none()), "{rows:?}");
    assert!(rows.iter().all(|r| r.get("email").is_some()));
}

#[tokio::test]
async fn mask_full_partial_and_hash() {
    let rows = output(vec![
        StepKind::Filter(sql("id <> 2", 11)),
        StepKind::Mask(vec![
            Mask {
                column: name("customer", 12),
                method: MaskMethod::Full,
            },
            Mask {
                column: name("phone", 12),
                method: MaskMethod::Partial {
                    keep_first: 1,
                    keep_last: 2,
                },
            },
            Mask {
                column: name("email", 12),
                method: MaskMethod::Hash {
                    salt_secret: Some(name("email_salt", 12)),
                },
            },
            Mask {
                column: name("id", 12),
                method: MaskMethod::Hash { salt_secret: None },
            },
        ]),
    ])
    .await;
    let first = rows
        .iter()
        .find(|r| r["updated_at"] == json!(1))
        .expect("row 1");
    assert_eq!(first["customer"], json!("*******"));
    assert_eq!(first["phone"], json!("5*****34"));
    // The hash's value is checked against SQL's in `hash_is_sha256_of_salt_and_value`.
    assert_eq!(first["email"].as_str().map(str::len), Some(64));
    assert_eq!(
        first["id"],
        json!("6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b")
    );
    let short = rows
        .iter()
        .find(|r| r["updated_at"] == json!(3))
        .expect("row 3");
    // "12" is too short to keep 3 characters: hidden whole. A null stays null.
    assert_eq!(short["phone"], json!("**"));
    assert_eq!(short["email"], Value::Null);

    let found = problems(vec![StepKind::Mask(vec![Mask {
        column: name("email", 11),
        method: MaskMethod::Hash {
            salt_secret: Some(name("missing", 11)),
        },
    }])])
    .await;
    assert_eq!(
        found,
        vec!["transforms/t.yaml:11:5: mask: the salt secret `missing`: no such secret"]
    );
}

#[tokio::test]
async fn hash_is_sha256_of_salt_and_value() {
    let lake = lake().await;
    let expected = lake
        .engine
        .execute("SELECT encode(sha256('pepper' || 'ann@x.com'), 'hex') AS h")
        .await
        .expect("sha")
        .to_json_rows()[0]["h"]
        .clone();
    let compiled = compile_recipe(
        &lake,
        &recipe(vec![
            StepKind::Filter(sql("updated_at = 1", 11)),
            StepKind::Mask(vec![Mask {
                column: name("email", 12),
                method: MaskMethod::Hash {
                    salt_secret: Some(name("email_salt", 12)),
                },
            }]),
        ]),
    )
    .await
    .expect("compiles");
    let rows = rows(compiled.output).await;
    assert_eq!(rows[0]["email"], expected);
}

#[tokio::test]
async fn truncate_split_and_combine() {
    let rows = output(vec![
        StepKind::Select(vec![
            name("updated_at", 11),
            name("customer", 11),
            name("country", 11),
        ]),
        StepKind::Split {
            column: name("customer", 12),
            separator: " ".into(),
            into: vec![name("first", 12), name("rest", 12)],
            keep: true,
        },
        StepKind::Combine {
            columns: vec![name("country", 13), name("rest", 13)],
            separator: "/".into(),
            into: name("tag", 13),
            keep: false,
        },
        StepKind::Truncate(vec![(name("customer", 14), 3)]),
    ])
    .await;
    assert_eq!(
        rows,
        vec![
            json!({"updated_at": 1, "customer": "Ann", "first": "Ann", "tag": "DE/Lee"}),
            json!({"updated_at": 2, "customer": "Bob", "first": "Bob", "tag": "FR"}),
            json!({"updated_at": 3, "customer": "Cy ", "first": "Cy", "tag": "XX/Young Jr"}),
            json!({"updated_at": 5, "customer": "Ann", "first": "Ann", "tag": "DE/Lee"}),
        ]
    );
}

fn rules() -> Vec<Rule> {
    let rule = |column: &str, check: Check| Rule {
        pos: pos(20),
        column: name(column, 20),
        check,
    };
    vec![
        rule("email", Check::NotNull),
        rule(
            "amount",
            Check::Range {
                min: Some("0".into()),
                max: Some("100".into()),
            },
        ),
        rule("email", Check::Regex("^[^@]+@[^@]+$".into())),
        rule(
            "country",
            Check::Allowed(vec!["DE".into(), "FR".into(), "US".into()]),
        ),
        rule("id", Check::Unique),
    ]
}

#[tokio::test]
async fn validate_quarantines_with_the_first_rule_broken() {
    let lake = lake().await;
    let recipe = recipe(vec![
        StepKind::Validate(Validate {
            rules: rules(),
            on_failure: OnFailure::Quarantine(at(TableName::new("db", "bad"), 21)),
        }),
        StepKind::Select(vec![name("updated_at", 12)]),
    ]);
    let compiled = compile_recipe(&lake, &recipe).await.expect("compiles");
    let (quarantine, table) = compiled.quarantine.expect("quarantine");
    assert_eq!(table, TableName::new("db", "bad"));
    // Every row breaks a rule: 2 has a negative amount, 3 no email, both 1s share an id.
    assert_eq!(rows(compiled.output).await, Vec::<Value>::new());
    let refused = rows(quarantine).await;
    let mut rules: Vec<(&Value, &Value)> = refused
        .iter()
        .map(|r| (&r["updated_at"], &r["_rule"]))
        .collect();
    rules.sort_by_key(|(at, _)| at.as_i64());
    assert_eq!(
        rules,
        vec![
            (&json!(1), &json!("id unique")),
            (&json!(2), &json!("amount range [0, 100]")),
            (&json!(3), &json!("email not_null")),
            (&json!(5), &json!("id unique")),
        ]
    );
    assert!(
        refused.iter().all(|r| r["_failed_at"].is_string()),
        "{refused:?}"
    );
    assert!(
        refused[0].get("phone").is_some(),
        "rows as they stood at the step"
    );
}

#[tokio::test]
async fn validate_drop_keeps_passing_rows_and_fail_checks_first() {
    let mut lenient = rules();
    lenient.pop();
    let rows_kept = output(vec![StepKind::Validate(Validate {
        rules: lenient.clone(),
        on_failure: OnFailure::Drop,
    })])
    .await;
    assert_eq!(column(&rows_kept, "updated_at"), vec![&json!(1), &json!(5)]);

    let lake = lake().await;
    let compiled = compile_recipe(
        &lake,
        &recipe(vec![StepKind::Validate(Validate {
            rules: lenient,
            on_failure: OnFailure::Fail,
        })]),
    )
    .await
    .expect("compiles");
    let failing = rows(compiled.fail_check.expect("fail check")).await;
    assert_eq!(
        column(&failing, "_rule"),
        vec![&json!("amount range [0, 100]"), &json!("email not_null")]
    );
    assert_eq!(rows(compiled.output).await.len(), 4);
}

#[tokio::test]
async fn validate_problems() {
    let found = problems(vec![StepKind::Validate(Validate {
        rules: vec![
            Rule {
                pos: pos(20),
                column: name("emial", 20),
                check: Check::NotNull,
            },
            Rule {
                pos: pos(21),
                column: name("email", 21),
                check: Check::Regex("([".into()),
            },
        ],
        on_failure: OnFailure::Drop,
    })])
    .await;
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0]
            .starts_with("transforms/t.yaml:20:5: unknown column `emial`; did you mean `email`?")
    );
    assert!(
        found[1].starts_with("transforms/t.yaml:21:5: validate: `([` is not a regular expression")
    );
}

#[tokio::test]
async fn dedupe_keeps_latest_or_earliest() {
    for (latest, expected) in [(true, 5), (false, 1)] {
        let rows = output(vec![StepKind::Dedupe {
            keys: vec![name("id", 11)],
            order_by: Some(name("updated_at", 11)),
            latest,
        }])
        .await;
        assert_eq!(rows.len(), 3);
        let one = rows.iter().find(|r| r["id"] == json!(1)).expect("id 1");
        assert_eq!(one["updated_at"], json!(expected));
        // Columns keep their order.
        let keys: Vec<&String> = one.as_object().expect("object").keys().collect();
        assert_eq!(keys.first().map(|k| k.as_str()), Some("id"));
    }
}

#[tokio::test]
async fn dedupe_without_order_and_with_ties_keeps_one_row_per_key() {
    let rows = output(vec![StepKind::Dedupe {
        keys: vec![name("country", 11)],
        order_by: None,
        latest: false,
    }])
    .await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    // Both `DE` rows have the same customer: a tie on the order, one row kept.
    let rows = output(vec![StepKind::Dedupe {
        keys: vec![name("country", 11)],
        order_by: Some(name("customer", 11)),
        latest: true,
    }])
    .await;
    assert_eq!(
        column(&rows, "country"),
        vec![&json!("DE"), &json!("FR"), &json!("XX")]
    );
    // Null keys are one key, as SQL's grouping has them.
    let rows = output(vec![StepKind::Dedupe {
        keys: vec![name("note", 11)],
        order_by: Some(name("updated_at", 11)),
        latest: true,
    }])
    .await;
    assert_eq!(column(&rows, "updated_at"), vec![&json!(5)]);
}

#[tokio::test]
async fn join_brings_columns_and_prefixes_clashes() {
    let rows = output(vec![
        StepKind::Select(vec![name("id", 11), name("customer", 11)]),
        StepKind::Join(Join {
            table: at(TableName::new("db", "customers"), 12),
            on: vec![(name("id", 12), name("id", 12))],
            kind: JoinKind::Left,
            columns: None,
        }),
    ])
    .await;
    assert_eq!(
        rows,
        vec![
            json!({"id": 1, "customer": "Ann Lee", "segment": "gold", "customers_customer": "Ann"}),
            json!({"id": 1, "customer": "Ann Lee", "segment": "gold", "customers_customer": "Ann"}),
            json!({"id": 2, "customer": "Bob", "segment": "silver", "customers_customer": "Bob"}),
            json!({"id": 3, "customer": "Cy Young Jr", "segment": null, "customers_customer": null}),
        ]
    );
    let anti = output(vec![
        StepKind::Select(vec![name("id", 11)]),
        StepKind::Join(Join {
            table: at(TableName::new("db", "customers"), 12),
            on: vec![(name("id", 12), name("id", 12))],
            kind: JoinKind::Anti,
            columns: None,
        }),
    ])
    .await;
    assert_eq!(anti, vec![json!({"id": 3})]);
    let full = output(vec![
        StepKind::Select(vec![name("id", 11)]),
        StepKind::Join(Join {
            table: at(TableName::new("db", "customers"), 12),
            on: vec![(name("id", 12), name("id", 12))],
            kind: JoinKind::Full,
            columns: Some(vec![name("segment", 12)]),
        }),
    ])
    .await;
    assert!(
        full.contains(&json!({"id": 4, "segment": "none"})),
        "{full:?}"
    );

    let found = problems(vec![StepKind::Join(Join {
        table: at(TableName::new("db", "nope"), 12),
        on: vec![(name("id", 12), name("id", 12))],
        kind: JoinKind::Inner,
        columns: None,
    })])
    .await;
    assert_eq!(
        found,
        vec!["transforms/t.yaml:12:5: join: no table `db.nope` in the catalog"]
    );
}

#[tokio::test]
async fn union_matches_columns_by_name() {
    let rows = output(vec![
        StepKind::Select(vec![name("country", 11), name("id", 11)]),
        StepKind::Filter(sql("id = 2", 12)),
        StepKind::Union(at(TableName::new("db", "backfill"), 13)),
    ])
    .await;
    assert_eq!(
        rows,
        vec![
            json!({"country": "FR", "id": 2, "amount": null}),
            json!({"country": "US", "id": 7, "amount": 70.0}),
        ]
    );
}

#[tokio::test]
async fn pivot_and_unpivot() {
    let lake = lake().await;
    let mut pivot = recipe(vec![StepKind::Pivot {
        index: vec![name("id", 11)],
        column: name("metric", 11),
        values: name("value", 11),
        agg: at(Aggregate::Sum, 11),
        columns: vec![name("clicks", 11), name("views", 11)],
    }]);
    pivot.source = Source::Table(at(TableName::new("db", "metrics"), 2));
    let compiled = compile_recipe(&lake, &pivot).await.expect("compiles");
    let wide = rows(compiled.output).await;
    assert_eq!(
        wide,
        vec![
            json!({"id": 1, "clicks": 5, "views": 10}),
            json!({"id": 2, "clicks": null, "views": 7}),
        ]
    );

    pivot.steps.push(Step {
        pos: Pos::new(12, 5),
        kind: StepKind::Unpivot {
            columns: vec![name("clicks", 12), name("views", 12)],
            name: name("metric", 12),
            value: name("total", 12),
        },
    });
    let compiled = compile_recipe(&lake, &pivot).await.expect("compiles");
    let long = rows(compiled.output).await;
    assert_eq!(
        long,
        vec![
            json!({"id": 1, "metric": "clicks", "total": 5}),
            json!({"id": 1, "metric": "views", "total": 10}),
            json!({"id": 2, "metric": "clicks", "total": null}),
            json!({"id": 2, "metric": "views", "total": 7}),
        ]
    );
}

#[tokio::test]
async fn stages_follow_the_steps_and_later_steps_are_still_checked() {
    let lake = lake().await;
    let recipe = recipe(vec![
        StepKind::Filter(sql("amount > 0", 11)),
        StepKind::Select(vec![name("id", 12)]),
    ]);
    let compiled = compile_recipe(&lake, &recipe).await.expect("compiles");
    assert_eq!(compiled.stages.len(), 2);
    assert_eq!(rows(compiled.stages[0].1.clone()).await.len(), 3);

    // A problem in one step does not hide one in the next.
    let found = problems(vec![
        StepKind::Filter(sql("amout > 0", 11)),
        StepKind::Select(vec![name("idd", 12)]),
    ])
    .await;
    assert_eq!(found.len(), 2, "{found:?}");
}

#[tokio::test]
async fn preview_shows_each_stage_on_a_sample() {
    let lake = lake().await;
    let recipe = recipe(vec![
        StepKind::Filter(sql("amount > 0", 11)),
        StepKind::Select(vec![name("id", 12), name("amount", 12)]),
    ]);
    let stages = crate::transform::preview_recipe(&lake.engine, &recipe, 2, &salts)
        .await
        .expect("preview");
    assert_eq!(stages.len(), 3);
    assert_eq!(stages[0].name, "source");
    assert_eq!(stages[0].rows.len(), 2);
    assert_eq!(stages[2].name, "select");
    assert_eq!((stages[2].line, stages[2].column), (12, 5));
    let names: Vec<&str> = stages[2].columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["id", "amount"]);
    assert!(stages[2].rows.len() <= 2);
}

#[tokio::test]
async fn profile_counts_nulls_distinct_bounds_and_top_values() {
    let lake = lake().await;
    let profile = crate::transform::profile(&lake.engine, &TableName::new("db", "orders"))
        .await
        .expect("profile");
    assert_eq!(profile.rows, 4);
    let column = |name: &str| {
        profile
            .columns
            .iter()
            .find(|c| c.name == name)
            .expect("column")
    };
    let id = column("id");
    assert_eq!((id.nulls, id.distinct_approx), (0, Some(3)));
    assert_eq!((&id.min, &id.max), (&json!(1), &json!(3)));
    assert_eq!(
        id.top[0],
        crate::transform::TopValue {
            value: "1".into(),
            count: 2
        }
    );
    assert_eq!(id.top.len(), 3);
    let email = column("email");
    assert_eq!(email.nulls, 1);
    let note = column("note");
    assert_eq!((note.nulls, note.top.len()), (4, 0));
    assert_eq!(column("amount").min, json!(-3.0));
}

/// The top values are counted on the first 20,000 rows (DataBrew's default sample), and the
/// profile says so; the other counts cover every row.
#[tokio::test]
async fn profile_counts_top_values_on_a_sample() {
    let lake = lake().await;
    lake.engine
        .execute("CREATE TABLE db.many AS SELECT value % 3 AS k FROM generate_series(1, 30000)")
        .await
        .expect("create");
    let profile = crate::transform::profile(&lake.engine, &TableName::new("db", "many"))
        .await
        .expect("profile");
    assert_eq!((profile.rows, profile.top_values_rows), (30_000, 20_000));
    let k = &profile.columns[0];
    assert_eq!(k.nulls, 0);
    assert_eq!(k.top.iter().map(|t| t.count).sum::<u64>(), 20_000);
}

/// `db.big`: 10 million rows, 1 million values of `k`, 8 columns.
async fn big_table(lake: &Lake) {
    lake.engine
        .execute(
            "CREATE TABLE db.big AS SELECT value % 1000000 AS k, value AS ts, \
             value * 2 AS a, CAST(value AS VARCHAR) AS b, value % 7 AS c, \
             concat('x', CAST(value % 1000 AS VARCHAR)) AS d, value / 3 AS e, value % 13 AS f \
             FROM range(10000000)",
        )
        .await
        .expect("table");
}

/// Dedupe over 10 million rows, 1 million keys, 8 columns:
/// `cargo nextest run -p weir-lake dedupe_timing --run-ignored only --no-capture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn dedupe_timing() {
    use futures::StreamExt;
    let lake = lake().await;
    big_table(&lake).await;
    for _ in 0..2 {
        let session = SessionContext::new_with_state(
            lake.engine
                .session_for_tables(&[TableName::new("db", "big")])
                .await
                .expect("session"),
        );
        let frame = session.table("db.big").await.expect("table");
        let keys = vec![context::find(frame.schema(), "k").expect("k")];
        let order = context::find(frame.schema(), "ts").expect("ts");
        let sort = vec![order.expr.clone().sort(false, false)];
        let planned = dedupe::row_numbers(frame, &keys, sort).expect("plan");
        let started = std::time::Instant::now();
        let mut stream = planned.execute_stream().await.expect("run");
        let mut rows = 0;
        while let Some(batch) = stream.next().await {
            rows += batch.expect("batch").num_rows();
        }
        assert_eq!(rows, 1_000_000);
        eprintln!("dedupe: {rows} rows in {:?}", started.elapsed());
    }
}

/// `unique`'s two forms over 10 million rows, 1 million values, every column streamed:
/// `cargo nextest run -p weir-lake unique_forms --run-ignored only --no-capture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn unique_forms() {
    use futures::StreamExt;
    let lake = lake().await;
    big_table(&lake).await;
    for (form, sql) in [
        (
            "window",
            "SELECT *, count(*) OVER (PARTITION BY k) > 1 AS dup FROM db.big",
        ),
        (
            "aggregate_join",
            "SELECT b.*, d.dup FROM (SELECT k AS dk, true AS dup FROM db.big GROUP BY k \
             HAVING count(*) > 1) d RIGHT JOIN db.big b ON b.k = d.dk",
        ),
    ] {
        for _ in 0..2 {
            let started = std::time::Instant::now();
            let mut stream = lake.engine.execute_stream(sql).await.expect("run");
            let mut rows = 0;
            while let Some(batch) = stream.batches.next().await {
                rows += batch.expect("batch").num_rows();
            }
            eprintln!("{form}: {rows} rows in {:?}", started.elapsed());
        }
    }
}
