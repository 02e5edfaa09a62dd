//! The event bus's metadata: buses, rules, archives with their events, replays and retries
//! round-trip; deletions take what belongs to them, in batch order; archives page by time.

use serde_json::json;
use weir_store::*;

use crate::Db;

fn bus(name: &str, updated_ms: i64) -> EventBusRecord {
    EventBusRecord {
        name: name.into(),
        description: Some(format!("bus {name}")),
        tags: json!([{"Key": "team", "Value": "web"}]),
        created_ms: 1,
        updated_ms,
    }
}

fn rule(bus: &str, name: &str, state: &str) -> EventRuleRecord {
    EventRuleRecord {
        bus: bus.into(),
        name: name.into(),
        description: None,
        event_pattern: Some(r#"{"source": ["weir.test"]}"#.into()),
        schedule: None,
        state: state.into(),
        role_arn: Some("arn:aws:iam::000000000000:role/r".into()),
        targets: json!([{"Id": "t1", "Arn": "arn:aws:sqs:us-east-1:000000000000:q"}]),
        tags: json!([]),
        created_ms: 2,
        updated_ms: 3,
    }
}

fn archived(archive: &str, time_ms: i64, seq: i64) -> EventsMutation {
    EventsMutation::ArchiveEvent(ArchivedEventRecord {
        archive: archive.into(),
        time_ms,
        seq,
        event: format!(r#"{{"id": "{time_ms}-{seq}"}}"#),
    })
}

fn retry(id: &str, next_ms: i64) -> EventRetryRecord {
    EventRetryRecord {
        id: id.into(),
        bus: "default".into(),
        rule: "r".into(),
        target: json!({"Id": "t1"}),
        event: "{}".into(),
        input: r#"{"a": 1}"#.into(),
        attempts: 2,
        first_ms: 10,
        next_ms,
        error_code: "Throttled".into(),
        error_message: "try later ✓".into(),
    }
}

pub async fn event_bus_metadata_round_trips_and_deletes_in_batch_order(db: Db) {
    let store = &db.store;
    assert_eq!(store.event_buses().await.unwrap(), vec![]);
    let replay = EventReplayRecord {
        name: "backfill".into(),
        description: None,
        archive_arn: "arn:aws:events:us-east-1:000000000000:archive/a".into(),
        destination_arn: "arn:aws:events:us-east-1:000000000000:event-bus/default".into(),
        filter_arns: json!(["arn:aws:events:us-east-1:000000000000:rule/r"]),
        start_ms: 100,
        end_ms: 200,
        state: "RUNNING".into(),
        state_reason: Some("why".into()),
        started_ms: 300,
        ended_ms: None,
        last_replayed_ms: Some(150),
        cursor_time_ms: Some(150),
        cursor_seq: Some(7),
    };
    let archive = EventArchiveRecord {
        name: "a".into(),
        source_arn: "arn:aws:events:us-east-1:000000000000:event-bus/default".into(),
        description: Some("all".into()),
        event_pattern: None,
        retention_days: 3,
        state: "ENABLED".into(),
        created_ms: 5,
    };
    store
        .apply(&[
            EventsMutation::PutBus(bus("orders", 1)).into(),
            EventsMutation::PutBus(bus("Billing", 1)).into(),
            EventsMutation::PutBus(bus("orders", 2)).into(),
            EventsMutation::PutRule(rule("orders", "b", "ENABLED")).into(),
            EventsMutation::PutRule(rule("orders", "a", "DISABLED")).into(),
            EventsMutation::PutRule(rule("Billing", "a", "ENABLED")).into(),
            EventsMutation::PutArchive(archive.clone()).into(),
            EventsMutation::PutReplay(replay.clone()).into(),
            EventsMutation::PutRetry(retry("x", 50)).into(),
            EventsMutation::PutRetry(retry("y", 40)).into(),
        ])
        .await
        .unwrap();
    let buses = store.event_buses().await.unwrap();
    assert_eq!(buses, vec![bus("Billing", 1), bus("orders", 2)]);
    let rules: Vec<(String, String)> = store
        .event_rules()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.bus, r.name))
        .collect();
    assert_eq!(
        rules,
        [("Billing", "a"), ("orders", "a"), ("orders", "b")].map(|(b, n)| (b.into(), n.into()))
    );
    assert_eq!(
        store.event_rules().await.unwrap()[1],
        rule("orders", "a", "DISABLED")
    );
    assert_eq!(store.event_archives().await.unwrap(), vec![archive]);
    assert_eq!(store.event_replays().await.unwrap(), vec![replay]);
    let retries: Vec<String> = store
        .event_retries()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(retries, ["y", "x"], "soonest first");
    assert_eq!(store.event_retries().await.unwrap()[1], retry("x", 50));

    // A bus's deletion takes its rules; a rule put again after it in the batch stays.
    store
        .apply(&[
            EventsMutation::PutRule(rule("orders", "c", "ENABLED")).into(),
            EventsMutation::DeleteBus {
                name: "orders".into(),
            }
            .into(),
            EventsMutation::PutRule(rule("orders", "d", "ENABLED")).into(),
            EventsMutation::DeleteRule {
                bus: "Billing".into(),
                name: "a".into(),
            }
            .into(),
            EventsMutation::DeleteRetry { id: "x".into() }.into(),
            EventsMutation::DeleteRetry {
                id: "absent".into(),
            }
            .into(),
        ])
        .await
        .unwrap();
    assert_eq!(store.event_buses().await.unwrap(), vec![bus("Billing", 1)]);
    let rules: Vec<String> = store
        .event_rules()
        .await
        .unwrap()
        .into_iter()
        .map(|r| format!("{}/{}", r.bus, r.name))
        .collect();
    assert_eq!(rules, ["orders/d"]);
    assert_eq!(store.event_retries().await.unwrap(), vec![retry("y", 40)]);
}

pub async fn archived_events_page_by_time_expire_and_go_with_their_archive(db: Db) {
    let store = &db.store;
    let mut batch: Vec<Mutation> = Vec::new();
    for (time, seq) in [(30, 3), (10, 1), (20, 2), (20, 5), (40, 4)] {
        batch.push(archived("a", time, seq).into());
    }
    batch.push(archived("b", 20, 9).into());
    // Archived twice (a batch processed again): kept once.
    batch.push(archived("a", 10, 1).into());
    store.apply(&batch).await.unwrap();
    let ids = |events: Vec<ArchivedEventRecord>| -> Vec<(i64, i64)> {
        events.iter().map(|e| (e.time_ms, e.seq)).collect()
    };
    let all = store
        .archived_events("a", 0, 1000, None, 100)
        .await
        .unwrap();
    assert_eq!(
        ids(all.clone()),
        [(10, 1), (20, 2), (20, 5), (30, 3), (40, 4)]
    );
    assert_eq!(all[0].event, r#"{"id": "10-1"}"#);
    // [20, 40), two at a time, each page after the last one's position.
    let first = store.archived_events("a", 20, 40, None, 2).await.unwrap();
    assert_eq!(ids(first), [(20, 2), (20, 5)]);
    let second = store
        .archived_events("a", 20, 40, Some((20, 5)), 2)
        .await
        .unwrap();
    assert_eq!(ids(second), [(30, 3)]);
    let usage = store.archive_usage().await.unwrap();
    assert_eq!(usage.len(), 2);
    assert_eq!((usage[0].archive.as_str(), usage[0].events), ("a", 5));
    assert_eq!(usage[0].bytes, 5 * r#"{"id": "10-1"}"#.len() as i64);
    store
        .apply(&[EventsMutation::ExpireArchivedEvents {
            archive: "a".into(),
            before_ms: 30,
        }
        .into()])
        .await
        .unwrap();
    let left = store
        .archived_events("a", 0, 1000, None, 100)
        .await
        .unwrap();
    assert_eq!(ids(left), [(30, 3), (40, 4)]);
    store
        .apply(&[EventsMutation::DeleteArchive { name: "a".into() }.into()])
        .await
        .unwrap();
    assert!(
        store
            .archived_events("a", 0, 1000, None, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .archived_events("b", 0, 1000, None, 100)
            .await
            .unwrap()
            .len(),
        1
    );
    // Survives a restart.
    let db = db.reopen().await;
    assert_eq!(db.store.archive_usage().await.unwrap()[0].archive, "b");
}
