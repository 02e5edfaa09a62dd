//! Rules with a schedule (`rate(…)`, `cron(…)`, on the default bus) fire "Scheduled Event" to
//! their own targets: the event goes through the bus's stream like any other (durable, then
//! dispatched), addressed to that rule alone. The next time of each schedule is kept in memory;
//! a restart does not make up for the times it was down, as EventBridge does not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::model::Event;
use super::{Envelope, Events, now_ms, rfc3339};

#[derive(Default)]
pub(crate) struct Schedules {
    /// (bus, rule, schedule text) to the next time it fires.
    next: Mutex<HashMap<(String, String, String), i64>>,
    wake: tokio::sync::Notify,
}

impl Schedules {
    /// Rules changed: the loop looks again.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

pub(super) fn spawn(events: &Events) {
    let schedules = Arc::clone(&events.inner.schedules);
    let inner = Arc::downgrade(&events.inner);
    let mut stopping = events.inner.stopping.subscribe();
    tokio::spawn(async move {
        loop {
            let next = {
                let Some(inner) = inner.upgrade() else { return };
                Events { inner }.next_schedule(now_ms())
            };
            let wait = match next {
                Some(due) => Duration::from_millis(u64::try_from(due - now_ms()).unwrap_or(0)),
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = schedules.wake.notified() => continue,
                _ = stopping.changed() => return,
            }
            if *stopping.borrow() {
                return;
            }
            let Some(inner) = inner.upgrade() else { return };
            Events { inner }.fire_due_schedules(now_ms()).await;
        }
    });
}

impl Events {
    /// Brings the schedule table in line with the rules, and returns the earliest time due.
    fn next_schedule(&self, now: i64) -> Option<i64> {
        let wanted: Vec<(String, String, String, i64)> = {
            let state = self.lock();
            let mut wanted = Vec::new();
            let mut next = self
                .inner
                .schedules
                .next
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for bus in state.buses.values() {
                for rule in bus.rules.values().filter(|r| r.enabled) {
                    let Some(schedule) = &rule.schedule else {
                        continue;
                    };
                    let text = rule.schedule_text.clone().unwrap_or_default();
                    let key = (rule.bus.clone(), rule.name.clone(), text);
                    let due = match next.get(&key) {
                        Some(due) => *due,
                        None => match schedule.next_after(now) {
                            Some(due) => due,
                            None => continue,
                        },
                    };
                    wanted.push((key.0, key.1, key.2, due));
                }
            }
            next.clear();
            for (bus, rule, text, due) in &wanted {
                next.insert((bus.clone(), rule.clone(), text.clone()), *due);
            }
            wanted
        };
        wanted.iter().map(|(_, _, _, due)| *due).min()
    }

    /// Fires every schedule due at `now`: its Scheduled Event goes to the rule's bus, for that
    /// rule only. Returns how many fired.
    pub(crate) async fn fire_due_schedules(&self, now: i64) -> usize {
        self.next_schedule(now);
        let due: Vec<(String, String, String)> = {
            let next = self
                .inner
                .schedules
                .next
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            next.iter()
                .filter(|(_, at)| **at <= now)
                .map(|(key, _)| key.clone())
                .collect()
        };
        for (bus, rule, text) in &due {
            let event = Event {
                version: "0".into(),
                id: crate::functions::event_sources::random_uuid(),
                detail_type: "Scheduled Event".into(),
                source: "aws.events".into(),
                account: self.inner.arns.account.clone(),
                time: rfc3339(now),
                region: self.inner.arns.region.clone(),
                resources: vec![self.inner.arns.rule(bus, rule)],
                detail: json!({}),
                replay_name: None,
            };
            let envelope = Envelope {
                event,
                rules: Some(vec![rule.clone()]),
                scheduled: true,
            };
            match self.append(bus, vec![envelope]).await {
                Ok(appended) if appended.iter().all(|ok| *ok) => {}
                Ok(_) => tracing::warn!(bus, rule, "a scheduled event was not stored"),
                Err(error) => {
                    tracing::warn!(bus, rule, "a scheduled event was not stored: {error}")
                }
            }
            let schedule = {
                let state = self.lock();
                state
                    .buses
                    .get(bus)
                    .and_then(|b| b.rules.get(rule))
                    .and_then(|r| r.schedule.clone())
            };
            let mut next = self
                .inner
                .schedules
                .next
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let key = (bus.clone(), rule.clone(), text.clone());
            match schedule.and_then(|s| s.next_after(now)) {
                Some(at) => next.insert(key, at),
                None => next.remove(&key),
            };
        }
        due.len()
    }
}
