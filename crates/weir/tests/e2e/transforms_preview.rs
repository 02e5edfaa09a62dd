//! `weir transforms check|preview` and `weir lake profile` through the real binary: a recipe
//! checked against the catalog (its problems at file:line:column), previewed stage by stage, and
//! a table's profile, over the CLI and the API.

use serde_json::{Value, json};

use crate::support::*;

const CLEAN_ORDERS: &str = r#"description: Clean raw orders
source:
  table: raw.orders
steps:
  - filter: "amount > 0"
  - derive: { amount_eur: "amount * 2" }
  - mask:
      email: full
  - select: [id, email, amount_eur]
sink:
  table: curated.orders
"#;

const BROKEN: &str = r#"source:
  table: raw.orders
steps:
  - select: [id, amount, emial]
  - filter: "amout > 0"
sink:
  table: curated.orders
"#;

fn server_with_orders() -> (Project, Server) {
    let project = Project::new();
    project.write("transforms/clean_orders.yaml", CLEAN_ORDERS);
    project.write("transforms/broken.yaml", BROKEN);
    let server = Server::start(project.path());
    server.json(&[
        "sql",
        "CREATE TABLE raw.orders AS SELECT * FROM (VALUES \
           (1, 'ann@x.com', 10.5, 'DE'), (2, 'bob@y.com', -1.0, 'FR'), \
           (3, NULL, 4.0, 'DE')) AS t(id, email, amount, country)",
    ]);
    (project, server)
}

#[test]
fn check_reports_ok_or_each_problem_at_its_position() {
    let (_project, server) = server_with_orders();
    let ok = server.cli(&["transforms", "check", "clean_orders"]);
    assert!(ok.status.success(), "{}{}", stdout(&ok), stderr(&ok));
    assert_eq!(stdout(&ok).trim(), "clean_orders: ok");

    let broken = server.cli(&["transforms", "check", "broken"]);
    assert_eq!(broken.status.code(), Some(1), "{}", stderr(&broken));
    assert_eq!(
        stdout(&broken).lines().collect::<Vec<_>>(),
        vec![
            "transforms/broken.yaml:4:26: unknown column `emial`; did you mean `email`?",
            // Inside the quoted expression: `amout` is its first character.
            "transforms/broken.yaml:5:14: filter: unknown column `amout`; did you mean `amount`?",
        ]
    );

    let (status, body) = server.post("/api/v1/transforms/broken/check", "{}");
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["problems"][1]["line"], json!(5));
    assert_eq!(body["problems"][1]["column"], json!(14));

    let (status, body) = server.post("/api/v1/transforms/nope/check", "{}");
    assert_eq!(status, 404, "{body}");
    let (status, _) = server.post("/api/v1/transforms/..%2Fweir/check", "{}");
    assert_eq!(status, 400);
}

#[test]
fn preview_shows_every_stage_on_a_sample() {
    let (_project, server) = server_with_orders();
    let preview = server.json(&["transforms", "preview", "clean_orders", "--rows", "2"]);
    let stages = preview["stages"].as_array().unwrap();
    let names: Vec<&str> = stages.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["source", "filter", "derive", "mask", "select"]);
    // The sample is the source's first 2 rows; the filter keeps the positive one.
    assert_eq!(stages[0]["rows"].as_array().unwrap().len(), 2);
    assert_eq!(
        stages[4]["rows"],
        json!([{ "id": 1, "email": "*********", "amount_eur": 21.0 }])
    );
    assert_eq!(stages[4]["line"], json!(9));
    let columns: Vec<&str> = stages[4]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["id", "email", "amount_eur"]);

    let text = server.cli(&["transforms", "preview", "clean_orders", "--rows", "2"]);
    assert!(text.status.success(), "{}", stderr(&text));
    let printed = stdout(&text);
    assert!(printed.contains("step 4: select (line 9)"), "{printed}");
    assert!(printed.contains("*********"), "{printed}");

    let (status, body) = server.post("/api/v1/transforms/clean_orders/preview?rows=0", "{}");
    assert_eq!(status, 400, "{body}");
    // A recipe with problems previews as its problems.
    let broken = server.cli(&["transforms", "preview", "broken"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(stdout(&broken).contains("did you mean `email`?"));
}

#[test]
fn profile_of_a_table() {
    let (_project, server) = server_with_orders();
    let profile = server.json(&["lake", "profile", "raw.orders"]);
    assert_eq!(profile["rows"], json!(3));
    let email = &profile["columns"][1];
    assert_eq!(email["name"], json!("email"));
    assert_eq!(email["nulls"], json!(1));
    assert_eq!(email["distinct_approx"], json!(2));
    assert_eq!(email["min"], json!("ann@x.com"));
    let country = &profile["columns"][3];
    assert_eq!(country["top"][0], json!({ "value": "DE", "count": 2 }));

    let text = server.cli(&["lake", "profile", "raw.orders"]);
    assert!(
        stdout(&text).contains("raw.orders: 3 rows"),
        "{}",
        stdout(&text)
    );
    let (status, _) = server.get("/api/v1/catalog/tables/raw/missing/profile");
    assert_eq!(status, 404);
}

#[test]
fn a_credential_needs_a_grant_on_every_table_a_recipe_reads() {
    let (_project, server) = server_with_orders();
    let call = |token: &str, method: &str, path: &str| {
        http_with(
            method,
            &format!("{}{path}", server.url),
            Some("{}"),
            &[
                ("Authorization", &format!("Bearer {token}")),
                ("Content-Type", "application/json"),
            ],
        )
        .expect("answer")
    };
    let sales_only =
        crate::security::create(&server, "viewer", "sales_only", &["--tables", "sales.*"]);
    let sales_only = sales_only["token"].as_str().unwrap();
    for path in [
        "/api/v1/transforms/clean_orders/check",
        "/api/v1/transforms/clean_orders/preview",
    ] {
        let (status, body) = call(sales_only, "POST", path);
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body.contains("raw.orders"), "{body}");
    }
    let (status, body) = call(
        sales_only,
        "GET",
        "/api/v1/catalog/tables/raw/orders/profile",
    );
    assert_eq!(status, 403, "{body}");

    let raw = crate::security::create(&server, "viewer", "raw_reader", &["--tables", "raw.*"]);
    let raw = raw["token"].as_str().unwrap();
    let (status, body) = call(
        raw,
        "POST",
        "/api/v1/transforms/clean_orders/preview?rows=1",
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(raw, "GET", "/api/v1/catalog/tables/raw/orders/profile");
    assert_eq!(status, 200, "{body}");
}
