//! ReceiveMessage: visible messages taken in order (a standard queue's oldest first; a FIFO
//! queue's by message group, one group's batch in flight at a time), their receive counts and
//! visibility committed before the answer, messages past maxReceiveCount moved to the
//! dead-letter queue in the same commit, and long polls woken by sends (or by the next message
//! becoming visible), never by polling.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use weir_store::{QueueReceiptRecord, QueuesMutation};

use super::error::QueueError;
use super::index::Taken;
use super::md5::md5_of_attributes;
use super::message::{self, ReceiveRequest, Received};
use super::receipt::Receipt;
use super::store_rows::Content;
use super::{Queue, Queues, now_ms};

impl Queues {
    /// Receives up to `max_messages` messages, waiting up to the request's (or the queue's)
    /// wait time for the first.
    pub async fn receive(
        &self,
        queue: &str,
        request: ReceiveRequest,
    ) -> Result<Vec<Received>, QueueError> {
        message::check_receive(&request)?;
        let queue = self.resolve(queue)?;
        let wait = request
            .wait_seconds
            .unwrap_or_else(|| queue.lock().settings.wait_seconds);
        let deadline = Instant::now() + Duration::from_secs(u64::from(wait));
        loop {
            // Registered before looking, so a send between the look and the wait still wakes.
            let notified = queue.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (received, next_visible_ms) = self.receive_once(&queue, &request).await?;
            if !received.is_empty() || Instant::now() >= deadline {
                return Ok(received);
            }
            let wake = match next_visible_ms {
                Some(at) => {
                    let after = Duration::from_millis((at - now_ms()).max(0) as u64);
                    (Instant::now() + after).min(deadline)
                }
                None => deadline,
            };
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    /// One look at the queue: what it took, and when the next waiting message becomes visible.
    async fn receive_once(
        &self,
        queue: &Arc<Queue>,
        request: &ReceiveRequest,
    ) -> Result<(Vec<Received>, Option<i64>), QueueError> {
        let redrive = queue.live()?.settings.redrive.clone();
        let dead_letter = redrive
            .as_ref()
            .and_then(|policy| self.find_arn(&policy.dead_letter_target_arn))
            .filter(|dlq| dlq.name != queue.name);
        let max_receive_count = redrive
            .as_ref()
            .filter(|_| dead_letter.is_some())
            .map(|policy| policy.max_receive_count);
        let now = now_ms();
        let (taken, redriven, next_visible_ms, committed) = {
            let mut state = queue.live()?;
            let mut mutations = state.expire(now);
            state.index.promote(now);
            let visibility = request
                .visibility_timeout
                .unwrap_or(state.settings.visibility_timeout);
            let (taken, redriven) = state.index.take(
                now,
                request.max_messages as usize,
                i64::from(visibility) * 1000,
                max_receive_count,
            );
            for taken in &taken {
                mutations.push(QueuesMutation::PutReceipt(QueueReceiptRecord {
                    seq: taken.seq,
                    queue: queue.name.clone(),
                    visible_ms: taken.entry.visible_ms,
                    receive_count: i64::from(taken.entry.receive_count),
                    first_receive_ms: taken.entry.first_receive_ms,
                    // Stored as the bits of an i64 (neither database has an unsigned type).
                    nonce: taken.entry.nonce as i64,
                }));
            }
            if let Some(dlq) = &dead_letter {
                for moved in &redriven {
                    mutations.push(QueuesMutation::MoveMessage {
                        seq: moved.seq,
                        to_queue: dlq.name.clone(),
                    });
                }
            }
            let next = state.index.next_visible_ms();
            if !taken.is_empty() && state.index.has_visible() {
                // More for the next poll in line (sends wake one poll, not all).
                queue.wake();
            }
            let committed = (!mutations.is_empty()).then(|| self.inner.committer.submit(mutations));
            (taken, redriven, next, committed)
        };
        if let Some(dlq) = &dead_letter {
            let mut state = dlq.lock();
            for moved in &redriven {
                let mut entry = moved.entry.clone();
                entry.visible_ms = now;
                entry.in_flight = false;
                let content = entry.content.take();
                state.index.insert_pending(moved.seq, entry, content);
            }
        }
        match committed {
            None => {}
            // Once submitted, the commit happens whether or not this caller waits for it.
            Some(committed) if redriven.is_empty() => committed.await?,
            Some(committed) => Self::settle_redrive(committed, dead_letter, &redriven).await?,
        }
        if taken.is_empty() {
            return Ok((Vec::new(), next_visible_ms));
        }
        let contents = self.contents(queue, &taken).await?;
        let fifo = queue.lock().settings.fifo;
        let received = taken
            .iter()
            .filter_map(|taken| {
                let content = contents.get(&taken.seq)?;
                Some(self.received(queue, taken, content, request, fifo))
            })
            .collect();
        Ok((received, next_visible_ms))
    }

    /// Waits for a receive's commit that moved messages to the dead-letter queue, then makes
    /// them receivable there (or forgets them if the commit failed). On a task of its own, so a
    /// caller that goes away cannot leave them pending.
    async fn settle_redrive(
        committed: impl Future<Output = Result<(), weir_store::StoreError>> + Send + 'static,
        dlq: Option<Arc<Queue>>,
        redriven: &[Taken],
    ) -> Result<(), QueueError> {
        let seqs: Vec<i64> = redriven.iter().map(|m| m.seq).collect();
        tokio::spawn(async move {
            let result = committed.await;
            if let Some(dlq) = dlq.filter(|_| !seqs.is_empty()) {
                let now = now_ms();
                let mut state = dlq.lock();
                for seq in &seqs {
                    if result.is_ok() {
                        state.index.commit(*seq, now);
                    } else {
                        state.index.remove(*seq);
                    }
                }
                drop(state);
                dlq.wake();
            }
            result
        })
        .await
        .map_err(|e| QueueError::Internal(format!("a receive's commit was interrupted: {e}")))??;
        Ok(())
    }

    /// The content of each message taken: from memory where kept, else from the store.
    async fn contents(
        &self,
        queue: &Queue,
        taken: &[Taken],
    ) -> Result<HashMap<i64, Arc<Content>>, QueueError> {
        let mut contents = HashMap::with_capacity(taken.len());
        let mut missing = Vec::new();
        for taken in taken {
            match &taken.entry.content {
                Some(content) => {
                    contents.insert(taken.seq, Arc::clone(content));
                }
                None => missing.push(taken.seq),
            }
        }
        if !missing.is_empty() {
            let rows = self.inner.store.queue_messages(&missing).await?;
            let mut state = queue.lock();
            for row in rows {
                let content = Arc::new(Content::from_record(&row));
                state.index.cache(row.seq, &content);
                contents.insert(row.seq, content);
            }
        }
        Ok(contents)
    }

    fn received(
        &self,
        queue: &Queue,
        taken: &Taken,
        content: &Content,
        request: &ReceiveRequest,
        fifo: bool,
    ) -> Received {
        let names = &request.attribute_names;
        let all = names.iter().any(|n| n == "All");
        let wanted = |name: &str| all || names.iter().any(|n| n == name);
        let mut attributes = BTreeMap::new();
        let mut put = |name: &str, value: Option<String>| {
            if let Some(value) = value.filter(|_| wanted(name)) {
                attributes.insert(name.to_string(), value);
            }
        };
        put("SenderId", Some(self.inner.account.clone()));
        put("SentTimestamp", Some(content.sent_ms.to_string()));
        put(
            "ApproximateReceiveCount",
            Some(taken.entry.receive_count.to_string()),
        );
        put(
            "ApproximateFirstReceiveTimestamp",
            taken.entry.first_receive_ms.map(|ms| ms.to_string()),
        );
        put(
            "AWSTraceHeader",
            content
                .system_attributes
                .get("AWSTraceHeader")
                .and_then(|v| v.string_value.clone()),
        );
        if fifo {
            put("MessageGroupId", content.group_id.clone());
            put("MessageDeduplicationId", content.dedup_id.clone());
            put("SequenceNumber", content.sequence_number.clone());
        }
        let message_attributes: BTreeMap<_, _> = content
            .message_attributes
            .iter()
            .filter(|(name, _)| message::wanted(&request.message_attribute_names, name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        Received {
            message_id: content.message_id.clone(),
            receipt_handle: Receipt {
                queue: queue.name.clone(),
                seq: taken.seq,
                nonce: taken.entry.nonce,
            }
            .encode(),
            body: content.body.clone(),
            md5_of_body: content.md5_of_body.clone(),
            md5_of_message_attributes: md5_of_attributes(&message_attributes),
            attributes,
            message_attributes,
        }
    }
}
