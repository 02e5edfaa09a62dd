//! The engine as the server and the binary see it: start it, ask it things. Every call that
//! changes state returns once the change is durable.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::{broadcast, mpsc, oneshot};
use weir_model::Problem;
use weir_model::config::Config;
use weir_store::{Committer, RunRecord, Store, StoreError, TaskRecord};

use crate::actions::Registry;
use crate::core::{Command, Core, Shared, StatusChange};
use crate::functions::Functions;
use crate::functions::event_sources::{EventSources, ObjectWriter};
use crate::project::{PipelineVersion, load_pipelines};
use crate::secrets::Secrets;

/// The secrets service of a project: its key from `WEIR_SECRETS_KEY` or the key file (`[secrets]
/// key_file`, by default `DATA/secrets.key`), its secrets from `WEIR_SECRET_*`, `[secrets] dir`
/// and the store.
async fn open_secrets(
    options: &EngineOptions,
    project_dir: &std::path::Path,
    data_dir: &std::path::Path,
    committer: &Committer,
) -> Result<Secrets, EngineError> {
    let settings = &options.config.secrets;
    let key_file = match settings.key_file.trim() {
        "" => crate::secrets::default_key_file(data_dir),
        file => project_dir.join(file),
    };
    let dir = match settings.dir.trim() {
        "" => None,
        dir => Some(project_dir.join(dir)),
    };
    let key_variable = std::env::var(crate::secrets::KEY_VARIABLE).ok();
    Secrets::open(
        options.store.clone(),
        committer.clone(),
        key_variable.as_deref(),
        &key_file,
        dir,
        std::env::vars(),
    )
    .await
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("metadata commit failed: {0}")]
    Commit(String),
    #[error("the server is stopping")]
    Stopped,
}

/// Commands waiting for the core at most; more wait in their senders.
const COMMAND_QUEUE: usize = 1024;

/// What the engine is started with.
pub struct EngineOptions {
    pub project_dir: PathBuf,
    pub data_dir: PathBuf,
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub registry: Registry,
    /// Reload definitions when files under the project change.
    pub watch: bool,
    /// Base URL for links in notifications.
    pub public_url: String,
}

/// A request to start a run: by hand, or by an event (a pipeline's `triggers:` or a rule's
/// target).
#[derive(Debug, Clone, Default)]
pub struct TriggerRequest {
    pub pipeline: String,
    pub params: Map<String, Value>,
    pub logical_date: Option<DateTime<Utc>>,
    /// The event that starts the run (an EventBridge envelope): kept on the run's record and
    /// given to its tasks' templates as `event`.
    pub event: Option<Value>,
}

/// A pipeline in force, as listed to users.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineInfo {
    pub name: String,
    pub file: String,
    pub version: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub schedule: Option<String>,
    pub timezone: String,
    pub catchup: bool,
    pub paused: bool,
    pub max_active_runs: u32,
    pub params: Map<String, Value>,
    /// When the next scheduled run is due (RFC 3339).
    pub next_run_at: Option<String>,
    pub tasks: Vec<TaskInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskInfo {
    pub id: String,
    pub action: String,
    pub depends_on: Vec<String>,
    pub trigger_rule: &'static str,
    pub retries: u32,
    pub pool: Option<String>,
    pub mapped: bool,
}

/// A running engine. Cloning shares it.
#[derive(Clone)]
pub struct Engine {
    /// Users' commands to the core. Bounded: when the core falls behind, callers wait here
    /// (backpressure) instead of piling up an unbounded queue.
    tx: mpsc::Sender<Command>,
    store: Arc<dyn Store>,
    runs_changed: broadcast::Sender<RunRecord>,
    status_changes: crate::core::StatusPublisher,
    data_dir: PathBuf,
    project_dir: PathBuf,
    functions: Arc<Functions>,
    secrets: Arc<Secrets>,
    /// The group committer every subsystem writes through.
    committer: Committer,
    /// Event source mappings, once the server gives the engine its streams.
    event_sources: Arc<std::sync::OnceLock<EventSources>>,
}

impl Engine {
    /// Loads the project, recovers what the store says was active, and starts the core.
    pub async fn start(options: EngineOptions) -> Result<Engine, EngineError> {
        std::fs::create_dir_all(&options.data_dir).map_err(|e| {
            EngineError::Invalid(format!(
                "cannot create the data directory {}: {e}",
                options.data_dir.display()
            ))
        })?;
        let data_dir = options
            .data_dir
            .canonicalize()
            .unwrap_or(options.data_dir.clone());
        let project_dir = options
            .project_dir
            .canonicalize()
            .unwrap_or(options.project_dir.clone());
        let mut catalog = load_pipelines(&project_dir, None);
        catalog
            .problems
            .extend(crate::project::check_pools(&catalog, &options.config));
        for problem in &catalog.problems {
            tracing::warn!("{problem}");
        }
        let committer = Committer::start(options.store.clone());
        let secrets = Arc::new(open_secrets(&options, &project_dir, &data_dir, &committer).await?);
        let functions = Arc::new(Functions::new(
            &project_dir,
            &data_dir,
            &options.config,
            secrets.clone(),
        ));
        for problem in functions.list().1 {
            tracing::warn!("{problem}");
        }
        let mut registry = options.registry;
        // The `function` action needs the engine's own `Functions` (one concurrency limit per
        // function across every caller), so it is registered here unless the caller brought one.
        if registry.get("function").is_none() {
            registry.register(
                "function",
                Arc::new(crate::actions::FunctionRunner::new(functions.clone())),
            );
        }
        let (runs_changed, _) = broadcast::channel(1024);
        // Generous: a listener that falls this far behind misses changes (and says so).
        let status_changes = crate::core::StatusPublisher::start(broadcast::channel(16 * 1024).0);
        let shared = Arc::new(Shared {
            committer: committer.clone(),
            secrets: secrets.clone(),
            store: options.store.clone(),
            registry,
            config: options.config,
            project_dir: project_dir.clone(),
            instance: crate::actions::instance_marker(&data_dir),
            data_dir: data_dir.clone(),
            runs_changed: runs_changed.clone(),
            status_changes: status_changes.clone(),
            public_url: options.public_url,
        });
        let (internal, internal_rx) = mpsc::unbounded_channel();
        let (tx, commands) = mpsc::channel(COMMAND_QUEUE);
        let mut core = Core::new(shared, internal.clone(), catalog);
        core.recover().await?;
        tokio::spawn(core.run(internal_rx, commands));
        if options.watch {
            crate::watch::watch_project(&project_dir, internal);
        }
        Ok(Engine {
            tx,
            store: options.store,
            runs_changed,
            status_changes,
            data_dir,
            project_dir,
            functions,
            secrets,
            committer,
            event_sources: Arc::new(std::sync::OnceLock::new()),
        })
    }

    /// The group committer, for services the server builds beside the engine (streams) so that
    /// their commits join the engine's.
    pub fn committer(&self) -> Committer {
        self.committer.clone()
    }

    /// Starts the event source mappings (functions triggered by streams and queues) on `streams`
    /// and `queues`; lake objects for on-failure destinations are written with `objects`. Once
    /// per engine.
    pub async fn start_event_sources(
        &self,
        streams: weir_stream::Streams,
        queues: Option<crate::queues::Queues>,
        objects: Option<Arc<dyn ObjectWriter>>,
    ) -> Result<EventSources, EngineError> {
        if let Some(running) = self.event_sources.get() {
            return Ok(running.clone());
        }
        let sources = EventSources::start(
            streams,
            queues,
            self.store.clone(),
            self.committer.clone(),
            self.functions.clone(),
            objects,
        )
        .await
        .map_err(|e| {
            EngineError::Invalid(format!("cannot start the event source mappings: {e}"))
        })?;
        Ok(self.event_sources.get_or_init(|| sources).clone())
    }

    /// The event source mappings, when the server started them.
    pub fn event_sources(&self) -> Option<EventSources> {
        self.event_sources.get().cloned()
    }

    /// Every run and task row as commits make them durable, for built-in events.
    pub fn subscribe_status(&self) -> broadcast::Receiver<StatusChange> {
        self.status_changes.subscribe()
    }

    /// The secrets service: set, list and remove secrets, and what masks them.
    pub fn secrets(&self) -> Arc<Secrets> {
        self.secrets.clone()
    }

    /// The project's functions (`functions/*.yaml`), to list and invoke.
    pub fn functions(&self) -> Arc<Functions> {
        self.functions.clone()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    pub fn project_dir(&self) -> &std::path::Path {
        &self.project_dir
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, EngineError>>) -> Command,
    ) -> Result<T, EngineError> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| EngineError::Stopped)?;
        wait.await.map_err(|_| EngineError::Stopped)?
    }

    pub async fn trigger(&self, request: TriggerRequest) -> Result<RunRecord, EngineError> {
        self.ask(|reply| Command::Trigger {
            pipeline: request.pipeline,
            params: request.params,
            logical_date: request.logical_date,
            event: request.event,
            reply,
        })
        .await
    }

    /// One run per schedule interval starting in [from, to]; intervals that already have a run
    /// are skipped. Returns the runs created and how many were skipped.
    pub async fn backfill(
        &self,
        pipeline: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Vec<RunRecord>, usize), EngineError> {
        let mut existing = HashSet::new();
        for run in self
            .store
            .runs(Some(pipeline), 100_000)
            .await?
            .into_iter()
            .filter(|r| r.run_type != "manual")
        {
            existing.insert(run.logical_date);
        }
        self.ask(|reply| Command::Backfill {
            pipeline: pipeline.to_string(),
            from,
            to,
            existing,
            reply,
        })
        .await
    }

    /// Retry from failure: reruns the failed, upstream-failed, skipped and cancelled tasks of an
    /// ended run and their downstream tasks; succeeded tasks keep their outputs.
    pub async fn retry(&self, run_id: &str) -> Result<RunRecord, EngineError> {
        let stored = self.load_run(run_id).await?;
        self.ask(|reply| Command::Retry { stored, reply }).await
    }

    pub async fn cancel(&self, run_id: &str) -> Result<RunRecord, EngineError> {
        self.ask(|reply| Command::Cancel {
            run_id: run_id.to_string(),
            reply,
        })
        .await
    }

    /// Marks a task instance `success` or `failed` by hand.
    pub async fn mark(
        &self,
        run_id: &str,
        task_id: &str,
        map_index: Option<i32>,
        state: &str,
    ) -> Result<TaskRecord, EngineError> {
        let stored = self.load_run(run_id).await?;
        let stored = (!crate::rules::is_active_run(&stored.record.state)).then_some(stored);
        self.ask(|reply| Command::Mark {
            run_id: run_id.to_string(),
            task_id: task_id.to_string(),
            map_index,
            state: state.to_string(),
            stored,
            reply,
        })
        .await
    }

    /// Marks a whole run `success` or `failed` by hand, as Airflow's "mark run as": for success,
    /// every task instance that neither succeeded nor was skipped succeeds; for failed, every one
    /// not yet ended fails. Running attempts are stopped; the run ends in the state.
    pub async fn mark_run(&self, run_id: &str, state: &str) -> Result<RunRecord, EngineError> {
        let stored = self.load_run(run_id).await?;
        let stored = (!crate::rules::is_active_run(&stored.record.state)).then_some(stored);
        self.ask(|reply| Command::MarkRun {
            run_id: run_id.to_string(),
            state: state.to_string(),
            stored,
            reply,
        })
        .await
    }

    pub async fn pause(&self, pipeline: &str, paused: bool) -> Result<(), EngineError> {
        self.ask(|reply| Command::Pause {
            pipeline: pipeline.to_string(),
            paused,
            reply,
        })
        .await
    }

    /// The pipelines in force and the problems of the definitions that are not.
    pub async fn pipelines(&self) -> Result<(Vec<PipelineInfo>, Vec<Problem>), EngineError> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(Command::Pipelines { reply })
            .await
            .map_err(|_| EngineError::Stopped)?;
        wait.await.map_err(|_| EngineError::Stopped)
    }

    /// Re-reads the definitions now; returns the problems found.
    pub async fn reload(&self) -> Result<Vec<Problem>, EngineError> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(Command::Reload { reply: Some(reply) })
            .await
            .map_err(|_| EngineError::Stopped)?;
        let mut problems = wait.await.map_err(|_| EngineError::Stopped)?;
        problems.extend(self.functions.reload());
        Ok(problems)
    }

    /// Stops the engine as a server stop should (not as a crash): no new attempt starts; running
    /// ones have `grace` to finish; those still running then are stopped, recorded as lost and
    /// queued to run again at the next start without using a retry. Returns once all of that is
    /// durable.
    pub async fn shutdown(&self, grace: Duration) {
        // Stream-triggered invocations end with their batch, before the drain below.
        if let Some(sources) = self.event_sources() {
            sources.stop().await;
        }
        let (reply, drained) = oneshot::channel();
        if self.tx.send(Command::Drain { reply }).await.is_err() {
            return;
        }
        if tokio::time::timeout(grace, drained).await.is_ok() {
            return;
        }
        let (reply, abandoned) = oneshot::channel();
        if self.tx.send(Command::Abandon { reply }).await.is_ok() {
            // A runner that ignores its cancellation does not hold the process up forever.
            let _ = tokio::time::timeout(Duration::from_secs(60), abandoned).await;
        }
    }

    /// Waits until the run has ended (or `timeout` passed) and returns it as it is then.
    pub async fn wait(&self, run_id: &str, timeout: Duration) -> Result<RunRecord, EngineError> {
        let mut changes = self.runs_changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let run = self
                .store
                .run(run_id)
                .await?
                .ok_or_else(|| EngineError::NotFound(format!("no run {run_id}")))?;
            if !crate::rules::is_active_run(&run.state) {
                return Ok(run);
            }
            loop {
                match tokio::time::timeout_at(deadline, changes.recv()).await {
                    Err(_) => return Ok(run),
                    Ok(Ok(changed))
                        if changed.id == run_id && !crate::rules::is_active_run(&changed.state) =>
                    {
                        return Ok(changed);
                    }
                    Ok(Ok(_)) => continue,
                    Ok(Err(broadcast::error::RecvError::Lagged(_))) => break,
                    Ok(Err(broadcast::error::RecvError::Closed)) => {
                        return Err(EngineError::Stopped);
                    }
                }
            }
        }
    }

    /// A run's task instances in its pipeline version's order (upstream first, as the file lists
    /// them), each task's mapped instances by index. The store keeps no order of its own.
    pub async fn task_instances(&self, run: &RunRecord) -> Result<Vec<TaskRecord>, EngineError> {
        let mut tasks = self.store.task_instances(&run.id).await?;
        // Without its version (not in the store), the run's tasks keep the store's order.
        if let Ok(version) = self.version(&run.pipeline, &run.version).await {
            tasks.sort_by_key(|t| {
                (
                    version.task_index(&t.task_id).unwrap_or(usize::MAX),
                    t.map_index,
                )
            });
        }
        Ok(tasks)
    }

    async fn load_run(&self, run_id: &str) -> Result<crate::core::StoredRun, EngineError> {
        let record = self
            .store
            .run(run_id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("no run {run_id}")))?;
        let tasks = self.store.task_instances(run_id).await?;
        let version = self.version(&record.pipeline, &record.version).await?;
        Ok(crate::core::StoredRun {
            record,
            tasks,
            version,
        })
    }

    async fn version(
        &self,
        pipeline: &str,
        version: &str,
    ) -> Result<Arc<PipelineVersion>, EngineError> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(Command::Version {
                pipeline: pipeline.to_string(),
                version: version.to_string(),
                reply,
            })
            .await
            .map_err(|_| EngineError::Stopped)?;
        if let Some(found) = wait.await.map_err(|_| EngineError::Stopped)? {
            return Ok(found);
        }
        crate::core::load_stored_version(self.store.as_ref(), pipeline, version)
            .await?
            .ok_or_else(|| {
                EngineError::NotFound(format!(
                    "version {version} of pipeline `{pipeline}` is not in the store"
                ))
            })
    }
}
