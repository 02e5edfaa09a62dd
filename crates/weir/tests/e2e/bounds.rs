//! Bounded resources through the real binary: SQL results streamed whole (CSV, JSON lines,
//! Arrow) with cut results saying so, SQL memory and time limits that fail one statement and
//! leave the server serving, and logs read by range and followed while they are written.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

const ROWS: usize = 85_020;

fn table_of(server: &Server, rows: usize) {
    let made = server.cli(&[
        "sql",
        &format!(
            "CREATE TABLE t.big AS SELECT value AS id, 'r' || (value % 7) AS name \
             FROM generate_series(1, {rows})"
        ),
    ]);
    assert!(made.status.success(), "{}", stderr(&made));
}

#[test]
fn sql_exports_are_complete_and_cut_results_say_so() {
    let project = Project::new();
    let server = Server::start(project.path());
    table_of(&server, ROWS);
    let query = "SELECT id, name FROM t.big ORDER BY id";

    // Exports hold every row unless asked otherwise, and say nothing.
    let csv = server.cli(&["sql", query, "--format", "csv"]);
    assert!(csv.status.success(), "{}", stderr(&csv));
    let text = stdout(&csv);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), ROWS + 1, "header and every row");
    assert_eq!(lines[0], "id,name");
    assert_eq!(lines[1], "1,r1");
    assert_eq!(lines[ROWS], format!("{ROWS},r{}", ROWS % 7));
    assert!(!stderr(&csv).contains("cut"), "{}", stderr(&csv));

    let jsonl = server.cli(&["sql", query, "--format", "jsonl"]);
    assert!(jsonl.status.success(), "{}", stderr(&jsonl));
    let rows: Vec<Value> = stdout(&jsonl)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(rows.len(), ROWS);
    assert_eq!(rows[41]["id"], 42);
    assert_eq!(rows[41]["name"], "r0");

    let arrow = server.cli(&["sql", query, "--format", "arrow"]);
    assert!(arrow.status.success(), "{}", stderr(&arrow));
    let bytes = &arrow.stdout;
    // The IPC stream: messages start with the continuation marker; the stream ends with a
    // zero-length one.
    assert_eq!(&bytes[..4], &[0xff; 4], "an Arrow IPC stream");
    assert_eq!(
        &bytes[bytes.len() - 8..],
        &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]
    );
    assert!(bytes.len() > ROWS * 8, "{} bytes", bytes.len());

    // A limit asked for cuts the export, and the cut is said on stderr.
    let cut = server.cli(&["sql", query, "--format", "csv", "--max-rows", "10"]);
    assert!(cut.status.success(), "{}", stderr(&cut));
    assert_eq!(stdout(&cut).lines().count(), 11);
    assert!(stderr(&cut).contains("cut at 10 rows"), "{}", stderr(&cut));
    // A limit the result fits in is no cut.
    let fits = server.cli(&[
        "sql",
        "SELECT 1 AS one",
        "--format",
        "csv",
        "--max-rows",
        "1",
    ]);
    assert_eq!(stdout(&fits), "one\n1\n");
    assert!(!stderr(&fits).contains("cut"), "{}", stderr(&fits));

    // The interactive formats keep their default of 10,000 rows and say when they cut.
    let shown = server.cli(&["sql", query]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert!(
        stderr(&shown).contains(&format!("showing 10000 of {ROWS} rows")),
        "{}",
        stderr(&shown)
    );
    // --max-rows 0 is every row.
    let all = server.json(&["sql", query, "--max-rows", "0"]);
    assert_eq!(all["rows"].as_array().map(Vec::len), Some(ROWS));
    assert_eq!(all["truncated"], false);

    // An empty result is a header line.
    let empty = server.cli(&[
        "sql",
        "SELECT id FROM t.big WHERE id < 0",
        "--format",
        "csv",
    ]);
    assert_eq!(stdout(&empty), "id\n");
}

#[test]
fn sql_limits_fail_one_statement_and_the_server_lives_on() {
    let project = Project::new();
    project.write(
        "weir.toml",
        "[sql]\nmemory_limit = \"1MiB\"\ntimeout = \"2s\"\n",
    );
    let server = Server::start(project.path());
    let join = "SELECT count(*) AS n FROM generate_series(1, 2000000) a \
                JOIN generate_series(1, 2000000) b ON a.value = b.value";
    for format in ["table", "csv"] {
        let over = server.cli(&["sql", join, "--format", format]);
        assert!(!over.status.success(), "{format}");
        assert!(
            stderr(&over).contains("memory limit of 1 MiB")
                && stderr(&over).contains("memory_limit"),
            "{format}: {}",
            stderr(&over)
        );
    }
    let started = Instant::now();
    let slow = server.cli(&[
        "sql",
        "SELECT count(*) FROM generate_series(1, 100000000000)",
    ]);
    assert!(!slow.status.success());
    assert!(
        stderr(&slow).contains("time limit of 2s"),
        "{}",
        stderr(&slow)
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    // A result stopped at its time limit midway breaks off, and the CLI says so.
    let endless = server.cli(&[
        "sql",
        "SELECT value FROM generate_series(1, 100000000000)",
        "--format",
        "csv",
    ]);
    assert!(!endless.status.success());
    assert!(
        stderr(&endless).contains("broke off"),
        "{}",
        stderr(&endless)
    );
    assert!(
        server.log_text().contains("time limit of 2s"),
        "the server's log says why"
    );
    let one = server.json(&["sql", "SELECT 1 AS one"]);
    assert_eq!(one["rows"][0]["one"], 1, "the server lives on");
}

#[test]
fn logs_are_read_by_range_and_followed() {
    let project = Project::new();
    project.pipeline(
        "talk",
        "tasks:\n  talk:\n    command: sh -c 'for i in 1 2 3 4 5 6; do echo line $i; sleep 0.3; done'\n",
    );
    let server = Server::start(project.path());
    let run = server.json(&["pipelines", "trigger", "talk"]);
    let run_id = run["run_id"].as_str().expect("run id").to_string();

    let started = Instant::now();
    let followed = server.cli(&["runs", "logs", &run_id, "talk", "--follow"]);
    assert!(followed.status.success(), "{}", stderr(&followed));
    let text = stdout(&followed);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("line ")).collect();
    assert_eq!(
        lines,
        ["line 1", "line 2", "line 3", "line 4", "line 5", "line 6"],
        "{text}"
    );
    assert!(
        stderr(&followed).contains("ended: success"),
        "{}",
        stderr(&followed)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "it followed the attempt to its end"
    );

    // A range of the log, with the offsets to read on from.
    let whole = server.get_json(&format!("/api/v1/runs/{run_id}/logs?task=talk"));
    let log = whole["logs"][0]["log"].as_str().expect("log").to_string();
    let at = log.find("line 2").expect("line 2");
    let range = server.get_json(&format!(
        "/api/v1/runs/{run_id}/logs?task=talk&offset={at}&length=6"
    ));
    let entry = &range["logs"][0];
    assert_eq!(entry["log"], "line 2");
    assert_eq!(entry["offset"], at);
    assert_eq!(entry["next_offset"], at + 6);
    assert_eq!(entry["size"], log.len());

    // Without --follow, the log is printed whole, a range at a time.
    let printed = server.cli(&["runs", "logs", &run_id, "talk"]);
    assert!(stdout(&printed).contains("line 6"), "{}", stdout(&printed));
    let missing = server.cli(&["runs", "logs", &run_id, "nosuch", "--follow"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("no task"), "{}", stderr(&missing));
}
