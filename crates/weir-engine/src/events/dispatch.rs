//! A bus's dispatcher: the consumer group's processor over its stream. Each event is matched
//! against one snapshot of the bus's rules, each matched target's input rendered and delivered
//! (concurrently, bounded); what failed but may succeed later becomes a retry row, and the
//! archives' copies are rows too, all committed with the checkpoint.

use std::sync::{Arc, Weak};

use futures::StreamExt;
use serde_json::Value;
use weir_store::{ArchivedEventRecord, EventRetryRecord, EventsMutation, Mutation};
use weir_stream::consumer::{ProcessError, ShardProcessor};
use weir_stream::{Record, ShardId};

use super::model::{Event, RuleContext, TargetSpec};
use super::state::{DispatchCell, Rule};
use super::{DELIVERY_CONCURRENCY, Envelope, Inner, Outcome, TargetError, now_ms, targets, utc};

pub(crate) struct BusProcessor {
    bus: String,
    inner: Weak<Inner>,
    dispatch: DispatchCell,
}

/// One delivery to make.
pub(crate) struct Delivery {
    pub bus: String,
    pub rule: Arc<Rule>,
    pub target: TargetSpec,
    pub event: Arc<Event>,
    pub value: Arc<Value>,
    pub ingestion_ms: i64,
    /// The event's position in the bus's log (with its id, names its retry).
    pub offset: u64,
}

impl BusProcessor {
    pub fn new(bus: String, inner: Weak<Inner>, dispatch: DispatchCell) -> BusProcessor {
        BusProcessor {
            bus,
            inner,
            dispatch,
        }
    }
}

#[async_trait::async_trait]
impl ShardProcessor for BusProcessor {
    async fn process(
        &self,
        _shard: ShardId,
        records: Vec<Record>,
    ) -> Result<Vec<Mutation>, ProcessError> {
        let Some(inner) = self.inner.upgrade() else {
            return Err(ProcessError::new("the event bus has stopped"));
        };
        let dispatch = Arc::clone(&self.dispatch.read().unwrap_or_else(|e| e.into_inner()));
        let mut mutations: Vec<Mutation> = Vec::new();
        let mut deliveries = Vec::new();
        let mut archived: Vec<(String, i64)> = Vec::new();
        for record in records {
            let envelope: Envelope = match serde_json::from_slice(&record.data) {
                Ok(envelope) => envelope,
                Err(error) => {
                    tracing::error!(
                        bus = self.bus,
                        offset = record.offset,
                        "an event of the bus cannot be read; it is passed over: {error}"
                    );
                    continue;
                }
            };
            let value = match serde_json::to_value(&envelope.event) {
                Ok(value) => Arc::new(value),
                Err(_) => continue,
            };
            let event = Arc::new(envelope.event);
            let _ = inner.tail.send(Arc::clone(&event));
            if event.replay_name.is_none() {
                for (archive, pattern) in &dispatch.archives {
                    if pattern.as_ref().is_none_or(|p| p.matches(&value)) {
                        let text = value.to_string();
                        archived.push((archive.clone(), text.len() as i64));
                        mutations.push(
                            EventsMutation::ArchiveEvent(ArchivedEventRecord {
                                archive: archive.clone(),
                                time_ms: record.arrival_ms,
                                seq: i64::try_from(record.offset).unwrap_or(i64::MAX),
                                event: text,
                            })
                            .into(),
                        );
                    }
                }
            }
            let matched: Vec<usize> = match &envelope.rules {
                None => dispatch.matcher.matches(&value),
                Some(names) => dispatch
                    .rules
                    .iter()
                    .enumerate()
                    .filter(|(_, rule)| names.contains(&rule.name))
                    .filter(|(_, rule)| {
                        envelope.scheduled
                            || rule.pattern.as_ref().is_some_and(|p| p.matches(&value))
                    })
                    .map(|(i, _)| i)
                    .collect(),
            };
            for i in matched {
                let Some(rule) = dispatch.rules.get(i) else {
                    continue;
                };
                inner.record(&self.bus, &rule.name, Outcome::Matched);
                for target in &rule.targets {
                    deliveries.push(Delivery {
                        bus: self.bus.clone(),
                        rule: Arc::clone(rule),
                        target: target.clone(),
                        event: Arc::clone(&event),
                        value: Arc::clone(&value),
                        ingestion_ms: record.arrival_ms,
                        offset: record.offset,
                    });
                }
            }
        }
        let retries: Vec<Option<EventRetryRecord>> = futures::stream::iter(deliveries)
            .map(|delivery| inner.first_delivery(delivery))
            .buffer_unordered(DELIVERY_CONCURRENCY)
            .collect()
            .await;
        for retry in retries.into_iter().flatten() {
            inner.retries.add(retry.clone());
            mutations.push(EventsMutation::PutRetry(retry).into());
        }
        if !archived.is_empty() {
            let mut state = inner.state.lock().unwrap_or_else(|e| e.into_inner());
            for (archive, bytes) in archived {
                if let Some(entry) = state.archives.get_mut(&archive) {
                    entry.events += 1;
                    entry.bytes += bytes;
                }
            }
        }
        Ok(mutations)
    }
}

impl Inner {
    /// Makes a delivery for the first time. A failure that may succeed later, under the
    /// target's retry policy, becomes a retry row; any other goes to the dead-letter queue.
    async fn first_delivery(&self, delivery: Delivery) -> Option<EventRetryRecord> {
        let Delivery {
            bus,
            rule,
            target,
            event,
            value,
            ingestion_ms,
            offset,
        } = delivery;
        let context = RuleContext {
            rule_name: &rule.name,
            rule_arn: &rule.arn,
            ingestion_time: utc(ingestion_ms),
        };
        let input = match target.input.render(&value, &context) {
            Ok(input) => input,
            Err(error) => {
                let error = TargetError {
                    code: "INVALID_PARAMETER".into(),
                    message: format!(
                        "the target's input could not be rendered: {}",
                        error.message
                    ),
                    retryable: false,
                };
                self.failed(&bus, &rule.name, &error);
                self.dead_letter(&bus, &rule, &target, &event, &error, 0, None)
                    .await;
                return None;
            }
        };
        let error = match self.targets.deliver(&target, input.clone(), &event).await {
            Ok(()) => {
                self.record(&bus, &rule.name, Outcome::Delivered);
                return None;
            }
            Err(error) => error,
        };
        self.failed(&bus, &rule.name, &error);
        let now = now_ms();
        let age_limit = ingestion_ms + i64::from(target.retry.maximum_event_age_seconds) * 1000;
        if !error.retryable {
            self.dead_letter(&bus, &rule, &target, &event, &error, 0, None)
                .await;
            return None;
        }
        if target.retry.maximum_retry_attempts == 0 {
            self.dead_letter(
                &bus,
                &rule,
                &target,
                &event,
                &error,
                0,
                Some("MaximumRetryAttempts"),
            )
            .await;
            return None;
        }
        if now >= age_limit {
            self.dead_letter(
                &bus,
                &rule,
                &target,
                &event,
                &error,
                0,
                Some("MaximumEventAgeInSeconds"),
            )
            .await;
            return None;
        }
        Some(EventRetryRecord {
            id: format!("{bus}/{offset}/{}/{}/{}", event.id, rule.name, target.id),
            bus,
            rule: rule.name.clone(),
            target: targets::to_json(&target),
            event: serde_json::to_string(&*event).unwrap_or_default(),
            input,
            attempts: 0,
            first_ms: ingestion_ms,
            next_ms: (now + self.backoff(0)).min(age_limit),
            error_code: error.code,
            error_message: error.message,
        })
    }

    pub(super) fn failed(&self, bus: &str, rule: &str, error: &TargetError) {
        tracing::warn!(
            bus,
            rule,
            code = error.code,
            "a target did not take an event: {}",
            error.message
        );
        self.record(bus, rule, Outcome::Failed(error));
    }
}
