//! weir's SQS: standard and FIFO queues, durable in weir-store. [`Queues`] keeps each queue's
//! message index in memory (`index.rs`: states, visibility times, FIFO groups), loaded at open,
//! and writes through its own group committer: a send is answered once its messages are
//! committed, and a receive commits each message's new receive count and visibility before it
//! answers, so a received, undeleted message comes back after its visibility timeout even
//! across a restart, and redrive counts survive one.
//!
//! Queue attributes and their checks are in `attributes.rs`, messages and theirs in
//! `message.rs`, the digests in `md5.rs`, receipt handles in `receipt.rs`; sending in
//! `send.rs`, receiving (long polling, redrive) in `receive.rs`, deleting, visibility changes
//! and purging in `settle.rs`. Errors carry SQS's codes and texts (`error.rs`).

mod attributes;
mod error;
mod index;
mod md5;
mod message;
mod receipt;
mod receive;
mod send;
mod settle;
mod store_rows;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokio::sync::{Notify, watch};
use weir_store::{Committer, QueueRecord, QueuesMutation, Store};

pub use attributes::RedrivePolicy;
pub use error::{BatchError, QueueError};
pub use md5::{md5_of_attributes, md5_of_body};
pub use message::{MessageAttributeValue, NewMessage, QueueDepth, ReceiveRequest, Received, Sent};

use attributes::Settings;
use index::{Entry, Index};

/// Most tags on a queue.
const MAX_TAGS: usize = 50;
/// How long a FIFO queue remembers a de-duplication id.
const DEDUP_WINDOW_MS: i64 = 5 * 60 * 1000;
/// How often PurgeQueue may run on one queue.
const PURGE_INTERVAL_MS: i64 = 60 * 1000;

/// The queues service. Cloning shares it.
#[derive(Clone)]
pub struct Queues {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    committer: Committer,
    region: String,
    account: String,
    /// Queue URLs are `{base_url}/{account}/{name}`.
    base_url: String,
    queues: RwLock<BTreeMap<String, Arc<Queue>>>,
    /// Serialises queue creation, deletion and attribute changes.
    admin: tokio::sync::Mutex<()>,
    /// The last message seq handed out: unique across queues, growing, near the time in
    /// microseconds so it keeps growing across restarts.
    last_seq: AtomicI64,
}

/// One queue: its names and its state behind one lock that is never held across an await.
struct Queue {
    name: String,
    url: String,
    arn: String,
    state: Mutex<QueueState>,
    /// Wakes long polls: sends, messages made visible again, deletion.
    notify: Notify,
    /// Counts messages sent (for pollers outside the service).
    sends: watch::Sender<u64>,
}

struct QueueState {
    /// Attributes set on the queue, normalised.
    attributes: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
    settings: Settings,
    created_ms: i64,
    modified_ms: i64,
    index: Index,
    /// FIFO de-duplication entries by key, and their keys by expiry.
    dedups: HashMap<String, Dedup>,
    dedup_expiry: VecDeque<(i64, String)>,
    last_purge_ms: Option<i64>,
    deleted: bool,
}

#[derive(Clone)]
struct Dedup {
    message_id: String,
    sequence_number: Option<String>,
    expires_ms: i64,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A panic while holding the lock cannot leave the index half-changed in a way later
        // calls could not live with, so a poisoned lock is used as it is.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The lock on a queue that still exists.
    fn live(&self) -> Result<MutexGuard<'_, QueueState>, QueueError> {
        let state = self.lock();
        if state.deleted {
            return Err(QueueError::QueueDoesNotExist);
        }
        Ok(state)
    }

    fn record(&self, state: &QueueState) -> QueueRecord {
        QueueRecord {
            name: self.name.clone(),
            url: self.url.clone(),
            arn: self.arn.clone(),
            attributes: serde_json::to_value(&state.attributes).unwrap_or_default(),
            tags: serde_json::to_value(&state.tags).unwrap_or_default(),
            created_ms: state.created_ms,
            modified_ms: state.modified_ms,
        }
    }

    /// Settles messages that were pending on a commit: receivable now that it is durable, or
    /// forgotten if it failed. Returns the lock, for what else the caller settles.
    fn settle_pending(&self, seqs: &[i64], committed: bool) -> MutexGuard<'_, QueueState> {
        let now = now_ms();
        let mut state = self.lock();
        for seq in seqs {
            if committed {
                state.index.commit(*seq, now);
            } else {
                state.index.remove(*seq);
            }
        }
        state
    }

    /// Wakes one long poll of this queue: it takes what it can and, if messages remain,
    /// wakes the next (`receive.rs`), so a send wakes as many polls as it has work for instead
    /// of every one.
    fn wake(&self) {
        self.notify.notify_one();
    }

    /// Wakes every long poll of this queue (it is gone).
    fn wake_all(&self) {
        self.notify.notify_waiters();
    }
}

impl QueueState {
    /// Forgets expired de-duplication entries; true when there were any.
    fn prune_dedups(&mut self, now_ms: i64) -> bool {
        let mut pruned = false;
        while let Some((expires, key)) = self.dedup_expiry.front() {
            if *expires > now_ms {
                break;
            }
            if self.dedups.get(key).is_some_and(|d| d.expires_ms <= now_ms) {
                self.dedups.remove(key);
            }
            self.dedup_expiry.pop_front();
            pruned = true;
        }
        pruned
    }

    /// Removes messages past the retention period, returning their deletions.
    fn expire(&mut self, now_ms: i64) -> Vec<QueuesMutation> {
        let before = now_ms - i64::from(self.settings.retention_seconds) * 1000;
        self.index
            .expire(before)
            .into_iter()
            .map(|seq| QueuesMutation::DeleteMessage { seq })
            .collect()
    }
}

impl Queues {
    /// Loads every queue and its messages' index from the store.
    pub async fn open(
        store: Arc<dyn Store>,
        committer: Committer,
        region: &str,
        account: &str,
        base_url: &str,
    ) -> Result<Queues, QueueError> {
        let now = now_ms();
        let mut queues = BTreeMap::new();
        for record in store.queues().await? {
            let attributes: BTreeMap<String, String> =
                serde_json::from_value(record.attributes.clone()).unwrap_or_default();
            let tags: BTreeMap<String, String> =
                serde_json::from_value(record.tags.clone()).unwrap_or_default();
            let settings = Settings::of(&attributes);
            let mut index = Index::new(settings.fifo);
            for message in store.queue_message_states(&record.name).await? {
                let group = message
                    .group_id
                    .filter(|_| settings.fifo)
                    .map(|g| Arc::<str>::from(g.as_str()));
                let mut entry = Entry::new(
                    message.sent_ms,
                    message.visible_ms,
                    group,
                    message.size.max(0) as usize,
                );
                entry.receive_count = message.receive_count.clamp(0, i64::from(u32::MAX)) as u32;
                entry.first_receive_ms = message.first_receive_ms;
                entry.nonce = message.nonce as u64;
                index.insert_stored(message.seq, entry, now);
            }
            let mut dedups = HashMap::new();
            let mut dedup_expiry = VecDeque::new();
            for dedup in store.queue_dedups(&record.name, now).await? {
                dedup_expiry.push_back((dedup.expires_ms, dedup.dedup_key.clone()));
                dedups.insert(
                    dedup.dedup_key,
                    Dedup {
                        message_id: dedup.message_id,
                        sequence_number: dedup.sequence_number,
                        expires_ms: dedup.expires_ms,
                    },
                );
            }
            let state = QueueState {
                attributes,
                tags,
                settings,
                created_ms: record.created_ms,
                modified_ms: record.modified_ms,
                index,
                dedups,
                dedup_expiry,
                last_purge_ms: None,
                deleted: false,
            };
            queues.insert(
                record.name.clone(),
                Arc::new(Queue {
                    name: record.name,
                    url: record.url,
                    arn: record.arn,
                    state: Mutex::new(state),
                    notify: Notify::new(),
                    sends: watch::Sender::new(0),
                }),
            );
        }
        let last_seq = store.max_queue_seq().await?;
        Ok(Queues {
            inner: Arc::new(Inner {
                store,
                committer,
                region: region.to_string(),
                account: account.to_string(),
                base_url: base_url.trim_end_matches('/').to_string(),
                queues: RwLock::new(queues),
                admin: tokio::sync::Mutex::new(()),
                last_seq: AtomicI64::new(last_seq),
            }),
        })
    }

    /// CreateQueue: a new queue's URL, or an existing one's when every attribute given has the
    /// value the queue has.
    pub async fn create_queue(
        &self,
        name: &str,
        attributes: BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
    ) -> Result<String, QueueError> {
        let fifo = attributes
            .get("FifoQueue")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        attributes::check_name(name, fifo)?;
        let normalised = attributes::check(&attributes, fifo, true)?;
        check_tags(&tags)?;
        let _admin = self.inner.admin.lock().await;
        if let Some(existing) = self.find(name) {
            let state = existing.lock();
            let mut effective = attributes::effective(&state.attributes);
            effective
                .entry("FifoQueue".to_string())
                .or_insert_with(|| "false".to_string());
            if let Some((different, _)) = normalised
                .iter()
                .find(|(k, v)| effective.get(*k) != Some(*v))
            {
                return Err(QueueError::QueueNameExists(different.clone()));
            }
            return Ok(existing.url.clone());
        }
        self.check_redrive(&normalised, fifo)?;
        let now = now_ms();
        let settings = Settings::of(&normalised);
        let queue = Arc::new(Queue {
            name: name.to_string(),
            url: format!("{}/{}/{name}", self.inner.base_url, self.inner.account),
            arn: self.arn(name),
            state: Mutex::new(QueueState {
                attributes: normalised,
                tags,
                index: Index::new(settings.fifo),
                settings,
                created_ms: now,
                modified_ms: now,
                dedups: HashMap::new(),
                dedup_expiry: VecDeque::new(),
                last_purge_ms: None,
                deleted: false,
            }),
            notify: Notify::new(),
            sends: watch::Sender::new(0),
        });
        let record = queue.record(&queue.lock());
        self.commit(vec![QueuesMutation::PutQueue(record)]).await?;
        self.write_queues()
            .insert(name.to_string(), Arc::clone(&queue));
        Ok(queue.url.clone())
    }

    /// DeleteQueue: the queue and its messages. An absent queue is an error, as SQS's
    /// QueueDoesNotExist.
    pub async fn delete_queue(&self, queue: &str) -> Result<(), QueueError> {
        let _admin = self.inner.admin.lock().await;
        let queue = self.resolve(queue)?;
        self.write_queues().remove(&queue.name);
        let committed = {
            let mut state = queue.lock();
            state.deleted = true;
            state.index = Index::new(state.settings.fifo);
            self.inner
                .committer
                .submit(vec![QueuesMutation::DeleteQueue {
                    name: queue.name.clone(),
                }])
        };
        queue.wake_all();
        committed.await?;
        Ok(())
    }

    /// GetQueueUrl.
    pub fn get_queue_url(&self, name: &str) -> Result<String, QueueError> {
        self.find(name)
            .map(|q| q.url.clone())
            .ok_or(QueueError::QueueDoesNotExist)
    }

    /// A queue's name, from its URL, ARN or name.
    pub fn queue_name(&self, queue: &str) -> Result<String, QueueError> {
        Ok(self.resolve(queue)?.name.clone())
    }

    /// A queue's ARN, from its URL, ARN or name.
    pub fn queue_arn(&self, queue: &str) -> Result<String, QueueError> {
        Ok(self.resolve(queue)?.arn.clone())
    }

    /// ListQueues: URLs of queues whose name starts with `prefix`, by name, `max_results`
    /// (1–1000) at a time with a token for the rest; all of them (up to 1000) without it.
    pub fn list_queues(
        &self,
        prefix: Option<&str>,
        max_results: Option<u32>,
        next_token: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>), QueueError> {
        let queues = self.read_queues();
        let names = queues
            .values()
            .filter(|q| prefix.is_none_or(|p| q.name.starts_with(p)))
            .map(|q| (q.name.clone(), q.url.clone()));
        page(names, max_results, next_token)
    }

    /// ListDeadLetterSourceQueues: URLs of queues whose redrive policy names this one.
    pub fn list_dead_letter_source_queues(
        &self,
        queue: &str,
        max_results: Option<u32>,
        next_token: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>), QueueError> {
        let target = self.resolve(queue)?;
        let queues: Vec<Arc<Queue>> = self.read_queues().values().cloned().collect();
        let sources = queues.into_iter().filter(|q| {
            q.lock()
                .settings
                .redrive
                .as_ref()
                .is_some_and(|r| r.dead_letter_target_arn == target.arn)
        });
        page(
            sources.map(|q| (q.name.clone(), q.url.clone())),
            max_results,
            next_token,
        )
    }

    /// GetQueueAttributes: the attributes named (`All` for every one).
    pub fn attributes(
        &self,
        queue: &str,
        names: &[String],
    ) -> Result<BTreeMap<String, String>, QueueError> {
        attributes::check_names(names)?;
        let queue = self.resolve(queue)?;
        let now = now_ms();
        let mut state = queue.live()?;
        let expired = state.expire(now);
        if !expired.is_empty() {
            drop(self.inner.committer.submit(expired));
        }
        state.index.promote(now);
        let depth = state.index.depth();
        let mut all = attributes::effective(&state.attributes);
        all.insert(
            "ApproximateNumberOfMessages".into(),
            depth.visible.to_string(),
        );
        all.insert(
            "ApproximateNumberOfMessagesNotVisible".into(),
            depth.in_flight.to_string(),
        );
        all.insert(
            "ApproximateNumberOfMessagesDelayed".into(),
            depth.delayed.to_string(),
        );
        all.insert(
            "CreatedTimestamp".into(),
            (state.created_ms / 1000).to_string(),
        );
        all.insert(
            "LastModifiedTimestamp".into(),
            (state.modified_ms / 1000).to_string(),
        );
        all.insert("QueueArn".into(), queue.arn.clone());
        if names.iter().any(|n| n == "All") {
            return Ok(all);
        }
        Ok(all
            .into_iter()
            .filter(|(name, _)| names.contains(name))
            .collect())
    }

    /// SetQueueAttributes. An empty RedrivePolicy, Policy or RedriveAllowPolicy removes it.
    pub async fn set_attributes(
        &self,
        queue: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<(), QueueError> {
        let _admin = self.inner.admin.lock().await;
        let queue = self.resolve(queue)?;
        let fifo = queue.lock().settings.fifo;
        let normalised = attributes::check(&attributes, fifo, false)?;
        self.check_redrive(&normalised, fifo)?;
        let committed = {
            let mut state = queue.live()?;
            for (name, value) in normalised {
                if value.is_empty() {
                    state.attributes.remove(&name);
                } else {
                    state.attributes.insert(name, value);
                }
            }
            state.settings = Settings::of(&state.attributes);
            state.modified_ms = now_ms();
            let record = queue.record(&state);
            self.inner
                .committer
                .submit(vec![QueuesMutation::PutQueue(record)])
        };
        queue.wake();
        committed.await?;
        Ok(())
    }

    /// TagQueue.
    pub async fn tag(&self, queue: &str, tags: BTreeMap<String, String>) -> Result<(), QueueError> {
        self.change_tags(queue, |current| {
            let mut merged = current.clone();
            merged.extend(tags);
            check_tags(&merged)?;
            Ok(merged)
        })
        .await
    }

    /// UntagQueue.
    pub async fn untag(&self, queue: &str, keys: &[String]) -> Result<(), QueueError> {
        self.change_tags(queue, |current| {
            let mut kept = current.clone();
            kept.retain(|key, _| !keys.contains(key));
            Ok(kept)
        })
        .await
    }

    /// Replaces a queue's tags with what `change` makes of them, committed before it returns.
    async fn change_tags(
        &self,
        queue: &str,
        change: impl FnOnce(&BTreeMap<String, String>) -> Result<BTreeMap<String, String>, QueueError>,
    ) -> Result<(), QueueError> {
        let queue = self.resolve(queue)?;
        let committed = {
            let mut state = queue.live()?;
            state.tags = change(&state.tags)?;
            let record = queue.record(&state);
            self.inner
                .committer
                .submit(vec![QueuesMutation::PutQueue(record)])
        };
        committed.await?;
        Ok(())
    }

    /// ListQueueTags.
    pub fn tags(&self, queue: &str) -> Result<BTreeMap<String, String>, QueueError> {
        Ok(self.resolve(queue)?.live()?.tags.clone())
    }

    /// A queue's messages by state, for the dashboard and metrics.
    pub fn depth(&self, queue: &str) -> Result<QueueDepth, QueueError> {
        let queue = self.resolve(queue)?;
        let mut state = queue.live()?;
        state.index.promote(now_ms());
        Ok(state.index.depth())
    }

    /// When the oldest message still in the queue was sent (ms since the epoch), for the
    /// dashboard's "age of the oldest message"; None for an empty queue.
    pub fn oldest_message_ms(&self, queue: &str) -> Result<Option<i64>, QueueError> {
        Ok(self.resolve(queue)?.live()?.index.oldest_sent_ms())
    }

    /// A counter of messages sent to the queue, which changes with every send: pollers
    /// outside the service wait on it instead of polling.
    pub fn watch(&self, queue: &str) -> Result<watch::Receiver<u64>, QueueError> {
        Ok(self.resolve(queue)?.sends.subscribe())
    }

    /// Every queue's name, in order.
    pub fn queue_names(&self) -> Vec<String> {
        self.read_queues().keys().cloned().collect()
    }

    // ---------------------------------------------------------------------------------------

    fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:sqs:{}:{}:{name}",
            self.inner.region, self.inner.account
        )
    }

    fn read_queues(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Queue>>> {
        self.inner
            .queues
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_queues(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Queue>>> {
        self.inner
            .queues
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn find(&self, name: &str) -> Option<Arc<Queue>> {
        self.read_queues().get(name).cloned()
    }

    /// The queue a URL (`…/ACCOUNT/NAME`), an ARN (`arn:aws:sqs:R:A:NAME`) or a name names.
    fn resolve(&self, queue: &str) -> Result<Arc<Queue>, QueueError> {
        let name = if queue.starts_with("arn:") {
            queue.rsplit(':').next().unwrap_or(queue)
        } else {
            queue
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(queue)
        };
        self.find(name).ok_or(QueueError::QueueDoesNotExist)
    }

    /// A redrive policy's dead-letter queue must exist and be of the source's kind.
    fn check_redrive(
        &self,
        attributes: &BTreeMap<String, String>,
        fifo: bool,
    ) -> Result<(), QueueError> {
        let Some(text) = attributes.get("RedrivePolicy").filter(|t| !t.is_empty()) else {
            return Ok(());
        };
        let policy = attributes::parse_redrive(text)?;
        let invalid = |reason: &str| {
            QueueError::InvalidParameterValue(format!(
                "Value {text} for parameter RedrivePolicy is invalid. Reason: {reason}"
            ))
        };
        let target = self
            .find_arn(&policy.dead_letter_target_arn)
            .ok_or_else(|| invalid("Dead letter target does not exist."))?;
        if target.lock().settings.fifo != fifo {
            return Err(invalid(
                "Dead-letter queue must be same type of queue as the source.",
            ));
        }
        Ok(())
    }

    fn find_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        let name = arn.rsplit(':').next()?;
        self.find(name).filter(|q| q.arn == arn)
    }

    /// The next message seq.
    fn next_seq(&self) -> i64 {
        let now = weir_now_us();
        let mut last = self.inner.last_seq.load(Ordering::Relaxed);
        loop {
            let next = (last + 1).max(now);
            match self.inner.last_seq.compare_exchange_weak(
                last,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(current) => last = current,
            }
        }
    }

    async fn commit(&self, mutations: Vec<QueuesMutation>) -> Result<(), QueueError> {
        self.inner.committer.submit(mutations).await?;
        Ok(())
    }
}

/// One page of `(name, url)`s in name order, after the token's name.
fn page(
    items: impl Iterator<Item = (String, String)>,
    max_results: Option<u32>,
    next_token: Option<&str>,
) -> Result<(Vec<String>, Option<String>), QueueError> {
    if let Some(max) = max_results.filter(|m| !(1..=1000).contains(m)) {
        return Err(QueueError::InvalidParameterValue(format!(
            "Value {max} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."
        )));
    }
    let after = match next_token {
        Some(token) => Some(
            URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    QueueError::InvalidParameterValue("Invalid NextToken value.".into())
                })?,
        ),
        None => None,
    };
    let limit = max_results.unwrap_or(1000) as usize;
    let mut rest = items.filter(|(name, _)| after.as_ref().is_none_or(|a| name > a));
    let mut urls = Vec::new();
    let mut last = None;
    for (name, url) in rest.by_ref().take(limit) {
        urls.push(url);
        last = Some(name);
    }
    let token = match (max_results, rest.next(), last) {
        (Some(_), Some(_), Some(last)) => Some(URL_SAFE_NO_PAD.encode(last)),
        _ => None,
    };
    Ok((urls, token))
}

/// Tags: at most 50, keys 1–128 characters, values up to 256.
fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), QueueError> {
    if tags.len() > MAX_TAGS {
        return Err(QueueError::InvalidParameterValue(format!(
            "Too many tags added for queue. The maximum is {MAX_TAGS}."
        )));
    }
    if let Some((key, _)) = tags
        .iter()
        .find(|(k, v)| k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256)
    {
        return Err(QueueError::InvalidParameterValue(format!(
            "Tag {key} is invalid: keys are 1 to 128 characters and values up to 256."
        )));
    }
    Ok(())
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn weir_now_us() -> i64 {
    crate::time::now_us()
}

fn uuid() -> String {
    weir_model::asl::Entropy::new(fastrand::u64(..)).uuid()
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_durability;
#[cfg(test)]
mod tests_throughput;
