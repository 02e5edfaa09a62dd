//! The lake, the catalog, the crawler and SQL through the real binary: load files with
//! `weir lake put`, crawl them into tables, query them, write results back as Parquet, and use
//! `crawl` and `sql` as pipeline actions.

use serde_json::Value;

use crate::support::*;

fn put(server: &Server, project: &Project, name: &str, content: &str, key: &str) {
    let path = project.write(&format!("files/{name}"), content);
    let output = server.cli(&["lake", "put", path.to_str().unwrap(), key]);
    assert!(output.status.success(), "{}", stderr(&output));
}

fn sql(server: &Server, query: &str) -> Value {
    server.json(&["sql", query])
}

#[test]
fn put_crawl_query_and_write_back() {
    let project = Project::new();
    let server = Server::start(project.path());
    put(
        &server,
        &project,
        "a.csv",
        "id,country,amount\n1,FR,10.5\n2,US,20\n3,FR,7\n",
        "raw/sales/day=2026-01-01/a.csv",
    );
    put(
        &server,
        &project,
        "b.csv",
        "id,country,amount\n4,DE,1\n5,FR,2\n",
        "raw/sales/day=2026-01-02/b.csv",
    );
    put(
        &server,
        &project,
        "c.jsonl",
        "{\"user\": \"u1\", \"clicks\": 3}\n{\"user\": \"u2\", \"clicks\": 5}\n",
        "raw/clicks/c.jsonl",
    );

    let listed = server.json(&["lake", "ls", "raw/"]);
    assert_eq!(listed["objects"].as_array().unwrap().len(), 3, "{listed}");
    let got = server.cli(&["lake", "get", "raw/clicks/c.jsonl"]);
    assert!(stdout(&got).contains("\"u2\""));

    let report = server.json(&["crawl", "raw/", "--database", "raw"]);
    let names: Vec<&str> = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"sales") && names.contains(&"clicks"),
        "{report}"
    );
    let shown = server.json(&["catalog", "show", "raw.sales"]);
    assert_eq!(shown["table"]["format"], "csv");
    assert_eq!(
        shown["table"]["partitioning"]["columns"][0]["name"], "day",
        "{shown}"
    );
    assert_eq!(shown["files"].as_array().unwrap().len(), 2);

    let totals = sql(
        &server,
        "SELECT country, sum(amount) AS total FROM raw.sales WHERE day = '2026-01-01' GROUP BY country ORDER BY country",
    );
    assert_eq!(totals["row_count"], 2, "{totals}");
    assert_eq!(totals["rows"][0]["country"], "FR");
    assert_eq!(totals["rows"][0]["total"], 17.5);
    assert_eq!(
        totals["files_scanned"], 1,
        "partition pruning read one day's file: {totals}"
    );

    let again = server.json(&["crawl", "raw/", "--database", "raw"]);
    let sales = again["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "sales")
        .unwrap();
    assert_eq!(
        sales["files_read"], 0,
        "a re-crawl reads only new or changed objects: {again}"
    );

    let ctas = sql(
        &server,
        "CREATE TABLE raw.by_country PARTITIONED BY (country) AS SELECT country, amount FROM raw.sales",
    );
    assert_eq!(ctas["row_count"], 5, "{ctas}");
    let table = server.json(&["catalog", "show", "raw.by_country"]);
    assert_eq!(table["table"]["format"], "parquet");
    assert!(
        table["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["key"].as_str().unwrap().ends_with(".parquet"))
    );
    let fr = sql(
        &server,
        "SELECT count(*) AS n FROM raw.by_country WHERE country = 'FR'",
    );
    assert_eq!(fr["rows"][0]["n"], 3);
    // Partition columns come last in a partitioned table's schema.
    sql(
        &server,
        "INSERT INTO raw.by_country SELECT 1.0 AS amount, 'FR' AS country",
    );
    assert_eq!(
        sql(&server, "SELECT count(*) AS n FROM raw.by_country")["rows"][0]["n"],
        6
    );
    sql(
        &server,
        "CREATE OR REPLACE TABLE raw.by_country AS SELECT country, amount FROM raw.sales WHERE amount > 5",
    );
    assert_eq!(
        sql(&server, "SELECT count(*) AS n FROM raw.by_country")["rows"][0]["n"],
        3
    );

    let csv = server.cli(&[
        "sql",
        "SELECT id, country FROM raw.sales ORDER BY id LIMIT 2",
        "--format",
        "csv",
    ]);
    assert_eq!(stdout(&csv), "id,country\n1,FR\n2,US\n");
}

#[test]
fn sql_errors_say_what_and_where() {
    let project = Project::new();
    let server = Server::start(project.path());
    let bad = server.cli(&["sql", "SELECT a,\nFROM t"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("line 2"), "{}", stderr(&bad));
    let missing = server.cli(&["sql", "SELECT * FROM nope.nothing"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("nothing"), "{}", stderr(&missing));
    let key = server.cli(&["lake", "get", "../etc/passwd"]);
    assert!(!key.status.success());
}

#[test]
fn crawl_and_sql_are_pipeline_actions() {
    let project = Project::new();
    project.write("files/e.csv", "kind,value\na,1\nb,2\na,3\n");
    project.pipeline(
        "lakeflow",
        r#"
tasks:
  upload:
    command: weir lake put files/e.csv landing/events/e.csv
    env: { WEIR_SERVER: "{{ params.server }}", PATH: "{{ params.path }}" }
  crawl:
    depends_on: [upload]
    crawl: { prefix: landing/, database: landing }
  count:
    depends_on: [crawl]
    sql: "SELECT kind, sum(value) AS total FROM landing.events GROUP BY kind ORDER BY kind"
  report:
    depends_on: [count]
    command: [echo, "rows={{ tasks.count.output.row_count }} first={{ tasks.count.output.rows[0].total }}"]
params: { server: "", path: "" }
"#,
    );
    let server = Server::start(project.path());
    let bin_dir = std::path::Path::new(BIN)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let path = format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default());
    let run = server.trigger_wait(
        "lakeflow",
        &[
            "--param",
            &format!("server={}", server.url),
            "--param",
            &format!("path={path}"),
        ],
    );
    assert_eq!(run["state"], "success", "{run}");
    let id = run["run_id"].as_str().unwrap();
    let report = stdout(&server.cli(&["runs", "logs", id, "report"]));
    assert!(report.contains("rows=2 first=4"), "{report}");
}
