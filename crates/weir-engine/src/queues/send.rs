//! SendMessage and SendMessageBatch: each message checked, FIFO de-duplication applied, every
//! accepted message committed in one store batch, and only then answered and made receivable.

use std::sync::Arc;

use weir_store::{QueueDedupRecord, QueuesMutation};

use super::error::{BatchError, QueueError};
use super::index::Entry;
use super::md5::{md5_of_attributes, md5_of_body};
use super::message::{self, NewMessage, Sent};
use super::store_rows::Content;
use super::{DEDUP_WINDOW_MS, Dedup, Queues, now_ms, uuid};

impl Queues {
    /// Sends messages to a queue: one result per message, in order. The accepted ones are
    /// durable when this returns.
    pub async fn send(
        &self,
        queue: &str,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<Result<Sent, BatchError>>, QueueError> {
        let queue = self.resolve(queue)?;
        let now = now_ms();
        let mut results = Vec::with_capacity(messages.len());
        let mut inserted = Vec::new();
        let mut dedup_keys = Vec::new();
        let committed = {
            let mut state = queue.live()?;
            let settings = state.settings.clone();
            let mut mutations = Vec::with_capacity(messages.len() * 2);
            if settings.fifo && state.prune_dedups(now) {
                mutations.push(QueuesMutation::DeleteExpiredDedups {
                    queue: queue.name.clone(),
                    before_ms: now,
                });
            }
            for message in messages {
                if let Err(error) = message::check(&message, &settings) {
                    results.push(Err(BatchError::from(error)));
                    continue;
                }
                let md5_of_message_body = md5_of_body(&message.body);
                let md5_of_message_attributes = md5_of_attributes(&message.message_attributes);
                let md5_of_message_system_attributes =
                    md5_of_attributes(&message.system_attributes);
                let dedup_key = settings.fifo.then(|| {
                    let id = message
                        .deduplication_id
                        .clone()
                        .unwrap_or_else(|| sha256_hex(&message.body));
                    match (&message.group_id, settings.dedup_per_group) {
                        (Some(group), true) => format!("{group}\u{1f}{id}"),
                        _ => id,
                    }
                });
                if let Some(seen) = dedup_key.as_ref().and_then(|k| state.dedups.get(k)) {
                    // Accepted, not delivered again: the first message's id and number.
                    results.push(Ok(Sent {
                        message_id: seen.message_id.clone(),
                        md5_of_message_body,
                        md5_of_message_attributes,
                        md5_of_message_system_attributes,
                        sequence_number: seen.sequence_number.clone(),
                    }));
                    continue;
                }
                let seq = self.next_seq();
                let size = message::message_size(&message);
                let delay = message.delay_seconds.unwrap_or(settings.delay_seconds);
                let visible_ms = now + i64::from(delay) * 1000;
                let sequence_number = settings.fifo.then(|| format!("{seq:020}"));
                let content = Arc::new(Content {
                    message_id: uuid(),
                    body: message.body,
                    message_attributes: message.message_attributes,
                    system_attributes: message.system_attributes,
                    md5_of_body: md5_of_message_body,
                    md5_of_message_attributes,
                    md5_of_system_attributes: md5_of_message_system_attributes,
                    group_id: message.group_id,
                    dedup_id: message.deduplication_id,
                    sequence_number,
                    sent_ms: now,
                });
                mutations.push(QueuesMutation::PutMessage(content.record(
                    seq,
                    &queue.name,
                    visible_ms,
                    size,
                )));
                if let Some(key) = dedup_key {
                    let expires_ms = now + DEDUP_WINDOW_MS;
                    mutations.push(QueuesMutation::PutDedup(QueueDedupRecord {
                        queue: queue.name.clone(),
                        dedup_key: key.clone(),
                        message_id: content.message_id.clone(),
                        sequence_number: content.sequence_number.clone(),
                        expires_ms,
                    }));
                    state.dedups.insert(
                        key.clone(),
                        Dedup {
                            message_id: content.message_id.clone(),
                            sequence_number: content.sequence_number.clone(),
                            expires_ms,
                        },
                    );
                    state.dedup_expiry.push_back((expires_ms, key.clone()));
                    dedup_keys.push(key);
                }
                results.push(Ok(Sent {
                    message_id: content.message_id.clone(),
                    md5_of_message_body: content.md5_of_body.clone(),
                    md5_of_message_attributes: content.md5_of_message_attributes.clone(),
                    md5_of_message_system_attributes: content.md5_of_system_attributes.clone(),
                    sequence_number: content.sequence_number.clone(),
                }));
                let group = content
                    .group_id
                    .as_deref()
                    .filter(|_| settings.fifo)
                    .map(Arc::<str>::from);
                state.index.insert_pending(
                    seq,
                    Entry::new(now, visible_ms, group, size),
                    Some(content),
                );
                inserted.push(seq);
            }
            // Submitted under the queue's lock, so the store applies this queue's changes in
            // the order memory saw them.
            (!mutations.is_empty()).then(|| self.inner.committer.submit(mutations))
        };
        let Some(committed) = committed else {
            return Ok(results);
        };
        // Finished on a task of its own: a caller that goes away must not leave messages
        // pending for ever.
        let finishing = Arc::clone(&queue);
        let outcome = tokio::spawn(async move {
            let result = committed.await;
            let now = now_ms();
            let mut state = finishing.lock();
            for seq in &inserted {
                if result.is_ok() {
                    state.index.commit(*seq, now);
                } else {
                    state.index.remove(*seq);
                }
            }
            if result.is_err() {
                for key in &dedup_keys {
                    state.dedups.remove(key);
                }
            }
            drop(state);
            if result.is_ok() && !inserted.is_empty() {
                finishing.wake();
                finishing
                    .sends
                    .send_modify(|sent| *sent += inserted.len() as u64);
            }
            result
        })
        .await
        .map_err(|e| QueueError::Internal(format!("a send's commit was interrupted: {e}")))?;
        outcome?;
        Ok(results)
    }
}

/// A body's SHA-256 in hex: content-based de-duplication's id.
fn sha256_hex(body: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, body.as_bytes()))
}
