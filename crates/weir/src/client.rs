//! The client side of the REST API, for commands that talk to a running server.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, anyhow};
use serde_json::Value;
use tokio::io::AsyncReadExt;

use crate::args::ClientArgs;

#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    /// Whether `--ca-cert` was given, for the advice when the server's certificate is refused.
    ca_cert: bool,
}

impl Client {
    /// A client of the server at `--server`, sending the credential [`token`] finds and trusting
    /// the certificates of `--ca-cert` (or `WEIR_CA_CERT`) besides the system's roots.
    pub fn new(args: &ClientArgs) -> anyhow::Result<Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = token(args) {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| anyhow!("the token has characters a header cannot carry"))?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let mut builder = reqwest::Client::builder().default_headers(headers);
        if let Some(path) = &args.ca_cert {
            builder = builder.tls_certs_merge(trusted_certificates(path)?);
        }
        let http = builder.build().context("cannot build the HTTP client")?;
        Ok(Client {
            base: args.server.trim_end_matches('/').to_string(),
            http,
            ca_cert: args.ca_cert.is_some(),
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

    pub async fn put(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(self.http.put(self.url(path)).json(body)).await
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.http.delete(self.url(path))).await
    }

    /// PUTs the file at `source` as the body, streamed from disk a chunk at a time.
    pub async fn put_file(&self, path: &str, source: &Path) -> anyhow::Result<Value> {
        let file = tokio::fs::File::open(source)
            .await
            .with_context(|| format!("cannot read {}", source.display()))?;
        let size = file
            .metadata()
            .await
            .with_context(|| format!("cannot read {}", source.display()))?
            .len();
        let chunks = futures::stream::try_unfold(file, |mut file| async move {
            let mut chunk = Vec::with_capacity(UPLOAD_CHUNK);
            let read = (&mut file)
                .take(UPLOAD_CHUNK as u64)
                .read_to_end(&mut chunk)
                .await?;
            Ok::<_, std::io::Error>((read > 0).then_some((chunk, file)))
        });
        let request = self
            .http
            .put(self.url(path))
            .header(reqwest::header::CONTENT_LENGTH, size)
            .body(reqwest::Body::wrap_stream(chunks));
        self.send(request).await
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
            .map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .context("cannot read the server's response")?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, body))
    }

    /// Writes a raw body (an object's bytes) to `out` as it arrives; the bytes written. Errors
    /// as for JSON calls.
    pub async fn download(&self, path: &str, out: &mut dyn Write) -> anyhow::Result<u64> {
        let response = self
            .http
            .get(self.url(path))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        let mut response = response;
        let mut written = 0u64;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| anyhow!("the download broke off: {}", error_chain(&e)))?
        {
            out.write_all(&chunk)?;
            written += chunk.len() as u64;
        }
        out.flush()?;
        Ok(written)
    }

    /// POSTs `body` and writes the streamed answer to `out` as it arrives; the rows sent and
    /// whether rows were left out, from the answer's trailers.
    pub async fn export(
        &self,
        path: &str,
        body: &Value,
        out: &mut dyn Write,
    ) -> anyhow::Result<Option<ExportEnd>> {
        use http_body_util::BodyExt;
        let response = self
            .http
            .post(self.url(path))
            .header(reqwest::header::TE, "trailers")
            .json(body)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        let mut body = reqwest::Body::from(response);
        let mut end = None;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                anyhow!(
                    "the result broke off midway, so what was written is incomplete (the server's \
                     log says why): {}",
                    error_chain(&e)
                )
            })?;
            match frame.into_data() {
                Ok(data) => out.write_all(&data)?,
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        let value = |name: &str| {
                            trailers
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_string)
                        };
                        end = Some(ExportEnd {
                            rows: value("weir-row-count")
                                .and_then(|v| v.parse().ok())
                                .unwrap_or(0),
                            truncated: value("weir-truncated").as_deref() == Some("true"),
                        });
                    }
                }
            }
        }
        out.flush()?;
        Ok(end)
    }

    /// Why a request got no answer, with the causes (`error sending request` alone says nothing).
    fn unreachable(&self, error: &reqwest::Error) -> anyhow::Error {
        if let Some(refused) = certificate_refused(error) {
            let advice = match refused {
                Refused::CaAsServer => "a CA certificate (basicConstraints CA:TRUE) is no server \
                    certificate to this client: make the server's with \
                    `-addext basicConstraints=critical,CA:FALSE` (docs/security.md)"
                    .to_string(),
                Refused::Other(reason) if self.ca_cert => format!(
                    "{reason}; the certificates of --ca-cert / WEIR_CA_CERT do not vouch for it"
                ),
                Refused::Other(reason) => format!(
                    "{reason}; for a self-signed certificate or a private CA, pass its \
                     certificate with --ca-cert FILE or WEIR_CA_CERT"
                ),
            };
            anyhow!(
                "the weir server at {} presented a certificate this client does not trust: {advice}",
                self.base
            )
        } else if error.is_connect() {
            anyhow!(
                "cannot reach the weir server at {} (start one with `weir server`, or point --server / WEIR_SERVER at it)",
                self.base
            )
        } else {
            anyhow!("request to {} failed: {}", self.base, error_chain(error))
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `request`; the status and the body (JSON, or the text as a JSON string).
    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<(reqwest::StatusCode, Value)> {
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
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
        Err(failure(status, &body))
    }
}

/// What a streamed export's trailers say.
pub struct ExportEnd {
    pub rows: u64,
    pub truncated: bool,
}

/// Bytes of a file read and sent at a time.
const UPLOAD_CHUNK: usize = 1 << 20;

/// The error of a call the server refused, in the server's words.
async fn refusal(response: reqwest::Response) -> anyhow::Error {
    let status = response.status();
    match response.text().await {
        Ok(text) => failure(
            status,
            &serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ),
        Err(e) => anyhow!("cannot read the server's response: {}", error_chain(&e)),
    }
}

/// The credential to send: `--token` or `WEIR_TOKEN`, else the admin token of the project in
/// the current directory (`DATA/admin-token`, which the server writes at its first start), so a
/// local user runs commands in the project with no extra step.
pub fn token(args: &crate::args::ClientArgs) -> Option<String> {
    if let Some(token) = args.token.as_deref().filter(|t| !t.is_empty()) {
        return Some(token.trim().to_string());
    }
    let project = Path::new(".");
    let config = crate::settings::load(project).ok()?;
    let data_dir = crate::settings::data_dir(project, &config, None);
    std::fs::read_to_string(data_dir.join("admin-token"))
        .ok()
        .map(|token| token.trim().to_string())
        .filter(|token| !token.is_empty())
}

/// The server's message of a failed call (`{"error": {"message"}}`, or the body as it is).
fn failure(status: reqwest::StatusCode, body: &Value) -> anyhow::Error {
    if status == reqwest::StatusCode::UNAUTHORIZED {
        let message = body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("authentication required");
        return anyhow!(
            "{message} (HTTP 401). Run the command inside the project (the CLI reads its \
             .weir/admin-token), or pass --token / set WEIR_TOKEN (see `weir tokens create`)"
        );
    }
    let message = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| match body {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        });
    anyhow!("{message} (HTTP {})", status.as_u16())
}

/// The PEM certificates of `--ca-cert`, each checked, the file named in every error.
fn trusted_certificates(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path)
        .with_context(|| format!("cannot read the CA certificate {}", path.display()))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        anyhow!(
            "the CA certificate {} does not hold valid PEM certificates: {}",
            path.display(),
            error_chain(&e)
        )
    })?;
    if certificates.is_empty() {
        anyhow::bail!(
            "the CA certificate {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        );
    }
    Ok(certificates)
}

/// Why TLS refused the server's certificate.
enum Refused {
    /// A self-signed certificate marked as a CA: webpki accepts no CA as the server's own.
    CaAsServer,
    Other(String),
}

/// What TLS says of the server's certificate, when that is why the connection failed.
fn certificate_refused(error: &reqwest::Error) -> Option<Refused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(inner) = source {
        if let Some(rustls::Error::InvalidCertificate(reason)) =
            inner.downcast_ref::<rustls::Error>()
        {
            // webpki's own error type is not a dependency of weir; its name says enough.
            return Some(if format!("{reason:?}").contains("CaUsedAsEndEntity") {
                Refused::CaAsServer
            } else {
                Refused::Other(reason.to_string())
            });
        }
        // An I/O error's `source` skips the error it wraps (rustls' among them); `get_ref` does not.
        source = match inner.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            None => inner.source(),
        };
    }
    None
}

/// An error with its causes, `: `-separated.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        message.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    message
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
