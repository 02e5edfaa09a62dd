//! After a failed commit, memory and the store agree again. A turn decides in memory and commits
//! its decisions; when the commit fails, memory is ahead of the store for every run the turn
//! created or changed. Runs it created are forgotten (the caller was told the trigger failed);
//! runs it changed are read again from the store, which is the truth: a task the store says is
//! running whose attempt no longer runs (its end was in the failed commit) counts as lost and
//! runs again, as after a crash, without using a retry; an attempt that still runs keeps running;
//! what the turn was to launch never started, and its capacity comes back.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use weir_store::{RunMutation, StoreError};

use super::run::RunState;
use super::{COMMITS_IN_FLIGHT, Core, InstanceKey, Timer};
use crate::time::now_us;

/// How long a store that refused a commit is left alone before the core reads from it again
/// (a store that keeps refusing is not asked in a tight loop).
const RESYNC_PAUSE: Duration = Duration::from_millis(250);

/// The runs, other than those it creates, that a turn's batch changes.
pub(super) fn touched_runs(batch: &[RunMutation], created: &[Arc<str>]) -> Vec<String> {
    let created: HashSet<&str> = created.iter().map(|id| &**id).collect();
    let touched: BTreeSet<&str> = batch
        .iter()
        .filter_map(|mutation| match mutation {
            RunMutation::PutRun(run) => Some(run.id.as_str()),
            RunMutation::PutTask(task) => Some(task.run_id.as_str()),
            RunMutation::PutAttempt(attempt) => Some(attempt.run_id.as_str()),
            RunMutation::Event(event) => Some(event.run_id.as_str()),
            RunMutation::InsertRun(_)
            | RunMutation::PutVersion(_)
            | RunMutation::PutScheduleState(_) => None,
        })
        .filter(|id| !created.contains(id))
        .collect();
    touched.into_iter().map(str::to_string).collect()
}

impl Core {
    pub(super) async fn on_commit_failed(
        &mut self,
        created: Vec<Arc<str>>,
        touched: Vec<String>,
        launches: Vec<InstanceKey>,
    ) {
        self.forget_uncommitted(created);
        for key in &launches {
            self.release(key);
        }
        if touched.is_empty() {
            return;
        }
        // What this turn decided so far, and the commits still on their way, were decided on
        // the same memory: they land first, then the runs are read as the store has them.
        self.flush().await;
        let Ok(all) = self
            .commit_slots
            .clone()
            .acquire_many_owned(COMMITS_IN_FLIGHT as u32)
            .await
        else {
            return;
        };
        tokio::time::sleep(RESYNC_PAUSE).await;
        for (i, run_id) in touched.iter().enumerate() {
            if let Err(error) = self.reload_run(run_id).await {
                tracing::error!(run = %run_id, %error, "cannot read a run again after a failed commit; trying later");
                let _ = self.tx.send(super::Msg::CommitFailed {
                    created: Vec::new(),
                    touched: touched[i..].to_vec(),
                    launches: Vec::new(),
                });
                break;
            }
        }
        drop(all);
    }

    /// Forgets runs whose creation was not committed: the caller was told the trigger failed, and
    /// the store does not have them, so neither may memory (nor may they hold capacity).
    fn forget_uncommitted(&mut self, created: Vec<Arc<str>>) {
        for run_id in created {
            let Some(run) = self.detach_run(&run_id) else {
                continue;
            };
            tracing::warn!(run = %run_id, "forgetting a run whose creation was not committed");
            let pipeline = run.record.pipeline.clone();
            if run.record.run_type != "manual"
                && let Some(dates) = self.logical_dates.get_mut(&pipeline)
            {
                dates.remove(&run.record.logical_date);
            }
            for key in self.attempts_of(&run_id) {
                self.release(&key);
            }
            // Its pipeline may start the next queued run in the slot it held.
            self.start_queued_runs(&pipeline);
        }
    }

    /// Replaces a run in memory with the run as the store has it.
    async fn reload_run(&mut self, run_id: &str) -> Result<(), StoreError> {
        let store = self.shared.store.clone();
        let stored = store
            .run(run_id)
            .await?
            .filter(|run| crate::rules::is_active_run(&run.state));
        let tasks = match &stored {
            Some(_) => store.task_instances(run_id).await?,
            None => Vec::new(),
        };
        let open: Vec<_> = match &stored {
            Some(_) => store
                .attempts(run_id, None)
                .await?
                .into_iter()
                .filter(|attempt| attempt.state == "running")
                .collect(),
            None => Vec::new(),
        };
        // The version in force, or the one kept in the store (no borrow of the core is held
        // across the read: the core's future must stay `Send`).
        let in_force = stored
            .as_ref()
            .and_then(|record| self.version_in_force(&record.pipeline, &record.version));
        let version = match (&stored, in_force) {
            (_, Some(version)) => Some(version),
            (Some(record), None) => {
                super::load_stored_version(store.as_ref(), &record.pipeline, &record.version)
                    .await?
            }
            (None, None) => None,
        };
        let previous = self.detach_run(run_id);
        let (Some(record), Some(version)) = (stored, version) else {
            // Not active in the store (it ended there, or its version is gone): nothing of it
            // stays in memory, and what it still runs is stopped.
            for key in self.attempts_of(run_id) {
                self.stop_attempt(&key);
                self.release(&key);
            }
            if let Some(run) = previous {
                self.start_queued_runs(&run.record.pipeline);
            }
            return Ok(());
        };
        tracing::warn!(run = %run_id, "reading a run again after a failed commit");
        let mut run = RunState::new(record, version, tasks);
        let id = run.id.clone();
        // The store's running tasks: still running here, or lost with the failed commit.
        let mut still_running = HashSet::new();
        let mut lost = Vec::new();
        for (key, record) in run.running_instances() {
            let runs_here = self
                .running_attempts
                .get(&key)
                .is_some_and(|attempt| attempt.try_number == record.try_number);
            if runs_here {
                still_running.insert(key);
            } else {
                lost.push((key, record.try_number));
            }
        }
        run.running = still_running.len() as u32;
        // Attempts the store does not know of (their start was not committed) are stopped.
        for key in self.attempts_of(run_id) {
            if !still_running.contains(&key) {
                self.stop_attempt(&key);
                self.release(&key);
            }
        }
        let pipeline = run.record.pipeline.clone();
        let queued = run.record.state == "queued";
        self.runs.insert(id.clone(), run);
        if queued {
            self.queued
                .entry(pipeline.clone())
                .or_default()
                .push_back(id.clone());
        } else {
            *self.running_runs.entry(pipeline.clone()).or_default() += 1;
        }
        for (key, try_number) in lost {
            let task_id = self
                .runs
                .get(&id)
                .map(|run| run.task_id(key.task).to_string())
                .unwrap_or_default();
            if let Some(mut attempt) = open
                .iter()
                .find(|a| {
                    a.task_id == task_id
                        && a.map_index == key.map_index
                        && a.try_number == try_number
                })
                .cloned()
            {
                attempt.state = "lost".into();
                attempt.ended_at = Some(now_us());
                attempt.error =
                    Some("its end was not recorded: the metadata store refused a commit".into());
                self.batch.push(RunMutation::PutAttempt(attempt));
            }
            self.attempt_lost(&key, try_number);
        }
        if !queued {
            self.activate(&id);
        }
        self.start_queued_runs(&pipeline);
        Ok(())
    }

    /// Takes a run out of memory with what points at it: its place among the queued or running
    /// runs of its pipeline, its ready instances, its retry timers. Its attempts are the
    /// caller's to settle.
    fn detach_run(&mut self, run_id: &str) -> Option<RunState> {
        let run = self.runs.remove(run_id)?;
        let pipeline = &run.record.pipeline;
        if let Some(queue) = self.queued.get_mut(pipeline) {
            queue.retain(|id| &**id != run_id);
        }
        if run.record.state == "running"
            && let Some(count) = self.running_runs.get_mut(pipeline)
        {
            *count = count.saturating_sub(1);
        }
        for queue in self.ready.values_mut() {
            queue.retain(|key| &*key.run_id != run_id);
        }
        self.timers.retain(|_, timer| match timer {
            Timer::Retry { key, .. } => &*key.run_id != run_id,
            Timer::Schedule { .. } => true,
        });
        Some(run)
    }

    /// The instances of a run with an attempt holding capacity.
    fn attempts_of(&self, run_id: &str) -> Vec<InstanceKey> {
        self.running_attempts
            .keys()
            .filter(|key| &*key.run_id == run_id)
            .cloned()
            .collect()
    }
}
