//! Where rules' targets land: the event bus hands a target its rendered input, and this starts
//! what the target's ARN names: a pipeline run, a state machine execution, a function, a record
//! on a stream or a message on a queue (an ARN of another kind fails its deliveries as not found).
//!
//! Deliveries are at least once, so each kind takes the event's id where it can to make a
//! second delivery harmless: an execution is named after the event and the target (Step
//! Functions answers a second start of the same name and input with the first execution), a
//! FIFO queue de-duplicates on the event id, and a run's context carries the event id.
//!
//! A delivery is done once the target has taken the event (a run or execution started, a record
//! or message durable), not when what it started ends, so a slow target never holds up its
//! bus. A function is invoked as Lambda's asynchronous invocation is: it must exist, then runs
//! in the background, tried again twice on an error.

use std::collections::BTreeMap;
use std::time::Duration;

use weir_engine::events::model::{Event, TargetSpec};
use weir_engine::events::{TargetError, TargetInvoker};
use weir_engine::machines::{MachineError, Machines, NewExecution};
use weir_engine::queues::{MessageAttributeValue, NewMessage, Queues};
use weir_engine::{Engine, EngineError, TriggerRequest};
use weir_model::events::arn::{Scope, TargetKind};

/// Lambda's asynchronous invocation: two retries after an error, these delays apart.
const FUNCTION_RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(2)];

pub struct Targets {
    pub engine: Engine,
    pub machines: Machines,
    pub streams: weir_stream::Streams,
    pub queues: Queues,
}

fn failed(code: &str, message: impl Into<String>, retryable: bool) -> TargetError {
    TargetError {
        code: code.to_string(),
        message: message.into(),
        retryable,
    }
}

#[async_trait::async_trait]
impl TargetInvoker for Targets {
    async fn deliver(
        &self,
        target: &TargetSpec,
        input: String,
        event: &Event,
    ) -> Result<(), TargetError> {
        let not_found = || {
            Err(failed(
                "RESOURCE_NOT_FOUND",
                format!("weir has no target {}", target.arn),
                false,
            ))
        };
        let Some((kind, name)) = Scope::parse_target(&target.arn) else {
            return not_found();
        };
        match kind {
            TargetKind::Pipeline => self.run_pipeline(&name, &input, event).await,
            TargetKind::Machine => self.start_execution(target, input, event).await,
            TargetKind::Function => self.invoke(&name, input).await,
            TargetKind::Stream => self.put_record(target, &name, input, event).await,
            TargetKind::Queue => self.send(target, &name, input, event).await,
            TargetKind::Bus => not_found(),
        }
    }

    async fn dead_letter(
        &self,
        queue_arn: &str,
        body: String,
        attributes: BTreeMap<String, String>,
    ) -> Result<(), TargetError> {
        let Some((TargetKind::Queue, queue)) = Scope::parse_target(queue_arn) else {
            return Err(failed(
                "RESOURCE_NOT_FOUND",
                format!("{queue_arn} is not a queue"),
                false,
            ));
        };
        let message_attributes = attributes
            .into_iter()
            .map(|(name, value)| {
                let value = MessageAttributeValue {
                    data_type: "String".to_string(),
                    string_value: Some(value),
                    ..Default::default()
                };
                (name, value)
            })
            .collect();
        let message = NewMessage {
            body,
            message_attributes,
            ..Default::default()
        };
        self.send_one(&queue, message).await
    }
}

impl Targets {
    /// The rendered input is the run's params (it must be a JSON object); the event goes into
    /// the run's context as `event`.
    async fn run_pipeline(
        &self,
        name: &str,
        input: &str,
        event: &Event,
    ) -> Result<(), TargetError> {
        let params = match serde_json::from_str::<serde_json::Value>(input) {
            Ok(serde_json::Value::Object(params)) => params,
            _ => {
                return Err(failed(
                    "SDK_CLIENT_ERROR",
                    format!("a pipeline's input must be a JSON object (its params), not {input}"),
                    false,
                ));
            }
        };
        let request = TriggerRequest {
            pipeline: name.to_string(),
            params,
            logical_date: None,
            event: serde_json::to_value(event).ok(),
        };
        match self.engine.trigger(request).await {
            Ok(_) => Ok(()),
            Err(EngineError::NotFound(message)) => {
                Err(failed("RESOURCE_NOT_FOUND", message, false))
            }
            Err(EngineError::Invalid(message)) => Err(failed("SDK_CLIENT_ERROR", message, false)),
            Err(other) => Err(failed("INTERNAL_ERROR", other.to_string(), true)),
        }
    }

    async fn start_execution(
        &self,
        target: &TargetSpec,
        input: String,
        event: &Event,
    ) -> Result<(), TargetError> {
        // One name per event and target: a second delivery finds the first execution. A
        // replayed event keeps its id, so the replay's name is part of it: a backfill runs again.
        let name = execution_name(&event.id, event.replay_name.as_deref(), &target.id);
        let started = self
            .machines
            .start_execution(NewExecution {
                machine_arn: target.arn.clone(),
                name: Some(name),
                input: Some(input),
            })
            .await;
        match started {
            Ok(_) | Err(MachineError::ExecutionAlreadyExists(_)) => Ok(()),
            Err(MachineError::StateMachineDoesNotExist(message)) => {
                Err(failed("RESOURCE_NOT_FOUND", message, false))
            }
            Err(error @ MachineError::Internal(_)) => {
                Err(failed("INTERNAL_ERROR", error.to_string(), true))
            }
            Err(error) => Err(failed("SDK_CLIENT_ERROR", error.to_string(), false)),
        }
    }

    async fn invoke(&self, name: &str, input: String) -> Result<(), TargetError> {
        let functions = self.engine.functions();
        if functions.get(name).is_none() {
            return Err(failed(
                "RESOURCE_NOT_FOUND",
                format!("Function not found: {name}"),
                false,
            ));
        }
        let payload: serde_json::Value =
            serde_json::from_str(&input).unwrap_or(serde_json::Value::String(input));
        let name = name.to_string();
        tokio::spawn(async move {
            let mut delays = FUNCTION_RETRY_DELAYS.iter();
            loop {
                match functions.invoke(&name, &payload).await {
                    Ok(_) => return,
                    Err(error) => match delays.next() {
                        Some(delay) => tokio::time::sleep(*delay).await,
                        None => {
                            tracing::warn!(function = %name, error = %error.error, cause = %error.cause, "an event's asynchronous invocation failed three times");
                            return;
                        }
                    },
                }
            }
        });
        Ok(())
    }

    async fn put_record(
        &self,
        target: &TargetSpec,
        stream: &str,
        input: String,
        event: &Event,
    ) -> Result<(), TargetError> {
        let partition_key = match &target.kinesis_partition_key_path {
            Some(path) => read_path(event, path).unwrap_or_else(|| event.id.clone()),
            None => event.id.clone(),
        };
        let record = weir_stream::NewRecord {
            partition_key,
            explicit_hash_key: None,
            data: input.into_bytes().into(),
        };
        match self.streams.put(stream, vec![record]).await {
            Ok(results) => match results.into_iter().next() {
                Some(Ok(_)) => Ok(()),
                Some(Err(failure)) => Err(failed("THROTTLING", failure.error_message, true)),
                None => Err(failed("INTERNAL_ERROR", "no answer from the stream", true)),
            },
            Err(error @ weir_stream::StreamError::NotFound { .. }) => {
                Err(failed("RESOURCE_NOT_FOUND", error.to_string(), false))
            }
            Err(error) => Err(failed("SDK_CLIENT_ERROR", error.to_string(), true)),
        }
    }

    async fn send(
        &self,
        target: &TargetSpec,
        queue: &str,
        input: String,
        event: &Event,
    ) -> Result<(), TargetError> {
        let fifo = queue.ends_with(".fifo");
        let message = NewMessage {
            body: input,
            group_id: target.sqs_message_group_id.clone(),
            // As EventBridge does for a FIFO queue: the event's id de-duplicates.
            deduplication_id: fifo.then(|| event.id.clone()),
            ..Default::default()
        };
        self.send_one(queue, message).await
    }

    async fn send_one(&self, queue: &str, message: NewMessage) -> Result<(), TargetError> {
        match self.queues.send(queue, vec![message]).await {
            Ok(results) => match results.into_iter().next() {
                Some(Ok(_)) => Ok(()),
                Some(Err(failure)) => Err(failed("SDK_CLIENT_ERROR", failure.message, false)),
                None => Err(failed("INTERNAL_ERROR", "no answer from the queue", true)),
            },
            Err(error @ weir_engine::queues::QueueError::QueueDoesNotExist) => {
                Err(failed("RESOURCE_NOT_FOUND", error.to_string(), false))
            }
            Err(error) => Err(failed("SDK_CLIENT_ERROR", error.to_string(), true)),
        }
    }
}

/// The event's value at an EventBridge path (`$.detail.id`) as text, for a partition key.
fn read_path(event: &Event, path: &str) -> Option<String> {
    let event = serde_json::to_value(event).ok()?;
    let pointer: String = path
        .strip_prefix('$')?
        .split('.')
        .filter(|segment| !segment.is_empty())
        .map(|segment| format!("/{segment}"))
        .collect();
    match event.pointer(&pointer)? {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// An execution name from the event and target ids (and a replay's name): Step Functions' 80
/// characters of `[0-9A-Za-z_-]`, the same for every delivery of the pair. Too long, its end
/// gives way to a hash of the whole, so distinct pairs keep distinct names.
fn execution_name(event_id: &str, replay: Option<&str>, target_id: &str) -> String {
    let clean = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let mut name = format!("{}_{}", clean(target_id), clean(event_id));
    if let Some(replay) = replay {
        name = format!("{name}_{}", clean(replay));
    }
    if name.len() > 80 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        name.hash(&mut hasher);
        let suffix = format!("_{:016x}", hasher.finish());
        name.truncate(80 - suffix.len());
        name.push_str(&suffix);
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_names_are_stable_and_bounded() {
        let id = "3f2c7a9e-1d2b-4c5d-8e9f-0a1b2c3d4e5f";
        assert_eq!(
            execution_name(id, None, "t.1"),
            execution_name(id, None, "t.1")
        );
        assert_eq!(execution_name(id, None, "t.1"), format!("t_1_{id}"));
        assert_eq!(
            execution_name(id, Some("backfill"), "t.1"),
            format!("t_1_{id}_backfill")
        );
        let long = execution_name(id, None, &"x".repeat(64));
        assert_eq!(long.len(), 80);
        assert_ne!(long, execution_name(id, None, &"x".repeat(63)));
        assert_ne!(
            execution_name(id, Some(&"a".repeat(60)), "t"),
            execution_name(id, Some(&"a".repeat(61)), "t")
        );
    }
}
