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
    ActionContext, ActionOutcome, ActionRunner, FailureKind, cancelled, read_output, sleep_until,
};

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
        command.envs(ctx.env.iter().map(|(k, v)| (k, v)));
        command.env("WEIR_OUTPUT", &ctx.output_path);
        if let Some(Value::Object(vars)) = ctx.config.get("env") {
            for (name, value) in vars {
                command.env(name, scalar(value));
            }
        }
        let _ = std::fs::remove_file(&ctx.output_path);
        let log = match ctx.log.file() {
            Ok(log) => log,
            Err(e) => {
                return ActionOutcome::failure(
                    FailureKind::Failed,
                    format!("cannot open the log {}: {e}", ctx.log.path().display()),
                );
            }
        };
        let (stdout, stderr) = match (log.try_clone(), log.try_clone()) {
            (Ok(out), Ok(err)) => (out, err),
            (Err(e), _) | (_, Err(e)) => {
                return ActionOutcome::failure(
                    FailureKind::Failed,
                    format!("cannot share the log file: {e}"),
                );
            }
        };
        command.stdin(Stdio::null()).stdout(stdout).stderr(stderr);
        own_process_group(&mut command);
        let mut child = match command.spawn() {
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
        let _group = ProcessGroupGuard::new(pid);
        if let Some(report) = ctx.on_spawn.take() {
            let _ = report.send(pid);
        }
        let stop_reason = tokio::select! {
            status = child.wait() => {
                return match status {
                    Ok(status) if status.success() => match read_output(&ctx.output_path, ctx.max_output_bytes) {
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
        stop_group(pid, &mut child, ctx.kill_grace).await;
        let message = match stop_reason {
            FailureKind::TimedOut => "timed out: the process group was stopped",
            _ => "cancelled: the process group was stopped",
        };
        ActionOutcome::failure(stop_reason, message)
    }
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
