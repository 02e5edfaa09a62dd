//! Preconditions, copy and export through the real binary: `wait_for` released by another task's
//! write long before its poke interval, partition and SQL waits, a timeout; `copy` between local
//! roots, the lake and S3 (moto), resumed after the server is killed mid-copy; a `sql` task's
//! result exported as CSV, JSON lines and Parquet and read back; and docs/preconditions.md run
//! as a session.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

/// A project whose weir.toml lets `copy` use `PROJECT/exchange` (created).
fn project_with_exchange(extra_toml: &str) -> (Project, PathBuf) {
    let project = Project::new();
    let exchange = project.path().join("exchange");
    std::fs::create_dir_all(&exchange).unwrap();
    let exchange = std::fs::canonicalize(exchange).unwrap();
    project.write(
        "weir.toml",
        &format!(
            "[copy]\nlocal_roots = [\"{}\"]\n{extra_toml}",
            exchange.display()
        ),
    );
    (project, exchange)
}

fn attempt(server: &Server, run_id: &str, task: &str) -> Value {
    server
        .attempts(run_id, task)
        .last()
        .cloned()
        .unwrap_or_else(|| panic!("no attempt of {task} in {run_id}"))
}

fn run_id(run: &Value) -> String {
    run["run_id"].as_str().expect("run id").to_string()
}

/// Triggers a run, waits for it, and returns it with its tasks.
fn run_of(server: &Server, pipeline: &str) -> Value {
    let ended = server.trigger_wait(pipeline, &[]);
    server.run(&run_id(&ended))
}

/// The text of an attempt's log (its path is relative to the data directory).
fn log_of(server: &Server, attempt: &Value) -> String {
    let path = attempt["log_path"].as_str().expect("log path");
    let path = server.data.join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_wait_is_released_by_another_tasks_write_not_by_its_poke_interval() {
    let (project, exchange) = project_with_exchange("");
    std::fs::write(exchange.join("orders.csv"), "id,amount\n1,10\n2,20\n").unwrap();
    project.pipeline(
        "landing",
        &format!(
            r#"tasks:
  landed:
    wait_for: {{ object: landing/orders.csv, poke_interval: 1h, timeout: 2m }}
  pause:
    noop: {{ sleep: 1500ms }}
  deliver:
    depends_on: [pause]
    copy: {{ from: "file://{}/orders.csv", to: landing/ }}
"#,
            exchange.display()
        ),
    );
    let server = Server::start(project.path());
    let run = run_of(&server, "landing");
    assert_eq!(run["state"], "success", "{run}\n{}", server.log_text());
    let id = run_id(&run);
    let landed = attempt(&server, &id, "landed");
    let deliver = attempt(&server, &id, "deliver");
    let written = deliver["ended_at_us"].as_i64().unwrap();
    let released = landed["ended_at_us"].as_i64().unwrap();
    let latency_ms = (released - written) as f64 / 1000.0;
    eprintln!("wait_for released {latency_ms} ms after the write (poke interval 1h)");
    // The poke interval is an hour: only the lake's broadcast can have woken it this soon.
    assert!(
        latency_ms < 1000.0,
        "the wait ended {latency_ms} ms after the write"
    );
    let output = &server.task(&run, "landed")["output"];
    assert_eq!(output["found"]["key"], "landing/orders.csv", "{output}");
    assert_eq!(
        output["checks"], 2,
        "one check at the start, one on the write: {output}"
    );
    assert!(output["waited_ms"].as_u64().unwrap() >= 1000, "{output}");
    assert_eq!(
        server.task(&run, "deliver")["output"]["objects"],
        1,
        "{run}"
    );
}

#[test]
fn partition_and_sql_waits_wake_on_catalog_commits() {
    let project = Project::new();
    project.pipeline(
        "gate",
        r#"tasks:
  day_two:
    wait_for:
      partition: { table: sales.orders, values: { day: "{{ params.day }}" } }
      poke_interval: 1h
      timeout: 2m
  enough:
    wait_for: { sql: "SELECT count(*) >= 3 FROM sales.orders", poke_interval: 1h, timeout: 2m }
  pause:
    noop: { sleep: 1s }
  first:
    depends_on: [pause]
    sql: "INSERT INTO sales.orders SELECT * FROM (VALUES (2, '2024-01-01')) AS v(id, day)"
  second:
    depends_on: [first]
    noop: { sleep: 500ms }
  load:
    depends_on: [second]
    sql: "INSERT INTO sales.orders SELECT * FROM (VALUES (3, '{{ params.day }}')) AS v(id, day)"
params:
  day: "2024-01-02"
"#,
    );
    let server = Server::start(project.path());
    let created = server.cli(&[
        "sql",
        "CREATE TABLE sales.orders PARTITIONED BY (day) AS SELECT * FROM (VALUES (1, '2024-01-01')) AS v(id, day)",
    ]);
    assert!(created.status.success(), "{}", stderr(&created));
    let run = run_of(&server, "gate");
    assert_eq!(run["state"], "success", "{run}\n{}", server.log_text());
    let id = run_id(&run);
    let loaded = attempt(&server, &id, "load")["ended_at_us"]
        .as_i64()
        .unwrap();
    for task in ["day_two", "enough"] {
        let ended = attempt(&server, &id, task)["ended_at_us"].as_i64().unwrap();
        let latency_ms = (ended - loaded) as f64 / 1000.0;
        // The wait may even end first: the commit's broadcast goes out before the load's
        // runner returns.
        assert!(
            latency_ms < 1000.0,
            "{task} ended {latency_ms} ms after the load committed"
        );
    }
    let partition = &server.task(&run, "day_two")["output"]["found"];
    assert_eq!(partition["table"], "sales.orders", "{partition}");
    assert_eq!(partition["partition"]["day"], "2024-01-02", "{partition}");
    assert_eq!(
        server.task(&run, "enough")["output"]["found"]["value"],
        true
    );
    // The first insert (a partition it does not wait for, two rows of three) woke both and
    // released neither.
    let checks = server.task(&run, "enough")["output"]["checks"]
        .as_u64()
        .unwrap();
    assert!(
        checks >= 3,
        "enough checked at start, on the first and the second insert: {checks}"
    );
}

/// Objects weir does not write itself (another tool's, straight into the lake's store) are seen
/// at the poke interval.
#[test]
fn a_write_weir_does_not_see_is_found_at_the_poke_interval() {
    let project = Project::new();
    project.pipeline(
        "outside",
        r#"tasks:
  dropped:
    wait_for: { object: "drop/by-hand.csv", timeout: 1m, poke_interval: 1s }
"#,
    );
    let server = Server::start(project.path());
    let (status, body) = server.post("/api/v1/pipelines/outside/runs", "{}");
    assert_eq!(status, 201, "{body}");
    let id = run_id(&serde_json::from_str(&body).unwrap());
    std::thread::sleep(Duration::from_millis(1500));
    let dir = server.data.join("lake/drop");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("by-hand.csv"), "a\n").unwrap();
    let written = Instant::now();
    let run = server.wait_run(&id);
    assert_eq!(run["state"], "success", "{run}");
    assert!(written.elapsed() < Duration::from_secs(5));
    let output = &server.task(&run, "dropped")["output"];
    assert!(output["checks"].as_u64().unwrap() >= 2, "{output}");
    assert_eq!(output["found"]["size"], 2, "{output}");
}

#[test]
fn a_wait_times_out_and_a_bad_one_fails_at_once() {
    let project = Project::new();
    project.pipeline(
        "never",
        r#"tasks:
  missing:
    retries: 2
    retry_delay: 1s
    wait_for: { object: "never/there.csv", timeout: 1s, poke_interval: 1h }
"#,
    );
    project.pipeline(
        "unknown_column",
        r#"tasks:
  wrong:
    wait_for: { partition: { table: sales.orders, values: { month: "1" } }, timeout: 1m }
"#,
    );
    let server = Server::start(project.path());
    let started = Instant::now();
    let run = run_of(&server, "never");
    assert_eq!(run["state"], "failed", "{run}");
    assert!(started.elapsed() < Duration::from_secs(20));
    let missing = attempt(&server, &run_id(&run), "missing");
    assert_eq!(missing["state"], "timed_out", "{missing}");
    let why = "timed out waiting for object `never/there.csv` after 1s (1 check(s))";
    assert_eq!(missing["error"], why);
    // The task says so too, and a wait's own timeout is not retried.
    assert_eq!(server.task(&run, "missing")["error"], why);
    assert_eq!(server.attempts(&run_id(&run), "missing").len(), 1);

    let created = server.cli(&[
        "sql",
        "CREATE TABLE sales.orders PARTITIONED BY (day) AS SELECT * FROM (VALUES (1, '2024-01-01')) AS v(id, day)",
    ]);
    assert!(created.status.success(), "{}", stderr(&created));
    let run = run_of(&server, "unknown_column");
    let wrong = attempt(&server, &run_id(&run), "wrong");
    assert_eq!(wrong["state"], "failed", "{wrong}");
    assert!(
        wrong["error"]
            .as_str()
            .unwrap()
            .contains("sales.orders has no partition column `month` (its partition columns: day)"),
        "{wrong}"
    );

    // A bad shape never loads: the problem names the key.
    project.pipeline(
        "bad",
        "tasks:\n  w:\n    wait_for: { object: a, timeout: soon }\n",
    );
    let validate = weir(&["validate", project.path().to_str().unwrap()]);
    assert!(!validate.status.success());
    let said = format!("{}{}", stdout(&validate), stderr(&validate));
    assert!(said.contains("timeout must be a duration"), "{said}");
}

/// Files under `dir`, by path relative to it, with their sizes.
fn sizes(dir: &Path) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                out.insert(rel, entry.metadata().unwrap().len());
            }
        }
    }
    out
}

#[test]
fn copy_between_local_roots_and_the_lake_skips_what_is_done() {
    let (project, exchange) = project_with_exchange("");
    for i in 0..20 {
        let dir = exchange.join(format!("in/day={}", i % 3));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("part-{i}.csv")), "x".repeat(1000 + i)).unwrap();
    }
    let root = exchange.display().to_string();
    project.pipeline(
        "shuttle",
        &format!(
            r#"tasks:
  into_lake:
    copy: {{ from: "file://{root}/in/", to: raw/in/, parallel: 4 }}
  out_again:
    depends_on: [into_lake]
    copy: {{ from: raw/in/, to: "file://{root}/out/" }}
"#
        ),
    );
    project.pipeline(
        "escape",
        "tasks:\n  steal:\n    copy: { from: \"file:///etc/\", to: stolen/ }\n",
    );
    let server = Server::start(project.path());
    let run = run_of(&server, "shuttle");
    assert_eq!(run["state"], "success", "{run}");
    let into = &server.task(&run, "into_lake")["output"];
    assert_eq!(
        (into["objects"].as_u64(), into["skipped"].as_u64()),
        (Some(20), Some(0)),
        "{into}"
    );
    let expected = sizes(&exchange.join("in"));
    assert_eq!(sizes(&exchange.join("out")), expected);
    assert_eq!(sizes(&server.data.join("lake/raw/in")), expected);

    // Again: everything is there already.
    let again = run_of(&server, "shuttle");
    let into = &server.task(&again, "into_lake")["output"];
    assert_eq!(
        (into["objects"].as_u64(), into["skipped"].as_u64()),
        (Some(0), Some(20)),
        "{into}"
    );
    let log = log_of(&server, &attempt(&server, &run_id(&again), "into_lake"));
    assert!(
        log.contains(
            "done: 20/20 object(s), 20190 of 20190 byte(s) done (0 copied, 20 already there)"
        ),
        "{log}"
    );

    let refused = run_of(&server, "escape");
    assert_eq!(refused["state"], "failed");
    let error = server.task(&refused, "steal")["error"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        error.starts_with(
            "copy failed: copy.from: file:///etc/ is outside the directories a copy may use"
        ),
        "{error}"
    );
    assert!(!server.data.join("lake/stolen").exists());
}

/// Lists `prefix` in the moto bucket: key → size.
fn bucket_objects(
    endpoint: &str,
    bucket: &str,
    prefix: &str,
) -> std::collections::BTreeMap<String, u64> {
    let output = Command::new("python3")
        .args([
            "-c",
            "import sys, boto3\n\
             s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
                 aws_access_key_id='test', aws_secret_access_key='test')\n\
             pages = s3.get_paginator('list_objects_v2').paginate(Bucket=sys.argv[2], Prefix=sys.argv[3])\n\
             for page in pages:\n\
             \x20   for o in page.get('Contents', []): print(o['Key'], o['Size'])\n",
            endpoint,
            bucket,
            prefix,
        ])
        .output()
        .expect("python3 with boto3");
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
        .lines()
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(k, s)| (k.to_string(), s.parse().unwrap_or(0)))
        .collect()
}

#[test]
fn a_copy_to_s3_killed_midway_resumes_where_it_stopped() {
    let endpoint = std::env::var("WEIR_TEST_S3_ENDPOINT").expect(
        "WEIR_TEST_S3_ENDPOINT is not set: start the S3-compatible test server with \
         `eval \"$(scripts/moto.sh)\"` first",
    );
    let bucket = std::env::var("WEIR_TEST_S3_BUCKET").unwrap_or_else(|_| "weir-test".into());
    let prefix = format!(
        "copy-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let (project, _) = project_with_exchange(&format!(
        "[copy.stores.test]\nurl = \"s3://{bucket}\"\nendpoint = \"{endpoint}\"\nregion = \"us-east-1\"\naccess_key_id = \"test\"\nsecret_access_key = \"test\"\nallow_http = true\n"
    ));
    project.pipeline(
        "backup",
        &format!(
            "tasks:\n  upload:\n    copy: {{ from: big/, to: \"s3://{bucket}/{prefix}/\", parallel: 1 }}\n"
        ),
    );
    let mut server = Server::start(project.path());
    const OBJECTS: usize = 300;
    let big = server.data.join("lake/big");
    std::fs::create_dir_all(&big).unwrap();
    for i in 0..OBJECTS {
        // Different sizes, so a wrong skip would show.
        std::fs::write(
            big.join(format!("part-{i:04}.bin")),
            vec![b'a' + (i % 26) as u8; 256 * 1024 + i],
        )
        .unwrap();
    }
    let (status, body) = server.post("/api/v1/pipelines/backup/runs", "{}");
    assert_eq!(status, 201, "{body}");
    let id = run_id(&serde_json::from_str(&body).unwrap());
    // Kill the server once some objects are in the bucket, well before all are.
    let deadline = Instant::now() + Duration::from_secs(60);
    let before_kill = loop {
        let there = bucket_objects(&endpoint, &bucket, &format!("{prefix}/")).len();
        if there >= 10 {
            break there;
        }
        assert!(
            Instant::now() < deadline,
            "the copy did not start:\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    server.kill9();
    let at_kill = bucket_objects(&endpoint, &bucket, &format!("{prefix}/")).len();
    assert!(
        at_kill < OBJECTS,
        "the copy finished before the kill ({before_kill} then {at_kill} objects): make it longer"
    );
    eprintln!("killed with {at_kill} of {OBJECTS} objects copied");
    server.start_again();
    let run = server.wait_run(&id);
    assert_eq!(run["state"], "success", "{run}\n{}", server.log_text());
    let attempts = server.attempts(&id, "upload");
    assert_eq!(
        attempts.first().map(|a| a["state"].clone()),
        Some(Value::from("lost")),
        "{attempts:?}"
    );
    let output = &server.task(&run, "upload")["output"];
    let (copied, skipped) = (
        output["objects"].as_u64().unwrap(),
        output["skipped"].as_u64().unwrap(),
    );
    assert_eq!(copied + skipped, OBJECTS as u64, "{output}");
    assert_eq!(
        skipped as usize, at_kill,
        "the resumed copy skips exactly what was done: {output}"
    );
    assert!(copied > 0, "{output}");
    let there = bucket_objects(&endpoint, &bucket, &format!("{prefix}/"));
    assert_eq!(there.len(), OBJECTS);
    for i in 0..OBJECTS {
        assert_eq!(
            there.get(&format!("{prefix}/part-{i:04}.bin")),
            Some(&((256 * 1024 + i) as u64))
        );
    }
    let log = log_of(&server, attempts.last().unwrap());
    assert!(
        log.contains(&format!("done: {OBJECTS}/{OBJECTS} object(s)")),
        "{log}"
    );
}

#[test]
fn sql_results_export_as_csv_json_lines_and_parquet() {
    let project = Project::new();
    project.pipeline(
        "export",
        r#"tasks:
  csv:
    sql: { query: "SELECT id, name, amount FROM sales.orders ORDER BY id", export: { prefix: out/csv, format: csv } }
  csv_gz:
    sql: { query: "SELECT id, name FROM sales.orders ORDER BY id", export: { prefix: out/csv_gz, format: csv, compression: gzip } }
  json:
    sql: { query: "SELECT id, name, amount FROM sales.orders ORDER BY id", export: { prefix: out/json, format: json } }
  parquet:
    sql: { query: "SELECT id, name, amount FROM sales.orders", export: { prefix: out/parquet/orders, format: parquet, compression: zstd } }
  broken:
    sql: { query: "SELECT * FROM sales.missing", export: { prefix: out/broken, format: parquet } }
  catalog:
    depends_on: [parquet]
    crawl: { prefix: out/parquet, database: exported }
"#,
    );
    let server = Server::start(project.path());
    let created = server.cli(&[
        "sql",
        "CREATE TABLE sales.orders AS SELECT * FROM (VALUES (1, 'ann', 10.5), (2, 'bo, \"b\"', NULL), (3, 'cy', 7.25)) AS v(id, name, amount)",
    ]);
    assert!(created.status.success(), "{}", stderr(&created));
    let run = run_of(&server, "export");
    for task in ["csv", "csv_gz", "json", "parquet", "catalog"] {
        assert_eq!(server.task(&run, task)["state"], "success", "{run}");
    }
    // A statement that fails writes nothing.
    assert_eq!(server.task(&run, "broken")["state"], "failed", "{run}");
    assert!(!server.data.join("lake/out/broken").exists());
    let lake = server.data.join("lake");

    let csv = &server.task(&run, "csv")["output"];
    assert_eq!(csv["row_count"], 3, "{csv}");
    assert_eq!(csv["objects"][0], "out/csv/part-00000.csv");
    assert_eq!(
        std::fs::read_to_string(lake.join("out/csv/part-00000.csv")).unwrap(),
        "id,name,amount\n1,ann,10.5\n2,\"bo, \"\"b\"\"\",\n3,cy,7.25\n"
    );

    let gz = server.task(&run, "csv_gz")["output"]["objects"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(gz, "out/csv_gz/part-00000.csv.gz");
    let unzipped = Command::new("gzip")
        .arg("-dc")
        .arg(lake.join(&gz))
        .output()
        .unwrap();
    assert!(unzipped.status.success());
    assert_eq!(
        stdout(&unzipped),
        "id,name\n1,ann\n2,\"bo, \"\"b\"\"\"\n3,cy\n"
    );

    let lines: Vec<Value> = std::fs::read_to_string(lake.join("out/json/part-00000.json"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![
            serde_json::json!({"id": 1, "name": "ann", "amount": 10.5}),
            serde_json::json!({"id": 2, "name": "bo, \"b\"", "amount": null}),
            serde_json::json!({"id": 3, "name": "cy", "amount": 7.25}),
        ]
    );

    let parquet = &server.task(&run, "parquet")["output"];
    assert_eq!(parquet["row_count"], 3, "{parquet}");
    let bytes = std::fs::read(lake.join("out/parquet/orders/part-00000.parquet")).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
    let back = server.json(&[
        "sql",
        "SELECT id, name, amount FROM exported.orders ORDER BY id",
    ]);
    let rows = back["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 3, "{back}");
    assert_eq!(rows[1]["name"], "bo, \"b\"", "{back}");
    assert_eq!(rows[2]["amount"], 7.25, "{back}");
}

/// docs/preconditions.md is a shell session: its files are written into a project, a server
/// starts on it, and its console blocks run with the output they show.
#[test]
fn the_preconditions_guide_runs() {
    let (path, text) = crate::doc_sessions::doc("preconditions.md");
    let project = Project::new();
    let blocks = crate::markdown::blocks(&text);
    let exchange = std::fs::canonicalize(project.path())
        .unwrap()
        .join("exchange");
    let exchange = exchange.to_str().unwrap().to_string();
    let (_server, ran) = crate::doc_sessions::run_blocks(&path, &blocks, &project, |dir| {
        Server::start_with(dir, &[("WEIR_COPY_LOCAL_ROOTS", &exchange)])
    });
    assert!(ran >= 5, "docs/preconditions.md shows too few commands");
}
