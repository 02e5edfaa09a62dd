//! What users ask of the core: trigger, backfill, retry from failure, cancel, mark by hand (a whole
//! run in `mark_run.rs`), pause.
//! Each reply is sent only once the change it reports is durable.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tokio::sync::oneshot;
use weir_model::Problem;
use weir_store::{RunMutation, RunRecord, ScheduleStateRecord, TaskRecord};

use super::run::{RunState, new_task_record, touch};
use super::{Core, InstanceKey, Timer};
use crate::EngineError;
use crate::handle::PipelineInfo;
use crate::project::PipelineVersion;
use crate::rules::is_terminal;
use crate::time::{now_us, to_us};

type Reply<T> = oneshot::Sender<Result<T, EngineError>>;

/// A finished run as loaded from the store, for commands that reopen or amend it.
pub(crate) struct StoredRun {
    pub record: RunRecord,
    pub tasks: Vec<TaskRecord>,
    pub version: Arc<PipelineVersion>,
}

pub(crate) enum Command {
    Trigger {
        pipeline: String,
        params: Map<String, Value>,
        logical_date: Option<DateTime<Utc>>,
        /// The event that started the run, if one did.
        event: Option<Value>,
        reply: Reply<RunRecord>,
    },
    Backfill {
        pipeline: String,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        existing: HashSet<i64>,
        reply: Reply<(Vec<RunRecord>, usize)>,
    },
    Retry {
        stored: StoredRun,
        reply: Reply<RunRecord>,
    },
    Cancel {
        run_id: String,
        reply: Reply<RunRecord>,
    },
    Mark {
        run_id: String,
        task_id: String,
        map_index: Option<i32>,
        state: String,
        stored: Option<StoredRun>,
        reply: Reply<TaskRecord>,
    },
    /// Mark a whole run `success` or `failed` (see `mark_run.rs`); `stored` is the run as the
    /// store has it when it is not active.
    MarkRun {
        run_id: String,
        state: String,
        stored: Option<StoredRun>,
        reply: Reply<RunRecord>,
    },
    Pause {
        pipeline: String,
        paused: bool,
        reply: Reply<()>,
    },
    Pipelines {
        reply: oneshot::Sender<(Vec<PipelineInfo>, Vec<Problem>)>,
    },
    Reload {
        reply: Option<oneshot::Sender<Vec<Problem>>>,
    },
    Version {
        pipeline: String,
        version: String,
        reply: oneshot::Sender<Option<Arc<PipelineVersion>>>,
    },
    /// Start no new attempts; reply once none is running.
    Drain { reply: oneshot::Sender<()> },
    /// Stop the running attempts (they run again after a restart); reply once all reported.
    Abandon { reply: oneshot::Sender<()> },
}

impl Core {
    pub(super) fn on_command(&mut self, command: Command) {
        if self.stopping.is_stopping() {
            // Nothing new starts while the server stops; what users read still answers.
            match command {
                Command::Trigger { reply, .. } => {
                    return drop(reply.send(Err(EngineError::Stopped)));
                }
                Command::Backfill { reply, .. } => {
                    return drop(reply.send(Err(EngineError::Stopped)));
                }
                Command::Retry { reply, .. } => return drop(reply.send(Err(EngineError::Stopped))),
                other => return self.on_command_running(other),
            }
        }
        self.on_command_running(command)
    }

    fn on_command_running(&mut self, command: Command) {
        match command {
            Command::Drain { reply } => self.drain(reply),
            Command::Abandon { reply } => self.abandon(reply),
            Command::Trigger {
                pipeline,
                params,
                logical_date,
                event,
                reply,
            } => match self.trigger(&pipeline, params, logical_date, event) {
                Ok(run) => self.reply_after_commit(reply, run),
                Err(e) => drop(reply.send(Err(e))),
            },
            Command::Backfill {
                pipeline,
                from,
                to,
                existing,
                reply,
            } => match self.backfill(&pipeline, from, to, existing) {
                Ok(created) => self.reply_after_commit(reply, created),
                Err(e) => drop(reply.send(Err(e))),
            },
            Command::Retry { stored, reply } => match self.retry(stored) {
                Ok(run) => self.reply_after_commit(reply, run),
                Err(e) => drop(reply.send(Err(e))),
            },
            Command::Cancel { run_id, reply } => match self.cancel(&run_id) {
                Ok(run) => self.reply_after_commit(reply, run),
                Err(e) => drop(reply.send(Err(e))),
            },
            Command::Mark {
                run_id,
                task_id,
                map_index,
                state,
                stored,
                reply,
            } => match self.mark(&run_id, &task_id, map_index, &state, stored) {
                Ok(task) => self.reply_after_commit(reply, task),
                Err(e) => drop(reply.send(Err(e))),
            },
            Command::MarkRun {
                run_id,
                state,
                stored,
                reply,
            } => match self.mark_run(&run_id, &state, stored) {
                Ok(run) => self.reply_after_commit(reply, run),
                Err(e) => drop(reply.send(Err(e))),
            },
            Command::Pause {
                pipeline,
                paused,
                reply,
            } => match self.pause(&pipeline, paused) {
                Ok(()) => self.reply_after_commit(reply, ()),
                Err(e) => drop(reply.send(Err(e))),
            },
            Command::Pipelines { reply } => {
                let _ = reply.send((self.pipeline_infos(), self.catalog.problems.clone()));
            }
            Command::Reload { reply } => self.reload(reply),
            Command::Version {
                pipeline,
                version,
                reply,
            } => {
                let found = self
                    .catalog
                    .pipelines
                    .get(&pipeline)
                    .filter(|v| v.pipeline.version == version)
                    .cloned();
                let found = found.or_else(|| {
                    self.runs
                        .values()
                        .find(|r| {
                            r.version.pipeline.name == pipeline
                                && r.version.pipeline.version == version
                        })
                        .map(|r| r.version.clone())
                });
                let _ = reply.send(found);
            }
        }
    }

    fn current(&self, pipeline: &str) -> Result<Arc<PipelineVersion>, EngineError> {
        self.catalog
            .pipelines
            .get(pipeline)
            .cloned()
            .ok_or_else(|| {
                let hint = weir_model::problem::did_you_mean(
                    pipeline,
                    self.catalog.pipelines.keys().map(String::as_str),
                );
                EngineError::NotFound(format!("no pipeline `{pipeline}`{hint}"))
            })
    }

    fn trigger(
        &mut self,
        pipeline: &str,
        overrides: Map<String, Value>,
        logical_date: Option<DateTime<Utc>>,
        event: Option<Value>,
    ) -> Result<RunRecord, EngineError> {
        let version = self.current(pipeline)?;
        let params = merge_params(&version.pipeline.params, overrides)?;
        let logical = logical_date.map(to_us).unwrap_or_else(now_us);
        let id = self.new_manual_run_id(pipeline, logical);
        // A run an event started is a one-off like a manual one; its record keeps the event.
        Ok(self.create_run(
            &version, id, "manual", logical, logical, logical, params, event,
        ))
    }

    /// A manual run's id: readable (pipeline, logical time) and unique. 48 random bits make two
    /// triggers of one pipeline in one second collide about once in 10^14 pairs; an id still
    /// active in memory is never handed out twice, and the store refuses to insert an id it
    /// already holds (`RunMutation::InsertRun`), so a run is never overwritten.
    fn new_manual_run_id(&self, pipeline: &str, logical: i64) -> String {
        let stamp = crate::time::from_us(logical).format("%Y%m%dT%H%M%S");
        loop {
            let id = format!(
                "{pipeline}__manual__{stamp}_{:012x}",
                fastrand::u64(..) & 0xffff_ffff_ffff
            );
            if !self.runs.contains_key(id.as_str()) {
                return id;
            }
        }
    }

    fn backfill(
        &mut self,
        pipeline: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        existing: HashSet<i64>,
    ) -> Result<(Vec<RunRecord>, usize), EngineError> {
        let version = self.current(pipeline)?;
        let Some(schedule) = version.pipeline.schedule.clone() else {
            return Err(EngineError::Invalid(format!(
                "pipeline `{pipeline}` has no schedule: backfill creates one run per schedule interval"
            )));
        };
        if from > to {
            return Err(EngineError::Invalid("--from is after --to".into()));
        }
        let intervals = schedule.intervals(version.pipeline.timezone, from, to, 100_000);
        let mut created = Vec::new();
        let mut skipped = 0;
        for interval in intervals {
            let logical = to_us(interval.start);
            if existing.contains(&logical)
                || self
                    .logical_dates
                    .get(pipeline)
                    .is_some_and(|d| d.contains(&logical))
            {
                skipped += 1;
                continue;
            }
            let id = scheduled_run_id(pipeline, "backfill", logical);
            let params = version.pipeline.params.clone();
            created.push(self.create_run(
                &version,
                id,
                "backfill",
                logical,
                logical,
                to_us(interval.end),
                Value::Object(params),
                None,
            ));
        }
        Ok((created, skipped))
    }

    /// Records a new queued run with all its tasks pending, then starts it if its pipeline has room.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn create_run(
        &mut self,
        version: &Arc<PipelineVersion>,
        id: String,
        run_type: &str,
        logical: i64,
        start: i64,
        end: i64,
        params: Value,
        event: Option<Value>,
    ) -> RunRecord {
        let pipeline = &version.pipeline;
        let record = RunRecord {
            id,
            pipeline: pipeline.name.clone(),
            version: pipeline.version.clone(),
            state: "queued".into(),
            run_type: run_type.into(),
            logical_date: logical,
            interval_start: start,
            interval_end: end,
            params,
            created_at: now_us(),
            started_at: None,
            ended_at: None,
            notified: false,
            event,
        };
        if run_type != "manual" {
            self.logical_dates
                .entry(pipeline.name.clone())
                .or_default()
                .insert(logical);
        }
        self.batch
            .push(RunMutation::PutVersion(weir_store::VersionRecord {
                pipeline: pipeline.name.clone(),
                version: pipeline.version.clone(),
                path: pipeline.file.clone(),
                source: pipeline.source.clone(),
                created_at: now_us(),
            }));
        self.batch.push(RunMutation::InsertRun(record.clone()));
        let tasks: Vec<TaskRecord> = pipeline
            .tasks
            .values()
            .map(|t| new_task_record(&record.id, &t.id, -1, t.retry.retries as i32 + 1))
            .collect();
        self.batch
            .extend(tasks.iter().cloned().map(RunMutation::PutTask));
        self.event(
            &record.id,
            None,
            "queued",
            Some(format!(
                "{run_type} run of version {}",
                short(&pipeline.version)
            )),
        );
        let run = RunState::new(record.clone(), version.clone(), tasks);
        self.created.push(run.id.clone());
        self.queued
            .entry(pipeline.name.clone())
            .or_default()
            .push_back(run.id.clone());
        self.runs.insert(run.id.clone(), run);
        self.changed.push(record.clone());
        self.start_queued_runs(&pipeline.name.clone());
        self.runs
            .values()
            .find(|r| r.record.id == record.id)
            .map(|r| r.record.clone())
            .unwrap_or(record)
    }

    /// Starts queued runs of a pipeline while it has fewer than `max_active_runs` running.
    pub(super) fn start_queued_runs(&mut self, pipeline: &str) {
        loop {
            let Some(next) = self.queued.get(pipeline).and_then(|q| q.front()).cloned() else {
                return;
            };
            let max = self
                .runs
                .get(&next)
                .map(|r| r.version.pipeline.max_active_runs)
                .unwrap_or(1);
            if self.running_runs.get(pipeline).copied().unwrap_or(0) >= max {
                return;
            }
            if let Some(queue) = self.queued.get_mut(pipeline) {
                queue.pop_front();
            }
            let Some(run) = self.runs.get_mut(&next) else {
                continue;
            };
            run.record.state = "running".into();
            // A run retried from failure keeps its first start; each resumption is an event.
            let resumed = run.record.started_at.is_some();
            run.record.started_at.get_or_insert_with(now_us);
            let record = run.record.clone();
            self.batch.push(RunMutation::PutRun(record.clone()));
            self.event(
                &next,
                None,
                "running",
                resumed.then(|| "resumed (retry from failure)".to_string()),
            );
            self.changed.push(record);
            *self.running_runs.entry(pipeline.to_string()).or_default() += 1;
            self.activate(&next);
        }
    }

    /// Puts every task of a running run where it belongs: ready ones in the queue, retries on
    /// timers, pending ones through their trigger rules. Used on start, resume and recovery.
    pub(super) fn activate(&mut self, run_id: &Arc<str>) {
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        let mut ready = Vec::new();
        let mut retries = Vec::new();
        let mut pending = Vec::new();
        for (i, slot) in run.slots.iter_mut().enumerate() {
            let mut visit = |record: &mut TaskRecord, map_index: i32| match record.state.as_str() {
                "queued" => ready.push(InstanceKey {
                    run_id: run_id.clone(),
                    task: i,
                    map_index,
                }),
                "up_for_retry" => retries.push((
                    InstanceKey {
                        run_id: run_id.clone(),
                        task: i,
                        map_index,
                    },
                    record.try_number,
                    record.next_try_at.unwrap_or(0),
                )),
                _ => {}
            };
            if slot.instances.is_empty() {
                if slot.record.state == "pending" {
                    pending.push(i);
                }
                visit(&mut slot.record, -1);
            } else {
                for (m, instance) in slot.instances.iter_mut().enumerate() {
                    if instance.state == "pending" {
                        instance.state = "queued".into();
                    }
                    visit(instance, m as i32);
                }
            }
        }
        for key in ready {
            self.enqueue(key);
        }
        for (key, try_number, due) in retries {
            self.add_timer(due, Timer::Retry { key, try_number });
        }
        for task in pending {
            self.decide(run_id, task);
        }
        self.maybe_finish_run(run_id);
    }

    /// Reruns the failed, upstream-failed, skipped and cancelled tasks of an ended run and what
    /// depends on them; succeeded tasks keep their state and outputs.
    fn retry(&mut self, stored: StoredRun) -> Result<RunRecord, EngineError> {
        let run_id = stored.record.id.clone();
        if self.runs.contains_key(run_id.as_str()) {
            return Err(EngineError::Conflict(format!(
                "run {run_id} is still {}: cancel it first or wait for it to end",
                stored.record.state
            )));
        }
        let version = self
            .catalog
            .pipelines
            .get(&stored.record.pipeline)
            .filter(|v| v.pipeline.version == stored.version.pipeline.version)
            .cloned()
            .unwrap_or(stored.version);
        let mut run = RunState::new(stored.record, version.clone(), stored.tasks);
        let rerun_states = [
            "failed",
            "upstream_failed",
            "skipped",
            "cancelled",
            "pending",
            "queued",
            "running",
            "up_for_retry",
        ];
        let roots: Vec<usize> = (0..run.slots.len())
            .filter(|&i| rerun_states.contains(&run.slots[i].record.state.as_str()))
            .collect();
        if roots.is_empty() {
            return Err(EngineError::Conflict(format!(
                "nothing to retry in run {run_id}: every task succeeded"
            )));
        }
        let descendants: HashSet<usize> = version.descendants(&roots).into_iter().collect();
        let mut changed = Vec::new();
        for i in 0..run.slots.len() {
            let is_root = roots.contains(&i);
            if !is_root && !descendants.contains(&i) {
                continue;
            }
            let retries = version.pipeline.tasks[i].retry.retries as i32 + 1;
            let slot = &mut run.slots[i];
            // A mapped task that failed on its own keeps the instances that succeeded.
            let keep_instances = is_root && !descendants.contains(&i) && !slot.instances.is_empty();
            if keep_instances {
                for instance in slot.instances.iter_mut().filter(|t| t.state != "success") {
                    reset(instance, retries);
                    changed.push(instance.clone());
                }
                slot.record.state = "running".into();
                slot.record.ended_at = None;
                slot.record.error = None;
                slot.record.max_tries = slot.record.try_number + retries;
            } else {
                reset(&mut slot.record, retries);
                for instance in slot.instances.iter_mut() {
                    instance.state = "removed".into();
                    changed.push(instance.clone());
                }
                slot.instances.clear();
            }
            changed.push(slot.record.clone());
        }
        run.open_slots = run
            .slots
            .iter()
            .filter(|s| !is_terminal(&s.record.state))
            .count();
        run.record.state = "queued".into();
        run.record.ended_at = None;
        run.record.notified = false;
        let record = run.record.clone();
        let count = roots.len() + descendants.iter().filter(|d| !roots.contains(d)).count();
        self.batch.push(RunMutation::PutRun(record.clone()));
        self.batch
            .extend(changed.into_iter().map(RunMutation::PutTask));
        self.event(
            &run_id,
            None,
            "queued",
            Some(format!(
                "retry from failure: {count} {} to run again",
                if count == 1 { "task" } else { "tasks" }
            )),
        );
        self.changed.push(record.clone());
        let pipeline = record.pipeline.clone();
        self.queued
            .entry(pipeline.clone())
            .or_default()
            .push_back(run.id.clone());
        self.runs.insert(run.id.clone(), run);
        self.start_queued_runs(&pipeline);
        Ok(record)
    }

    fn cancel(&mut self, run_id: &str) -> Result<RunRecord, EngineError> {
        let Some((id, run)) = self.runs.get_key_value(run_id).map(|(k, r)| (k.clone(), r)) else {
            return Err(EngineError::Conflict(format!(
                "run {run_id} is not active (only queued or running runs can be cancelled)"
            )));
        };
        let mut stop = Vec::new();
        let mut changed = Vec::new();
        for (i, slot) in run.slots.iter().enumerate() {
            for (m, record) in std::iter::once((-1, &slot.record)).chain(
                slot.instances
                    .iter()
                    .enumerate()
                    .map(|(m, r)| (m as i32, r)),
            ) {
                if !is_terminal(&record.state) {
                    if record.state == "running" {
                        stop.push(InstanceKey {
                            run_id: id.clone(),
                            task: i,
                            map_index: m,
                        });
                    }
                    let mut record = record.clone();
                    touch(&mut record, "cancelled");
                    changed.push(record);
                }
            }
        }
        for key in &stop {
            self.stop_attempt(key);
        }
        for record in changed {
            self.event(
                run_id,
                Some((&record.task_id, record.map_index, record.try_number)),
                "cancelled",
                None,
            );
            self.batch.push(RunMutation::PutTask(record));
        }
        self.finish_run(&id, "cancelled", Some("cancelled by request".into()));
        self.store_changed_run(run_id)
    }

    pub(super) fn store_changed_run(&self, run_id: &str) -> Result<RunRecord, EngineError> {
        self.changed
            .iter()
            .rev()
            .find(|r| r.id == run_id)
            .cloned()
            .ok_or_else(|| EngineError::NotFound(format!("run {run_id}")))
    }

    /// Sets a task's state by hand. In an active run, downstream tasks follow; in an ended run,
    /// the run's state is recomputed (retry it to run what follows).
    fn mark(
        &mut self,
        run_id: &str,
        task_id: &str,
        map_index: Option<i32>,
        state: &str,
        stored: Option<StoredRun>,
    ) -> Result<TaskRecord, EngineError> {
        if state != "success" && state != "failed" {
            return Err(EngineError::Invalid(format!(
                "state must be success or failed, not `{state}`"
            )));
        }
        let active = self.runs.contains_key(run_id);
        if !active {
            let Some(stored) = stored else {
                return Err(EngineError::NotFound(format!("no run {run_id}")));
            };
            let run = RunState::new(stored.record, stored.version, stored.tasks);
            let id = run.id.clone();
            self.runs.insert(id.clone(), run);
        }
        let id: Arc<str> = self
            .runs
            .get_key_value(run_id)
            .map(|(k, _)| k.clone())
            .ok_or_else(|| EngineError::NotFound(format!("no run {run_id}")))?;
        let result = self.mark_in(&id, task_id, map_index.unwrap_or(-1), state);
        if !active {
            // Not reopened: settle the run's outcome from its tasks and let it go again.
            if let Some(mut run) = self.runs.remove(&id)
                && result.is_ok()
            {
                let failed = run
                    .slots
                    .iter()
                    .any(|s| crate::rules::is_failure(&s.record.state));
                let open = run.slots.iter().any(|s| !is_terminal(&s.record.state));
                let new_state = if open {
                    run.record.state.clone()
                } else if failed {
                    "failed".into()
                } else {
                    "success".into()
                };
                if new_state != run.record.state && run.record.state != "cancelled" {
                    run.record.state = new_state.clone();
                    self.batch.push(RunMutation::PutRun(run.record.clone()));
                    self.event(
                        &id,
                        None,
                        &new_state,
                        Some("after a task was marked by hand".into()),
                    );
                    self.changed.push(run.record.clone());
                }
            }
        }
        result
    }

    fn mark_in(
        &mut self,
        id: &Arc<str>,
        task_id: &str,
        map_index: i32,
        state: &str,
    ) -> Result<TaskRecord, EngineError> {
        let run = self
            .runs
            .get(id)
            .ok_or_else(|| EngineError::NotFound(format!("no run {id}")))?;
        let task = run.version.task_index(task_id).ok_or_else(|| {
            let hint = weir_model::problem::did_you_mean(
                task_id,
                run.version.pipeline.tasks.keys().map(String::as_str),
            );
            EngineError::NotFound(format!("no task `{task_id}` in run {id}{hint}"))
        })?;
        let key = InstanceKey {
            run_id: id.clone(),
            task,
            map_index,
        };
        let Some(record) = run.instance(task, map_index) else {
            return Err(EngineError::NotFound(format!(
                "task `{task_id}` has no map index {map_index}"
            )));
        };
        let was_terminal = is_terminal(&record.state);
        if record.state == "running" {
            self.stop_attempt(&key);
            self.release(&key);
        }
        let run = self
            .runs
            .get_mut(id)
            .ok_or_else(|| EngineError::NotFound(format!("no run {id}")))?;
        let Some(record) = run.instance_mut(task, map_index) else {
            return Err(EngineError::NotFound(task_id.into()));
        };
        touch(record, state);
        record.error = (state == "failed").then(|| "marked failed by hand".to_string());
        record.next_try_at = None;
        let record = record.clone();
        self.batch.push(RunMutation::PutTask(record.clone()));
        self.event(
            id,
            Some((task_id, map_index, record.try_number)),
            state,
            Some("marked by hand".into()),
        );
        if !was_terminal {
            self.instance_ended(&key);
        } else if map_index < 0 {
            // Already ended: its downstream tasks may now decide differently.
            let downstream = self
                .runs
                .get(id)
                .map(|r| r.version.downstream[task].clone())
                .unwrap_or_default();
            for d in downstream {
                self.decide(id, d);
            }
            self.maybe_finish_run(id);
        }
        Ok(record)
    }

    fn pause(&mut self, pipeline: &str, paused: bool) -> Result<(), EngineError> {
        self.current(pipeline)?;
        let state = self
            .schedule_state
            .entry(pipeline.to_string())
            .or_insert_with(|| ScheduleStateRecord {
                pipeline: pipeline.to_string(),
                last_interval_end: None,
                paused,
            });
        state.paused = paused;
        let state = state.clone();
        self.batch.push(RunMutation::PutScheduleState(state));
        if !paused {
            self.schedule_pipeline(pipeline);
        }
        Ok(())
    }
}

fn reset(record: &mut TaskRecord, retries: i32) {
    record.state = "pending".into();
    record.ended_at = None;
    record.next_try_at = None;
    record.error = None;
    record.output = None;
    record.max_tries = record.try_number + retries;
}

/// Params of a run: the declared defaults overridden by the trigger's, which must be declared and
/// keep the default's type (strings from the command line are converted).
fn merge_params(
    declared: &Map<String, Value>,
    overrides: Map<String, Value>,
) -> Result<Value, EngineError> {
    let mut params = declared.clone();
    for (name, value) in overrides {
        let Some(default) = declared.get(&name) else {
            let hint =
                weir_model::problem::did_you_mean(&name, declared.keys().map(String::as_str));
            let known = if declared.is_empty() {
                "it declares none".to_string()
            } else {
                format!(
                    "it declares {}",
                    declared.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            return Err(EngineError::Invalid(format!(
                "unknown param `{name}`{hint} (the pipeline must declare it under `params`; {known})"
            )));
        };
        let value = coerce(&name, default, value)?;
        params.insert(name, value);
    }
    Ok(Value::Object(params))
}

fn coerce(name: &str, default: &Value, value: Value) -> Result<Value, EngineError> {
    let text = value.as_str().map(str::to_string);
    let bad = |want: &str| {
        EngineError::Invalid(format!(
            "param `{name}` must be {want} (like its default {default}), got {value}"
        ))
    };
    Ok(match (default, &text) {
        (Value::Number(_), Some(t)) => serde_json::from_str::<serde_json::Number>(t)
            .map(Value::Number)
            .map_err(|_| bad("a number"))?,
        (Value::Number(_), None) if value.is_number() => value,
        (Value::Number(_), None) => return Err(bad("a number")),
        (Value::Bool(_), Some(t)) => Value::Bool(match t.as_str() {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            _ => return Err(bad("true or false")),
        }),
        (Value::Bool(_), None) if value.is_boolean() => value,
        (Value::Bool(_), None) => return Err(bad("true or false")),
        (Value::Array(_) | Value::Object(_), Some(t)) => {
            serde_json::from_str(t).map_err(|_| bad("JSON"))?
        }
        _ => value,
    })
}

pub(super) fn scheduled_run_id(pipeline: &str, run_type: &str, logical: i64) -> String {
    format!(
        "{pipeline}__{run_type}__{}",
        crate::time::from_us(logical).format("%Y%m%dT%H%M%S")
    )
}

fn short(version: &str) -> &str {
    version.get(..12).unwrap_or(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn params_are_declared_and_typed() {
        let declared = json!({"region": "eu", "limit": 10, "dry": false})
            .as_object()
            .cloned()
            .unwrap();
        let merged = merge_params(
            &declared,
            json!({"limit": "25", "dry": "true"})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(merged, json!({"region": "eu", "limit": 25, "dry": true}));
        let err = merge_params(
            &declared,
            json!({"regoin": "us"}).as_object().cloned().unwrap(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("did you mean `region`"), "{err}");
        assert!(
            merge_params(
                &declared,
                json!({"limit": "ten"}).as_object().cloned().unwrap()
            )
            .is_err()
        );
    }
}
