//! What the lake's action runners share: the end of an attempt that must stop before its work
//! is done.

use tokio::sync::watch;
use tokio::time::Instant;
use weir_engine::actions::{ActionOutcome, FailureKind};

/// Resolves when the attempt must stop: its deadline passed (`timed out`) or it was cancelled.
/// A runner `select!`s its work against it; dropping the work stops it.
pub(crate) async fn stopped(
    deadline: Option<Instant>,
    mut cancel: watch::Receiver<bool>,
) -> ActionOutcome {
    let deadline = async {
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    let cancelled = async {
        // A sender gone without cancelling never cancels.
        if cancel.wait_for(|c| *c).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        _ = deadline => ActionOutcome::failure(FailureKind::TimedOut, "timed out"),
        _ = cancelled => ActionOutcome::failure(FailureKind::Cancelled, "cancelled"),
    }
}
