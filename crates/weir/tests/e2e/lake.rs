//! The lake, the catalog, the crawler and SQL through the real binary: load files with
//! `weir lake put`, crawl them into tables, query them, write results back as Parquet, and use
//! `crawl` and `sql` as pipeline actions.

use serde_json::Value;

use crate::support::*;

pub(crate) fn put(server: &Server, project: &Project, name: &str, content: &str, key: &str) {
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
  picked:
    depends_on: [crawl]
    # Params are written as SQL literals: the quote in `kind` cannot end its string.
    sql: "SELECT count(*) AS n FROM landing.events WHERE kind = '{{ params.kind }}' OR kind IN ({{ params.kinds }})"
  report:
    depends_on: [count, picked]
    command: [echo, "rows={{ tasks.count.output.row_count }} first={{ tasks.count.output.rows[0].total }} picked={{ tasks.picked.output.rows[0].n }}"]
params: { server: "", path: "", kind: "a' OR 'x'='x", kinds: [b] }
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
    assert!(report.contains("rows=2 first=4 picked=1"), "{report}");
}

/// A file of `size` bytes, sparse but for marked chunks at its start, middle and end (so a
/// reordered or shifted copy differs), made in no time at any size.
fn sparse_file(path: &std::path::Path, size: u64) {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = std::fs::File::create(path).expect("create");
    file.set_len(size).expect("size");
    for (n, at) in [0, size / 2 + 12_345, size - 4096].into_iter().enumerate() {
        file.seek(SeekFrom::Start(at)).expect("seek");
        let mark: Vec<u8> = (0..4096u32).map(|i| (i as u8) ^ (n as u8 + 1)).collect();
        file.write_all(&mark).expect("mark");
    }
}

/// Whether two files hold the same bytes, compared a chunk at a time.
fn same_bytes(a: &std::path::Path, b: &std::path::Path) -> bool {
    use std::io::Read;
    let (mut a, mut b) = (
        std::fs::File::open(a).expect("open a"),
        std::fs::File::open(b).expect("open b"),
    );
    let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = a.read(&mut x).expect("read a");
        if n == 0 {
            return b.read(&mut y).expect("read b") == 0;
        }
        if b.read_exact(&mut y[..n]).is_err() || x[..n] != y[..n] {
            return false;
        }
    }
}

/// The server's peak resident memory, from /proc.
fn peak_rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// `weir lake put` streams the file to the lake and `weir lake get` streams it back: neither the
/// CLI nor the server holds it whole, and `server.max_body_bytes` (here 1 KiB) does not apply to
/// uploads. 24 MiB by default (over axum's 2 MiB default limit, which refused it before); 3 GiB
/// with WEIR_SOAK=1, where the server's peak memory is checked too.
#[test]
fn large_files_stream_up_and_down() {
    let soak = std::env::var_os("WEIR_SOAK").is_some();
    let size: u64 = if soak { 3 << 30 } else { 24 << 20 };
    let project = Project::new();
    project.write("weir.toml", "[server]\nmax_body_bytes = 1024\n");
    let server = Server::start(project.path());
    let source = project.path().join("big.bin");
    sparse_file(&source, size);

    let started = std::time::Instant::now();
    let put = server.cli(&["lake", "put", source.to_str().unwrap(), "big/one.bin"]);
    assert!(put.status.success(), "{}", stderr(&put));
    assert_eq!(
        stdout(&put).trim(),
        format!("big/one.bin  {size} bytes"),
        "{}",
        stderr(&put)
    );
    let put_time = started.elapsed();
    let back = project.path().join("back.bin");
    let started = std::time::Instant::now();
    let get = server.cli(&["lake", "get", "big/one.bin", back.to_str().unwrap()]);
    assert!(get.status.success(), "{}", stderr(&get));
    let get_time = started.elapsed();
    assert_eq!(std::fs::metadata(&back).expect("downloaded").len(), size);
    assert!(same_bytes(&source, &back), "the copy differs");
    eprintln!("{size} bytes: put {put_time:?}, get {get_time:?}");
    if soak {
        let peak = peak_rss_bytes(server.pid());
        eprintln!("server peak resident memory: {} MiB", peak >> 20);
        assert!(
            peak < 512 << 20,
            "the server peaked at {peak} bytes for a {size}-byte upload"
        );
    }

    // Bodies read whole are bounded, and the CLI says so in the server's words.
    let long = format!("SELECT '{}' AS s", "x".repeat(2000));
    let refused = server.cli(&["sql", &long]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("max_body_bytes") && stderr(&refused).contains("HTTP 413"),
        "{}",
        stderr(&refused)
    );
}
