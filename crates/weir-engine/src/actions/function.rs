//! The `function` action: invokes a function (`functions/NAME.yaml`) with the task's `payload`
//! (templates already rendered) and passes its result downstream as the task's output. The
//! attempt's log names the invocation (whose own log holds the payload and stderr) and shows the
//! result, or the error and its cause.

use std::io::Write;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{ActionContext, ActionOutcome, ActionRunner, FailureKind, cancelled, sleep_until};
use crate::functions::{Functions, errors};

/// Runs `function` tasks against the project's functions.
pub struct FunctionRunner {
    functions: Arc<Functions>,
}

impl FunctionRunner {
    pub fn new(functions: Arc<Functions>) -> Self {
        FunctionRunner { functions }
    }
}

/// The event to send. Templates render to strings, so a string holding JSON text is the JSON it
/// holds (`payload: "{{ tasks.list.output | tojson }}"` passes an upstream output as it is); any
/// other string is sent as a JSON string. No payload is `{}`, as Lambda sends.
fn payload(config: &Map<String, Value>) -> Value {
    match config.get("payload") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::String(text)) => {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()))
        }
        Some(other) => other.clone(),
    }
}

#[async_trait::async_trait]
impl ActionRunner for FunctionRunner {
    async fn run(&self, mut ctx: ActionContext) -> ActionOutcome {
        let Some(name) = ctx.config.get("function").and_then(Value::as_str) else {
            return ActionOutcome::failure(
                FailureKind::Failed,
                "`function` must name a function (a file functions/NAME.yaml)",
            );
        };
        let name = name.to_string();
        let event = payload(&ctx.config);
        let _ = writeln!(ctx.log, "function {name}\npayload: {event}");
        let outcome = tokio::select! {
            outcome = self.functions.invoke(&name, &event) => outcome,
            // Dropping the invocation stops its processes.
            _ = sleep_until(ctx.deadline) => {
                let _ = writeln!(ctx.log, "the task timed out: the invocation was stopped");
                return ActionOutcome::failure(FailureKind::TimedOut, "timed out: the invocation was stopped");
            }
            _ = cancelled(&mut ctx.cancel) => {
                let _ = writeln!(ctx.log, "cancelled: the invocation was stopped");
                return ActionOutcome::failure(FailureKind::Cancelled, "cancelled: the invocation was stopped");
            }
        };
        match outcome {
            Ok(invocation) => {
                let text = invocation.result.to_string();
                let _ = writeln!(
                    ctx.log,
                    "invocation {} succeeded in {} ms\nresult: {text}",
                    invocation.id,
                    invocation.duration.as_millis()
                );
                if text.len() > ctx.max_output_bytes {
                    return ActionOutcome::failure(
                        FailureKind::Failed,
                        format!(
                            "the function's result is {} bytes, more than the {} a task output may hold: pass large data through the lake",
                            text.len(),
                            ctx.max_output_bytes
                        ),
                    );
                }
                ActionOutcome::success((!invocation.result.is_null()).then_some(invocation.result))
            }
            Err(e) => {
                let id = e.invocation_id.as_deref().unwrap_or("-");
                let _ = writeln!(
                    ctx.log,
                    "invocation {id} failed: {}\ncause:\n{}",
                    e.error, e.cause
                );
                let kind = if e.error == errors::TIMEOUT {
                    FailureKind::TimedOut
                } else {
                    FailureKind::Failed
                };
                ActionOutcome::failure(kind, e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn payloads_are_json_whatever_the_templates_rendered() {
        assert_eq!(payload(&config(json!({"function": "f"}))), json!({}));
        assert_eq!(
            payload(&config(json!({"payload": "{\"a\": [1, 2]}"}))),
            json!({"a": [1, 2]})
        );
        assert_eq!(
            payload(&config(json!({"payload": "2026-01-01"}))),
            json!("2026-01-01")
        );
        assert_eq!(
            payload(&config(json!({"payload": {"day": "2026-01-01", "n": 3}}))),
            json!({"day": "2026-01-01", "n": 3})
        );
    }
}
