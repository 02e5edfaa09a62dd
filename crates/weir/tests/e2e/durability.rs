//! Durability: kill -9 of the real server at varied points, then restart. Nothing acknowledged is
//! lost, every run finishes, every process a task started was recorded first, no task runs twice
//! at the same time, and intervals that came due while the server was down follow catchup.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

/// A task body that journals its start and end with its try number and detects an overlapping
/// attempt of the same task through a lock (`flock` fails while another attempt holds it).
fn journaled(task: &str, sleep: &str) -> String {
    format!(
        "  {task}:\n    retries: 8\n    retry_delay: 100ms\n    working_dir: pipelines\n    command: >-\n      flock -n ../$WEIR_RUN_ID-{task}.lock -c 'echo \"start $WEIR_RUN_ID {task} $WEIR_TRY_NUMBER\" >> ../journal; sleep {sleep}; echo \"end $WEIR_RUN_ID {task} $WEIR_TRY_NUMBER\" >> ../journal'\n      || echo \"OVERLAP $WEIR_RUN_ID {task} $WEIR_TRY_NUMBER\" >> ../journal\n"
    )
}

fn chain(tasks: usize, sleep: &str) -> String {
    let mut yaml = String::from("tasks:\n");
    for i in 0..tasks {
        yaml.push_str(&journaled(&format!("t{i}"), sleep));
        if i > 0 {
            yaml.push_str(&format!("    depends_on: [t{}]\n", i - 1));
        }
    }
    yaml
}

/// Checks the journal against the store: no overlap, and every (task, try) that started is an
/// attempt the store recorded before it ran.
fn check_journal(server: &Server, project: &Project, run_id: &str) {
    let journal = project.read("journal");
    assert!(
        !journal.contains("OVERLAP"),
        "two attempts of a task ran at the same time:\n{journal}"
    );
    let attempts = server.get_json(&format!("/api/v1/runs/{run_id}/attempts"))["attempts"]
        .as_array()
        .cloned()
        .unwrap();
    let recorded: BTreeSet<(String, i64)> = attempts
        .iter()
        .map(|a| {
            (
                a["task_id"].as_str().unwrap().to_string(),
                a["try_number"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut successes: BTreeMap<String, usize> = BTreeMap::new();
    for a in &attempts {
        if a["state"] == "success" {
            *successes
                .entry(a["task_id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        assert_ne!(a["state"], "running", "an attempt was left open: {a}");
    }
    assert!(
        successes.values().all(|n| *n == 1),
        "a task succeeded twice: {successes:?}"
    );
    for line in journal.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts[0] == "start" && parts[1] == run_id {
            let key = (parts[2].to_string(), parts[3].parse::<i64>().unwrap());
            assert!(
                recorded.contains(&key),
                "{key:?} ran without a recorded attempt:\n{journal}\n{attempts:?}"
            );
        }
    }
}

#[test]
fn a_task_whose_process_died_with_the_server_is_retried_and_never_overlaps() {
    let project = Project::new();
    project.pipeline("long", &format!("tasks:\n{}", journaled("work", "2")));
    let mut server = Server::start(project.path());
    let run_id = server.json(&["pipelines", "trigger", "long"])["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(eventually(Duration::from_secs(10), || project
        .read("journal")
        .contains(&format!("start {run_id} work 1"))));
    server.kill9();
    server.restart();
    let done = server.wait_run(&run_id);
    assert_eq!(done["state"], "success", "{done}");
    let attempts = server.attempts(&run_id, "work");
    assert_eq!(attempts[0]["state"], "lost", "{attempts:?}");
    assert_eq!(attempts.last().unwrap()["state"], "success");
    check_journal(&server, &project, &run_id);
    assert!(
        !project
            .read("journal")
            .contains(&format!("end {run_id} work 1")),
        "the orphaned attempt was killed, not left to finish"
    );
}

#[test]
fn kill_at_varied_points_of_a_chain_and_every_run_finishes() {
    let project = Project::new();
    project.pipeline("chain", &chain(12, "0.05"));
    let mut server = Server::start(project.path());
    let mut runs = Vec::new();
    // Several runs, kills at different moments: right after triggering, mid-chain, between tasks.
    for (round, delay_ms) in [0u64, 130, 370, 45, 610, 220].into_iter().enumerate() {
        let run = server.json(&["pipelines", "trigger", "chain"]);
        runs.push(run["run_id"].as_str().unwrap().to_string());
        std::thread::sleep(Duration::from_millis(delay_ms + 20 * round as u64));
        server.kill9();
        server.restart();
    }
    for run_id in &runs {
        let done = server.wait_run(run_id);
        assert_eq!(
            done["state"], "success",
            "run {run_id} did not finish well: {done}"
        );
        assert!(task_states(&done).values().all(|s| s == "success"));
    }
    for run_id in &runs {
        check_journal(&server, &project, run_id);
        let attempts = server.get_json(&format!("/api/v1/runs/{run_id}/attempts"))["attempts"]
            .as_array()
            .cloned()
            .unwrap();
        let successes = attempts.iter().filter(|a| a["state"] == "success").count();
        assert_eq!(
            successes, 12,
            "each task succeeded exactly once in {run_id}"
        );
    }
}

#[test]
fn an_acknowledged_trigger_survives_an_immediate_kill() {
    let project = Project::new();
    // A task running when the server dies is retried per its policy, so give it one.
    project.pipeline("quick", "tasks:\n  a: { noop: true, retries: 2, retry_delay: 10ms }\n  b: { noop: true, depends_on: [a], retries: 2, retry_delay: 10ms }\n");
    let mut server = Server::start(project.path());
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            server.json(&["pipelines", "trigger", "quick"])["run_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    server.kill9();
    server.restart();
    for id in ids {
        assert_eq!(
            server.wait_run(&id)["state"],
            "success",
            "acknowledged run {id} was lost"
        );
    }
}

#[test]
fn a_retry_delay_survives_a_restart() {
    let project = Project::new();
    project.pipeline(
        "later",
        "tasks:\n  a:\n    command: echo \"try $WEIR_TRY_NUMBER $(date +%s%N)\" >> ../journal; test \"$WEIR_TRY_NUMBER\" -ge 2\n    working_dir: pipelines\n    retries: 1\n    retry_delay: 3s\n",
    );
    let mut server = Server::start(project.path());
    let run_id = server.json(&["pipelines", "trigger", "later"])["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(eventually(Duration::from_secs(10), || server
        .task(&server.run(&run_id), "a")["state"]
        == "up_for_retry"));
    server.kill9();
    server.restart();
    let done = server.wait_run(&run_id);
    assert_eq!(done["state"], "success");
    let journal = project.read("journal");
    let times: Vec<u128> = journal
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(times.len(), 2, "{journal}");
    let waited_ms = (times[1] - times[0]) / 1_000_000;
    assert!(
        waited_ms >= 2900,
        "the retry waited its delay across the restart: {waited_ms} ms"
    );
}

fn logical_dates(server: &Server, pipeline: &str) -> Vec<i64> {
    let runs = server.json(&["pipelines", "runs", pipeline, "--limit", "1000"]);
    let mut dates: Vec<i64> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r: &Value| {
            chrono::DateTime::parse_from_rfc3339(r["logical_date"].as_str().unwrap())
                .unwrap()
                .timestamp()
        })
        .collect();
    dates.sort();
    dates
}

#[test]
fn intervals_that_came_due_while_down_follow_catchup() {
    let project = Project::new();
    let start = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    project.pipeline("every2s", &format!("schedule: \"*/2 * * * * *\"\nstart_date: {start}\ncatchup: true\ntasks:\n  a: {{ noop: true }}\n"));
    project.pipeline("latest2s", &format!("schedule: \"*/2 * * * * *\"\nstart_date: {start}\ncatchup: false\ntasks:\n  a: {{ noop: true }}\n"));
    let mut server = Server::start(project.path());
    assert!(eventually(Duration::from_secs(15), || logical_dates(
        &server, "every2s"
    )
    .len()
        >= 2));
    server.kill9();
    std::thread::sleep(Duration::from_secs(7));
    server.restart();
    // The scheduler's first turn after the restart creates what came due while it was down; a
    // loaded machine may take a moment to get there.
    let longest_gap = |dates: &[i64]| dates.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    assert!(
        eventually(Duration::from_secs(15), || longest_gap(&logical_dates(
            &server, "latest2s"
        )) >= 6),
        "without catchup the intervals missed while down are skipped: {:?}",
        logical_dates(&server, "latest2s")
    );
    let caught = logical_dates(&server, "every2s");
    let steps: Vec<i64> = caught.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        steps.iter().all(|s| *s == 2),
        "catchup: every interval has exactly one run, none missing, none twice: {caught:?}"
    );
    let latest = logical_dates(&server, "latest2s");
    let mut unique = latest.clone();
    unique.dedup();
    assert_eq!(unique, latest, "no interval ran twice");
}
