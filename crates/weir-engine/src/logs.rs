//! Task logs: one append-only file per attempt under the data directory,
//! `logs/RUN_ID/TASK[.MAP_INDEX]/TRY.log`, written by the attempt itself (a command's stdout and
//! stderr go straight into it). Function invocations keep theirs beside them, under
//! `logs/functions/NAME/`.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::actions::AttemptId;

/// The log path of an attempt, relative to the data directory.
pub fn attempt_log(attempt: &AttemptId) -> PathBuf {
    instance_dir(&attempt.run_id, &attempt.task_id, attempt.map_index)
        .join(format!("{}.log", attempt.try_number))
}

/// Where a command attempt writes its JSON output, relative to the data directory.
pub fn attempt_output(attempt: &AttemptId) -> PathBuf {
    instance_dir(&attempt.run_id, &attempt.task_id, attempt.map_index)
        .join(format!("{}.output", attempt.try_number))
}

/// The log of one function invocation, relative to the data directory:
/// `logs/functions/NAME/INVOCATION_ID.log` (the payload, the command's stderr and the outcome).
pub fn invocation_log(function: &str, invocation_id: &str) -> PathBuf {
    invocations_dir(function).join(format!("{}.log", sanitize(invocation_id)))
}

/// The folder of a function's invocation logs, relative to the data directory.
pub fn invocations_dir(function: &str) -> PathBuf {
    Path::new("logs").join("functions").join(sanitize(function))
}

/// The folder of the action logs of a state machine execution, relative to the data directory.
pub fn execution_dir(execution_name: &str) -> PathBuf {
    Path::new("logs")
        .join("machines")
        .join(sanitize(execution_name))
}

fn instance_dir(run_id: &str, task_id: &str, map_index: i32) -> PathBuf {
    let task = if map_index >= 0 {
        format!("{task_id}.{map_index}")
    } else {
        task_id.to_string()
    };
    Path::new("logs")
        .join(sanitize(run_id))
        .join(sanitize(&task))
}

/// Keeps a path component inside its directory whatever a name contains.
fn sanitize(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+' | ':') {
                c
            } else {
                '_'
            }
        })
        .collect();
    mapped
        .replace("..", "__")
        .trim_start_matches('.')
        .to_string()
}

/// The last `max_bytes` of a log (starting at a line boundary when possible).
pub fn tail(path: &Path, max_bytes: u64) -> String {
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(max_bytes);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    match (start > 0, text.find('\n')) {
        (true, Some(i)) if i + 1 < text.len() => text[i + 1..].to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_log_directory() {
        let attempt = AttemptId {
            run_id: "../../etc".into(),
            task_id: "a/b".into(),
            map_index: 2,
            try_number: 1,
        };
        let path = attempt_log(&attempt);
        assert!(!path.to_string_lossy().contains(".."), "{}", path.display());
        assert!(path.ends_with("a_b.2/1.log"));
    }
}
