//! The bus on a real SQLite store and real streams in a temporary folder, with a target invoker
//! that records what it gets and fails on demand: matching and dispatch, retries then the
//! dead-letter queue, event age, schedules, archives and replays, EventBridge's limits and
//! messages, managed rules, and restarts.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use weir_store::fault::FaultyStore;
use weir_store::{Committer, Store};
use weir_stream::{Streams, StreamsConfig};

use super::model::{Event, PutEventsEntry, RetryPolicy, Scope, TargetInput, TargetSpec};
use super::*;
use weir_model::events::trigger::{Trigger, TriggerOwner};

const QUEUE: &str = "arn:aws:sqs:us-east-1:000000000000:";

/// What the recorder got: (target id, input, event).
type Delivered = (String, String, Event);
/// A dead letter: (queue ARN, body, attributes).
type DeadLetter = (String, String, BTreeMap<String, String>);

#[derive(Default)]
struct Recorder {
    delivered: Mutex<Vec<Delivered>>,
    /// Every attempt, failed ones included, by target id.
    attempts: Mutex<HashMap<String, usize>>,
    dead: Mutex<Vec<DeadLetter>>,
    /// Target id to (failures left, retryable).
    failing: Mutex<HashMap<String, (usize, bool)>>,
}

impl Recorder {
    fn fail(&self, target: &str, times: usize, retryable: bool) {
        self.failing
            .lock()
            .unwrap()
            .insert(target.to_string(), (times, retryable));
    }

    fn delivered(&self) -> Vec<Delivered> {
        self.delivered.lock().unwrap().clone()
    }

    fn to(&self, target: &str) -> Vec<Delivered> {
        self.delivered()
            .into_iter()
            .filter(|(id, _, _)| id == target)
            .collect()
    }

    fn attempts(&self, target: &str) -> usize {
        self.attempts
            .lock()
            .unwrap()
            .get(target)
            .copied()
            .unwrap_or(0)
    }

    fn dead(&self) -> Vec<DeadLetter> {
        self.dead.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl TargetInvoker for Recorder {
    async fn deliver(
        &self,
        target: &TargetSpec,
        input: String,
        event: &Event,
    ) -> Result<(), TargetError> {
        *self
            .attempts
            .lock()
            .unwrap()
            .entry(target.id.clone())
            .or_default() += 1;
        {
            let mut failing = self.failing.lock().unwrap();
            if let Some((left, retryable)) = failing.get_mut(&target.id)
                && *left > 0
            {
                *left -= 1;
                return Err(TargetError {
                    code: if *retryable {
                        "THROTTLING"
                    } else {
                        "RESOURCE_NOT_FOUND"
                    }
                    .into(),
                    message: format!("target {} refused", target.id),
                    retryable: *retryable,
                });
            }
        }
        self.delivered
            .lock()
            .unwrap()
            .push((target.id.clone(), input, event.clone()));
        Ok(())
    }

    async fn dead_letter(
        &self,
        queue_arn: &str,
        body: String,
        attributes: BTreeMap<String, String>,
    ) -> Result<(), TargetError> {
        self.dead
            .lock()
            .unwrap()
            .push((queue_arn.to_string(), body, attributes));
        Ok(())
    }
}

struct Fixture {
    _data: tempfile::TempDir,
    project: tempfile::TempDir,
    store: Arc<dyn Store>,
    streams: Streams,
    events: Events,
    recorder: Arc<Recorder>,
}

async fn open(
    data: &Path,
    project: &Path,
    wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
) -> (Arc<dyn Store>, Streams, Events, Arc<Recorder>) {
    let url = format!("sqlite://{}/weir.db", data.display());
    let store = wrap(weir_store::open(&url).await.unwrap());
    let committer = Committer::start(store.clone());
    let config = StreamsConfig::new(data.join("streams"), "us-east-1", "000000000000");
    let streams = Streams::open(config, store.clone(), committer.clone())
        .await
        .unwrap();
    let recorder = Arc::new(Recorder::default());
    let mut options = EventsOptions::new(
        store.clone(),
        committer,
        streams.clone(),
        project.to_path_buf(),
        recorder.clone(),
    );
    options.retry_initial_delay = Duration::from_millis(20);
    options.retry_max_delay = Duration::from_millis(80);
    options.lease_duration = Duration::from_secs(1);
    let events = Events::start(options).await.unwrap();
    (store, streams, events, recorder)
}

impl Fixture {
    async fn new() -> Fixture {
        let data = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        let (store, streams, events, recorder) = open(data.path(), project.path(), |s| s).await;
        Fixture {
            _data: data,
            project,
            store,
            streams,
            events,
            recorder,
        }
    }

    async fn rule(&self, bus: &str, name: &str, pattern: Value, targets: Vec<TargetSpec>) {
        rule_on(&self.events, bus, name, pattern, targets).await
    }

    async fn put(&self, bus: &str, source: &str, detail: Value) -> String {
        let results = self
            .events
            .put_events(vec![entry(bus, source, detail)])
            .await;
        results.into_iter().next().unwrap().unwrap()
    }
}

/// Puts a rule with its targets.
async fn rule_on(events: &Events, bus: &str, name: &str, pattern: Value, targets: Vec<TargetSpec>) {
    events
        .put_rule(RuleInput {
            name: name.into(),
            bus: Some(bus.into()),
            event_pattern: Some(pattern.to_string()),
            ..RuleInput::default()
        })
        .await
        .unwrap();
    if !targets.is_empty() {
        events.put_targets(bus, name, targets).await.unwrap();
    }
}

fn entry(bus: &str, source: &str, detail: Value) -> PutEventsEntry {
    PutEventsEntry {
        source: Some(source.into()),
        detail_type: Some("test".into()),
        detail: Some(detail.to_string()),
        event_bus_name: Some(bus.into()),
        ..PutEventsEntry::default()
    }
}

fn target(id: &str, input: TargetInput) -> TargetSpec {
    TargetSpec {
        id: id.into(),
        arn: format!("{QUEUE}{id}"),
        input,
        retry: RetryPolicy::default(),
        dead_letter: None,
        kinesis_partition_key_path: None,
        sqs_message_group_id: None,
    }
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matching_events_reach_each_target_with_its_input() {
    let f = Fixture::new().await;
    let mut tail = f.events.subscribe();
    f.rule(
        "default",
        "big",
        json!({"source": ["weir.test"], "detail": {"n": [{"numeric": [">", 1]}]}}),
        vec![
            target("whole", TargetInput::Whole),
            target(
                "constant",
                TargetInput::Constant(r#"{"fixed": true}"#.into()),
            ),
            target("path", TargetInput::Path("$.detail".into())),
        ],
    )
    .await;
    f.events
        .create_bus("orders", None, Vec::new())
        .await
        .unwrap();
    f.rule(
        "orders",
        "all",
        json!({"source": ["weir.test"]}),
        vec![target("orders", TargetInput::Whole)],
    )
    .await;
    let matching = f.put("default", "weir.test", json!({"n": 5})).await;
    f.put("default", "weir.test", json!({"n": 1})).await;
    f.put("default", "other", json!({"n": 9})).await;
    let on_orders = f.put("orders", "weir.test", json!({"n": 0})).await;
    wait_for("the deliveries", || f.recorder.delivered().len() >= 4).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let whole = f.recorder.to("whole");
    assert_eq!(whole.len(), 1, "{whole:?}");
    let (_, input, event) = &whole[0];
    assert_eq!(event.id, matching);
    let input: Value = serde_json::from_str(input).unwrap();
    assert_eq!(input["id"], json!(matching));
    assert_eq!(input["detail-type"], json!("test"));
    assert_eq!(input["detail"], json!({"n": 5}));
    assert_eq!(input["account"], json!("000000000000"));
    assert_eq!(f.recorder.to("constant")[0].1, r#"{"fixed": true}"#);
    let path: Value = serde_json::from_str(&f.recorder.to("path")[0].1).unwrap();
    assert_eq!(path, json!({"n": 5}));
    let orders = f.recorder.to("orders");
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].2.id, on_orders);
    let stats = f.events.rule_stats("default", "big");
    assert_eq!((stats.matched, stats.delivered), (1, 3));
    assert!(stats.last_match_ms.is_some());
    // The tail sees every event of every bus.
    let mut tailed = Vec::new();
    for _ in 0..4 {
        tailed.push(tail.recv().await.unwrap().id.clone());
    }
    assert!(tailed.contains(&matching) && tailed.contains(&on_orders));

    // Entries are refused one by one, in AWS's words.
    let results = f
        .events
        .put_events(vec![
            PutEventsEntry {
                detail: Some("[1]".into()),
                ..entry("default", "weir.test", json!({}))
            },
            entry("nope", "weir.test", json!({})),
            entry("default", "weir.test", json!({"ok": 1})),
        ])
        .await;
    assert_eq!(results[0].as_ref().unwrap_err().code, "MalformedDetail");
    // weir's own events go to the default bus like any other.
    f.events
        .emit(
            "weir.test",
            "Object Created",
            vec!["arn:aws:s3:::lake".into()],
            json!({"n": 7}),
        )
        .await;
    wait_for("the built-in event", || f.recorder.to("whole").len() == 2).await;
    let (_, _, emitted) = f.recorder.to("whole")[1].clone();
    assert_eq!(emitted.detail_type, "Object Created");
    assert_eq!(emitted.resources, ["arn:aws:s3:::lake"]);
    assert_eq!(
        results[1].as_ref().unwrap_err().message,
        "Event bus nope does not exist."
    );
    assert!(results[2].is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deliveries_are_retried_then_sent_to_the_dead_letter_queue() {
    let f = Fixture::new().await;
    let dlq = format!("{QUEUE}failed");
    let mut flaky = target("flaky", TargetInput::Whole);
    flaky.retry.maximum_retry_attempts = 5;
    let mut down = target("down", TargetInput::Whole);
    down.retry.maximum_retry_attempts = 2;
    down.dead_letter = Some(dlq.clone());
    let mut gone = target("gone", TargetInput::Whole);
    gone.dead_letter = Some(dlq.clone());
    f.rule(
        "default",
        "r",
        json!({"source": ["weir.test"]}),
        vec![flaky, down, gone],
    )
    .await;
    f.recorder.fail("flaky", 2, true);
    f.recorder.fail("down", usize::MAX, true);
    f.recorder.fail("gone", usize::MAX, false);
    let id = f.put("default", "weir.test", json!({"a": 1})).await;
    wait_for("two dead letters", || f.recorder.dead().len() >= 2).await;
    wait_for("the flaky target", || f.recorder.to("flaky").len() == 1).await;
    // The flaky target took it on its third attempt; the one down was tried 1 + 2 times.
    assert_eq!(f.recorder.attempts("flaky"), 3);
    assert_eq!(f.recorder.attempts("down"), 3);
    assert_eq!(
        f.recorder.attempts("gone"),
        1,
        "not retried: it cannot succeed"
    );
    let dead = f.recorder.dead();
    let of = |target: &str| {
        dead.iter()
            .find(|(_, _, a)| a["TARGET_ARN"] == format!("{QUEUE}{target}"))
            .cloned()
            .unwrap()
    };
    let (queue, body, attributes) = of("down");
    assert_eq!(queue, dlq);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["id"], json!(id));
    assert_eq!(attributes["ERROR_CODE"], "THROTTLING");
    assert_eq!(attributes["ERROR_MESSAGE"], "target down refused");
    assert_eq!(
        attributes["EXHAUSTED_RETRY_CONDITION"],
        "MaximumRetryAttempts"
    );
    assert_eq!(attributes["RETRY_ATTEMPTS"], "2");
    assert_eq!(
        attributes["RULE_ARN"],
        "arn:aws:events:us-east-1:000000000000:rule/r"
    );
    let (_, _, attributes) = of("gone");
    assert_eq!(attributes["ERROR_CODE"], "RESOURCE_NOT_FOUND");
    assert_eq!(attributes["RETRY_ATTEMPTS"], "0");
    assert!(!attributes.contains_key("EXHAUSTED_RETRY_CONDITION"));
    let stats = f.events.rule_stats("default", "r");
    assert_eq!(stats.dead_lettered, 2);
    assert_eq!(stats.failed_deliveries, 2 + 3 + 1);
    assert!(stats.last_error.is_some());
    // The latest failures are kept, newest first, each with its code.
    assert_eq!(stats.recent_failures.len(), 6);
    assert!(
        stats
            .recent_failures
            .iter()
            .any(|f| f.code == "RESOURCE_NOT_FOUND")
    );
    assert!(
        stats
            .recent_failures
            .iter()
            .zip(stats.recent_failures.iter().skip(1))
            .all(|(newer, older)| newer.at_ms >= older.at_ms)
    );
    // Nothing waits any more, in memory or in the store.
    wait_for("the retries to be forgotten", || {
        f.events.pending_retries() == 0
    })
    .await;
    let mut stored = f.store.event_retries().await.unwrap();
    for _ in 0..100 {
        if stored.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        stored = f.store.event_retries().await.unwrap();
    }
    assert_eq!(stored, vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_past_its_maximum_age_is_given_up() {
    let f = Fixture::new().await;
    let mut old = target("old", TargetInput::Whole);
    old.retry.maximum_event_age_seconds = 1;
    old.dead_letter = Some(format!("{QUEUE}failed"));
    f.rule("default", "r", json!({"source": ["weir.test"]}), vec![old])
        .await;
    f.recorder.fail("old", usize::MAX, true);
    let started = std::time::Instant::now();
    f.put("default", "weir.test", json!({})).await;
    wait_for("the dead letter", || !f.recorder.dead().is_empty()).await;
    assert!(started.elapsed() >= Duration::from_millis(900));
    let (_, _, attributes) = f.recorder.dead()[0].clone();
    assert_eq!(
        attributes["EXHAUSTED_RETRY_CONDITION"],
        "MaximumEventAgeInSeconds"
    );
    // Retried every 20–80 ms for a second: many attempts, far fewer than 185.
    let attempts = f.recorder.attempts("old");
    assert!((5..100).contains(&attempts), "{attempts} attempts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_fire_scheduled_events_to_their_rule_only() {
    let f = Fixture::new().await;
    let arn = f
        .events
        .put_rule(RuleInput {
            name: "hourly".into(),
            schedule_expression: Some("rate(1 minute)".into()),
            ..RuleInput::default()
        })
        .await
        .unwrap();
    f.events
        .put_targets(
            "default",
            "hourly",
            vec![target("tick", TargetInput::Whole)],
        )
        .await
        .unwrap();
    // A rule matching every event of aws.events does not get another rule's schedule.
    f.rule(
        "default",
        "aws",
        json!({"source": ["aws.events"]}),
        vec![target("aws", TargetInput::Whole)],
    )
    .await;
    assert_eq!(
        f.events.fire_due_schedules(now_ms()).await,
        0,
        "not due yet"
    );
    assert_eq!(f.events.fire_due_schedules(now_ms() + 61_000).await, 1);
    wait_for("the scheduled event", || !f.recorder.to("tick").is_empty()).await;
    let (_, input, _) = f.recorder.to("tick")[0].clone();
    let event: Value = serde_json::from_str(&input).unwrap();
    assert_eq!(event["detail-type"], json!("Scheduled Event"));
    assert_eq!(event["source"], json!("aws.events"));
    assert_eq!(event["resources"], json!([arn]));
    assert_eq!(event["detail"], json!({}));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(f.recorder.to("aws").is_empty());
    // Only on the default bus.
    f.events
        .create_bus("orders", None, Vec::new())
        .await
        .unwrap();
    let refused = f
        .events
        .put_rule(RuleInput {
            name: "tick".into(),
            bus: Some("orders".into()),
            schedule_expression: Some("rate(5 minutes)".into()),
            ..RuleInput::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "ScheduleExpression is supported only on the default event bus."
    );
    assert_eq!(refused.code(), "ValidationException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archives_keep_events_and_replay_a_time_range_to_the_chosen_rules() {
    let f = Fixture::new().await;
    f.rule(
        "default",
        "a",
        json!({"source": ["weir.test"]}),
        vec![target("a", TargetInput::Whole)],
    )
    .await;
    f.rule(
        "default",
        "b",
        json!({"source": ["weir.test"]}),
        vec![target("b", TargetInput::Whole)],
    )
    .await;
    let archive = f
        .events
        .create_archive(ArchiveInput {
            name: "everything".into(),
            source_arn: f.events.describe_bus("default").unwrap().arn,
            event_pattern: Some(json!({"source": ["weir.test"]}).to_string()),
            ..ArchiveInput::default()
        })
        .await
        .unwrap();
    assert_eq!(archive.state, "ENABLED");
    let start = now_ms();
    let first = f.put("default", "weir.test", json!({"n": 1})).await;
    let second = f.put("default", "weir.test", json!({"n": 2})).await;
    f.put("default", "other", json!({"n": 0})).await;
    wait_for("the first deliveries", || f.recorder.to("b").len() == 2).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let middle = now_ms();
    tokio::time::sleep(Duration::from_millis(30)).await;
    f.put("default", "weir.test", json!({"n": 3})).await;
    wait_for("the archive", || {
        f.events.describe_archive("everything").unwrap().event_count == 3
    })
    .await;
    let replay = f
        .events
        .start_replay(ReplayInput {
            name: "backfill".into(),
            archive_arn: archive.arn.clone(),
            start_ms: start,
            end_ms: middle,
            destination_arn: f.events.describe_bus("default").unwrap().arn,
            filter_arns: vec![f.events.describe_rule("default", "a").unwrap().arn],
            ..ReplayInput::default()
        })
        .await
        .unwrap();
    assert_eq!(replay.state, "STARTING");
    wait_for("the replay", || {
        f.events.describe_replay("backfill").unwrap().state == "COMPLETED"
    })
    .await;
    wait_for("the replayed events", || f.recorder.to("a").len() == 5).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let replayed: Vec<Event> = f.recorder.to("a")[3..]
        .iter()
        .map(|(_, _, e)| e.clone())
        .collect();
    assert_eq!(
        replayed.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        [first, second],
        "in order, the range only"
    );
    assert!(
        replayed
            .iter()
            .all(|e| e.replay_name.as_deref() == Some("backfill"))
    );
    let input: Value = serde_json::from_str(&f.recorder.to("a")[3].1).unwrap();
    assert_eq!(input["replay-name"], json!("backfill"));
    assert_eq!(f.recorder.to("b").len(), 3, "b is not among the FilterArns");
    let done = f.events.describe_replay("backfill").unwrap();
    assert!(done.ended_ms.is_some() && done.last_replayed_ms.is_some());
    // Replayed events are not archived again.
    assert_eq!(
        f.events.describe_archive("everything").unwrap().event_count,
        3
    );
    let refused = f.events.cancel_replay("backfill").await.unwrap_err();
    assert_eq!(refused.code(), "IllegalStatusException");
    assert_eq!(
        refused.to_string(),
        "Replay backfill is not in a valid state for this operation."
    );
    let again = f
        .events
        .start_replay(ReplayInput {
            name: "backfill".into(),
            archive_arn: archive.arn.clone(),
            start_ms: start,
            end_ms: middle,
            destination_arn: f.events.describe_bus("default").unwrap().arn,
            ..ReplayInput::default()
        })
        .await
        .unwrap_err();
    assert_eq!(again.to_string(), "Replay backfill already exists.");
    // Retention drops what is older than the archive keeps; 0 days keeps everything.
    f.events.expire_archived(now_ms() + 2 * 86_400_000).await;
    assert_eq!(
        f.events.describe_archive("everything").unwrap().event_count,
        3
    );
    f.events
        .update_archive("everything", None, None, Some(1))
        .await
        .unwrap();
    f.events.expire_archived(now_ms() + 2 * 86_400_000).await;
    assert_eq!(
        f.events.describe_archive("everything").unwrap().event_count,
        0
    );
    assert_eq!(
        f.store.archive_usage().await.unwrap(),
        vec![],
        "gone from the store too"
    );
    f.events.delete_archive("everything").await.unwrap();
    assert_eq!(
        f.events
            .describe_archive("everything")
            .unwrap_err()
            .to_string(),
        "Archive everything does not exist."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_and_targets_keep_aws_limits_and_messages() {
    let f = Fixture::new().await;
    let err = f
        .events
        .put_rule(RuleInput {
            name: "r".into(),
            ..RuleInput::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Parameter(s) EventPattern or ScheduleExpression must be specified."
    );
    let err = f
        .events
        .put_rule(RuleInput {
            name: "r".into(),
            event_pattern: Some(r#"{"source": "not a list"}"#.into()),
            ..RuleInput::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "InvalidEventPatternException");
    assert!(
        err.to_string()
            .starts_with("Event pattern is not valid. Reason: ")
    );
    let err = f
        .events
        .put_rule(RuleInput {
            name: "r".into(),
            bus: Some("nope".into()),
            event_pattern: Some(r#"{"source": ["a"]}"#.into()),
            ..RuleInput::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Event bus nope does not exist.");
    assert_eq!(err.code(), "ResourceNotFoundException");

    f.rule("default", "r", json!({"source": ["a"]}), Vec::new())
        .await;
    let err = f.events.describe_rule("default", "nope").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Rule nope does not exist on EventBus default."
    );
    let bad = f
        .events
        .put_targets("default", "r", vec![target("a b", TargetInput::Whole)])
        .await
        .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "1 validation error detected: Value 'a b' at 'targets.1.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
    );
    let five: Vec<TargetSpec> = (1..=5)
        .map(|i| target(&format!("t{i}"), TargetInput::Whole))
        .collect();
    f.events.put_targets("default", "r", five).await.unwrap();
    // Putting an existing id again replaces it; a sixth is one too many.
    f.events
        .put_targets(
            "default",
            "r",
            vec![target("t1", TargetInput::Path("$.detail".into()))],
        )
        .await
        .unwrap();
    let sixth = f
        .events
        .put_targets("default", "r", vec![target("t6", TargetInput::Whole)])
        .await
        .unwrap_err();
    assert_eq!(sixth.code(), "LimitExceededException");
    assert_eq!(
        sixth.to_string(),
        "The requested resource exceeds the maximum number allowed."
    );
    let listed = f.events.list_targets("default", "r").unwrap();
    assert_eq!(listed.len(), 5);
    assert_eq!(listed[0].input, TargetInput::Path("$.detail".into()));
    assert_eq!(
        f.events
            .rule_names_by_target("default", &format!("{QUEUE}t3")),
        ["r"]
    );
    let err = f
        .events
        .delete_rule("default", "r", false)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Rule can't be deleted since it has targets."
    );
    assert_eq!(err.code(), "ValidationException");
    let ids: Vec<String> = (1..=5).map(|i| format!("t{i}")).collect();
    f.events
        .remove_targets("default", "r", &ids, false)
        .await
        .unwrap();
    f.events.delete_rule("default", "r", false).await.unwrap();
    assert!(f.events.list_rules("default", None).is_empty());
    // Deleting it again succeeds, as on AWS; on a bus that is not there it does not.
    f.events.delete_rule("default", "r", false).await.unwrap();
    let err = f.events.delete_rule("nope", "r", false).await.unwrap_err();
    assert_eq!(err.to_string(), "Event bus nope does not exist.");

    // 300 rules on a bus.
    for i in 0..300 {
        f.rule(
            "default",
            &format!("r{i:03}"),
            json!({"source": ["a"]}),
            Vec::new(),
        )
        .await;
    }
    let err = f
        .events
        .put_rule(RuleInput {
            name: "one-more".into(),
            event_pattern: Some(r#"{"source": ["a"]}"#.into()),
            ..RuleInput::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "LimitExceededException");
    assert_eq!(f.events.list_rules("default", Some("r29")).len(), 10);

    // Buses.
    f.events
        .create_bus(
            "orders",
            Some("all orders".into()),
            vec![("team".into(), "web".into())],
        )
        .await
        .unwrap();
    let err = f
        .events
        .create_bus("orders", None, Vec::new())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Event bus orders already exists.");
    assert_eq!(err.code(), "ResourceAlreadyExistsException");
    let err = f.events.delete_bus("default").await.unwrap_err();
    assert_eq!(err.to_string(), "Cannot delete event bus default.");
    let orders = f.events.describe_bus("orders").unwrap();
    assert_eq!(
        orders.arn,
        "arn:aws:events:us-east-1:000000000000:event-bus/orders"
    );
    assert_eq!(
        f.events.tags(&orders.arn).unwrap(),
        [("team".to_string(), "web".to_string())]
    );
    f.events
        .tag(&orders.arn, vec![("env".into(), "prod".into())])
        .await
        .unwrap();
    f.events
        .untag(&orders.arn, &["team".to_string()])
        .await
        .unwrap();
    assert_eq!(
        f.events.tags(&orders.arn).unwrap(),
        [("env".to_string(), "prod".to_string())]
    );
    let names: Vec<String> = f
        .events
        .list_buses(None)
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["default", "orders"]);
    f.rule("orders", "o", json!({"source": ["a"]}), Vec::new())
        .await;
    let err = f.events.delete_bus("orders").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "EventBus can't be deleted since it has rules."
    );
    f.events.delete_rule("orders", "o", false).await.unwrap();
    f.events.delete_bus("orders").await.unwrap();
    assert!(f.events.describe_bus("orders").is_err());
    f.events.delete_bus("orders").await.unwrap();
    assert!(
        f.streams.describe("__events-orders").is_err(),
        "its stream went with it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_rules_are_read_through_the_api_and_changed_only_by_their_files() {
    let f = Fixture::new().await;
    // A pipeline's trigger, as the model turns it into a rule.
    let trigger = Trigger {
        bus: "default".into(),
        pattern: json!({"source": ["weir.lake"]}),
        input: TargetInput::Whole,
    };
    let spec = trigger.to_rule(
        TriggerOwner::Pipeline,
        "clicks",
        0,
        &Scope::new("us-east-1", "000000000000"),
    );
    let problems = f
        .events
        .set_managed_rules("pipelines", vec![("pipelines/clicks.yaml".into(), spec)]);
    assert!(problems.is_empty(), "{problems:?}");
    let info = f
        .events
        .describe_rule("default", "clicks.trigger-1")
        .unwrap();
    assert_eq!(info.managed_by.as_deref(), Some("weir"));
    assert_eq!(info.file.as_deref(), Some("pipelines/clicks.yaml"));
    let err = f
        .events
        .put_targets(
            "default",
            "clicks.trigger-1",
            vec![target("x", TargetInput::Whole)],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ManagedRuleException");
    assert_eq!(
        f.events
            .delete_rule("default", "clicks.trigger-1", true)
            .await
            .unwrap_err()
            .code(),
        "ManagedRuleException"
    );
    f.put("default", "weir.lake", json!({})).await;
    wait_for("the managed rule's delivery", || {
        f.recorder.to("trigger-1").len() == 1
    })
    .await;
    let pipeline = &f
        .events
        .list_targets("default", "clicks.trigger-1")
        .unwrap()[0]
        .arn;
    assert_eq!(
        pipeline,
        "arn:weir:pipelines:us-east-1:000000000000:pipeline/clicks"
    );
    // A reload of the set without it removes it.
    assert!(
        f.events
            .set_managed_rules("pipelines", Vec::new())
            .is_empty()
    );
    assert!(
        f.events
            .describe_rule("default", "clicks.trigger-1")
            .is_err()
    );
    // rules/*.yaml are read by reload: a rule per file, managed; a broken file is a problem.
    let rules = f.project.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("clicks.yaml"),
        "description: New clicks\npattern: {source: [weir.lake]}\ntargets:\n  - id: q\n    queue: clicks\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("hourly.yaml"),
        "schedule: rate(1 hour)\ntargets:\n  - queue: ticks\n",
    )
    .unwrap();
    std::fs::write(rules.join("broken.yaml"), "pattern: [not, a, mapping]\n").unwrap();
    let problems = f.events.reload();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].to_string().contains("rules/broken.yaml"),
        "{problems:?}"
    );
    let clicks = f.events.describe_rule("default", "clicks").unwrap();
    assert_eq!(clicks.managed_by.as_deref(), Some("weir"));
    assert_eq!(
        clicks.event_pattern.as_deref(),
        Some(r#"{"source":["weir.lake"]}"#)
    );
    let hourly = f.events.describe_rule("default", "hourly").unwrap();
    assert_eq!(hourly.schedule_expression.as_deref(), Some("rate(1 hour)"));
    f.put("default", "weir.lake", json!({"table": "clicks"}))
        .await;
    wait_for("the file rule's delivery", || {
        !f.recorder.to("q").is_empty()
    })
    .await;
    let (_, _, event) = f.recorder.to("q")[0].clone();
    assert_eq!(event.detail, json!({"table": "clicks"}));
    let queue = f.events.list_targets("default", "clicks").unwrap()[0]
        .arn
        .clone();
    assert_eq!(queue, format!("{QUEUE}clicks"));
    // A file broken by an edit keeps its rule as it was last read.
    std::fs::write(rules.join("hourly.yaml"), "schedule: rate(\n").unwrap();
    assert_eq!(f.events.reload().len(), 2);
    assert!(f.events.describe_rule("default", "hourly").is_ok());
    // The file goes: so does its rule.
    std::fs::remove_file(rules.join("clicks.yaml")).unwrap();
    std::fs::remove_file(rules.join("broken.yaml")).unwrap();
    std::fs::write(
        rules.join("hourly.yaml"),
        "schedule: rate(2 hours)\ntargets:\n  - queue: ticks\n",
    )
    .unwrap();
    assert!(f.events.reload().is_empty());
    assert!(f.events.describe_rule("default", "clicks").is_err());
    let hourly = f.events.describe_rule("default", "hourly").unwrap();
    assert_eq!(hourly.schedule_expression.as_deref(), Some("rate(2 hours)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_put_before_a_stop_are_delivered_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let faulty: Arc<Mutex<Option<Arc<FaultyStore>>>> = Arc::default();
    let keep = Arc::clone(&faulty);
    let (_store, streams, events, recorder) = open(data.path(), project.path(), move |inner| {
        let store = FaultyStore::new(inner);
        *keep.lock().unwrap() = Some(Arc::clone(&store));
        store
    })
    .await;
    let mut waiting = target("waiting", TargetInput::Whole);
    waiting.retry.maximum_retry_attempts = 100;
    let targets = vec![target("t", TargetInput::Whole), waiting];
    rule_on(
        &events,
        "default",
        "r",
        json!({"source": ["weir.test"]}),
        targets,
    )
    .await;
    // The waiting target is down: its delivery becomes a retry, committed with the checkpoint.
    recorder.fail("waiting", usize::MAX, true);
    let first = events
        .put_events(vec![entry("default", "weir.test", json!({"n": 1}))])
        .await
        .remove(0)
        .unwrap();
    let store = faulty.lock().unwrap().clone().unwrap();
    wait_for("the retry row", || recorder.attempts("waiting") >= 2).await;
    // Then the store refuses every commit: the next event is delivered, but its checkpoint
    // is never recorded.
    store.fail_commits(true);
    let second = events
        .put_events(vec![entry("default", "weir.test", json!({"n": 2}))])
        .await
        .remove(0)
        .unwrap();
    wait_for("the second delivery", || recorder.to("t").len() == 2).await;
    events.stop().await;
    drop(events);
    streams.close().await;

    let (_store, _streams, events, recorder) = open(data.path(), project.path(), |s| s).await;
    // The event whose checkpoint was lost comes again; the first one's retry goes on.
    wait_for("the redelivery", || {
        recorder.to("t").iter().any(|(_, _, e)| e.id == second)
    })
    .await;
    wait_for("the retried delivery", || {
        recorder.to("waiting").iter().any(|(_, _, e)| e.id == first)
    })
    .await;
    assert!(
        recorder.to("t").iter().all(|(_, _, e)| e.id != first),
        "the first event was checkpointed and is not delivered again"
    );
    drop(events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_interrupted_by_a_restart_resumes() {
    let data = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let (store, streams, events, _) = open(data.path(), project.path(), |s| s).await;
    let targets = vec![target("t", TargetInput::Whole)];
    rule_on(
        &events,
        "default",
        "r",
        json!({"source": ["weir.test"]}),
        targets,
    )
    .await;
    let bus = events.describe_bus("default").unwrap().arn;
    let archive = events
        .create_archive(ArchiveInput {
            name: "all".into(),
            source_arn: bus.clone(),
            ..ArchiveInput::default()
        })
        .await
        .unwrap();
    let start = now_ms();
    let mut ids = Vec::new();
    for n in 0..3 {
        let put = events
            .put_events(vec![entry("default", "weir.test", json!({"n": n}))])
            .await;
        ids.push(put.into_iter().next().unwrap().unwrap());
    }
    wait_for("the archive", || {
        events.describe_archive("all").unwrap().event_count == 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let end = now_ms();
    events.stop().await;
    drop(events);
    streams.close().await;
    // A replay the server had started when it went down.
    store
        .apply(&[
            weir_store::EventsMutation::PutReplay(weir_store::EventReplayRecord {
                name: "again".into(),
                description: None,
                archive_arn: archive.arn.clone(),
                destination_arn: bus,
                filter_arns: json!([]),
                start_ms: start,
                end_ms: end,
                state: "RUNNING".into(),
                state_reason: None,
                started_ms: end,
                ended_ms: None,
                last_replayed_ms: None,
                cursor_time_ms: None,
                cursor_seq: None,
            })
            .into(),
        ])
        .await
        .unwrap();
    drop(store);

    let (_store, _streams, events, recorder) = open(data.path(), project.path(), |s| s).await;
    wait_for("the replay to finish", || {
        events.describe_replay("again").unwrap().state == "COMPLETED"
    })
    .await;
    wait_for("the replayed events", || recorder.to("t").len() == 3).await;
    let replayed: Vec<Event> = recorder.to("t").into_iter().map(|(_, _, e)| e).collect();
    assert_eq!(
        replayed.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        ids
    );
    assert!(
        replayed
            .iter()
            .all(|e| e.replay_name.as_deref() == Some("again"))
    );
    assert_eq!(events.describe_archive("all").unwrap().event_count, 3);
}
