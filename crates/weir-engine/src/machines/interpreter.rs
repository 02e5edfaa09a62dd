//! The States Language interpreter: runs one execution's states, in memory, writing its history
//! and step records through a [`Journal`].
//!
//! Resuming after a crash is replay. Every state visit has a *step key* that depends only on
//! where it happens (the branch or iteration path and the visit's sequence number there), so a
//! resumed run visits the same keys in the same order. A visit whose record says it finished is
//! not run again: its recorded output, next state and variable assignments are taken as they
//! were. A visit that was waiting (a Wait's end, a retry's time, a task token) resumes the wait.
//! Tasks start only once their "scheduled" record is durable, and their completion is made
//! durable before the execution moves on, so a finished task never runs twice.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt;
use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use weir_model::asl::errors::names;
use weir_model::asl::items::MapItem;
use weir_model::asl::{
    self, Dynamic, Entropy, Env, QueryLanguage, State, StateKind, StateMachine, StatesError,
    Template, Transition,
};

use super::history::{Journal, not_truncated};
use super::resources::{self, Pattern, Target};
use crate::time::{from_us, now_us};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the interpreter asks of the rest of weir.
#[async_trait::async_trait]
pub(crate) trait Services: Send + Sync {
    /// Runs a task resource with its input and answers its result (for `.sync`, once the job
    /// has finished). A `.waitForTaskToken` call's token travels in its input
    /// (`$$.Task.Token`), so the resource hands it on; its answer is then ignored.
    async fn call(
        &self,
        run: &Run,
        target: &Target,
        pattern: Pattern,
        input: Value,
    ) -> Result<Value, StatesError>;

    /// Starts taking answers for `token` before the resource that will answer is called, so
    /// that an answer sent at once is kept for [`Services::await_token`] rather than refused.
    fn open_token(&self, token: &str);

    /// Stops taking answers for a token no one will wait for (its resource call failed).
    fn close_token(&self, token: &str);

    /// Waits for SendTaskSuccess / SendTaskFailure on `token`; fails with
    /// `States.HeartbeatTimeout` when no heartbeat came within `heartbeat`.
    async fn await_token(
        &self,
        token: &str,
        heartbeat: Option<Duration>,
    ) -> Result<Value, StatesError>;

    /// The items an `ItemReader` names.
    async fn read_items(&self, reader: &Value, input: &Value) -> Result<Vec<Value>, StatesError>;
}

/// One execution as the interpreter sees it.
pub(crate) struct Run {
    pub arn: String,
    pub name: String,
    pub machine_arn: String,
    pub machine_name: String,
    pub role_arn: String,
    pub definition: Arc<StateMachine>,
    pub input: Value,
    /// The input as the caller wrote it: the first state's input is shown so (in its entered
    /// event and in error causes), as Step Functions does.
    pub input_text: String,
    /// Whether the definition reads the context object at all (`$$`, `$states.context`); when
    /// it does not, none is built.
    pub uses_context: bool,
    /// Whether the definition reads `$$.Execution.Input` (or the whole context object): copying
    /// a large input into every state's context costs more than any state does.
    pub input_in_context: bool,
    pub started_at: i64,
    /// How often the execution was redriven (`$$.Execution.RedriveCount`) and when last
    /// (`$$.Execution.RedriveTime`, and where its TimeoutSeconds count from).
    pub redrive_count: u64,
    pub redriven_at: Option<i64>,
    pub journal: Journal,
    /// Step records found in the store when the execution resumed.
    pub replay: HashMap<String, Value>,
    /// Every branch or iteration path that has records in `replay` (`3/i5` for `3/i5/0`): the
    /// scopes that had started before the crash.
    pub replayed_scopes: HashSet<String>,
    pub services: Arc<dyn Services>,
}

/// A finished state visit.
struct Visit {
    next: Option<String>,
    output: Value,
    assigned: Map<String, Value>,
}

/// The state being run, for the prefix Step Functions puts on the cause of an error the state
/// itself raised: `An error occurred while executing the state 'X' (entered at the event id
/// #2). …`.
#[derive(Clone, Copy)]
struct Here<'a> {
    state: &'a str,
    /// The id of the state's `…StateEntered` event.
    event: i64,
    /// When the state was entered (`$$.State.EnteredTime`), in microseconds.
    at: i64,
    /// The execution's input and its text, for the first state: while its input is that
    /// value, causes quote the text.
    input: Option<(&'a str, &'a Value)>,
}

impl Here<'_> {
    /// `error` as the state reports it: a runtime or query error the state's own fields
    /// raised gets the prefix; the errors a task answered with, a Fail state's and those of
    /// the states inside a branch or iteration (which carry their own) do not come here.
    fn locate(self, error: StatesError) -> StatesError {
        let prefixed = [
            names::RUNTIME,
            names::QUERY_EVALUATION_ERROR,
            names::ITEM_READER_FAILED,
        ];
        if !prefixed.contains(&error.error.as_str()) {
            return error;
        }
        StatesError::new(
            error.error,
            format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                self.state, self.event, error.cause
            ),
        )
    }
}

/// Where a scope's states are and what they see.
struct Scope<'a> {
    /// Prefix of step keys: "" at the top, "3/b1/" in branch 1 of the Parallel at step 3.
    prefix: String,
    states: &'a IndexMap<String, State>,
    start_at: &'a str,
    /// `$$.Map.Item` inside a Map iteration.
    map_item: Option<Value>,
    /// Set when a state of the scope runs (rather than being replayed from its record).
    fresh: Option<&'a AtomicBool>,
}

impl Run {
    /// Runs the whole execution; its output or the error that ended it.
    pub async fn execute(self: &Arc<Self>) -> Result<Value, StatesError> {
        let definition = Arc::clone(&self.definition);
        let scope = Scope {
            prefix: String::new(),
            states: &definition.states,
            start_at: &definition.start_at,
            map_item: None,
            fresh: None,
        };
        let run = self.run_scope(scope, self.input.clone(), Map::new());
        match definition.timeout_seconds {
            Some(seconds) => {
                let from = self.redriven_at.unwrap_or(self.started_at);
                let deadline = from + (seconds as i64).saturating_mul(1_000_000);
                let left = Duration::from_micros((deadline - now_us()).max(0) as u64);
                match tokio::time::timeout(left, run).await {
                    Ok(result) => result,
                    Err(_) => Err(StatesError::new(
                        names::TIMEOUT,
                        format!("The execution ran longer than its TimeoutSeconds ({seconds} s)"),
                    )),
                }
            }
            None => run.await,
        }
    }

    fn context(&self, state: &str, entered: i64, retry: u64, scope: &Scope<'_>) -> Value {
        if !self.uses_context {
            return Value::Null;
        }
        let mut context = json!({
            "Execution": {
                "Id": self.arn,
                "Name": self.name,
                "Input": if self.input_in_context { self.input.clone() } else { Value::Null },
                "StartTime": iso(self.started_at),
                "RoleArn": self.role_arn,
                "RedriveCount": self.redrive_count,
            },
            "StateMachine": {"Id": self.machine_arn, "Name": self.machine_name},
            "State": {"Name": state, "EnteredTime": iso(entered), "RetryCount": retry},
        });
        if let Some(at) = self.redriven_at {
            context["Execution"]["RedriveTime"] = json!(iso(at));
        }
        if let Some(item) = &scope.map_item {
            context["Map"] = json!({ "Item": item });
        }
        context
    }

    fn run_scope<'a>(
        self: &'a Arc<Self>,
        scope: Scope<'a>,
        input: Value,
        mut variables: Map<String, Value>,
    ) -> BoxFuture<'a, Result<Value, StatesError>> {
        Box::pin(async move {
            let mut name = scope.start_at.to_string();
            let mut input = input;
            for seq in 0u64.. {
                let step = format!("{}{seq}", scope.prefix);
                let Some(state) = scope.states.get(&name) else {
                    return Err(StatesError::runtime(format!("no state named {name}")));
                };
                let recorded = self.replay.get(&step);
                let visit = match recorded.filter(|r| r["done"] == true) {
                    Some(done) => replayed(done)?,
                    None => {
                        if let Some(fresh) = scope.fresh {
                            fresh.store(true, Ordering::Relaxed);
                        }
                        let resumed = recorded.is_some();
                        let visit = self
                            .visit(&scope, state, &step, input, &variables, resumed)
                            .await;
                        match visit {
                            Ok(visit) => visit,
                            Err(error) => {
                                self.journal.step(
                                    &step,
                                    &state.name,
                                    json!({"done": true, "error": error.error, "cause": error.cause}),
                                );
                                return Err(error);
                            }
                        }
                    }
                };
                for (k, v) in &visit.assigned {
                    variables.insert(k.clone(), v.clone());
                }
                match visit.next {
                    Some(next) => {
                        name = next;
                        input = visit.output;
                    }
                    None => return Ok(visit.output),
                }
            }
            Err(StatesError::runtime("a scope ran out of step numbers"))
        })
    }

    /// Runs one state and records how it ended.
    async fn visit(
        self: &Arc<Self>,
        scope: &Scope<'_>,
        state: &State,
        step: &str,
        raw: Value,
        variables: &Map<String, Value>,
        resumed: bool,
    ) -> Result<Visit, StatesError> {
        // A Map of pure states would otherwise run all its iterations in one poll: the group
        // committer, woken on this worker, could not start writing until the Map is over, and
        // other executions would wait as long. Spending Tokio's budget lets both in.
        tokio::task::consume_budget().await;
        let kind = state.kind.type_name();
        let recorded = self.replay.get(step);
        // The execution's first state: its input is shown as the caller wrote it.
        let first = (step == "0").then_some((self.input_text.as_str(), &self.input));
        // A resumed state was entered before the crash: its records say when and by which
        // event.
        let here = match recorded {
            Some(record) if resumed => Here {
                state: &state.name,
                event: record["entered_id"].as_i64().unwrap_or_default(),
                at: record["entered_at"].as_i64().unwrap_or_else(now_us),
                input: first,
            },
            _ => Here {
                state: &state.name,
                event: self.journal.event(
                    &format!("{kind}StateEntered"),
                    "stateEnteredEventDetails",
                    json!({"name": state.name, "input": match first {
                        Some((text, input)) if *input == raw => text.to_string(),
                        _ => raw.to_string(),
                    }, "inputDetails": not_truncated()}),
                ),
                at: now_us(),
                input: first,
            },
        };
        let outcome = match &state.kind {
            StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_) => {
                self.with_retry_and_catch(scope, state, step, &raw, variables, here)
                    .await
            }
            StateKind::Wait(wait) => {
                let context = self.context(&state.name, here.at, 0, scope);
                self.wait_state(wait, state, step, &raw, variables, &context, here)
                    .await
            }
            _ => {
                let context = self.context(&state.name, here.at, 0, scope);
                self.simple(state, &raw, variables, &context, here)
            }
        };
        // A Fail state ends in an error, so it never gets here.
        let visit = outcome?;
        self.journal.event(
            &format!("{kind}StateExited"),
            "stateExitedEventDetails",
            json!({"name": state.name, "output": visit.output.to_string(), "outputDetails": not_truncated()}),
        );
        self.journal.step(
            step,
            &state.name,
            json!({"done": true, "next": visit.next, "output": visit.output, "assigned": visit.assigned}),
        );
        Ok(visit)
    }

    /// Wait: until a time, durably (a resumed Wait keeps its end).
    #[allow(clippy::too_many_arguments)]
    async fn wait_state(
        &self,
        wait: &asl::Wait,
        state: &State,
        step: &str,
        raw: &Value,
        variables: &Map<String, Value>,
        context: &Value,
        here: Here<'_>,
    ) -> Result<Visit, StatesError> {
        let (effective, until) = with_env(here, raw, context, variables, |env| {
            let effective = effective_input(state, raw, env)?;
            if let Some(until) = self.replay.get(step).and_then(|r| r["until"].as_i64()) {
                return Ok((effective, until));
            }
            let env = env.with_input(&effective);
            let until = match wait {
                asl::Wait::Seconds(seconds) => now_us().saturating_add(
                    (resolve_u64(seconds, &env, &field_name(state, "Seconds"))? as i64)
                        .saturating_mul(1_000_000),
                ),
                asl::Wait::Timestamp(stamp) => wait_until(stamp, &env, state)?,
            };
            self.record(step, here, json!({"until": until}));
            Ok::<_, StatesError>((effective, until))
        })?;
        self.journal.flush();
        sleep_until(until).await;
        with_env(here, raw, context, variables, |env| {
            finish_without_result(state, raw, &effective, env)
        })
    }

    /// Records what a state not yet finished needs on resuming, with the event that entered it.
    fn record(&self, step: &str, here: Here<'_>, mut record: Value) {
        record["entered_id"] = json!(here.event);
        record["entered_at"] = json!(here.at);
        self.journal.step(step, here.state, record);
    }

    /// Pass, Choice, Succeed and Fail: no waiting.
    fn simple(
        &self,
        state: &State,
        raw: &Value,
        variables: &Map<String, Value>,
        context: &Value,
        here: Here<'_>,
    ) -> Result<Visit, StatesError> {
        if let StateKind::Fail(fail) = &state.kind {
            // The error a Fail state raises is its own to name (none when it names none);
            // only a failure to work out its Error or Cause is reported as the state's.
            let (error, cause) = with_env(here, raw, context, variables, |env| {
                let error = match &fail.error {
                    Some(d) => resolve_string(d, env, &field_name(state, "Error"))?,
                    None => String::new(),
                };
                let cause = match &fail.cause {
                    Some(d) => resolve_string(d, env, &field_name(state, "Cause"))?,
                    None => String::new(),
                };
                Ok((error, cause))
            })?;
            // No exit event: Step Functions has no `FailStateExited` (SDKs would not know
            // the type); the execution's failure follows the state's entry.
            return Err(StatesError::new(error, cause));
        }
        with_env(here, raw, context, variables, |env| {
            self.simple_in(state, raw, env)
        })
    }

    fn simple_in(&self, state: &State, raw: &Value, env: &Env<'_>) -> Result<Visit, StatesError> {
        let env = *env;
        let jsonata = state.query_language == QueryLanguage::Jsonata;
        match &state.kind {
            StateKind::Pass(pass) => {
                let result = if jsonata {
                    raw.clone()
                } else {
                    let effective = asl::io::apply_input_path(state.input_path.as_ref(), &env)?;
                    match &pass.result {
                        Some(result) => result.clone(),
                        None => asl::io::apply_parameters(
                            state.parameters.as_ref(),
                            &env.with_input(&effective),
                        )?,
                    }
                };
                finish(state, raw, Some(result), &env)
            }
            StateKind::Choice(choice) => {
                let effective = effective_input(state, raw, &env)?;
                let chosen = asl::choose(choice, &env.with_input(&effective))?;
                let next = chosen.next().to_string();
                let (rule_assign, rule_output, rule_at) = match chosen {
                    asl::Chosen::Rule(rule) => (
                        rule.assign.as_ref(),
                        rule.output.as_ref(),
                        choice
                            .choices
                            .iter()
                            .position(|r| std::ptr::eq(r, rule))
                            .unwrap_or_default(),
                    ),
                    asl::Chosen::Default(_) => (None, None, 0),
                };
                let output = if jsonata {
                    match rule_output {
                        Some(t) => asl::io::jsonata_output(
                            Some(t),
                            &env,
                            &format!("Choices[{rule_at}]/Output"),
                        )?,
                        None => asl::io::jsonata_output(state.output.as_ref(), &env, "Output")?,
                    }
                } else {
                    asl::io::apply_output_path(state.output_path.as_ref(), &effective, &env)?
                };
                let mut assigned = Map::new();
                if let Some(template) = &state.assign {
                    assigned.extend(asl::io::assign(template, &env, "Assign")?);
                }
                if let Some(template) = rule_assign {
                    let field = format!("Choices[{rule_at}]/Assign");
                    assigned.extend(asl::io::assign(template, &env, &field)?);
                }
                Ok(Visit {
                    next: Some(next),
                    output,
                    assigned,
                })
            }
            StateKind::Succeed => {
                let effective = effective_input(state, raw, &env)?;
                let mut visit = finish_without_result(state, raw, &effective, &env)?;
                visit.next = None;
                Ok(visit)
            }
            _ => Err(StatesError::runtime("not a simple state")),
        }
    }

    /// Task, Parallel and Map: their work, retried and caught as the state says.
    async fn with_retry_and_catch(
        self: &Arc<Self>,
        scope: &Scope<'_>,
        state: &State,
        step: &str,
        raw: &Value,
        variables: &Map<String, Value>,
        here: Here<'_>,
    ) -> Result<Visit, StatesError> {
        let recorded = self.replay.get(step);
        let mut counts: Vec<u64> = recorded
            .and_then(|r| serde_json::from_value(r["retries"].clone()).ok())
            .unwrap_or_else(|| vec![0; state.retry.len()]);
        counts.resize(state.retry.len(), 0);
        if let Some(at) = recorded.and_then(|r| r["retry_at"].as_i64()) {
            self.journal.flush();
            sleep_until(at).await;
        }
        let mut resumed_token = recorded
            .and_then(|r| r["token"].as_str())
            .map(str::to_string);
        // A task that finished before the crash: its result, not a second run.
        let mut finished =
            recorded
                .filter(|r| r["finished"] == true)
                .map(|r| match r["error"].as_str() {
                    Some(error) => Err(StatesError::new(
                        error,
                        r["cause"].as_str().unwrap_or_default(),
                    )),
                    None => Ok(r["result"].clone()),
                });
        loop {
            let retry_count: u64 = counts.iter().sum();
            let context = self.context(&state.name, here.at, retry_count, scope);
            let attempt = self
                .attempt(
                    state,
                    step,
                    raw,
                    variables,
                    &context,
                    here,
                    Prior {
                        token: resumed_token.take(),
                        finished: finished.take(),
                        retries: &counts,
                    },
                )
                .await;
            let error = match attempt {
                Ok(visit) => return Ok(visit),
                Err(error) => error,
            };
            // Matched under the name it was raised with, reported under AWS's.
            let caught_as = error.error.clone();
            if let Some((i, retrier)) = state.retrier_for(&error.error)
                && counts[i] < retrier.max_attempts
            {
                let delay = retrier.delay(counts[i] as u32, fastrand::f64());
                counts[i] += 1;
                let at = now_us().saturating_add(delay.as_micros() as i64);
                self.record(step, here, json!({"retries": counts, "retry_at": at}));
                self.journal.flush();
                sleep_until(at).await;
                continue;
            }
            let error = StatesError {
                error: asl::errors::reported(&error.error).to_string(),
                ..error
            };
            let Some(catcher) = state.catcher_for(&caught_as) else {
                return Err(error);
            };
            let error_output = error.to_json();
            let caught = with_env(here, raw, &context, variables, |env| {
                let mut env = *env;
                env.error_output = Some(&error_output);
                catch(state, catcher, raw, &error_output, &env)
            })?;
            return Ok(caught);
        }
    }
}

/// The visit a Catcher makes of an error.
fn catch(
    state: &State,
    catcher: &asl::Catcher,
    raw: &Value,
    error_output: &Value,
    env: &Env<'_>,
) -> Result<Visit, StatesError> {
    let at = state
        .catch
        .iter()
        .position(|c| std::ptr::eq(c, catcher))
        .unwrap_or_default();
    let (output, assigned) = if state.query_language == QueryLanguage::Jsonata {
        let output = match &catcher.output {
            Some(t) => t.evaluate_field(env, &format!("Catch[{at}]/Output"))?,
            None => error_output.clone(),
        };
        let assigned = match &catcher.assign {
            Some(t) => asl::io::assign(t, env, &format!("Catch[{at}]/Assign"))?,
            None => Map::new(),
        };
        (output, assigned)
    } else {
        let output =
            asl::io::apply_result_path(catcher.result_path.as_ref(), raw, error_output.clone())?;
        let assigned = match &catcher.assign {
            Some(t) => asl::io::assign(t, &env.with_input(error_output), "Assign")?,
            None => Map::new(),
        };
        (output, assigned)
    };
    Ok(Visit {
        next: Some(catcher.next.clone()),
        output,
        assigned,
    })
}

impl Run {
    /// The answer SendTaskSuccess or SendTaskFailure gave `token` of `step` before a crash.
    fn recorded_answer(&self, step: &str, token: &str) -> Option<Result<Value, StatesError>> {
        let record = self.replay.get(&answer_step(step))?;
        if record["token"].as_str() != Some(token) {
            return None; // the answer to an earlier attempt's token
        }
        Some(match record["error"].as_str() {
            Some(error) => Err(StatesError::new(
                error,
                record["cause"].as_str().unwrap_or_default(),
            )),
            None => Ok(record["output"].clone()),
        })
    }

    /// One attempt of a Task, Parallel or Map.
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        self: &Arc<Self>,
        state: &State,
        step: &str,
        raw: &Value,
        variables: &Map<String, Value>,
        context: &Value,
        here: Here<'_>,
        prior: Prior<'_>,
    ) -> Result<Visit, StatesError> {
        let resumed_token = prior.token.clone();
        match &state.kind {
            StateKind::Task(task) => {
                let asl::Resource::Uri(resource) = &task.resource else {
                    return Err(StatesError::runtime(
                        "the Task's Resource is a template placeholder; substitute it first",
                    ));
                };
                let (target, pattern) = resources::parse(resource)?;
                let token = match (&resumed_token, pattern) {
                    (Some(token), _) => Some(token.clone()),
                    (None, Pattern::WaitForTaskToken) => Some(task_token(&self.arn, step)?),
                    _ => None,
                };
                let mut context = context.clone();
                if let Some(token) = &token {
                    context["Task"] = json!({ "Token": token });
                }
                let (input, timeout, heartbeat) =
                    with_env(here, raw, &context, variables, |env| {
                        let input = task_input(state, raw, env)?;
                        let seconds = |d: &Option<Dynamic<u64>>, field| match d {
                            Some(d) => resolve_u64(d, env, &field_name(state, field)).map(Some),
                            None => Ok(None),
                        };
                        let timeout = seconds(&task.timeout_seconds, "TimeoutSeconds")?;
                        let heartbeat = seconds(&task.heartbeat_seconds, "HeartbeatSeconds")?;
                        Ok::<_, StatesError>((input, timeout, heartbeat))
                    })?;
                let result = match prior.finished {
                    Some(result) => result?,
                    None => {
                        self.run_task(
                            step,
                            resource,
                            &target,
                            pattern,
                            input,
                            token,
                            resumed_token.is_some(),
                            timeout,
                            heartbeat,
                            prior.retries,
                            here,
                        )
                        .await?
                    }
                };
                with_env(here, raw, &context, variables, |env| {
                    finish(state, raw, Some(result), env)
                })
            }
            StateKind::Parallel(parallel) => {
                let input = with_env(here, raw, context, variables, |env| {
                    task_input(state, raw, env)
                })?;
                if !self.replayed_scopes.contains(step) {
                    self.journal.event("ParallelStateStarted", "", Value::Null);
                }
                let branches = parallel.branches.iter().enumerate().map(|(i, branch)| {
                    let scope = Scope {
                        prefix: format!("{step}/b{i}/"),
                        states: &branch.states,
                        start_at: &branch.start_at,
                        map_item: None,
                        fresh: None,
                    };
                    self.run_scope(scope, input.clone(), variables.clone())
                });
                match futures::future::try_join_all(branches).await {
                    Ok(results) => {
                        self.journal
                            .event("ParallelStateSucceeded", "", Value::Null);
                        with_env(here, raw, context, variables, |env| {
                            finish(state, raw, Some(Value::Array(results)), env)
                        })
                    }
                    Err(error) => {
                        self.journal.event("ParallelStateFailed", "", Value::Null);
                        Err(error)
                    }
                }
            }
            StateKind::Map(map) => {
                let effective = with_env(here, raw, context, variables, |env| {
                    effective_input(state, raw, env)
                })?;
                let items = self
                    .map_items(state, map, &effective, context, variables, here)
                    .await?;
                let results = self
                    .run_map(
                        state, map, step, &items, &effective, variables, context, here,
                    )
                    .await?;
                with_env(here, raw, context, variables, |env| {
                    finish(state, raw, Some(Value::Array(results)), env)
                })
            }
            _ => Err(StatesError::runtime("not a task-like state")),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_task(
        &self,
        step: &str,
        resource: &str,
        target: &Target,
        pattern: Pattern,
        input: Value,
        token: Option<String>,
        resumed: bool,
        timeout: Option<u64>,
        heartbeat: Option<u64>,
        retries: &[u64],
        here: Here<'_>,
    ) -> Result<Value, StatesError> {
        let (resource_type, resource_name) = resources::event_names(resource);
        let lambda = matches!(target, Target::Function(_));
        let scheduled =
            |kind: &str| format!("{}{kind}", if lambda { "LambdaFunction" } else { "Task" });
        if !resumed {
            let details = if lambda {
                json!({"resource": resource, "input": input.to_string(), "inputDetails": not_truncated(), "timeoutInSeconds": timeout})
            } else {
                json!({"resourceType": resource_type, "resource": resource_name, "region": region_of(&self.arn), "parameters": input.to_string(), "timeoutInSeconds": timeout, "heartbeatInSeconds": heartbeat})
            };
            let key = if lambda {
                "lambdaFunctionScheduledEventDetails"
            } else {
                "taskScheduledEventDetails"
            };
            self.journal.event(&scheduled("Scheduled"), key, details);
            self.record(step, here, json!({"scheduled": true, "token": token}));
            // Nothing outside weir is touched before the schedule is durable.
            self.journal.sync().await.map_err(StatesError::runtime)?;
            let started = if lambda {
                json!({})
            } else {
                json!({"resourceType": resource_type, "resource": resource_name})
            };
            self.journal.event(
                &scheduled("Started"),
                if lambda {
                    ""
                } else {
                    "taskStartedEventDetails"
                },
                started,
            );
        }
        let services = Arc::clone(&self.services);
        let work = async {
            if pattern == Pattern::WaitForTaskToken {
                let token = token.clone().unwrap_or_default();
                if !resumed {
                    services.open_token(&token);
                    if let Err(error) = services.call(self, target, pattern, input.clone()).await {
                        services.close_token(&token);
                        return Err(error);
                    }
                    self.journal.event(
                        "TaskSubmitted",
                        "taskSubmittedEventDetails",
                        json!({"resourceType": resource_type, "resource": resource_name}),
                    );
                }
                // Answered before a crash: the answer was made durable before it was
                // acknowledged, so it is not waited for again.
                if let Some(answer) = self.recorded_answer(step, &token) {
                    return answer;
                }
                services
                    .await_token(&token, heartbeat.map(Duration::from_secs))
                    .await
            } else {
                services.call(self, target, pattern, input.clone()).await
            }
        };
        let result = match timeout {
            Some(seconds) => match tokio::time::timeout(Duration::from_secs(seconds), work).await {
                Ok(result) => result,
                // Step Functions gives a timed-out task no cause: its TaskTimedOut event and
                // the execution's failure carry the error alone.
                Err(_) => Err(StatesError::new(names::TIMEOUT, "")),
            },
            None => work.await,
        };
        match &result {
            Ok(output) => {
                let (kind, key, details) = if lambda {
                    (
                        "LambdaFunctionSucceeded",
                        "lambdaFunctionSucceededEventDetails",
                        json!({"output": output.to_string(), "outputDetails": not_truncated()}),
                    )
                } else {
                    (
                        "TaskSucceeded",
                        "taskSucceededEventDetails",
                        json!({"resourceType": resource_type, "resource": resource_name, "output": output.to_string(), "outputDetails": not_truncated()}),
                    )
                };
                self.journal.event(kind, key, details);
            }
            Err(error) => {
                let timed_out =
                    error.error == names::TIMEOUT || error.error == names::HEARTBEAT_TIMEOUT;
                let (kind, key) = match (lambda, timed_out) {
                    (true, true) => (
                        "LambdaFunctionTimedOut",
                        "lambdaFunctionTimedOutEventDetails",
                    ),
                    (true, false) => ("LambdaFunctionFailed", "lambdaFunctionFailedEventDetails"),
                    (false, true) => ("TaskTimedOut", "taskTimedOutEventDetails"),
                    (false, false) => ("TaskFailed", "taskFailedEventDetails"),
                };
                let mut details = json!({"error": asl::errors::reported(&error.error)});
                if !error.cause.is_empty() {
                    details["cause"] = json!(error.cause);
                }
                if !lambda {
                    details["resourceType"] = json!(resource_type);
                    details["resource"] = json!(resource_name);
                }
                self.journal.event(kind, key, details);
            }
        }
        let record = match &result {
            Ok(output) => json!({"finished": true, "result": output, "retries": retries}),
            Err(e) => {
                json!({"finished": true, "error": e.error, "cause": e.cause, "retries": retries})
            }
        };
        self.record(step, here, record);
        // A finished task is recorded before anything else happens, so it never runs twice.
        self.journal.sync().await.map_err(StatesError::runtime)?;
        result
    }

    /// The Map's iterations: what its `ItemReader` reads, or what its `ItemsPath` or `Items`
    /// selects (by default its effective input), an array's elements or an object's members,
    /// in batches when it has an `ItemBatcher`.
    async fn map_items(
        &self,
        state: &State,
        map: &asl::Map,
        effective: &Value,
        context: &Value,
        variables: &Map<String, Value>,
        here: Here<'_>,
    ) -> Result<Vec<MapItem>, StatesError> {
        let items = if let Some(reader) = &map.item_reader {
            self.services
                .read_items(reader, effective)
                .await
                .map_err(|e| here.locate(e))?
                .into_iter()
                .map(MapItem::element)
                .collect()
        } else {
            let value = with_env(here, effective, context, variables, |env| {
                match &map.items {
                    Some(Template::Path(path)) => asl::io::apply_items_path(path, env),
                    Some(Template::Jsonata(expr)) => match expr.evaluate_field(env, "Items")? {
                        array @ Value::Array(_) => Ok(array),
                        other => Err(asl::items::not_an_array(expr.text(), &other)),
                    },
                    Some(t) => t.evaluate_field(env, "Items"),
                    None => Ok(effective.clone()),
                }
            })?;
            // Not confirmed against an execution on AWS: the cause of a value that is neither
            // an array nor an object (the guide: the path "must evaluate to a JSON array or
            // object").
            asl::items::map_items(value).map_err(|other| {
                here.locate(StatesError::runtime(format!(
                    "Map state {} must evaluate to a JSON array or object, not {}",
                    field_name(state, "Items"),
                    json_kind(&other)
                )))
            })?
        };
        let Some(batcher) = &map.item_batcher else {
            return Ok(items);
        };
        let per_batch = batcher["MaxItemsPerBatch"]
            .as_u64()
            .unwrap_or(u64::MAX)
            .max(1) as usize;
        let batch_input = batcher.get("BatchInput").cloned();
        Ok(items
            .chunks(per_batch)
            .map(|chunk| {
                let inputs: Vec<&Value> = chunk.iter().map(|item| &item.input).collect();
                let mut batch = json!({ "Items": inputs });
                if let Some(input) = &batch_input {
                    batch["BatchInput"] = input.clone();
                }
                MapItem::element(batch)
            })
            .collect())
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_map(
        self: &Arc<Self>,
        state: &State,
        map: &asl::Map,
        step: &str,
        items: &[MapItem],
        effective: &Value,
        variables: &Map<String, Value>,
        context: &Value,
        here: Here<'_>,
    ) -> Result<Vec<Value>, StatesError> {
        let (limit, tolerated_count, tolerated_percentage, inputs) =
            with_env(here, effective, context, variables, |env| {
                let limit = match &map.max_concurrency {
                    Some(d) => resolve_u64(d, env, &field_name(state, "MaxConcurrency"))?,
                    None => 0,
                };
                let tolerated_count = match &map.tolerated_failure_count {
                    Some(d) => Some(resolve_u64(
                        d,
                        env,
                        &field_name(state, "ToleratedFailureCount"),
                    )?),
                    None => None,
                };
                let tolerated_percentage = match &map.tolerated_failure_percentage {
                    Some(Dynamic::Fixed(p)) => Some(*p),
                    Some(Dynamic::Computed(t)) => t
                        .evaluate_field(env, &field_name(state, "ToleratedFailurePercentage"))?
                        .as_f64(),
                    None => None,
                };
                let mut inputs = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    let input = match &map.item_selector {
                        Some(t) => {
                            let mut context = context.clone();
                            context["Map"] = json!({"Item": item.context(index)});
                            // `$` is the Map's effective input in both languages.
                            t.evaluate_field(
                                &asl::Env {
                                    context: &context,
                                    ..*env
                                },
                                "ItemSelector",
                            )?
                        }
                        None => item.input.clone(),
                    };
                    inputs.push((index, input, item.context(index)));
                }
                Ok::<_, StatesError>((limit, tolerated_count, tolerated_percentage, inputs))
            })?;
        let tolerant = tolerated_count.is_some() || tolerated_percentage.is_some();
        if !self.replayed_scopes.contains(step) {
            self.journal.event(
                "MapStateStarted",
                "mapStateStartedEventDetails",
                json!({"length": items.len()}),
            );
        }
        let processor = &map.processor;
        let name = state.name.clone();
        let iterations = inputs.into_iter().map(|(index, input, item)| {
            let name = name.clone();
            async move {
                // Iterations that ended before a crash replay from their states' records, and
                // are not reported again; an iteration's events are written once.
                let key = format!("{step}/i{index}");
                let resumed = self.replayed_scopes.contains(&key);
                if !resumed {
                    self.journal.event(
                        "MapIterationStarted",
                        "mapIterationStartedEventDetails",
                        json!({"name": name, "index": index}),
                    );
                }
                let fresh = AtomicBool::new(!resumed);
                let scope = Scope {
                    prefix: format!("{key}/"),
                    states: &processor.states,
                    start_at: &processor.start_at,
                    map_item: Some(item),
                    fresh: Some(&fresh),
                };
                let result = self.run_scope(scope, input, variables.clone()).await;
                if fresh.load(Ordering::Relaxed) || result.is_err() {
                    let (kind, key) = if result.is_ok() {
                        ("MapIterationSucceeded", "mapIterationSucceededEventDetails")
                    } else {
                        ("MapIterationFailed", "mapIterationFailedEventDetails")
                    };
                    self.journal
                        .event(kind, key, json!({"name": name, "index": index}));
                }
                (index, result)
            }
        });
        let width = if limit == 0 { 1_000 } else { limit as usize };
        let mut stream = futures::stream::iter(iterations).buffer_unordered(width);
        let mut results = vec![Value::Null; items.len()];
        let mut failures = 0u64;
        while let Some((index, result)) = stream.next().await {
            match result {
                Ok(output) => results[index] = output,
                Err(error) if tolerant => {
                    failures += 1;
                    results[index] = error.to_json();
                    let over_count = tolerated_count.is_some_and(|n| failures > n);
                    let over_share = tolerated_percentage
                        .is_some_and(|p| failures as f64 * 100.0 / items.len().max(1) as f64 > p);
                    if over_count || over_share {
                        self.map_failed();
                        return Err(StatesError::new(
                            names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                            format!("{failures} of {} iterations failed", items.len()),
                        ));
                    }
                }
                Err(error) => {
                    self.map_failed();
                    return Err(error);
                }
            }
        }
        self.journal.event("MapStateSucceeded", "", Value::Null);
        Ok(results)
    }

    fn map_failed(&self) {
        self.journal.event("MapStateFailed", "", Value::Null);
    }
}

/// The branch and iteration paths under which `steps` has records.
pub(crate) fn scopes_of<'a>(steps: impl Iterator<Item = &'a String>) -> HashSet<String> {
    let mut scopes = HashSet::new();
    for step in steps {
        let mut end = 0;
        while let Some(at) = step[end..].find('/') {
            end += at;
            scopes.insert(step[..end].to_string());
            end += 1;
        }
    }
    scopes
}

/// Whether a definition's text mentions the context object at all (`$$` in JSONPath,
/// `$states.context` in JSONata).
pub(crate) fn context_used(definition: &str) -> bool {
    definition.contains("$$") || definition.contains("$states.context")
}

/// Whether a definition's text reads the execution's input through the context object: a
/// reference to `$$.Execution.Input`, or to the context (or its `Execution`) as a whole, in
/// JSONPath (`$$`) or JSONata (`$states.context`).
pub(crate) fn context_needs_input(definition: &str) -> bool {
    for marker in ["$$", "$states.context"] {
        let mut rest = definition;
        while let Some(at) = rest.find(marker) {
            let after = &rest[at + marker.len()..];
            let path: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '.' || *c == '_')
                .collect();
            let whole =
                path.is_empty() || path == ".Execution" || path.starts_with(".Execution.Input");
            if whole {
                return true;
            }
            rest = after;
        }
    }
    false
}

/// What is known of a task-like state's earlier attempts when it resumes.
struct Prior<'a> {
    /// The task token handed out before the crash.
    token: Option<String>,
    /// How the task ended, when it ended before the crash.
    finished: Option<Result<Value, StatesError>>,
    retries: &'a [u64],
}

/// A finished visit as its record says.
fn replayed(done: &Value) -> Result<Visit, StatesError> {
    if let Some(error) = done["error"].as_str() {
        return Err(StatesError::new(
            error,
            done["cause"].as_str().unwrap_or_default(),
        ));
    }
    Ok(Visit {
        next: done["next"].as_str().map(str::to_string),
        output: done["output"].clone(),
        assigned: done["assigned"].as_object().cloned().unwrap_or_default(),
    })
}

/// Calls `f` with an environment binding `input`, `context` and `variables`, fresh randomness and
/// the current time. (An [`Env`] is not `Send`, so none is kept across an await.)
/// An error `f` raises is the state's own (`here`): its cause gets Step Functions' prefix.
fn with_env<T>(
    here: Here<'_>,
    input: &Value,
    context: &Value,
    variables: &Map<String, Value>,
    f: impl FnOnce(&Env<'_>) -> Result<T, StatesError>,
) -> Result<T, StatesError> {
    let entropy = Entropy::new(fastrand::u64(..));
    let mut env = Env::new(input, context, variables, &entropy);
    env.now = Some(Utc::now());
    env.input_text = here
        .input
        .filter(|(_, value)| *value == input)
        .map(|(text, _)| text);
    f(&env).map_err(|e| here.locate(e))
}

/// The state's effective input: its raw input through InputPath (JSONata states have none).
fn effective_input(state: &State, raw: &Value, env: &Env<'_>) -> Result<Value, StatesError> {
    if state.query_language == QueryLanguage::Jsonata {
        Ok(raw.clone())
    } else {
        asl::io::apply_input_path(state.input_path.as_ref(), env)
    }
}

/// The task's input: InputPath then Parameters (JSONPath), or Arguments (JSONata).
fn task_input(state: &State, raw: &Value, env: &Env<'_>) -> Result<Value, StatesError> {
    if state.query_language == QueryLanguage::Jsonata {
        return match &state.parameters {
            Some(t) => t.evaluate_field(env, "Arguments"),
            None => Ok(raw.clone()),
        };
    }
    let effective = asl::io::apply_input_path(state.input_path.as_ref(), env)?;
    asl::io::apply_parameters(state.parameters.as_ref(), &env.with_input(&effective))
}

/// Output processing of a state with a result (Pass, Task, Parallel, Map) and its Assign.
fn finish(
    state: &State,
    raw: &Value,
    result: Option<Value>,
    env: &Env<'_>,
) -> Result<Visit, StatesError> {
    let next = match &state.transition {
        Transition::Next(next) => Some(next.clone()),
        _ => None,
    };
    let result = result.unwrap_or(Value::Null);
    if state.query_language == QueryLanguage::Jsonata {
        let mut env = env.with_input(raw);
        env.result = Some(&result);
        let output = asl::io::jsonata_output(state.output.as_ref(), &env, "Output")?;
        let assigned = match &state.assign {
            Some(t) => asl::io::assign(t, &env, "Assign")?,
            None => Map::new(),
        };
        return Ok(Visit {
            next,
            output,
            assigned,
        });
    }
    let selected = if matches!(state.kind, StateKind::Pass(_)) {
        result
    } else {
        asl::io::apply_result_selector(state.result_selector.as_ref(), &result, env)?
    };
    let assigned = match &state.assign {
        Some(t) => asl::io::assign(t, &env.with_input(&selected), "Assign")?,
        None => Map::new(),
    };
    let combined = asl::io::apply_result_path(state.result_path.as_ref(), raw, selected)?;
    let output = asl::io::apply_output_path(state.output_path.as_ref(), &combined, env)?;
    Ok(Visit {
        next,
        output,
        assigned,
    })
}

/// Output processing of Wait and Succeed: OutputPath over the effective input.
fn finish_without_result(
    state: &State,
    raw: &Value,
    effective: &Value,
    env: &Env<'_>,
) -> Result<Visit, StatesError> {
    let next = match &state.transition {
        Transition::Next(next) => Some(next.clone()),
        _ => None,
    };
    let (output, assigned) = if state.query_language == QueryLanguage::Jsonata {
        let env = env.with_input(raw);
        let output = asl::io::jsonata_output(state.output.as_ref(), &env, "Output")?;
        let assigned = match &state.assign {
            Some(t) => asl::io::assign(t, &env, "Assign")?,
            None => Map::new(),
        };
        (output, assigned)
    } else {
        let assigned = match &state.assign {
            Some(t) => asl::io::assign(t, &env.with_input(effective), "Assign")?,
            None => Map::new(),
        };
        (
            asl::io::apply_output_path(state.output_path.as_ref(), effective, env)?,
            assigned,
        )
    };
    Ok(Visit {
        next,
        output,
        assigned,
    })
}

/// A number field given by a path or an expression (`SecondsPath`, `MaxConcurrencyPath`,
/// `Seconds`, …): it must be a non-negative integer. A fraction, a negative number or
/// anything but a number fails the state with `States.Runtime`, in Step Functions' words for
/// `SecondsPath` and `MaxConcurrencyPath` (which reads a whole number written as a string or
/// with a fraction, cutting the fraction). The causes and what each path accepts are those of
/// localstack's Step Functions provider (`wait_function/seconds_path.py`,
/// `state_map/max_concurrency.py`), whose tests are recorded against AWS; the documentation
/// words none of them.
fn resolve_u64(value: &Dynamic<u64>, env: &Env<'_>, field: &str) -> Result<u64, StatesError> {
    let t = match value {
        Dynamic::Fixed(n) => return Ok(*n),
        Dynamic::Computed(t) => t,
    };
    let (v, path) = match t {
        Template::Path(path) if field == "SecondsPath" => match path.evaluate(env) {
            Ok(v) => (v, path.text()),
            Err(_) => {
                return Err(StatesError::runtime(format!(
                    "The SecondsPath parameter does not reference an input value: {path}"
                )));
            }
        },
        Template::Path(path) => (t.evaluate_field(env, field)?, path.text()),
        _ => (t.evaluate_field(env, field)?, ""),
    };
    // How the causes quote the value: a string as it is, anything else as JSON.
    let shown = match &v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let whole = |f: f64| (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64);
    match field {
        // Only a JSON integer is read as a long: `1.5`, `1.0` and `"5"` are not.
        "SecondsPath" => match v.as_i64() {
            Some(n) if n >= 0 => Ok(n as u64),
            Some(_) => Err(StatesError::runtime(format!(
                "The SecondsPath parameter references a negative value: {path} == {shown}"
            ))),
            None => Err(StatesError::runtime(format!(
                "The SecondsPath parameter cannot be parsed as a long value: {path} == {shown}"
            ))),
        },
        "MaxConcurrencyPath" => {
            let read = match &v {
                Value::Number(n) => n
                    .as_i64()
                    .or_else(|| n.as_f64().filter(|f| f.abs() < 9.0e15).map(|f| f.trunc() as i64)),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            match read {
                Some(n) if n >= 0 => Ok(n as u64),
                Some(n) => Err(StatesError::runtime(format!(
                    "Expected non-negative integer for MaxConcurrency, got '{n}' instead."
                ))),
                None => Err(StatesError::runtime(format!(
                    "The MaxConcurrencyPath field refers to value \"{shown}\" which is not a valid integer: {path}"
                ))),
            }
        }
        _ => v
            .as_u64()
            .or_else(|| v.as_f64().and_then(whole).and_then(|n| u64::try_from(n).ok()))
            .ok_or_else(|| {
                StatesError::runtime(format!(
                    "The value of the field '{field}' must be a non-negative integer, but was {}: {v}",
                    json_kind(&v)
                ))
            }),
    }
}

/// When a Wait with `Timestamp` or `TimestampPath` ends. A path that selects nothing, or no
/// ISO 8601 timestamp, fails in Step Functions' words (`The TimestampPath parameter does not
/// reference a valid ISO-8601 extended offset date-time format string: $.t == soon`, as
/// localstack's provider words it in `wait_function/timestamp_path.py`).
fn wait_until(stamp: &Dynamic<String>, env: &Env<'_>, state: &State) -> Result<i64, StatesError> {
    let (text, path) = match stamp {
        Dynamic::Computed(Template::Path(path)) => match path.evaluate(env) {
            Ok(Value::String(text)) => (text, path.text()),
            Ok(other) => (other.to_string(), path.text()),
            Err(_) => {
                return Err(StatesError::runtime(format!(
                    "The TimestampPath parameter does not reference an input value: {path}"
                )));
            }
        },
        other => (
            resolve_string(other, env, &field_name(state, "Timestamp"))?,
            "",
        ),
    };
    match DateTime::parse_from_rfc3339(&text) {
        Ok(at) => Ok(at.with_timezone(&Utc).timestamp_micros()),
        Err(_) if !path.is_empty() => Err(StatesError::runtime(format!(
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {path} == {text}"
        ))),
        Err(_) => Err(StatesError::runtime(format!(
            "The Timestamp field does not hold a valid ISO-8601 extended offset date-time format string: {text}"
        ))),
    }
}

fn resolve_string(
    value: &Dynamic<String>,
    env: &Env<'_>,
    field: &str,
) -> Result<String, StatesError> {
    match value {
        Dynamic::Fixed(s) => Ok(s.clone()),
        Dynamic::Computed(t) => match t.evaluate_field(env, field)? {
            Value::String(s) => Ok(s),
            other => Err(StatesError::runtime(format!(
                "The value of the field '{field}' must be a string, but was {}: {other}",
                json_kind(&other)
            ))),
        },
    }
}

/// How errors name a field that a JSONPath state writes as `…Path` (`SecondsPath`) and a
/// JSONata state without the suffix (`Seconds`).
fn field_name(state: &State, field: &'static str) -> String {
    if state.query_language == QueryLanguage::Jsonata {
        field.to_string()
    } else {
        format!("{field}Path")
    }
}

/// A JSON value's type as error causes name it.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Sleeps until `at_us`. Callers flush the journal first.
async fn sleep_until(at_us: i64) {
    let left = at_us - now_us();
    if left > 0 {
        tokio::time::sleep(Duration::from_micros(left as u64)).await;
    }
}

fn iso(us: i64) -> String {
    from_us(us).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The region in an ARN (`arn:aws:states:REGION:…`).
fn region_of(arn: &str) -> String {
    arn.split(':').nth(3).unwrap_or_default().to_string()
}

/// A task token: names the execution and the step, so a token survives restarts, plus 128 bits
/// from the system's secure generator, so that a token can be neither guessed from an
/// execution's name nor predicted from tokens seen before (whoever holds one may answer the
/// task).
pub(crate) fn task_token(execution_arn: &str, step: &str) -> Result<String, StatesError> {
    use crate::access::keys;
    let secret = keys::random_bytes::<16>()
        .map_err(|e| StatesError::runtime(format!("cannot make a task token: {e}")))?;
    Ok(format!(
        "{}.{}",
        hex::encode(format!("{execution_arn}|{step}").as_bytes()),
        hex::encode(secret)
    ))
}

/// The execution and step a token was handed out for (see [`task_token`]).
pub(crate) fn token_origin(token: &str) -> Option<(String, String)> {
    let (hex, _) = token.split_once('.')?;
    let text = String::from_utf8(hex::decode(hex).ok()?).ok()?;
    let (arn, step) = text.split_once('|')?;
    Some((arn.to_string(), step.to_string()))
}

/// The step record that keeps the answer to a task token of `step`.
pub(crate) fn answer_step(step: &str) -> String {
    format!("{step}#answer")
}

#[cfg(test)]
mod token_tests {
    use super::*;

    #[test]
    fn task_tokens_name_their_step_and_carry_128_unpredictable_bits() {
        let arn = "arn:aws:states:us-east-1:123456789012:execution:m:e";
        let (first, second) = (
            task_token(arn, "0/Ask").unwrap(),
            task_token(arn, "0/Ask").unwrap(),
        );
        assert_ne!(first, second);
        for token in [&first, &second] {
            let (_, secret) = token.split_once('.').unwrap();
            assert_eq!(secret.len(), 32, "{token}");
            assert_eq!(token_origin(token), Some((arn.into(), "0/Ask".into())));
        }
        assert_eq!(token_origin("zz.00"), None);
    }
}
