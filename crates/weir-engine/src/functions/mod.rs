//! Functions, weir's Lambda: `PROJECT/functions/NAME.yaml` names a command that receives a JSON
//! event on stdin and answers JSON on stdout. [`Functions`] holds the definitions in force and
//! invokes them for every caller (the REST and Lambda APIs, the `function` pipeline action, state
//! machines' Task states), enforcing each function's `max_concurrency` across all of them.
//!
//! Definitions are re-read when the engine reloads and, without a reload, whenever the files'
//! sizes or modification times change (checked on each call: a few `stat`s, no watcher needed).
//! Each invocation writes a log, `DATA/logs/functions/NAME/INVOCATION_ID.log`.

pub mod event_sources;
mod invoke;
mod registry;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::Semaphore;
use weir_model::Problem;
use weir_model::config::Config;
use weir_model::function::FunctionSpec;

pub use registry::{Definition, FunctionCatalog, check_references, load_functions};

/// The error names an invocation fails with (Step Functions' and Lambda's where they exist, so
/// `Retry`/`Catch` rules written for AWS match).
pub mod errors {
    /// No function by that name is in force.
    pub const NOT_FOUND: &str = "Lambda.ResourceNotFoundException";
    /// The command exited non-zero without naming an `errorType`, was killed, or could not start.
    pub const FAILED: &str = "Function.Failed";
    /// The invocation ran past the function's `timeout`.
    pub const TIMEOUT: &str = "States.Timeout";
    /// The command exited 0 but its stdout is not JSON.
    pub const INVALID_OUTPUT: &str = "Function.InvalidOutput";
    /// The result is larger than the 6 MiB a synchronous invocation may return.
    pub const TOO_LARGE: &str = "Function.ResponseSizeTooLarge";
}

/// A successful invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub id: String,
    /// The JSON the command printed on stdout (`null` when it printed nothing).
    pub result: Value,
    /// How long the command ran (waiting for a concurrency slot excluded).
    pub duration: Duration,
}

/// A failed invocation: the error name (see [`errors`]) and its cause, which ends with the tail
/// of the command's stderr and its exit status when it ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionError {
    pub error: String,
    pub cause: String,
    /// The invocation (and so its log), when it got as far as starting.
    pub invocation_id: Option<String>,
    /// The error as Lambda reports an unhandled one, as JSON text: `{"errorMessage", "errorType",
    /// "trace"}`, or the error object the function printed itself. Step Functions gives it to a
    /// Task state as its Cause.
    #[serde(skip)]
    pub payload: String,
}

impl FunctionError {
    /// An error found before the function ran: its payload says only what the cause says.
    fn before_running(error: &str, cause: String) -> FunctionError {
        FunctionError {
            payload: serde_json::json!({ "errorMessage": cause, "errorType": error, "trace": [] })
                .to_string(),
            error: error.to_string(),
            cause,
            invocation_id: None,
        }
    }
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for FunctionError {}

/// A function in force, as listed to users.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionInfo {
    pub name: String,
    pub arn: String,
    pub file: String,
    pub description: Option<String>,
    pub command: Vec<String>,
    /// Names of the variables the definition sets (values are left out: they may be secrets).
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    /// As definitions write it (`1m30s`).
    pub timeout: String,
    pub timeout_seconds: f64,
    pub max_concurrency: Option<u32>,
}

/// The functions of a project and their invocations.
pub struct Functions {
    project_dir: PathBuf,
    data_dir: PathBuf,
    /// `WEIR_INSTANCE` of every process an invocation starts (as for tasks).
    instance: String,
    kill_grace: Duration,
    region: String,
    account_id: String,
    /// For `{{ secrets.NAME }}` in a function's `env`, and masking its log.
    secrets: Arc<crate::secrets::Secrets>,
    state: Mutex<State>,
}

struct State {
    signature: registry::Signature,
    catalog: FunctionCatalog,
    /// Per function with a `max_concurrency`: the limit and its slots, kept across reloads while
    /// the limit stays the same.
    limits: HashMap<String, (u32, Arc<Semaphore>)>,
}

impl Functions {
    /// Loads `PROJECT/functions`; invocation logs go under `data_dir`.
    pub fn new(
        project_dir: &Path,
        data_dir: &Path,
        config: &Config,
        secrets: Arc<crate::secrets::Secrets>,
    ) -> Functions {
        let kill_grace = weir_model::duration::parse_duration(&config.executor.kill_grace)
            .unwrap_or(Duration::from_secs(5));
        let functions = Functions {
            project_dir: project_dir.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            instance: crate::actions::instance_marker(data_dir),
            kill_grace,
            region: config.aws.region.clone(),
            account_id: config.aws.account_id.clone(),
            secrets,
            state: Mutex::new(State {
                signature: Vec::new(),
                catalog: FunctionCatalog::default(),
                limits: HashMap::new(),
            }),
        };
        functions.reload();
        functions
    }

    /// Re-reads the definitions now; returns the problems of the files not in force.
    pub fn reload(&self) -> Vec<Problem> {
        let mut state = self.lock();
        self.refresh(&mut state, true);
        state.catalog.problems.clone()
    }

    /// The functions in force (by name) and the problems of the definitions that are not.
    pub fn list(&self) -> (Vec<FunctionInfo>, Vec<Problem>) {
        let state = self.current();
        let infos = state
            .catalog
            .functions
            .values()
            .map(|d| self.info(d))
            .collect();
        (infos, state.catalog.problems.clone())
    }

    /// One function in force.
    pub fn get(&self, name: &str) -> Option<FunctionInfo> {
        let state = self.current();
        state.catalog.functions.get(name).map(|d| self.info(d))
    }

    /// The event sources each function in force defines (`event_sources:`), with its file.
    pub fn event_sources(
        &self,
    ) -> Vec<(
        String,
        String,
        Vec<weir_model::event_source::EventSourceConfig>,
    )> {
        let state = self.current();
        state
            .catalog
            .functions
            .values()
            .filter(|d| !d.spec.event_sources.is_empty())
            .map(|d| {
                (
                    d.spec.name.clone(),
                    d.file.clone(),
                    d.spec.event_sources.clone(),
                )
            })
            .collect()
    }

    /// The ARN AWS clients know the function by.
    pub fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.region, self.account_id
        )
    }

    /// Invokes `name` with `payload` and waits for its result. Waits first for a slot when the
    /// function's `max_concurrency` is reached. Dropping the returned future stops the
    /// invocation's processes.
    pub async fn invoke(&self, name: &str, payload: &Value) -> Result<Invocation, FunctionError> {
        let (definition, limit) = self.lookup(name)?;
        let _permit = match limit {
            Some(slots) => Some(slots.acquire_owned().await.map_err(|_| {
                FunctionError::before_running(
                    errors::FAILED,
                    "the function's concurrency limit was closed".into(),
                )
            })?),
            None => None,
        };
        let id = invocation_id();
        let job = invoke::Job {
            spec: &definition.spec,
            project_dir: &self.project_dir,
            instance: &self.instance,
            kill_grace: self.kill_grace,
            id: &id,
            log_path: self.log_path(name, &id),
            secrets: &self.secrets,
        };
        metrics::counter!("weir_function_invocations_total", "function" => name.to_string())
            .increment(1);
        match invoke::run(job, payload).await {
            Ok((result, duration)) => Ok(Invocation {
                id,
                result,
                duration,
            }),
            Err(failed) => {
                metrics::counter!("weir_function_errors_total", "function" => name.to_string())
                    .increment(1);
                Err(FunctionError {
                    error: failed.error,
                    cause: failed.cause,
                    invocation_id: Some(id),
                    payload: failed.payload.to_string(),
                })
            }
        }
    }

    /// Where the log of invocation `id` of `name` is (it may not exist).
    pub fn log_path(&self, name: &str, id: &str) -> PathBuf {
        self.data_dir.join(crate::logs::invocation_log(name, id))
    }

    /// Ids of the most recent invocations of `name` that have a log, newest first.
    pub fn invocation_ids(&self, name: &str, limit: usize) -> Vec<String> {
        let dir = self.data_dir.join(crate::logs::invocations_dir(name));
        let mut ids: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| {
                        e.file_name()
                            .to_str()
                            .and_then(|n| n.strip_suffix(".log"))
                            .map(String::from)
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Ids start with their UTC start time, so their order is the invocations' order.
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids.truncate(limit);
        ids
    }

    fn lookup(
        &self,
        name: &str,
    ) -> Result<(Arc<Definition>, Option<Arc<Semaphore>>), FunctionError> {
        let state = self.current();
        match state.catalog.functions.get(name) {
            Some(definition) => Ok((
                definition.clone(),
                state.limits.get(name).map(|(_, slots)| slots.clone()),
            )),
            None => {
                let file_problems: Vec<String> = state
                    .catalog
                    .problems
                    .iter()
                    .filter(|p| {
                        Path::new(&p.file).file_stem().and_then(|s| s.to_str()) == Some(name)
                    })
                    .map(ToString::to_string)
                    .collect();
                let cause = if file_problems.is_empty() {
                    format!("no function `{name}`: define it in functions/{name}.yaml")
                } else {
                    format!(
                        "function `{name}` is not in force, its definition has problems:\n{}",
                        file_problems.join("\n")
                    )
                };
                Err(FunctionError::before_running(errors::NOT_FOUND, cause))
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data (every update is one assignment).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state, re-read first if the files changed.
    fn current(&self) -> std::sync::MutexGuard<'_, State> {
        let mut state = self.lock();
        self.refresh(&mut state, false);
        state
    }

    fn refresh(&self, state: &mut State, force: bool) {
        let signature = registry::signature(&self.project_dir);
        if !force && signature == state.signature {
            return;
        }
        let catalog = load_functions(&self.project_dir, Some(&state.catalog));
        for problem in &catalog.problems {
            if !state.catalog.problems.contains(problem) {
                tracing::warn!("{problem}");
            }
        }
        let mut limits = HashMap::new();
        for (name, definition) in &catalog.functions {
            if let Some(max) = definition.spec.max_concurrency {
                let slots = match state.limits.get(name) {
                    Some((old, slots)) if *old == max => slots.clone(),
                    _ => Arc::new(Semaphore::new(max as usize)),
                };
                limits.insert(name.clone(), (max, slots));
            }
        }
        *state = State {
            signature,
            catalog,
            limits,
        };
    }

    fn info(&self, definition: &Definition) -> FunctionInfo {
        let spec: &FunctionSpec = &definition.spec;
        FunctionInfo {
            name: spec.name.clone(),
            arn: self.arn(&spec.name),
            file: definition.file.clone(),
            description: spec.description.clone(),
            command: spec.command.clone(),
            env: spec.env.keys().cloned().collect(),
            working_dir: spec.working_dir.clone(),
            timeout: weir_model::duration::format_duration(spec.timeout),
            timeout_seconds: spec.timeout.as_secs_f64(),
            max_concurrency: spec.max_concurrency,
        }
    }
}

/// A new invocation id: its UTC start time (so ids sort by time) and a random suffix.
fn invocation_id() -> String {
    format!(
        "{}-{:08x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%6fZ"),
        fastrand::u32(..)
    )
}

#[cfg(test)]
mod tests;
