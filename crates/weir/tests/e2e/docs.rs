//! `docs/pipelines.md` is executable. Its example project (every fenced block with a `file=PATH`
//! info string) is written to a fresh project, validated and run; the results it documents in
//! `expect=WHAT` blocks are checked; and every `weir …` command line in its `sh` blocks parses.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::markdown::*;
use crate::support::*;

fn doc_path() -> PathBuf {
    manifest_dir().join("../../docs/pipelines.md")
}

fn doc_text() -> String {
    std::fs::read_to_string(doc_path())
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", doc_path().display()))
}

#[test]
fn shell_words_follow_sh_quoting() {
    assert_eq!(
        shell_words(r#"weir pipelines trigger x --param regions='["eu","mars"]' --wait # note"#),
        vec![
            "weir",
            "pipelines",
            "trigger",
            "x",
            "--param",
            r#"regions=["eu","mars"]"#,
            "--wait"
        ]
    );
    assert_eq!(
        shell_words(r#"a "b \"c\"" d\ e && f"#),
        vec!["a", r#"b "c""#, "d e"]
    );
}

#[test]
fn the_documented_example_runs_as_described() {
    let doc = doc_text();
    let all = blocks(&doc);
    // Blocks of a `session=NAME` belong to a smaller example of their own (tested below).
    let files: Vec<&Block> = all
        .iter()
        .filter(|b| b.attribute("file").is_some() && b.attribute("session").is_none())
        .collect();
    assert!(
        all.iter()
            .any(|b| b.info == "yaml file=pipelines/daily_sales.yaml"),
        "the docs must hold the example pipeline in a ```yaml file=pipelines/daily_sales.yaml block"
    );
    let pipelines = files
        .iter()
        .filter(|b| b.attribute("file").unwrap().starts_with("pipelines/"))
        .count();
    assert_eq!(pipelines, 1, "the docs hold one complete example pipeline");

    let project = Project::new();
    let mut written = BTreeSet::new();
    for block in &files {
        let path = block.attribute("file").unwrap();
        assert!(
            written.insert(path.to_string()),
            "docs line {}: {path} is written twice",
            block.line
        );
        let full = project.write(path, &block.text);
        if path.starts_with("scripts/") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&full, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    let dir = project.path().to_str().unwrap().to_string();
    let validate = weir(&["validate", &dir]);
    assert!(
        validate.status.success(),
        "the documented example must validate:\n{}{}",
        stdout(&validate),
        stderr(&validate)
    );
    let report: Value =
        serde_json::from_slice(&weir(&["validate", &dir, "--json"]).stdout).unwrap();
    assert_eq!(
        report,
        serde_json::json!({"pipelines": 1, "functions": 0, "transforms": 0, "flows": 0, "problems": []})
    );

    let server = Server::start(project.path());

    // catchup: false with a start date in the past: one scheduled run at start-up, for the
    // latest interval that has ended, and none for the days before it.
    let now = chrono::Utc::now();
    if now > instant(&Value::from("2026-01-03T00:00:00Z")) {
        assert!(
            eventually(Duration::from_secs(10), || !scheduled_runs(&server)
                .is_empty()),
            "no scheduled run was created at start-up"
        );
        for run in scheduled_runs(&server) {
            let start = instant(&run["data_interval_start"]);
            let end = instant(&run["data_interval_end"]);
            assert!(
                end <= chrono::Utc::now(),
                "a run is created once its interval ends: {run}"
            );
            assert!(
                end > now - chrono::Duration::hours(25),
                "catchup: false runs only the latest interval: {run}"
            );
            let hours = (end - start).num_hours();
            assert!((23..=25).contains(&hours), "a daily interval: {run}");
        }
    }

    // The documented run: succeeds, and produces what the docs say.
    let run = server.trigger_wait("daily_sales", &["--logical-date", "2026-01-15"]);
    assert_eq!(run["state"], "success", "{run}\n{}", server.log_text());
    let id = run["run_id"].as_str().unwrap().to_string();
    let shown = server.run(&id);
    let states = task_states(&shown);
    for task in ["extract", "transform", "report", "cleanup"] {
        assert_eq!(states[task], "success", "{task}: {states:?}");
    }

    let mut expectations = 0;
    for block in all.iter().filter(|b| b.attribute("expect").is_some()) {
        let what = block.attribute("expect").unwrap();
        let documented: Value = serde_json::from_str(&block.text).unwrap_or_else(|e| {
            panic!(
                "docs line {}: the expected {what} is not JSON: {e}",
                block.line
            )
        });
        let actual: Value = match what
            .strip_prefix("tasks.")
            .and_then(|rest| rest.strip_suffix(".output"))
        {
            Some(task) => server.task(&shown, task)["output"].clone(),
            None => serde_json::from_str(&project.read(what))
                .unwrap_or_else(|e| panic!("{what} is not the documented JSON: {e}")),
        };
        assert_eq!(actual, documented, "docs line {}: {what}", block.line);
        expectations += 1;
    }
    assert!(
        expectations >= 3,
        "the docs state what the example produces"
    );

    // extract fails its first attempt on purpose and succeeds on retry.
    let attempts = server.attempts(&id, "extract");
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0]["state"], "failed");
    assert_eq!(attempts[1]["state"], "success");
    let first = stdout(&server.cli(&["runs", "logs", &id, "extract", "--try", "1"]));
    assert!(
        first.contains("export for 2026-01-15 is not ready yet"),
        "{first}"
    );
    let gap = attempts[1]["started_at_us"].as_i64().unwrap()
        - attempts[0]["ended_at_us"].as_i64().unwrap();
    assert!(gap >= 900_000, "retry_delay: 1s was waited: {gap} µs");

    // transform: one instance per file, at most two at once (pool sales_db = 2).
    let instances: Vec<&Value> = shown["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["task_id"] == "transform" && t["map_index"].as_i64() >= Some(0))
        .collect();
    let items: Vec<&Value> = instances.iter().map(|t| &t["item"]).collect();
    assert_eq!(
        items,
        vec![
            "data/2026-01-15/eu.csv",
            "data/2026-01-15/us.csv",
            "data/2026-01-15/apac.csv"
        ],
        "map_over tasks.extract.output.files"
    );
    let mut edges: Vec<(i64, i32)> = server
        .attempts(&id, "transform")
        .iter()
        .flat_map(|a| {
            [
                (a["started_at_us"].as_i64().unwrap(), 1),
                (a["ended_at_us"].as_i64().unwrap(), -1),
            ]
        })
        .collect();
    edges.sort_by_key(|(at, delta)| (*at, *delta));
    let (mut running, mut most) = (0, 0);
    for (_, delta) in edges {
        running += delta;
        most = most.max(running);
    }
    assert!(
        most <= 2,
        "pool sales_db has 2 slots, {most} transforms ran at once"
    );

    // cleanup removed the day's staging files; the report stays.
    assert!(!project.path().join("data/2026-01-15").exists());
    assert!(project.path().join("reports/2026-01-15.json").exists());

    // The documented failure: an unknown region.
    let output = server.cli(&[
        "pipelines",
        "trigger",
        "daily_sales",
        "--param",
        r#"regions=["eu","mars"]"#,
        "--logical-date",
        "2026-01-16",
        "--wait",
        "--json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "trigger --wait exits 1 on failure"
    );
    let failed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(failed["state"], "failed", "{failed}");
    let failed_id = failed["run_id"].as_str().unwrap().to_string();
    let shown = server.run(&failed_id);
    let states = task_states(&shown);
    assert_eq!(states["extract"], "failed");
    assert_eq!(states["transform"], "upstream_failed");
    assert_eq!(states["report"], "upstream_failed");
    assert_eq!(states["cleanup"], "success", "all_done runs anyway");
    assert_eq!(
        server.task(&shown, "extract")["try_number"],
        3,
        "1 + retries: 2"
    );
    assert!(!project.path().join("data/2026-01-16").exists());

    // on_failure wrote the line the docs show (with this run's id).
    let documented = doc
        .lines()
        .find(|l| l.starts_with("daily_sales 2026-01-16: extract failed (run "))
        .expect("the docs show the alert line");
    let documented_id = documented
        .split("(run ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap();
    let expected = documented.replace(documented_id, &failed_id);
    assert!(
        eventually(Duration::from_secs(15), || project
            .read("alerts.log")
            .lines()
            .any(|l| l == expected)),
        "alerts.log should hold:\n{expected}\nbut holds:\n{}",
        project.read("alerts.log")
    );
}

/// "Values in shell lines": a param that would break out of its quotes is text.
#[test]
fn the_shell_quoting_example_runs_as_described() {
    let session: Vec<Block> = blocks(&doc_text())
        .into_iter()
        .filter(|b| b.attribute("session") == Some("quoting"))
        .collect();
    assert!(session.len() >= 2, "the quoting example and its session");
    let project = Project::new();
    let (_server, ran) =
        crate::doc_sessions::run_blocks(&doc_path(), &session, &project, Server::start);
    assert_eq!(ran, 4, "the session's commands ran");
}

#[test]
fn every_complete_pipeline_snippet_in_the_docs_validates() {
    let doc = doc_text();
    let project = Project::new();
    // The pools the snippets name.
    project.write("weir.toml", "[pools]\nwarehouse = 4\nsales_db = 2\n");
    let mut snippets = Vec::new();
    for block in blocks(&doc) {
        let complete = block.text.lines().any(|l| l.starts_with("tasks:"));
        if block.language() != "yaml" || block.attribute("file").is_some() || !complete {
            continue;
        }
        let name = format!("snippet_line_{}", block.line);
        project.pipeline(&name, &block.text);
        snippets.push(name);
    }
    assert!(
        snippets.len() >= 6,
        "only {} complete snippets found",
        snippets.len()
    );
    let output = weir(&["validate", project.path().to_str().unwrap()]);
    assert!(
        output.status.success(),
        "pipeline snippets of docs/pipelines.md (named by the line their block starts on) do not validate:\n{}{}",
        stdout(&output),
        stderr(&output)
    );
}

fn scheduled_runs(server: &Server) -> Vec<Value> {
    server.json(&["pipelines", "runs", "daily_sales"])["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["run_type"] == "scheduled")
        .cloned()
        .collect()
}

fn instant(value: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc)
}

#[test]
fn every_weir_command_in_the_docs_parses() {
    let doc = doc_text();
    let mut checked = 0;
    let mut shown = BTreeSet::new();
    for block in blocks(&doc)
        .iter()
        .filter(|b| b.language() == "sh" && b.attribute("file").is_none())
    {
        let text = block.text.replace("\\\n", " ");
        for line in text.lines() {
            let line = line.trim().trim_start_matches("$ ");
            if !line.starts_with("weir ") {
                continue;
            }
            let words = shell_words(line);
            let mut args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
            args.push("--help");
            let output = weir(&args);
            assert!(
                output.status.success(),
                "docs line {}: `{line}` does not parse:\n{}",
                block.line,
                stderr(&output)
            );
            // The help shown is the one of the command the line names, not of a parent.
            let help = stdout(&output);
            let usage: Vec<&str> = help
                .lines()
                .find_map(|l| l.strip_prefix("Usage: "))
                .unwrap_or_default()
                .split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect();
            assert!(
                usage.len() >= 2
                    && words
                        .iter()
                        .map(String::as_str)
                        .take(usage.len())
                        .eq(usage.iter().copied()),
                "docs line {}: `{line}` shows the help of `{}`",
                block.line,
                usage.join(" ")
            );
            if matches!(usage[1], "pipelines" | "runs") {
                assert_eq!(
                    usage.len(),
                    3,
                    "docs line {}: `{line}` names no subcommand",
                    block.line
                );
            }
            shown.insert(usage[1..].join(" "));
            checked += 1;
        }
    }
    assert!(
        checked >= 15,
        "only {checked} commands found in the docs' sh blocks"
    );

    // Every pipeline and run command is shown in an example.
    for (group, subs) in [
        (
            "pipelines",
            &[
                "list", "show", "trigger", "backfill", "runs", "pause", "unpause", "reload",
            ][..],
        ),
        (
            "runs",
            &["list", "show", "logs", "retry", "cancel", "mark", "wait"][..],
        ),
    ] {
        for sub in subs {
            let command = format!("{group} {sub}");
            assert!(
                shown.contains(&command),
                "no sh example in the docs shows `weir {command}`"
            );
        }
    }
}
