//! A run's life beyond the happy path: retry from failure, cancel, mark by hand, backfill,
//! catchup, and definitions edited while the server runs.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

/// a -> b -> c, where b fails until the file `fixed` exists.
const RESUMABLE: &str = r#"
tasks:
  a:
    command: >-
      echo a-ran >> ../journal; echo '{"rows": 7}' > "$WEIR_OUTPUT"
    working_dir: pipelines
  b:
    depends_on: [a]
    command: echo b-ran >> ../journal; test -f ../fixed
    working_dir: pipelines
  c:
    depends_on: [b]
    command: echo "c-ran rows={{ tasks.a.output.rows }}" >> ../journal
    working_dir: pipelines
  side:
    depends_on: [a]
    command: echo side-ran >> ../journal
    working_dir: pipelines
"#;

#[test]
fn retry_reruns_only_what_failed_and_what_depends_on_it() {
    let project = Project::new();
    project.pipeline("resumable", RESUMABLE);
    let server = Server::start(project.path());
    let run = server.trigger_wait("resumable", &[]);
    assert_eq!(run["state"], "failed");
    let id = run["run_id"].as_str().unwrap().to_string();
    let states = task_states(&server.run(&id));
    assert_eq!(
        (
            states["a"].as_str(),
            states["b"].as_str(),
            states["c"].as_str(),
            states["side"].as_str()
        ),
        ("success", "failed", "upstream_failed", "success")
    );

    project.write("fixed", "");
    let retried = server.cli(&["runs", "retry", &id, "--wait"]);
    assert!(
        retried.status.success(),
        "{}{}",
        stdout(&retried),
        stderr(&retried)
    );
    let shown = server.run(&id);
    assert_eq!(shown["state"], "success");
    let journal = project.read("journal");
    assert_eq!(
        journal.matches("a-ran").count(),
        1,
        "a succeeded before and must not run again:\n{journal}"
    );
    assert_eq!(journal.matches("side-ran").count(), 1, "{journal}");
    assert_eq!(journal.matches("b-ran").count(), 2, "{journal}");
    assert!(
        journal.contains("c-ran rows=7"),
        "c used a's output kept from the first attempt:\n{journal}"
    );
    assert_eq!(server.task(&shown, "a")["try_number"], 1);
    assert_eq!(server.task(&shown, "b")["try_number"], 2);

    // The run keeps its first start; the retry is recorded as a resumption.
    assert_eq!(shown["started_at"], run["started_at"], "{shown}\n{run}");
    let events = server.get_json(&format!("/api/v1/runs/{id}/events"))["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        events.iter().any(|e| e["state"] == "running"
            && e["message"].as_str().is_some_and(|m| m.contains("resumed"))),
        "{events:?}"
    );

    let again = server.cli(&["runs", "retry", &id]);
    assert!(!again.status.success(), "nothing left to retry");
    assert!(
        stderr(&again).contains("every task succeeded"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn retry_of_a_mapped_task_reruns_only_its_failed_instances() {
    let project = Project::new();
    project.pipeline(
        "mapped",
        r#"
tasks:
  list:
    command: echo '[1, 2, 3, 4]' > "$WEIR_OUTPUT"
  each:
    depends_on: [list]
    map_over: tasks.list.output
    command: echo "ran {{ item }}" >> ../journal; test "{{ item }}" != 3 || test -f ../fixed
    working_dir: pipelines
"#,
    );
    let server = Server::start(project.path());
    let run = server.trigger_wait("mapped", &[]);
    assert_eq!(run["state"], "failed");
    let id = run["run_id"].as_str().unwrap();
    project.write("fixed", "");
    assert!(
        server
            .cli(&["runs", "retry", id, "--wait"])
            .status
            .success()
    );
    let journal = project.read("journal");
    for item in [1, 2, 4] {
        assert_eq!(
            journal.matches(&format!("ran {item}")).count(),
            1,
            "instance {item} succeeded and is not rerun:\n{journal}"
        );
    }
    assert_eq!(journal.matches("ran 3").count(), 2, "{journal}");
}

#[test]
fn cancel_stops_a_running_run_and_mark_settles_tasks() {
    let project = Project::new();
    project.pipeline(
        "long",
        r#"
tasks:
  sleepy:
    command: sleep 60
  after:
    depends_on: [sleepy]
    noop: true
"#,
    );
    let server = Server::start(project.path());
    let run = server.json(&["pipelines", "trigger", "long"]);
    let id = run["run_id"].as_str().unwrap().to_string();
    assert!(eventually(Duration::from_secs(10), || server
        .task(&server.run(&id), "sleepy")["state"]
        == "running"));
    let cancelled = server.json(&["runs", "cancel", &id]);
    assert_eq!(cancelled["state"], "cancelled");
    let shown = server.run(&id);
    assert_eq!(task_states(&shown)["sleepy"], "cancelled");
    assert_eq!(task_states(&shown)["after"], "cancelled");
    let marker = format!(
        "WEIR_INSTANCE={}",
        server.data.canonicalize().unwrap().display()
    );
    assert!(
        eventually(Duration::from_secs(10), || {
            !crate::execution::processes_with(&marker)
        }),
        "the sleep was killed"
    );
    let attempts = server.attempts(&id, "sleepy");
    assert!(
        eventually(Duration::from_secs(10), || server.attempts(&id, "sleepy")
            [0]["state"]
            == "cancelled"),
        "{attempts:?}"
    );

    // Mark the cancelled task success by hand, then retry: only `after` runs.
    let marked = server.json(&["runs", "mark", &id, "sleepy", "success"]);
    assert_eq!(marked["state"], "success");
    assert!(
        server
            .cli(&["runs", "retry", &id, "--wait"])
            .status
            .success()
    );
    let shown = server.run(&id);
    assert_eq!(shown["state"], "success");
    assert_eq!(
        server.task(&shown, "sleepy")["try_number"],
        1,
        "sleepy was not run again"
    );
    let bad = server.cli(&["runs", "mark", &id, "nope", "success"]);
    assert!(
        !bad.status.success() && stderr(&bad).contains("no task `nope`"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn marking_a_pending_task_lets_the_run_continue() {
    let project = Project::new();
    project.pipeline(
        "gate",
        r#"
tasks:
  wait_for_human:
    command: sleep 60
  go:
    depends_on: [wait_for_human]
    noop: true
"#,
    );
    let server = Server::start(project.path());
    let id = server.json(&["pipelines", "trigger", "gate"])["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(eventually(Duration::from_secs(10), || server
        .task(&server.run(&id), "wait_for_human")["state"]
        == "running"));
    server.json(&["runs", "mark", &id, "wait_for_human", "success"]);
    let done = server.wait_run(&id);
    assert_eq!(done["state"], "success");
    assert_eq!(task_states(&done)["go"], "success");
}

#[test]
fn backfill_creates_one_run_per_interval_within_max_active_runs() {
    let project = Project::new();
    project.pipeline(
        "daily",
        r#"
schedule: "0 2 * * *"
timezone: Europe/Paris
start_date: 2030-01-01
max_active_runs: 2
tasks:
  work:
    command: echo "start {{ ds }} $(date +%s%N)" >> ../journal; sleep 0.2; echo "end {{ ds }} $(date +%s%N)" >> ../journal
    working_dir: pipelines
"#,
    );
    let server = Server::start(project.path());
    let output = server.cli(&[
        "pipelines",
        "backfill",
        "daily",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-05",
        "--wait",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let body: Value = serde_json::from_slice(&output.stdout).unwrap();
    let runs = body["runs"].as_array().unwrap();
    assert_eq!(
        runs.len(),
        4,
        "intervals starting 03-01 02:00 .. 03-04 02:00 Paris time lie within [03-01, 03-05 00:00]: {body}"
    );
    assert!(runs.iter().all(|r| r["state"] == "success"));
    let journal = project.read("journal");
    for day in ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"] {
        assert!(
            journal.contains(&format!("start {day}")),
            "ds is the interval's local date:\n{journal}"
        );
    }
    let mut events: Vec<(u128, i32)> = journal
        .lines()
        .map(|l| {
            let parts: Vec<&str> = l.split(' ').collect();
            (
                parts[2].parse().unwrap(),
                if parts[0] == "start" { 1 } else { -1 },
            )
        })
        .collect();
    events.sort();
    let (mut depth, mut max_depth) = (0, 0);
    for (_, d) in events {
        depth += d;
        max_depth = max_depth.max(depth);
    }
    assert!(
        max_depth <= 2,
        "max_active_runs: 2 was exceeded:\n{journal}"
    );
    assert!(
        max_depth == 2,
        "backfill runs ran two at a time:\n{journal}"
    );
    let again = server.json(&[
        "pipelines",
        "backfill",
        "daily",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-05",
    ]);
    assert_eq!(
        again["runs"].as_array().unwrap().len(),
        0,
        "intervals that have a run are skipped"
    );
    assert_eq!(again["skipped"], 4);
}

#[test]
fn catchup_runs_every_missed_interval_or_only_the_latest() {
    let project = Project::new();
    let start = (chrono::Utc::now() - chrono::Duration::days(3))
        .format("%Y-%m-%d")
        .to_string();
    project.pipeline("caught_up", &format!("schedule: \"@daily\"\nstart_date: {start}\ncatchup: true\ntasks:\n  a: {{ noop: true }}\n"));
    project.pipeline("latest_only", &format!("schedule: \"@daily\"\nstart_date: {start}\ncatchup: false\ntasks:\n  a: {{ noop: true }}\n"));
    project.pipeline(
        "paused_later",
        "schedule: \"@daily\"\ntasks:\n  a: { noop: true }\n",
    );
    let server = Server::start(project.path());
    let runs = |p: &str| {
        server.json(&["pipelines", "runs", p])["runs"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        eventually(Duration::from_secs(10), || runs("caught_up").len() == 3),
        "3 intervals ended since the start date: {:?}",
        runs("caught_up")
    );
    let latest = runs("latest_only");
    assert_eq!(latest.len(), 1, "{latest:?}");
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        latest[0]["logical_date"]
            .as_str()
            .unwrap()
            .starts_with(&yesterday),
        "{latest:?}"
    );
    assert_eq!(
        runs("paused_later").len(),
        0,
        "without a start date the schedule starts now"
    );
    let list = server.json(&["pipelines", "list"]);
    assert!(
        list["pipelines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["next_run_at"].is_string())
    );
    server.json(&["pipelines", "pause", "caught_up"]);
    assert_eq!(
        server.json(&["pipelines", "show", "caught_up"])["paused"],
        true
    );
}

#[test]
fn edits_are_picked_up_without_restart_and_runs_keep_their_version() {
    let project = Project::new();
    let path = project.pipeline(
        "live",
        "tasks:\n  a:\n    command: sleep 1.5; echo version-one\n",
    );
    let server = Server::start(project.path());
    let first = server.json(&["pipelines", "trigger", "live"]);
    let first_id = first["run_id"].as_str().unwrap().to_string();
    let old_version = first["version"].as_str().unwrap().to_string();
    std::fs::write(&path, "tasks:\n  a:\n    command: echo version-two\n").unwrap();
    assert!(
        eventually(Duration::from_secs(10), || server.json(&[
            "pipelines",
            "show",
            "live"
        ])["version"]
            != old_version.as_str()),
        "the edit was picked up"
    );
    let second = server.trigger_wait("live", &[]);
    assert_eq!(second["state"], "success");
    assert!(
        stdout(&server.cli(&["runs", "logs", second["run_id"].as_str().unwrap()]))
            .contains("version-two")
    );
    let first_done = server.wait_run(&first_id);
    assert_eq!(
        first_done["version"],
        old_version.as_str(),
        "a run keeps the version it started with"
    );
    assert!(stdout(&server.cli(&["runs", "logs", &first_id])).contains("version-one"));

    // An invalid edit is reported and the last good version stays in force.
    let good_version = server.json(&["pipelines", "show", "live"])["version"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(&path, "tasks:\n  a:\n    comand: echo broken\n").unwrap();
    assert!(eventually(Duration::from_secs(10), || !server
        .json(&["pipelines", "list"])["problems"]
        .as_array()
        .unwrap()
        .is_empty()));
    let problems = server.json(&["pipelines", "list"])["problems"].clone();
    assert_eq!(problems[0]["file"], "pipelines/live.yaml", "{problems}");
    assert_eq!(problems[0]["line"], 3, "{problems}");
    assert_eq!(
        server.json(&["pipelines", "show", "live"])["version"],
        good_version.as_str()
    );
    assert_eq!(
        server.trigger_wait("live", &[])["state"],
        "success",
        "the last good version still runs"
    );
    // … and a trigger says so, on the CLI and in the API's answer.
    let stale = server.cli(&["pipelines", "trigger", "live"]);
    assert!(stale.status.success(), "{}", stderr(&stale));
    assert!(
        stderr(&stale).contains(
            "warning: pipelines/live.yaml is invalid now; this run uses the last good version"
        ),
        "{}",
        stderr(&stale)
    );
    assert!(
        stderr(&stale).contains("pipelines/live.yaml:3:"),
        "{}",
        stderr(&stale)
    );
    let (status, body) = server.post("/api/v1/pipelines/live/runs", "{}");
    assert_eq!(status, 201, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        answer["warnings"][0]
            .as_str()
            .unwrap_or_default()
            .contains("invalid now"),
        "{answer}"
    );
    let reload = server.cli(&["pipelines", "reload"]);
    assert!(
        !reload.status.success() && stdout(&reload).contains("pipelines/live.yaml:3:"),
        "{}",
        stdout(&reload)
    );
}
