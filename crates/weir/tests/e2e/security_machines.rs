//! Grants on state machines hold for every member of a Step Functions request that names one:
//! an execution ARN, a state machine ARN, a task token, a listing without a filter.

use std::time::Duration;

use serde_json::{Value, json};

use crate::security::{audit_when, create, project};
use crate::support::*;

/// Calls an AWS JSON operation with a bearer token: status and body.
fn aws_as(server: &Server, token: &str, operation: &str, body: &Value) -> (u16, Value) {
    let bearer = format!("Bearer {token}");
    let target = format!("AWSStepFunctions.{operation}");
    let (status, text) = http_with(
        "POST",
        &format!("{}/", server.url),
        Some(&body.to_string()),
        &[
            ("X-Amz-Target", target.as_str()),
            ("Content-Type", "application/x-amz-json-1.0"),
            ("Authorization", bearer.as_str()),
        ],
    )
    .expect("server answers");
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    (status, value)
}

#[test]
fn state_machine_grants_hold_for_every_member_a_request_names() {
    let project = project();
    project.write(
        "machines/etl_flow.asl.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
    );
    // Waits for its task token, which it writes where the test can read it.
    project.write(
        "machines/payroll.asl.json",
        r#"{"StartAt": "Approve", "States": {"Approve": {"Type": "Task",
            "Resource": "arn:weir:states:::action:command.waitForTaskToken",
            "Parameters": {"command.$": "States.Format('printf %s {} > token.txt', $$.Task.Token)"},
            "End": true}}}"#,
    );
    let server = Server::start(project.path());
    let start = |machine: &str| {
        let arn = format!("arn:aws:states:us-east-1:000000000000:stateMachine:{machine}");
        let (status, answer) = server.aws(
            "AWSStepFunctions.StartExecution",
            &json!({"stateMachineArn": arn, "name": "one"}).to_string(),
        );
        assert_eq!(status, 200, "{answer}");
        (arn, answer["executionArn"].as_str().unwrap().to_string())
    };
    let (etl_arn, etl_execution) = start("etl_flow");
    let (_, payroll_execution) = start("payroll");
    assert!(eventually(Duration::from_secs(10), || !project
        .read("token.txt")
        .is_empty()));
    let token = project.read("token.txt");

    let narrow = create(&server, "operator", "etl", &["--pipelines", "etl_*"]);
    let etl = narrow["token"].as_str().unwrap();
    let denied = |operation: &str, body: Value| {
        let (status, answer) = aws_as(&server, etl, operation, &body);
        assert_eq!(status, 400, "{operation} {body}: {answer}");
        assert_eq!(
            answer["__type"], "AccessDeniedException",
            "{operation} {body}: {answer}"
        );
    };
    // A granted machine's ARN beside another machine's execution grants nothing.
    for operation in [
        "DescribeExecution",
        "GetExecutionHistory",
        "StopExecution",
        "RedriveExecution",
    ] {
        denied(
            operation,
            json!({"executionArn": payroll_execution, "stateMachineArn": etl_arn}),
        );
    }
    // A task token answers the task of the execution it was handed out for.
    denied(
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "{}"}),
    );
    denied("SendTaskFailure", json!({"taskToken": token, "error": "E"}));
    denied("SendTaskHeartbeat", json!({"taskToken": token}));
    let (_, described) = server.aws(
        "AWSStepFunctions.DescribeExecution",
        &json!({"executionArn": payroll_execution}).to_string(),
    );
    assert_eq!(described["status"], "RUNNING", "{described}");

    // A listing with no machine named shows the granted machines' executions only.
    let (status, listed) = aws_as(&server, etl, "ListExecutions", &json!({}));
    assert_eq!(status, 200, "{listed}");
    let listed: Vec<&str> = listed["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["executionArn"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [etl_execution.as_str()]);
    let (status, answer) = aws_as(
        &server,
        etl,
        "DescribeExecution",
        &json!({"executionArn": etl_execution}),
    );
    assert_eq!(status, 200, "{answer}");

    // The refusals are audited with the resource they were about.
    let refused = |entries: &[Value]| {
        entries
            .iter()
            .filter(|e| e["credential"] == "etl" && e["outcome"] == "denied")
            .filter(|e| e["target"] == payroll_execution.as_str())
            .count()
    };
    let audit = audit_when(&server, |entries| refused(entries) >= 7);
    assert_eq!(refused(audit["entries"].as_array().unwrap()), 7, "{audit}");
    // The token is a secret: the audit log keeps the execution it names, not the token.
    assert!(!audit.to_string().contains(&token), "{audit}");
}
