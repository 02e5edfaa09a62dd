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
        // What is kept of the body: enough for the output and for the log, and no more.
        let limit = ctx.max_output_bytes.max(LOGGED_BYTES);
        let body = tokio::select! {
            body = read_capped(response, limit) => body,
            _ = sleep_until(ctx.deadline) => return ActionOutcome::failure(FailureKind::TimedOut, "timed out reading the response"),
            _ = cancelled(&mut ctx.cancel) => return ActionOutcome::failure(FailureKind::Cancelled, "cancelled"),
        };
        let (body, cut) = match body {
            Ok(body) => body,
            Err(e) => {
                let _ = writeln!(ctx.log, "! {e}");
                return ActionOutcome::failure(
                    FailureKind::Failed,
                    format!(
                        "reading the response from {url} failed: {}",
                        error_chain(&e)
                    ),
                );
            }
        };
        let text = String::from_utf8_lossy(&body).into_owned();
        let _ = writeln!(ctx.log, "< {status}");
        let shown = text
            .char_indices()
            .take_while(|(at, _)| *at < LOGGED_BYTES)
            .map(|(_, c)| c)
            .collect::<String>();
        let _ = writeln!(ctx.log, "{shown}");
        if cut {
            let _ = writeln!(
                ctx.log,
                "(the response is longer than {limit} bytes; the rest was not read)"
            );
        }
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
        if !cut && text.len() <= ctx.max_output_bytes && !text.is_empty() {
            output["body"] = serde_json::from_str(&text).unwrap_or(Value::String(text));
        }
        ActionOutcome::success(Some(output))
    }
}

/// Bytes of a response body written to the attempt's log.
const LOGGED_BYTES: usize = 64 * 1024;

/// Reads at most `limit + 1` bytes of the body; true when there was more (the rest is not read,
/// so a huge or endless response costs no more than the limit).
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit + 1 - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() > limit {
            body.truncate(limit);
            return Ok((body, true));
        }
    }
    Ok((body, false))
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

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::time::Duration;

    use serde_json::{Map, json};

    use super::super::ActionRunner;
    use super::HttpRunner;

    /// A server whose answer never ends: a chunked body fed until the client hangs up.
    fn endless_server() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let Ok((mut socket, _)) = listener.accept() else {
                return;
            };
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request);
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).is_err() {
                return;
            }
            let chunk = format!("{:x}\r\n{}\r\n", 65536, "y".repeat(65536));
            while socket.write_all(chunk.as_bytes()).is_ok() {}
        });
        url
    }

    #[tokio::test]
    async fn an_endless_response_is_cut_while_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Map::new();
        config.insert("http".into(), json!({ "url": endless_server() }));
        let (ctx, _cancel) = super::super::test_context(dir.path(), config);
        let outcome = tokio::time::timeout(Duration::from_secs(20), HttpRunner::new().run(ctx))
            .await
            .expect("the action ended (it read the endless body to its end before)");
        // Succeeded on the status; the body, too large for the output, is left out of it.
        assert_eq!(outcome.result, Ok(Some(json!({ "status": 200 }))));
        let log = std::fs::read_to_string(dir.path().join("t.log")).unwrap();
        assert!(
            log.contains("longer than 1048576 bytes"),
            "{}",
            &log[log.len() - 200..]
        );
        assert!(log.len() < 100 * 1024, "the log holds {} bytes", log.len());
    }
}
