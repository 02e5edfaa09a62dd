//! kill -9 of the real server while a bookmarked transform runs, at varied points (before it
//! reads, while it writes, right after its commit), then a restart and more runs until one
//! succeeds: every source row is in the sink exactly once and the bookmark names every object.
//! The transform's output, its bookmark and its manifest commit in one store batch, so a run cut
//! short leaves only files no manifest names and its bookmark where it was.
//! Needs the files' reader (`weir_model::transform::parse_transform`).

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

const FILES: usize = 24;
const ROWS_PER_FILE: usize = 5_000;

fn csv(file: usize) -> String {
    let mut text = String::from("id,kind,amount\n");
    for row in 0..ROWS_PER_FILE {
        let id = file * ROWS_PER_FILE + row;
        text.push_str(&format!("{id},k{},{}\n", id % 7, id % 1000));
    }
    text
}

fn put_file(server: &Server, project: &Project, file: usize) {
    crate::lake::put(
        server,
        project,
        &format!("f{file}.csv"),
        &csv(file),
        &format!("landing/events/part-{file:04}.csv"),
    );
}

/// Starts `weir transforms run load` without waiting for it.
fn start_run(server: &Server) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["transforms", "run", "load", "--json"])
        .env("WEIR_SERVER", &server.url)
        .env("WEIR_TOKEN", server.token())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weir transforms run")
}

#[test]
fn a_transform_killed_at_any_point_writes_every_row_exactly_once() {
    let project = Project::new();
    project.write(
        "transforms/load.yaml",
        "source:\n  prefix: landing/events/\nbookmark: true\nsteps:\n  - derive: { bucket: \"id % 4\" }\nsink:\n  table: curated.events\n  partition_by: [bucket]\n",
    );
    let mut server = Server::start(project.path());
    let mut next_file = 0;
    // Kill points: at once (before the run reads), during the write, and later (around or
    // after the commit); new files arrive between rounds.
    for (round, delay_ms) in [0u64, 30, 120, 300, 700, 1500, 60, 2500].iter().enumerate() {
        for _ in 0..3 {
            if next_file < FILES {
                put_file(&server, &project, next_file);
                next_file += 1;
            }
        }
        let mut client = start_run(&server);
        std::thread::sleep(Duration::from_millis(*delay_ms));
        server.kill9();
        let _ = client.wait();
        server.start_again();
        // The table, if it exists, never holds a row twice, whatever round it is.
        let check = server.cli(&[
            "sql",
            "SELECT count(*) AS n, count(DISTINCT id) AS d FROM curated.events",
            "--json",
        ]);
        if check.status.success() {
            let rows: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
            assert_eq!(
                rows["rows"][0]["n"], rows["rows"][0]["d"],
                "round {round}: a row was written twice: {rows}"
            );
        }
    }
    while next_file < FILES {
        put_file(&server, &project, next_file);
        next_file += 1;
    }
    // Runs until one succeeds with nothing left to read.
    let mut finished = false;
    for _ in 0..5 {
        let output = server.cli(&["transforms", "run", "load", "--json"]);
        if output.status.success() {
            let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            if report["rows_in"] == 0 {
                finished = true;
                break;
            }
        }
    }
    assert!(
        finished,
        "the transform never caught up:\n{}",
        server.log_text()
    );
    let total = FILES * ROWS_PER_FILE;
    let counts = server.json(&[
        "sql",
        "SELECT count(*) AS n, count(DISTINCT id) AS d, min(id) AS lo, max(id) AS hi FROM curated.events",
    ]);
    let row = &counts["rows"][0];
    assert_eq!(row["n"], total as u64, "{counts}");
    assert_eq!(row["d"], total as u64, "{counts}");
    assert_eq!(row["lo"], 0, "{counts}");
    assert_eq!(row["hi"], (total - 1) as u64, "{counts}");
    let bookmark = server.json(&["transforms", "bookmark", "show", "load"]);
    assert_eq!(bookmark["objects"], FILES as u64, "{bookmark}");
    assert_eq!(bookmark["state"]["objects"], FILES as u64, "{bookmark}");
}
