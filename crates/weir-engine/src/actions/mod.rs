//! Actions: what a task does. The executor hands a runner an [`ActionContext`] (the task's rendered
//! configuration, its log file, deadline and cancellation) and gets back an [`ActionOutcome`]. It
//! knows nothing else about them: a new action is a new runner registered in [`Registry::builtin`]
//! plus its shape in `weir_model::action`.

mod command;
mod function;
mod http;
mod noop;

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::watch;
use tokio::time::Instant;

pub(crate) use command::{ProcessGroupGuard, own_process_group, stop_group};
pub use command::{instance_marker, kill_orphans};
pub use function::FunctionRunner;
pub use http::client as http_client;

/// Everything a runner may use to perform one attempt.
pub struct ActionContext {
    /// The action's keys with templates rendered (e.g. `command`, `env`, `working_dir`).
    pub config: Map<String, Value>,
    /// Identifies the attempt in messages and in the environment of commands.
    pub attempt: AttemptId,
    /// The attempt's log. Commands write their stdout and stderr here; it is created on first
    /// use, so actions that log nothing cost no file.
    pub log: LogFile,
    /// Where a command may write its JSON output (`$WEIR_OUTPUT`).
    pub output_path: PathBuf,
    /// Working directory default: the project directory.
    pub project_dir: PathBuf,
    /// Environment variables describing the attempt (`WEIR_RUN_ID`, `WEIR_TASK`, …).
    pub env: Vec<(String, String)>,
    /// When the attempt times out.
    pub deadline: Option<Instant>,
    /// Becomes true when the attempt must stop (run cancelled, task marked by hand).
    pub cancel: watch::Receiver<bool>,
    /// Grace between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
    /// Largest output accepted.
    pub max_output_bytes: usize,
    /// Receives a command's process id as soon as it exists.
    pub on_spawn: Option<tokio::sync::oneshot::Sender<i32>>,
    /// Secret values, masked in what the action writes to its log.
    pub masker: crate::secrets::Masker,
}

/// An append-only log file opened on first use.
pub struct LogFile {
    path: PathBuf,
    file: Option<File>,
}

impl LogFile {
    pub fn new(path: PathBuf) -> LogFile {
        LogFile { path, file: None }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The open file (creating it and its directory if needed).
    pub fn file(&mut self) -> std::io::Result<&mut File> {
        if self.file.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            self.file = Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?,
            );
        }
        self.file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("log file not open"))
    }
}

impl std::io::Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file()?.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.file.as_mut() {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

/// Names one attempt of one task instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttemptId {
    pub run_id: String,
    pub task_id: String,
    pub map_index: i32,
    pub try_number: i32,
}

impl std::fmt::Display for AttemptId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.run_id, self.task_id)?;
        if self.map_index >= 0 {
            write!(f, "[{}]", self.map_index)?;
        }
        write!(f, "#{}", self.try_number)
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionOutcome {
    pub result: Result<Option<Value>, ActionError>,
    pub exit_code: Option<i32>,
}

impl ActionOutcome {
    pub fn success(output: Option<Value>) -> Self {
        ActionOutcome {
            result: Ok(output),
            exit_code: None,
        }
    }

    pub fn failure(kind: FailureKind, message: impl Into<String>) -> Self {
        ActionOutcome {
            result: Err(ActionError {
                kind,
                message: message.into(),
                final_: false,
            }),
            exit_code: None,
        }
    }

    /// A failure no retry can mend (a wait that reached its own timeout, as Airflow does not
    /// retry `AirflowSensorTimeout`): the task fails whatever its `retries`.
    pub fn final_failure(kind: FailureKind, message: impl Into<String>) -> Self {
        ActionOutcome {
            result: Err(ActionError {
                kind,
                message: message.into(),
                final_: true,
            }),
            exit_code: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionError {
    pub kind: FailureKind,
    pub message: String,
    /// Not retried: see [`ActionOutcome::final_failure`].
    pub final_: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Failed,
    TimedOut,
    Cancelled,
}

impl FailureKind {
    /// The attempt state this failure is recorded as.
    pub fn attempt_state(self) -> &'static str {
        match self {
            FailureKind::Failed => "failed",
            FailureKind::TimedOut => "timed_out",
            FailureKind::Cancelled => "cancelled",
        }
    }
}

/// A runner for one action kind.
#[async_trait::async_trait]
pub trait ActionRunner: Send + Sync {
    async fn run(&self, ctx: ActionContext) -> ActionOutcome;
}

/// The runners by action kind name.
#[derive(Clone)]
pub struct Registry {
    runners: HashMap<String, Arc<dyn ActionRunner>>,
}

impl Registry {
    /// The actions built into this crate: `command`, `http`, `noop`.
    pub fn builtin() -> Registry {
        let mut registry = Registry {
            runners: HashMap::new(),
        };
        registry.register("command", Arc::new(command::CommandRunner));
        registry.register("http", Arc::new(http::HttpRunner::new()));
        registry.register("noop", Arc::new(noop::NoopRunner));
        registry
    }

    /// Adds or replaces the runner for `kind` (later crates register sql, function, … here).
    pub fn register(&mut self, kind: &str, runner: Arc<dyn ActionRunner>) {
        self.runners.insert(kind.to_string(), runner);
    }

    pub fn get(&self, kind: &str) -> Option<Arc<dyn ActionRunner>> {
        self.runners.get(kind).cloned()
    }
}

/// Waits until `deadline` (forever when None).
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Waits until the cancel flag turns true (forever if its sender is gone without cancelling).
async fn cancelled(cancel: &mut watch::Receiver<bool>) {
    if cancel.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// An attempt's context for a runner's unit tests: `config`, with its log and output in `dir`.
/// The sender keeps the attempt from being cancelled while it is held.
#[cfg(test)]
pub(crate) fn test_context(
    dir: &std::path::Path,
    config: Map<String, Value>,
) -> (ActionContext, watch::Sender<bool>) {
    let (cancel_tx, cancel) = watch::channel(false);
    let ctx = ActionContext {
        config,
        attempt: AttemptId {
            run_id: "r".into(),
            task_id: "t".into(),
            map_index: -1,
            try_number: 1,
        },
        log: LogFile::new(dir.join("t.log")),
        output_path: dir.join("t.output"),
        project_dir: dir.to_path_buf(),
        env: Vec::new(),
        deadline: None,
        cancel,
        kill_grace: Duration::from_secs(1),
        max_output_bytes: 1 << 20,
        on_spawn: None,
        masker: crate::secrets::Masker::default(),
    };
    (ctx, cancel_tx)
}

/// Reads a JSON output file, limited in size; text that is not JSON becomes a JSON string. At
/// most `max_bytes + 1` bytes are read: a runaway output (or a FIFO that never ends) costs no
/// more than that.
fn read_output(path: &std::path::Path, max_bytes: usize) -> Result<Option<Value>, String> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read task output {}: {e}", path.display())),
    };
    let mut text = Vec::new();
    file.take(max_bytes as u64 + 1)
        .read_to_end(&mut text)
        .map_err(|e| format!("cannot read task output {}: {e}", path.display()))?;
    if text.len() > max_bytes {
        return Err(format!(
            "task output is more than the {max_bytes} bytes allowed: pass large data through the lake"
        ));
    }
    let text = String::from_utf8_lossy(&text);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        serde_json::from_str(trimmed).unwrap_or_else(|_| Value::String(trimmed.to_string())),
    ))
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;
    use std::io::Write;
    use std::os::unix::ffi::OsStrExt;
    use std::time::Duration;

    use super::read_output;

    #[test]
    fn outputs_are_read_up_to_their_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        std::fs::write(&path, r#"{"n": 1}"#).unwrap();
        assert_eq!(
            read_output(&path, 8).unwrap(),
            Some(serde_json::json!({"n": 1}))
        );
        let error = read_output(&path, 7).unwrap_err();
        assert!(error.contains("more than the 7 bytes"), "{error}");
        assert_eq!(read_output(&dir.path().join("none"), 7), Ok(None));
    }

    /// An output that never ends (a FIFO fed forever) is refused after `limit + 1` bytes, not
    /// read to its end first.
    #[test]
    fn an_endless_output_is_cut_while_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.fifo");
        let name = CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: mkfifo reads the NUL-terminated path only.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let writer_path = path.clone();
        std::thread::spawn(move || {
            let mut fifo = std::fs::OpenOptions::new()
                .write(true)
                .open(writer_path)
                .unwrap();
            let chunk = vec![b'x'; 64 * 1024];
            // Ends when the reader closes the FIFO (a broken pipe).
            while fifo.write_all(&chunk).is_ok() {}
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(read_output(&path, 1 << 20));
        });
        let outcome = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("read_output returned (it read the endless output whole before)");
        let error = outcome.unwrap_err();
        assert!(error.contains("more than the 1048576 bytes"), "{error}");
    }
}
