//! The audit log's writer: entries go through a bounded queue to one task that commits them in
//! batches, so auditing a call costs the request a queue push, and a flood of calls slows its
//! callers (backpressure) instead of growing memory.

use tokio::sync::mpsc;
use weir_store::{AccessMutation, AuditRecord, Committer};

/// Entries waiting to be committed before callers wait.
const QUEUE: usize = 4096;
/// Entries per commit at most.
const BATCH: usize = 1024;

#[derive(Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<AuditRecord>,
}

impl AuditWriter {
    pub fn start(committer: Committer) -> AuditWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_loop(committer, rx));
        AuditWriter { tx }
    }

    /// Queues an entry; waits while the queue is full.
    pub async fn record(&self, entry: AuditRecord) {
        if self.tx.send(entry).await.is_err() {
            tracing::error!("the audit log's writer has stopped; an entry was not recorded");
        }
    }
}

async fn write_loop(committer: Committer, mut rx: mpsc::Receiver<AuditRecord>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let entries = std::mem::take(&mut batch);
        let count = entries.len();
        if let Err(error) = committer.submit(vec![AccessMutation::Audit(entries)]).await {
            tracing::error!(%error, count, "audit entries could not be committed");
        }
    }
}
