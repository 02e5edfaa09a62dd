//! The core: the single owner of active runs. See the crate docs for the shape; the files here
//! split its work: `run.rs` (a run in memory), `transitions.rs` (what happens when a task ends),
//! `dispatch.rs` (capacity and launching attempts), `commands.rs` (what users ask),
//! `scheduler.rs` (cron intervals), `recovery.rs` (start-up after a crash), `resync.rs` (memory
//! made to agree with the store again after a failed commit), `notify.rs`.

mod commands;
mod dispatch;
mod mark_run;
mod notify;
mod recovery;
mod resync;
mod run;
mod scheduler;
mod shutdown;
mod transitions;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use weir_model::config::Config;
use weir_store::{
    Committer, EventRecord, RunMutation, RunRecord, ScheduleStateRecord, Store, TaskRecord,
};

use crate::actions::{ActionOutcome, Registry};
use crate::project::{Catalog, PipelineVersion};
use crate::time::now_us;

pub(crate) use commands::{Command, StoredRun};
pub(crate) use recovery::load_stored_version;
pub(crate) use run::RunState;

/// One task instance of one run: the task's index in its pipeline version and the map index
/// (-1 when unmapped).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct InstanceKey {
    pub run_id: Arc<str>,
    pub task: usize,
    pub map_index: i32,
}

pub(crate) enum Msg {
    /// An attempt ended; `began`/`ended` are when its action really started and stopped (µs).
    Finished {
        key: InstanceKey,
        try_number: i32,
        outcome: ActionOutcome,
        began: i64,
        ended: i64,
    },
    Spawned {
        key: InstanceKey,
        try_number: i32,
        pid: i32,
    },
    Notified {
        run: RunRecord,
        results: Vec<(String, Result<(), String>)>,
    },
    Command(Command),
    /// A turn's commit failed: memory is ahead of the store (see `resync.rs`).
    CommitFailed {
        /// Runs the turn created: not in the store, so memory forgets them.
        created: Vec<Arc<str>>,
        /// Runs that existed and that the turn changed: read again from the store.
        touched: Vec<String>,
        /// Attempts the turn was to launch: never started, their capacity comes back.
        launches: Vec<InstanceKey>,
    },
    /// The definitions, read again off the core.
    Reloaded {
        catalog: Catalog,
        reply: Option<oneshot::Sender<Vec<weir_model::Problem>>>,
    },
}

/// What the core was started with and shares with the attempts it launches.
pub(crate) struct Shared {
    pub store: Arc<dyn Store>,
    pub committer: Committer,
    pub secrets: Arc<crate::secrets::Secrets>,
    pub registry: Registry,
    pub config: Config,
    pub project_dir: PathBuf,
    pub data_dir: PathBuf,
    /// Marks every process this server starts (`WEIR_INSTANCE`), to find orphans after a crash.
    pub instance: String,
    pub runs_changed: broadcast::Sender<RunRecord>,
    /// Every run and task row each commit wrote, once durable: what built-in events are made of.
    /// Published in turn order by [`StatusPublisher`] (commits in flight may land in any order).
    pub status_changes: StatusPublisher,
    pub public_url: String,
}

/// A run or task row as a commit wrote it (its state may be unchanged: listeners compare).
#[derive(Debug, Clone)]
pub enum StatusChange {
    Run(RunRecord),
    /// A task instance, with its run's pipeline (a task row names only its run).
    Task {
        pipeline: String,
        task: TaskRecord,
    },
}

/// An attempt holding capacity.
struct RunningAttempt {
    task_id: String,
    try_number: i32,
    cancel: watch::Sender<bool>,
    pool: String,
    pid: Option<i32>,
}

enum Timer {
    Retry { key: InstanceKey, try_number: i32 },
    Schedule { pipeline: String },
}

/// An attempt that is committed as running and is to be launched once the commit is durable.
pub(crate) struct Launch {
    key: InstanceKey,
    try_number: i32,
    version: Arc<PipelineVersion>,
    context: Option<serde_json::Value>,
    /// Environment describing the run to commands (`WEIR_DS`, `WEIR_ITEM`, …).
    env: Vec<(String, String)>,
    cancel: watch::Receiver<bool>,
}

/// Work that waits for the turn's commit (a reply to a user), given the commit's result.
type AfterCommit = Box<dyn FnOnce(Result<(), String>) + Send>;

pub(crate) struct Core {
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<Msg>,
    catalog: Catalog,
    /// Active (queued or running) runs.
    runs: HashMap<Arc<str>, RunState>,
    /// Queued runs per pipeline, in the order they may start.
    queued: HashMap<String, VecDeque<Arc<str>>>,
    running_runs: HashMap<String, u32>,
    /// Ready task instances waiting for capacity, per pool.
    ready: BTreeMap<String, VecDeque<InstanceKey>>,
    pool_used: HashMap<String, u32>,
    running_attempts: HashMap<InstanceKey, RunningAttempt>,
    timers: BTreeMap<(i64, u64), Timer>,
    timer_seq: u64,
    schedule_state: HashMap<String, ScheduleStateRecord>,
    /// Logical dates of scheduled and backfill runs known to exist, per pipeline.
    logical_dates: HashMap<String, HashSet<i64>>,
    // What the current turn produced, flushed together.
    batch: Vec<RunMutation>,
    launches: Vec<Launch>,
    /// Runs this turn created, forgotten again if its commit fails.
    created: Vec<Arc<str>>,
    changed: Vec<RunRecord>,
    after_commit: Vec<AfterCommit>,
    notifications: Vec<(RunRecord, Arc<PipelineVersion>)>,
    /// Whether the server is stopping (no new attempts; see `shutdown.rs`).
    stopping: shutdown::Stopping,
    /// Turns whose commit is on its way to the disk (see [`Core::flush`]).
    commit_slots: Arc<tokio::sync::Semaphore>,
}

/// Turns that may wait for their commit at once. Group commit needs several in flight (one being
/// written while the next ones gather, to be merged into one transaction): 4 cost a quarter of
/// the fan-out benchmark's throughput, 32 keep it while still bounding what waits in memory.
const COMMITS_IN_FLIGHT: usize = 32;

impl Core {
    pub(crate) fn new(
        shared: Arc<Shared>,
        tx: mpsc::UnboundedSender<Msg>,
        catalog: Catalog,
    ) -> Core {
        Core {
            shared,
            tx,
            catalog,
            runs: HashMap::new(),
            queued: HashMap::new(),
            running_runs: HashMap::new(),
            ready: BTreeMap::new(),
            pool_used: HashMap::new(),
            running_attempts: HashMap::new(),
            timers: BTreeMap::new(),
            timer_seq: 0,
            schedule_state: HashMap::new(),
            logical_dates: HashMap::new(),
            batch: Vec::new(),
            launches: Vec::new(),
            created: Vec::new(),
            changed: Vec::new(),
            after_commit: Vec::new(),
            notifications: Vec::new(),
            stopping: shutdown::Stopping::No,
            commit_slots: Arc::new(tokio::sync::Semaphore::new(COMMITS_IN_FLIGHT)),
        }
    }

    /// Runs until every handle is dropped. `rx` carries the core's own messages (attempts that
    /// ended, the watcher); `commands` what users ask, bounded.
    pub(crate) async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Msg>,
        mut commands: mpsc::Receiver<Command>,
    ) {
        // Whatever recovery decided goes out before the first message arrives.
        self.fire_due_timers();
        self.dispatch();
        self.flush().await;
        loop {
            let next_due = (!self.stopping.is_stopping())
                .then(|| self.timers.keys().next().map(|(due, _)| *due))
                .flatten();
            let msg = tokio::select! {
                msg = rx.recv() => msg,
                command = commands.recv() => match command {
                    Some(command) => Some(Msg::Command(command)),
                    None => break, // every handle is gone
                },
                _ = sleep_until_us(next_due) => None,
            };
            if let Some(msg) = msg {
                self.handle(msg).await;
            }
            // Take what else is already waiting, so one commit carries it all.
            for _ in 0..4096 {
                match rx.try_recv() {
                    Ok(msg) => self.handle(msg).await,
                    Err(_) => match commands.try_recv() {
                        Ok(command) => self.on_command(command),
                        Err(_) => break,
                    },
                }
            }
            if !self.stopping.is_stopping() {
                self.fire_due_timers();
                self.dispatch();
            }
            self.settle_stopping();
            self.flush().await;
        }
    }

    async fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Finished {
                key,
                try_number,
                outcome,
                began,
                ended,
            } => self.on_finished(key, try_number, outcome, (began, ended)),
            Msg::Spawned {
                key,
                try_number,
                pid,
            } => self.on_spawned(key, try_number, pid),
            Msg::Notified { run, results } => self.on_notified(run, results),
            Msg::Command(command) => self.on_command(command),
            Msg::CommitFailed {
                created,
                touched,
                launches,
            } => self.on_commit_failed(created, touched, launches).await,
            Msg::Reloaded { catalog, reply } => {
                self.apply_catalog(catalog);
                if let Some(reply) = reply {
                    let _ = reply.send(self.catalog.problems.clone());
                }
            }
        }
    }

    fn fire_due_timers(&mut self) {
        let now = now_us();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            match entry.remove() {
                Timer::Retry { key, try_number } => self.on_retry_due(key, try_number),
                Timer::Schedule { pipeline } => self.schedule_pipeline(&pipeline),
            }
        }
    }

    fn add_timer(&mut self, due_us: i64, timer: Timer) {
        self.timer_seq += 1;
        self.timers.insert((due_us, self.timer_seq), timer);
    }

    /// Hands this turn's mutations to the committer; launches, replies and broadcasts wait for it.
    /// At most [`COMMITS_IN_FLIGHT`] turns wait for the disk at once: past that the core waits
    /// too, and so, through their bounded queue, do the callers (backpressure).
    async fn flush(&mut self) {
        if self.batch.is_empty() && self.after_commit.is_empty() && self.launches.is_empty() {
            return;
        }
        let Ok(slot) = self.commit_slots.clone().acquire_owned().await else {
            return;
        };
        let touched = resync::touched_runs(&self.batch, &self.created);
        let runs = &self.runs;
        let pipeline_of = |run_id: &str| runs.get(run_id).map(|run| run.record.pipeline.clone());
        let statuses = self.shared.status_changes.queue(&self.batch, pipeline_of);
        let commit = self
            .shared
            .committer
            .submit(std::mem::take(&mut self.batch));
        let launches = std::mem::take(&mut self.launches);
        let created = std::mem::take(&mut self.created);
        let changed = std::mem::take(&mut self.changed);
        let replies = std::mem::take(&mut self.after_commit);
        let notifications = std::mem::take(&mut self.notifications);
        let shared = self.shared.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = commit.await.map_err(|e| e.to_string());
            drop(slot);
            if result.is_ok() {
                for launch in launches {
                    dispatch::launch(shared.clone(), tx.clone(), launch);
                }
                for run in changed {
                    let _ = shared.runs_changed.send(run);
                }
                if let Some(statuses) = statuses {
                    let _ = statuses.send(true);
                }
                for (run, version) in notifications {
                    notify::deliver(shared.clone(), tx.clone(), run, version);
                }
            } else {
                // Nothing was acted on; the store is the truth, and memory is made to agree.
                tracing::error!(error = ?result, dropped_launches = launches.len(), "commit failed: attempts were not started");
                let _ = tx.send(Msg::CommitFailed {
                    created,
                    touched,
                    launches: launches.into_iter().map(|launch| launch.key).collect(),
                });
            }
            for reply in replies {
                reply(result.clone());
            }
        });
    }

    fn event(
        &mut self,
        run_id: &str,
        task: Option<(&str, i32, i32)>,
        state: &str,
        message: Option<String>,
    ) {
        self.batch.push(RunMutation::Event(EventRecord {
            run_id: run_id.to_string(),
            at: now_us(),
            task_id: task.map(|t| t.0.to_string()),
            map_index: task.map(|t| t.1),
            try_number: task.map(|t| t.2),
            state: state.to_string(),
            message,
        }));
    }

    /// Replies once this turn's commit is durable.
    fn reply_after_commit<T: Send + 'static>(
        &mut self,
        reply: oneshot::Sender<Result<T, crate::EngineError>>,
        value: T,
    ) {
        self.after_commit.push(Box::new(move |result| {
            let _ = reply.send(result.map(|_| value).map_err(crate::EngineError::Commit));
        }));
    }
}

async fn sleep_until_us(due: Option<i64>) {
    match due {
        Some(due) => {
            let wait = (due - now_us()).max(0) as u64;
            tokio::time::sleep(std::time::Duration::from_micros(wait)).await
        }
        None => std::future::pending().await,
    }
}

/// Hands each turn's run and task rows to listeners once the turn's commit is durable, in the
/// order the turns were flushed: the commits of several turns may finish in any order, and a
/// listener told `success` before `running` would get a run's story wrong.
#[derive(Clone)]
pub struct StatusPublisher {
    listeners: broadcast::Sender<StatusChange>,
    turns: mpsc::UnboundedSender<(Vec<StatusChange>, oneshot::Receiver<bool>)>,
}

impl StatusPublisher {
    /// Starts the task that publishes in turn order.
    pub fn start(listeners: broadcast::Sender<StatusChange>) -> StatusPublisher {
        let (turns, mut queued) =
            mpsc::unbounded_channel::<(Vec<StatusChange>, oneshot::Receiver<bool>)>();
        let sender = listeners.clone();
        tokio::spawn(async move {
            while let Some((changes, committed)) = queued.recv().await {
                // A turn whose commit failed (or whose flush went away) tells nothing.
                if committed.await == Ok(true) {
                    for change in changes {
                        let _ = sender.send(change);
                    }
                }
            }
        });
        StatusPublisher { listeners, turns }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<StatusChange> {
        self.listeners.subscribe()
    }

    /// Queues a batch's run and task rows (copied only when someone listens); the returned
    /// sender says whether the batch committed.
    fn queue(
        &self,
        batch: &[RunMutation],
        pipeline_of: impl Fn(&str) -> Option<String>,
    ) -> Option<oneshot::Sender<bool>> {
        if self.listeners.receiver_count() == 0 {
            return None;
        }
        // A run that ended this turn has left memory: its row in the batch names its pipeline.
        let ended: HashMap<&str, &str> = batch
            .iter()
            .filter_map(|mutation| match mutation {
                RunMutation::InsertRun(run) | RunMutation::PutRun(run) => {
                    Some((run.id.as_str(), run.pipeline.as_str()))
                }
                _ => None,
            })
            .collect();
        let pipeline_of =
            |run_id: &str| pipeline_of(run_id).or_else(|| ended.get(run_id).map(|p| p.to_string()));
        let changes: Vec<StatusChange> = batch
            .iter()
            .filter_map(|mutation| match mutation {
                RunMutation::InsertRun(run) | RunMutation::PutRun(run) => {
                    Some(StatusChange::Run(run.clone()))
                }
                RunMutation::PutTask(task) => Some(StatusChange::Task {
                    pipeline: pipeline_of(&task.run_id).unwrap_or_default(),
                    task: task.clone(),
                }),
                _ => None,
            })
            .collect();
        if changes.is_empty() {
            return None;
        }
        let (committed, outcome) = oneshot::channel();
        self.turns.send((changes, outcome)).ok()?;
        Some(committed)
    }
}
