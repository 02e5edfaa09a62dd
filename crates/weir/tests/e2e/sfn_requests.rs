//! Requests the Step Functions API refuses, refused as AWS refuses them: a body over the
//! request quota, and members outside the API model's constraints, in AWS's words, before
//! anything happens.

use serde_json::{Value, json};

use crate::support::*;

const MACHINE: &str = "arn:aws:states:us-east-1:000000000000:stateMachine:ok";

fn server() -> (Project, Server) {
    let project = Project::new();
    project.write(
        "machines/ok.asl.json",
        r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#,
    );
    let server = Server::start(project.path());
    (project, server)
}

/// Calls `operation` with `body`, expecting AWS's error `code` (status 400) with `message`.
fn refused(server: &Server, operation: &str, body: Value, code: &str, message: &str) {
    let (status, answer) = server.aws(&format!("AWSStepFunctions.{operation}"), &body.to_string());
    assert_eq!(status, 400, "{operation}: {answer}");
    assert_eq!(answer["__type"], code, "{operation}: {answer}");
    assert_eq!(answer["message"], message, "{operation}");
}

#[test]
fn a_body_over_the_request_quota_gets_an_aws_error() {
    let (_project, server) = server();
    // Step Functions' quota is 1 MB a request.
    let body = json!({"stateMachineArn": MACHINE, "input": "x".repeat(2 << 20)}).to_string();
    let (status, answer) = server.aws("AWSStepFunctions.StartExecution", &body);
    assert_eq!(status, 413, "{answer}");
    assert_eq!(
        answer["__type"], "RequestEntityTooLargeException",
        "{answer}"
    );
    let message = answer["message"].as_str().unwrap_or_default();
    assert!(message.contains("1048576 bytes"), "{message}");
    let (status, listed) = server.aws("AWSStepFunctions.ListExecutions", "{}");
    assert_eq!(status, 200);
    assert_eq!(listed["executions"], json!([]), "nothing started");
}

#[test]
fn start_execution_checks_the_model_then_the_name_and_the_input() {
    let (_project, server) = server();
    let long = "a".repeat(81);
    refused(
        &server,
        "StartExecution",
        json!({"stateMachineArn": MACHINE, "name": long}),
        "ValidationException",
        &format!(
            "1 validation error detected: Value '{long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80"
        ),
    );
    refused(
        &server,
        "StartExecution",
        json!({"stateMachineArn": MACHINE, "name": ""}),
        "ValidationException",
        "1 validation error detected: Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    // The input's quota is in bytes of UTF-8: 131,073 two-byte characters are too many.
    let input = format!("\"{}\"", "é".repeat(131_073));
    assert!(input.chars().count() < 262_144 && input.len() > 262_144);
    let quota = "Value at 'input' failed to satisfy constraint: Member must have size less than or equal to 262144 bytes in UTF-8 encoding";
    refused(
        &server,
        "StartExecution",
        json!({"stateMachineArn": MACHINE, "input": input}),
        "ValidationException",
        &format!("1 validation error detected: {quota}"),
    );
    // Every violation at once, the missing machine first.
    refused(
        &server,
        "StartExecution",
        json!({"name": long, "input": input}),
        "ValidationException",
        &format!(
            "3 validation errors detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null; \
             Value '{long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80; {quota}"
        ),
    );
    for name in ["a b", "a:b", "tab\there", "x\u{fffe}"] {
        refused(
            &server,
            "StartExecution",
            json!({"stateMachineArn": MACHINE, "name": name}),
            "InvalidName",
            &format!("Invalid Name: '{name}'"),
        );
    }
    let (status, answer) = server.aws(
        "AWSStepFunctions.StartExecution",
        &json!({"stateMachineArn": MACHINE, "input": "{not json"}).to_string(),
    );
    assert_eq!(status, 400);
    assert_eq!(answer["__type"], "InvalidExecutionInput");
    let message = answer["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Invalid State Machine Execution Input: '") && message.ends_with('\''),
        "{message}"
    );
    let (_, listed) = server.aws("AWSStepFunctions.ListExecutions", "{}");
    assert_eq!(listed["executions"], json!([]), "nothing started");
    // At the quota it starts.
    let input = format!("\"{}\"", "x".repeat(262_142));
    let (status, answer) = server.aws(
        "AWSStepFunctions.StartExecution",
        &json!({"stateMachineArn": MACHINE, "name": "full", "input": input}).to_string(),
    );
    assert_eq!(status, 200, "{answer}");
}

#[test]
fn machines_tokens_and_stops_are_checked_against_the_model() {
    let (_project, server) = server();
    let definition = r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#;
    refused(
        &server,
        "CreateStateMachine",
        json!({"definition": definition}),
        "ValidationException",
        "2 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not be null; \
         Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
    );
    refused(
        &server,
        "CreateStateMachine",
        json!({"name": "m", "definition": "", "roleArn": "arn:aws:iam::1:role/r", "type": "BATCH",
               "tags": [{"key": "k".repeat(129), "value": "v"}, {"key": "ok", "value": "v".repeat(257)}]}),
        "ValidationException",
        &format!(
            "4 validation errors detected: Value at 'definition' failed to satisfy constraint: Member must have length greater than or equal to 1; \
             Value 'BATCH' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]; \
             Value '{}' at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128; \
             Value '{}' at 'tags.2.member.value' failed to satisfy constraint: Member must have length less than or equal to 256",
            "k".repeat(129),
            "v".repeat(257)
        ),
    );
    refused(
        &server,
        "SendTaskFailure",
        json!({"taskToken": "t", "error": "e".repeat(257), "cause": "c".repeat(32_769)}),
        "ValidationException",
        "2 validation errors detected: Value at 'error' failed to satisfy constraint: Member must have length less than or equal to 256; \
         Value at 'cause' failed to satisfy constraint: Member must have length less than or equal to 32768",
    );
    refused(
        &server,
        "SendTaskSuccess",
        json!({"taskToken": "t", "output": format!("\"{}\"", "x".repeat(262_143))}),
        "ValidationException",
        "1 validation error detected: Value at 'output' failed to satisfy constraint: Member must have size less than or equal to 262144 bytes in UTF-8 encoding",
    );
    refused(
        &server,
        "SendTaskSuccess",
        json!({"taskToken": ""}),
        "ValidationException",
        "2 validation errors detected: Value '' at 'taskToken' failed to satisfy constraint: Member must have length greater than or equal to 1; \
         Value null at 'output' failed to satisfy constraint: Member must not be null",
    );
    let execution = "arn:aws:states:us-east-1:000000000000:execution:ok:one";
    refused(
        &server,
        "StopExecution",
        json!({"executionArn": execution, "cause": "c".repeat(32_769)}),
        "ValidationException",
        "1 validation error detected: Value at 'cause' failed to satisfy constraint: Member must have length less than or equal to 32768",
    );
    refused(
        &server,
        "RedriveExecution",
        json!({"executionArn": execution, "clientToken": "has space"}),
        "ValidationException",
        "1 validation error detected: Value 'has space' at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [!-~]+",
    );
    refused(
        &server,
        "ListExecutions",
        json!({"statusFilter": "DONE", "maxResults": 1001}),
        "ValidationException",
        "2 validation errors detected: Value 'DONE' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: \
         [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]; \
         Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000",
    );
    let (_, listed) = server.aws("AWSStepFunctions.ListStateMachines", "{}");
    assert_eq!(
        listed["stateMachines"].as_array().map(Vec::len),
        Some(1),
        "nothing created: {listed}"
    );
}
