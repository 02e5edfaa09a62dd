//! State machines: definitions (from `machines/*.asl.json|yaml` and the API), executions run by
//! the interpreter, their histories, and task tokens. [`Machines`] is what the server's Step
//! Functions API and the CLI call; it knows nothing of HTTP.
//!
//! Standard executions are durable (every transition in the store, resumed after a restart by
//! replay, see `interpreter.rs`); express ones run in memory.

mod history;
mod interpreter;
mod items;
mod resources;
mod services;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, watch};
use weir_model::Problem;
use weir_model::asl::{self, StatesError};
pub use weir_store::ExecutionFilter;
use weir_store::{Committer, ExecutionRecord, MachineMutation, MachineRecord, Store};

use history::Journal;
pub use history::event_json;
use interpreter::Run;
pub use items::ObjectReader;
pub use services::FunctionInvoker;

use crate::Engine;
use crate::actions::Registry;
use crate::time::now_us;

/// Why a request about machines or executions was refused, in Step Functions' error names.
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    #[error("{0}")]
    StateMachineDoesNotExist(String),
    #[error("{0}")]
    StateMachineAlreadyExists(String),
    #[error("{0}")]
    ExecutionDoesNotExist(String),
    #[error("{0}")]
    ExecutionAlreadyExists(String),
    #[error("{0}")]
    InvalidDefinition(String),
    #[error("{0}")]
    InvalidName(String),
    #[error("{0}")]
    InvalidArn(String),
    #[error("{0}")]
    InvalidExecutionInput(String),
    #[error("{0}")]
    InvalidOutput(String),
    #[error("{0}")]
    TaskDoesNotExist(String),
    #[error("{0}")]
    InvalidToken(String),
    #[error("{0}")]
    ExecutionNotRedrivable(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Internal(String),
}

impl MachineError {
    /// The error's name in AWS's error shape (`__type`).
    pub fn code(&self) -> &'static str {
        match self {
            MachineError::StateMachineDoesNotExist(_) => "StateMachineDoesNotExist",
            MachineError::StateMachineAlreadyExists(_) => "StateMachineAlreadyExists",
            MachineError::ExecutionDoesNotExist(_) => "ExecutionDoesNotExist",
            MachineError::ExecutionAlreadyExists(_) => "ExecutionAlreadyExists",
            MachineError::InvalidDefinition(_) => "InvalidDefinition",
            MachineError::InvalidName(_) => "InvalidName",
            MachineError::InvalidArn(_) => "InvalidArn",
            MachineError::InvalidExecutionInput(_) => "InvalidExecutionInput",
            MachineError::InvalidOutput(_) => "InvalidOutput",
            MachineError::TaskDoesNotExist(_) => "TaskDoesNotExist",
            MachineError::InvalidToken(_) => "InvalidToken",
            MachineError::ExecutionNotRedrivable(_) => "ExecutionNotRedrivable",
            MachineError::Validation(_) => "ValidationException",
            MachineError::Internal(_) => "InternalServerError",
        }
    }
}

impl From<weir_store::StoreError> for MachineError {
    fn from(e: weir_store::StoreError) -> Self {
        MachineError::Internal(e.to_string())
    }
}

pub type Result<T, E = MachineError> = std::result::Result<T, E>;

/// What the service is started with.
pub struct MachinesOptions {
    pub store: Arc<dyn Store>,
    pub project_dir: PathBuf,
    pub data_dir: PathBuf,
    pub region: String,
    pub account_id: String,
    /// Runs pipelines for `arn:weir:states:::pipeline:run`.
    pub engine: Option<Engine>,
    pub functions: Option<Arc<dyn FunctionInvoker>>,
    /// weir's actions, for `arn:weir:states:::action:KIND`.
    pub actions: Registry,
    /// The lake, for Map's `ItemReader`.
    pub objects: Option<Arc<dyn ObjectReader>>,
    /// Secret values to mask in history and task logs (`Engine::secrets`, or
    /// `Secrets::none()`).
    pub secrets: Arc<crate::secrets::Secrets>,
    /// Load `machines/` again whenever a file there changes.
    pub watch: bool,
    /// Processes (functions and `action:` tasks) that executions may run at once, across all of
    /// them: a Map over thousands of items queues its tasks instead of forking thousands.
    pub max_processes: usize,
}

/// A request to create a state machine.
#[derive(Debug, Clone, Default)]
pub struct NewMachine {
    pub name: String,
    pub definition: String,
    pub role_arn: String,
    /// `STANDARD` (default) or `EXPRESS`.
    pub machine_type: Option<String>,
    /// Arguments kept as given (loggingConfiguration, tracingConfiguration, tags, …).
    pub settings: serde_json::Map<String, Value>,
}

/// A request to start an execution.
#[derive(Debug, Clone, Default)]
pub struct NewExecution {
    pub machine_arn: String,
    pub name: Option<String>,
    /// JSON text; `{}` when absent.
    pub input: Option<String>,
}

/// A running service. Cloning shares it.
#[derive(Clone)]
pub struct Machines {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    committer: Committer,
    region: String,
    account_id: String,
    project_dir: PathBuf,
    data_dir: PathBuf,
    engine: Option<Engine>,
    functions: Option<Arc<dyn FunctionInvoker>>,
    actions: Registry,
    objects: Option<Arc<dyn ObjectReader>>,
    /// Secret values, masked in history and in the logs of `action:` tasks.
    secrets: Arc<crate::secrets::Secrets>,
    /// Stop signals of the executions running in this process, each with the run it belongs
    /// to (a redriven execution runs again under the same ARN).
    running: Mutex<HashMap<String, (u64, StopSignal)>>,
    /// Task tokens waited on, and where their answer goes.
    tokens: Mutex<HashMap<String, TokenWaiter>>,
    finished: broadcast::Sender<ExecutionRecord>,
    /// Standard executions as they start (or are redriven) and end, once durable: built-in
    /// events' "Step Functions Execution Status Change".
    status: broadcast::Sender<ExecutionRecord>,
    problems: Mutex<Vec<Problem>>,
    /// Permits for the processes executions start (`MachinesOptions::max_processes`).
    processes: Arc<tokio::sync::Semaphore>,
    /// `WEIR_INSTANCE` of the processes tasks start, worked out once (it reads the file system).
    instance: String,
    /// Execution ARNs being started, each with the lock its starters take in turn: two
    /// StartExecution calls with one name must not both find it free and both start it.
    starting: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Where StopExecution sends the reason an execution is stopped.
type StopSignal = watch::Sender<Option<StatesError>>;

struct TokenWaiter {
    answer: mpsc::UnboundedSender<TokenMessage>,
    /// The answers to a token handed out but not yet waited on, kept until the wait starts.
    unclaimed: Option<mpsc::UnboundedReceiver<TokenMessage>>,
}

enum TokenMessage {
    Done(std::result::Result<Value, StatesError>),
    Heartbeat,
}

/// Longest name Step Functions accepts for machines and executions.
const MAX_NAME: usize = 80;
/// The most bytes of UTF-8 an execution's input may have (Step Functions' quota on a task's,
/// state's or execution's input or output).
pub const MAX_DATA_BYTES: usize = 262_144;

impl Machines {
    /// Starts the service: loads the project's machine files and resumes the executions the
    /// store says are running.
    pub async fn start(options: MachinesOptions) -> Result<Machines> {
        let (finished, _) = broadcast::channel(1024);
        let (status, _) = broadcast::channel(16 * 1024);
        let instance = crate::actions::instance_marker(&options.data_dir);
        let machines = Machines {
            inner: Arc::new(Inner {
                committer: Committer::start(options.store.clone()),
                store: options.store,
                region: options.region,
                account_id: options.account_id,
                project_dir: options.project_dir,
                data_dir: options.data_dir,
                engine: options.engine,
                functions: options.functions,
                actions: options.actions,
                objects: options.objects,
                secrets: options.secrets,
                running: Mutex::new(HashMap::new()),
                tokens: Mutex::new(HashMap::new()),
                finished,
                status,
                problems: Mutex::new(Vec::new()),
                processes: Arc::new(tokio::sync::Semaphore::new(options.max_processes.max(1))),
                instance,
                starting: Mutex::new(HashMap::new()),
            }),
        };
        machines.load_files().await?;
        machines.recover().await?;
        if options.watch
            && let Some(mut changes) =
                crate::watch::watch_dir(&machines.inner.project_dir, "machines")
        {
            let watching = machines.clone();
            tokio::spawn(async move {
                while changes.recv().await.is_some() {
                    if let Err(error) = watching.load_files().await {
                        tracing::error!(%error, "cannot load the state machine files");
                    }
                }
            });
        }
        Ok(machines)
    }

    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// Problems of the project's machine files at the last load.
    pub fn problems(&self) -> Vec<Problem> {
        self.inner
            .problems
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default()
    }

    pub fn machine_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:stateMachine:{name}",
            self.inner.region, self.inner.account_id
        )
    }

    /// A machine ARN from an ARN or a bare name (the CLI's convenience).
    pub fn resolve_machine(&self, name_or_arn: &str) -> String {
        if name_or_arn.starts_with("arn:") {
            name_or_arn.to_string()
        } else {
            self.machine_arn(name_or_arn)
        }
    }

    /// Reads `machines/*.asl.json|yaml|yml` into the store (files win over API edits of the
    /// same name); problems are kept for `problems()` and logged. A file with problems leaves
    /// the machine at its last good definition; a machine whose file is gone is deleted (its
    /// executions keep the definition they run).
    pub async fn load_files(&self) -> Result<Vec<Problem>> {
        let dir = self.inner.project_dir.join("machines");
        let mut problems = Vec::new();
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(_) => Vec::new(),
        };
        entries.sort();
        let mut stored: HashMap<String, MachineRecord> = self
            .inner
            .store
            .machines()
            .await?
            .into_iter()
            .map(|m| (m.arn.clone(), m))
            .collect();
        let mut writes = Vec::new();
        for path in entries {
            let Some(name) = machine_file_name(&path) else {
                continue;
            };
            let display = crate::project::display(&self.inner.project_dir, &path);
            let arn = self.machine_arn(&name);
            // Taken out: what stays in `stored` afterwards came from files that are gone.
            let existing = stored.remove(&arn);
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) => {
                    problems.push(Problem::new(
                        &display,
                        weir_model::problem::Pos::START,
                        format!("cannot read: {e}"),
                    ));
                    continue;
                }
            };
            // A file's `triggers` (rules the event bus manages) are not part of its definition.
            let definition = match asl::parse_machine_file(&display, &name, &text) {
                Ok(file) => file.definition,
                Err(found) => {
                    problems.extend(found);
                    continue;
                }
            };
            let now = now_us();
            let record = MachineRecord {
                arn,
                name,
                machine_type: existing
                    .as_ref()
                    .map(|m| m.machine_type.clone())
                    .unwrap_or_else(|| "STANDARD".into()),
                definition,
                role_arn: existing
                    .as_ref()
                    .map(|m| m.role_arn.clone())
                    .unwrap_or_else(|| default_role(&self.inner.account_id)),
                settings: existing
                    .as_ref()
                    .map(|m| m.settings.clone())
                    .unwrap_or_else(|| json!({})),
                source: display,
                created_at: existing.as_ref().map(|m| m.created_at).unwrap_or(now),
                updated_at: now,
            };
            if existing
                .as_ref()
                .is_some_and(|m| m.definition == record.definition)
            {
                continue;
            }
            writes.push(MachineMutation::PutMachine(record));
        }
        for gone in stored.into_values().filter(|m| m.source != "api") {
            tracing::info!(machine = %gone.name, file = %gone.source, "the file is gone; machine deleted");
            writes.push(MachineMutation::DeleteMachine { arn: gone.arn });
        }
        if !writes.is_empty() {
            self.commit(writes).await?;
        }
        for problem in &problems {
            tracing::warn!("{problem}");
        }
        if let Ok(mut kept) = self.inner.problems.lock() {
            kept.clone_from(&problems);
        }
        Ok(problems)
    }

    async fn commit(&self, batch: Vec<MachineMutation>) -> Result<()> {
        self.inner
            .committer
            .submit(batch)
            .await
            .map_err(|e| MachineError::Internal(e.to_string()))
    }

    /// Checks a definition: the problems found, each with the JSON path of its place.
    pub fn validate(definition: &str) -> Vec<Problem> {
        match asl::parse_definition("definition", definition) {
            Ok(_) => Vec::new(),
            Err(problems) => problems,
        }
    }

    pub async fn create(&self, new: NewMachine) -> Result<MachineRecord> {
        check_name(&new.name)?;
        parse(&new.definition)?;
        let machine_type = new.machine_type.unwrap_or_else(|| "STANDARD".into());
        if machine_type != "STANDARD" && machine_type != "EXPRESS" {
            return Err(MachineError::Validation(format!(
                "type must be STANDARD or EXPRESS, not {machine_type}"
            )));
        }
        let arn = self.machine_arn(&new.name);
        let now = now_us();
        let record = MachineRecord {
            arn: arn.clone(),
            name: new.name.clone(),
            machine_type,
            definition: new.definition,
            role_arn: if new.role_arn.is_empty() {
                default_role(&self.inner.account_id)
            } else {
                new.role_arn
            },
            settings: Value::Object(new.settings),
            source: "api".into(),
            created_at: now,
            updated_at: now,
        };
        if let Some(existing) = self.inner.store.machine(&arn).await? {
            // Step Functions: creating the same machine again is idempotent.
            if existing.definition == record.definition
                && existing.role_arn == record.role_arn
                && existing.machine_type == record.machine_type
            {
                return Ok(existing);
            }
            return Err(MachineError::StateMachineAlreadyExists(format!(
                "State Machine Already Exists: '{arn}'"
            )));
        }
        self.commit(vec![MachineMutation::PutMachine(record.clone())])
            .await?;
        Ok(record)
    }

    pub async fn update(
        &self,
        arn: &str,
        definition: Option<String>,
        role_arn: Option<String>,
        settings: serde_json::Map<String, Value>,
    ) -> Result<MachineRecord> {
        let mut record = self.describe(arn).await?;
        if let Some(definition) = definition {
            parse(&definition)?;
            record.definition = definition;
        }
        if let Some(role) = role_arn {
            record.role_arn = role;
        }
        if let Value::Object(kept) = &mut record.settings {
            kept.extend(settings);
        }
        record.updated_at = now_us();
        self.commit(vec![MachineMutation::PutMachine(record.clone())])
            .await?;
        Ok(record)
    }

    pub async fn delete(&self, arn: &str) -> Result<()> {
        check_arn(arn)?;
        self.commit(vec![MachineMutation::DeleteMachine {
            arn: arn.to_string(),
        }])
        .await
    }

    pub async fn describe(&self, arn: &str) -> Result<MachineRecord> {
        check_arn(arn)?;
        self.inner.store.machine(arn).await?.ok_or_else(|| {
            MachineError::StateMachineDoesNotExist(format!("State Machine Does Not Exist: '{arn}'"))
        })
    }

    pub async fn list(&self) -> Result<Vec<MachineRecord>> {
        Ok(self.inner.store.machines().await?)
    }

    /// Starts a standard execution (durable) or an express one (in memory) and returns at once.
    pub async fn start_execution(&self, new: NewExecution) -> Result<ExecutionRecord> {
        let machine = self.describe(&new.machine_arn).await?;
        let express = machine.machine_type == "EXPRESS";
        let record = new_record(&machine, new, express)?;
        let arn = record.arn.clone();
        let name_lock = self.starting_lock(&arn);
        let started = {
            let _turn = name_lock.lock().await;
            self.start_unique(machine, record, express).await
        };
        self.release_starting_lock(&arn, name_lock);
        started
    }

    /// The lock that starters of `arn` take in turn.
    fn starting_lock(&self, arn: &str) -> Arc<tokio::sync::Mutex<()>> {
        match self.inner.starting.lock() {
            Ok(mut starting) => starting.entry(arn.to_string()).or_default().clone(),
            // A poisoned table still gives a lock: this caller's own.
            Err(_) => Arc::default(),
        }
    }

    /// Drops the table's entry for `arn` once no other starter holds or waits for it.
    fn release_starting_lock(&self, arn: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        if let Ok(mut starting) = self.inner.starting.lock()
            && Arc::strong_count(&lock) <= 2
        {
            starting.remove(arn);
        }
    }

    /// Starts `record` unless an execution with its ARN exists (the caller holds the ARN's lock).
    async fn start_unique(
        &self,
        machine: MachineRecord,
        record: ExecutionRecord,
        express: bool,
    ) -> Result<ExecutionRecord> {
        if let Some(existing) = self.inner.store.execution(&record.arn).await? {
            // The same name and input while it runs: the same execution (idempotent retries).
            if existing.input == record.input && existing.status == "RUNNING" {
                return Ok(existing);
            }
            return Err(MachineError::ExecutionAlreadyExists(format!(
                "Execution Already Exists: '{}'",
                record.arn
            )));
        }
        let committer = (!express).then(|| self.inner.committer.clone());
        let journal = Journal::new(record.arn.clone(), committer, 1);
        let run = self.new_run(&record, Some(&machine), journal, Vec::new())?;
        run.journal
            .put(vec![MachineMutation::PutExecution(record.clone())]);
        run.journal.event(
            "ExecutionStarted",
            "executionStartedEventDetails",
            json!({
                "input": record.input,
                "inputDetails": history::not_truncated(),
                "roleArn": machine.role_arn,
                "stateMachineArn": machine.arn,
            }),
        );
        // Acknowledged only once durable: a crash after this answer resumes the execution.
        run.journal.sync().await.map_err(MachineError::Internal)?;
        if !express {
            let _ = self.inner.status.send(record.clone());
        }
        self.spawn(run, record.clone());
        Ok(record)
    }

    /// Runs an express execution to its end and answers how it ended (nothing is stored).
    pub async fn start_sync_execution(&self, new: NewExecution) -> Result<ExecutionRecord> {
        let machine = self.describe(&new.machine_arn).await?;
        if machine.machine_type != "EXPRESS" {
            return Err(MachineError::Validation(format!(
                "StartSyncExecution runs EXPRESS state machines; {} is {}",
                machine.arn, machine.machine_type
            )));
        }
        let mut record = new_record(&machine, new, true)?;
        let journal = Journal::new(record.arn.clone(), None, 1);
        let run = self.new_run(&record, Some(&machine), journal, Vec::new())?;
        let result = run.execute().await;
        conclude(&mut record, result.map_err(Ended::Failed));
        Ok(record)
    }

    /// An execution for the interpreter: its record (whose definition it runs), its machine
    /// (when it still exists), its journal, and the step records it resumes from.
    fn new_run(
        &self,
        record: &ExecutionRecord,
        machine: Option<&MachineRecord>,
        journal: Journal,
        steps: Vec<weir_store::StepRecord>,
    ) -> Result<Arc<Run>> {
        let journal = journal.masking(self.inner.secrets.clone());
        let input = serde_json::from_str(&record.input)
            .map_err(|e| MachineError::InvalidExecutionInput(e.to_string()))?;
        // What a resumed execution replays: not a record a redrive set aside, nor its tokens.
        let replay: HashMap<String, Value> = steps
            .into_iter()
            .filter(|s| s.step != REDRIVES_STEP)
            .map(|s| {
                let record = serde_json::from_str(&s.record).unwrap_or(Value::Null);
                (s.step, record)
            })
            .filter(|(_, record)| record.get(REDRIVEN).is_none())
            .collect();
        Ok(Arc::new(Run {
            arn: record.arn.clone(),
            name: record.name.clone(),
            machine_arn: record.machine_arn.clone(),
            machine_name: match machine {
                Some(machine) => machine.name.clone(),
                None => record
                    .machine_arn
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            },
            role_arn: machine.map(|m| m.role_arn.clone()).unwrap_or_default(),
            definition: Arc::new(parse(&record.definition)?),
            input,
            input_text: record.input.clone(),
            input_in_context: interpreter::context_needs_input(&record.definition),
            uses_context: interpreter::context_used(&record.definition),
            started_at: record.started_at,
            redrive_count: u64::try_from(record.redrive_count).unwrap_or_default(),
            redriven_at: record.redriven_at,
            journal,
            replayed_scopes: interpreter::scopes_of(replay.keys()),
            replay,
            services: Arc::new(services::Services::new(self.clone())),
        }))
    }

    /// Starts the task that drives `run` to its end and records how it ended.
    fn spawn(&self, run: Arc<Run>, mut record: ExecutionRecord) {
        let (stop, mut stopped) = watch::channel(None::<StatesError>);
        static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let this_run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut running) = self.inner.running.lock() {
            running.insert(run.arn.clone(), (this_run, stop));
        }
        let machines = self.clone();
        tokio::spawn(async move {
            let outcome = tokio::select! {
                result = run.execute() => result.map_err(Ended::Failed),
                reason = async {
                    loop {
                        if stopped.changed().await.is_err() {
                            std::future::pending::<()>().await;
                        }
                        if let Some(reason) = stopped.borrow().clone() {
                            return reason;
                        }
                    }
                } => Err(Ended::Aborted(reason)),
            };
            conclude(&mut record, outcome);
            // An error or cause the execution ended without (a Fail state that names none) is
            // left out of the event, as Step Functions does, rather than written as null.
            let mut ended = serde_json::Map::new();
            if let Some(error) = &record.error {
                ended.insert("error".into(), json!(error));
            }
            if let Some(cause) = &record.cause {
                ended.insert("cause".into(), json!(cause));
            }
            let (kind, key, details) = match record.status.as_str() {
                "SUCCEEDED" => (
                    "ExecutionSucceeded",
                    "executionSucceededEventDetails",
                    json!({"output": record.output, "outputDetails": history::not_truncated()}),
                ),
                "TIMED_OUT" => (
                    "ExecutionTimedOut",
                    "executionTimedOutEventDetails",
                    json!({"error": asl::errors::names::TIMEOUT}),
                ),
                "ABORTED" => (
                    "ExecutionAborted",
                    "executionAbortedEventDetails",
                    Value::Object(ended),
                ),
                _ => (
                    "ExecutionFailed",
                    "executionFailedEventDetails",
                    Value::Object(ended),
                ),
            };
            run.journal.event(kind, key, details);
            run.journal
                .put(vec![MachineMutation::PutExecution(record.clone())]);
            let committed = match run.journal.sync().await {
                Ok(()) => run.journal.is_durable(),
                Err(error) => {
                    tracing::error!(execution = %record.arn, %error, "cannot record the end of an execution");
                    false
                }
            };
            // A redrive may already have started the execution again: its entry stays.
            if let Ok(mut running) = machines.inner.running.lock()
                && running
                    .get(&record.arn)
                    .is_some_and(|(run, _)| *run == this_run)
            {
                running.remove(&record.arn);
            }
            if committed {
                let _ = machines.inner.status.send(record.clone());
            }
            let _ = machines.inner.finished.send(record);
        });
    }

    /// RedriveExecution: runs a FAILED, TIMED_OUT or ABORTED standard execution again from
    /// where it stopped, under the same ARN and history. States that succeeded are not run
    /// again (their records replay, as after a crash); the states that failed or were cut
    /// short run again, and inside a Map or Parallel only the iterations and branches that did
    /// not succeed. The history goes on with `ExecutionRedriven`. A `client_token` already used
    /// for one of the last ten redrives answers that redrive again instead of another.
    pub async fn redrive(&self, arn: &str, client_token: Option<&str>) -> Result<ExecutionRecord> {
        let mut record = self.describe_execution(arn).await?;
        let steps = self.inner.store.steps(arn).await?;
        let mut tokens = RedriveTokens::of(&steps);
        if let Some(token) = client_token
            && tokens.tokens.iter().any(|t| t == token)
        {
            return Ok(record);
        }
        if let Some(reason) = self.not_redrivable(&record).await? {
            return Err(MachineError::ExecutionNotRedrivable(reason));
        }
        let machine = self.inner.store.machine(&record.machine_arn).await?;
        let mut mutations = Vec::new();
        let mut kept = Vec::new();
        for step in steps {
            if step.step == REDRIVES_STEP {
                continue;
            }
            let value: Value = serde_json::from_str(&step.record).unwrap_or(Value::Null);
            if succeeded(&value) {
                kept.push(step);
            } else {
                mutations.push(MachineMutation::PutStep(weir_store::StepRecord {
                    record: json!({ REDRIVEN: true }).to_string(),
                    ..step
                }));
            }
        }
        if let Some(token) = client_token {
            tokens.tokens.push(token.to_string());
            let extra = tokens.tokens.len().saturating_sub(10);
            tokens.tokens.drain(..extra);
        }
        let counted = weir_store::StepRecord {
            execution_arn: arn.to_string(),
            step: REDRIVES_STEP.to_string(),
            state: String::new(),
            record: serde_json::to_string(&tokens).unwrap_or_default(),
        };
        kept.push(counted.clone());
        mutations.push(MachineMutation::PutStep(counted));
        record.status = "RUNNING".into();
        record.redrive_count += 1;
        record.redriven_at = Some(now_us());
        record.stopped_at = None;
        record.output = None;
        record.error = None;
        record.cause = None;
        mutations.push(MachineMutation::PutExecution(record.clone()));
        let next_id = self.inner.store.last_event_id(arn).await? + 1;
        let journal = Journal::new(arn.to_string(), Some(self.inner.committer.clone()), next_id);
        let run = self.new_run(&record, machine.as_ref(), journal, kept)?;
        run.journal.put(mutations);
        run.journal.event(
            "ExecutionRedriven",
            "executionRedrivenEventDetails",
            json!({ "redriveCount": record.redrive_count }),
        );
        run.journal.sync().await.map_err(MachineError::Internal)?;
        let _ = self.inner.status.send(record.clone());
        self.spawn(run, record.clone());
        Ok(record)
    }

    /// Whether an execution can be redriven (DescribeExecution's `redriveStatus`), and why not
    /// when it cannot (`redriveStatusReason`, which is also what RedriveExecution's
    /// `ExecutionNotRedrivable` says).
    pub async fn redrive_status(
        &self,
        record: &ExecutionRecord,
    ) -> Result<(&'static str, Option<String>)> {
        Ok(match self.not_redrivable(record).await? {
            None => ("REDRIVABLE", None),
            Some(reason) => ("NOT_REDRIVABLE", Some(reason)),
        })
    }

    /// Why `record` cannot be redriven, in the words of the API reference's
    /// `redriveStatusReason` (DescribeExecution), or nothing when it can.
    async fn not_redrivable(&self, record: &ExecutionRecord) -> Result<Option<String>> {
        if !matches!(record.status.as_str(), "FAILED" | "TIMED_OUT" | "ABORTED") {
            return Ok(Some(format!(
                "Execution is {} and cannot be redriven",
                record.status
            )));
        }
        let now = now_us();
        // A deleted machine is past Step Functions' DELETING status, in which it refuses too.
        if self
            .inner
            .store
            .machine(&record.machine_arn)
            .await?
            .is_none()
        {
            return Ok(Some("State machine is in DELETING status".into()));
        }
        if now.saturating_sub(record.started_at) > MAX_EXECUTION_US {
            return Ok(Some("Execution has exceeded the max execution time".into()));
        }
        let stopped = record.stopped_at.unwrap_or(record.started_at);
        if now.saturating_sub(stopped) > REDRIVE_WINDOW_US {
            return Ok(Some("Execution redrivable period exceeded".into()));
        }
        // The redrive needs room for ExecutionRedriven and at least one more event.
        if self.inner.store.last_event_id(&record.arn).await? >= MAX_REDRIVABLE_EVENTS {
            return Ok(Some("Execution history event limit exceeded".into()));
        }
        Ok(None)
    }

    /// Resumes every execution the store says is running.
    async fn recover(&self) -> Result<()> {
        let running = self
            .inner
            .store
            .executions(
                ExecutionFilter {
                    status: Some("RUNNING"),
                    ..ExecutionFilter::default()
                },
                None,
                u32::MAX,
            )
            .await?;
        for record in running {
            let next_id = self.inner.store.last_event_id(&record.arn).await? + 1;
            let steps = self.inner.store.steps(&record.arn).await?;
            let machine = self.inner.store.machine(&record.machine_arn).await?;
            tracing::info!(execution = %record.arn, steps = steps.len(), "resuming execution");
            let journal = Journal::new(
                record.arn.clone(),
                Some(self.inner.committer.clone()),
                next_id,
            );
            match self.new_run(&record, machine.as_ref(), journal, steps) {
                Ok(run) => self.spawn(run, record),
                Err(error) => tracing::error!(execution = %record.arn, %error, "cannot resume"),
            }
        }
        Ok(())
    }

    pub async fn stop(
        &self,
        arn: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<ExecutionRecord> {
        let record = self.describe_execution(arn).await?;
        if record.status != "RUNNING" {
            return Ok(record);
        }
        let reason = StatesError::new(error.unwrap_or_default(), cause.unwrap_or_default());
        let signalled = self
            .inner
            .running
            .lock()
            .ok()
            .and_then(|running| {
                running
                    .get(arn)
                    .map(|(_, stop)| stop.send(Some(reason)).is_ok())
            })
            .unwrap_or(false);
        if !signalled {
            return Err(MachineError::ExecutionDoesNotExist(format!(
                "Execution is not running here: '{arn}'"
            )));
        }
        self.wait(arn, Duration::from_secs(30)).await
    }

    pub async fn describe_execution(&self, arn: &str) -> Result<ExecutionRecord> {
        check_arn(arn)?;
        self.inner.store.execution(arn).await?.ok_or_else(|| {
            MachineError::ExecutionDoesNotExist(format!("Execution Does Not Exist: '{arn}'"))
        })
    }

    /// Executions, newest first; `after` continues a listing after the execution it names (its
    /// start time and ARN), so a page costs its own rows only.
    pub async fn executions(
        &self,
        filter: ExecutionFilter<'_>,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<ExecutionRecord>> {
        if let Some(arn) = filter.machine_arn {
            self.describe(arn).await?;
        }
        Ok(self.inner.store.executions(filter, after, limit).await?)
    }

    /// The history, as GetExecutionHistory returns its events.
    pub async fn history(&self, arn: &str) -> Result<Vec<Value>> {
        let events = self.history_records(arn).await?;
        Ok(events.iter().map(event_json).collect())
    }

    /// The history as it is stored, each event's details still JSON text: for readers that
    /// decode only what they look at (the dashboard's page of a Map of 10,000 items reads every
    /// event's type but the input and output of a page of them).
    pub async fn history_records(&self, arn: &str) -> Result<Vec<weir_store::HistoryEventRecord>> {
        self.describe_execution(arn).await?;
        Ok(self.inner.store.history(arn).await?)
    }

    /// Standard executions as they start, are redriven and end, each once durable.
    pub fn subscribe_status(&self) -> broadcast::Receiver<ExecutionRecord> {
        self.inner.status.subscribe()
    }

    /// Waits (up to `timeout`) for an execution to end; returns it as it is then.
    pub async fn wait(&self, arn: &str, timeout: Duration) -> Result<ExecutionRecord> {
        let mut finished = self.inner.finished.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let record = self.describe_execution(arn).await?;
            if record.status != "RUNNING" {
                return Ok(record);
            }
            loop {
                match tokio::time::timeout_at(deadline, finished.recv()).await {
                    Err(_) => return self.describe_execution(arn).await,
                    Ok(Ok(done)) if done.arn == arn => break,
                    Ok(Ok(_)) => continue,
                    Ok(Err(_)) => break,
                }
            }
        }
    }

    /// Answers a task token. The answer is durable before this returns: an execution resumed
    /// after a crash finds it in its step records instead of waiting for a token that was
    /// already answered.
    pub async fn send_task_success(&self, token: &str, output: &str) -> Result<()> {
        let value: Value = serde_json::from_str(output)
            .map_err(|e| MachineError::InvalidOutput(format!("output is not JSON: {e}")))?;
        self.answer_token(token, Ok(value)).await
    }

    pub async fn send_task_failure(
        &self,
        token: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<()> {
        let error = StatesError::new(error.unwrap_or_default(), cause.unwrap_or_default());
        self.answer_token(token, Err(error)).await
    }

    /// The execution a task token was handed out for (a token names it), for the server's
    /// grants; None for text that is no token of this server's making. A token is only ever
    /// honoured whole, so the execution it names is the one whose task it answers.
    pub fn token_execution(token: &str) -> Option<String> {
        interpreter::token_origin(token).map(|(execution_arn, _)| execution_arn)
    }

    pub fn send_task_heartbeat(&self, token: &str) -> Result<()> {
        self.deliver(token, TokenMessage::Heartbeat, false)
    }

    async fn answer_token(
        &self,
        token: &str,
        answer: std::result::Result<Value, StatesError>,
    ) -> Result<()> {
        check_token(token)?;
        let waited = self
            .inner
            .tokens
            .lock()
            .map_err(|_| MachineError::Internal("token table poisoned".into()))?
            .contains_key(token);
        if !waited {
            return Err(task_gone());
        }
        if let Some((execution_arn, step)) = interpreter::token_origin(token) {
            let record = match &answer {
                Ok(output) => json!({"token": token, "output": output}),
                Err(e) => json!({"token": token, "error": e.error, "cause": e.cause}),
            };
            self.commit(vec![MachineMutation::PutStep(weir_store::StepRecord {
                execution_arn,
                step: interpreter::answer_step(&step),
                state: "answer".into(),
                record: record.to_string(),
            })])
            .await?;
        }
        self.deliver(token, TokenMessage::Done(answer), true)
    }

    fn deliver(&self, token: &str, message: TokenMessage, last: bool) -> Result<()> {
        check_token(token)?;
        let mut tokens = self
            .inner
            .tokens
            .lock()
            .map_err(|_| MachineError::Internal("token table poisoned".into()))?;
        let Some(waiter) = tokens.get(token) else {
            return Err(task_gone());
        };
        let delivered = waiter.answer.send(message).is_ok();
        // An answer that came before the wait started stays with its token until the wait
        // takes it (the wait then removes the token).
        if (last || !delivered) && waiter.unclaimed.is_none() {
            tokens.remove(token);
        }
        if delivered { Ok(()) } else { Err(task_gone()) }
    }
}

fn check_token(token: &str) -> Result<()> {
    if token.is_empty() || token.len() > 8192 {
        return Err(MachineError::InvalidToken("Invalid token".into()));
    }
    Ok(())
}

fn task_gone() -> MachineError {
    MachineError::TaskDoesNotExist("Task does not exist anymore".into())
}

/// Where an execution's redrive tokens are kept: a step record under a key no state visit has.
const REDRIVES_STEP: &str = "redrives";
/// The mark of a step record a redrive set aside: the step runs again.
const REDRIVEN: &str = "redriven";
/// Step Functions redrives an execution up to 14 days after it stopped.
const REDRIVE_WINDOW_US: i64 = 14 * 24 * 3600 * 1_000_000;
/// A standard execution is open for at most a year, its redrives included.
const MAX_EXECUTION_US: i64 = 365 * 24 * 3600 * 1_000_000;
/// Redrive needs "less than 24,999" events in the history (its quota is 25,000).
const MAX_REDRIVABLE_EVENTS: i64 = 24_999;

/// The client tokens of an execution's last ten redrives: a RedriveExecution retried with one
/// answers its redrive again. (How often and when last an execution was redriven is on its
/// record.)
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct RedriveTokens {
    tokens: Vec<String>,
}

impl RedriveTokens {
    fn of(steps: &[weir_store::StepRecord]) -> RedriveTokens {
        steps
            .iter()
            .find(|s| s.step == REDRIVES_STEP)
            .and_then(|s| serde_json::from_str(&s.record).ok())
            .unwrap_or_default()
    }
}

/// Whether a step record says its state succeeded (so a redrive replays it): it finished
/// without an error, or its task did.
fn succeeded(record: &Value) -> bool {
    let ended = record["done"] == true || record["finished"] == true;
    ended && record.get("error").is_none()
}

/// How an execution ended other than by succeeding.
enum Ended {
    Failed(StatesError),
    Aborted(StatesError),
}

fn conclude(record: &mut ExecutionRecord, outcome: std::result::Result<Value, Ended>) {
    record.stopped_at = Some(now_us());
    match outcome {
        Ok(output) => {
            record.status = "SUCCEEDED".into();
            record.output = Some(output.to_string());
        }
        // An execution past its own TimeoutSeconds is TIMED_OUT with no error and no cause
        // (as recorded on AWS; only its ExecutionTimedOut event names States.Timeout).
        Err(Ended::Failed(error))
            if error.error == asl::errors::names::TIMEOUT
                && error.cause.contains("execution ran longer") =>
        {
            record.status = "TIMED_OUT".into();
        }
        Err(Ended::Failed(error)) => {
            record.status = "FAILED".into();
            record.error = Some(error.error).filter(|e| !e.is_empty());
            record.cause = Some(error.cause).filter(|c| !c.is_empty());
        }
        Err(Ended::Aborted(reason)) => {
            record.status = "ABORTED".into();
            record.error = Some(reason.error).filter(|e| !e.is_empty());
            record.cause = Some(reason.cause).filter(|c| !c.is_empty());
        }
    }
}

/// The record of a new execution of `machine`: its name checked (a UUID when none is given),
/// its input checked, its definition fixed (checked when the interpreter reads it).
fn new_record(
    machine: &MachineRecord,
    new: NewExecution,
    express: bool,
) -> Result<ExecutionRecord> {
    let name = match new.name {
        Some(name) => {
            check_name(&name)?;
            name
        }
        None => uuid(),
    };
    Ok(ExecutionRecord {
        arn: execution_arn(&machine.arn, &name, express),
        machine_arn: machine.arn.clone(),
        name,
        status: "RUNNING".into(),
        input: input_text(new.input)?,
        output: None,
        error: None,
        cause: None,
        definition: machine.definition.clone(),
        started_at: now_us(),
        stopped_at: None,
        redrive_count: 0,
        redriven_at: None,
    })
}

fn parse(definition: &str) -> Result<asl::StateMachine> {
    asl::parse_definition("definition", definition).map_err(|problems| {
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        MachineError::InvalidDefinition(format!(
            "Invalid State Machine Definition: {}",
            text.join("; ")
        ))
    })
}

fn input_text(input: Option<String>) -> Result<String> {
    let input = input.unwrap_or_else(|| "{}".into());
    if input.len() > MAX_DATA_BYTES {
        return Err(MachineError::Validation(format!(
            "1 validation error detected: Value at 'input' failed to satisfy constraint: \
             Member must have size less than or equal to {MAX_DATA_BYTES} bytes in UTF-8 encoding"
        )));
    }
    // The parser's words quoted, as Step Functions quotes its own (`Invalid State Machine
    // Execution Input: 'com.fasterxml.jackson.core.JsonParseException: Unexpected character …'`).
    serde_json::from_str::<Value>(&input).map_err(|e| {
        MachineError::InvalidExecutionInput(format!("Invalid State Machine Execution Input: '{e}'"))
    })?;
    Ok(input)
}

/// Step Functions' naming rule: 1–80 characters, none of white space, brackets, wildcards,
/// punctuation that ARNs or URLs use, control characters or the noncharacters U+FFFE and
/// U+FFFF. A name of the wrong length is refused by the API's model first, with a
/// ValidationException; what reaches here is answered `Invalid Name: 'NAME'`, as AWS does.
fn check_name(name: &str) -> Result<()> {
    let bad = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || "<>{}[]?*\"#%\\^|~`$&,;:/\u{fffe}\u{ffff}".contains(c)
    };
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(bad) {
        return Err(MachineError::InvalidName(format!("Invalid Name: '{name}'")));
    }
    Ok(())
}

fn check_arn(arn: &str) -> Result<()> {
    if arn.starts_with("arn:") && arn.split(':').count() >= 7 {
        Ok(())
    } else {
        Err(MachineError::InvalidArn(format!("Invalid Arn: '{arn}'")))
    }
}

fn execution_arn(machine_arn: &str, name: &str, express: bool) -> String {
    let base = machine_arn.replacen(
        ":stateMachine:",
        if express { ":express:" } else { ":execution:" },
        1,
    );
    if express {
        format!("{base}:{name}:{}", uuid())
    } else {
        format!("{base}:{name}")
    }
}

fn default_role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/weir")
}

fn uuid() -> String {
    asl::Entropy::new(fastrand::u64(..)).uuid()
}

/// `orders.asl.json` → `orders`.
pub fn machine_file_name(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    [".asl.json", ".asl.yaml", ".asl.yml"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))
        .filter(|name| check_name(name).is_ok())
        .map(str::to_string)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_durability;
#[cfg(test)]
mod tests_fidelity;
#[cfg(test)]
mod tests_processes;
