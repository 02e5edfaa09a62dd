//! An execution's history and step records on their way to the store.
//!
//! Events get consecutive ids in the order they are emitted (branches of a Parallel or a Map
//! interleave, as in Step Functions). Writes gather in a buffer that goes to the group committer
//! every [`FLUSH_AT`] records and whenever the interpreter is about to wait ([`Journal::flush`]);
//! [`Journal::sync`] waits until everything so far is durable, which the interpreter does before
//! anything with an effect outside weir (a task) and at the end of the execution. A crash loses
//! at most the pure steps since the last sync, which replay computes again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use serde_json::{Value, json};
use weir_store::{Committer, HistoryEventRecord, MachineMutation, StepRecord};

use crate::time::now_us;

/// Where an execution's records go: the store (standard workflows) or nowhere (express ones,
/// which Step Functions keeps no history of either).
pub(crate) struct Journal {
    execution_arn: String,
    committer: Option<Committer>,
    /// Secret values are masked in the events' details (what GetExecutionHistory shows).
    secrets: Option<std::sync::Arc<crate::secrets::Secrets>>,
    inner: Mutex<Inner>,
}

struct Inner {
    next_id: i64,
    /// Records not yet handed to the committer.
    pending: Vec<MachineMutation>,
    /// Batches handed to the committer without waiting, until a sync hears how they ended.
    in_flight: Vec<Commit>,
    /// The first of those that failed: the history has a gap, so every later sync fails too.
    failed: Option<String>,
}

type Commit = Pin<Box<dyn Future<Output = weir_store::Result<()>> + Send>>;

/// Records gathered before they go to the committer: one hand-off per few hundred transitions of
/// a long run of pure states, instead of one per record.
const FLUSH_AT: usize = 512;

impl Journal {
    /// `next_id`: one past the last event already stored (1 for a new execution).
    pub fn new(execution_arn: String, committer: Option<Committer>, next_id: i64) -> Journal {
        Journal {
            execution_arn,
            committer,
            secrets: None,
            inner: Mutex::new(Inner {
                next_id,
                pending: Vec::new(),
                in_flight: Vec::new(),
                failed: None,
            }),
        }
    }

    /// Masks secret values in the details of the events appended from now on.
    pub fn masking(self, secrets: std::sync::Arc<crate::secrets::Secrets>) -> Journal {
        Journal {
            secrets: Some(secrets),
            ..self
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
            let details = match &self.secrets {
                Some(secrets) => secrets.masker().mask_json(&details),
                None => details,
            };
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
        self.push(&mut inner, MachineMutation::HistoryEvent(record));
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
        let mutation = MachineMutation::PutStep(StepRecord {
            execution_arn: self.execution_arn.clone(),
            step: step.to_string(),
            state: state.to_string(),
            record: record.to_string(),
        });
        self.push(&mut inner, mutation);
    }

    /// Queues other writes (the execution's row) behind what was emitted so far.
    pub fn put(&self, mutations: Vec<MachineMutation>) {
        if let Ok(mut inner) = self.inner.lock() {
            for mutation in mutations {
                self.push(&mut inner, mutation);
            }
        }
    }

    fn push(&self, inner: &mut Inner, mutation: MachineMutation) {
        let Some(committer) = &self.committer else {
            return;
        };
        inner.pending.push(mutation);
        if inner.pending.len() >= FLUSH_AT {
            let batch = std::mem::take(&mut inner.pending);
            inner.in_flight.push(Box::pin(committer.submit(batch)));
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
            let batch = std::mem::take(&mut inner.pending);
            inner.in_flight.push(Box::pin(committer.submit(batch)));
        }
    }

    /// Whether this journal is stored at all (an express execution's is not).
    pub fn is_durable(&self) -> bool {
        self.committer.is_some()
    }

    /// Waits until everything emitted so far is durable.
    pub async fn sync(&self) -> Result<(), String> {
        let Some(committer) = &self.committer else {
            return Ok(());
        };
        let (pending, earlier) = match self.inner.lock() {
            Ok(mut inner) => {
                if let Some(failed) = &inner.failed {
                    return Err(failed.clone());
                }
                (
                    std::mem::take(&mut inner.pending),
                    std::mem::take(&mut inner.in_flight),
                )
            }
            Err(_) => return Err("the execution's journal is poisoned".into()),
        };
        let last = committer.submit(pending);
        // Everything handed over earlier must be durable too, not only the last batch: a batch
        // that failed is a gap in the history, and this sync reports it.
        for commit in earlier {
            if let Err(error) = commit.await {
                let error = error.to_string();
                if let Ok(mut inner) = self.inner.lock() {
                    inner.failed.get_or_insert_with(|| error.clone());
                }
                return Err(error);
            }
        }
        last.await.map_err(|error| {
            let error = error.to_string();
            if let Ok(mut inner) = self.inner.lock() {
                inner.failed.get_or_insert_with(|| error.clone());
            }
            error
        })
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use weir_store::fault::FaultyStore;

    use super::*;

    #[tokio::test]
    async fn a_sync_reports_a_batch_that_failed_before_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("weir.db").display());
        let store = FaultyStore::new(weir_store::open(&url).await.expect("store"));
        let journal = Journal::new("arn:x".into(), Some(Committer::start(store.clone())), 1);
        journal.event("ExecutionStarted", "", Value::Null);
        store.fail_commits(true);
        // Handed over without waiting, and lost.
        journal.flush();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        store.fail_commits(false);
        journal.event("PassStateEntered", "", Value::Null);
        let synced = journal.sync().await;
        assert!(synced.is_err(), "the lost batch went unreported");
        // The gap stays: later syncs fail too.
        journal.event("PassStateExited", "", Value::Null);
        assert!(journal.sync().await.is_err());
        let _: Arc<FaultyStore> = store;
    }
}
