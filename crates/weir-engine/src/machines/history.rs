//! An execution's history and step records on their way to the store.
//!
//! Events get consecutive ids in the order they are emitted (branches of a Parallel or a Map
//! interleave, as in Step Functions). Writes are queued to the group committer without waiting;
//! [`Journal::sync`] waits until everything queued so far is durable, which the interpreter does
//! before anything with an effect outside weir (a task) and at the end of the execution. A crash
//! loses at most the pure steps since the last sync, which replay computes again.

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
}

impl Journal {
    /// `next_id`: one past the last event already stored (1 for a new execution).
    pub fn new(execution_arn: String, committer: Option<Committer>, next_id: i64) -> Journal {
        Journal {
            execution_arn,
            committer,
            inner: Mutex::new(Inner { next_id }),
        }
    }

    /// Appends an event; `details` is the type's details object (its key is derived from the
    /// type when `key` is None). Returns the event's id.
    pub fn event(&self, event_type: &str, key: &str, details: Value, previous: i64) -> i64 {
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
            previous_id: previous,
            at: now_us(),
            event_type: event_type.to_string(),
            details: Value::Object(body),
        };
        if let Some(committer) = &self.committer {
            committer.submit_detached(vec![Mutation::HistoryEvent(record)]);
        }
        id
    }

    /// The last event id handed out.
    pub fn last_id(&self) -> i64 {
        self.inner.lock().map(|i| i.next_id - 1).unwrap_or(0)
    }

    /// Records what the interpreter must know about a step to resume it.
    pub fn step(&self, step: &str, state: &str, record: Value) {
        if let Some(committer) = &self.committer {
            committer.submit_detached(vec![Mutation::PutStep(StepRecord {
                execution_arn: self.execution_arn.clone(),
                step: step.to_string(),
                state: state.to_string(),
                record,
            })]);
        }
    }

    /// Queues other writes (the execution's row) behind what was emitted so far.
    pub fn put(&self, mutations: Vec<Mutation>) {
        if let Some(committer) = &self.committer {
            committer.submit_detached(mutations);
        }
    }

    /// Waits until everything emitted so far is durable.
    pub async fn sync(&self) -> Result<(), String> {
        match &self.committer {
            Some(committer) => committer
                .submit(Vec::new())
                .await
                .map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }
}

/// The event as Step Functions' GetExecutionHistory returns it.
pub fn event_json(record: &HistoryEventRecord) -> Value {
    let mut event = serde_json::Map::new();
    event.insert("timestamp".into(), json!(record.at as f64 / 1_000_000.0));
    event.insert("type".into(), json!(record.event_type));
    event.insert("id".into(), json!(record.id));
    event.insert("previousEventId".into(), json!(record.previous_id));
    if let Value::Object(details) = &record.details {
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
