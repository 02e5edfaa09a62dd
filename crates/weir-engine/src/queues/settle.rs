//! DeleteMessage(Batch), ChangeMessageVisibility(Batch) and PurgeQueue: what a consumer does
//! with what it received, each committed before it is answered.

use weir_store::{QueueReceiptRecord, QueuesMutation};

use super::attributes::MAX_VISIBILITY_TIMEOUT;
use super::error::{BatchError, QueueError};
use super::index::Index;
use super::receipt::Receipt;
use super::{PURGE_INTERVAL_MS, Queues, now_ms};

impl Queues {
    /// Deletes received messages by receipt handle: one result per handle, in order. A
    /// message already deleted is no error. A handle from an earlier receive of a message
    /// received again since deletes nothing (SQS: "the request succeeds, but the message might
    /// not be deleted"); on a FIFO queue it has expired, as has one whose visibility timeout
    /// has passed.
    pub async fn delete(
        &self,
        queue: &str,
        receipt_handles: Vec<String>,
    ) -> Result<Vec<Result<(), BatchError>>, QueueError> {
        let queue = self.resolve(queue)?;
        let now = now_ms();
        let mut results = Vec::with_capacity(receipt_handles.len());
        let committed = {
            let mut state = queue.live()?;
            state.index.promote(now);
            let fifo = state.settings.fifo;
            let mut mutations = Vec::new();
            for handle in &receipt_handles {
                let Some(receipt) = Receipt::decode(handle).filter(|r| r.queue == queue.name)
                else {
                    results.push(Err(
                        QueueError::ReceiptHandleIsInvalid(handle.clone()).into()
                    ));
                    continue;
                };
                let Some(entry) = state.index.get(receipt.seq) else {
                    results.push(Ok(()));
                    continue;
                };
                let current = entry.nonce == receipt.nonce;
                if fifo && !(current && entry.in_flight) {
                    results.push(Err(QueueError::InvalidParameterValue(format!(
                        "Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
                    ))
                    .into()));
                    continue;
                }
                if current {
                    state.index.remove(receipt.seq);
                    mutations.push(QueuesMutation::DeleteMessage { seq: receipt.seq });
                }
                results.push(Ok(()));
            }
            (!mutations.is_empty()).then(|| self.inner.committer.submit(mutations))
        };
        if let Some(committed) = committed {
            committed.await?;
            // A FIFO group whose batch is done may give its next messages.
            queue.wake();
        }
        Ok(results)
    }

    /// Changes the visibility timeout of received messages: `(receipt handle, seconds from
    /// now)`, one result per entry, in order. 0 makes a message visible at once.
    pub async fn change_visibility(
        &self,
        queue: &str,
        entries: Vec<(String, u32)>,
    ) -> Result<Vec<Result<(), BatchError>>, QueueError> {
        let queue = self.resolve(queue)?;
        let now = now_ms();
        let mut results = Vec::with_capacity(entries.len());
        let mut made_visible = false;
        let committed = {
            let mut state = queue.live()?;
            state.index.promote(now);
            let mut mutations = Vec::new();
            for (handle, timeout) in &entries {
                let invalid_timeout = |reason: &str| {
                    QueueError::InvalidParameterValue(format!(
                        "Value {timeout} for parameter VisibilityTimeout is invalid. Reason: {reason}"
                    ))
                };
                if *timeout > MAX_VISIBILITY_TIMEOUT {
                    results.push(Err(invalid_timeout(
                        "Must be between 0 and 43200, if provided.",
                    )
                    .into()));
                    continue;
                }
                let Some(receipt) = Receipt::decode(handle).filter(|r| r.queue == queue.name)
                else {
                    results.push(Err(
                        QueueError::ReceiptHandleIsInvalid(handle.clone()).into()
                    ));
                    continue;
                };
                let Some(entry) = state
                    .index
                    .get(receipt.seq)
                    .filter(|e| e.in_flight && e.nonce == receipt.nonce)
                else {
                    results.push(Err(QueueError::MessageNotInflight.into()));
                    continue;
                };
                let visible_ms = now + i64::from(*timeout) * 1000;
                // Whole seconds since the receive, as SQS counts the 12 hours.
                let elapsed_s = (now - entry.last_receive_ms.unwrap_or(now)).max(0) / 1000;
                if elapsed_s + i64::from(*timeout) > i64::from(MAX_VISIBILITY_TIMEOUT) {
                    results.push(Err(invalid_timeout(
                        "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
                    )
                    .into()));
                    continue;
                }
                let (receive_count, first_receive_ms, nonce) =
                    (entry.receive_count, entry.first_receive_ms, entry.nonce);
                state.index.set_visibility(receipt.seq, visible_ms);
                mutations.push(QueuesMutation::PutReceipt(QueueReceiptRecord {
                    seq: receipt.seq,
                    queue: queue.name.clone(),
                    visible_ms,
                    receive_count: i64::from(receive_count),
                    first_receive_ms,
                    nonce: nonce as i64,
                }));
                made_visible |= *timeout == 0;
                results.push(Ok(()));
            }
            if made_visible {
                state.index.promote(now);
            }
            (!mutations.is_empty()).then(|| self.inner.committer.submit(mutations))
        };
        if let Some(committed) = committed {
            committed.await?;
        }
        if made_visible {
            queue.wake();
        }
        Ok(results)
    }

    /// PurgeQueue: deletes every message the queue holds now. Once every 60 seconds per queue.
    pub async fn purge(&self, queue: &str) -> Result<(), QueueError> {
        let queue = self.resolve(queue)?;
        let now = now_ms();
        let committed = {
            let mut state = queue.live()?;
            if state
                .last_purge_ms
                .is_some_and(|last| now - last < PURGE_INTERVAL_MS)
            {
                return Err(QueueError::PurgeQueueInProgress(queue.name.clone()));
            }
            state.last_purge_ms = Some(now);
            state.index = Index::new(state.settings.fifo);
            // Every message of this queue was given its seq under this lock, before now.
            let through_seq = self
                .inner
                .last_seq
                .load(std::sync::atomic::Ordering::Relaxed);
            self.inner
                .committer
                .submit(vec![QueuesMutation::PurgeQueue {
                    queue: queue.name.clone(),
                    through_seq,
                }])
        };
        committed.await?;
        Ok(())
    }
}
