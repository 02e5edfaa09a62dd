//! Marking a whole run by hand, as Airflow's "mark run as success/failed": for `success`, every
//! task instance that neither succeeded nor was skipped succeeds; for `failed`, every instance
//! not yet ended fails. Running attempts are stopped, and the run ends in the state marked. An
//! ended run is amended the same way (it is not reopened); a run already in that state with
//! nothing to change is left as it is.

use weir_store::{RunMutation, RunRecord, TaskRecord};

use super::run::{RunState, touch};
use super::{Core, InstanceKey, StoredRun};
use crate::EngineError;
use crate::rules::is_terminal;
use crate::time::now_us;

impl Core {
    pub(super) fn mark_run(
        &mut self,
        run_id: &str,
        state: &str,
        stored: Option<StoredRun>,
    ) -> Result<RunRecord, EngineError> {
        if state != "success" && state != "failed" {
            return Err(EngineError::Invalid(format!(
                "state must be success or failed, not `{state}`"
            )));
        }
        let message = format!("marked {state} by hand");
        if let Some((id, run)) = self.runs.get_key_value(run_id) {
            let id = id.clone();
            let (changed, running) = marked_instances(run, state, &message);
            for key in &running {
                // Its report comes back after the run has left memory, and records the attempt.
                self.stop_attempt(key);
            }
            self.record_marked(run_id, changed);
            self.finish_run(&id, state, Some(message));
            return self.store_changed_run(run_id);
        }
        let Some(stored) = stored else {
            return Err(EngineError::Conflict(format!(
                "run {run_id} ended while it was being marked: mark it again"
            )));
        };
        let mut run = RunState::new(stored.record, stored.version, stored.tasks);
        let (changed, _) = marked_instances(&run, state, &message);
        if changed.is_empty() && run.record.state == state {
            return Ok(run.record);
        }
        self.record_marked(run_id, changed);
        run.record.state = state.to_string();
        run.record.ended_at.get_or_insert_with(now_us);
        self.batch.push(RunMutation::PutRun(run.record.clone()));
        self.event(run_id, None, state, Some(message));
        self.changed.push(run.record.clone());
        Ok(run.record)
    }

    /// Writes the marked instances, each with its event.
    fn record_marked(&mut self, run_id: &str, changed: Vec<TaskRecord>) {
        for record in changed {
            self.event(
                run_id,
                Some((&record.task_id, record.map_index, record.try_number)),
                &record.state,
                Some("marked by hand with its run".into()),
            );
            self.batch.push(RunMutation::PutTask(record));
        }
    }
}

/// The instances of `run` (mapped tasks' own records and their instances) that marking it
/// `state` changes, as they become, and the keys of those running now.
fn marked_instances(
    run: &RunState,
    state: &str,
    message: &str,
) -> (Vec<TaskRecord>, Vec<InstanceKey>) {
    let mut changed = Vec::new();
    let mut running = Vec::new();
    for (task, slot) in run.slots.iter().enumerate() {
        let instances = std::iter::once((-1, &slot.record)).chain(
            slot.instances
                .iter()
                .enumerate()
                .map(|(m, r)| (m as i32, r)),
        );
        for (map_index, record) in instances {
            let changes = match state {
                "success" => !matches!(record.state.as_str(), "success" | "skipped"),
                _ => !is_terminal(&record.state),
            };
            if !changes {
                continue;
            }
            if record.state == "running" {
                running.push(InstanceKey {
                    run_id: run.id.clone(),
                    task,
                    map_index,
                });
            }
            let mut record = record.clone();
            touch(&mut record, state);
            record.next_try_at = None;
            record.error = (state == "failed").then(|| message.to_string());
            changed.push(record);
        }
    }
    (changed, running)
}
