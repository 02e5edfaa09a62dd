//! What Task states reach: functions, other state machines, pipelines, weir's actions, and task
//! tokens (the interpreter's [`interpreter::Services`], implemented over [`Machines`]).

use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, watch};
use weir_model::asl::StatesError;
use weir_model::asl::errors::names;

use super::interpreter::{self, Run};
use super::resources::{Pattern, Target, function_name};
use super::{Machines, NewExecution, TokenMessage, TokenWaiter};
use crate::TriggerRequest;
use crate::actions::{ActionContext, AttemptId, LogFile};

/// Invokes functions (`functions/*.yaml`) for Task states. Errors are Step Functions errors:
/// the function's error name and a cause.
#[async_trait::async_trait]
pub trait FunctionInvoker: Send + Sync {
    async fn invoke(&self, name: &str, payload: &Value) -> Result<Value, StatesError>;
}

pub(crate) struct Services {
    machines: Machines,
}

impl Services {
    pub fn new(machines: Machines) -> Services {
        Services { machines }
    }

    /// Waits for one of the permits that bound the processes executions run at once.
    async fn process_permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, StatesError> {
        self.machines
            .inner
            .processes
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StatesError::runtime("the server is stopping"))
    }

    async fn function(&self, name: &str, payload: &Value) -> Result<Value, StatesError> {
        let _permit = self.process_permit().await?;
        match &self.machines.inner.functions {
            Some(functions) => functions.invoke(name, payload).await,
            None => Err(StatesError::new(
                "Lambda.ResourceNotFoundException",
                format!("Function not found: {name} (this server runs no functions)"),
            )),
        }
    }

    async fn start_execution(&self, pattern: Pattern, input: &Value) -> Result<Value, StatesError> {
        let machine = input["StateMachineArn"]
            .as_str()
            .ok_or_else(|| StatesError::runtime("states:startExecution needs StateMachineArn"))?;
        let child_input = match &input["Input"] {
            Value::Null => None,
            Value::String(text) => Some(text.clone()),
            other => Some(other.to_string()),
        };
        let started = self
            .machines
            .start_execution(NewExecution {
                machine_arn: self.machines.resolve_machine(machine),
                name: input["Name"].as_str().map(str::to_string),
                input: child_input,
            })
            .await
            .map_err(|e| StatesError::new(format!("StepFunctions.{}", e.code()), e.to_string()))?;
        let Pattern::Sync { json_output } = pattern else {
            return Ok(json!({
                "ExecutionArn": started.arn,
                "StartDate": started.started_at as f64 / 1_000_000.0,
            }));
        };
        let done = loop {
            let done = self
                .machines
                .wait(&started.arn, Duration::from_secs(3600))
                .await
                .map_err(|e| StatesError::runtime(e.to_string()))?;
            if done.status != "RUNNING" {
                break done;
            }
        };
        let output = match (&done.output, json_output) {
            (Some(text), true) => serde_json::from_str(text).unwrap_or(Value::Null),
            (Some(text), false) => Value::String(text.clone()),
            (None, _) => Value::Null,
        };
        let description = json!({
            "ExecutionArn": done.arn,
            "StateMachineArn": done.machine_arn,
            "Name": done.name,
            "Status": done.status,
            "Input": done.input,
            "Output": output,
            "StartDate": done.started_at as f64 / 1_000_000.0,
            "StopDate": done.stopped_at.map(|s| s as f64 / 1_000_000.0),
        });
        if done.status == "SUCCEEDED" {
            Ok(description)
        } else {
            Err(StatesError::new(
                names::TASK_FAILED,
                description.to_string(),
            ))
        }
    }

    async fn pipeline_run(&self, pattern: Pattern, input: &Value) -> Result<Value, StatesError> {
        let Some(engine) = &self.machines.inner.engine else {
            return Err(StatesError::runtime("this server runs no pipelines"));
        };
        let pipeline = input["Pipeline"]
            .as_str()
            .ok_or_else(|| StatesError::runtime("pipeline:run needs Pipeline, a pipeline name"))?;
        let params: Map<String, Value> = input["Params"].as_object().cloned().unwrap_or_default();
        let run = engine
            .trigger(TriggerRequest {
                pipeline: pipeline.to_string(),
                params,
                logical_date: None,
                event: None,
            })
            .await
            .map_err(|e| StatesError::new("Pipeline.StartFailed", e.to_string()))?;
        if pattern == Pattern::RequestResponse {
            return Ok(json!({"RunId": run.id, "State": run.state}));
        }
        let run = loop {
            let run = engine
                .wait(&run.id, Duration::from_secs(3600))
                .await
                .map_err(|e| StatesError::runtime(e.to_string()))?;
            if !crate::rules::is_active_run(&run.state) {
                break run;
            }
        };
        let answer = json!({"RunId": run.id, "State": run.state, "Pipeline": run.pipeline});
        if run.state == "success" {
            Ok(answer)
        } else {
            Err(StatesError::new(names::TASK_FAILED, answer.to_string()))
        }
    }

    async fn action(&self, run: &Run, kind: &str, input: Value) -> Result<Value, StatesError> {
        let Some(runner) = self.machines.inner.actions.get(kind) else {
            return Err(StatesError::runtime(format!("weir has no action `{kind}`")));
        };
        let Value::Object(config) = input else {
            return Err(StatesError::runtime(format!(
                "the input of action:{kind} must be an object of the action's keys"
            )));
        };
        let attempt = format!("{:016x}", fastrand::u64(..));
        let dir = self
            .machines
            .inner
            .data_dir
            .join(crate::logs::execution_dir(&run.name));
        let (_cancel, cancel) = watch::channel(false);
        let ctx = ActionContext {
            config,
            attempt: AttemptId {
                run_id: run.name.clone(),
                task_id: kind.to_string(),
                map_index: -1,
                try_number: 1,
            },
            log: LogFile::new(dir.join(format!("{attempt}.log"))),
            output_path: dir.join(format!("{attempt}.output.json")),
            project_dir: self.machines.inner.project_dir.clone(),
            env: vec![
                ("WEIR_EXECUTION_ARN".into(), run.arn.clone()),
                ("WEIR_EXECUTION_NAME".into(), run.name.clone()),
                // The marker the engine's start-up looks for: a command still running when the
                // server died is killed before the execution resumes and runs the task again.
                ("WEIR_INSTANCE".into(), self.machines.inner.instance.clone()),
            ],
            deadline: None,
            cancel,
            kill_grace: Duration::from_secs(5),
            max_output_bytes: 256 * 1024,
            on_spawn: None,
            masker: self.machines.inner.secrets.masker(),
        };
        let _permit = self.process_permit().await?;
        let outcome = runner.run(ctx).await;
        match outcome.result {
            Ok(output) => Ok(output.unwrap_or(Value::Null)),
            Err(error) => Err(StatesError::new(
                match error.kind {
                    crate::actions::FailureKind::TimedOut => names::TIMEOUT,
                    _ => names::TASK_FAILED,
                },
                error.message,
            )),
        }
    }
}

#[async_trait::async_trait]
impl interpreter::Services for Services {
    async fn call(
        &self,
        run: &Run,
        target: &Target,
        pattern: Pattern,
        input: Value,
    ) -> Result<Value, StatesError> {
        match target {
            Target::Function(name) => self.function(name, &input).await,
            Target::LambdaInvoke => {
                let name = function_name(&input["FunctionName"])?;
                let payload = input.get("Payload").cloned().unwrap_or(json!({}));
                let result = self.function(&name, &payload).await?;
                Ok(json!({
                    "ExecutedVersion": "$LATEST",
                    "Payload": result,
                    "SdkHttpMetadata": {"HttpStatusCode": 200},
                    "StatusCode": 200,
                }))
            }
            Target::StartExecution => self.start_execution(pattern, &input).await,
            Target::PipelineRun => self.pipeline_run(pattern, &input).await,
            Target::Action(kind) => self.action(run, kind, input).await,
        }
    }

    async fn await_token(
        &self,
        token: &str,
        heartbeat: Option<Duration>,
    ) -> Result<Value, StatesError> {
        let opened = self
            .machines
            .inner
            .tokens
            .lock()
            .ok()
            .and_then(|mut tokens| tokens.get_mut(token)?.unclaimed.take());
        let mut answers = match opened {
            Some(answers) => answers,
            None => {
                let (answer, answers) = mpsc::unbounded_channel();
                if let Ok(mut tokens) = self.machines.inner.tokens.lock() {
                    tokens.insert(
                        token.to_string(),
                        TokenWaiter {
                            answer,
                            unclaimed: None,
                        },
                    );
                }
                answers
            }
        };
        let result = loop {
            let next = match heartbeat {
                Some(limit) => match tokio::time::timeout(limit, answers.recv()).await {
                    Ok(next) => next,
                    Err(_) => {
                        // No cause, as on AWS.
                        break Err(StatesError::new(names::HEARTBEAT_TIMEOUT, ""));
                    }
                },
                None => answers.recv().await,
            };
            match next {
                Some(TokenMessage::Done(result)) => break result,
                Some(TokenMessage::Heartbeat) => continue,
                None => break Err(StatesError::runtime("the task token was dropped")),
            }
        };
        if let Ok(mut tokens) = self.machines.inner.tokens.lock() {
            tokens.remove(token);
        }
        result
    }

    fn open_token(&self, token: &str) {
        let (answer, answers) = mpsc::unbounded_channel();
        if let Ok(mut tokens) = self.machines.inner.tokens.lock() {
            tokens.insert(
                token.to_string(),
                TokenWaiter {
                    answer,
                    unclaimed: Some(answers),
                },
            );
        }
    }

    fn close_token(&self, token: &str) {
        if let Ok(mut tokens) = self.machines.inner.tokens.lock() {
            tokens.remove(token);
        }
    }

    async fn read_items(&self, reader: &Value, input: &Value) -> Result<Vec<Value>, StatesError> {
        match &self.machines.inner.objects {
            Some(objects) => super::items::read_items(objects.as_ref(), reader, input).await,
            None => Err(StatesError::new(
                names::ITEM_READER_FAILED,
                format!("ItemReader {reader} needs the lake, which this server does not have"),
            )),
        }
    }
}

/// Task states invoke the project's functions (`functions/*.yaml`).
#[async_trait::async_trait]
impl FunctionInvoker for crate::functions::Functions {
    async fn invoke(&self, name: &str, payload: &Value) -> Result<Value, StatesError> {
        crate::functions::Functions::invoke(self, name, payload)
            .await
            .map(|invocation| invocation.result)
            // The Cause is the error as Lambda reports it (JSON text), as Step Functions gives it.
            .map_err(|e| StatesError::new(e.error, e.payload))
    }
}
