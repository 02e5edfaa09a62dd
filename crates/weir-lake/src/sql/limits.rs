//! The bounds every statement runs under: the memory pool's size (set on the session's runtime;
//! named here in the errors it causes) and the time limit, which covers a result's delivery too.
//! A panic under a statement is caught here as well, so that one bad statement never takes the
//! server down.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;

use super::{SqlError, SqlErrorKind};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The memory pool's size (`[sql] memory_limit`), when limited.
    pub memory: Option<usize>,
    /// Longest a statement may run (`[sql] timeout`).
    pub timeout: Option<Duration>,
}

impl Limits {
    /// When a statement starting now must end.
    pub fn deadline(&self) -> Option<tokio::time::Instant> {
        self.timeout
            .map(|limit| tokio::time::Instant::now() + limit)
    }

    /// Runs `work` until `deadline`, with a panic inside it turned into an error and the limits
    /// named in the errors they cause.
    pub async fn guarded<T>(
        &self,
        deadline: Option<tokio::time::Instant>,
        work: impl Future<Output = Result<T, SqlError>>,
    ) -> Result<T, SqlError> {
        let caught = AssertUnwindSafe(work).catch_unwind();
        let outcome = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, caught)
                .await
                .map_err(|_| self.timed_out())?,
            None => caught.await,
        };
        match outcome {
            Ok(result) => result.map_err(|e| self.name_the_limit(e)),
            Err(panic) => Err(panic_error(panic.as_ref())),
        }
    }

    /// The error of a statement stopped at its time limit.
    pub fn timed_out(&self) -> SqlError {
        let limit = self
            .timeout
            .map(weir_model::duration::format_duration)
            .unwrap_or_default();
        SqlError::of_kind(
            SqlErrorKind::Timeout,
            format!(
                "the statement ran longer than the SQL time limit of {limit} and was stopped \
                 (`timeout` under `[sql]` in weir.toml)"
            ),
        )
    }

    /// A memory error says which limit it ran into.
    pub fn name_the_limit(&self, error: SqlError) -> SqlError {
        match (error.kind, self.memory) {
            (SqlErrorKind::MemoryLimit, Some(limit)) => SqlError {
                message: format!(
                    "the statement needs more memory than the SQL memory limit of {} allows \
                     (`memory_limit` under `[sql]` in weir.toml): {}",
                    human_bytes(limit),
                    error.message
                ),
                ..error
            },
            _ => error,
        }
    }
}

/// The error of a caught panic.
pub(crate) fn panic_error(panic: &(dyn std::any::Any + Send)) -> SqlError {
    let what = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown".to_string());
    SqlError::of_kind(
        SqlErrorKind::Panic,
        format!("internal error in the SQL engine: {what}"),
    )
}

/// `64 MiB`, `1.5 GiB`: a byte count as people read it.
pub fn human_bytes(bytes: usize) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(super::human_bytes(1 << 20), "1 MiB");
        assert_eq!(super::human_bytes(3 << 29), "1.5 GiB");
        assert_eq!(super::human_bytes(100), "100 bytes");
    }
}
