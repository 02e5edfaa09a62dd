//! Task resources: what a Task state's `Resource` names and how it runs.
//!
//! | resource | runs |
//! | --- | --- |
//! | `arn:aws:lambda:REGION:ACCOUNT:function:NAME` | the function NAME with the task input |
//! | `arn:aws:states:::lambda:invoke` | `FunctionName` with `Payload`; result `{Payload, StatusCode, …}` |
//! | `arn:aws:states:::states:startExecution[.sync[:2]]` | another state machine |
//! | `arn:weir:states:::pipeline:run[.sync]` | a pipeline run (`Pipeline`, `Params`) |
//! | `arn:weir:states:::action:KIND` | one of weir's actions (`command`, `http`, `sql`, …) |
//!
//! Any of them with `.waitForTaskToken` waits for SendTaskSuccess / SendTaskFailure instead of
//! taking the resource's result.

use serde_json::Value;
use weir_model::asl::StatesError;

/// How a resource's result is awaited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// The resource's answer is the result.
    RequestResponse,
    /// Wait for the started job (execution, run) to finish; `json_output` for `.sync:2`.
    Sync { json_output: bool },
    /// Wait for a task token to be returned.
    WaitForTaskToken,
}

/// A parsed resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A function by name (the Lambda function ARN form).
    Function(String),
    /// `lambda:invoke`: the function comes from the parameters.
    LambdaInvoke,
    StartExecution,
    PipelineRun,
    Action(String),
}

/// What a resource string means, or why it cannot run.
pub fn parse(resource: &str) -> Result<(Target, Pattern), StatesError> {
    let (base, pattern) = if let Some(base) = resource.strip_suffix(".waitForTaskToken") {
        (base, Pattern::WaitForTaskToken)
    } else if let Some(base) = resource.strip_suffix(".sync:2") {
        (base, Pattern::Sync { json_output: true })
    } else if let Some(base) = resource.strip_suffix(".sync") {
        (base, Pattern::Sync { json_output: false })
    } else {
        (resource, Pattern::RequestResponse)
    };
    let unknown = || {
        StatesError::runtime(format!(
            "weir cannot run the resource {resource}: it runs functions \
             (arn:aws:lambda:…:function:NAME, arn:aws:states:::lambda:invoke), state machines \
             (arn:aws:states:::states:startExecution), pipelines (arn:weir:states:::pipeline:run) \
             and actions (arn:weir:states:::action:KIND)"
        ))
    };
    let parts: Vec<&str> = base.split(':').collect();
    let target = match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name, ..] if !name.is_empty() => {
            Target::Function((*name).to_string())
        }
        ["arn", _, "states", "", "", "lambda", "invoke"] => Target::LambdaInvoke,
        ["arn", _, "states", "", "", "states", "startExecution"] => Target::StartExecution,
        ["arn", "weir", "states", "", "", "pipeline", "run"] => Target::PipelineRun,
        ["arn", "weir", "states", "", "", "action", kind] if !kind.is_empty() => {
            Target::Action((*kind).to_string())
        }
        _ => return Err(unknown()),
    };
    let allowed = matches!(
        (&target, pattern),
        (_, Pattern::RequestResponse | Pattern::WaitForTaskToken)
            | (Target::StartExecution, Pattern::Sync { .. })
            | (Target::PipelineRun, Pattern::Sync { json_output: false })
    );
    if !allowed {
        return Err(StatesError::runtime(format!(
            "{resource}: this resource has no .sync form"
        )));
    }
    Ok((target, pattern))
}

/// The function name in a `FunctionName` parameter: a name, or a function ARN (with an optional
/// version or alias, which weir ignores).
pub fn function_name(value: &Value) -> Result<String, StatesError> {
    let Some(text) = value.as_str() else {
        return Err(StatesError::runtime(
            "lambda:invoke needs FunctionName, a function name or ARN",
        ));
    };
    let parts: Vec<&str> = text.split(':').collect();
    Ok(match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name, ..] => (*name).to_string(),
        [name, _qualifier] => (*name).to_string(),
        _ => text.to_string(),
    })
}

/// The `resourceType` and `resource` Step Functions reports in Task events
/// (`lambda` + `invoke`, `states` + `startExecution.sync`, …).
pub fn event_names(resource: &str) -> (String, String) {
    let parts: Vec<&str> = resource.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", ..] => ("lambda".into(), "invoke".into()),
        ["arn", _, "states", "", "", service, api] => ((*service).into(), (*api).into()),
        _ => ("weir".into(), resource.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resources_parse_with_their_patterns() {
        assert_eq!(
            parse("arn:aws:lambda:us-east-1:123456789012:function:resize").unwrap(),
            (Target::Function("resize".into()), Pattern::RequestResponse)
        );
        assert_eq!(
            parse("arn:aws:states:::lambda:invoke.waitForTaskToken").unwrap(),
            (Target::LambdaInvoke, Pattern::WaitForTaskToken)
        );
        assert_eq!(
            parse("arn:aws:states:::states:startExecution.sync:2").unwrap(),
            (Target::StartExecution, Pattern::Sync { json_output: true })
        );
        assert_eq!(
            parse("arn:weir:states:::pipeline:run.sync").unwrap(),
            (Target::PipelineRun, Pattern::Sync { json_output: false })
        );
        assert_eq!(
            parse("arn:weir:states:::action:command").unwrap(),
            (Target::Action("command".into()), Pattern::RequestResponse)
        );
        assert!(parse("arn:aws:states:::dynamodb:putItem").is_err());
        assert!(parse("arn:aws:states:::lambda:invoke.sync").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn function_names_from_names_and_arns() {
        for (given, name) in [
            ("resize", "resize"),
            ("resize:prod", "resize"),
            ("arn:aws:lambda:eu-west-1:1:function:resize", "resize"),
            ("arn:aws:lambda:eu-west-1:1:function:resize:3", "resize"),
        ] {
            assert_eq!(function_name(&json!(given)).unwrap(), name);
        }
        assert!(function_name(&json!(3)).is_err());
    }

    #[test]
    fn event_names_follow_step_functions() {
        assert_eq!(
            event_names("arn:aws:states:::lambda:invoke"),
            ("lambda".into(), "invoke".into())
        );
        assert_eq!(
            event_names("arn:aws:states:::states:startExecution.sync"),
            ("states".into(), "startExecution.sync".into())
        );
    }
}
