//! Where executions recorded on AWS disagreed with weir: the causes of the errors a state
//! raises itself (prefixed with the state and the event that entered it), Fail states that
//! name no error, JSONata expressions that yield nothing, a Choice with nowhere to go, number
//! fields that hold no integer, Map items that are not an array, and the context object.

use serde_json::{Value, json};

use super::tests::{env, output};

/// The prefix Step Functions puts on the cause of an error a state raised itself.
fn at(state: &str, event: u32) -> String {
    format!(
        "An error occurred while executing the state '{state}' (entered at the event id #{event}). "
    )
}

/// Runs a one-state machine `{"StartAt": "S", "States": {"S": state}}`.
async fn run_state(name: &str, state: Value, input: Value) -> super::ExecutionRecord {
    let env = env().await;
    env.run(name, json!({"StartAt": "S", "States": {"S": state}}), input)
        .await
}

fn failed(record: &super::ExecutionRecord) -> (&str, &str) {
    assert_eq!(record.status, "FAILED", "{record:?}");
    (
        record.error.as_deref().unwrap_or_default(),
        record.cause.as_deref().unwrap_or_default(),
    )
}

#[tokio::test]
async fn paths_that_select_nothing_fail_with_aws_causes() {
    let done = run_state(
        "input-path",
        json!({"Type": "Pass", "InputPath": "$.foo", "End": true}),
        json!({"a": 1}),
    )
    .await;
    assert_eq!(
        failed(&done),
        (
            "States.Runtime",
            format!(
                "{}Invalid path '$.foo' : No results for path: $['foo']",
                at("S", 2)
            )
            .as_str()
        )
    );

    let done = run_state(
        "parameters",
        json!({"Type": "Pass", "Parameters": {"m.$": "$.nope"}, "End": true}),
        json!({"x": "a"}),
    )
    .await;
    assert_eq!(
        failed(&done).1,
        format!(
            "{}The JSONPath '$.nope' specified for the field 'm.$' could not be found in the input '{{\"x\":\"a\"}}'",
            at("S", 2)
        )
    );

    let done = run_state(
        "intrinsic",
        json!({"Type": "Pass", "Parameters": {"v.$": "States.Format('{}', $.nope)"}, "End": true}),
        json!({"other": 1}),
    )
    .await;
    assert_eq!(
        failed(&done).1,
        format!(
            "{}The function 'States.Format('{{}}', $.nope)' had the following error: The JsonPath argument for the field '$.nope' could not be found in the input '{{\"other\":1}}'",
            at("S", 2)
        )
    );

    // The second state is entered by event 4 (started, entered, exited, entered).
    let env = env().await;
    let done = env
        .run(
            "output-path",
            json!({"StartAt": "First", "States": {
                "First": {"Type": "Pass", "Next": "Second"},
                "Second": {"Type": "Pass", "OutputPath": "$.x.y", "End": true}
            }}),
            json!({"a": 1}),
        )
        .await;
    let cause = format!(
        "{}Invalid path '$.x.y' : Missing property in path $['x']",
        at("Second", 4)
    );
    assert_eq!(failed(&done), ("States.Runtime", cause.as_str()));
    let history = env.machines.history(&done.arn).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(last["type"], "ExecutionFailed");
    assert_eq!(
        last["executionFailedEventDetails"],
        json!({"error": "States.Runtime", "cause": cause})
    );
}

#[tokio::test]
async fn a_runtime_error_is_not_caught_and_keeps_one_prefix() {
    // The failing state is inside a Map iteration: the prefix names it, once, and the Map's
    // Catch does not take a States.Runtime error.
    let env = env().await;
    let done = env
        .run(
            "nested",
            json!({"StartAt": "S", "States": {
                "S": {"Type": "Map", "ItemsPath": "$.items",
                    "ItemProcessor": {"StartAt": "Inner", "States": {
                        "Inner": {"Type": "Pass", "InputPath": "$.missing", "End": true}}},
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                    "End": true},
                "Caught": {"Type": "Pass", "End": true}
            }}),
            json!({"items": [{"a": 1}]}),
        )
        .await;
    let (error, cause) = failed(&done);
    assert_eq!(error, "States.Runtime");
    assert_eq!(cause.matches("An error occurred").count(), 1, "{cause}");
    assert!(
        cause.starts_with(
            "An error occurred while executing the state 'Inner' (entered at the event id #"
        ),
        "{cause}"
    );
    assert!(
        cause.ends_with("Invalid path '$.missing' : No results for path: $['missing']"),
        "{cause}"
    );
}

#[tokio::test]
async fn a_fail_state_without_error_or_cause_reports_neither() {
    let env = env().await;
    let done = env
        .run(
            "bare-fail",
            json!({"StartAt": "S", "States": {"S": {"Type": "Fail"}}}),
            json!({}),
        )
        .await;
    assert_eq!(done.status, "FAILED");
    assert_eq!(done.error, None);
    assert_eq!(done.cause, None);
    let history = env.machines.history(&done.arn).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(last["type"], "ExecutionFailed");
    assert_eq!(last["executionFailedEventDetails"], json!({}));

    let done = env
        .run(
            "error-only",
            json!({"StartAt": "S", "States": {"S": {"Type": "Fail", "Error": "Oops"}}}),
            json!({}),
        )
        .await;
    assert_eq!(
        (done.error.as_deref(), done.cause.as_deref()),
        (Some("Oops"), None)
    );

    // A Fail state's own error passes unchanged; failing to work out its Error is the state's.
    let done = env
        .run(
            "error-path",
            json!({"StartAt": "S", "States": {"S": {"Type": "Fail", "ErrorPath": "$.nope", "Cause": "c"}}}),
            json!({"other": 1}),
        )
        .await;
    assert_eq!(
        failed(&done),
        (
            "States.Runtime",
            format!(
                "{}The JSONPath '$.nope' specified for the field 'ErrorPath' could not be found in the input '{{\"other\":1}}'",
                at("S", 2)
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn jsonata_that_yields_nothing_names_its_field() {
    let done = run_state(
        "undefined-output",
        json!({"Type": "Pass", "QueryLanguage": "JSONata",
            "Output": {"v": "{% $states.input.absent %}"}, "End": true}),
        json!({"present": 1}),
    )
    .await;
    assert_eq!(
        failed(&done),
        (
            "States.QueryEvaluationError",
            format!(
                "{}The JSONata expression '$states.input.absent' specified for the field 'Output/v' returned nothing (undefined).",
                at("S", 2)
            )
            .as_str()
        )
    );

    let done = run_state(
        "undefined-assign",
        json!({"Type": "Pass", "QueryLanguage": "JSONata",
            "Assign": {"x": ["{% $states.input.absent %}"]}, "End": true}),
        json!({}),
    )
    .await;
    assert!(
        failed(&done).1.ends_with(
            "The JSONata expression '$states.input.absent' specified for the field 'Assign/x[0]' returned nothing (undefined)."
        ),
        "{done:?}"
    );

    let env = env().await;
    let done = env
        .run(
            "undefined-condition",
            json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {
                "S": {"Type": "Choice", "Choices": [
                    {"Condition": "{% $states.input.n = 1 %}", "Next": "Done"},
                    {"Condition": "{% $states.input.absent %}", "Next": "Done"}
                ]},
                "Done": {"Type": "Succeed"}
            }}),
            json!({"n": 2}),
        )
        .await;
    assert!(
        failed(&done).1.ends_with(
            "specified for the field 'Choices[1]/Condition' returned nothing (undefined)."
        ),
        "{done:?}"
    );

    // Unlike States.Runtime, a query error is caught.
    let done = env
        .run(
            "caught",
            json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
                "M": {"Type": "Map", "Items": "{% $states.input.absent %}",
                    "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
                    "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Caught"}],
                    "End": true},
                "Caught": {"Type": "Pass", "End": true}
            }}),
            json!({}),
        )
        .await;
    let out = output(&done);
    assert_eq!(out["Error"], "States.QueryEvaluationError");
    assert!(
        out["Cause"]
            .as_str()
            .unwrap_or_default()
            .ends_with("specified for the field 'Items' returned nothing (undefined)."),
        "{out}"
    );
}

#[tokio::test]
async fn a_choice_with_nowhere_to_go_is_a_runtime_error() {
    let env = env().await;
    let done = env
        .run(
            "no-default",
            json!({"StartAt": "S", "States": {
                "S": {"Type": "Choice", "Choices": [
                    {"Variable": "$.x", "BooleanEquals": true, "Next": "Done"}
                ]},
                "Done": {"Type": "Succeed"}
            }}),
            json!({"x": false}),
        )
        .await;
    assert_eq!(
        failed(&done),
        (
            "States.Runtime",
            format!(
                "{}Failed to transition out of the state. The state does not point to a next state.",
                at("S", 2)
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn number_paths_must_hold_non_negative_integers() {
    let wait = |seconds: Value| async move {
        run_state(
            "seconds-path",
            json!({"Type": "Wait", "SecondsPath": "$.s", "End": true}),
            json!({ "s": seconds }),
        )
        .await
    };
    for (seconds, cause) in [
        (
            json!(-1),
            "The SecondsPath parameter references a negative value: $.s == -1",
        ),
        (
            json!(1.5),
            "The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5",
        ),
        (
            json!("5"),
            "The SecondsPath parameter cannot be parsed as a long value: $.s == 5",
        ),
        (
            json!(null),
            "The SecondsPath parameter cannot be parsed as a long value: $.s == null",
        ),
    ] {
        let done = wait(seconds).await;
        assert_eq!(
            failed(&done),
            ("States.Runtime", format!("{}{cause}", at("S", 2)).as_str())
        );
    }
    assert_eq!(output(&wait(json!(0)).await), json!({"s": 0}));
    let done = run_state(
        "seconds-missing",
        json!({"Type": "Wait", "SecondsPath": "$.nope", "End": true}),
        json!({}),
    )
    .await;
    assert_eq!(
        failed(&done).1,
        format!(
            "{}The SecondsPath parameter does not reference an input value: $.nope",
            at("S", 2)
        )
    );
    let until = |stamp: Value| async move {
        run_state(
            "timestamp-path",
            json!({"Type": "Wait", "TimestampPath": "$.t", "End": true}),
            json!({ "t": stamp }),
        )
        .await
    };
    assert_eq!(
        failed(&until(json!("soon")).await).1,
        format!(
            "{}The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.t == soon",
            at("S", 2)
        )
    );
    assert_eq!(
        output(&until(json!("2020-01-01T00:00:00Z")).await),
        json!({"t": "2020-01-01T00:00:00Z"})
    );

    let map = |limit: Value| async move {
        run_state(
            "concurrency-path",
            json!({"Type": "Map", "MaxConcurrencyPath": "$.limit", "ItemsPath": "$.items",
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
                "End": true}),
            json!({"limit": limit, "items": [1, 2]}),
        )
        .await
    };
    for (limit, cause) in [
        (
            json!(-2),
            "Expected non-negative integer for MaxConcurrency, got '-2' instead.",
        ),
        (
            json!("many"),
            "The MaxConcurrencyPath field refers to value \"many\" which is not a valid integer: $.limit",
        ),
        (
            json!({"n": 1}),
            "The MaxConcurrencyPath field refers to value \"{\"n\":1}\" which is not a valid integer: $.limit",
        ),
    ] {
        let done = map(limit).await;
        assert_eq!(
            failed(&done),
            ("States.Runtime", format!("{}{cause}", at("S", 2)).as_str())
        );
    }
    // A whole number written as a string, or with a fraction (cut), is read.
    for limit in [json!("2"), json!(1.5), json!(0)] {
        assert_eq!(output(&map(limit).await), json!([1, 2]));
    }
}

#[tokio::test]
async fn map_items_are_an_array_or_an_object() {
    let map = |items_path: &str| {
        json!({"Type": "Map", "ItemsPath": items_path,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
            "End": true})
    };
    let done = run_state("not-array", map("$.items"), json!({"items": "abc"})).await;
    let (error, cause) = failed(&done);
    assert_eq!(error, "States.Runtime");
    assert_eq!(
        cause,
        format!(
            "{}Map state ItemsPath must evaluate to a JSON array or object, not a string",
            at("S", 2)
        )
    );
    // An object: an iteration for each member, given `{"Key", "Value"}`, its name in
    // `$$.Map.Item.Key` (the input's order kept).
    let servers = json!({"servers": {"web": {"port": 80}, "db": {"port": 5432}}});
    let done = run_state("object", map("$.servers"), servers.clone()).await;
    assert_eq!(
        output(&done),
        json!([{"Key": "web", "Value": {"port": 80}}, {"Key": "db", "Value": {"port": 5432}}])
    );
    let mut selected = map("$.servers");
    selected["ItemSelector"] = json!({"name.$": "$$.Map.Item.Key", "port.$": "$$.Map.Item.Value.port", "at.$": "$$.Map.Item.Index"});
    let done = run_state("object-selector", selected, servers).await;
    assert_eq!(
        output(&done),
        json!([{"name": "web", "port": 80, "at": 0}, {"name": "db", "port": 5432, "at": 1}])
    );
    // A JSONata expression must give an array (recorded on AWS with an object).
    let jsonata = |items: &str| {
        json!({"Type": "Map", "QueryLanguage": "JSONata", "Items": items,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
            "End": true})
    };
    let done = run_state(
        "jsonata-object",
        jsonata("{% $states.input.jobs %}"),
        json!({"jobs": {"id": 7}}),
    )
    .await;
    assert_eq!(
        failed(&done),
        (
            "States.QueryEvaluationError",
            format!(
                "{}The JSONata expression '$states.input.jobs' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'object' for value: {{\"id\":7}}",
                at("S", 2)
            )
            .as_str()
        )
    );
    let done = run_state(
        "jsonata-array",
        jsonata("{% $states.input.jobs %}"),
        json!({"jobs": [1, 2]}),
    )
    .await;
    assert_eq!(output(&done), json!([1, 2]));
    // A member that is not there: what executions on AWS report, without the prefix.
    let done = run_state("no-items", map("$.jobs"), json!({"items": []})).await;
    assert_eq!(
        failed(&done),
        (
            "States.ReferencePathConflict",
            r#"Unable to apply step "jobs" to input {"items":[]}"#
        )
    );
    // So is a ResultPath through something that is not an object.
    let done = run_state(
        "result-path",
        json!({"Type": "Pass", "Result": 1, "ResultPath": "$.a.b", "End": true}),
        json!({"a": "text"}),
    )
    .await;
    assert_eq!(
        failed(&done),
        (
            "States.ReferencePathConflict",
            r#"Unable to apply step "b" to input {"a":"text"}"#
        )
    );
}

#[tokio::test]
async fn escaped_member_names_select_what_they_name() {
    let done = run_state(
        "escaped",
        json!({"Type": "Pass", "Parameters": {
            "dotted.$": "$['a.b']", "spaced.$": "$.['x y']", "quoted.$": "$['it\\'s']",
            "joined.$": "States.Format('{}-{}', $['a.b'], $['x y'])"}, "End": true}),
        json!({"a.b": 1, "x y": 2, "it's": 3, "a": {"b": 9}}),
    )
    .await;
    assert_eq!(
        output(&done),
        json!({"dotted": 1, "spaced": 2, "quoted": 3, "joined": "1-2"})
    );
}

/// A timestamp as Step Functions writes it in the context object: `2019-03-26T20:14:13.192Z`.
fn is_aws_timestamp(value: &Value) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    text.len() == 24
        && text.ends_with('Z')
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
        && text.as_bytes()[19] == b'.'
}

#[tokio::test]
async fn the_context_object_has_every_documented_field() {
    let env = env().await;
    let done = env
        .run(
            "full-context",
            json!({"StartAt": "Look", "States": {
                "Look": {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "ResultPath": "$.top", "Next": "Each"},
                "Each": {"Type": "Map", "ItemsPath": "$.items",
                    "ItemSelector": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value"},
                    "ItemProcessor": {"StartAt": "In", "States": {"In": {"Type": "Pass", "End": true}}},
                    "ResultPath": "$.each", "End": true}
            }}),
            json!({"items": ["a", "b"]}),
        )
        .await;
    let out = output(&done);
    let ctx = &out["top"]["ctx"];
    assert_eq!(ctx["Execution"]["Id"], json!(done.arn));
    assert_eq!(ctx["Execution"]["Name"], json!(done.name));
    assert_eq!(ctx["Execution"]["Input"], json!({"items": ["a", "b"]}));
    assert!(is_aws_timestamp(&ctx["Execution"]["StartTime"]), "{ctx}");
    assert!(
        ctx["Execution"]["RoleArn"]
            .as_str()
            .is_some_and(|r| r.starts_with("arn:aws:iam::")),
        "{ctx}"
    );
    assert_eq!(ctx["Execution"]["RedriveCount"], 0);
    // RedriveTime appears only once an execution has been redriven.
    assert!(ctx["Execution"].get("RedriveTime").is_none(), "{ctx}");
    assert_eq!(ctx["State"]["Name"], "Look");
    assert!(is_aws_timestamp(&ctx["State"]["EnteredTime"]), "{ctx}");
    assert_eq!(ctx["State"]["RetryCount"], 0);
    assert_eq!(ctx["StateMachine"]["Id"], json!(done.machine_arn));
    assert_eq!(ctx["StateMachine"]["Name"], "full-context");
    assert!(ctx.get("Task").is_none(), "{ctx}");
    assert_eq!(
        out["each"],
        json!([{"index": 0, "value": "a"}, {"index": 1, "value": "b"}])
    );
}

#[tokio::test]
async fn a_timed_out_task_reports_its_error_and_no_cause() {
    let env = env().await;
    let done = env
        .run(
            "slow",
            json!({"StartAt": "S", "States": {"S": {"Type": "Task",
                "Resource": "arn:weir:states:::action:command",
                "Parameters": {"command": "sleep 5"},
                "TimeoutSeconds": 1, "End": true}}}),
            json!({}),
        )
        .await;
    assert_eq!(done.status, "FAILED");
    assert_eq!(done.error.as_deref(), Some("States.Timeout"));
    assert_eq!(done.cause, None);
    let history = env.machines.history(&done.arn).await.unwrap();
    let timed_out = history
        .iter()
        .find(|e| e["type"] == "TaskTimedOut")
        .expect("a TaskTimedOut event");
    assert_eq!(
        timed_out["taskTimedOutEventDetails"]["error"],
        "States.Timeout"
    );
    assert!(
        timed_out["taskTimedOutEventDetails"].get("cause").is_none(),
        "{timed_out}"
    );
    assert_eq!(
        history.last().unwrap()["executionFailedEventDetails"],
        json!({"error": "States.Timeout"})
    );
}

/// A worker may answer a task token as soon as it has it, before the interpreter has started
/// waiting: Step Functions accepts that answer, so weir keeps it for the wait.
#[tokio::test]
async fn an_answer_sent_before_the_wait_starts_is_kept() {
    use super::interpreter::Services as _;
    let env = env().await;
    let services = super::services::Services::new(env.machines.clone());
    services.open_token("early");
    env.machines.send_task_heartbeat("early").unwrap();
    env.machines
        .send_task_success("early", r#"{"ok": true}"#)
        .await
        .unwrap();
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        services.await_token("early", Some(std::time::Duration::from_secs(5))),
    )
    .await
    .expect("the early answer was kept")
    .unwrap();
    assert_eq!(answer, json!({"ok": true}));
    // The wait took the answer and the token is gone.
    assert!(env.machines.send_task_success("early", "{}").await.is_err());

    // A token whose resource call failed takes no answers.
    services.open_token("abandoned");
    services.close_token("abandoned");
    assert!(
        env.machines
            .send_task_success("abandoned", "{}")
            .await
            .is_err()
    );
}

/// A missed heartbeat is reported as AWS records it: `States.Timeout` with no cause, though a
/// Catch on `States.HeartbeatTimeout` still takes it.
#[tokio::test]
async fn a_missed_heartbeat_reads_as_a_timeout() {
    let env = env().await;
    let task = json!({"Type": "Task",
        "Resource": "arn:weir:states:::action:command.waitForTaskToken",
        "Parameters": {"command": "true"},
        "HeartbeatSeconds": 1, "End": true});
    let done = env
        .run(
            "silent",
            json!({"StartAt": "S", "States": {"S": task}}),
            json!({}),
        )
        .await;
    assert_eq!(done.status, "FAILED");
    assert_eq!(done.error.as_deref(), Some("States.Timeout"));
    assert_eq!(done.cause, None);
    let history = env.machines.history(&done.arn).await.unwrap();
    let timed_out = history
        .iter()
        .find(|e| e["type"] == "TaskTimedOut")
        .expect("a TaskTimedOut event");
    assert_eq!(
        timed_out["taskTimedOutEventDetails"]["error"],
        "States.Timeout"
    );
    assert!(timed_out["taskTimedOutEventDetails"].get("cause").is_none());

    let mut caught = task.clone();
    caught["Catch"] = json!([{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Caught"}]);
    let done = env
        .run(
            "silent-caught",
            json!({"StartAt": "S", "States": {"S": caught, "Caught": {"Type": "Pass", "End": true}}}),
            json!({}),
        )
        .await;
    assert_eq!(output(&done), json!({"Error": "States.Timeout"}));
}

/// The first state's input is the execution's input as the caller wrote it (the console's
/// default is indented): its entered event and the causes of its errors quote that text.
#[tokio::test]
async fn the_first_state_quotes_the_input_as_written() {
    let env = env().await;
    let machine = env
        .machines
        .create(super::NewMachine {
            name: "as-written".into(),
            definition: json!({"StartAt": "Job", "States": {"Job": {"Type": "Pass",
                "Parameters": {"jobOption.$": "$.jobOption"}, "End": true}}})
            .to_string(),
            ..super::NewMachine::default()
        })
        .await
        .unwrap();
    let text = "{\n    \"Comment\": \"Insert your JSON here\"\n}";
    let started = env
        .machines
        .start_execution(super::NewExecution {
            machine_arn: machine.arn,
            name: None,
            input: Some(text.into()),
        })
        .await
        .unwrap();
    let done = env
        .machines
        .wait(&started.arn, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        failed(&done).1,
        format!(
            "{}The JSONPath '$.jobOption' specified for the field 'jobOption.$' could not be found in the input '{text}'",
            at("Job", 2)
        )
    );
    let history = env.machines.history(&done.arn).await.unwrap();
    assert_eq!(history[1]["stateEnteredEventDetails"]["input"], json!(text));
}

/// An execution recorded on AWS: a JSONata Task whose Arguments read a missing input field.
#[tokio::test]
async fn undefined_task_arguments_fail_as_recorded_on_aws() {
    let env = env().await;
    let done = env
        .run(
            "push",
            json!({"QueryLanguage": "JSONata", "StartAt": "Run S3 Data Push", "States": {
                "Run S3 Data Push": {"Type": "Task",
                    "Resource": "arn:weir:states:::action:command",
                    "Arguments": {"command": "true",
                        "Input": {"pushLocation": "{% $states.input.pushLocation %}"}},
                    "End": true}
            }}),
            json!({"other": 1}),
        )
        .await;
    assert_eq!(
        failed(&done),
        (
            "States.QueryEvaluationError",
            "An error occurred while executing the state 'Run S3 Data Push' (entered at the event id #2). The JSONata expression '$states.input.pushLocation' specified for the field 'Arguments/Input/pushLocation' returned nothing (undefined)."
        )
    );
}

/// An execution past its own TimeoutSeconds: TIMED_OUT with no error and no cause, as
/// recorded on AWS; its ExecutionTimedOut event names States.Timeout.
#[tokio::test]
async fn a_timed_out_execution_reports_no_error_or_cause() {
    let env = env().await;
    let done = env
        .run(
            "too-long",
            json!({"TimeoutSeconds": 1, "StartAt": "S",
                "States": {"S": {"Type": "Wait", "Seconds": 5, "End": true}}}),
            json!({}),
        )
        .await;
    assert_eq!(done.status, "TIMED_OUT");
    assert_eq!((done.error, done.cause), (None, None));
    let history = env.machines.history(&done.arn).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(last["type"], "ExecutionTimedOut");
    assert_eq!(
        last["executionTimedOutEventDetails"],
        json!({"error": "States.Timeout"})
    );
}

/// RedriveExecution: the iteration that failed runs again, the one that succeeded does not;
/// the history goes on under the same ARN; a succeeded execution is not redrivable; a client
/// token answers its redrive again.
#[tokio::test]
async fn redrive_reruns_only_what_failed() {
    let env = env().await;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("fixed");
    let definition = json!({"StartAt": "Each", "States": {
        // One iteration at a time: `ok` has succeeded before `flaky` fails (run side by side,
        // the failure may stop `ok` midway, and redrive then rightly runs it again too).
        "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
            "ItemSelector": {"item.$": "$$.Map.Item.Value", "dir.$": "$.dir", "marker.$": "$.marker"},
            "ItemProcessor": {"StartAt": "Work", "States": {"Work": {"Type": "Task",
                "Resource": "arn:weir:states:::action:command",
                "Parameters": {"command.$": "States.Format('echo x >> {}/{}.runs; test {} = ok || test -f {}', $.dir, $.item, $.item, $.marker)"},
                "End": true}}},
            "ResultPath": null, "End": true}
    }});
    let input = json!({"items": ["ok", "flaky"], "dir": dir.path().display().to_string(),
        "marker": marker.display().to_string()});
    let failed_run = env.run("redrive", definition, input).await;
    assert_eq!(failed_run.status, "FAILED", "{failed_run:?}");
    let runs = |item: &str| {
        std::fs::read_to_string(dir.path().join(format!("{item}.runs")))
            .unwrap_or_default()
            .lines()
            .count()
    };
    assert_eq!((runs("ok"), runs("flaky")), (1, 1));

    std::fs::write(&marker, "").unwrap();
    let redriven = env
        .machines
        .redrive(&failed_run.arn, Some("token-1"))
        .await
        .unwrap();
    assert_eq!(redriven.arn, failed_run.arn);
    assert_eq!(redriven.status, "RUNNING");
    assert_eq!(redriven.redrive_count, 1);
    assert!(redriven.redriven_at >= failed_run.stopped_at);
    let done = env
        .machines
        .wait(&failed_run.arn, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    assert_eq!(
        (runs("ok"), runs("flaky")),
        (1, 2),
        "only the failed iteration ran again"
    );
    let types = env.event_types(&done.arn).await;
    let redriven_at = types
        .iter()
        .position(|t| t == "ExecutionRedriven")
        .expect("an ExecutionRedriven event");
    assert_eq!(types[redriven_at - 1], "ExecutionFailed");
    assert_eq!(types.last().map(String::as_str), Some("ExecutionSucceeded"));
    let history = env.machines.history(&done.arn).await.unwrap();
    assert_eq!(
        history[redriven_at]["executionRedrivenEventDetails"],
        json!({"redriveCount": 1})
    );
    let ids: Vec<i64> = history.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as i64).collect::<Vec<_>>());

    // The same client token answers the same redrive; a new one finds nothing to redrive.
    let again = env
        .machines
        .redrive(&failed_run.arn, Some("token-1"))
        .await
        .unwrap();
    assert_eq!(
        (again.status.as_str(), again.redrive_count),
        ("SUCCEEDED", 1)
    );
    assert!(matches!(
        env.machines.redrive(&failed_run.arn, Some("token-2")).await,
        Err(super::MachineError::ExecutionNotRedrivable(_))
    ));
    let stored = env.machines.describe_execution(&done.arn).await.unwrap();
    assert_eq!(
        (stored.redrive_count, stored.redriven_at),
        (1, redriven.redriven_at)
    );
}

/// A redriven execution's context counts its redrives and says when the last was; its
/// TimeoutSeconds count from the redrive; a Parallel reruns only the branch that failed.
#[tokio::test]
async fn a_redriven_execution_knows_it_was_redriven() {
    let env = env().await;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("fixed");
    let branch = |name: &str, command: String| {
        json!({"StartAt": name, "States": {name: {"Type": "Task",
            "Resource": "arn:weir:states:::action:command",
            "Parameters": {"command": command}, "ResultPath": null, "End": true}}})
    };
    let runs = dir.path().join("steady.runs");
    let definition = json!({"TimeoutSeconds": 2, "StartAt": "Both", "States": {
        "Both": {"Type": "Parallel", "Branches": [
            branch("Steady", format!("echo x >> {}", runs.display())),
            branch("Flaky", format!("sleep 0.2; test -f {}", marker.display()))
        ], "ResultPath": null, "Next": "Look"},
        "Look": {"Type": "Pass", "Parameters": {"count.$": "$$.Execution.RedriveCount",
            "time.$": "$$.Execution.RedriveTime"}, "End": true}
    }});
    let failed_run = env.run("redriven-context", definition, json!({})).await;
    assert_eq!(failed_run.status, "FAILED", "{failed_run:?}");
    // Past the machine's two seconds since it started: a redrive gets two more.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    std::fs::write(&marker, "").unwrap();
    env.machines.redrive(&failed_run.arn, None).await.unwrap();
    let done = env
        .machines
        .wait(&failed_run.arn, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    let out = output(&done);
    assert_eq!(out["count"], 1);
    assert!(
        out["time"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{out}"
    );
    let steady = std::fs::read_to_string(&runs).unwrap();
    assert_eq!(
        steady.lines().count(),
        1,
        "the branch that succeeded ran once"
    );
}

/// A redriven execution can be stopped like any running one, even when the redrive came
/// right after the failure (the failed run must not take the new run's stop signal with it).
#[tokio::test]
async fn a_redriven_execution_can_be_stopped() {
    let env = env().await;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("fixed");
    let definition = json!({"StartAt": "Check", "States": {
        "Check": {"Type": "Task", "Resource": "arn:weir:states:::action:command",
            "Parameters": {"command": format!("test -f {}", marker.display())}, "Next": "Hold"},
        "Hold": {"Type": "Wait", "Seconds": 60, "End": true}
    }});
    let failed_run = env.run("redrive-stop", definition, json!({})).await;
    assert_eq!(failed_run.status, "FAILED");
    std::fs::write(&marker, "").unwrap();
    env.machines.redrive(&failed_run.arn, None).await.unwrap();
    let stopped = env
        .machines
        .stop(&failed_run.arn, None, Some("enough".into()))
        .await
        .unwrap();
    assert_eq!(stopped.status, "ABORTED");
    assert_eq!(stopped.cause.as_deref(), Some("enough"));
}

/// Each reason the API reference gives for `redriveStatus: NOT_REDRIVABLE`, word for word in
/// `redriveStatusReason` and in RedriveExecution's `ExecutionNotRedrivable`, which changes
/// nothing.
#[tokio::test]
async fn a_redrive_is_refused_for_each_documented_reason() {
    let env = env().await;
    let failing = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}});
    let record = env.run("refused", failing.clone(), json!({})).await;
    assert_eq!(record.status, "FAILED");
    let refusal = |record: super::ExecutionRecord| {
        let env = &env;
        async move {
            let put = super::MachineMutation::PutExecution(record.clone());
            env.store.apply(&[put.into()]).await.unwrap();
            let (status, reason) = env.machines.redrive_status(&record).await.unwrap();
            let refused = match env.machines.redrive(&record.arn, None).await {
                Err(super::MachineError::ExecutionNotRedrivable(message)) => message,
                other => panic!("{other:?}"),
            };
            assert_eq!(status, "NOT_REDRIVABLE");
            assert_eq!(reason.as_deref(), Some(refused.as_str()));
            let kept = env.machines.describe_execution(&record.arn).await.unwrap();
            assert_eq!(kept.status, record.status, "nothing changed");
            refused
        }
    };
    let day = 24 * 3600 * 1_000_000i64;
    let now = super::now_us();
    assert_eq!(
        env.machines.redrive_status(&record).await.unwrap(),
        ("REDRIVABLE", None)
    );
    let stopped_long_ago = super::ExecutionRecord {
        started_at: now - 16 * day,
        stopped_at: Some(now - 15 * day),
        ..record.clone()
    };
    assert_eq!(
        refusal(stopped_long_ago).await,
        "Execution redrivable period exceeded"
    );
    let open_a_year = super::ExecutionRecord {
        started_at: now - 366 * day,
        stopped_at: Some(now - day),
        ..record.clone()
    };
    assert_eq!(
        refusal(open_a_year).await,
        "Execution has exceeded the max execution time"
    );
    let succeeded = super::ExecutionRecord {
        status: "SUCCEEDED".into(),
        ..record.clone()
    };
    assert_eq!(
        refusal(succeeded).await,
        "Execution is SUCCEEDED and cannot be redriven"
    );
    let running = super::ExecutionRecord {
        status: "RUNNING".into(),
        stopped_at: None,
        ..record.clone()
    };
    assert_eq!(
        refusal(running).await,
        "Execution is RUNNING and cannot be redriven"
    );
    let full = env.run("full-history", failing.clone(), json!({})).await;
    let events: Vec<weir_store::Mutation> = (10..=24_999)
        .map(|id| {
            super::MachineMutation::HistoryEvent(weir_store::HistoryEventRecord {
                execution_arn: full.arn.clone(),
                id,
                previous_id: id - 1,
                at: now,
                event_type: "PassStateEntered".into(),
                details: "{}".into(),
            })
            .into()
        })
        .collect();
    env.store.apply(&events).await.unwrap();
    assert_eq!(
        refusal(full).await,
        "Execution history event limit exceeded"
    );
    env.machines.delete(&record.machine_arn).await.unwrap();
    assert_eq!(refusal(record).await, "State machine is in DELETING status");
}
