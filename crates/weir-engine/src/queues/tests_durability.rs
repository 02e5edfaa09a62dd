//! What the service acknowledges is in the store: acknowledged sends survive a restart and a
//! killed process, a received, undeleted message stays invisible until its timeout and then
//! returns, and receive counts (so redrives) survive.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use super::tests::{attrs, bodies, open, send_ok, take, text};
use super::*;

/// Opens the queues of `dir` on a runtime of their own, runs `body`, and drops both, as a
/// server that stops.
fn session<T>(dir: &std::path::Path, body: impl AsyncFnOnce(Queues) -> T) -> T {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let queues = open(dir).await;
        body(queues).await
    })
}

#[test]
fn acknowledged_messages_in_flight_state_and_receive_counts_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (in_flight_id, returned_id) = session(dir.path(), async |q| {
        q.create_queue("dlq", BTreeMap::new(), BTreeMap::new())
            .await
            .unwrap();
        let policy = format!(
            r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":2}}"#,
            q.queue_arn("dlq").unwrap()
        );
        q.create_queue(
            "work",
            attrs(&[("RedrivePolicy", &policy)]),
            attrs(&[("team", "data")]),
        )
        .await
        .unwrap();
        q.create_queue("f.fifo", attrs(&[("FifoQueue", "true")]), BTreeMap::new())
            .await
            .unwrap();
        send_ok(
            &q,
            "work",
            vec![text("held"), text("returned"), text("waiting")],
        )
        .await;
        let fifo = NewMessage {
            body: "f".into(),
            group_id: Some("g".into()),
            deduplication_id: Some("once".into()),
            ..Default::default()
        };
        send_ok(&q, "f.fifo", vec![fifo]).await;
        // "held" stays in flight for 5 seconds; "returned" is received and returned.
        let held = q.receive("work", take(1, Some(5))).await.unwrap();
        let returned = q.receive("work", take(1, Some(0))).await.unwrap();
        assert_eq!(bodies(&held), ["held"]);
        assert_eq!(bodies(&returned), ["returned"]);
        (held[0].message_id.clone(), returned[0].message_id.clone())
    });
    session(dir.path(), async |q| {
        assert_eq!(q.queue_names(), ["dlq", "f.fifo", "work"]);
        assert_eq!(q.tags("work").unwrap(), attrs(&[("team", "data")]));
        assert!(
            q.attributes("work", &["RedrivePolicy".into()]).unwrap()["RedrivePolicy"]
                .contains("maxReceiveCount")
        );
        assert_eq!(
            q.depth("work").unwrap(),
            QueueDepth {
                visible: 2,
                in_flight: 1,
                delayed: 0
            }
        );
        let now = q.receive("work", take(10, Some(0))).await.unwrap();
        assert_eq!(bodies(&now), ["returned", "waiting"]);
        assert_eq!(now[0].message_id, returned_id);
        // Its second receive: the count came through the restart.
        assert_eq!(now[0].attributes["ApproximateReceiveCount"], "2");
        // The held message comes back once its timeout has passed.
        let mut request = take(1, Some(30));
        request.wait_seconds = Some(5);
        let back = loop {
            let got = q.receive("work", request.clone()).await.unwrap();
            if got.iter().any(|m| m.message_id == in_flight_id) {
                break got;
            }
        };
        assert_eq!(back[0].attributes["ApproximateReceiveCount"], "2");
        // "returned" was received twice: its next receive sends it to the dead-letter queue.
        let mut dead = Vec::new();
        for _ in 0..3 {
            dead = q.receive("dlq", take(10, None)).await.unwrap();
            if !dead.is_empty() {
                break;
            }
            q.receive("work", take(10, Some(0))).await.unwrap();
        }
        assert!(dead.iter().any(|m| m.message_id == returned_id), "{dead:?}");
        // The FIFO de-duplication id is remembered across the restart.
        let again = NewMessage {
            body: "f".into(),
            group_id: Some("g".into()),
            deduplication_id: Some("once".into()),
            ..Default::default()
        };
        send_ok(&q, "f.fifo", vec![again]).await;
        assert_eq!(q.receive("f.fifo", take(10, None)).await.unwrap().len(), 1);
    });
}

#[test]
fn deletions_and_purges_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    session(dir.path(), async |q| {
        for name in ["a", "b"] {
            q.create_queue(name, BTreeMap::new(), BTreeMap::new())
                .await
                .unwrap();
            send_ok(&q, name, vec![text("1"), text("2")]).await;
        }
        let got = q.receive("a", take(1, None)).await.unwrap();
        q.delete("a", vec![got[0].receipt_handle.clone()])
            .await
            .unwrap();
        q.purge("b").await.unwrap();
        q.create_queue("gone", BTreeMap::new(), BTreeMap::new())
            .await
            .unwrap();
        send_ok(&q, "gone", vec![text("x")]).await;
        q.delete_queue("gone").await.unwrap();
    });
    session(dir.path(), async |q| {
        assert_eq!(
            bodies(&q.receive("a", take(10, None)).await.unwrap()),
            ["2"]
        );
        assert!(q.receive("b", take(10, None)).await.unwrap().is_empty());
        assert!(q.get_queue_url("gone").is_err());
        // A queue created again under a deleted name starts empty.
        q.create_queue("gone", BTreeMap::new(), BTreeMap::new())
            .await
            .unwrap();
        assert!(q.receive("gone", take(10, None)).await.unwrap().is_empty());
    });
}

#[test]
fn receipt_handles_stay_good_across_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let handles = session(dir.path(), async |q| {
        q.create_queue("h", BTreeMap::new(), BTreeMap::new())
            .await
            .unwrap();
        send_ok(&q, "h", vec![text("delete me"), text("extend me")]).await;
        let got = q.receive("h", take(2, Some(60))).await.unwrap();
        assert_eq!(bodies(&got), ["delete me", "extend me"]);
        (got[0].receipt_handle.clone(), got[1].receipt_handle.clone())
    });
    session(dir.path(), async |q| {
        let deleted = q.delete("h", vec![handles.0]).await.unwrap();
        assert!(deleted[0].is_ok());
        let changed = q
            .change_visibility("h", vec![(handles.1, 0)])
            .await
            .unwrap();
        assert!(changed[0].is_ok(), "{changed:?}");
        assert_eq!(
            q.depth("h").unwrap(),
            QueueDepth {
                visible: 1,
                in_flight: 0,
                delayed: 0
            }
        );
        assert_eq!(
            bodies(&q.receive("h", take(10, None)).await.unwrap()),
            ["extend me"]
        );
    });
}

/// Set in the child process of the crash test: its data directory.
const CRASH_DIR: &str = "WEIR_QUEUES_CRASH_DIR";

/// The child of [`every_acknowledged_send_survives_kill_9`]: sends until killed, printing what
/// was acknowledged. Without its variable (a normal test run) it does nothing.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CRASH_DIR) else {
        return;
    };
    session(std::path::Path::new(&dir), async |q| {
        q.create_queue("crash", BTreeMap::new(), BTreeMap::new())
            .await
            .unwrap();
        send_ok(&q, "crash", vec![text("held")]).await;
        let held = q.receive("crash", take(1, Some(8))).await.unwrap();
        let mut out = std::io::stdout();
        writeln!(out, "held {}", held[0].message_id).unwrap();
        out.flush().unwrap();
        let senders: Vec<_> = (0..4)
            .map(|s| {
                let q = q.clone();
                tokio::spawn(async move {
                    for b in 0.. {
                        let batch = (0..10).map(|i| text(&format!("{s}-{b}-{i}"))).collect();
                        let sent = send_ok(&q, "crash", batch).await;
                        let ids: Vec<String> = sent.into_iter().map(|s| s.message_id).collect();
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "sent {}", ids.join(" ")).unwrap();
                        out.flush().unwrap();
                    }
                })
            })
            .collect();
        for sender in senders {
            let _ = sender.await;
        }
    });
}

#[test]
fn every_acknowledged_send_survives_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "queues::tests_durability::crash_child",
            "--nocapture",
        ])
        .env(CRASH_DIR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("child");
    let stdout = child.stdout.take().expect("stdout");
    let mut held = None;
    let mut acknowledged = HashSet::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(id) = line.strip_prefix("held ") {
            held = Some(id.to_string());
        } else if let Some(ids) = line.strip_prefix("sent ") {
            acknowledged.extend(ids.split(' ').map(str::to_string));
        }
        if acknowledged.len() >= 500 {
            break;
        }
    }
    // SIGKILL, mid-send.
    child.kill().expect("kill");
    child.wait().expect("wait");
    let held = held.expect("the child received its message");
    assert!(acknowledged.len() >= 500, "the child stopped early");
    session(dir.path(), async |q| {
        let mut seen = HashSet::new();
        let mut held_back = false;
        loop {
            let got = q.receive("crash", take(10, Some(60))).await.unwrap();
            if got.is_empty() {
                break;
            }
            for message in got {
                held_back |= message.message_id == held;
                seen.insert(message.message_id);
            }
        }
        assert!(
            !held_back,
            "an in-flight message was visible before its timeout"
        );
        let lost: Vec<_> = acknowledged.difference(&seen).collect();
        assert!(
            lost.is_empty(),
            "{} acknowledged sends lost: {lost:?}",
            lost.len()
        );
        // The held message returns once its timeout passes, received twice by then.
        let mut request = take(1, None);
        request.wait_seconds = Some(15);
        let back = q.receive("crash", request).await.unwrap();
        assert_eq!(back[0].message_id, held);
        assert_eq!(back[0].attributes["ApproximateReceiveCount"], "2");
    });
}
