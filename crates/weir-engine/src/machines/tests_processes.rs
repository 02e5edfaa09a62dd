//! Processes started by Task states end with their task, however it ends (its own timeout, a
//! StopExecution, a failed Parallel sibling, a Map failing past its tolerance), and executions
//! run no more of them at once than the server allows.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::tests::{create_and_start, env, open_store, start_limited};

/// A task that sleeps, then leaves a mark: the mark appears only if the process outlived the task.
fn late_mark_task(mark: &Path, seconds: u32) -> Value {
    json!({
        "Type": "Task",
        "Resource": "arn:weir:states:::action:command",
        "Parameters": {"command": format!("sleep {seconds}; touch '{}'", mark.display())},
        "End": true
    })
}

/// Waits long enough for a surviving process to leave its mark, then says whether it did.
async fn marked_after(mark: &Path, wait: Duration) -> bool {
    tokio::time::sleep(wait).await;
    mark.exists()
}

#[tokio::test]
async fn a_task_timeout_stops_its_command() {
    let env = env().await;
    let mark = env._dir.path().join("late");
    let mut task = late_mark_task(&mark, 2);
    task["TimeoutSeconds"] = json!(1);
    let definition = json!({"StartAt": "Slow", "States": {"Slow": task}});
    let done = env.run("timeout", definition, json!({})).await;
    assert_eq!(done.status, "FAILED", "{done:?}");
    assert_eq!(done.error.as_deref(), Some("States.Timeout"), "{done:?}");
    assert!(
        !marked_after(&mark, Duration::from_millis(2500)).await,
        "the command ran on after its Task state timed out"
    );
}

#[tokio::test]
async fn stopping_an_execution_stops_its_command() {
    let env = env().await;
    let mark = env._dir.path().join("late");
    let definition = json!({"StartAt": "Slow", "States": {"Slow": late_mark_task(&mark, 2)}});
    let started = create_and_start(&env.machines, "stoppable", &definition, None, None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped = env
        .machines
        .stop(&started.arn, Some("Halt".into()), None)
        .await
        .expect("stop");
    assert_eq!(stopped.status, "ABORTED", "{stopped:?}");
    assert!(
        !marked_after(&mark, Duration::from_millis(2500)).await,
        "the command ran on after its execution was stopped"
    );
}

#[tokio::test]
async fn a_failed_parallel_branch_stops_its_siblings_commands() {
    let env = env().await;
    let mark = env._dir.path().join("late");
    let definition = json!({
        "StartAt": "Both",
        "States": {"Both": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "Slow", "States": {"Slow": late_mark_task(&mark, 2)}},
            {"StartAt": "Wait", "States": {
                "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Boom"},
                "Boom": {"Type": "Fail", "Error": "Boom", "Cause": "a sibling failed"}
            }}
        ]}}
    });
    let done = env.run("parallel", definition, json!({})).await;
    assert_eq!(done.status, "FAILED", "{done:?}");
    assert!(
        !marked_after(&mark, Duration::from_millis(2500)).await,
        "a Parallel branch's command ran on after its sibling failed"
    );
}

#[tokio::test]
async fn a_map_failing_past_its_tolerance_stops_running_iterations() {
    let env = env().await;
    let marks = env._dir.path().join("marks");
    std::fs::create_dir_all(&marks).expect("marks");
    let definition = json!({
        "StartAt": "Each",
        "States": {"Each": {
            "Type": "Map", "End": true, "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "Which", "States": {
                "Which": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "Boom"}], "Default": "Slow"},
                "Boom": {"Type": "Fail", "Error": "Boom"},
                "Slow": {
                    "Type": "Task", "Resource": "arn:weir:states:::action:command", "End": true,
                    "Parameters": {"command.$": format!("States.Format('sleep 2; touch {}/{{}}', $)", marks.display())}
                }
            }}
        }}
    });
    let done = env
        .run("map", definition, json!({"items": [1, 2, 0, 3]}))
        .await;
    assert_eq!(done.status, "FAILED", "{done:?}");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let left: Vec<_> = std::fs::read_dir(&marks).expect("marks").collect();
    assert!(left.is_empty(), "Map iterations ran on: {left:?}");
}

#[tokio::test]
async fn executions_run_no_more_processes_than_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_store(dir.path()).await;
    let machines = start_limited(dir.path(), store, 2).await;
    let running = dir.path().join("running");
    let counts = dir.path().join("counts");
    std::fs::create_dir_all(&running).expect("running");
    let line = format!(
        "touch {r}/$$; ls {r} | wc -l >> {c}; sleep 0.2; rm {r}/$$",
        r = running.display(),
        c = counts.display()
    );
    let definition = json!({
        "StartAt": "Each",
        "States": {"Each": {
            "Type": "Map", "End": true, "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "Work", "States": {"Work": {
                "Type": "Task", "Resource": "arn:weir:states:::action:command", "End": true,
                "Parameters": {"command": line}
            }}}
        }}
    });
    let items = json!({"items": [1, 2, 3, 4, 5, 6, 7, 8]});
    let started = create_and_start(&machines, "fanout", &definition, None, Some(items)).await;
    let done = machines
        .wait(&started.arn, Duration::from_secs(30))
        .await
        .expect("wait");
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    let seen: Vec<u32> = std::fs::read_to_string(&counts)
        .expect("counts")
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert_eq!(seen.len(), 8, "every item ran once: {seen:?}");
    let most = seen.iter().copied().max().unwrap_or(0);
    assert!(most <= 2, "{most} processes ran at once, the limit is 2");
}
