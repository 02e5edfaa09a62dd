//! One invocation: the function's command runs with the event JSON on stdin; its stdout is the
//! result, its stderr goes to the invocation's log. The process leads its own group and dies
//! with the server, like a `command` task; when the leader exits (or times out, or the caller
//! gives up on the invocation), whatever else it started in its group is stopped too: an
//! invocation owns its processes.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use weir_model::function::FunctionSpec;

use super::errors;
use crate::actions::{ProcessGroupGuard, own_process_group, stop_group};

/// Largest result accepted on stdout (Lambda's limit for a synchronous response).
pub(super) const MAX_RESULT_BYTES: usize = 6 * 1024 * 1024;
/// Bytes of stderr quoted at the end of an error's cause.
pub(super) const STDERR_TAIL_BYTES: u64 = 4096;
/// Bytes of the payload and of the result copied into the log.
const LOG_VALUE_BYTES: usize = 64 * 1024;
/// How long stdout may stay open after the process group was stopped (a process that left the
/// group with `setsid` can hold it); past this the output read so far is used.
const STDOUT_DRAIN: Duration = Duration::from_secs(1);

/// What one invocation needs besides the payload.
pub(super) struct Job<'a> {
    pub spec: &'a FunctionSpec,
    pub project_dir: &'a Path,
    /// `WEIR_INSTANCE`: marks the processes so a restarted server finds orphans.
    pub instance: &'a str,
    pub kill_grace: Duration,
    pub id: &'a str,
    pub log_path: PathBuf,
    pub secrets: &'a crate::secrets::Secrets,
}

/// What went wrong, before the end of stderr and the exit status are added: the error name and
/// a message.
pub(super) type Failure = (String, String);

/// A failed invocation as callers see it.
pub(super) struct Failed {
    pub error: String,
    /// What went wrong, the end of stderr, the exit status: for people.
    pub cause: String,
    /// The error as Lambda reports an unhandled one (`errorMessage`, `errorType`, `trace`): the
    /// function's own error object when it printed one, for programs.
    pub payload: Value,
}

/// Runs the function once; on success, the result and how long the process ran.
pub(super) async fn run(job: Job<'_>, payload: &Value) -> Result<(Value, Duration), Failed> {
    let mut log = open_log(&job.log_path).map_err(|f| with_tail(f, "", None, None))?;
    let masker = job.secrets.masker();
    let payload_text = payload.to_string();
    let _ = writeln!(
        log,
        "== invocation {} of function {} at {}\n== payload\n{}\n== stderr",
        job.id,
        job.spec.name,
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        masker.mask(&clip(&payload_text))
    );
    let stderr_start = log.metadata().map(|m| m.len()).unwrap_or(0);
    let started = Instant::now();
    let outcome = execute(&job, &mut log, &masker, payload_text).await;
    let elapsed = started.elapsed();
    let ms = elapsed.as_millis();
    let stderr_tail = tail_from(&job.log_path, stderr_start);
    let result = match outcome {
        Err(failure) => Err(with_tail(failure, &stderr_tail, None, None)),
        Ok(Finished::TimedOut) => Err(with_tail(
            (
                errors::TIMEOUT.into(),
                format!(
                    "timed out after {}: the process group was stopped",
                    weir_model::duration::format_duration(job.spec.timeout)
                ),
            ),
            &stderr_tail,
            None,
            None,
        )),
        Ok(Finished::Exited {
            status,
            stdout,
            too_large,
        }) => classify(status, &stdout, too_large, &stderr_tail),
    };
    // Section markers start lines of their own, whether or not stderr ended with a newline.
    let gap = if stderr_tail.is_empty() || stderr_tail.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    let _ = match &result {
        Ok(value) => writeln!(
            log,
            "{gap}== result ({ms} ms)\n{}",
            masker.mask(&clip(&value.to_string()))
        ),
        Err(failed) => writeln!(
            log,
            "{gap}== error {} ({ms} ms)\n{}",
            failed.error,
            masker.mask(&failed.cause)
        ),
    };
    result.map(|value| (value, elapsed))
}

fn open_log(path: &Path) -> Result<File, Failure> {
    let open = || -> std::io::Result<File> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    };
    open().map_err(|e| {
        (
            errors::FAILED.into(),
            format!("cannot open the invocation log {}: {e}", path.display()),
        )
    })
}

enum Finished {
    Exited {
        status: ExitStatus,
        stdout: Vec<u8>,
        too_large: bool,
    },
    TimedOut,
}

/// The function's `env`, its `{{ secrets.NAME }}` templates rendered.
fn environment(job: &Job<'_>) -> Result<Vec<(String, String)>, Failure> {
    let env = &job.spec.env;
    let failed = |e: String| (errors::FAILED.to_string(), format!("env: {e}"));
    let Some((context, _)) = job
        .secrets
        .contexts(env.values().map(String::as_str), &serde_json::json!({}))
        .map_err(failed)?
    else {
        return Ok(env.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    };
    env.iter()
        .map(|(name, value)| {
            let value = weir_model::template::render(value, &context).map_err(failed)?;
            Ok((name.clone(), value))
        })
        .collect()
}

async fn execute(
    job: &Job<'_>,
    log: &mut File,
    masker: &crate::secrets::Masker,
    payload: String,
) -> Result<Finished, Failure> {
    let spec = job.spec;
    let (program, args) = spec.command.split_first().ok_or_else(|| {
        (
            errors::FAILED.to_string(),
            "the command is empty".to_string(),
        )
    })?;
    let dir = match &spec.working_dir {
        Some(dir) => job.project_dir.join(dir),
        None => job.project_dir.to_path_buf(),
    };
    if !dir.is_dir() {
        return Err((
            errors::FAILED.into(),
            format!(
                "working_dir `{}` is not a directory ({})",
                spec.working_dir.as_deref().unwrap_or("."),
                dir.display()
            ),
        ));
    }
    let env = environment(job)?;
    let (mut handles, sink) = crate::secrets::LogSink::open(log, masker, 1).map_err(|e| {
        (
            errors::FAILED.to_string(),
            format!("cannot share the log file: {e}"),
        )
    })?;
    let stderr = handles.pop().unwrap_or_else(Stdio::null);
    let mut command = Command::new(program);
    crate::secrets::hide_from_children(&mut command);
    command
        .args(args)
        .current_dir(&dir)
        .envs(env)
        .env("WEIR_FUNCTION", &spec.name)
        .env("WEIR_INVOCATION_ID", job.id)
        .env("AWS_LAMBDA_FUNCTION_NAME", &spec.name)
        // Last, so a function's own `env` cannot hide its processes from orphan recovery.
        .env("WEIR_INSTANCE", job.instance)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr);
    own_process_group(&mut command);
    let spawned = command.spawn();
    // Our copy of the log pipe's write end goes, so the copy ends when the processes' do.
    drop(command);
    let mut child = spawned.map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            format!(" (looked in PATH and {})", dir.display())
        } else {
            String::new()
        };
        (
            errors::FAILED.to_string(),
            format!("cannot start `{program}`: {e}{hint}"),
        )
    })?;
    let pid = child.id().and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
    // A caller that stops waiting (a task timed out or stopped, an HTTP client gone) leaves no
    // process behind.
    let _group = ProcessGroupGuard::new(pid);
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let mut kept = Vec::new();
    let mut too_large = false;
    let finished = {
        let feed = async move {
            if let Some(mut stdin) = stdin {
                // A function may exit without reading its event: a broken pipe is not an error.
                let _ = stdin.write_all(payload.as_bytes()).await;
                let _ = stdin.write_all(b"\n").await;
                let _ = stdin.shutdown().await;
            }
        };
        let wait = async {
            let status = child.wait().await;
            // The leader is gone; so is whatever it left running in its group (which would
            // otherwise also keep stdout open).
            // SAFETY: plain syscall on the process group this invocation created.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            status
        };
        let read = read_limited(stdout, &mut kept, &mut too_large);
        let run = async {
            tokio::pin!(read);
            let exited = async { tokio::join!(feed, wait).1 };
            tokio::pin!(exited);
            let mut read_done = false;
            let status = loop {
                tokio::select! {
                    () = &mut read, if !read_done => read_done = true,
                    status = &mut exited => break status,
                }
            };
            if !read_done {
                // Only a process that left the group can still hold stdout; take what it wrote.
                let _ = tokio::time::timeout(STDOUT_DRAIN, &mut read).await;
            }
            status
        };
        tokio::select! {
            status = run => Some(status),
            _ = tokio::time::sleep(spec.timeout) => None,
        }
    };
    let result = match finished {
        Some(Ok(status)) => Finished::Exited {
            status,
            stdout: kept,
            too_large,
        },
        Some(Err(e)) => {
            return Err((
                errors::FAILED.into(),
                format!("cannot wait for the process: {e}"),
            ));
        }
        None => {
            stop_group(pid, &mut child, job.kill_grace).await;
            Finished::TimedOut
        }
    };
    sink.finish(STDOUT_DRAIN).await;
    Ok(result)
}

/// Reads stdout to its end into `kept`, keeping at most [`MAX_RESULT_BYTES`] (the rest is
/// drained, so the process never blocks on a full pipe; `too_large` says there was more).
async fn read_limited(
    stdout: Option<impl AsyncRead + Unpin>,
    kept: &mut Vec<u8>,
    too_large: &mut bool,
) {
    let Some(mut stdout) = stdout else {
        return;
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stdout.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) if kept.len() + n > MAX_RESULT_BYTES => *too_large = true,
            Ok(n) => kept.extend_from_slice(&buf[..n]),
        }
    }
}

/// Success or the error of a process that exited.
fn classify(
    status: ExitStatus,
    stdout: &[u8],
    too_large: bool,
    stderr_tail: &str,
) -> Result<Value, Failed> {
    let exit = exit_text(status);
    if too_large {
        let cause = format!(
            "the result on stdout is larger than {MAX_RESULT_BYTES} bytes: pass large data through the lake"
        );
        return Err(with_tail(
            (errors::TOO_LARGE.into(), cause),
            stderr_tail,
            Some(&exit),
            None,
        ));
    }
    let text = String::from_utf8_lossy(stdout);
    let text = text.trim();
    let parsed = if text.is_empty() {
        Ok(Value::Null)
    } else {
        serde_json::from_str::<Value>(text)
    };
    if !status.success() {
        // A function reports its own error the way Lambda runtimes do: {"errorType", "errorMessage"}.
        let reported = parsed.ok().and_then(|value| {
            let error = value.get("errorType")?.as_str()?.trim().to_string();
            if error.is_empty() {
                return None;
            }
            let message = match value.get("errorMessage") {
                Some(Value::String(m)) => m.clone(),
                None | Some(Value::Null) => String::new(),
                Some(other) => other.to_string(),
            };
            Some(((error, message), value))
        });
        return Err(match reported {
            Some((failure, object)) => with_tail(failure, stderr_tail, Some(&exit), Some(object)),
            None => with_tail(
                (errors::FAILED.into(), String::new()),
                stderr_tail,
                Some(&exit),
                None,
            ),
        });
    }
    parsed.map_err(|e| {
        let start: String = text.chars().take(200).collect();
        let cause = format!("the output on stdout is not JSON ({e}); it starts with: {start}");
        with_tail(
            (errors::INVALID_OUTPUT.into(), cause),
            stderr_tail,
            Some(&exit),
            None,
        )
    })
}

fn exit_text(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => "ended without an exit status".into(),
    }
}

/// The cause as users read it (what went wrong, then the end of stderr, then the exit status),
/// and as Lambda reports an unhandled error: the function's own error object (`reported`) when
/// it printed one, else `{"errorMessage", "errorType", "trace"}` with the end of stderr and the
/// exit status as the trace, so a definition can read it with `States.StringToJson`.
fn with_tail(
    (error, message): Failure,
    stderr_tail: &str,
    exit: Option<&str>,
    reported: Option<Value>,
) -> Failed {
    let mut parts = Vec::new();
    let mut trace: Vec<String> = Vec::new();
    if !message.trim().is_empty() {
        parts.push(message.trim_end().to_string());
    }
    if !stderr_tail.trim().is_empty() {
        parts.push(format!("stderr:\n{}", stderr_tail.trim_end()));
        trace.extend(stderr_tail.trim_end().lines().map(str::to_string));
    }
    if let Some(exit) = exit {
        parts.push(exit.to_string());
        trace.push(exit.to_string());
    }
    let payload = reported.unwrap_or_else(|| {
        let error_message = match message.trim() {
            "" => exit.unwrap_or(&error).to_string(),
            text => text.to_string(),
        };
        serde_json::json!({
            "errorMessage": error_message,
            "errorType": error,
            "trace": trace,
        })
    });
    Failed {
        error,
        cause: parts.join("\n"),
        payload,
    }
}

/// The last [`STDERR_TAIL_BYTES`] of the log after `start` (where stderr began), from a line
/// boundary when the cut falls inside a line.
fn tail_from(path: &Path, start: u64) -> String {
    let Ok(mut file) = File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let from = start.max(len.saturating_sub(STDERR_TAIL_BYTES));
    if from >= len || file.seek(SeekFrom::Start(from)).is_err() {
        return String::new();
    }
    let mut bytes = Vec::new();
    let _ = file.take(len - from).read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    match (from > start, text.find('\n')) {
        (true, Some(i)) if i + 1 < text.len() => text[i + 1..].to_string(),
        _ => text,
    }
}

/// A value for the log, cut at [`LOG_VALUE_BYTES`].
fn clip(text: &str) -> String {
    if text.len() <= LOG_VALUE_BYTES {
        return text.to_string();
    }
    let mut end = LOG_VALUE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}
