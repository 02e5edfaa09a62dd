//! The `noop` action: does nothing, optionally after a sleep, optionally failing, optionally with an
//! output. For wiring pipelines together and for measuring the engine itself.

use serde_json::Value;

use super::{ActionContext, ActionOutcome, ActionRunner, FailureKind, cancelled, sleep_until};

pub struct NoopRunner;

#[async_trait::async_trait]
impl ActionRunner for NoopRunner {
    async fn run(&self, mut ctx: ActionContext) -> ActionOutcome {
        let Some(Value::Object(noop)) = ctx.config.get("noop") else {
            return ActionOutcome::success(None);
        };
        if let Some(sleep) = noop.get("sleep").and_then(Value::as_str) {
            let duration = weir_model::duration::parse_duration(sleep).unwrap_or_default();
            let wake = tokio::time::Instant::now() + duration;
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                _ = sleep_until(ctx.deadline) => return ActionOutcome::failure(FailureKind::TimedOut, "timed out"),
                _ = cancelled(&mut ctx.cancel) => return ActionOutcome::failure(FailureKind::Cancelled, "cancelled"),
            }
        }
        let fail = match noop.get("fail") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.trim(), "true" | "True" | "1" | "yes"),
            _ => false,
        };
        if fail {
            return ActionOutcome::failure(FailureKind::Failed, "noop told to fail");
        }
        ActionOutcome::success(noop.get("output").cloned())
    }
}
