//! Test support: temporary projects, the real `weir` binary as a server and as a client, raw HTTP
//! on loopback, and kill -9.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
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
    /// Started inside the project as `weir server` with no `--project` (so `.`, and a relative
    /// data directory `./.weir`), as a user in the project directory starts it.
    relative: bool,
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

    fn start_as(project: &Path, env: &[(&str, &str)], relative: bool) -> Server {
        let port = free_port();
        let data = project.join(".weir");
        let mut server = Server {
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
            relative,
        };
        server.spawn(true);
        server
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
                        self.url = format!("http://127.0.0.1:{}", self.port);
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
        let child = command
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("WEIR_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some((200, _)) = http("GET", &format!("{}/healthz", self.url), None) {
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

    /// Runs a client command against this server.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("WEIR_SERVER", &self.url)
            .output()
            .expect("run weir client")
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
        http("GET", &format!("{}{path}", self.url), None).expect("server answers")
    }

    pub fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).expect("JSON body")
    }

    pub fn post(&self, path: &str, body: &str) -> (u16, String) {
        http("POST", &format!("{}{path}", self.url), Some(body)).expect("server answers")
    }

    /// Calls an AWS JSON protocol operation as the SDKs do (`POST /` with `X-Amz-Target:
    /// TARGET`): status and body as JSON.
    pub fn aws(&self, target: &str, body: &str) -> (u16, Value) {
        let headers =
            format!("X-Amz-Target: {target}\r\nContent-Type: application/x-amz-json-1.0\r\n");
        let (status, text) = http_with(&headers, "POST", &format!("{}/", self.url), Some(body))
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

/// A minimal HTTP/1.1 client for loopback: returns status and body.
pub fn http(method: &str, url: &str, body: Option<&str>) -> Option<(u16, String)> {
    http_with("Content-Type: application/json\r\n", method, url, body)
}

/// [`http`] with `headers` (lines ending in CRLF) instead of the JSON content type.
pub fn http_with(
    headers: &str,
    method: &str,
    url: &str,
    body: Option<&str>,
) -> Option<(u16, String)> {
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
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
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
    Some((status, body))
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
