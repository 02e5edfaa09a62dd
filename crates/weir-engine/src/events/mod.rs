//! weir's EventBridge: event buses, rules and their targets, durable PutEvents, dispatch with
//! retries and dead-letter queues, schedules, archives and replays.
//!
//! Each bus's events are a weir-stream stream of one shard, `__events-BUS` (`names.rs`): PutEvents
//! appends there and answers once the events are durable. A consumer group per bus is its
//! dispatcher (`dispatch.rs`): for each event it matches one snapshot of the bus's enabled rules
//! (`state.rs`), renders each matched target's input, delivers through [`TargetInvoker`]
//! concurrently, and hands back the rows to commit with its checkpoint: the archives' copies of
//! the event and the deliveries that failed, which `retry.rs` tries again with exponential
//! backoff and jitter until the target's retry policy runs out, then sends to the target's
//! dead-letter queue. `schedule.rs` fires rules' `rate(…)`/`cron(…)` schedules, `archives.rs`
//! keeps archives and runs replays, `rules.rs` and `buses.rs` are the API over rules, targets,
//! buses and tags, and `files.rs` reads `rules/*.yaml` (rules managed by weir).
//!
//! Metadata lives in weir-store's `events/` tables, written through the group committer before
//! memory changes.

mod archives;
mod buses;
mod dispatch;
mod error;
mod files;
mod names;
mod retry;
mod rules;
mod schedule;
mod state;
mod targets;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{broadcast, watch};
use weir_store::{Committer, Mutation, Store};
use weir_stream::Streams;
use weir_stream::consumer::GroupHandle;

pub use archives::{ArchiveInfo, ArchiveInput, ReplayInfo, ReplayInput};
pub use buses::BusInfo;
pub use error::EventsError;
pub use names::{DEFAULT_BUS, bus_stream};
pub use rules::{RuleInfo, RuleInput, TargetFailure};
pub use targets::to_json as target_json;

/// The event model the bus speaks (`weir_model::events`), gathered for its callers.
pub mod model {
    pub use weir_model::events::BUS_STREAM_PREFIX;
    pub use weir_model::events::arn::Scope;
    pub use weir_model::events::envelope::{EntryError, Event, PutEventsEntry};
    pub use weir_model::events::input::{RuleContext, TargetInput};
    pub use weir_model::events::pattern::{Matcher, Pattern};
    pub use weir_model::events::rule_file::{RetryPolicy, RuleSpec, TargetSpec, parse_rule};
    pub use weir_model::events::schedule::ScheduleExpression;
}

use model::{EntryError, Event, PutEventsEntry, RuleSpec, TargetSpec};
use names::{ArnNames, Arns};
use state::State;

/// How many deliveries one bus makes at once.
const DELIVERY_CONCURRENCY: usize = 32;

/// What the bus needs from the server.
pub struct EventsOptions {
    pub store: Arc<dyn Store>,
    pub committer: Committer,
    pub streams: Streams,
    pub region: String,
    pub account: String,
    /// The project folder, whose `rules/*.yaml` are read at start and by [`Events::reload`].
    pub project_dir: PathBuf,
    pub targets: Arc<dyn TargetInvoker>,
    /// The first retry's delay; each later one doubles it, up to `retry_max_delay`, with jitter.
    pub retry_initial_delay: Duration,
    pub retry_max_delay: Duration,
    /// How long the dispatchers' shard leases last (a restarted server takes over its own
    /// leases at once; another one waits this long).
    pub lease_duration: Duration,
    /// Managed rules besides `rules/*.yaml` (by origin: pipelines' and state machines'
    /// triggers), in place before any bus reads its log.
    pub managed: Vec<(String, Vec<(String, RuleSpec)>)>,
}

impl EventsOptions {
    /// Options with EventBridge-like retry delays (1 s doubling up to 5 minutes).
    pub fn new(
        store: Arc<dyn Store>,
        committer: Committer,
        streams: Streams,
        project_dir: PathBuf,
        targets: Arc<dyn TargetInvoker>,
    ) -> EventsOptions {
        let config = streams.config();
        let (region, account) = (config.region.clone(), config.account.clone());
        EventsOptions {
            store,
            committer,
            streams,
            region,
            account,
            project_dir,
            targets,
            retry_initial_delay: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(300),
            lease_duration: Duration::from_secs(10),
            managed: Vec::new(),
        }
    }
}

/// Delivers events to targets; the binary implements it over the engine, state machines,
/// functions, streams and queues.
#[async_trait::async_trait]
pub trait TargetInvoker: Send + Sync + 'static {
    /// Delivers `input` (the rendered input, JSON text) to `target`. `Ok`: the target took it.
    async fn deliver(
        &self,
        target: &TargetSpec,
        input: String,
        event: &Event,
    ) -> Result<(), TargetError>;

    /// Sends an event a target could not take to its dead-letter queue (an SQS queue ARN): the
    /// event as the message body, with the message attributes EventBridge sets (ERROR_CODE,
    /// ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS, RULE_ARN, TARGET_ARN) as String
    /// attributes.
    async fn dead_letter(
        &self,
        queue_arn: &str,
        body: String,
        attributes: BTreeMap<String, String>,
    ) -> Result<(), TargetError>;
}

/// Why a target did not take an event.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetError {
    /// EventBridge's error code (`RESOURCE_NOT_FOUND`, `THROTTLING`, `SDK_CLIENT_ERROR`, …).
    pub code: String,
    pub message: String,
    /// Whether trying again may help (a missing target will not come back by itself).
    pub retryable: bool,
}

/// What happened to a rule's events lately: for the dashboard and `weir rules show`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuleStats {
    /// Events that matched the rule.
    pub matched: u64,
    /// Deliveries a target took (retries included).
    pub delivered: u64,
    /// Deliveries that failed (each attempt).
    pub failed_deliveries: u64,
    /// Events sent to a dead-letter queue.
    pub dead_lettered: u64,
    /// Events given up without a dead-letter queue (or when sending to it failed).
    pub dropped: u64,
    pub last_match_ms: Option<i64>,
    pub last_failure_ms: Option<i64>,
    pub last_error: Option<String>,
    /// The latest failed deliveries, newest first: at most [`RECENT_FAILURES`].
    pub recent_failures: std::collections::VecDeque<RecentFailure>,
}

/// Failed deliveries a rule's [`RuleStats`] keeps.
pub const RECENT_FAILURES: usize = 10;

/// One failed delivery of a rule's event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecentFailure {
    pub at_ms: i64,
    /// EventBridge's error code (`RESOURCE_NOT_FOUND`, `THROTTLING`, …).
    pub code: String,
    pub message: String,
}

/// What a bus's stream holds for each event: the event, and for replays and schedules which
/// rules it is for.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Envelope {
    event: Event,
    /// Only these rules of the bus (replays' FilterArns, a schedule's rule); all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rules: Option<Vec<String>>,
    /// A schedule's event: its rule gets it without matching.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    scheduled: bool,
}

/// The event a record of a bus's log (its stream, [`bus_stream`]) holds, for readers of the log
/// such as a tail; `None` for a record that is not one.
pub fn logged_event(data: &[u8]) -> Option<Event> {
    serde_json::from_slice::<Envelope>(data)
        .ok()
        .map(|envelope| envelope.event)
}

/// The event bus of a server. Cheap to clone.
#[derive(Clone)]
pub struct Events {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    store: Arc<dyn Store>,
    committer: Committer,
    streams: Streams,
    arns: Arns,
    project_dir: PathBuf,
    targets: Arc<dyn TargetInvoker>,
    retry_initial_delay: Duration,
    retry_max_delay: Duration,
    lease_duration: Duration,
    /// This server in the lease tables.
    owner: String,
    state: Mutex<State>,
    /// Serialises the API's changes: each checks, commits, then changes memory.
    admin: tokio::sync::Mutex<()>,
    /// Each bus's running dispatcher.
    groups: tokio::sync::Mutex<HashMap<String, GroupHandle>>,
    stats: Mutex<HashMap<(String, String), RuleStats>>,
    tail: broadcast::Sender<Arc<Event>>,
    retries: Arc<retry::Retries>,
    schedules: Arc<schedule::Schedules>,
    /// Becomes true when the bus stops; its loops end.
    stopping: watch::Sender<bool>,
}

impl Events {
    /// Loads buses, rules, archives, replays and pending retries from the store, makes the
    /// default bus if there is none, reads `rules/*.yaml`, and starts every bus's dispatcher, the
    /// retry loop, the schedules, archive retention and unfinished replays.
    pub async fn start(options: EventsOptions) -> Result<Events, EventsError> {
        let (stopping, _) = watch::channel(false);
        let events = Events {
            inner: Arc::new(Inner {
                store: options.store,
                committer: options.committer,
                streams: options.streams,
                arns: Arns::new(options.region, options.account),
                project_dir: options.project_dir,
                targets: options.targets,
                retry_initial_delay: options.retry_initial_delay,
                retry_max_delay: options.retry_max_delay,
                lease_duration: options.lease_duration,
                owner: format!("weir-events-{:016x}", fastrand::u64(..)),
                state: Mutex::new(State::default()),
                admin: tokio::sync::Mutex::new(()),
                groups: tokio::sync::Mutex::new(HashMap::new()),
                stats: Mutex::new(HashMap::new()),
                tail: broadcast::channel(1024).0,
                retries: Arc::new(retry::Retries::default()),
                schedules: Arc::new(schedule::Schedules::default()),
                stopping,
            }),
        };
        events.load().await?;
        let mut problems = events.reload();
        for (origin, rules) in options.managed {
            problems.extend(events.set_managed_rules(&origin, rules));
        }
        for problem in problems {
            tracing::warn!("{problem}");
        }
        events.run_buses().await?;
        retry::spawn(&events);
        schedule::spawn(&events);
        archives::spawn(&events).await;
        Ok(events)
    }

    /// Stops the dispatchers (each finishes the batch it is in) and the loops.
    pub async fn stop(&self) {
        let _ = self.inner.stopping.send(true);
        let groups: Vec<GroupHandle> = self
            .inner
            .groups
            .lock()
            .await
            .drain()
            .map(|(_, g)| g)
            .collect();
        for group in groups {
            group.stop().await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn commit(&self, batch: Vec<Mutation>) -> Result<(), EventsError> {
        self.inner
            .committer
            .submit(batch)
            .await
            .map_err(EventsError::internal)
    }

    /// PutEvents: each entry's event id, or why it was refused (AWS's per-entry codes). Returns
    /// once the accepted events are durable.
    pub async fn put_events(
        &self,
        entries: Vec<PutEventsEntry>,
    ) -> Vec<Result<String, EntryError>> {
        let mut results: Vec<Option<Result<String, EntryError>>> = vec![None; entries.len()];
        // Accepted events by bus, with their positions in the request.
        let mut by_bus: BTreeMap<String, Vec<(usize, Envelope)>> = BTreeMap::new();
        let now = now_ms();
        for (i, entry) in entries.iter().enumerate() {
            let bus = self.inner.arns.bus_name(entry.event_bus_name.as_deref());
            match self.new_event(entry, now) {
                Ok(event) if self.lock().buses.contains_key(&bus) => {
                    let envelope = Envelope {
                        event,
                        rules: None,
                        scheduled: false,
                    };
                    by_bus.entry(bus).or_default().push((i, envelope))
                }
                Ok(_) => {
                    results[i] = Some(Err(EntryError {
                        code: "ResourceNotFoundException".into(),
                        message: format!("Event bus {bus} does not exist."),
                    }))
                }
                Err(error) => results[i] = Some(Err(error)),
            }
        }
        for (bus, accepted) in by_bus {
            let (positions, envelopes): (Vec<usize>, Vec<Envelope>) = accepted.into_iter().unzip();
            let ids: Vec<String> = envelopes.iter().map(|e| e.event.id.clone()).collect();
            let outcome = self.append(&bus, envelopes).await;
            for (k, i) in positions.into_iter().enumerate() {
                results[i] = Some(match &outcome {
                    Ok(appended) if appended.get(k).copied().unwrap_or(false) => Ok(ids[k].clone()),
                    Ok(_) => Err(internal_failure()),
                    Err(error) => {
                        tracing::warn!(bus, "events not stored: {error}");
                        Err(internal_failure())
                    }
                });
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(internal_failure())))
            .collect()
    }

    /// Appends events to a bus's stream, durably; whether each one was appended.
    async fn append(&self, bus: &str, envelopes: Vec<Envelope>) -> Result<Vec<bool>, EventsError> {
        let mut records = Vec::with_capacity(envelopes.len());
        for envelope in &envelopes {
            let data = serde_json::to_vec(envelope).map_err(EventsError::internal)?;
            records.push(weir_stream::NewRecord {
                partition_key: envelope.event.id.clone(),
                explicit_hash_key: None,
                data: Bytes::from(data),
            });
        }
        let appended = self
            .inner
            .streams
            .put(&names::bus_stream(bus), records)
            .await
            .map_err(EventsError::internal)?;
        Ok(appended.iter().map(Result::is_ok).collect())
    }

    /// An event for an entry, as EventBridge builds it.
    fn new_event(&self, entry: &PutEventsEntry, now_ms: i64) -> Result<Event, EntryError> {
        Event::from_entry(
            entry,
            crate::functions::event_sources::random_uuid(),
            &self.inner.arns.account,
            &self.inner.arns.region,
            utc(now_ms),
        )
    }

    /// Puts one of weir's own events on the default bus (lake objects, runs, executions, …).
    /// Never fails its caller: a refusal is logged.
    pub async fn emit(
        &self,
        source: &str,
        detail_type: &str,
        resources: Vec<String>,
        detail: Value,
    ) {
        self.emit_all(vec![(source, detail_type, resources, detail)])
            .await;
    }

    /// Several built-in events in one durable append (source, detail-type, resources, detail).
    pub async fn emit_all(&self, events: Vec<(&str, &str, Vec<String>, Value)>) {
        let entries: Vec<PutEventsEntry> = events
            .into_iter()
            .map(|(source, detail_type, resources, detail)| PutEventsEntry {
                source: Some(source.to_string()),
                detail_type: Some(detail_type.to_string()),
                detail: Some(detail.to_string()),
                resources,
                ..PutEventsEntry::default()
            })
            .collect();
        for result in self.put_events(entries).await {
            if let Err(error) = result {
                tracing::warn!(
                    "a built-in event was not put: {} ({})",
                    error.message,
                    error.code
                );
            }
        }
    }

    /// Every event the dispatchers handle, as they handle them (tails). A slow receiver misses
    /// events (`RecvError::Lagged`) rather than holding the bus up.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.inner.tail.subscribe()
    }

    /// How many deliveries wait for a retry (metrics, the dashboard).
    pub fn pending_retries(&self) -> usize {
        self.inner.retries.len()
    }

    /// What a rule's events did lately.
    pub fn rule_stats(&self, bus: &str, name: &str) -> RuleStats {
        let bus = self.inner.arns.bus_name(Some(bus));
        self.inner
            .stats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(bus, name.to_string()))
            .cloned()
            .unwrap_or_default()
    }
}

/// What happened to one of a rule's events, counted in its [`RuleStats`] and in metrics.
pub(crate) enum Outcome<'a> {
    Matched,
    Delivered,
    Failed(&'a TargetError),
    DeadLettered,
    Dropped,
}

impl Inner {
    fn record(&self, bus: &str, rule: &str, outcome: Outcome<'_>) {
        let now = now_ms();
        let labels = [("bus", bus.to_string()), ("rule", rule.to_string())];
        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let stats = stats
            .entry((bus.to_string(), rule.to_string()))
            .or_default();
        match outcome {
            Outcome::Matched => {
                metrics::counter!("weir_events_matched_total", &labels).increment(1);
                stats.matched += 1;
                stats.last_match_ms = Some(now);
            }
            Outcome::Delivered => {
                metrics::counter!("weir_event_deliveries_total", &labels).increment(1);
                stats.delivered += 1;
            }
            Outcome::Failed(error) => {
                metrics::counter!("weir_event_delivery_failures_total", &labels).increment(1);
                stats.failed_deliveries += 1;
                stats.last_failure_ms = Some(now);
                stats.last_error = Some(format!("{}: {}", error.code, error.message));
                stats.recent_failures.push_front(RecentFailure {
                    at_ms: now,
                    code: error.code.clone(),
                    message: error.message.chars().take(1000).collect(),
                });
                stats.recent_failures.truncate(RECENT_FAILURES);
            }
            Outcome::DeadLettered => {
                metrics::counter!("weir_events_dead_lettered_total", &labels).increment(1);
                stats.dead_lettered += 1;
            }
            Outcome::Dropped => {
                metrics::counter!("weir_events_dropped_total", &labels).increment(1);
                stats.dropped += 1;
            }
        }
    }
}

fn internal_failure() -> EntryError {
    EntryError {
        code: "InternalFailure".into(),
        message: "The event could not be stored; try again.".into(),
    }
}

/// `2026-12-06T11:00:00Z`, as EventBridge writes times.
pub(crate) fn rfc3339(ms: i64) -> String {
    weir_model::events::envelope::event_time(utc(ms))
}

pub(crate) fn utc(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
