//! The `http` action: one request; the status decides success (2xx unless `expect_status` says
//! otherwise). The exchange is written to the attempt's log; the status and the body (parsed as
//! JSON when it is JSON) become the task's output.

use std::io::Write;

use serde_json::{Value, json};

use super::{ActionContext, ActionOutcome, ActionRunner, FailureKind, cancelled, sleep_until};

pub struct HttpRunner {
    client: reqwest::Client,
}

impl HttpRunner {
    pub fn new() -> Self {
        HttpRunner { client: client() }
    }
}

/// An HTTP client with rustls on the ring provider (installed once per process).
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("weir/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

#[async_trait::async_trait]
impl ActionRunner for HttpRunner {
    async fn run(&self, mut ctx: ActionContext) -> ActionOutcome {
        let spec = match ctx.config.get("http") {
            Some(Value::String(url)) => json!({ "url": url }),
            Some(other) => other.clone(),
            None => {
                return ActionOutcome::failure(
                    FailureKind::Failed,
                    "http action without configuration",
                );
            }
        };
        let url = spec
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let body = spec.get("body").cloned();
        let default_method = if body.is_some() { "POST" } else { "GET" };
        let method_name = spec
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or(default_method)
            .to_ascii_uppercase();
        let Ok(method) = reqwest::Method::from_bytes(method_name.as_bytes()) else {
            return ActionOutcome::failure(
                FailureKind::Failed,
                format!("invalid HTTP method `{method_name}`"),
            );
        };
        let mut request = self.client.request(method, &url);
        if let Some(Value::Object(headers)) = spec.get("headers") {
            for (name, value) in headers {
                request = request.header(
                    name,
                    value
                        .as_str()
                        .map(String::from)
                        .unwrap_or_else(|| value.to_string()),
                );
            }
        }
        request = match body {
            Some(Value::String(text)) => request.body(text),
            Some(Value::Null) | None => request,
            Some(json) => request.json(&json),
        };
        let timeout = match spec.get("timeout") {
            Some(Value::String(text)) => weir_model::duration::parse_duration(text).ok(),
            Some(Value::Number(seconds)) => seconds
                .as_f64()
                .and_then(|s| weir_model::duration::from_seconds(s).ok()),
            _ => None,
        };
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        let _ = writeln!(ctx.log, "> {method_name} {url}");
        let response = tokio::select! {
            response = request.send() => response,
            _ = sleep_until(ctx.deadline) => return ActionOutcome::failure(FailureKind::TimedOut, "timed out waiting for the response"),
            _ = cancelled(&mut ctx.cancel) => return ActionOutcome::failure(FailureKind::Cancelled, "cancelled"),
        };
        let response = match response {
            Ok(response) => response,
            Err(e) => {
                let _ = writeln!(ctx.log, "! {e}");
                return ActionOutcome::failure(
                    FailureKind::Failed,
                    format!("request to {url} failed: {}", error_chain(&e)),
                );
            }
        };
        let status = response.status();
        let text = tokio::select! {
            text = response.text() => text.unwrap_or_default(),
            _ = sleep_until(ctx.deadline) => return ActionOutcome::failure(FailureKind::TimedOut, "timed out reading the response"),
            _ = cancelled(&mut ctx.cancel) => return ActionOutcome::failure(FailureKind::Cancelled, "cancelled"),
        };
        let _ = writeln!(ctx.log, "< {status}");
        let shown = text.get(..text.len().min(64 * 1024)).unwrap_or(&text);
        let _ = writeln!(ctx.log, "{shown}");
        let expected = match spec.get("expect_status") {
            Some(Value::Array(codes)) => codes
                .iter()
                .any(|c| c.as_u64() == Some(status.as_u16() as u64)),
            Some(code) => code.as_u64() == Some(status.as_u16() as u64),
            None => status.is_success(),
        };
        if !expected {
            let snippet: String = text.chars().take(300).collect();
            let wanted = spec
                .get("expect_status")
                .map(|v| v.to_string())
                .unwrap_or_else(|| "2xx".into());
            return ActionOutcome::failure(
                FailureKind::Failed,
                format!("HTTP {status} from {url} (expected {wanted}): {snippet}"),
            );
        }
        let mut output = json!({ "status": status.as_u16() });
        if text.len() <= ctx.max_output_bytes && !text.is_empty() {
            output["body"] = serde_json::from_str(&text).unwrap_or(Value::String(text));
        }
        ActionOutcome::success(Some(output))
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        message.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    message
}
