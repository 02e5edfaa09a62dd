//! Test support: temporary projects, the real `weir` binary as a server and as a client, raw HTTP
//! on loopback, and kill -9.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_weir");

/// The crate's directory: from the environment the test runs in (cargo and nextest set it), so
/// that a test binary kept in a shared target directory finds the checkout it is run from; the
/// directory it was built in otherwise.
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// A project directory that is removed at the end of the test.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("pipelines")).expect("pipelines dir");
        Project { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, relative: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, content).expect("write");
        path
    }

    pub fn pipeline(&self, name: &str, yaml: &str) -> PathBuf {
        self.write(&format!("pipelines/{name}.yaml"), yaml)
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(relative)).unwrap_or_default()
    }
}

/// Runs `weir` with the given arguments (no server involved).
pub fn weir(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("WEIR_SERVER")
        .output()
        .expect("run weir")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A `weir server` process.
pub struct Server {
    child: Option<Child>,
    pub url: String,
    pub project: PathBuf,
    pub data: PathBuf,
    port: u16,
    env: Vec<(String, String)>,
    log: PathBuf,
    /// The key pair `aws_env` made, once.
    aws_keys: std::sync::OnceLock<(String, String)>,
    /// Started inside the project as `weir server` with no `--project` (so `.`, and a relative
    /// data directory `./.weir`), as a user in the project directory starts it.
    relative: bool,
    /// Serves HTTPS (its flags in `args` or its settings in weir.toml): `url` is `https://`, and
    /// the server is up when its log says so (the test's plain HTTP probe cannot ask).
    https: bool,
    /// More `weir server` arguments.
    args: Vec<String>,
}

impl Server {
    /// Starts the server from inside the project directory, with its defaults: `--project .`
    /// and the data directory `.weir` as relative paths.
    pub fn start_relative(project: &Path, env: &[(&str, &str)]) -> Server {
        Server::start_as(project, env, true)
    }
    pub fn start(project: &Path) -> Server {
        Server::start_with(project, &[])
    }

    pub fn start_with(project: &Path, env: &[(&str, &str)]) -> Server {
        Server::start_as(project, env, false)
    }

    /// Starts a server that serves HTTPS from inside the project, as `weir server` run there,
    /// with `args` (`--tls-cert`, `--tls-key`) or with the certificate and key its weir.toml
    /// names (no `args`).
    pub fn start_https(project: &Path, args: &[&str]) -> Server {
        Server::https(project, args, true)
    }

    /// Like [`Server::start_https`], started from another directory with `--project`.
    pub fn start_https_with_project_flag(project: &Path, args: &[&str]) -> Server {
        Server::https(project, args, false)
    }

    fn https(project: &Path, args: &[&str], relative: bool) -> Server {
        let mut server = Server::new(project, &[], relative);
        server.https = true;
        server.args = args.iter().map(|a| a.to_string()).collect();
        server.url = server.base_url();
        server.spawn(true);
        server
    }

    fn start_as(project: &Path, env: &[(&str, &str)], relative: bool) -> Server {
        let mut server = Server::new(project, env, relative);
        server.spawn(true);
        server
    }

    fn new(project: &Path, env: &[(&str, &str)], relative: bool) -> Server {
        let port = free_port();
        let data = project.join(".weir");
        Server {
            child: None,
            url: format!("http://127.0.0.1:{port}"),
            project: project.to_path_buf(),
            data,
            port,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            log: project.join("server.log"),
            aws_keys: std::sync::OnceLock::new(),
            relative,
            https: false,
            args: Vec::new(),
        }
    }

    fn base_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Starts the server and waits until it answers. A port found free may be taken before the
    /// server binds it (while a server is down, the kernel may give its port to another test's
    /// outgoing connection): a first start then moves to another port at once, a restart tries
    /// the same port for a second before it moves (`url` follows).
    fn spawn(&mut self, first: bool) {
        for attempt in 0..10 {
            let logged = self.log_text().len();
            match self.try_spawn() {
                Ok(()) => return,
                Err(log)
                    if log
                        .get(logged..)
                        .unwrap_or(&log)
                        .contains("Address already in use") =>
                {
                    if first || attempt >= 5 {
                        self.port = free_port();
                        self.url = self.base_url();
                    } else {
                        std::thread::sleep(Duration::from_millis(200));
                    }
                }
                Err(log) => panic!("server exited early:\n{log}"),
            }
        }
        panic!("no free port for the server:\n{}", self.log_text());
    }

    /// One start; the log when the process exited before answering.
    fn try_spawn(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let mut command = Command::new(BIN);
        command.arg("server");
        if self.relative {
            command.current_dir(&self.project);
        } else {
            command.arg("--project").arg(&self.project);
        }
        let logged = self.log_text().len();
        let child = command
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("WEIR_LOG", "info")
            .stdout(log.try_clone().expect("server log"))
            .stderr(log)
            .spawn()
            .expect("spawn server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.https {
                let log = self.log_text();
                let since_start = log.get(logged..).unwrap_or(&log);
                if since_start.contains(&format!("weir listening on {}", self.url)) {
                    return Ok(());
                }
            } else if let Some((200, _)) = http("GET", &format!("{}/healthz", self.url), None) {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!("({status})\n{}", self.log_text()));
            }
            assert!(
                Instant::now() < deadline,
                "server did not come up:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, as a service manager stops the server; waits for the process to exit (at most
    /// `within`) and returns how long that took and whether it exited on its own.
    pub fn terminate(&mut self, within: Duration) -> (Duration, bool) {
        let Some(mut child) = self.child.take() else {
            return (Duration::ZERO, false);
        };
        let started = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        while started.elapsed() < within {
            if let Ok(Some(status)) = child.try_wait() {
                return (started.elapsed(), status.success());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        (started.elapsed(), false)
    }

    /// Starts the server again after a stop (a crash or a SIGTERM).
    pub fn start_again(&mut self) {
        self.spawn(false);
    }

    pub fn restart(&mut self) {
        self.kill9();
        self.spawn(false);
    }

    /// The admin token the server wrote at its first start.
    pub fn token(&self) -> String {
        std::fs::read_to_string(self.data.join("admin-token"))
            .map(|t| t.trim().to_string())
            .unwrap_or_default()
    }

    /// An admin key pair for AWS clients (created once per server), as the environment boto3
    /// and aws-cli read: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`.
    pub fn aws_env(&self) -> Vec<(String, String)> {
        let keys = self.aws_keys.get_or_init(|| {
            let issued = self.json(&["tokens", "create", "--role", "admin", "--name", "e2e-aws"]);
            (
                issued["access_key_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                issued["secret_access_key"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        });
        vec![
            ("AWS_ACCESS_KEY_ID".into(), keys.0.clone()),
            ("AWS_SECRET_ACCESS_KEY".into(), keys.1.clone()),
        ]
    }

    /// Runs the AWS CLI against this server as its admin key pair, expecting success, and parses
    /// its JSON output (null for none).
    pub fn aws_cli(&self, args: &[&str]) -> Value {
        let output = Command::new("aws")
            .args(args)
            .args([
                "--endpoint-url",
                &self.url,
                "--region",
                "us-east-1",
                "--output",
                "json",
            ])
            .envs(self.aws_env())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .output()
            .expect("aws (the AWS CLI; scripts/test.sh installs it)");
        assert!(
            output.status.success(),
            "aws {args:?}: {}\nserver log:\n{}",
            stderr(&output),
            self.log_text()
        );
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
    }

    /// Runs a client command against this server, as its admin (trusting its certificate when
    /// it serves HTTPS with a self-signed one).
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("WEIR_SERVER", &self.url)
            .env("WEIR_TOKEN", self.token());
        let flag = self.args.iter().position(|a| a == "--tls-cert");
        if let Some(cert) = flag.and_then(|i| self.args.get(i + 1)) {
            command.env("WEIR_CA_CERT", self.project.join(cert));
        }
        command.output().expect("run weir client")
    }

    /// Runs a client command with `--json`, expecting success, and parses its output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let output = self.cli(&all);
        assert!(
            output.status.success(),
            "weir {} failed:\n{}\n{}",
            args.join(" "),
            stdout(&output),
            stderr(&output)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "weir {} printed no JSON ({e}):\n{}",
                args.join(" "),
                stdout(&output)
            )
        })
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, None)
    }

    /// A request as the admin (bearer token).
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        let bearer = format!("Bearer {}", self.token());
        http_with(
            method,
            &format!("{}{path}", self.url),
            body,
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
            ],
        )
        .expect("server answers")
    }

    pub fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).expect("JSON body")
    }

    pub fn post(&self, path: &str, body: &str) -> (u16, String) {
        self.request("POST", path, Some(body))
    }

    /// Calls an AWS JSON protocol operation as the SDKs do (`POST /` with `X-Amz-Target:
    /// TARGET`): status and body as JSON.
    pub fn aws(&self, target: &str, body: &str) -> (u16, Value) {
        let bearer = format!("Bearer {}", self.token());
        let headers = [
            ("X-Amz-Target", target),
            ("Content-Type", "application/x-amz-json-1.0"),
            ("Authorization", bearer.as_str()),
        ];
        let (status, text) = http_with("POST", &format!("{}/", self.url), Some(body), &headers)
            .expect("server answers");
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{target} answered {status} with no JSON ({e}): {text}"));
        (status, value)
    }

    /// Triggers a run and waits for it; returns the run as JSON.
    pub fn trigger_wait(&self, pipeline: &str, extra: &[&str]) -> Value {
        let mut args = vec!["pipelines", "trigger", pipeline, "--wait", "--json"];
        args.extend_from_slice(extra);
        let output = self.cli(&args);
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON from trigger ({e}): {}\n{}",
                stdout(&output),
                stderr(&output)
            )
        })
    }

    pub fn run(&self, run_id: &str) -> Value {
        self.get_json(&format!("/api/v1/runs/{run_id}"))
    }

    pub fn task<'a>(&self, run: &'a Value, task: &str) -> &'a Value {
        run["tasks"]
            .as_array()
            .and_then(|ts| {
                ts.iter()
                    .find(|t| t["task_id"] == task && t["map_index"] == -1)
            })
            .unwrap_or_else(|| panic!("no task {task} in {run}"))
    }

    pub fn attempts(&self, run_id: &str, task: &str) -> Vec<Value> {
        self.get_json(&format!("/api/v1/runs/{run_id}/attempts?task={task}"))["attempts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn wait_run(&self, run_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let run = self.get_json(&format!("/api/v1/runs/{run_id}/wait?timeout=30"));
            if !matches!(run["state"].as_str(), Some("queued" | "running")) {
                return self.run(run_id);
            }
            assert!(Instant::now() < deadline, "run {run_id} did not end");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs a Python script (boto3 against `server`) with `args`; the script asserts and prints `ok`
/// last. Fails the test with what it printed and the server's log otherwise.
pub fn python_ok(server: &Server, script: &str, args: &[&str]) {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .envs(server.aws_env())
        .output()
        .expect("python3 with boto3 (scripts/test.sh installs it)");
    assert!(
        output.status.success() && stdout(&output).trim_end().ends_with("ok"),
        "python script failed:\n{}\n{}\nserver log:\n{}",
        stdout(&output),
        stderr(&output),
        server.log_text()
    );
}

/// A self-signed certificate for localhost and 127.0.0.1, `cert.pem` and its key `key.pem` in
/// `dir`, made by the `openssl` CLI with the recipe docs/security.md gives.
pub fn self_signed_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let output = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
        ])
        .current_dir(dir)
        .output()
        .expect("the openssl CLI (scripts/test.sh installs it)");
    assert!(output.status.success(), "openssl: {}", stderr(&output));
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// A minimal HTTP/1.1 client for loopback, without credentials: returns status and body.
pub fn http(method: &str, url: &str, body: Option<&str>) -> Option<(u16, String)> {
    http_with(method, url, body, &[("Content-Type", "application/json")])
}

/// [`http`] with the given headers (none added but Content-Length, Connection, and Host unless
/// they name one).
pub fn http_with(
    method: &str,
    url: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Option<(u16, String)> {
    let (status, _, body) = http_full(method, url, body, headers)?;
    Some((status, body))
}

/// A response's headers, names lower-cased.
pub type Headers = Vec<(String, String)>;

/// [`http_with`], with the response's headers.
pub fn http_full(
    method: &str,
    url: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Option<(u16, Headers, String)> {
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut stream = TcpStream::connect(host).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(90)))
        .ok()?;
    let body = body.unwrap_or("");
    let mut extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        extra.insert_str(0, &format!("Host: {host}\r\n"));
    }
    let request = format!(
        "{method} {path} HTTP/1.1\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // A server may answer (413) and close before it has read a large body: the write then
    // fails, and the answer is still there to read, as HTTP clients read it.
    let written = stream.write_all(request.as_bytes());
    let mut response = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&chunk[..n]),
            // A reset after the answer arrived ends it; before any answer, there is none.
            Err(_) if !response.is_empty() => break,
            Err(_) => return None,
        }
    }
    if response.is_empty() {
        written.ok()?;
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let status: u16 = text.split_whitespace().nth(1)?.parse().ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    Some((status, headers, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A loopback HTTP server that records request bodies and answers with a fixed status.
pub struct Recorder {
    pub url: String,
    pub requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl Recorder {
    pub fn start(status: u16, response_body: &'static str) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut stream = stream;
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut data = Vec::new();
                let mut buf = [0u8; 8192];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    data.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&data);
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&data).into_owned();
                let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
                seen.lock().expect("lock").push((
                    head.lines().next().unwrap_or("").to_string(),
                    body.to_string(),
                ));
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{response_body}",
                    response_body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        Recorder { url, requests }
    }

    pub fn bodies(&self) -> Vec<String> {
        self.requests
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }
}

/// Polls `check` until it is true or `timeout` passes.
pub fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

/// States of every task of a run, by task id (unmapped records only).
pub fn task_states(run: &Value) -> std::collections::BTreeMap<String, String> {
    run["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["map_index"] == -1)
        .map(|t| {
            (
                t["task_id"].as_str().unwrap_or("").to_string(),
                t["state"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}
