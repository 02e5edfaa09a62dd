//! Group commit: one writer applies the mutations of every caller that arrived while the previous
//! commit was in flight, in one transaction. A commit costs one fsync however many transitions it
//! carries, so a thousand runs moving at once cost about what one does.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::{Mutation, Result, Store, StoreError};

/// Most mutations gathered into one transaction; bounds a commit's latency under a flood.
const MAX_BATCH: usize = 20_000;

struct Pending {
    batch: Vec<Mutation>,
    done: oneshot::Sender<Result<(), String>>,
}

/// A handle to the group-commit writer. Cloning shares the writer.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::UnboundedSender<Pending>,
}

impl Committer {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(store: Arc<dyn Store>) -> Committer {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(store, rx));
        Committer { tx }
    }

    /// Queues `batch` for the next commit. The returned future resolves once the batch is durable
    /// (or the commit failed); the order of submissions is the order of application.
    pub fn submit<M: Into<Mutation>>(
        &self,
        batch: Vec<M>,
    ) -> impl Future<Output = Result<()>> + Send + 'static {
        // A no-op when the caller sent `Mutation`s already (collected in place).
        let batch: Vec<Mutation> = batch.into_iter().map(Into::into).collect();
        let (done, wait) = oneshot::channel();
        let sent = self.tx.send(Pending { batch, done }).is_ok();
        async move {
            if !sent {
                return Err(StoreError::Closed);
            }
            match wait.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(message)) => Err(StoreError::Commit(message)),
                Err(_) => Err(StoreError::Closed),
            }
        }
    }
}

async fn write_loop(store: Arc<dyn Store>, mut rx: mpsc::UnboundedReceiver<Pending>) {
    // Every caller's batch, end to end, and where each one ends.
    let mut batch: Vec<Mutation> = Vec::new();
    let mut callers: Vec<(usize, oneshot::Sender<Result<(), String>>)> = Vec::new();
    while let Some(first) = rx.recv().await {
        batch.extend(first.batch);
        callers.push((batch.len(), first.done));
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => {
                    batch.extend(next.batch);
                    callers.push((batch.len(), next.done));
                }
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let result = store.apply(&batch).await.map_err(|e| e.to_string());
        tracing::trace!(
            mutations = batch.len(),
            callers = callers.len(),
            micros = started.elapsed().as_micros() as u64,
            "group commit"
        );
        match result {
            Ok(()) => {
                for (_, done) in callers.drain(..) {
                    let _ = done.send(Ok(()));
                }
            }
            Err(error) if callers.len() == 1 => {
                tracing::error!(%error, mutations = batch.len(), "metadata commit failed");
                for (_, done) in callers.drain(..) {
                    let _ = done.send(Err(error.clone()));
                }
            }
            Err(error) => {
                // One caller's bad mutation must not fail the others that shared its commit:
                // each batch is applied again on its own, in the order they came, and only those
                // that fail on their own are told so. (Transactions are all or nothing, so the
                // failed group commit left nothing behind to apply twice.)
                tracing::warn!(%error, callers = callers.len(), "group commit failed; committing its callers one by one");
                let mut start = 0;
                for (end, done) in callers.drain(..) {
                    let own = store
                        .apply(&batch[start..end])
                        .await
                        .map_err(|e| e.to_string());
                    if let Err(error) = &own {
                        tracing::error!(%error, mutations = end - start, "metadata commit failed");
                    }
                    let _ = done.send(own);
                    start = end;
                }
            }
        }
        batch.clear();
    }
}
