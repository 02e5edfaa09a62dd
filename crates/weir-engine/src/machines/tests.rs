//! The interpreter on the real embedded store, with weir's real `command` action as the task
//! resource: every state type, input and output processing, Retry and Catch, task tokens,
//! history events, and resuming after the process that ran an execution went away.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;

pub(super) struct Env {
    pub(super) machines: Machines,
    pub(super) store: Arc<dyn Store>,
    pub(super) _dir: tempfile::TempDir,
}

pub(super) async fn open_store(dir: &Path) -> Arc<dyn Store> {
    weir_store::open(&format!("sqlite://{}", dir.join("weir.db").display()))
        .await
        .expect("store")
}

pub(super) async fn start(dir: &Path, store: Arc<dyn Store>) -> Machines {
    start_limited(dir, store, 64).await
}

pub(super) async fn start_limited(
    dir: &Path,
    store: Arc<dyn Store>,
    max_processes: usize,
) -> Machines {
    Machines::start(MachinesOptions {
        store,
        project_dir: dir.to_path_buf(),
        data_dir: dir.join("data"),
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        engine: None,
        functions: None,
        actions: Registry::builtin(),
        objects: None,
        secrets: std::sync::Arc::new(crate::secrets::Secrets::none()),
        watch: false,
        max_processes,
    })
    .await
    .expect("machines")
}

pub(super) async fn env() -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_store(dir.path()).await;
    let machines = start(dir.path(), store.clone()).await;
    Env {
        machines,
        store,
        _dir: dir,
    }
}

impl Env {
    pub(super) async fn run(&self, name: &str, definition: Value, input: Value) -> ExecutionRecord {
        let started = create_and_start(&self.machines, name, &definition, None, Some(input)).await;
        self.machines
            .wait(&started.arn, Duration::from_secs(30))
            .await
            .expect("wait")
    }

    pub(super) async fn event_types(&self, arn: &str) -> Vec<String> {
        self.machines
            .history(arn)
            .await
            .expect("history")
            .iter()
            .map(|e| e["type"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// Creates machine `name` and starts one execution of it (named `execution`, when given).
pub(super) async fn create_and_start(
    machines: &Machines,
    name: &str,
    definition: &Value,
    execution: Option<&str>,
    input: Option<Value>,
) -> ExecutionRecord {
    let machine = machines
        .create(NewMachine {
            name: name.into(),
            definition: definition.to_string(),
            ..NewMachine::default()
        })
        .await
        .expect("create");
    machines
        .start_execution(NewExecution {
            machine_arn: machine.arn,
            name: execution.map(str::to_string),
            input: input.map(|i| i.to_string()),
        })
        .await
        .expect("start")
}

pub(super) fn output(record: &ExecutionRecord) -> Value {
    assert_eq!(record.status, "SUCCEEDED", "{record:?}");
    serde_json::from_str(record.output.as_deref().unwrap_or("null")).unwrap()
}

#[tokio::test]
async fn pass_choice_and_succeed_with_paths() {
    let env = env().await;
    let definition = json!({
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Parameters": {"n.$": "$.n", "doubled.$": "States.MathAdd($.n, $.n)"}, "ResultPath": "$.calc", "Next": "Big?"},
            "Big?": {"Type": "Choice", "Choices": [
                {"And": [{"Variable": "$.calc.doubled", "NumericGreaterThan": 10}, {"Variable": "$.tag", "IsPresent": true}], "Next": "Big"},
                {"Variable": "$.calc.doubled", "NumericLessThanEqualsPath": "$.limit", "Next": "Small"}
            ], "Default": "Other"},
            "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": true},
            "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "OutputPath": "$.size", "Next": "Done"},
            "Other": {"Type": "Fail", "Error": "NoMatch", "Cause": "nothing matched"},
            "Done": {"Type": "Succeed"}
        }
    });
    let big = env
        .run(
            "choices",
            definition.clone(),
            json!({"n": 6, "tag": "x", "limit": 100}),
        )
        .await;
    assert_eq!(output(&big)["size"], "big");
    assert_eq!(output(&big)["calc"], json!({"n": 6, "doubled": 12}));
    let small = env
        .machines
        .start_execution(NewExecution {
            machine_arn: big.machine_arn.clone(),
            name: Some("small".into()),
            input: Some(json!({"n": 2, "limit": 4}).to_string()),
        })
        .await
        .unwrap();
    let small = env
        .machines
        .wait(&small.arn, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(output(&small), json!("small"));
    assert_eq!(
        env.event_types(&small.arn).await,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ChoiceStateEntered",
            "ChoiceStateExited",
            "PassStateEntered",
            "PassStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded"
        ]
    );
    let history = env.machines.history(&small.arn).await.unwrap();
    let ids: Vec<i64> = history.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());
    assert_eq!(
        history[1]["stateEnteredEventDetails"]["name"], "Init",
        "{}",
        history[1]
    );
    let other = env
        .machines
        .start_execution(NewExecution {
            machine_arn: big.machine_arn.clone(),
            name: Some("other".into()),
            input: Some(json!({"n": 9, "limit": 1}).to_string()),
        })
        .await
        .unwrap();
    let other = env
        .machines
        .wait(&other.arn, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(other.status, "FAILED");
    assert_eq!(other.error.as_deref(), Some("NoMatch"));
    assert_eq!(other.cause.as_deref(), Some("nothing matched"));
    // As in Step Functions, a Fail state is entered and the execution fails: there is no
    // FailStateExited event type.
    assert_eq!(
        env.event_types(&other.arn).await[5..],
        ["FailStateEntered", "ExecutionFailed"]
    );
}

#[tokio::test]
async fn tasks_retry_then_catch_with_real_commands() {
    let env = env().await;
    let counter = env._dir.path().join("tries");
    let definition = json!({
        "StartAt": "Flaky",
        "States": {
            "Flaky": {
                "Type": "Task",
                "Resource": "arn:weir:states:::action:command",
                "Parameters": {"command.$": "States.Format('echo x >> {} && exit 3', $.file)"},
                "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "BackoffRate": 1, "MaxAttempts": 2}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Recover"}],
                "End": true
            },
            "Recover": {"Type": "Pass", "End": true}
        }
    });
    let done = env
        .run(
            "flaky",
            definition,
            json!({"file": counter.display().to_string()}),
        )
        .await;
    let out = output(&done);
    assert_eq!(out["failure"]["Error"], "States.TaskFailed", "{out}");
    let tries = std::fs::read_to_string(&counter).unwrap();
    assert_eq!(tries.lines().count(), 3, "one try and two retries");
    let types = env.event_types(&done.arn).await;
    assert_eq!(types.iter().filter(|t| *t == "TaskScheduled").count(), 3);
    assert_eq!(types.iter().filter(|t| *t == "TaskFailed").count(), 3);
}

#[tokio::test]
async fn a_task_result_flows_through_result_selector_and_path() {
    let env = env().await;
    let definition = json!({
        "StartAt": "Echo",
        "States": {
            "Echo": {
                "Type": "Task",
                "Resource": "arn:weir:states:::action:command",
                "Parameters": {"command": "printf '{\"rows\": 42}' > \"$WEIR_OUTPUT\""},
                "ResultSelector": {"count.$": "$.rows"},
                "ResultPath": "$.echo",
                "End": true
            }
        }
    });
    let done = env.run("echo", definition, json!({"keep": true})).await;
    assert_eq!(output(&done), json!({"keep": true, "echo": {"count": 42}}));
}

#[tokio::test]
async fn parallel_map_and_tolerated_failures() {
    let env = env().await;
    let definition = json!({
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": true}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "InputPath": "$.items", "End": true}}}
                ],
                "ResultPath": "$.both",
                "Next": "Each"
            },
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 2,
                "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
                "ToleratedFailureCount": 1,
                "ItemProcessor": {
                    "StartAt": "Check",
                    "States": {
                        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.value", "NumericEquals": 3, "Next": "Bad"}], "Default": "Square"},
                        "Bad": {"Type": "Fail", "Error": "Three", "Cause": "no threes"},
                        "Square": {"Type": "Pass", "Parameters": {"sq.$": "States.MathAdd($.value, $.index)"}, "End": true}
                    }
                },
                "ResultPath": "$.mapped",
                "End": true
            }
        }
    });
    let done = env
        .run("fanout", definition, json!({"items": [1, 2, 3, 4]}))
        .await;
    let out = output(&done);
    assert_eq!(out["both"], json!([1, [1, 2, 3, 4]]));
    assert_eq!(out["mapped"][0], json!({"sq": 1}));
    assert_eq!(out["mapped"][3], json!({"sq": 7}));
    assert_eq!(out["mapped"][2]["Error"], "Three");
    let types = env.event_types(&done.arn).await;
    assert_eq!(
        types.iter().filter(|t| *t == "MapIterationStarted").count(),
        4
    );
    assert!(types.contains(&"ParallelStateSucceeded".to_string()));
}

#[tokio::test]
async fn jsonata_states_and_variables() {
    let env = env().await;
    let definition = json!({
        "QueryLanguage": "JSONata",
        "StartAt": "Sum",
        "States": {
            "Sum": {"Type": "Pass", "Assign": {"total": "{% $sum($states.input.values) %}"}, "Output": {"n": "{% $count($states.input.values) %}"}, "Next": "Report"},
            "Report": {"Type": "Pass", "Output": "{% {'total': $total, 'n': $states.input.n} %}", "End": true}
        }
    });
    let done = env
        .run("jsonata", definition, json!({"values": [1, 2, 3.5]}))
        .await;
    assert_eq!(output(&done), json!({"total": 6.5, "n": 3}));
}

#[tokio::test]
async fn task_tokens_wait_for_send_task_success() {
    let env = env().await;
    let token_file = env._dir.path().join("token");
    let definition = json!({
        "StartAt": "Approve",
        "States": {
            "Approve": {
                "Type": "Task",
                "Resource": "arn:weir:states:::action:command.waitForTaskToken",
                "Parameters": {"command.$": "States.Format('printf %s {} > {}', $$.Task.Token, $.file)"},
                "HeartbeatSeconds": 30,
                "End": true
            }
        }
    });
    let machine = env
        .machines
        .create(NewMachine {
            name: "approve".into(),
            definition: definition.to_string(),
            ..NewMachine::default()
        })
        .await
        .unwrap();
    let started = env
        .machines
        .start_execution(NewExecution {
            machine_arn: machine.arn,
            name: Some("one".into()),
            input: Some(json!({"file": token_file.display().to_string()}).to_string()),
        })
        .await
        .unwrap();
    let token = loop {
        if let Ok(token) = std::fs::read_to_string(&token_file)
            && !token.is_empty()
        {
            break token;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(matches!(
        env.machines.send_task_success("nope", "{}").await,
        Err(MachineError::TaskDoesNotExist(_))
    ));
    env.machines.send_task_heartbeat(&token).unwrap();
    env.machines
        .send_task_success(&token, r#"{"approved": true}"#)
        .await
        .unwrap();
    let done = env
        .machines
        .wait(&started.arn, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(output(&done), json!({"approved": true}));
    assert!(
        env.event_types(&done.arn)
            .await
            .contains(&"TaskSubmitted".to_string())
    );
}

#[tokio::test]
async fn same_name_and_input_is_idempotent_while_running() {
    let env = env().await;
    let definition =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": true}}});
    let machine = env
        .machines
        .create(NewMachine {
            name: "waits".into(),
            definition: definition.to_string(),
            ..NewMachine::default()
        })
        .await
        .unwrap();
    let start = |input: &str| NewExecution {
        machine_arn: machine.arn.clone(),
        name: Some("once".into()),
        input: Some(input.into()),
    };
    let first = env.machines.start_execution(start("{}")).await.unwrap();
    let again = env.machines.start_execution(start("{}")).await.unwrap();
    assert_eq!(first.arn, again.arn);
    assert!(matches!(
        env.machines.start_execution(start(r#"{"x": 1}"#)).await,
        Err(MachineError::ExecutionAlreadyExists(_))
    ));
    let stopped = env
        .machines
        .stop(&first.arn, Some("Manual".into()), Some("enough".into()))
        .await
        .unwrap();
    assert_eq!(stopped.status, "ABORTED");
    assert!(
        env.event_types(&first.arn)
            .await
            .contains(&"ExecutionAborted".to_string())
    );
    // Once the execution has ended, the same name and input is no longer the same execution:
    // Step Functions refuses it (the name stays taken).
    assert!(matches!(
        env.machines.start_execution(start("{}")).await,
        Err(MachineError::ExecutionAlreadyExists(_))
    ));
}

#[test]
fn a_wait_survives_the_process_that_started_it() {
    let dir = tempfile::tempdir().unwrap();
    let definition = json!({
        "StartAt": "Mark",
        "States": {
            "Mark": {"Type": "Task", "Resource": "arn:weir:states:::action:command",
                     "Parameters": {"command.$": "States.Format('echo run >> {}', $.file)"},
                     "ResultPath": null, "Next": "Sleep"},
            "Sleep": {"Type": "Wait", "Seconds": 2, "Next": "After"},
            "After": {"Type": "Pass", "Result": "woke", "ResultPath": "$.after", "End": true}
        }
    });
    let marks = dir.path().join("marks");
    let input = json!({"file": marks.display().to_string()}).to_string();
    // The first "process": starts the execution, then its runtime is dropped mid-Wait.
    let first = tokio::runtime::Runtime::new().unwrap();
    let arn = first.block_on(async {
        let store = open_store(dir.path()).await;
        let machines = start(dir.path(), store).await;
        let machine = machines
            .create(NewMachine {
                name: "sleeper".into(),
                definition: definition.to_string(),
                ..NewMachine::default()
            })
            .await
            .unwrap();
        let started = machines
            .start_execution(NewExecution {
                machine_arn: machine.arn,
                name: Some("nap".into()),
                input: Some(input),
            })
            .await
            .unwrap();
        while !std::fs::read_to_string(&marks).is_ok_and(|m| !m.is_empty()) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        started.arn
    });
    first.shutdown_timeout(Duration::from_millis(100));
    // The second one resumes it from the store.
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let store = open_store(dir.path()).await;
        let machines = start(dir.path(), store.clone()).await;
        let done = machines.wait(&arn, Duration::from_secs(20)).await.unwrap();
        assert_eq!(output(&done)["after"], "woke");
        assert_eq!(
            std::fs::read_to_string(&marks).unwrap().lines().count(),
            1,
            "the finished task did not run again"
        );
        let history = machines.history(&arn).await.unwrap();
        let ids: Vec<i64> = history.iter().map(|e| e["id"].as_i64().unwrap()).collect();
        assert_eq!(
            ids,
            (1..=ids.len() as i64).collect::<Vec<_>>(),
            "no event twice"
        );
        let started = history
            .iter()
            .filter(|e| e["type"] == "ExecutionStarted")
            .count();
        assert_eq!(started, 1);
        let _ = store;
    });
}

#[tokio::test]
async fn bad_definitions_and_names_are_refused() {
    let env = env().await;
    let bad = env
        .machines
        .create(NewMachine {
            name: "bad".into(),
            definition: r#"{"StartAt": "Nowhere", "States": {"A": {"Type": "Pass", "End": true}}}"#
                .into(),
            ..NewMachine::default()
        })
        .await;
    match bad {
        Err(MachineError::InvalidDefinition(message)) => {
            assert!(message.contains("Nowhere"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let name = env
        .machines
        .create(NewMachine {
            name: "has space".into(),
            definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#.into(),
            ..NewMachine::default()
        })
        .await;
    assert!(matches!(name, Err(MachineError::InvalidName(_))));
    assert!(
        env.store.machines().await.unwrap().is_empty(),
        "nothing was stored"
    );
}

#[test]
fn the_context_carries_the_input_only_when_read() {
    use super::interpreter::context_needs_input;
    assert!(context_needs_input(r#"{"a.$": "$$.Execution.Input.x"}"#));
    assert!(context_needs_input(r#"{"a.$": "$$"}"#));
    assert!(context_needs_input(r#"{"a.$": "$$.Execution"}"#));
    assert!(context_needs_input(
        r#"{"a": "{% $states.context.Execution.Input %}"}"#
    ));
    assert!(context_needs_input(r#"{"a": "{% $states.context %}"}"#));
    assert!(!context_needs_input(
        r#"{"a.$": "$$.Execution.Name", "b.$": "$$.Map.Item.Value"}"#
    ));
    assert!(!context_needs_input(r#"{"a.$": "$.x"}"#));
}

#[tokio::test]
async fn the_context_object_is_what_step_functions_gives() {
    let env = env().await;
    let definition = json!({
        "StartAt": "Look",
        "States": {"Look": {"Type": "Pass", "Parameters": {
            "input.$": "$$.Execution.Input", "name.$": "$$.Execution.Name",
            "machine.$": "$$.StateMachine.Name", "state.$": "$$.State.Name",
            "retries.$": "$$.State.RetryCount"}, "End": true}}
    });
    let done = env
        .run("context", definition, json!({"big": [1, 2, 3]}))
        .await;
    let out = output(&done);
    assert_eq!(out["input"], json!({"big": [1, 2, 3]}));
    assert_eq!(out["name"], json!(done.name));
    assert_eq!(out["machine"], "context");
    assert_eq!(out["state"], "Look");
    assert_eq!(out["retries"], 0);
}

#[test]
fn scopes_are_the_paths_above_each_step() {
    let steps = [
        "0".to_string(),
        "3/i5/0".to_string(),
        "3/i5/2/b1/0".to_string(),
    ];
    let scopes = super::interpreter::scopes_of(steps.iter());
    let mut scopes: Vec<_> = scopes.into_iter().collect();
    scopes.sort();
    assert_eq!(scopes, ["3", "3/i5", "3/i5/2", "3/i5/2/b1"]);
}

#[tokio::test]
async fn machine_files_load_without_their_triggers() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("machines")).expect("machines dir");
    std::fs::write(
        dir.path().join("machines/on-upload.asl.yaml"),
        "triggers:\n  - event: {source: [weir.lake], detail-type: [Object Created]}\n    input_path: $.detail\nStartAt: Done\nStates:\n  Done: {Type: Succeed}\n",
    )
    .expect("machine file");
    std::fs::write(
        dir.path().join("machines/broken.asl.yaml"),
        "triggers:\n  - event: {}\nStartAt: Done\nStates:\n  Done: {Type: Succeed}\n",
    )
    .expect("machine file");
    let store = open_store(dir.path()).await;
    let machines = start(dir.path(), store).await;
    let problems = machines.load_files().await.expect("load");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .to_string()
            .starts_with("machines/broken.asl.yaml:2:12: Event pattern is not valid."),
        "{problems:?}"
    );
    let listed = machines.list().await.expect("list");
    let names: Vec<&str> = listed.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["on-upload"]);
    let definition: Value = serde_json::from_str(&listed[0].definition).expect("JSON definition");
    assert_eq!(
        definition,
        json!({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    );
}
