//! How the server stops and what it leaves behind: an attempt lost to a crash runs again without
//! using a retry (or fails, for `on_lost: fail`); a SIGTERM drains running attempts before it
//! exits, and stops the ones still running after its grace period so that they run again; a
//! second server refuses a data directory that a live one holds.

use std::time::Duration;

use crate::support::*;

/// A task that notes its try when it starts and when it ends, working `seconds` in between.
fn noted_task(extra: &str, seconds: u32) -> String {
    format!(
        "tasks:\n  work:\n    working_dir: pipelines\n{extra}    command: echo \"start $WEIR_TRY_NUMBER\" >> ../journal; sleep {seconds}; echo \"end $WEIR_TRY_NUMBER\" >> ../journal\n"
    )
}

fn trigger(server: &Server, pipeline: &str) -> String {
    server.json(&["pipelines", "trigger", pipeline])["run_id"]
        .as_str()
        .expect("run_id")
        .to_string()
}

fn started(project: &Project, try_number: u32) -> bool {
    eventually(Duration::from_secs(15), || {
        project
            .read("journal")
            .contains(&format!("start {try_number}"))
    })
}

fn attempt_states(server: &Server, run_id: &str) -> Vec<String> {
    server
        .attempts(run_id, "work")
        .iter()
        .map(|a| a["state"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn an_attempt_lost_to_a_crash_runs_again_without_using_a_retry() {
    let project = Project::new();
    project.pipeline("once", &noted_task("    retries: 0\n", 2));
    let mut server = Server::start(project.path());
    let run_id = trigger(&server, "once");
    assert!(started(&project, 1));
    server.kill9();
    server.restart();
    let done = server.wait_run(&run_id);
    assert_eq!(done["state"], "success", "a crash failed the run: {done}");
    assert_eq!(attempt_states(&server, &run_id), ["lost", "success"]);
    let events = server.get_json(&format!("/api/v1/runs/{run_id}/events"))["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        events.iter().any(|e| e["state"] == "lost"),
        "the history shows the lost attempt: {events:?}"
    );
    let journal = project.read("journal");
    assert_eq!(journal.matches("end").count(), 1, "{journal}");
}

#[test]
fn a_task_that_must_not_run_twice_fails_when_its_attempt_is_lost() {
    let project = Project::new();
    project.pipeline(
        "charge",
        &noted_task("    retries: 3\n    on_lost: fail\n", 2),
    );
    let mut server = Server::start(project.path());
    let run_id = trigger(&server, "charge");
    assert!(started(&project, 1));
    server.kill9();
    server.restart();
    let done = server.wait_run(&run_id);
    assert_eq!(done["state"], "failed", "{done}");
    assert_eq!(attempt_states(&server, &run_id), ["lost"]);
    let task = server.task(&done, "work");
    assert!(
        task["error"]
            .as_str()
            .unwrap_or_default()
            .contains("on_lost: fail"),
        "{task}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(project.read("journal").matches("start").count(), 1);
}

#[test]
fn sigterm_lets_running_attempts_finish() {
    let project = Project::new();
    project.pipeline("short", &noted_task("", 1));
    let mut server = Server::start(project.path());
    let run_id = trigger(&server, "short");
    assert!(started(&project, 1));
    let (took, clean) = server.terminate(Duration::from_secs(20));
    assert!(
        clean,
        "the server did not exit cleanly:\n{}",
        server.log_text()
    );
    assert!(
        took >= Duration::from_millis(300),
        "it did not wait: {took:?}"
    );
    assert!(project.read("journal").contains("end 1"));
    server.start_again();
    let done = server.wait_run(&run_id);
    assert_eq!(done["state"], "success", "{done}");
    assert_eq!(attempt_states(&server, &run_id), ["success"]);
}

#[test]
fn sigterm_past_its_grace_stops_attempts_that_then_run_again_without_a_retry() {
    let project = Project::new();
    project.pipeline("long", &noted_task("    retries: 0\n", 5));
    let mut server =
        Server::start_with(project.path(), &[("WEIR_EXECUTOR_SHUTDOWN_GRACE", "500ms")]);
    let run_id = trigger(&server, "long");
    assert!(started(&project, 1));
    let (took, clean) = server.terminate(Duration::from_secs(20));
    assert!(
        clean,
        "the server did not exit cleanly:\n{}",
        server.log_text()
    );
    assert!(
        took < Duration::from_secs(4),
        "it waited for the task: {took:?}"
    );
    // Stopped and recorded as lost before the server exited, not left for recovery to find.
    server.start_again();
    let done = server.wait_run(&run_id);
    assert_eq!(done["state"], "success", "{done}");
    assert_eq!(attempt_states(&server, &run_id), ["lost", "success"]);
    let journal = project.read("journal");
    assert!(
        !journal.contains("end 1"),
        "the stopped attempt ran on: {journal}"
    );
    assert_eq!(journal.matches("end").count(), 1, "{journal}");
}

#[test]
fn a_second_server_on_the_same_data_directory_is_refused() {
    let project = Project::new();
    project.pipeline("p", "tasks:\n  a: { noop: true }\n");
    let server = Server::start(project.path());
    let port = free_port().to_string();
    let second = weir(&[
        "server",
        "--project",
        project.path().to_str().unwrap_or_default(),
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    assert!(!second.status.success());
    let message = stderr(&second);
    assert!(
        message.contains(&format!("pid {}", server.pid())),
        "the refusal names the holder: {message}"
    );
    // The first one is untouched.
    assert_eq!(server.get("/healthz").0, 200);
}
