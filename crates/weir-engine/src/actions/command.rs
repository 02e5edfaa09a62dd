//! The `command` action: a program with arguments (a YAML list, run directly) or a shell line (a
//! string, run by `sh -c` only when it uses shell syntax). Output goes straight from the child to
//! the attempt's log file; the exit code decides success.
//!
//! Each child leads its own process group, so a timeout or cancel can stop everything it started,
//! and dies with the server (parent-death signal). Every process it starts inherits
//! `WEIR_INSTANCE`, so after a crash [`kill_orphans`] finds survivors (even grandchildren) and
//! stops them before their task is retried: a task never runs twice at the same time.

use std::path::Path;
use std::process::Stdio;

use serde_json::Value;
use tokio::process::Command;

use super::{
    ActionContext, ActionOutcome, ActionRunner, FailureKind, LogFile, cancelled, read_output,
    sleep_until,
};
use crate::secrets::LogSink;

/// Characters that make a command string a shell line rather than a program and its arguments.
const SHELL_SYNTAX: &[char] = &[
    '|', '&', ';', '<', '>', '(', ')', '$', '`', '\\', '"', '\'', '*', '?', '[', ']', '#', '~',
    '=', '%', '!', '{', '}', '\n',
];

pub struct CommandRunner;

#[async_trait::async_trait]
impl ActionRunner for CommandRunner {
    async fn run(&self, mut ctx: ActionContext) -> ActionOutcome {
        let argv = match argv(ctx.config.get("command")) {
            Ok(argv) => argv,
            Err(message) => return ActionOutcome::failure(FailureKind::Failed, message),
        };
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]);
        let dir = match ctx.config.get("working_dir").and_then(Value::as_str) {
            Some(dir) => ctx.project_dir.join(dir),
            None => ctx.project_dir.clone(),
        };
        command.current_dir(&dir);
        crate::secrets::hide_from_children(&mut command);
        command.envs(ctx.env.iter().map(|(k, v)| (k, v)));
        command.env("WEIR_OUTPUT", &ctx.output_path);
        if let Some(Value::Object(vars)) = ctx.config.get("env") {
            for (name, value) in vars {
                command.env(name, scalar(value));
            }
        }
        let (stdout, stderr, sink) = match open_files(&mut ctx).await {
            Ok(files) => files,
            Err(message) => return ActionOutcome::failure(FailureKind::Failed, message),
        };
        command.stdin(Stdio::null()).stdout(stdout).stderr(stderr);
        own_process_group(&mut command);
        let spawned = command.spawn();
        // Our copies of the log's handles go: a masked log's copy ends when the processes' do.
        drop(command);
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                let hint = if e.kind() == std::io::ErrorKind::NotFound {
                    format!(" (looked in PATH and {})", dir.display())
                } else {
                    String::new()
                };
                return ActionOutcome::failure(
                    FailureKind::Failed,
                    format!("cannot start `{}`: {e}{hint}", argv[0]),
                );
            }
        };
        let pid = child.id().and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
        // Whatever ends this attempt, even the caller dropping this future (a Task state's
        // TimeoutSeconds, StopExecution, a failed Parallel sibling), ends the whole group.
        let group = ProcessGroupGuard::new(pid);
        if let Some(report) = ctx.on_spawn.take() {
            let _ = report.send(pid);
        }
        let outcome = run_to_end(&mut ctx, &mut child, pid).await;
        // Whatever the leader left in its group ends with the attempt; then all its output is
        // in the log.
        drop(group);
        sink.finish(ctx.kill_grace).await;
        outcome
    }
}

/// Waits for the child (stopping its group on a timeout or a cancel) and reads its output.
async fn run_to_end(
    ctx: &mut ActionContext,
    child: &mut tokio::process::Child,
    pid: i32,
) -> ActionOutcome {
    let stop_reason = tokio::select! {
        status = child.wait() => {
            return match status {
                Ok(status) if status.success() => match read_output_off_workers(ctx).await {
                    Ok(output) => ActionOutcome { result: Ok(output), exit_code: Some(0) },
                    Err(message) => ActionOutcome { exit_code: Some(0), ..ActionOutcome::failure(FailureKind::Failed, message) },
                },
                Ok(status) => {
                    use std::os::unix::process::ExitStatusExt;
                    match (status.code(), status.signal()) {
                        (Some(code), _) => ActionOutcome { exit_code: Some(code), ..ActionOutcome::failure(FailureKind::Failed, format!("exited with code {code}")) },
                        (None, Some(signal)) => ActionOutcome::failure(FailureKind::Failed, format!("killed by signal {signal}")),
                        _ => ActionOutcome::failure(FailureKind::Failed, "ended without an exit code"),
                    }
                }
                Err(e) => ActionOutcome::failure(FailureKind::Failed, format!("cannot wait for the process: {e}")),
            };
        }
        _ = sleep_until(ctx.deadline) => FailureKind::TimedOut,
        _ = cancelled(&mut ctx.cancel) => FailureKind::Cancelled,
    };
    stop_group(pid, child, ctx.kill_grace).await;
    let message = match stop_reason {
        FailureKind::TimedOut => "timed out: the process group was stopped",
        _ => "cancelled: the process group was stopped",
    };
    ActionOutcome::failure(stop_reason, message)
}

/// Clears a stale output file and opens the attempt's log for the child's stdout and stderr
/// (through a masking copy when there are secrets), on a blocking thread: file-system calls (a
/// slow or full disk) must not stall the async workers that every run and request shares.
async fn open_files(ctx: &mut ActionContext) -> Result<(Stdio, Stdio, LogSink), String> {
    let placeholder = LogFile::new(ctx.log.path().to_path_buf());
    let mut log = std::mem::replace(&mut ctx.log, placeholder);
    let output_path = ctx.output_path.clone();
    let masker = ctx.masker.clone();
    let opened = tokio::task::spawn_blocking(move || {
        let _ = std::fs::remove_file(&output_path);
        let shared = match log.file() {
            Ok(file) => match LogSink::open(file, &masker, 2) {
                Ok((mut handles, sink)) => match (handles.pop(), handles.pop()) {
                    (Some(err), Some(out)) => Ok((out, err, sink)),
                    _ => Err("cannot share the log file".to_string()),
                },
                Err(e) => Err(format!("cannot share the log file: {e}")),
            },
            Err(e) => Err(format!("cannot open the log {}: {e}", log.path().display())),
        };
        (log, shared)
    })
    .await;
    match opened {
        Ok((log, shared)) => {
            ctx.log = log;
            shared
        }
        Err(e) => Err(format!("cannot open the log: {e}")),
    }
}

/// [`read_output`] on a blocking thread (the output may be large, or a FIFO that never ends).
async fn read_output_off_workers(ctx: &ActionContext) -> Result<Option<Value>, String> {
    let path = ctx.output_path.clone();
    let max = ctx.max_output_bytes;
    tokio::task::spawn_blocking(move || read_output(&path, max))
        .await
        .unwrap_or_else(|e| Err(format!("cannot read the task's output: {e}")))
}

/// Makes the child lead its own process group (so a stop reaches everything it starts) and die
/// with the server (parent-death signal). Shared by every runner that starts processes.
pub(crate) fn own_process_group(command: &mut Command) {
    command.process_group(0);
    // SAFETY: prctl is async-signal-safe; the closure allocates nothing and touches no locks.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// Kills a process group with SIGKILL when dropped. Held for as long as an attempt owns its
/// processes: an attempt can end without reaching its own clean-up (the future running it is
/// dropped when a state machine's task times out or its execution is stopped, when a Parallel
/// sibling fails or a Map fails past its tolerance), and nothing it started may outlive it.
pub(crate) struct ProcessGroupGuard {
    pid: i32,
}

impl ProcessGroupGuard {
    pub(crate) fn new(pid: i32) -> ProcessGroupGuard {
        ProcessGroupGuard { pid }
    }
}

impl Drop for ProcessGroupGuard {
    fn drop(&mut self) {
        if self.pid > 0 {
            // SAFETY: plain syscall on the process group this attempt created. When the group is
            // already empty the call fails with ESRCH, which is what we want.
            unsafe { libc::kill(-self.pid, libc::SIGKILL) };
        }
    }
}

/// SIGTERM to the group, then SIGKILL after the grace period if the leader is still there.
pub(crate) async fn stop_group(
    pid: i32,
    child: &mut tokio::process::Child,
    grace: std::time::Duration,
) {
    if pid <= 0 {
        return;
    }
    // SAFETY: plain syscall on a process group this runner created.
    unsafe { libc::kill(-pid, libc::SIGTERM) };
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        let _ = child.wait().await;
    }
    // Members of the group that ignored SIGTERM do not outlive the attempt either.
    unsafe { libc::kill(-pid, libc::SIGKILL) };
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The program and arguments to execute.
fn argv(command: Option<&Value>) -> Result<Vec<String>, String> {
    match command {
        Some(Value::Array(items)) if !items.is_empty() => Ok(items.iter().map(scalar).collect()),
        Some(Value::String(line)) => {
            if line.contains(SHELL_SYNTAX) {
                Ok(vec!["sh".into(), "-c".into(), line.clone()])
            } else {
                let words: Vec<String> = line.split_whitespace().map(String::from).collect();
                if words.is_empty() {
                    Err("the command rendered to an empty line".into())
                } else {
                    Ok(words)
                }
            }
        }
        _ => Err("command must be a string or a non-empty list".into()),
    }
}

/// The `WEIR_INSTANCE` value of every process a server on `data_dir` starts: what
/// [`kill_orphans`] looks for after a crash.
///
/// The marker is the data directory's canonical absolute path, so a server started with a relative
/// `--data` (or inside the project, with the default) marks its children with the same value that
/// the next server, however it spells the path, looks for.
pub fn instance_marker(data_dir: &std::path::Path) -> String {
    let absolute = std::fs::canonicalize(data_dir)
        .or_else(|_| std::path::absolute(data_dir))
        .unwrap_or_else(|_| data_dir.to_path_buf());
    absolute.display().to_string()
}

/// Kills every process whose environment carries `WEIR_INSTANCE=instance` and returns their pids.
/// Used on start-up, before attempts that were running when the server died are retried.
pub fn kill_orphans(instance: &str) -> Vec<i32> {
    let marker = format!("WEIR_INSTANCE={instance}");
    let own = std::process::id() as i32;
    let mut killed = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return killed;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == own {
            continue;
        }
        let Ok(environ) = std::fs::read(Path::new("/proc").join(pid.to_string()).join("environ"))
        else {
            continue;
        };
        if environ
            .split(|b| *b == 0)
            .any(|var| var == marker.as_bytes())
        {
            // SAFETY: plain syscalls; the process carries our instance marker.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
                libc::kill(pid, libc::SIGKILL);
            }
            killed.push(pid);
        }
    }
    killed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// On the one thread of a current-thread runtime, a ticker keeps ticking while the runner
    /// reads an output that takes a second to come (a FIFO whose writer is slow): file I/O runs
    /// on blocking threads, not on the async worker that every run shares.
    #[tokio::test]
    async fn a_slow_output_file_does_not_stall_the_async_workers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = serde_json::Map::new();
        config.insert(
            "command".into(),
            json!("mkfifo \"$WEIR_OUTPUT\"; (sleep 1; echo '{\"ok\": true}' > \"$WEIR_OUTPUT\") &"),
        );
        let (ctx, _cancel) = crate::actions::test_context(dir.path(), config);
        let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let ticker = tokio::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        });
        let outcome = CommandRunner.run(ctx).await;
        ticker.abort();
        assert_eq!(outcome.result, Ok(Some(json!({"ok": true}))));
        let ticks = ticks.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            ticks >= 5,
            "the worker stalled while the output was read ({ticks} ticks)"
        );
    }

    /// A secret the process writes in two pieces, a moment apart and on stdout and stderr, is
    /// masked in the log; what the process left running does not hold the attempt up.
    #[tokio::test]
    async fn secrets_written_in_pieces_are_masked_in_the_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = serde_json::Map::new();
        config.insert(
            "command".into(),
            json!(
                "printf 'token=hun'; sleep 0.3; printf 'ter22\\n'; echo hunter22 >&2; sleep 30 &"
            ),
        );
        let (mut ctx, _cancel) = crate::actions::test_context(dir.path(), config);
        ctx.masker = crate::secrets::Masker::new(["hunter22"]);
        let started = std::time::Instant::now();
        let outcome = CommandRunner.run(ctx).await;
        assert_eq!(outcome.result, Ok(None));
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        let log = std::fs::read_to_string(dir.path().join("t.log")).unwrap();
        assert_eq!(log, "token=***\n***\n");
    }

    #[test]
    fn plain_lines_run_directly_and_shell_lines_through_sh() {
        assert_eq!(argv(Some(&json!("true"))).unwrap(), vec!["true"]);
        assert_eq!(
            argv(Some(&json!("./load.sh --day 2026-01-01"))).unwrap(),
            vec!["./load.sh", "--day", "2026-01-01"]
        );
        assert_eq!(
            argv(Some(&json!("echo hi > out"))).unwrap()[..2],
            ["sh", "-c"]
        );
        assert_eq!(
            argv(Some(&json!(["echo", "a b", 3]))).unwrap(),
            vec!["echo", "a b", "3"]
        );
        assert!(argv(Some(&json!("   "))).is_err());
    }
}
