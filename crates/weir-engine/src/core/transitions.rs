//! What happens when a task instance changes state: retries, the aggregate of a mapped task, the
//! trigger rules of downstream tasks, and the end of the run.

use std::sync::Arc;

use serde_json::Value;
use weir_model::pipeline::OnLost;
use weir_store::RunMutation;

use super::run::{new_task_record, touch};
use super::{Core, InstanceKey, Timer};
use crate::actions::{ActionError, ActionOutcome, FailureKind};
use crate::rules::{Readiness, evaluate, is_failure, is_terminal};
use crate::time::now_us;

impl Core {
    pub(super) fn on_spawned(&mut self, key: InstanceKey, try_number: i32, pid: i32) {
        let Some(current) = self.running_attempts.get_mut(&key) else {
            return;
        };
        if current.try_number != try_number {
            return;
        }
        current.pid = Some(pid);
        let task_id = current.task_id.clone();
        let mut attempt = self.attempt_record(&key, &task_id, try_number);
        attempt.pid = Some(pid);
        self.batch.push(RunMutation::PutAttempt(attempt));
    }

    pub(super) fn on_finished(
        &mut self,
        key: InstanceKey,
        try_number: i32,
        outcome: ActionOutcome,
        (began, ended): (i64, i64),
    ) {
        let Some((pid, task_id)) = self
            .running_attempts
            .get(&key)
            .filter(|a| a.try_number == try_number)
            .map(|a| (a.pid, a.task_id.clone()))
        else {
            return; // a stale report: the attempt was already settled
        };
        let mut attempt = self.attempt_record(&key, &task_id, try_number);
        self.release(&key);
        attempt.pid = pid;
        attempt.started_at = began;
        attempt.ended_at = Some(ended);
        attempt.exit_code = outcome.exit_code;
        let Some(run) = self.runs.get_mut(&key.run_id) else {
            // The run ended (cancelled) while this attempt was stopping: record how it ended.
            attempt.state = outcome
                .result
                .as_ref()
                .err()
                .map(|e| e.kind.attempt_state())
                .unwrap_or("success")
                .to_string();
            attempt.error = outcome.result.err().map(|e| e.message);
            self.batch.push(RunMutation::PutAttempt(attempt));
            return;
        };
        let is_current = run
            .instance(key.task, key.map_index)
            .is_some_and(|t| t.state == "running" && t.try_number == try_number);
        if !is_current {
            // Marked by hand or cancelled meanwhile: the attempt's result no longer decides anything.
            attempt.state = "cancelled".into();
            attempt.error = Some(
                outcome
                    .result
                    .err()
                    .map(|e| e.message)
                    .unwrap_or_else(|| "finished after the task was marked".into()),
            );
            self.batch.push(RunMutation::PutAttempt(attempt));
            return;
        }
        if self.stopping.is_abandoning()
            && outcome
                .result
                .as_ref()
                .is_err_and(|e| e.kind == FailureKind::Cancelled)
        {
            // Stopped by the server's own stop, not by anything the task did.
            self.abandoned(&key, attempt);
            return;
        }
        let task_id = run.task_id(key.task).to_string();
        match outcome.result {
            Ok(output) => {
                attempt.state = "success".into();
                self.batch.push(RunMutation::PutAttempt(attempt));
                let Some(record) = run.instance_mut(key.task, key.map_index) else {
                    return;
                };
                record.output = output;
                record.error = None;
                record.started_at = Some(began);
                touch(record, "success");
                record.ended_at = Some(ended);
                let record = record.clone();
                self.batch.push(RunMutation::PutTask(record));
                self.event(
                    &key.run_id,
                    Some((&task_id, key.map_index, try_number)),
                    "success",
                    None,
                );
                metrics::counter!("weir_task_attempts_total", "state" => "success").increment(1);
                self.instance_ended(&key);
            }
            Err(error) => {
                attempt.state = error.kind.attempt_state().into();
                attempt.error = Some(error.message.clone());
                self.batch.push(RunMutation::PutAttempt(attempt));
                metrics::counter!("weir_task_attempts_total", "state" => error.kind.attempt_state()).increment(1);
                self.attempt_failed(&key, try_number, &error);
            }
        }
    }

    /// Applies the retry policy to a failed attempt of a running instance.
    pub(super) fn attempt_failed(
        &mut self,
        key: &InstanceKey,
        try_number: i32,
        error: &ActionError,
    ) {
        let kind = error.kind;
        let Some(run) = self.runs.get_mut(&key.run_id) else {
            return;
        };
        let task_id = run.task_id(key.task).to_string();
        let Some(task) = run
            .version
            .pipeline
            .tasks
            .get_index(key.task)
            .map(|(_, t)| t.clone())
        else {
            return;
        };
        let Some(record) = run.instance_mut(key.task, key.map_index) else {
            return;
        };
        let reason = failure_reason(error, task.timeout);
        record.error = Some(reason.clone());
        if try_number < record.max_tries && kind != FailureKind::Cancelled && !error.final_ {
            let delay = task.retry.delay_before(try_number as u32 + 1);
            let due = now_us() + delay.as_micros() as i64;
            record.state = "up_for_retry".into();
            record.next_try_at = Some(due);
            let record = record.clone();
            self.batch.push(RunMutation::PutTask(record));
            let message = format!(
                "{reason}; retry {} of {} in {}",
                try_number,
                record_retries(&self.runs[&key.run_id], key),
                weir_model::duration::format_duration(delay)
            );
            self.event(
                &key.run_id,
                Some((&task_id, key.map_index, try_number)),
                "up_for_retry",
                Some(message),
            );
            self.add_timer(
                due,
                Timer::Retry {
                    key: key.clone(),
                    try_number,
                },
            );
        } else {
            self.instance_failed(key, try_number, reason);
        }
    }

    /// An instance failed for good (its `error` is `reason`): recorded, and its run moves on.
    fn instance_failed(&mut self, key: &InstanceKey, try_number: i32, reason: String) {
        let Some(run) = self.runs.get_mut(&key.run_id) else {
            return;
        };
        let task_id = run.task_id(key.task).to_string();
        let Some(record) = run.instance_mut(key.task, key.map_index) else {
            return;
        };
        record.error = Some(reason.clone());
        touch(record, "failed");
        let record = record.clone();
        self.batch.push(RunMutation::PutTask(record));
        self.event(
            &key.run_id,
            Some((&task_id, key.map_index, try_number)),
            "failed",
            Some(reason),
        );
        self.instance_ended(key);
    }

    /// An attempt that was running when the server stopped (a crash, or a stop whose grace ran
    /// out). The task did nothing wrong: it runs again at once, and the lost attempt does not use
    /// one of its retries, unless the task says `on_lost: fail` because it must never run twice.
    pub(super) fn attempt_lost(&mut self, key: &InstanceKey, try_number: i32) {
        let Some(run) = self.runs.get_mut(&key.run_id) else {
            return;
        };
        let task_id = run.task_id(key.task).to_string();
        let on_lost = run
            .version
            .pipeline
            .tasks
            .get_index(key.task)
            .map(|(_, t)| t.on_lost)
            .unwrap_or_default();
        let Some(record) = run.instance_mut(key.task, key.map_index) else {
            return;
        };
        match on_lost {
            OnLost::Fail => {
                let reason = format!(
                    "attempt {try_number} was lost when the server stopped, and `on_lost: fail` \
                     forbids running this task again"
                );
                self.instance_failed(key, try_number, reason);
            }
            OnLost::Rerun => {
                // One more try, so the lost one leaves every retry in place.
                record.max_tries += 1;
                record.state = "queued".into();
                record.next_try_at = None;
                record.error = Some(format!(
                    "attempt {try_number} was lost when the server stopped"
                ));
                let record = record.clone();
                self.batch.push(RunMutation::PutTask(record));
                self.event(
                    &key.run_id,
                    Some((&task_id, key.map_index, try_number)),
                    "lost",
                    Some(format!(
                        "the server stopped while attempt {try_number} ran; it runs again, \
                         not counted as a retry"
                    )),
                );
            }
        }
    }

    pub(super) fn on_retry_due(&mut self, key: InstanceKey, try_number: i32) {
        let Some(run) = self.runs.get_mut(&key.run_id) else {
            return;
        };
        if run.record.state != "running" {
            return;
        }
        let Some(record) = run.instance_mut(key.task, key.map_index) else {
            return;
        };
        if record.state != "up_for_retry" || record.try_number != try_number {
            return;
        }
        record.state = "queued".into();
        record.next_try_at = None;
        self.enqueue(key);
    }

    /// An instance reached a terminal state: settle its mapped parent, then its slot.
    pub(super) fn instance_ended(&mut self, key: &InstanceKey) {
        if key.map_index >= 0 {
            self.settle_mapped(&key.run_id, key.task);
        } else {
            self.slot_ended(&key.run_id, key.task);
        }
    }

    /// When every instance of a mapped task has ended, the task ends: success if all succeeded.
    pub(super) fn settle_mapped(&mut self, run_id: &Arc<str>, task: usize) {
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        let slot = &mut run.slots[task];
        if slot.instances.iter().any(|t| !is_terminal(&t.state)) || is_terminal(&slot.record.state)
        {
            return;
        }
        let failed = slot
            .instances
            .iter()
            .filter(|t| is_failure(&t.state))
            .count();
        let state = if failed > 0 { "failed" } else { "success" };
        slot.record.output = Some(Value::Array(
            slot.instances
                .iter()
                .map(|t| t.output.clone().unwrap_or(Value::Null))
                .collect(),
        ));
        slot.record.error = (failed > 0).then(|| {
            format!(
                "{failed} of {} mapped instances failed",
                slot.instances.len()
            )
        });
        touch(&mut slot.record, state);
        let record = slot.record.clone();
        let message = record.error.clone();
        self.batch.push(RunMutation::PutTask(record.clone()));
        self.event(
            run_id,
            Some((&record.task_id, -1, record.try_number)),
            state,
            message,
        );
        self.slot_ended(run_id, task);
    }

    /// A task (slot) reached a terminal state: count it, decide its downstream tasks, maybe end the run.
    pub(super) fn slot_ended(&mut self, run_id: &Arc<str>, task: usize) {
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        run.open_slots = run.open_slots.saturating_sub(1);
        let downstream = run.version.downstream[task].clone();
        for d in downstream {
            self.decide(run_id, d);
        }
        self.maybe_finish_run(run_id);
    }

    /// Applies the trigger rule of a pending task whose upstream tasks changed.
    pub(super) fn decide(&mut self, run_id: &Arc<str>, task: usize) {
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        if run.slots[task].record.state != "pending" {
            return;
        }
        let rule = run.version.pipeline.tasks[task].trigger_rule;
        let upstream = run.version.upstream[task]
            .iter()
            .map(|&u| run.slots[u].record.state.as_str());
        match evaluate(rule, upstream) {
            Readiness::Wait => {}
            Readiness::Run if run.version.pipeline.tasks[task].map_over.is_some() => {
                self.expand(run_id, task)
            }
            Readiness::Run => {
                run.slots[task].record.state = "queued".into();
                self.enqueue(InstanceKey {
                    run_id: run_id.clone(),
                    task,
                    map_index: -1,
                });
            }
            Readiness::Skip => self.end_without_running(run_id, task, "skipped", None),
            Readiness::UpstreamFailed => self.end_without_running(
                run_id,
                task,
                "upstream_failed",
                Some("an upstream task failed".into()),
            ),
        }
    }

    pub(super) fn end_without_running(
        &mut self,
        run_id: &Arc<str>,
        task: usize,
        state: &str,
        message: Option<String>,
    ) {
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        let record = &mut run.slots[task].record;
        touch(record, state);
        record.error = message.clone();
        let record = record.clone();
        self.batch.push(RunMutation::PutTask(record.clone()));
        self.event(
            run_id,
            Some((&record.task_id, -1, record.try_number)),
            state,
            message,
        );
        self.slot_ended(run_id, task);
    }

    /// Dynamic fan-out: evaluates `map_over` and creates one instance per element.
    fn expand(&mut self, run_id: &Arc<str>, task: usize) {
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        let Some(expr) = run.version.pipeline.tasks[task].map_over.clone() else {
            return;
        };
        let items = weir_model::template::evaluate(&expr, &run.context(task, -1, 0));
        let items = match items {
            Ok(Value::Array(items)) => items,
            Ok(other) => {
                return self.fail_slot(
                    run_id,
                    task,
                    format!(
                        "map_over `{expr}` must give a list, got {}",
                        kind_of(&other)
                    ),
                );
            }
            Err(e) => return self.fail_slot(run_id, task, format!("map_over `{expr}`: {e}")),
        };
        if items.is_empty() {
            return self.end_without_running(
                run_id,
                task,
                "skipped",
                Some("map_over gave an empty list".into()),
            );
        }
        let slot = &mut run.slots[task];
        let max_tries = slot.record.max_tries;
        let task_id = slot.record.task_id.clone();
        slot.instances = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let mut record = new_task_record(run_id, &task_id, i as i32, max_tries);
                record.item = Some(item);
                record.state = "queued".into();
                record
            })
            .collect();
        slot.record.state = "running".into();
        slot.record.started_at = Some(now_us());
        let count = slot.instances.len();
        let mut mutations: Vec<RunMutation> = slot
            .instances
            .iter()
            .cloned()
            .map(RunMutation::PutTask)
            .collect();
        mutations.push(RunMutation::PutTask(slot.record.clone()));
        self.batch.extend(mutations);
        self.event(
            run_id,
            Some((&task_id, -1, 0)),
            "running",
            Some(format!("mapped over {count} items")),
        );
        for i in 0..count {
            self.enqueue(InstanceKey {
                run_id: run_id.clone(),
                task,
                map_index: i as i32,
            });
        }
    }

    fn fail_slot(&mut self, run_id: &Arc<str>, task: usize, message: String) {
        self.end_without_running(run_id, task, "failed", Some(message));
    }

    /// Ends the run once every task has ended; starts the next queued run of its pipeline.
    pub(super) fn maybe_finish_run(&mut self, run_id: &Arc<str>) {
        let Some(run) = self.runs.get(run_id) else {
            return;
        };
        if run.open_slots > 0 || run.record.state != "running" {
            return;
        }
        let failed = run.slots.iter().any(|s| is_failure(&s.record.state));
        self.finish_run(run_id, if failed { "failed" } else { "success" }, None);
    }

    /// Moves a run to a terminal state and lets it go from memory.
    pub(super) fn finish_run(&mut self, run_id: &Arc<str>, state: &str, message: Option<String>) {
        let Some(mut run) = self.runs.remove(run_id) else {
            return;
        };
        let was_running = run.record.state == "running";
        run.record.state = state.to_string();
        run.record.ended_at = Some(now_us());
        let pipeline = &run.version.pipeline;
        let notifications = if state == "success" {
            &pipeline.on_success
        } else {
            &pipeline.on_failure
        };
        run.record.notified = notifications.is_empty();
        self.batch.push(RunMutation::PutRun(run.record.clone()));
        self.event(run_id, None, state, message);
        metrics::counter!("weir_runs_total", "state" => state.to_string()).increment(1);
        self.changed.push(run.record.clone());
        if !run.record.notified {
            self.notifications
                .push((run.record.clone(), run.version.clone()));
        }
        let name = run.record.pipeline.clone();
        if was_running {
            if let Some(n) = self.running_runs.get_mut(&name) {
                *n = n.saturating_sub(1);
            }
        } else if let Some(queue) = self.queued.get_mut(&name) {
            queue.retain(|id| id != run_id);
        }
        self.start_queued_runs(&name);
    }
}

fn record_retries(run: &super::RunState, key: &InstanceKey) -> i32 {
    run.instance(key.task, key.map_index)
        .map(|t| t.max_tries - 1)
        .unwrap_or(0)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The error a failed attempt leaves on its task: the runner's own words; when the task's
/// `timeout` stopped it, with how long that was (`timed out after 1m: …`). A final failure (a
/// wait's own timeout) is the runner's alone.
fn failure_reason(error: &ActionError, task_timeout: Option<std::time::Duration>) -> String {
    if error.kind != FailureKind::TimedOut || error.final_ {
        return error.message.clone();
    }
    let rest = error
        .message
        .strip_prefix("timed out")
        .unwrap_or(&error.message);
    match task_timeout {
        Some(timeout) if !rest.starts_with(" after") => format!(
            "timed out after {}{rest}",
            weir_model::duration::format_duration(timeout)
        ),
        _ if error.message.is_empty() => "timed out".into(),
        _ => error.message.clone(),
    }
}

#[cfg(test)]
mod failure_reason_tests {
    use super::*;
    use std::time::Duration;

    fn error(kind: FailureKind, message: &str) -> ActionError {
        ActionError {
            kind,
            message: message.into(),
            final_: false,
        }
    }

    #[test]
    fn a_runner_that_says_why_keeps_its_words() {
        let minute = Some(Duration::from_secs(60));
        let mut wait = error(
            FailureKind::TimedOut,
            "timed out waiting for object `a` after 1s (1 check(s))",
        );
        wait.final_ = true;
        assert_eq!(failure_reason(&wait, None), wait.message);
        assert_eq!(failure_reason(&wait, minute), wait.message);
        let stopped = error(
            FailureKind::TimedOut,
            "timed out: the process group was stopped",
        );
        assert_eq!(
            failure_reason(&stopped, minute),
            "timed out after 1m: the process group was stopped"
        );
        assert_eq!(failure_reason(&stopped, None), stopped.message);
        assert_eq!(
            failure_reason(&error(FailureKind::TimedOut, "timed out"), minute),
            "timed out after 1m"
        );
        assert_eq!(
            failure_reason(&error(FailureKind::TimedOut, ""), None),
            "timed out"
        );
        assert_eq!(
            failure_reason(&error(FailureKind::Failed, "exit 1"), minute),
            "exit 1"
        );
    }
}
