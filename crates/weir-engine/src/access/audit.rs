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
//!
//! Refusals of callers without a credential are sampled per source address: anyone who reaches
//! the port can send them, as fast as the network allows, and recording each would let them fill
//! the disk with the log. The first [`ANONYMOUS_PER_WINDOW`] of a source in a window are recorded
//! one by one; the rest are counted, and one entry says how many were left out when the window
//! ends. A caller with a credential is recorded every time: it can be named and revoked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

/// Refusals of anonymous callers recorded one by one, per source and window.
pub const ANONYMOUS_PER_WINDOW: u32 = 60;
/// The window over which they are counted.
const WINDOW_MICROS: i64 = 60_000_000;
/// Sources counted at once; refusals from further sources share one count (an attacker with
/// many addresses cannot grow the table).
const MAX_SOURCES: usize = 4096;
/// The outcome whose entries are sampled.
const UNAUTHENTICATED: &str = "unauthenticated";

#[derive(Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<Message>,
    sampler: Arc<Mutex<Sampler>>,
}

impl AuditWriter {
    pub fn start(committer: Committer) -> AuditWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        let sampler = Arc::new(Mutex::new(Sampler::default()));
        tokio::spawn(write_loop(committer, rx, LINGER));
        tokio::spawn(summarise_loop(tx.clone(), sampler.clone()));
        AuditWriter { tx, sampler }
    }

    /// Queues an entry (unless it is an anonymous refusal past its source's share); waits while
    /// the queue is full.
    pub async fn record(&self, entry: AuditRecord) {
        let admitted = self
            .sampler
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .admit(&entry);
        let mut entries = admitted.summaries;
        entries.extend(admitted.entry);
        for entry in entries {
            if self.tx.send(Message::Entry(entry)).await.is_err() {
                tracing::error!("the audit log's writer has stopped; an entry was not recorded");
            }
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

/// Writes the counts of windows that ended without another refusal from their source.
async fn summarise_loop(tx: mpsc::Sender<Message>, sampler: Arc<Mutex<Sampler>>) {
    let period = std::time::Duration::from_micros(WINDOW_MICROS as u64);
    let mut ticks = tokio::time::interval(period);
    loop {
        ticks.tick().await;
        let summaries = sampler
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .ended(chrono::Utc::now().timestamp_micros());
        for summary in summaries {
            if tx.send(Message::Entry(summary)).await.is_err() {
                return;
            }
        }
    }
}

/// What [`Sampler::admit`] lets through: the entry, when it is to be recorded, and the counts of
/// windows that ended before it.
#[derive(Debug, Default)]
pub struct Admitted {
    pub entry: Option<AuditRecord>,
    pub summaries: Vec<AuditRecord>,
}

/// Counts anonymous refusals per source address (without its port) and window.
#[derive(Debug, Default)]
pub struct Sampler {
    windows: HashMap<String, Window>,
}

#[derive(Debug)]
struct Window {
    started: i64,
    seen: u32,
    /// The last refusal left out, for the summary's action and target.
    last: Option<AuditRecord>,
}

/// A source's address without its port (`127.0.0.1:5000`, `[::1]:5000`).
fn address(source: &str) -> &str {
    match source.rsplit_once(':') {
        Some((address, port)) if port.bytes().all(|b| b.is_ascii_digit()) => address,
        _ => source,
    }
}

impl Sampler {
    /// Whether `entry` is recorded, and the summaries of the windows that ended before it.
    pub fn admit(&mut self, entry: &AuditRecord) -> Admitted {
        if entry.outcome != UNAUTHENTICATED || entry.credential.is_some() {
            return Admitted {
                entry: Some(entry.clone()),
                summaries: Vec::new(),
            };
        }
        let mut key = address(&entry.source).to_string();
        if !self.windows.contains_key(&key) && self.windows.len() >= MAX_SOURCES {
            key = "(other sources)".into();
        }
        let mut summaries = Vec::new();
        if let Some(window) = self.windows.get(&key)
            && entry.at >= window.started + WINDOW_MICROS
        {
            summaries.extend(self.close(&key));
        }
        let window = self.windows.entry(key).or_insert(Window {
            started: entry.at,
            seen: 0,
            last: None,
        });
        window.seen = window.seen.saturating_add(1);
        let entry = if window.seen <= ANONYMOUS_PER_WINDOW {
            Some(entry.clone())
        } else {
            window.last = Some(entry.clone());
            None
        };
        Admitted { entry, summaries }
    }

    /// The summaries of the windows that have ended by `now`, which are forgotten.
    pub fn ended(&mut self, now: i64) -> Vec<AuditRecord> {
        let ended: Vec<String> = self
            .windows
            .iter()
            .filter(|(_, window)| now >= window.started + WINDOW_MICROS)
            .map(|(key, _)| key.clone())
            .collect();
        ended.iter().filter_map(|key| self.close(key)).collect()
    }

    /// Forgets a source's window; a summary entry when refusals were left out of it.
    fn close(&mut self, key: &str) -> Option<AuditRecord> {
        let window = self.windows.remove(key)?;
        let last = window.last?;
        let left_out = window.seen - ANONYMOUS_PER_WINDOW;
        Some(AuditRecord {
            at: window.started + WINDOW_MICROS,
            source: key.to_string(),
            detail: Some(format!(
                "{left_out} more refusals of callers without a credential from {key} in the \
                 minute after this window began were not recorded one by one (the first \
                 {ANONYMOUS_PER_WINDOW} were); the last: {}",
                last.detail.as_deref().unwrap_or("no reason given")
            )),
            ..last
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(source: &str, at: i64, credential: Option<&str>) -> AuditRecord {
        AuditRecord {
            at,
            credential: credential.map(str::to_string),
            role: None,
            source: source.into(),
            action: "GET /api/v1/pipelines".into(),
            target: "/api/v1/pipelines".into(),
            outcome: UNAUTHENTICATED.into(),
            status: 401,
            detail: Some("unknown credential".into()),
        }
    }

    #[test]
    fn a_flood_from_one_source_is_recorded_up_to_its_share_then_counted() {
        let mut sampler = Sampler::default();
        let mut recorded = 0;
        for i in 0..500 {
            // Each from another port of the same address.
            let admitted = sampler.admit(&refusal(&format!("10.0.0.9:{}", 1000 + i), i, None));
            assert!(admitted.summaries.is_empty());
            recorded += usize::from(admitted.entry.is_some());
        }
        assert_eq!(recorded, ANONYMOUS_PER_WINDOW as usize);
        // Another source, and callers with a credential, are recorded all the same.
        assert!(
            sampler
                .admit(&refusal("10.0.0.8:1", 600, None))
                .entry
                .is_some()
        );
        for at in 0..100 {
            let denied = refusal("10.0.0.9:1", at, Some("ci"));
            assert!(sampler.admit(&denied).entry.is_some());
        }
        // When the window ends, one entry says how many were left out.
        assert!(sampler.ended(WINDOW_MICROS - 1).is_empty());
        let summaries = sampler.ended(WINDOW_MICROS);
        assert_eq!(summaries.len(), 1, "{summaries:?}");
        let detail = summaries[0].detail.clone().unwrap();
        assert!(detail.starts_with("440 more refusals"), "{detail}");
        assert!(detail.contains("unknown credential"), "{detail}");
        assert_eq!(summaries[0].source, "10.0.0.9");
        // A new window records again; the quiet source's window closes with no summary.
        let next = sampler.admit(&refusal("10.0.0.9:1", WINDOW_MICROS + 1, None));
        assert!(next.entry.is_some());
        assert!(sampler.ended(3 * WINDOW_MICROS).is_empty());
    }

    #[test]
    fn the_next_refusal_after_a_window_brings_its_summary() {
        let mut sampler = Sampler::default();
        for at in 0..=i64::from(ANONYMOUS_PER_WINDOW) {
            sampler.admit(&refusal("[::1]:80", at, None));
        }
        let admitted = sampler.admit(&refusal("[::1]:81", WINDOW_MICROS + 5, None));
        assert!(admitted.entry.is_some());
        assert_eq!(admitted.summaries.len(), 1);
        assert_eq!(admitted.summaries[0].source, "[::1]");
    }

    #[test]
    fn many_sources_share_one_count_past_the_table_s_size() {
        let mut sampler = Sampler::default();
        for i in 0..MAX_SOURCES + 200 {
            sampler.admit(&refusal(
                &format!("10.{}.{}.1:1", i / 256, i % 256),
                0,
                None,
            ));
        }
        assert_eq!(sampler.windows.len(), MAX_SOURCES + 1);
    }
}
