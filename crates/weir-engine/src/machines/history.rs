//! An execution's history and step records on their way to the store.
//!
//! Events get consecutive ids in the order they are emitted (branches of a Parallel or a Map
//! interleave, as in Step Functions). Writes gather in a buffer that goes to the group committer
//! every [`FLUSH_AT`] records and whenever the interpreter is about to wait ([`Journal::flush`]);
//! [`Journal::sync`] waits until everything so far is durable, which the interpreter does before
//! anything with an effect outside weir (a task) and at the end of the execution. A crash loses
//! at most the pure steps since the last sync, which replay computes again.

use std::sync::Mutex;

use serde_json::{Value, json};
use weir_store::{Committer, HistoryEventRecord, Mutation, StepRecord};

use crate::time::now_us;

/// Where an execution's records go: the store (standard workflows) or nowhere (express ones,
/// which Step Functions keeps no history of either).
pub(crate) struct Journal {
    execution_arn: String,
    committer: Option<Committer>,
    inner: Mutex<Inner>,
}

struct Inner {
    next_id: i64,
    /// Records not yet handed to the committer.
    pending: Vec<Mutation>,
}

/// Records gathered before they go to the committer: one hand-off per few hundred transitions of
/// a long run of pure states, instead of one per record.
const FLUSH_AT: usize = 512;

impl Journal {
    /// `next_id`: one past the last event already stored (1 for a new execution).
    pub fn new(execution_arn: String, committer: Option<Committer>, next_id: i64) -> Journal {
        Journal {
            execution_arn,
            committer,
            inner: Mutex::new(Inner {
                next_id,
                pending: Vec::new(),
            }),
        }
    }

    /// Appends an event; `details` is the type's details object, stored under `key` (no details
    /// when `key` is empty). Its previous event is the one emitted just before it. Answers the
    /// event's id (error causes name the event that entered the failing state).
    pub fn event(&self, event_type: &str, key: &str, details: Value) -> i64 {
        let Ok(mut inner) = self.inner.lock() else {
            return 0;
        };
        let id = inner.next_id;
        inner.next_id += 1;
        let mut body = serde_json::Map::new();
        if !key.is_empty() {
            body.insert(key.to_string(), details);
        }
        let record = HistoryEventRecord {
            execution_arn: self.execution_arn.clone(),
            id,
            previous_id: id - 1,
            at: now_us(),
            event_type: event_type.to_string(),
            details: Value::Object(body).to_string(),
        };
        self.push(&mut inner, Mutation::HistoryEvent(record));
        id
    }

    /// Records what the interpreter must know about a step to resume it.
    pub fn step(&self, step: &str, state: &str, record: Value) {
        if self.committer.is_none() {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let mutation = Mutation::PutStep(StepRecord {
            execution_arn: self.execution_arn.clone(),
            step: step.to_string(),
            state: state.to_string(),
            record: record.to_string(),
        });
        self.push(&mut inner, mutation);
    }

    /// Queues other writes (the execution's row) behind what was emitted so far.
    pub fn put(&self, mutations: Vec<Mutation>) {
        if let Ok(mut inner) = self.inner.lock() {
            for mutation in mutations {
                self.push(&mut inner, mutation);
            }
        }
    }

    fn push(&self, inner: &mut Inner, mutation: Mutation) {
        let Some(committer) = &self.committer else {
            return;
        };
        inner.pending.push(mutation);
        if inner.pending.len() >= FLUSH_AT {
            committer.submit_detached(std::mem::take(&mut inner.pending));
        }
    }

    /// Hands what is buffered to the committer (without waiting for it): before the interpreter
    /// waits for anything, so that a Wait's deadline is on its way to disk while it sleeps.
    pub fn flush(&self) {
        let Some(committer) = &self.committer else {
            return;
        };
        if let Ok(mut inner) = self.inner.lock()
            && !inner.pending.is_empty()
        {
            committer.submit_detached(std::mem::take(&mut inner.pending));
        }
    }

    /// Waits until everything emitted so far is durable.
    pub async fn sync(&self) -> Result<(), String> {
        let Some(committer) = &self.committer else {
            return Ok(());
        };
        let pending = match self.inner.lock() {
            Ok(mut inner) => std::mem::take(&mut inner.pending),
            Err(_) => Vec::new(),
        };
        committer.submit(pending).await.map_err(|e| e.to_string())
    }
}

/// The event as Step Functions' GetExecutionHistory returns it.
pub fn event_json(record: &HistoryEventRecord) -> Value {
    let mut event = serde_json::Map::new();
    event.insert("timestamp".into(), json!(record.at as f64 / 1_000_000.0));
    event.insert("type".into(), json!(record.event_type));
    event.insert("id".into(), json!(record.id));
    event.insert("previousEventId".into(), json!(record.previous_id));
    if let Ok(Value::Object(details)) = serde_json::from_str::<Value>(&record.details) {
        for (k, v) in details {
            event.insert(k.clone(), v.clone());
        }
    }
    Value::Object(event)
}

/// `{"truncated": false}`, which Step Functions puts next to every input and output.
pub fn not_truncated() -> Value {
    json!({"truncated": false})
}
