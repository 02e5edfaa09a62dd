//! Start-up: rebuild active runs from the store and carry on. Processes of attempts that were
//! running when the server died are killed first, so no task runs twice at the same time; those
//! attempts are recorded as lost and their tasks run again without using a retry (or fail, for
//! tasks that say `on_lost: fail`).

use std::collections::HashMap;
use std::sync::Arc;

use weir_model::pipeline::parse_pipeline;
use weir_store::{AttemptRecord, RunMutation, StoreError};

use super::Core;
use super::run::RunState;
use crate::project::PipelineVersion;
use crate::time::now_us;

impl Core {
    pub(crate) async fn recover(&mut self) -> Result<(), StoreError> {
        let store = self.shared.store.clone();
        let killed = tokio::task::spawn_blocking({
            let instance = self.shared.instance.clone();
            move || crate::actions::kill_orphans(&instance)
        })
        .await
        .unwrap_or_default();
        if !killed.is_empty() {
            tracing::warn!(
                ?killed,
                "killed processes left by attempts of a previous server"
            );
        }
        for state in store.schedule_states().await? {
            self.schedule_state.insert(state.pipeline.clone(), state);
        }
        let mut open: HashMap<(String, String, i32), AttemptRecord> = HashMap::new();
        for attempt in store.open_attempts().await? {
            open.insert(
                (
                    attempt.run_id.clone(),
                    attempt.task_id.clone(),
                    attempt.map_index,
                ),
                attempt,
            );
        }
        let mut versions: HashMap<(String, String), Arc<PipelineVersion>> = HashMap::new();
        let mut recovered = 0;
        for record in store.unfinished_runs().await? {
            let key = (record.pipeline.clone(), record.version.clone());
            let version = match versions.get(&key) {
                Some(v) => Some(v.clone()),
                None => self.load_version(&record.pipeline, &record.version).await?,
            };
            let Some(version) = version else {
                tracing::error!(run = %record.id, "the pipeline version of this run is missing from the store; failing it");
                let mut record = record;
                record.state = "failed".into();
                record.ended_at = Some(now_us());
                record.notified = true;
                self.batch.push(RunMutation::PutRun(record));
                continue;
            };
            versions.insert(key, version.clone());
            let tasks = store.task_instances(&record.id).await?;
            let run = RunState::new(record, version, tasks);
            let id = run.id.clone();
            let state = run.record.state.clone();
            let pipeline = run.record.pipeline.clone();
            // Attempts that were running died with the server.
            let lost: Vec<_> = run
                .running_instances()
                .into_iter()
                .map(|(key, task)| {
                    let attempt =
                        open.remove(&(task.run_id.clone(), task.task_id.clone(), key.map_index));
                    (key, task.try_number, attempt)
                })
                .collect();
            self.runs.insert(id.clone(), run);
            if state == "queued" {
                self.queued
                    .entry(pipeline)
                    .or_default()
                    .push_back(id.clone());
            } else {
                *self.running_runs.entry(pipeline).or_default() += 1;
            }
            for (key, try_number, attempt) in lost {
                if let Some(mut attempt) = attempt {
                    attempt.state = "lost".into();
                    attempt.ended_at = Some(now_us());
                    attempt.error = Some("the server stopped while this attempt ran".into());
                    self.batch.push(RunMutation::PutAttempt(attempt));
                }
                self.attempt_lost(&key, try_number);
            }
            if state == "running" {
                self.activate(&id);
            }
            recovered += 1;
        }
        // Attempts of runs that already ended (e.g. cancelled) are closed too.
        for (_, mut attempt) in open {
            attempt.state = "lost".into();
            attempt.ended_at = Some(now_us());
            self.batch.push(RunMutation::PutAttempt(attempt));
        }
        for name in self
            .catalog
            .pipelines
            .keys()
            .filter(|n| self.catalog.pipelines[*n].pipeline.schedule.is_some())
            .cloned()
            .collect::<Vec<_>>()
        {
            let dates = store
                .runs(Some(&name), 1000)
                .await?
                .into_iter()
                .filter(|r| r.run_type != "manual")
                .map(|r| r.logical_date)
                .collect();
            self.logical_dates.insert(name, dates);
        }
        let queued: Vec<String> = self.queued.keys().cloned().collect();
        for pipeline in queued {
            self.start_queued_runs(&pipeline);
        }
        for record in store.runs_pending_notification().await? {
            if let Some(version) = self.load_version(&record.pipeline, &record.version).await? {
                self.notifications.push((record, version));
            }
        }
        self.schedule_all();
        if recovered > 0 {
            tracing::info!(runs = recovered, "resumed runs after restart");
        }
        Ok(())
    }

    /// A pipeline version: the one in force if it matches, else parsed from the stored source.
    pub(super) async fn load_version(
        &self,
        pipeline: &str,
        version: &str,
    ) -> Result<Option<Arc<PipelineVersion>>, StoreError> {
        if let Some(current) = self.version_in_force(pipeline, version) {
            return Ok(Some(current));
        }
        load_stored_version(self.shared.store.as_ref(), pipeline, version).await
    }

    /// The pipeline's version in force, if it is `version`.
    pub(super) fn version_in_force(
        &self,
        pipeline: &str,
        version: &str,
    ) -> Option<Arc<PipelineVersion>> {
        self.catalog
            .pipelines
            .get(pipeline)
            .filter(|v| v.pipeline.version == version)
            .cloned()
    }
}

/// Parses a pipeline version kept in the store.
pub(crate) async fn load_stored_version(
    store: &dyn weir_store::Store,
    pipeline: &str,
    version: &str,
) -> Result<Option<Arc<PipelineVersion>>, StoreError> {
    let Some(stored) = store.pipeline_version(pipeline, version).await? else {
        return Ok(None);
    };
    match parse_pipeline(&stored.path, pipeline, &stored.source) {
        Ok(parsed) => Ok(Some(Arc::new(PipelineVersion::new(parsed)))),
        Err(problems) => {
            tracing::error!(pipeline, version, problems = ?problems.iter().map(ToString::to_string).collect::<Vec<_>>(), "a stored pipeline version no longer parses");
            Ok(None)
        }
    }
}
