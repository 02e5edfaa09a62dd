//! A queue's mapping: pollers that long-poll the queue, invoke the function with Lambda's SQS
//! event (`queue_event.rs`) and delete what it processed, as Lambda does. A batch the function
//! fails stays in the queue: its messages come back when their visibility timeout ends, and the
//! queue's redrive policy moves them to its dead-letter queue after `maxReceiveCount` receives.
//! With `ReportBatchItemFailures`, only the messages the function names in `batchItemFailures`
//! stay. With a batching window, a batch gathers receives (ten messages at most each) until it
//! is full or the window ends.
//! `MaximumConcurrency` pollers run at once (each invokes one batch at a time), five without it,
//! as Lambda starts with five.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::queues::{QueueError, Queues, ReceiveRequest, Received};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Runtime;
use super::queue_event::{self, Attribute, QueueAnswer, QueueMessage, QueueSource};
use crate::functions::Functions;

/// Pollers of a mapping without `MaximumConcurrency`.
const DEFAULT_POLLERS: u32 = 5;
/// The longest long poll SQS allows.
const LONG_POLL_SECONDS: u32 = 20;
/// How long a poller waits after the queue refused a receive (deleted, purged…) before it tries
/// again.
const RECEIVE_BACKOFF: Duration = Duration::from_secs(1);
/// Most bytes of bodies in one batch: Lambda's 6 MB payload, less the envelope.
const BATCH_BYTES: usize = 5 << 20;

/// A running queue mapping's pollers.
pub(crate) struct PollerHandle {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl PollerHandle {
    /// Stops the pollers: a long poll ends at once, a batch being invoked finishes (and its
    /// messages are deleted) first.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// What a poller needs.
struct Poller {
    runtime: Arc<Runtime>,
    functions: Arc<Functions>,
    queues: Queues,
    queue: String,
    region: String,
    stop: watch::Receiver<bool>,
}

/// Starts a queue mapping's pollers.
pub(crate) fn start(
    runtime: Arc<Runtime>,
    functions: Arc<Functions>,
    queues: Queues,
    queue: &str,
    region: &str,
) -> PollerHandle {
    let (stop, stopped) = watch::channel(false);
    let pollers = runtime
        .config
        .maximum_concurrency
        .unwrap_or(DEFAULT_POLLERS);
    let tasks = (0..pollers)
        .map(|_| {
            let poller = Poller {
                runtime: Arc::clone(&runtime),
                functions: Arc::clone(&functions),
                queues: queues.clone(),
                queue: queue.to_string(),
                region: region.to_string(),
                stop: stopped.clone(),
            };
            tokio::spawn(poller.run())
        })
        .collect();
    PollerHandle { stop, tasks }
}

impl Poller {
    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    async fn run(self) {
        // Said once per run of failures, not on every try (a mapping may wait for its queue).
        let mut failing = false;
        while !self.stopping() {
            let batch = match self.gather().await {
                Ok(batch) => {
                    if std::mem::take(&mut failing) {
                        tracing::info!(mapping = %self.runtime.uuid, queue = %self.queue, "receiving from the queue again");
                    }
                    batch
                }
                Err(error) => {
                    if !std::mem::replace(&mut failing, true) {
                        tracing::warn!(mapping = %self.runtime.uuid, queue = %self.queue, %error, "cannot receive from the queue; trying again every second");
                    }
                    self.runtime
                        .set_result(&format!("PROBLEM: cannot receive from the queue: {error}"));
                    let mut stop = self.stop.clone();
                    tokio::select! {
                        _ = tokio::time::sleep(RECEIVE_BACKOFF) => {}
                        _ = stop.changed() => {}
                    }
                    continue;
                }
            };
            if batch.is_empty() {
                continue;
            }
            self.process(batch).await;
        }
    }

    /// One batch: a long poll for the first messages, then, with a batching window, more
    /// receives until it is full or the window (from the first message) ends.
    async fn gather(&self) -> Result<Vec<Received>, QueueError> {
        let config = &self.runtime.config;
        let wanted = config.batch_size.max(1) as usize;
        let mut batch = self.receive(wanted, LONG_POLL_SECONDS).await?;
        if batch.is_empty() || config.batching_window_seconds == 0 {
            return Ok(batch);
        }
        let deadline = tokio::time::Instant::now()
            + Duration::from_secs(u64::from(config.batching_window_seconds));
        let mut bytes: usize = batch.iter().map(|m| m.body.len()).sum();
        while batch.len() < wanted && bytes < BATCH_BYTES && !self.stopping() {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let wait = (left.as_secs() as u32).clamp(0, LONG_POLL_SECONDS);
            let more = self.receive(wanted - batch.len(), wait).await?;
            if more.is_empty() && wait == 0 {
                tokio::time::sleep(left.min(Duration::from_millis(100))).await;
            }
            bytes += more.iter().map(|m| m.body.len()).sum::<usize>();
            batch.extend(more);
        }
        Ok(batch)
    }

    /// One receive of up to `wanted` messages (ten at most, SQS's limit), waiting up to
    /// `wait_seconds` for the first; it ends early when the mapping stops.
    async fn receive(&self, wanted: usize, wait_seconds: u32) -> Result<Vec<Received>, QueueError> {
        let request = ReceiveRequest {
            max_messages: wanted.clamp(1, 10) as u32,
            visibility_timeout: None,
            wait_seconds: Some(wait_seconds),
            attribute_names: vec!["All".into()],
            message_attribute_names: vec!["All".into()],
            receive_request_attempt_id: None,
        };
        let mut stop = self.stop.clone();
        if *stop.borrow() {
            return Ok(Vec::new());
        }
        tokio::select! {
            received = self.queues.receive(&self.queue, request) => received,
            _ = stop.changed() => Ok(Vec::new()),
        }
    }

    /// Invokes the function with a batch and deletes what it processed.
    async fn process(&self, batch: Vec<Received>) {
        let messages: Vec<QueueMessage> = batch.iter().map(queue_message).collect();
        let source = QueueSource {
            queue_arn: &self.runtime.source_arn,
            region: &self.region,
        };
        let event = queue_event::sqs_event(&source, &messages);
        let processed: Vec<&QueueMessage> = match self
            .functions
            .invoke(&self.runtime.function, &event)
            .await
        {
            Ok(invocation) => {
                let answer = if self.runtime.config.report_batch_item_failures {
                    queue_event::read_queue_answer(&invocation.result, &messages)
                } else {
                    QueueAnswer::AllDone
                };
                match answer {
                    QueueAnswer::AllDone => {
                        self.runtime.set_result("OK");
                        messages.iter().collect()
                    }
                    QueueAnswer::Failed(failed) => {
                        self.runtime.set_result("OK");
                        messages
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| !failed.contains(i))
                            .map(|(_, m)| m)
                            .collect()
                    }
                }
            }
            Err(error) => {
                tracing::info!(mapping = %self.runtime.uuid, function = %self.runtime.function, error = %error.cause, "the function failed its batch; the messages come back after their visibility timeout");
                self.runtime.set_result("PROBLEM: Function call failed");
                Vec::new()
            }
        };
        if processed.is_empty() {
            return;
        }
        let handles: Vec<String> = processed.iter().map(|m| m.receipt_handle.clone()).collect();
        match self.queues.delete(&self.queue, handles).await {
            Ok(outcomes) => {
                for outcome in outcomes {
                    if let Err(error) = outcome {
                        tracing::warn!(mapping = %self.runtime.uuid, code = %error.code, message = %error.message, "a processed message could not be deleted; it will be received again");
                    }
                }
            }
            Err(error) => {
                tracing::warn!(mapping = %self.runtime.uuid, %error, "processed messages could not be deleted; they will be received again");
            }
        }
    }
}

/// A received message as the event shows it.
fn queue_message(message: &Received) -> QueueMessage {
    QueueMessage {
        message_id: message.message_id.clone(),
        receipt_handle: message.receipt_handle.clone(),
        body: message.body.clone(),
        md5_of_body: message.md5_of_body.clone(),
        attributes: message.attributes.clone(),
        message_attributes: message
            .message_attributes
            .iter()
            .map(|(name, a)| {
                (
                    name.clone(),
                    Attribute {
                        data_type: a.data_type.clone(),
                        string_value: a.string_value.clone(),
                        binary_value: a.binary_value.clone(),
                    },
                )
            })
            .collect::<BTreeMap<_, _>>(),
        md5_of_message_attributes: message.md5_of_message_attributes.clone(),
    }
}
