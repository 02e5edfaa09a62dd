//! The client side of the REST API, for commands that talk to a running server.

use anyhow::{Context, anyhow};
use serde_json::Value;

pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(server: &str) -> anyhow::Result<Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Client {
            base: server.trim_end_matches('/').to_string(),
            http,
        })
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    /// Calls an operation of an AWS JSON 1.0 protocol on `POST /` (`target`, e.g.
    /// `AWSStepFunctions.StartExecution`); an AWS error becomes `ErrorName: message`.
    pub async fn aws(&self, target: &str, body: &Value) -> anyhow::Result<Value> {
        let request = self
            .http
            .post(self.url("/"))
            .header("x-amz-target", target)
            .header(reqwest::header::CONTENT_TYPE, "application/x-amz-json-1.0")
            .body(body.to_string());
        let (status, value) = self.exchange(request).await?;
        if status.is_success() {
            return Ok(value);
        }
        let name = value["__type"].as_str().unwrap_or("Error");
        let message = value["message"].as_str().unwrap_or_default();
        Err(anyhow!("{name}: {message}"))
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.http.delete(self.url(path))).await
    }

    pub async fn put_bytes(&self, path: &str, body: Vec<u8>) -> anyhow::Result<Value> {
        self.send(self.http.put(self.url(path)).body(body)).await
    }

    /// POSTs raw JSON text and returns the status with the body, for endpoints whose non-2xx
    /// answers carry data (a function's error); only failing to reach the server is an error.
    pub async fn post_text_with_status(
        &self,
        path: &str,
        body: String,
    ) -> anyhow::Result<(u16, Value)> {
        let response = self
            .http
            .post(self.url(path))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "cannot reach the weir server at {} (start one with `weir server`, or point --server / WEIR_SERVER at it): {e}",
                    self.base
                )
            })?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .context("cannot read the server's response")?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, body))
    }

    /// A raw body (an object's bytes); errors as for JSON calls.
    pub async fn get_bytes(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let response = self
            .http
            .get(self.url(path))
            .send()
            .await
            .map_err(|e| anyhow!("cannot reach the weir server at {}: {e}", self.base))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .context("cannot read the server's response")?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let message = body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        Err(anyhow!("{message} (HTTP {})", status.as_u16()))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `request`; the status and the body (JSON, or the text as a JSON string).
    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<(reqwest::StatusCode, Value)> {
        let response = request.send().await.map_err(|e| {
            if e.is_connect() {
                anyhow!("cannot reach the weir server at {} (start one with `weir server`, or point --server / WEIR_SERVER at it)", self.base)
            } else {
                anyhow!("request to {} failed: {e}", self.base)
            }
        })?;
        let status = response.status();
        let text = response
            .text()
            .await
            .context("cannot read the server's response")?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let (status, body) = self.exchange(request).await?;
        if status.is_success() {
            return Ok(body);
        }
        let message = body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| body.to_string());
        Err(anyhow!("{message} (HTTP {})", status.as_u16()))
    }
}

/// Percent-encodes one path segment.
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
