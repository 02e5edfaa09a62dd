//! Deliveries that failed, tried again: a timer on the earliest one due, exponential backoff with
//! jitter, the target's retry policy (attempts, event age), and the dead-letter queue when it
//! runs out. The rows are in the store (committed with the dispatcher's checkpoint, changed
//! here through the group committer), so a restart goes on where it was.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use weir_store::{EventRetryRecord, EventsMutation, Mutation};

use super::model::{Event, TargetSpec};
use super::state::Rule;
use super::{DELIVERY_CONCURRENCY, Events, Inner, Outcome, TargetError, now_ms, targets};

/// The retries waiting, by when they are due.
#[derive(Default)]
pub(crate) struct Retries {
    pending: Mutex<Pending>,
    wake: tokio::sync::Notify,
}

#[derive(Default)]
struct Pending {
    due: BTreeSet<(i64, String)>,
    rows: HashMap<String, EventRetryRecord>,
}

impl Retries {
    /// Adds or replaces a retry (by id).
    pub fn add(&self, record: EventRetryRecord) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = pending.rows.remove(&record.id) {
            pending.due.remove(&(old.next_ms, old.id));
        }
        pending.due.insert((record.next_ms, record.id.clone()));
        pending.rows.insert(record.id.clone(), record);
        metrics::gauge!("weir_event_retries_pending").set(pending.rows.len() as f64);
        drop(pending);
        self.wake.notify_one();
    }

    fn next_due(&self) -> Option<i64> {
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.due.first().map(|(due, _)| *due)
    }

    /// Takes the retries due at `now`.
    fn take_due(&self, now: i64) -> Vec<EventRetryRecord> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let mut taken = Vec::new();
        while let Some((due, id)) = pending.due.first().cloned() {
            if due > now {
                break;
            }
            pending.due.pop_first();
            if let Some(row) = pending.rows.remove(&id) {
                taken.push(row);
            }
        }
        metrics::gauge!("weir_event_retries_pending").set(pending.rows.len() as f64);
        taken
    }

    /// How many retries wait (tests, metrics).
    pub fn len(&self) -> usize {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .rows
            .len()
    }
}

pub(super) fn spawn(events: &Events) {
    let retries = Arc::clone(&events.inner.retries);
    let inner = Arc::downgrade(&events.inner);
    let mut stopping = events.inner.stopping.subscribe();
    tokio::spawn(async move {
        loop {
            let wait = match retries.next_due() {
                Some(due) => Duration::from_millis(u64::try_from(due - now_ms()).unwrap_or(0)),
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = retries.wake.notified() => continue,
                _ = stopping.changed() => return,
            }
            if *stopping.borrow() {
                return;
            }
            let Some(inner) = inner.upgrade() else { return };
            let due = retries.take_due(now_ms());
            if due.is_empty() {
                continue;
            }
            let outcomes: Vec<(Option<EventRetryRecord>, Mutation)> = futures::stream::iter(due)
                .map(|row| inner.retry(row))
                .buffer_unordered(DELIVERY_CONCURRENCY)
                .collect()
                .await;
            let batch: Vec<Mutation> = outcomes.iter().map(|(_, m)| m.clone()).collect();
            match inner.committer.submit(batch).await {
                Ok(()) => {
                    for row in outcomes.into_iter().filter_map(|(again, _)| again) {
                        retries.add(row);
                    }
                }
                Err(error) => {
                    // The rows stand in the store as they were (a restart tries them again);
                    // those still waiting go on waiting here.
                    tracing::warn!("retries could not be recorded: {error}");
                    for row in outcomes.into_iter().filter_map(|(again, _)| again) {
                        retries.add(row);
                    }
                }
            }
        }
    });
}

impl Inner {
    /// The delay before retry number `attempt` (from 0): doubling from the initial delay up to
    /// the maximum, then a random part of it kept (between half and all), so that retries of
    /// many events do not come back together.
    pub(super) fn backoff(&self, attempt: i64) -> i64 {
        let initial = self.retry_initial_delay.as_millis() as i64;
        let max = self.retry_max_delay.as_millis() as i64;
        let doubled = initial
            .saturating_mul(1_i64 << attempt.clamp(0, 30))
            .min(max);
        let half = doubled / 2;
        half + fastrand::i64(0..=doubled - half)
    }

    /// Tries one retry again: the row to keep waiting (if any) and the mutation recording it.
    async fn retry(&self, mut row: EventRetryRecord) -> (Option<EventRetryRecord>, Mutation) {
        let forget = EventsMutation::DeleteRetry { id: row.id.clone() }.into();
        let (Some(target), Ok(event)) = (
            targets::from_json(&row.target),
            serde_json::from_str::<Event>(&row.event),
        ) else {
            tracing::error!(id = row.id, "a retry cannot be read; it is dropped");
            return (None, forget);
        };
        let rule = self.rule_for_retry(&row);
        let now = now_ms();
        let age_limit = row.first_ms + i64::from(target.retry.maximum_event_age_seconds) * 1000;
        let last = TargetError {
            code: row.error_code.clone(),
            message: row.error_message.clone(),
            retryable: true,
        };
        if now >= age_limit {
            self.give_up(
                &row,
                &rule,
                &target,
                &event,
                &last,
                Some("MaximumEventAgeInSeconds"),
            )
            .await;
            return (None, forget);
        }
        match self
            .targets
            .deliver(&target, row.input.clone(), &event)
            .await
        {
            Ok(()) => {
                self.record(&row.bus, &row.rule, Outcome::Delivered);
                (None, forget)
            }
            Err(error) => {
                self.failed(&row.bus, &row.rule, &error);
                row.attempts += 1;
                if !error.retryable {
                    self.give_up(&row, &rule, &target, &event, &error, None)
                        .await;
                    return (None, forget);
                }
                if row.attempts >= i64::from(target.retry.maximum_retry_attempts) {
                    self.give_up(
                        &row,
                        &rule,
                        &target,
                        &event,
                        &error,
                        Some("MaximumRetryAttempts"),
                    )
                    .await;
                    return (None, forget);
                }
                row.next_ms = (now + self.backoff(row.attempts)).min(age_limit);
                row.error_code = error.code;
                row.error_message = error.message;
                let mutation = EventsMutation::PutRetry(row.clone()).into();
                (Some(row), mutation)
            }
        }
    }

    /// The rule a retry is for, for its ARN (the rule may be gone since).
    fn rule_for_retry(&self, row: &EventRetryRecord) -> Rule {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(rule) = state
            .buses
            .get(&row.bus)
            .and_then(|b| b.rules.get(&row.rule))
        {
            return (**rule).clone();
        }
        drop(state);
        Rule {
            bus: row.bus.clone(),
            name: row.rule.clone(),
            arn: self.arns.rule(&row.bus, &row.rule),
            description: None,
            pattern_text: None,
            pattern: None,
            schedule_text: None,
            schedule: None,
            enabled: false,
            role_arn: None,
            targets: Vec::new(),
            tags: Vec::new(),
            managed: None,
            created_ms: 0,
            updated_ms: 0,
        }
    }

    async fn give_up(
        &self,
        row: &EventRetryRecord,
        rule: &Rule,
        target: &TargetSpec,
        event: &Event,
        error: &TargetError,
        exhausted: Option<&str>,
    ) {
        let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
        self.dead_letter(&row.bus, rule, target, event, error, attempts, exhausted)
            .await;
    }

    /// Sends an event a target could not take to the target's dead-letter queue, with
    /// EventBridge's message attributes; without one (or when the queue refuses) it is dropped,
    /// and counted.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn dead_letter(
        &self,
        bus: &str,
        rule: &Rule,
        target: &TargetSpec,
        event: &Event,
        error: &TargetError,
        attempts: u32,
        exhausted: Option<&str>,
    ) {
        let Some(queue) = &target.dead_letter else {
            tracing::warn!(
                bus,
                rule = rule.name,
                target = target.id,
                event = event.id,
                "an event a target could not take is dropped (no dead-letter queue)"
            );
            self.record(bus, &rule.name, Outcome::Dropped);
            return;
        };
        let mut attributes = BTreeMap::new();
        attributes.insert("ERROR_CODE".to_string(), error.code.clone());
        attributes.insert("ERROR_MESSAGE".to_string(), error.message.clone());
        if let Some(condition) = exhausted {
            attributes.insert(
                "EXHAUSTED_RETRY_CONDITION".to_string(),
                condition.to_string(),
            );
        }
        attributes.insert("RETRY_ATTEMPTS".to_string(), attempts.to_string());
        attributes.insert("RULE_ARN".to_string(), rule.arn.clone());
        attributes.insert("TARGET_ARN".to_string(), target.arn.clone());
        let body = serde_json::to_string(event).unwrap_or_default();
        match self.targets.dead_letter(queue, body, attributes).await {
            Ok(()) => self.record(bus, &rule.name, Outcome::DeadLettered),
            Err(failure) => {
                tracing::warn!(
                    bus,
                    rule = rule.name,
                    queue,
                    "an event could not be sent to its dead-letter queue and is dropped: {}",
                    failure.message
                );
                self.record(bus, &rule.name, Outcome::Dropped);
            }
        }
    }
}
