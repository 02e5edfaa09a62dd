//! The service's semantics on a real SQLite store: queues and their attributes, standard and
//! FIFO delivery, visibility, delays, long polling, redrive, purge, tags.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use weir_store::Committer;

use super::*;

pub(super) const ACCOUNT: &str = "000000000000";

pub(super) async fn open(dir: &Path) -> Queues {
    let store = weir_store::open(&format!("sqlite://{}", dir.join("weir.db").display()))
        .await
        .expect("store");
    let committer = Committer::start(Arc::clone(&store));
    Queues::open(
        store,
        committer,
        "us-east-1",
        ACCOUNT,
        "http://localhost:9324/",
    )
    .await
    .expect("open queues")
}

pub(super) struct Env {
    pub _dir: TempDir,
    pub queues: Queues,
}

pub(super) async fn env() -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = open(dir.path()).await;
    Env { _dir: dir, queues }
}

pub(super) fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(super) fn text(body: &str) -> NewMessage {
    NewMessage {
        body: body.into(),
        ..Default::default()
    }
}

fn grouped(body: &str, group: &str, dedup: &str) -> NewMessage {
    NewMessage {
        body: body.into(),
        group_id: Some(group.into()),
        deduplication_id: Some(dedup.into()),
        ..Default::default()
    }
}

pub(super) async fn send_ok(queues: &Queues, queue: &str, messages: Vec<NewMessage>) -> Vec<Sent> {
    queues
        .send(queue, messages)
        .await
        .expect("send")
        .into_iter()
        .map(|r| r.expect("accepted"))
        .collect()
}

pub(super) fn take(max: u32, visibility: Option<u32>) -> ReceiveRequest {
    ReceiveRequest {
        max_messages: max,
        visibility_timeout: visibility,
        wait_seconds: Some(0),
        attribute_names: vec!["All".into()],
        message_attribute_names: vec!["All".into()],
        ..Default::default()
    }
}

pub(super) fn bodies(received: &[Received]) -> Vec<&str> {
    received.iter().map(|m| m.body.as_str()).collect()
}

#[tokio::test]
async fn queues_are_created_found_listed_and_deleted() {
    let env = env().await;
    let q = &env.queues;
    let url = q
        .create_queue(
            "orders",
            attrs(&[("VisibilityTimeout", "60")]),
            BTreeMap::new(),
        )
        .await
        .expect("create");
    assert_eq!(url, format!("http://localhost:9324/{ACCOUNT}/orders"));
    // The same name with the same values is the same queue; a different value is refused.
    let again = q
        .create_queue(
            "orders",
            attrs(&[("VisibilityTimeout", "60"), ("DelaySeconds", "0")]),
            BTreeMap::new(),
        )
        .await
        .expect("same attributes");
    assert_eq!(again, url);
    let error = q
        .create_queue(
            "orders",
            attrs(&[("VisibilityTimeout", "61")]),
            BTreeMap::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "QueueNameExists");
    assert_eq!(error.query_code(), "QueueAlreadyExists");
    assert_eq!(
        error.to_string(),
        "A queue already exists with the same name and a different value for attribute VisibilityTimeout"
    );
    for name in ["orders-2", "other"] {
        q.create_queue(name, BTreeMap::new(), BTreeMap::new())
            .await
            .expect("create");
    }
    assert_eq!(q.get_queue_url("orders").unwrap(), url);
    assert_eq!(q.queue_name(&url).unwrap(), "orders");
    assert_eq!(
        q.queue_arn("orders").unwrap(),
        format!("arn:aws:sqs:us-east-1:{ACCOUNT}:orders")
    );
    let (listed, token) = q.list_queues(Some("orders"), None, None).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(token, None);
    let (first, token) = q.list_queues(None, Some(2), None).unwrap();
    assert_eq!(first.len(), 2);
    let (rest, end) = q.list_queues(None, Some(2), token.as_deref()).unwrap();
    assert_eq!(rest, vec![format!("http://localhost:9324/{ACCOUNT}/other")]);
    assert_eq!(end, None);
    assert_eq!(
        q.list_queues(None, Some(0), None).unwrap_err().code(),
        "InvalidParameterValue"
    );

    q.delete_queue(&url).await.expect("delete");
    let error = q.get_queue_url("orders").unwrap_err();
    assert_eq!(error.code(), "QueueDoesNotExist");
    assert_eq!(
        error.query_code(),
        "AWS.SimpleQueueService.NonExistentQueue"
    );
    assert_eq!(error.to_string(), "The specified queue does not exist.");
    assert_eq!(
        q.send("orders", vec![text("x")]).await.unwrap_err(),
        QueueError::QueueDoesNotExist
    );
}

#[tokio::test]
async fn attributes_have_sqs_defaults_checks_and_counts() {
    let env = env().await;
    let q = &env.queues;
    let error = q
        .create_queue(
            "bad",
            attrs(&[("VisibilityTimeout", "43201")]),
            BTreeMap::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "InvalidAttributeValue");
    assert_eq!(
        error.to_string(),
        "Invalid value for the parameter VisibilityTimeout."
    );
    let error = q
        .create_queue("bad", attrs(&[("Colour", "red")]), BTreeMap::new())
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "Unknown Attribute Colour.");
    let error = q
        .create_queue("bad", attrs(&[("FifoQueue", "true")]), BTreeMap::new())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "InvalidParameterValue");
    assert!(
        q.get_queue_url("bad").is_err(),
        "a refused queue was created"
    );

    q.create_queue("jobs", BTreeMap::new(), BTreeMap::new())
        .await
        .unwrap();
    let all = q.attributes("jobs", &["All".into()]).unwrap();
    assert_eq!(all["VisibilityTimeout"], "30");
    assert_eq!(all["MessageRetentionPeriod"], "345600");
    assert_eq!(all["DelaySeconds"], "0");
    assert_eq!(all["ReceiveMessageWaitTimeSeconds"], "0");
    assert_eq!(
        all["QueueArn"],
        format!("arn:aws:sqs:us-east-1:{ACCOUNT}:jobs")
    );
    assert_eq!(all["ApproximateNumberOfMessages"], "0");
    assert!(!all.contains_key("FifoQueue"));
    q.set_attributes("jobs", attrs(&[("VisibilityTimeout", "5")]))
        .await
        .unwrap();
    send_ok(q, "jobs", vec![text("a"), text("b")]).await;
    q.receive("jobs", take(1, None)).await.unwrap();
    let some = q
        .attributes(
            "jobs",
            &[
                "VisibilityTimeout".into(),
                "ApproximateNumberOfMessages".into(),
                "ApproximateNumberOfMessagesNotVisible".into(),
            ],
        )
        .unwrap();
    assert_eq!(
        some,
        attrs(&[
            ("VisibilityTimeout", "5"),
            ("ApproximateNumberOfMessages", "1"),
            ("ApproximateNumberOfMessagesNotVisible", "1"),
        ])
    );
    assert_eq!(
        q.attributes("jobs", &["Nope".into()]).unwrap_err().code(),
        "InvalidAttributeName"
    );
    let error = q
        .set_attributes("jobs", attrs(&[("FifoQueue", "true")]))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "InvalidAttributeName");
}

#[tokio::test]
async fn standard_messages_are_sent_received_and_deleted_with_sqs_digests() {
    let env = env().await;
    let q = &env.queues;
    q.create_queue("mail", BTreeMap::new(), BTreeMap::new())
        .await
        .unwrap();
    let mut message = text("hello");
    message.message_attributes.insert(
        "attribName1".into(),
        MessageAttributeValue {
            data_type: "String".into(),
            string_value: Some("attribValue 1".into()),
            ..Default::default()
        },
    );
    let sent = send_ok(q, "mail", vec![message, text("second")]).await;
    assert_eq!(
        sent[0].md5_of_message_body,
        "5d41402abc4b2a76b9719d911017c592"
    );
    assert_eq!(
        sent[0].md5_of_message_attributes.as_deref(),
        Some("19e27d4e946b072f3f58da80d94fd778")
    );
    assert_eq!(sent[1].md5_of_message_attributes, None);
    assert_eq!(sent[0].sequence_number, None);
    assert_ne!(sent[0].message_id, sent[1].message_id);

    let received = q.receive("mail", take(10, None)).await.unwrap();
    assert_eq!(bodies(&received), ["hello", "second"]);
    let first = &received[0];
    assert_eq!(first.message_id, sent[0].message_id);
    assert_eq!(first.md5_of_body, sent[0].md5_of_message_body);
    assert_eq!(
        first.md5_of_message_attributes,
        sent[0].md5_of_message_attributes
    );
    assert_eq!(
        first.message_attributes["attribName1"]
            .string_value
            .as_deref(),
        Some("attribValue 1")
    );
    assert_eq!(first.attributes["ApproximateReceiveCount"], "1");
    assert_eq!(first.attributes["SenderId"], ACCOUNT);
    assert!(first.attributes.contains_key("SentTimestamp"));
    assert!(
        first
            .attributes
            .contains_key("ApproximateFirstReceiveTimestamp")
    );
    assert_eq!(
        q.depth("mail").unwrap(),
        QueueDepth {
            visible: 0,
            in_flight: 2,
            delayed: 0
        }
    );
    // Only the attributes asked for come back.
    let handles: Vec<String> = received.iter().map(|m| m.receipt_handle.clone()).collect();
    let results = q
        .delete(
            "mail",
            vec![handles[0].clone(), "garbage".into(), handles[1].clone()],
        )
        .await
        .unwrap();
    assert!(results[0].is_ok() && results[2].is_ok());
    let refused = results[1].clone().unwrap_err();
    assert_eq!(refused.code, "ReceiptHandleIsInvalid");
    assert_eq!(
        refused.message,
        "The input receipt handle \"garbage\" is not a valid receipt handle."
    );
    assert_eq!(q.depth("mail").unwrap(), QueueDepth::default());
    // Deleting again is no error.
    assert!(
        q.delete("mail", handles)
            .await
            .unwrap()
            .iter()
            .all(Result::is_ok)
    );
}

#[tokio::test]
async fn a_batch_reports_each_refused_message_and_keeps_the_rest() {
    let env = env().await;
    let q = &env.queues;
    q.create_queue("b", BTreeMap::new(), BTreeMap::new())
        .await
        .unwrap();
    let mut dedup = text("x");
    dedup.deduplication_id = Some("d".into());
    let results = q
        .send("b", vec![text("ok"), text(""), dedup, text("ok too")])
        .await
        .unwrap();
    assert!(results[0].is_ok() && results[3].is_ok());
    assert_eq!(results[1].clone().unwrap_err().code, "MissingParameter");
    assert_eq!(
        results[2].clone().unwrap_err().code,
        "InvalidParameterValue"
    );
    assert!(results[2].clone().unwrap_err().sender_fault);
    let received = q.receive("b", take(10, None)).await.unwrap();
    assert_eq!(bodies(&received), ["ok", "ok too"]);
    let minimal = ReceiveRequest {
        max_messages: 11,
        ..take(1, None)
    };
    assert_eq!(
        q.receive("b", minimal).await.unwrap_err().to_string(),
        "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
    );
}

#[tokio::test]
async fn an_undeleted_message_returns_after_its_visibility_timeout_with_a_new_handle() {
    let env = env().await;
    let q = &env.queues;
    q.create_queue("v", attrs(&[("VisibilityTimeout", "1")]), BTreeMap::new())
        .await
        .unwrap();
    send_ok(q, "v", vec![text("once")]).await;
    let first = q.receive("v", take(1, None)).await.unwrap();
    assert_eq!(bodies(&first), ["once"]);
    assert!(q.receive("v", take(1, None)).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = q.receive("v", take(1, Some(30))).await.unwrap();
    assert_eq!(bodies(&second), ["once"]);
    assert_eq!(second[0].attributes["ApproximateReceiveCount"], "2");
    assert_eq!(
        second[0].attributes["ApproximateFirstReceiveTimestamp"],
        first[0].attributes["ApproximateFirstReceiveTimestamp"]
    );
    assert_ne!(first[0].receipt_handle, second[0].receipt_handle);
    // The first receive's handle succeeds but deletes nothing; the current one deletes.
    q.delete("v", vec![first[0].receipt_handle.clone()])
        .await
        .unwrap()[0]
        .clone()
        .unwrap();
    assert_eq!(q.depth("v").unwrap().in_flight, 1);
    q.delete("v", vec![second[0].receipt_handle.clone()])
        .await
        .unwrap()[0]
        .clone()
        .unwrap();
    assert_eq!(q.depth("v").unwrap(), QueueDepth::default());
}

#[tokio::test]
async fn visibility_changes_are_checked_and_zero_returns_a_message_at_once() {
    let env = env().await;
    let q = &env.queues;
    q.create_queue("c", BTreeMap::new(), BTreeMap::new())
        .await
        .unwrap();
    send_ok(q, "c", vec![text("m")]).await;
    let got = q.receive("c", take(1, None)).await.unwrap();
    let handle = got[0].receipt_handle.clone();
    let results = q
        .change_visibility(
            "c",
            vec![
                (handle.clone(), 43_201),
                ("nope".into(), 10),
                (handle.clone(), 0),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        results[0].clone().unwrap_err().message,
        "Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided."
    );
    assert_eq!(
        results[1].clone().unwrap_err().code,
        "ReceiptHandleIsInvalid"
    );
    assert!(results[2].is_ok());
    let again = q.receive("c", take(1, None)).await.unwrap();
    assert_eq!(bodies(&again), ["m"]);
    // The old handle's message is no longer in flight under it.
    let stale = q.change_visibility("c", vec![(handle, 10)]).await.unwrap();
    let error = stale[0].clone().unwrap_err();
    assert_eq!(error.code, "MessageNotInflight");
    assert_eq!(
        error.clone().into_error().query_code(),
        "AWS.SimpleQueueService.MessageNotInflight"
    );
    // Extending is allowed within 12 hours of the receive, not beyond.
    let current = again[0].receipt_handle.clone();
    assert!(
        q.change_visibility("c", vec![(current.clone(), 43_200)])
            .await
            .unwrap()[0]
            .is_ok()
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let beyond = q
        .change_visibility("c", vec![(current, 43_200)])
        .await
        .unwrap();
    assert!(beyond[0].clone().unwrap_err().message.ends_with(
        "Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"
    ));
}

#[tokio::test]
async fn delays_hold_messages_back_for_the_queue_and_per_message() {
    let env = env().await;
    let q = &env.queues;
    q.create_queue("slow", attrs(&[("DelaySeconds", "1")]), BTreeMap::new())
        .await
        .unwrap();
    let mut now = text("per-message zero");
    now.delay_seconds = Some(0);
    send_ok(q, "slow", vec![text("queue delay"), now]).await;
    assert_eq!(
        q.depth("slow").unwrap(),
        QueueDepth {
            visible: 1,
            in_flight: 0,
            delayed: 1
        }
    );
    assert_eq!(
        bodies(&q.receive("slow", take(10, None)).await.unwrap()),
        ["per-message zero"]
    );
    // A long poll wakes when the delayed message becomes visible.
    let started = Instant::now();
    let mut waiting = take(10, None);
    waiting.wait_seconds = Some(5);
    let late = q.receive("slow", waiting).await.unwrap();
    assert_eq!(bodies(&late), ["queue delay"]);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(700) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[tokio::test]
async fn long_polls_are_woken_by_sends_and_end_empty_at_their_wait_time() {
    let env = env().await;
    let q = env.queues.clone();
    q.create_queue(
        "lp",
        attrs(&[("ReceiveMessageWaitTimeSeconds", "1")]),
        BTreeMap::new(),
    )
    .await
    .unwrap();
    // The queue's wait time applies when the request gives none.
    let started = Instant::now();
    let request = ReceiveRequest {
        wait_seconds: None,
        ..take(1, None)
    };
    assert!(q.receive("lp", request).await.unwrap().is_empty());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(950) && waited < Duration::from_secs(3),
        "{waited:?}"
    );

    let poller = {
        let q = q.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let mut request = take(1, None);
            request.wait_seconds = Some(20);
            let got = q.receive("lp", request).await.unwrap();
            (got, started.elapsed())
        })
    };
    let mut watch = q.watch("lp").unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    send_ok(&q, "lp", vec![text("wake up")]).await;
    let (got, waited) = poller.await.unwrap();
    assert_eq!(bodies(&got), ["wake up"]);
    assert!(
        waited < Duration::from_secs(2),
        "the send did not wake the poll: {waited:?}"
    );
    assert!(watch.has_changed().unwrap());
    assert_eq!(*watch.borrow_and_update(), 1);
}

#[tokio::test]
async fn fifo_groups_deliver_in_order_one_batch_in_flight_per_group() {
    let env = env().await;
    let q = &env.queues;
    q.create_queue("o.fifo", attrs(&[("FifoQueue", "true")]), BTreeMap::new())
        .await
        .unwrap();
    let sent = send_ok(
        q,
        "o.fifo",
        vec![
            grouped("a1", "a", "1"),
            grouped("b1", "b", "2"),
            grouped("a2", "a", "3"),
            grouped("a3", "a", "4"),
        ],
    )
    .await;
    let numbers: Vec<&str> = sent
        .iter()
        .map(|s| s.sequence_number.as_deref().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    assert_eq!(numbers[0].len(), 20);

    let first = q.receive("o.fifo", take(1, None)).await.unwrap();
    assert_eq!(bodies(&first), ["a1"]);
    assert_eq!(first[0].attributes["MessageGroupId"], "a");
    assert_eq!(first[0].attributes["MessageDeduplicationId"], "1");
    assert_eq!(first[0].attributes["SequenceNumber"], numbers[0]);
    // Group a is blocked while a1 is in flight.
    let next = q.receive("o.fifo", take(10, None)).await.unwrap();
    assert_eq!(bodies(&next), ["b1"]);
    assert!(
        q.receive("o.fifo", take(10, None))
            .await
            .unwrap()
            .is_empty()
    );
    q.delete("o.fifo", vec![first[0].receipt_handle.clone()])
        .await
        .unwrap()[0]
        .clone()
        .unwrap();
    let rest = q.receive("o.fifo", take(10, None)).await.unwrap();
    assert_eq!(bodies(&rest), ["a2", "a3"]);
    // Returned to the queue, a2 and a3 come back first and in order.
    let handles = rest.iter().map(|m| (m.receipt_handle.clone(), 0)).collect();
    q.change_visibility("o.fifo", handles).await.unwrap();
    let again = q.receive("o.fifo", take(10, None)).await.unwrap();
    assert_eq!(bodies(&again), ["a2", "a3"]);
    // A FIFO handle from a receive that has been superseded has expired.
    let stale = q
        .delete("o.fifo", vec![rest[0].receipt_handle.clone()])
        .await
        .unwrap();
    assert!(
        stale[0]
            .clone()
            .unwrap_err()
            .message
            .ends_with("Reason: The receipt handle has expired.")
    );
}

#[tokio::test]
async fn fifo_deduplication_ids_and_content_hold_for_the_window() {
    let env = env().await;
    let q = &env.queues;
    q.create_queue(
        "d.fifo",
        attrs(&[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]),
        BTreeMap::new(),
    )
    .await
    .unwrap();
    let first = send_ok(q, "d.fifo", vec![grouped("x", "g", "same")]).await;
    let second = send_ok(q, "d.fifo", vec![grouped("y", "g", "same")]).await;
    assert_eq!(first[0].message_id, second[0].message_id);
    assert_eq!(first[0].sequence_number, second[0].sequence_number);
    assert_eq!(second[0].md5_of_message_body, md5_of_body("y"));
    // Content-based: the body is the id.
    let by_content = |body: &str| NewMessage {
        body: body.into(),
        group_id: Some("g".into()),
        ..Default::default()
    };
    let a = send_ok(q, "d.fifo", vec![by_content("body"), by_content("body")]).await;
    assert_eq!(a[0].message_id, a[1].message_id);
    let received = q.receive("d.fifo", take(10, None)).await.unwrap();
    assert_eq!(bodies(&received), ["x", "body"]);

    // With DeduplicationScope messageGroup, an id is per group.
    q.create_queue(
        "s.fifo",
        attrs(&[
            ("FifoQueue", "true"),
            ("DeduplicationScope", "messageGroup"),
        ]),
        BTreeMap::new(),
    )
    .await
    .unwrap();
    let sent = send_ok(
        q,
        "s.fifo",
        vec![grouped("1", "g1", "d"), grouped("2", "g2", "d")],
    )
    .await;
    assert_ne!(sent[0].message_id, sent[1].message_id);
    let error = q
        .send("s.fifo", vec![text("no group")])
        .await
        .unwrap()
        .remove(0)
        .unwrap_err();
    assert_eq!(error.code, "MissingParameter");
    assert_eq!(
        error.message,
        "The request must contain the parameter MessageGroupId."
    );
}

#[tokio::test]
async fn messages_move_to_the_dead_letter_queue_after_max_receive_count() {
    let env = env().await;
    let q = &env.queues;
    let dlq_url = q
        .create_queue("dlq", BTreeMap::new(), BTreeMap::new())
        .await
        .unwrap();
    let dlq_arn = q.queue_arn("dlq").unwrap();
    let policy = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":2}}"#);
    let error = q
        .create_queue(
            "src.fifo",
            attrs(&[("FifoQueue", "true"), ("RedrivePolicy", &policy)]),
            BTreeMap::new(),
        )
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("Reason: Dead-letter queue must be same type of queue as the source.")
    );
    let missing = policy.replace(":dlq", ":nowhere");
    let error = q
        .create_queue(
            "src",
            attrs(&[("RedrivePolicy", &missing)]),
            BTreeMap::new(),
        )
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("Reason: Dead letter target does not exist.")
    );
    let src_url = q
        .create_queue("src", attrs(&[("RedrivePolicy", &policy)]), BTreeMap::new())
        .await
        .unwrap();
    assert_eq!(
        q.attributes("src", &["RedrivePolicy".into()]).unwrap()["RedrivePolicy"],
        policy
    );
    let sent = send_ok(q, "src", vec![text("poison")]).await;
    for count in ["1", "2"] {
        let got = q.receive("src", take(1, Some(0))).await.unwrap();
        assert_eq!(got[0].attributes["ApproximateReceiveCount"], count);
    }
    assert!(q.receive("src", take(1, Some(0))).await.unwrap().is_empty());
    let dead = q.receive(&dlq_url, take(1, None)).await.unwrap();
    assert_eq!(bodies(&dead), ["poison"]);
    assert_eq!(dead[0].message_id, sent[0].message_id);
    let (sources, _) = q.list_dead_letter_source_queues("dlq", None, None).unwrap();
    assert_eq!(sources, vec![src_url]);
    // An empty policy removes it.
    q.set_attributes("src", attrs(&[("RedrivePolicy", "")]))
        .await
        .unwrap();
    assert!(
        q.list_dead_letter_source_queues("dlq", None, None)
            .unwrap()
            .0
            .is_empty()
    );
}

#[tokio::test]
async fn a_purge_empties_the_queue_once_a_minute() {
    let env = env().await;
    let q = &env.queues;
    q.create_queue("p", BTreeMap::new(), BTreeMap::new())
        .await
        .unwrap();
    assert_eq!(q.oldest_message_ms("p").unwrap(), None);
    let before = now_ms();
    send_ok(q, "p", vec![text("1"), text("2"), text("3")]).await;
    let oldest = q
        .oldest_message_ms("p")
        .unwrap()
        .expect("an oldest message");
    assert!(oldest >= before && oldest <= now_ms(), "{oldest}");
    q.receive("p", take(1, None)).await.unwrap();
    q.purge("p").await.unwrap();
    assert_eq!(q.depth("p").unwrap(), QueueDepth::default());
    assert_eq!(q.oldest_message_ms("p").unwrap(), None);
    let error = q.purge("p").await.unwrap_err();
    assert_eq!(error.code(), "PurgeQueueInProgress");
    assert_eq!(
        error.query_code(),
        "AWS.SimpleQueueService.PurgeQueueInProgress"
    );
    assert_eq!(
        error.to_string(),
        "Only one PurgeQueue operation on p is allowed every 60 seconds."
    );
    send_ok(q, "p", vec![text("after")]).await;
    assert_eq!(
        bodies(&q.receive("p", take(10, None)).await.unwrap()),
        ["after"]
    );
}

#[tokio::test]
async fn tags_are_set_listed_and_removed() {
    let env = env().await;
    let q = &env.queues;
    q.create_queue("t", BTreeMap::new(), attrs(&[("team", "data")]))
        .await
        .unwrap();
    q.tag("t", attrs(&[("env", "prod")])).await.unwrap();
    assert_eq!(
        q.tags("t").unwrap(),
        attrs(&[("env", "prod"), ("team", "data")])
    );
    q.untag("t", &["team".into()]).await.unwrap();
    assert_eq!(q.tags("t").unwrap(), attrs(&[("env", "prod")]));
    let many: BTreeMap<String, String> = (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
    assert_eq!(
        q.tag("t", many).await.unwrap_err().code(),
        "InvalidParameterValue"
    );
}

#[tokio::test]
async fn many_concurrent_batch_callers_each_get_every_message_once() {
    let env = env().await;
    let q = env.queues.clone();
    q.create_queue("load", BTreeMap::new(), BTreeMap::new())
        .await
        .unwrap();
    let senders: Vec<_> = (0..8)
        .map(|s| {
            let q = q.clone();
            tokio::spawn(async move {
                for b in 0..25 {
                    let batch = (0..10).map(|i| text(&format!("{s}-{b}-{i}"))).collect();
                    send_ok(&q, "load", batch).await;
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    let mut seen = std::collections::HashSet::new();
    let receivers: Vec<_> = (0..4)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move {
                let mut bodies = Vec::new();
                loop {
                    let got = q.receive("load", take(10, None)).await.unwrap();
                    if got.is_empty() {
                        return bodies;
                    }
                    let handles = got.iter().map(|m| m.receipt_handle.clone()).collect();
                    assert!(
                        q.delete("load", handles)
                            .await
                            .unwrap()
                            .iter()
                            .all(Result::is_ok)
                    );
                    bodies.extend(got.into_iter().map(|m| m.body));
                }
            })
        })
        .collect();
    for receiver in receivers {
        for body in receiver.await.unwrap() {
            assert!(seen.insert(body.clone()), "{body} received twice");
        }
    }
    assert_eq!(seen.len(), 2000);
    assert_eq!(q.depth("load").unwrap(), QueueDepth::default());
}

#[tokio::test]
async fn every_operation_is_a_send_future_for_the_server() {
    fn is_send<T: Send>(_: T) {}
    let env = env().await;
    let q = &env.queues;
    is_send(q.create_queue("q", BTreeMap::new(), BTreeMap::new()));
    is_send(q.delete_queue("q"));
    is_send(q.set_attributes("q", BTreeMap::new()));
    is_send(q.send("q", Vec::new()));
    is_send(q.receive("q", ReceiveRequest::default()));
    is_send(q.delete("q", Vec::new()));
    is_send(q.change_visibility("q", Vec::new()));
    is_send(q.purge("q"));
    is_send(q.tag("q", BTreeMap::new()));
    is_send(q.untag("q", &[]));
}

#[tokio::test]
async fn one_batch_wakes_as_many_waiting_polls_as_it_has_messages_for() {
    let env = env().await;
    let q = env.queues.clone();
    q.create_queue("many", BTreeMap::new(), BTreeMap::new())
        .await
        .unwrap();
    let polls: Vec<_> = (0..3)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move {
                let mut request = take(1, None);
                request.wait_seconds = Some(20);
                let started = Instant::now();
                let got = q.receive("many", request).await.unwrap();
                (got.len(), started.elapsed())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    send_ok(&q, "many", vec![text("1"), text("2"), text("3")]).await;
    for poll in polls {
        let (got, waited) = poll.await.unwrap();
        assert_eq!(got, 1);
        assert!(
            waited < Duration::from_secs(3),
            "a poll was not woken: {waited:?}"
        );
    }
}
