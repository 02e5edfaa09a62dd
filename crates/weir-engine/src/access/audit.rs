//! The audit log's writer: entries go through a bounded queue to one task that commits them in
//! batches, so auditing a call costs the request a queue push, and a flood of calls slows its
//! callers (backpressure) instead of growing memory.
//!
//! A batch is committed [`LINGER`] after its first entry, not at once. The metadata database has
//! one writer: an audit commit made at once after each call took the writer just when the call's
//! own work needed it next (a trigger's run starting, then ending), so every audited call of a
//! client waited one more commit (`weir bench auth`, release build: a trigger and its wait 18–24 %
//! slower with authentication on, an express StartExecution 51–64 %; with the linger, the trigger
//! within ±3 %). Lingering gathers a sequential client's entries into a commit every tenth of a
//! second. No request waits for its entry's commit in
//! either case; what lingers is committed before the audit log is read ([`AuditWriter::flush`])
//! and when the server stops.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use weir_store::{AccessMutation, AuditRecord, Committer};

/// Entries waiting to be committed before callers wait.
const QUEUE: usize = 4096;
/// Entries per commit at most.
const BATCH: usize = 1024;
/// How long a batch gathers entries after its first one.
const LINGER: Duration = Duration::from_millis(100);

enum Message {
    Entry(AuditRecord),
    /// Commit what is queued now, then answer.
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<Message>,
}

impl AuditWriter {
    pub fn start(committer: Committer) -> AuditWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_loop(committer, rx, LINGER));
        AuditWriter { tx }
    }

    /// Queues an entry; waits while the queue is full.
    pub async fn record(&self, entry: AuditRecord) {
        if self.tx.send(Message::Entry(entry)).await.is_err() {
            tracing::error!("the audit log's writer has stopped; an entry was not recorded");
        }
    }

    /// Returns once every entry queued before the call is committed (or its commit failed).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write_loop(committer: Committer, mut rx: mpsc::Receiver<Message>, linger: Duration) {
    let mut entries = Vec::with_capacity(BATCH);
    let mut flushes = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut deadline = None;
        let mut next = Some(first);
        loop {
            match next.take() {
                Some(Message::Entry(entry)) => {
                    entries.push(entry);
                    deadline.get_or_insert_with(|| tokio::time::Instant::now() + linger);
                }
                Some(Message::Flush(done)) => flushes.push(done),
                None => {}
            }
            if !flushes.is_empty() || entries.len() >= BATCH {
                break;
            }
            let Some(deadline) = deadline else {
                break;
            };
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(message)) => next = Some(message),
                // The writer is closing, or the batch has waited long enough.
                Ok(None) | Err(_) => break,
            }
        }
        if !entries.is_empty() {
            let batch = std::mem::replace(&mut entries, Vec::with_capacity(BATCH));
            let count = batch.len();
            if let Err(error) = committer.submit(vec![AccessMutation::Audit(batch)]).await {
                tracing::error!(%error, count, "audit entries could not be committed");
            }
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}
