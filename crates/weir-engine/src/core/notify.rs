//! End-of-run notifications: a webhook POST of the run's context, or an action run with that
//! context in its templates (which task failed, its error and log tail, a link). Delivery is
//! at-least-once: a run is marked notified only after its notifications were attempted, and runs
//! not yet marked are notified again after a restart.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use weir_model::pipeline::Notification;
use weir_store::{RunMutation, RunRecord};

use super::{Core, Msg, Shared};
use crate::actions::{ActionContext, AttemptId};
use crate::project::PipelineVersion;
use crate::time::format_us;

const WEBHOOK_TRIES: u32 = 3;

impl Core {
    pub(super) fn on_notified(
        &mut self,
        mut run: RunRecord,
        results: Vec<(String, Result<(), String>)>,
    ) {
        for (what, result) in results {
            let message = match result {
                Ok(()) => format!("notification sent: {what}"),
                Err(e) => format!("notification failed: {what}: {e}"),
            };
            self.event(&run.id, None, "notified", Some(message));
        }
        // A run retried meanwhile is notified again when it ends; leave its record alone.
        if !self.runs.contains_key(run.id.as_str()) {
            run.notified = true;
            self.batch.push(RunMutation::PutRun(run));
        }
    }
}

pub(super) fn deliver(
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<Msg>,
    run: RunRecord,
    version: Arc<PipelineVersion>,
) {
    tokio::spawn(async move {
        let context = run_context(&shared, &run, &version).await;
        let notifications = if run.state == "success" {
            &version.pipeline.on_success
        } else {
            &version.pipeline.on_failure
        };
        let mut results = Vec::new();
        for (n, notification) in notifications.iter().enumerate() {
            let result = match notification {
                Notification::Webhook { url } => {
                    (format!("webhook {url}"), webhook(url, &context).await)
                }
                Notification::Action(spec) => (
                    format!("{} action", spec.kind),
                    action(&shared, &run, n, spec, &context).await,
                ),
            };
            results.push(result);
        }
        let _ = tx.send(Msg::Notified { run, results });
    });
}

/// What notifications receive: the run, its failed tasks with their log tails, and a link.
async fn run_context(shared: &Shared, run: &RunRecord, version: &PipelineVersion) -> Value {
    let tasks = shared
        .store
        .task_instances(&run.id)
        .await
        .unwrap_or_default();
    let mut failed = Vec::new();
    // A mapped task is reported through its failed instances, not once more as a whole.
    let mapped: std::collections::HashSet<&str> = tasks
        .iter()
        .filter(|t| t.map_index >= 0)
        .map(|t| t.task_id.as_str())
        .collect();
    for task in tasks.iter().filter(|t| {
        t.state == "failed" && !(t.map_index < 0 && mapped.contains(t.task_id.as_str()))
    }) {
        let attempt = AttemptId {
            run_id: run.id.clone(),
            task_id: task.task_id.clone(),
            map_index: task.map_index,
            try_number: task.try_number,
        };
        let path = shared.data_dir.join(crate::logs::attempt_log(&attempt));
        let tail_bytes = shared.config.executor.log_tail_bytes as u64;
        let tail = tokio::task::spawn_blocking(move || crate::logs::tail(&path, tail_bytes))
            .await
            .unwrap_or_default();
        failed.push(json!({
            "task": task.task_id,
            "map_index": task.map_index,
            "try_number": task.try_number,
            "error": task.error,
            "log_tail": tail,
        }));
    }
    let logical = crate::time::from_us(run.logical_date).with_timezone(&version.pipeline.timezone);
    json!({
        "event": if run.state == "success" { "run_succeeded" } else { "run_failed" },
        "pipeline": run.pipeline,
        "run_id": run.id,
        "state": run.state,
        "run_type": run.run_type,
        "logical_date": logical.to_rfc3339(),
        "ds": logical.format("%Y-%m-%d").to_string(),
        "params": run.params,
        "started_at": run.started_at.map(format_us),
        "ended_at": run.ended_at.map(format_us),
        "failed_tasks": failed,
        "failed_task": failed.first().and_then(|f| f.get("task")).cloned().unwrap_or(Value::Null),
        "link": format!("{}/api/v1/runs/{}", shared.public_url, run.id),
    })
}

async fn webhook(url: &str, context: &Value) -> Result<(), String> {
    let client = crate::actions::http_client();
    let mut last = String::new();
    for attempt in 1..=WEBHOOK_TRIES {
        match client
            .post(url)
            .json(context)
            .timeout(Duration::from_secs(30))
            .send()
            .await
        {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => last = format!("HTTP {}", response.status()),
            Err(e) => last = e.to_string(),
        }
        if attempt < WEBHOOK_TRIES {
            tokio::time::sleep(Duration::from_millis(500 * 2u64.pow(attempt - 1))).await;
        }
    }
    Err(last)
}

async fn action(
    shared: &Shared,
    run: &RunRecord,
    n: usize,
    spec: &weir_model::action::ActionSpec,
    context: &Value,
) -> Result<(), String> {
    let runner = shared
        .registry
        .get(&spec.kind)
        .ok_or_else(|| format!("no runner for action `{}`", spec.kind))?;
    let config = shared.secrets.render_action(spec, context)?.config;
    let attempt = AttemptId {
        run_id: run.id.clone(),
        task_id: format!(
            "_notify_{}",
            if run.state == "success" {
                "success"
            } else {
                "failure"
            }
        ),
        map_index: n as i32,
        try_number: 1,
    };
    let log =
        crate::actions::LogFile::new(shared.data_dir.join(crate::logs::attempt_log(&attempt)));
    let (_cancel_tx, cancel) = watch::channel(false);
    let env = vec![
        ("WEIR_INSTANCE".to_string(), shared.instance.clone()),
        ("WEIR_RUN_ID".to_string(), run.id.clone()),
        ("WEIR_PIPELINE".to_string(), run.pipeline.clone()),
        ("WEIR_RUN_STATE".to_string(), run.state.clone()),
        ("WEIR_CONTEXT".to_string(), context.to_string()),
    ];
    let ctx = ActionContext {
        config,
        output_path: shared.data_dir.join(crate::logs::attempt_output(&attempt)),
        attempt,
        log,
        project_dir: shared.project_dir.clone(),
        env,
        deadline: Some(tokio::time::Instant::now() + Duration::from_secs(300)),
        cancel,
        kill_grace: Duration::from_secs(5),
        max_output_bytes: shared.config.executor.max_output_bytes as usize,
        on_spawn: None,
        masker: shared.secrets.masker(),
    };
    runner
        .run(ctx)
        .await
        .result
        .map(|_| ())
        .map_err(|e| e.message)
}
