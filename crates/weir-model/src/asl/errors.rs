//! Step Functions' error names, how Retry and Catch match them, and Retry's back-off.
//!
//! Matching follows the AWS developer guide: `States.ALL` matches every error except the two
//! terminal ones (`States.Runtime`, `States.DataLimitExceeded`); `States.TaskFailed` matches every
//! error except timeouts (and the terminal ones); `States.Timeout` also matches
//! `States.HeartbeatTimeout`, the finer name a missed heartbeat is matched under (it is
//! reported as `States.Timeout`, see [`reported`]); any other name matches itself only.

use std::fmt;
use std::time::Duration;

/// An error raised while running a state: a name (`States.Runtime`, `Lambda.Unknown`, …) and a
/// human-readable cause, as Step Functions reports them in `ExecutionFailed` and `…Failed` events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatesError {
    pub error: String,
    pub cause: String,
}

impl StatesError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        StatesError {
            error: error.into(),
            cause: cause.into(),
        }
    }

    pub fn runtime(cause: impl Into<String>) -> Self {
        StatesError::new(names::RUNTIME, cause)
    }

    pub fn intrinsic(cause: impl Into<String>) -> Self {
        StatesError::new(names::INTRINSIC_FAILURE, cause)
    }

    pub fn query(cause: impl Into<String>) -> Self {
        StatesError::new(names::QUERY_EVALUATION_ERROR, cause)
    }

    /// The error's output as a Catcher passes it on: `{"Error": …, "Cause": …}`, without the
    /// `Cause` an error has none of (a timeout), as its events leave it out.
    pub fn to_json(&self) -> serde_json::Value {
        if self.cause.is_empty() {
            serde_json::json!({"Error": self.error})
        } else {
            serde_json::json!({"Error": self.error, "Cause": self.cause})
        }
    }
}

impl fmt::Display for StatesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for StatesError {}

/// The predefined error names (all start with `States.`; user errors may not).
pub mod names {
    pub const ALL: &str = "States.ALL";
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    pub const PERMISSIONS: &str = "States.Permissions";
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
    /// What executions report when ResultPath cannot be written or ItemsPath names a member
    /// that is not there (the guide lists `States.ResultPathMatchFailure`, which they do not).
    pub const REFERENCE_PATH_CONFLICT: &str = "States.ReferencePathConflict";
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    pub const RESULT_WRITER_FAILED: &str = "States.ResultWriterFailed";
    pub const RUNTIME: &str = "States.Runtime";
    pub const TASK_FAILED: &str = "States.TaskFailed";
    pub const TIMEOUT: &str = "States.Timeout";

    /// Every predefined name, for definition checks.
    pub const KNOWN: &[&str] = &[
        ALL,
        BRANCH_FAILED,
        DATA_LIMIT_EXCEEDED,
        EXCEED_TOLERATED_FAILURE_THRESHOLD,
        HEARTBEAT_TIMEOUT,
        INTRINSIC_FAILURE,
        ITEM_READER_FAILED,
        NO_CHOICE_MATCHED,
        PARAMETER_PATH_FAILURE,
        PERMISSIONS,
        QUERY_EVALUATION_ERROR,
        REFERENCE_PATH_CONFLICT,
        RESULT_PATH_MATCH_FAILURE,
        RESULT_WRITER_FAILED,
        RUNTIME,
        TASK_FAILED,
        TIMEOUT,
        "States.Http.Socket",
    ];
}

/// The name an execution reports for `error`: a missed heartbeat is matched by Retry and
/// Catch as `States.HeartbeatTimeout` (and `States.Timeout`), but events, a Catcher's output
/// and the execution's failure say `States.Timeout`, as recorded on AWS.
pub fn reported(error: &str) -> &str {
    if error == names::HEARTBEAT_TIMEOUT {
        names::TIMEOUT
    } else {
        error
    }
}

/// Errors no Retrier or Catcher can handle: they always fail the execution.
pub fn is_terminal(error: &str) -> bool {
    error == names::RUNTIME || error == names::DATA_LIMIT_EXCEEDED
}

/// Whether one `ErrorEquals` entry matches an error name.
pub fn error_matches(pattern: &str, error: &str) -> bool {
    if is_terminal(error) {
        return false;
    }
    match pattern {
        names::ALL => true,
        names::TASK_FAILED => error != names::TIMEOUT && error != names::HEARTBEAT_TIMEOUT,
        names::TIMEOUT => error == names::TIMEOUT || error == names::HEARTBEAT_TIMEOUT,
        _ => pattern == error,
    }
}

/// Whether any entry of an `ErrorEquals` list matches.
pub fn error_equals_matches(error_equals: &[String], error: &str) -> bool {
    error_equals.iter().any(|p| error_matches(p, error))
}

/// Retry's `JitterStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    #[default]
    None,
    /// Wait a uniformly random fraction of the computed interval.
    Full,
}

/// The wait before retry number `retry` (0 for the first retry) of a Retrier:
/// `IntervalSeconds × BackoffRate^retry`, capped at `MaxDelaySeconds`, then with FULL jitter
/// scaled by `random` (the caller's random number in `[0, 1)`).
pub fn retry_delay(
    interval_seconds: u64,
    backoff_rate: f64,
    max_delay_seconds: Option<u64>,
    jitter: Jitter,
    retry: u32,
    random: f64,
) -> Duration {
    let exponent = i32::try_from(retry).unwrap_or(i32::MAX);
    let mut seconds = interval_seconds as f64 * backoff_rate.powi(exponent);
    if let Some(max) = max_delay_seconds {
        seconds = seconds.min(max as f64);
    }
    if jitter == Jitter::Full {
        seconds *= random.clamp(0.0, 1.0);
    }
    // The largest wait Step Functions allows anywhere is about a year; a non-finite or absurd
    // product (a large BackoffRate to a large power) saturates instead of overflowing.
    const CAP: f64 = 99_999_999.0;
    if !seconds.is_finite() || seconds > CAP {
        seconds = CAP;
    }
    Duration::from_secs_f64(seconds.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_rules() {
        assert!(error_matches("States.ALL", "Lambda.Unknown"));
        assert!(error_matches("States.ALL", "States.Timeout"));
        assert!(!error_matches("States.ALL", "States.Runtime"));
        assert!(!error_matches("States.ALL", "States.DataLimitExceeded"));
        assert!(error_matches("States.TaskFailed", "CustomError"));
        assert!(error_matches("States.TaskFailed", "States.Permissions"));
        assert!(!error_matches("States.TaskFailed", "States.Timeout"));
        assert!(!error_matches(
            "States.TaskFailed",
            "States.HeartbeatTimeout"
        ));
        assert!(error_matches("States.Timeout", "States.HeartbeatTimeout"));
        assert!(error_matches(
            "States.HeartbeatTimeout",
            "States.HeartbeatTimeout"
        ));
        assert!(!error_matches("States.HeartbeatTimeout", "States.Timeout"));
        assert!(error_matches("CustomError", "CustomError"));
        assert!(!error_matches("CustomError", "customerror"));
        assert!(error_equals_matches(&["A".into(), "B".into()], "B"));
        assert_eq!(reported("States.HeartbeatTimeout"), "States.Timeout");
        assert_eq!(reported("CustomError"), "CustomError");
    }

    #[test]
    fn backoff() {
        let d = |retry, max, jitter, random| retry_delay(3, 2.0, max, jitter, retry, random);
        assert_eq!(d(0, None, Jitter::None, 0.5), Duration::from_secs(3));
        assert_eq!(d(1, None, Jitter::None, 0.5), Duration::from_secs(6));
        assert_eq!(d(3, None, Jitter::None, 0.5), Duration::from_secs(24));
        assert_eq!(d(3, Some(10), Jitter::None, 0.5), Duration::from_secs(10));
        assert_eq!(
            d(3, Some(10), Jitter::Full, 0.25),
            Duration::from_millis(2500)
        );
        assert_eq!(d(0, None, Jitter::Full, 0.0), Duration::ZERO);
        assert_eq!(
            retry_delay(1, 1.5, None, Jitter::None, 2, 0.0),
            Duration::from_secs_f64(2.25)
        );
        assert_eq!(
            retry_delay(99_999_999, 5.0, None, Jitter::None, u32::MAX, 0.0),
            Duration::from_secs(99_999_999)
        );
    }
}
