//! Transforms through the real binary: recipes in `transforms/*.yaml` (the format of
//! docs/transforms.md), run with `weir transforms run` and as the `transform` pipeline action,
//! their bookmarks shown and reset, their grants checked. Reading the files is
//! `weir_model::transform::parse_transform`; until it lands, only the tests that need no file
//! (`unknown_and_malformed_names_are_refused`) pass.

use serde_json::Value;

use crate::support::*;

const CLEAN_ORDERS: &str = r#"description: Clean raw orders into the curated table
source:
  table: raw.orders
bookmark:
  column: id
steps:
  - filter: "status <> 'test'"
  - derive: { amount_eur: "amount * 2" }
  - validate:
      rules:
        - { column: amount, range: { min: 0, max: 1000 } }
        - { column: country, allowed: [DE, FR, US] }
      on_failure: { quarantine: curated.orders_quarantine }
  - select: [id, country, amount, amount_eur, day]
sink:
  table: curated.orders
  mode: append
  partition_by: [day]
  compression: zstd
"#;

fn sql(server: &Server, query: &str) -> Vec<Value> {
    server.json(&["sql", query])["rows"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn ids(server: &Server, query: &str) -> Vec<i64> {
    sql(server, query)
        .iter()
        .map(|row| row["id"].as_i64().unwrap_or(-1))
        .collect()
}

fn orders_project() -> (Project, Server) {
    let project = Project::new();
    project.write("transforms/clean_orders.yaml", CLEAN_ORDERS);
    let server = Server::start(project.path());
    server.json(&[
        "sql",
        "CREATE TABLE raw.orders AS SELECT * FROM (VALUES \
         (1, 'DE', 10, 'ok', DATE '2026-01-01'), (2, 'FR', 20, 'test', DATE '2026-01-01'), \
         (3, 'XX', 30, 'ok', DATE '2026-01-02'), (4, 'US', -5, 'ok', DATE '2026-01-02'), \
         (5, 'US', 50, 'ok', DATE '2026-01-02')) AS t(id, country, amount, status, day)",
    ]);
    (project, server)
}

#[test]
fn a_bookmarked_transform_reads_only_new_rows_and_quarantines_failures() {
    let (_project, server) = orders_project();

    let listed = server.json(&["transforms", "list"]);
    let names: Vec<&str> = listed["transforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["clean_orders"], "{listed}");
    assert_eq!(listed["transforms"][0]["bookmark"], true);

    let report = server.json(&["transforms", "run", "clean_orders"]);
    assert_eq!(report["rows_in"], 5, "{report}");
    assert_eq!(report["rows_out"], 2, "{report}");
    assert_eq!(report["rows_quarantined"], 2, "{report}");
    assert_eq!(report["bookmark"]["value"], "5", "{report}");
    assert_eq!(
        ids(&server, "SELECT id FROM curated.orders ORDER BY id"),
        [1, 5]
    );
    assert_eq!(
        sql(
            &server,
            "SELECT amount_eur FROM curated.orders WHERE id = 5"
        )[0]["amount_eur"],
        100
    );
    let quarantined = sql(
        &server,
        "SELECT id, _rule FROM curated.orders_quarantine ORDER BY id",
    );
    assert_eq!(quarantined[0]["_rule"], "country allowed [DE, FR, US]");
    assert_eq!(quarantined[1]["_rule"], "amount range [0, 1000]");

    // The human form says the same.
    let again = server.cli(&["transforms", "run", "clean_orders"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("clean_orders: 0 row(s) read, 0 written"),
        "{}",
        stdout(&again)
    );

    // New rows: only they are read, and appended to what earlier runs wrote (a day's earlier
    // rows stay: a bookmark with an overwrite mode is refused when the recipe is read).
    server.json(&[
        "sql",
        "INSERT INTO raw.orders VALUES (6, 'FR', 60, 'ok', DATE '2026-01-03'), \
         (7, 'DE', 70, 'ok', DATE '2026-01-01')",
    ]);
    let third = server.json(&["transforms", "run", "clean_orders"]);
    assert_eq!(third["rows_in"], 2, "{third}");
    assert_eq!(
        ids(&server, "SELECT id FROM curated.orders ORDER BY id"),
        [1, 5, 6, 7],
        "day 2026-01-01 keeps row 1 of the first run"
    );

    let shown = server.json(&["transforms", "bookmark", "show", "clean_orders"]);
    assert_eq!(shown["state"]["column"], "id");
    assert_eq!(shown["state"]["value"], "7");
    let text = server.cli(&["transforms", "bookmark", "show", "clean_orders"]);
    assert!(
        stdout(&text).contains("\"value\":\"7\""),
        "{}",
        stdout(&text)
    );

    let reset = server.json(&["transforms", "bookmark", "reset", "clean_orders"]);
    assert_eq!(reset["reset"], true);
    assert_eq!(
        server.json(&["transforms", "bookmark", "show", "clean_orders"]),
        Value::Null
    );
    // A reset reads everything again and, appending, writes it again.
    let all = server.json(&["transforms", "run", "clean_orders"]);
    assert_eq!(all["rows_in"], 7, "{all}");
    assert_eq!(
        ids(&server, "SELECT id FROM curated.orders ORDER BY id"),
        [1, 1, 5, 5, 6, 6, 7, 7]
    );
}

#[test]
fn the_transform_action_runs_in_a_pipeline_and_passes_its_report_on() {
    let (project, server) = orders_project();
    project.pipeline(
        "nightly",
        "tasks:\n  clean:\n    transform: clean_orders\n  after:\n    depends_on: [clean]\n    \
         command: echo 'wrote {{ tasks.clean.output.rows_out }}'\n",
    );
    project.write(
        "transforms/broken.yaml",
        "source:\n  table: raw.orders\nsteps:\n  - filter: \"no_such_column > 1\"\nsink:\n  table: curated.broken\n",
    );
    project.pipeline("bad", "tasks:\n  t:\n    transform: broken\n");
    let reload = server.cli(&["pipelines", "reload"]);
    assert!(reload.status.success(), "{}", stderr(&reload));
    let run = server.trigger_wait("nightly", &[]);
    assert_eq!(run["state"], "success", "{run}");
    let run_id = run["run_id"].as_str().unwrap().to_string();
    let run = server.run(&run_id);
    let clean = server.task(&run, "clean");
    assert_eq!(clean["output"]["rows_out"], 2, "{clean}");
    assert_eq!(clean["output"]["bookmark"]["value"], "5", "{clean}");
    let log = server.get_json(&format!("/api/v1/runs/{run_id}/logs?task=clean"));
    let text = log.to_string();
    assert!(text.contains("rows read: 5"), "{text}");
    assert!(text.contains("bookmark after"), "{text}");

    // A failing transform fails its task, with the reason, and commits nothing.
    let failed = server.trigger_wait("bad", &[]);
    assert_eq!(failed["state"], "failed", "{failed}");
    let catalog = server.json(&["catalog", "list"]);
    assert!(!catalog.to_string().contains("broken"), "{catalog}");
}

#[test]
fn objects_of_a_prefix_are_read_once_and_written_as_parquet() {
    let project = Project::new();
    project.write(
        "transforms/landing.yaml",
        "source:\n  prefix: landing/events/\n  format: csv\nbookmark: true\nsteps:\n  - filter: \"kind <> 'noise'\"\nsink:\n  prefix: exports/events/\n  format: parquet\n",
    );
    let server = Server::start(project.path());
    crate::lake::put(
        &server,
        &project,
        "a.csv",
        "id,kind\n1,click\n2,noise\n",
        "landing/events/a.csv",
    );
    let first = server.json(&["transforms", "run", "landing"]);
    assert_eq!(first["rows_out"], 1, "{first}");
    crate::lake::put(
        &server,
        &project,
        "b.csv",
        "id,kind\n3,view\n",
        "landing/events/b.csv",
    );
    let second = server.json(&["transforms", "run", "landing"]);
    assert_eq!(second["rows_in"], 1, "{second}");
    let listed = server.json(&["lake", "ls", "exports/events/"]);
    let keys: Vec<&str> = listed["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "{listed}");
    assert!(keys.iter().all(|k| k.ends_with(".parquet")), "{keys:?}");
    server.json(&[
        "crawl",
        "exports/events/",
        "--database",
        "exports",
        "--table",
        "events",
    ]);
    assert_eq!(
        ids(&server, "SELECT id FROM exports.events ORDER BY id"),
        [1, 3]
    );
    assert_eq!(
        server.json(&["transforms", "bookmark", "show", "landing"])["objects"],
        2
    );
}

#[test]
fn a_run_needs_an_operator_granted_every_table_it_touches() {
    let (_project, server) = orders_project();
    let narrowed = server.json(&[
        "tokens", "create", "--role", "operator", "--name", "raw-only", "--tables", "raw.*",
    ]);
    let token = narrowed["token"].as_str().unwrap();
    let (status, body) = http_with(
        "POST",
        &format!("{}/api/v1/transforms/clean_orders/runs", server.url),
        None,
        &[("Authorization", &format!("Bearer {token}"))],
    )
    .unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("curated.orders"), "{body}");

    let viewer = server.json(&["tokens", "create", "--role", "viewer", "--name", "v"]);
    let token = viewer["token"].as_str().unwrap();
    let (status, _) = http_with(
        "POST",
        &format!("{}/api/v1/transforms/clean_orders/runs", server.url),
        None,
        &[("Authorization", &format!("Bearer {token}"))],
    )
    .unwrap();
    assert_eq!(status, 403);
    // Nothing ran.
    assert_eq!(
        server.json(&["transforms", "bookmark", "show", "clean_orders"]),
        Value::Null
    );
}

/// Needs no transform file: passes before the files' reader lands.
#[test]
fn unknown_and_malformed_names_are_refused() {
    let project = Project::new();
    let server = Server::start(project.path());
    let missing = server.cli(&["transforms", "run", "nope"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("no transform `nope`"),
        "{}",
        stderr(&missing)
    );
    let (status, body) = server.post("/api/v1/transforms/a.b/runs", "");
    assert_eq!(status, 400, "{body}");
    let (status, body) = server.get("/api/v1/transforms/a.b/bookmark");
    assert_eq!(status, 400, "{body}");
    let listed = server.json(&["transforms", "list"]);
    assert_eq!(listed["transforms"], serde_json::json!([]));
    assert_eq!(
        server.json(&["transforms", "bookmark", "show", "nope"]),
        Value::Null
    );
}

/// A transform's lake folders and streams are held against a credential as the object and
/// stream routes hold them: every route of the transform refuses a credential narrowed away from
/// its prefix source or its stream sink, and weir's own `__` streams are refused to everyone.
#[test]
fn a_transform_needs_grants_on_its_prefixes_and_streams() {
    let project = Project::new();
    project.write(
        "transforms/landed.yaml",
        "source: { prefix: raw/orders/, format: csv }\nbookmark: true\nsink: { stream: orders_out }\n",
    );
    project.write(
        "transforms/internal.yaml",
        "source: { prefix: raw/orders/, format: csv }\nsink: { stream: __internal }\n",
    );
    let server = Server::start(project.path());
    let token = |name: &str, grants: &[&str]| {
        let mut args = vec!["tokens", "create", "--role", "operator", "--name", name];
        args.extend(grants);
        server.json(&args)["token"].as_str().unwrap().to_string()
    };
    let call = |token: &str, method: &str, path: &str| {
        http_with(
            method,
            &format!("{}/api/v1/transforms/{path}", server.url),
            None,
            &[("Authorization", &format!("Bearer {token}"))],
        )
        .unwrap()
    };
    let routes = [
        ("POST", "landed/check"),
        ("POST", "landed/preview"),
        ("POST", "landed/runs"),
        ("GET", "landed/bookmark"),
        ("DELETE", "landed/bookmark"),
    ];

    let other_prefix = token("other-prefix", &["--prefixes", "raw/other/"]);
    for (method, path) in routes {
        let (status, body) = call(&other_prefix, method, path);
        assert_eq!(status, 403, "{method} {path}: {body}");
        assert!(body.contains("lake prefix `raw/orders/`"), "{body}");
    }
    let other_streams = token(
        "other-streams",
        &["--prefixes", "raw/", "--pipelines", "other_*"],
    );
    for (method, path) in routes {
        let (status, body) = call(&other_streams, method, path);
        assert_eq!(status, 403, "{method} {path}: {body}");
        assert!(body.contains("stream `orders_out`"), "{body}");
    }
    let everything = token("everything", &[]);
    let (status, body) = call(&everything, "POST", "internal/runs");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("stream `__internal`"), "{body}");

    // Granted both: the routes answer.
    let granted = token(
        "granted",
        &["--prefixes", "raw/orders/", "--pipelines", "orders_*"],
    );
    let (status, body) = call(&granted, "GET", "landed/bookmark");
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(&granted, "POST", "landed/check");
    assert_eq!(status, 200, "{body}");
}
