//! What the Step Functions API acknowledges is durable, and acknowledged once: a task token's
//! answer survives the process that took it, and concurrent starts of one name start one
//! execution.

use std::time::Duration;

use serde_json::json;

use super::tests::{create_and_start, env, open_store, start};
use super::*;

#[test]
fn a_task_token_answer_survives_the_process_that_took_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("token");
    let runs = dir.path().join("runs");
    let definition = json!({
        "StartAt": "Approve",
        "States": {"Approve": {
            "Type": "Task",
            "Resource": "arn:weir:states:::action:command.waitForTaskToken",
            "Parameters": {"command.$": format!("States.Format('echo x >> {}; printf %s {{}} > {}', $$.Task.Token)", runs.display(), token_file.display())},
            "End": true
        }}
    });
    // The first process answers the token; its runtime has one thread, so the interpreter,
    // woken by the answer, never runs again before the process "dies" right after the
    // acknowledgement.
    let first = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let arn = first.block_on(async {
        let store = open_store(dir.path()).await;
        let machines = start(dir.path(), store).await;
        let started = create_and_start(&machines, "approve", &definition, Some("one"), None).await;
        let token = loop {
            if let Ok(token) = std::fs::read_to_string(&token_file)
                && !token.is_empty()
            {
                break token;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        machines
            .send_task_success(&token, r#"{"approved": true}"#)
            .await
            .expect("answer");
        started.arn
    });
    drop(first);
    let second = tokio::runtime::Runtime::new().expect("runtime");
    second.block_on(async {
        let store = open_store(dir.path()).await;
        let machines = start(dir.path(), store).await;
        let done = machines
            .wait(&arn, Duration::from_secs(10))
            .await
            .expect("wait");
        assert_eq!(
            done.status, "SUCCEEDED",
            "the acknowledged answer was lost: {done:?}"
        );
        assert_eq!(done.output.as_deref(), Some(r#"{"approved":true}"#));
        let runs = std::fs::read_to_string(&runs).expect("runs");
        assert_eq!(
            runs.lines().count(),
            1,
            "the task ran again after its answer"
        );
    });
}

#[tokio::test]
async fn concurrent_starts_of_one_name_start_one_execution() {
    let env = env().await;
    let marks = env._dir.path().join("marks");
    let definition = json!({
        "StartAt": "Mark",
        "States": {"Mark": {
            "Type": "Task", "Resource": "arn:weir:states:::action:command", "End": true,
            "Parameters": {"command": format!("echo x >> {}", marks.display())}
        }}
    });
    let machine = env
        .machines
        .create(NewMachine {
            name: "once".into(),
            definition: definition.to_string(),
            ..NewMachine::default()
        })
        .await
        .expect("create");
    let start = |input: &str| {
        let machines = env.machines.clone();
        let new = NewExecution {
            machine_arn: machine.arn.clone(),
            name: Some("same".into()),
            input: Some(input.to_string()),
        };
        tokio::spawn(async move { machines.start_execution(new).await })
    };
    let same: Vec<_> = (0..8).map(|_| start(r#"{"a": 1}"#)).collect();
    let mut arns = std::collections::HashSet::new();
    for handle in same {
        arns.insert(
            handle
                .await
                .expect("join")
                .expect("an idempotent start")
                .arn,
        );
    }
    assert_eq!(arns.len(), 1, "{arns:?}");
    let other = start(r#"{"a": 2}"#);
    let arn = arns.into_iter().next().unwrap_or_default();
    let done = env
        .machines
        .wait(&arn, Duration::from_secs(10))
        .await
        .expect("wait");
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    let other = other.await.expect("join");
    // The same name with other input: refused, whether it came while the first ran or after.
    assert!(
        matches!(other, Err(MachineError::ExecutionAlreadyExists(_))),
        "{other:?}"
    );
    let marks = std::fs::read_to_string(&marks).expect("marks");
    assert_eq!(
        marks.lines().count(),
        1,
        "the task ran {} times",
        marks.lines().count()
    );
}
