//! Stopping the server (SIGTERM, Ctrl-C) is not a crash. The core first *drains*: it starts no
//! new attempts and lets running ones finish for a grace period. Attempts still running after it
//! are *abandoned*: stopped (their process groups killed), recorded as lost, and put back in the
//! queue so the next start runs them again without using a retry (or failed, for tasks that say
//! `on_lost: fail`). Either way, what the store says when the process exits is what happened.

use tokio::sync::oneshot;
use weir_store::RunMutation;

use super::{Core, InstanceKey};

/// Where the core is in stopping.
#[derive(Default)]
pub(crate) enum Stopping {
    #[default]
    No,
    /// No new attempts; the waiters hear when none is running.
    Draining(Vec<oneshot::Sender<()>>),
    /// Running attempts are being stopped; the waiters hear when all have reported.
    Abandoning(Vec<oneshot::Sender<()>>),
}

impl Stopping {
    pub(crate) fn is_stopping(&self) -> bool {
        !matches!(self, Stopping::No)
    }

    pub(crate) fn is_abandoning(&self) -> bool {
        matches!(self, Stopping::Abandoning(_))
    }
}

impl Core {
    /// Starts draining; `reply` hears once no attempt is running.
    pub(super) fn drain(&mut self, reply: oneshot::Sender<()>) {
        match &mut self.stopping {
            Stopping::No => self.stopping = Stopping::Draining(vec![reply]),
            Stopping::Draining(waiters) | Stopping::Abandoning(waiters) => waiters.push(reply),
        }
        tracing::info!(
            running = self.running_attempts.len(),
            "stopping: no new attempts start; running ones may finish"
        );
        self.settle_stopping();
    }

    /// Stops every running attempt; `reply` hears once all of them have reported.
    pub(super) fn abandon(&mut self, reply: oneshot::Sender<()>) {
        let mut waiters = match std::mem::take(&mut self.stopping) {
            Stopping::No => Vec::new(),
            Stopping::Draining(waiters) | Stopping::Abandoning(waiters) => waiters,
        };
        waiters.push(reply);
        self.stopping = Stopping::Abandoning(waiters);
        let running: Vec<InstanceKey> = self.running_attempts.keys().cloned().collect();
        if !running.is_empty() {
            tracing::warn!(
                attempts = running.len(),
                "stopping: the grace period is over; stopping the attempts still running (they run again after the restart)"
            );
        }
        for key in running {
            self.stop_attempt(&key);
        }
        self.settle_stopping();
    }

    /// Records an attempt stopped because the server is stopping: lost, not failed.
    pub(super) fn abandoned(&mut self, key: &InstanceKey, mut attempt: weir_store::AttemptRecord) {
        attempt.state = "lost".into();
        attempt.error = Some("the server was stopped before this attempt ended".into());
        let try_number = attempt.try_number;
        self.batch.push(RunMutation::PutAttempt(attempt));
        self.attempt_lost(key, try_number);
    }

    /// Tells the waiters once no attempt is running any more.
    pub(super) fn settle_stopping(&mut self) {
        if !self.running_attempts.is_empty() {
            return;
        }
        let waiters = match &mut self.stopping {
            Stopping::No => return,
            Stopping::Draining(waiters) | Stopping::Abandoning(waiters) => std::mem::take(waiters),
        };
        if waiters.is_empty() {
            return;
        }
        // The waiters hear once what led here is durable.
        self.after_commit.push(Box::new(move |_| {
            for waiter in waiters {
                let _ = waiter.send(());
            }
        }));
    }
}
