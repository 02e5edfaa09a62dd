//! Capacity and launching: ready instances wait per pool; an instance starts when the engine-wide
//! limit, its pool and its run's `max_active_tasks` all have room. Starting is two steps: the
//! attempt is recorded as running (in this turn's commit), then launched once that is durable.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use tokio::sync::{mpsc, watch};
use weir_store::{AttemptRecord, RunMutation};

use super::{Core, InstanceKey, Launch, Msg, Shared};
use crate::actions::{ActionContext, ActionOutcome, AttemptId, FailureKind};
use crate::time::now_us;

const DEFAULT_POOL: &str = "default";

impl Core {
    fn pool_of(&self, key: &InstanceKey) -> String {
        self.runs
            .get(&key.run_id)
            .and_then(|run| run.version.pipeline.tasks.get_index(key.task))
            .and_then(|(_, task)| task.pool.clone())
            .unwrap_or_else(|| DEFAULT_POOL.to_string())
    }

    fn pool_slots(&self, pool: &str) -> u32 {
        match self.shared.config.pools.get(pool) {
            Some(slots) => *slots,
            None if pool == DEFAULT_POOL => self.shared.config.executor.default_pool_slots,
            // A pool weir.toml does not define still limits: one at a time, and `weir validate` says so.
            None => 1,
        }
    }

    /// Queues a ready instance for capacity.
    pub(super) fn enqueue(&mut self, key: InstanceKey) {
        let pool = self.pool_of(&key);
        self.ready.entry(pool).or_default().push_back(key);
    }

    /// Starts as many ready instances as capacity allows.
    pub(super) fn dispatch(&mut self) {
        let max = self.shared.config.executor.max_parallel_tasks as usize;
        let pools: Vec<String> = self.ready.keys().cloned().collect();
        for pool in pools {
            let slots = self.pool_slots(&pool);
            loop {
                if self.running_attempts.len() >= max
                    || self.pool_used.get(&pool).copied().unwrap_or(0) >= slots
                {
                    break;
                }
                let Some(key) = self.ready.get_mut(&pool).and_then(|q| q.pop_front()) else {
                    break;
                };
                self.start_attempt(key, &pool);
            }
            if self.ready.get(&pool).is_some_and(|q| q.is_empty()) {
                self.ready.remove(&pool);
            }
        }
    }

    fn start_attempt(&mut self, key: InstanceKey, pool: &str) {
        let Some(run) = self.runs.get_mut(&key.run_id) else {
            return;
        };
        let ready_state = run
            .instance(key.task, key.map_index)
            .map(|t| t.state.clone());
        if ready_state.as_deref() != Some("queued") || run.record.state != "running" {
            return; // cancelled or marked while it waited
        }
        if run
            .version
            .pipeline
            .max_active_tasks
            .is_some_and(|max| run.running >= max)
        {
            run.deferred.push(key);
            return;
        }
        run.running += 1;
        let version = run.version.clone();
        let task = &version.pipeline.tasks[key.task];
        let templated = version.templated[key.task];
        let task_id = task.id.clone();
        let Some(record) = run.instance_mut(key.task, key.map_index) else {
            return;
        };
        let now = now_us();
        record.try_number += 1;
        record.state = "running".into();
        record.started_at = Some(now);
        record.ended_at = None;
        record.next_try_at = None;
        let try_number = record.try_number;
        let record = record.clone();
        let context = templated.then(|| run.context(key.task, key.map_index, try_number));
        let attempt_id = AttemptId {
            run_id: key.run_id.to_string(),
            task_id: task_id.clone(),
            map_index: key.map_index,
            try_number,
        };
        let attempt = AttemptRecord {
            run_id: attempt_id.run_id.clone(),
            task_id: task_id.clone(),
            map_index: key.map_index,
            try_number,
            state: "running".into(),
            started_at: now,
            ended_at: None,
            pid: None,
            exit_code: None,
            error: None,
            log_path: crate::logs::attempt_log(&attempt_id).display().to_string(),
        };
        self.batch.push(RunMutation::PutTask(record));
        self.batch.push(RunMutation::PutAttempt(attempt));
        self.event(
            &key.run_id,
            Some((&task_id, key.map_index, try_number)),
            "running",
            None,
        );
        let (cancel_tx, cancel_rx) = watch::channel(false);
        *self.pool_used.entry(pool.to_string()).or_default() += 1;
        self.running_attempts.insert(
            key.clone(),
            super::RunningAttempt {
                task_id: task_id.clone(),
                try_number,
                cancel: cancel_tx,
                pool: pool.to_string(),
                pid: None,
            },
        );
        metrics::gauge!("weir_tasks_running").set(self.running_attempts.len() as f64);
        let env = self
            .runs
            .get(&key.run_id)
            .map(|run| run.attempt_env(key.task, key.map_index))
            .unwrap_or_default();
        self.launches.push(Launch {
            key,
            try_number,
            version,
            context,
            env,
            cancel: cancel_rx,
        });
    }

    /// Gives back the capacity an attempt held.
    pub(super) fn release(&mut self, key: &InstanceKey) {
        if let Some(attempt) = self.running_attempts.remove(key)
            && let Some(used) = self.pool_used.get_mut(&attempt.pool)
        {
            *used = used.saturating_sub(1);
        }
        metrics::gauge!("weir_tasks_running").set(self.running_attempts.len() as f64);
        if let Some(run) = self.runs.get_mut(&key.run_id) {
            run.running = run.running.saturating_sub(1);
            if !run.deferred.is_empty() {
                let next = run.deferred.remove(0);
                self.enqueue(next);
            }
        }
    }

    /// Asks a running attempt to stop (its runner kills what it started).
    pub(super) fn stop_attempt(&mut self, key: &InstanceKey) {
        if let Some(attempt) = self.running_attempts.get(key) {
            let _ = attempt.cancel.send(true);
        }
    }

    /// The attempt record as it was when started (rebuilt, since attempts are not kept in memory).
    pub(super) fn attempt_record(
        &self,
        key: &InstanceKey,
        task_id: &str,
        try_number: i32,
    ) -> AttemptRecord {
        let started_at = self
            .runs
            .get(&key.run_id)
            .and_then(|r| r.instance(key.task, key.map_index))
            .and_then(|r| r.started_at)
            .unwrap_or_else(now_us);
        let attempt_id = AttemptId {
            run_id: key.run_id.to_string(),
            task_id: task_id.to_string(),
            map_index: key.map_index,
            try_number,
        };
        AttemptRecord {
            run_id: key.run_id.to_string(),
            task_id: task_id.to_string(),
            map_index: key.map_index,
            try_number,
            state: "running".into(),
            started_at,
            ended_at: None,
            pid: None,
            exit_code: None,
            error: None,
            log_path: crate::logs::attempt_log(&attempt_id).display().to_string(),
        }
    }
}

/// Performs one attempt off the core: renders the action, opens the log, runs, reports back.
pub(super) fn launch(shared: Arc<Shared>, tx: mpsc::UnboundedSender<Msg>, launch: Launch) {
    tokio::spawn(async move {
        let Launch {
            key,
            try_number,
            version,
            context,
            env,
            cancel,
        } = launch;
        let began = now_us();
        // A runner that panics fails its attempt like any other error: the task is retried or
        // fails, the run goes on, and its pool slot is given back.
        let outcome = std::panic::AssertUnwindSafe(perform(
            &shared, &tx, &key, try_number, &version, context, env, cancel,
        ))
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            ActionOutcome::failure(
                FailureKind::Failed,
                format!("the action failed unexpectedly: {}", panic_message(&*panic)),
            )
        });
        let ended = now_us();
        let _ = tx.send(Msg::Finished {
            key,
            try_number,
            outcome,
            began,
            ended,
        });
    });
}

/// The text a panic was raised with, when it has one.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

#[allow(clippy::too_many_arguments)]
async fn perform(
    shared: &Shared,
    tx: &mpsc::UnboundedSender<Msg>,
    key: &InstanceKey,
    try_number: i32,
    version: &crate::project::PipelineVersion,
    context: Option<serde_json::Value>,
    attempt_env: Vec<(String, String)>,
    cancel: watch::Receiver<bool>,
) -> ActionOutcome {
    let task = &version.pipeline.tasks[key.task];
    let attempt = AttemptId {
        run_id: key.run_id.to_string(),
        task_id: task.id.clone(),
        map_index: key.map_index,
        try_number,
    };
    let log_path = shared.data_dir.join(crate::logs::attempt_log(&attempt));
    let output_path = shared.data_dir.join(crate::logs::attempt_output(&attempt));
    let mut log = crate::actions::LogFile::new(log_path);
    let masker = shared.secrets.masker();
    let config = match &context {
        Some(context) => match shared.secrets.render_action(&task.action, context) {
            Ok(crate::secrets::RenderedAction { config, shown }) => {
                // What ran, as the templates made it (secrets as ***): the first thing to look
                // at when it is wrong.
                if let Some(command) = shown
                    .get("command")
                    .filter(|_| task.action.kind == "command")
                {
                    let shown = command
                        .as_str()
                        .map_or_else(|| command.to_string(), str::to_string);
                    let _ = writeln!(log, "[weir] command: {shown}");
                }
                config
            }
            Err(e) => {
                let message = masker.mask(&format!("template error: {e}"));
                let _ = writeln!(log, "[weir] {message}");
                return ActionOutcome::failure(FailureKind::Failed, message);
            }
        },
        None => task.action.config.clone(),
    };
    let Some(runner) = shared.registry.get(&task.action.kind) else {
        return ActionOutcome::failure(
            FailureKind::Failed,
            format!("no runner for action `{}`", task.action.kind),
        );
    };
    let (pid_tx, pid_rx) = tokio::sync::oneshot::channel();
    if task.action.kind == "command" {
        let tx = tx.clone();
        let key = key.clone();
        tokio::spawn(async move {
            if let Ok(pid) = pid_rx.await {
                let _ = tx.send(Msg::Spawned {
                    key,
                    try_number,
                    pid,
                });
            }
        });
    }
    let mut env = vec![
        ("WEIR_INSTANCE".to_string(), shared.instance.clone()),
        ("WEIR_RUN_ID".to_string(), attempt.run_id.clone()),
        ("WEIR_PIPELINE".to_string(), version.pipeline.name.clone()),
        ("WEIR_TASK".to_string(), attempt.task_id.clone()),
        ("WEIR_TRY_NUMBER".to_string(), try_number.to_string()),
        ("WEIR_MAP_INDEX".to_string(), key.map_index.to_string()),
    ];
    env.extend(attempt_env);
    let deadline = task.timeout.map(|t| tokio::time::Instant::now() + t);
    let kill_grace = weir_model::duration::parse_duration(&shared.config.executor.kill_grace)
        .unwrap_or(Duration::from_secs(5));
    let ctx = ActionContext {
        config,
        attempt,
        log,
        output_path,
        project_dir: shared.project_dir.clone(),
        env,
        deadline,
        cancel,
        kill_grace,
        max_output_bytes: shared.config.executor.max_output_bytes as usize,
        on_spawn: Some(pid_tx),
        masker: masker.clone(),
    };
    // A runner that ignores its deadline is still stopped, a little after it.
    let backstop = task
        .timeout
        .map(|t| t + kill_grace + Duration::from_secs(1));
    let outcome = match backstop {
        Some(limit) => match tokio::time::timeout(limit, runner.run(ctx)).await {
            Ok(outcome) => outcome,
            Err(_) => ActionOutcome::failure(FailureKind::TimedOut, "timed out"),
        },
        None => runner.run(ctx).await,
    };
    mask_outcome(outcome, &masker)
}

/// An attempt's output and error as they are kept and shown: with secret values masked.
pub(crate) fn mask_outcome(
    mut outcome: ActionOutcome,
    masker: &crate::secrets::Masker,
) -> ActionOutcome {
    if masker.is_empty() {
        return outcome;
    }
    outcome.result = match outcome.result {
        Ok(output) => Ok(output.map(|value| masker.mask_json(&value))),
        Err(mut error) => {
            error.message = masker.mask(&error.message);
            Err(error)
        }
    };
    outcome
}
