//! Queues (weir's SQS): queues, messages written once, receipt rows, moves to a dead-letter
//! queue, purges and FIFO de-duplication entries, in batch order.

use serde_json::json;
use weir_store::*;

use crate::Db;

fn queue(name: &str) -> QueueRecord {
    QueueRecord {
        name: name.into(),
        url: format!("http://localhost/000000000000/{name}"),
        arn: format!("arn:aws:sqs:us-east-1:000000000000:{name}"),
        attributes: json!({"VisibilityTimeout": "60"}),
        tags: json!({"team": "data"}),
        created_ms: 1,
        modified_ms: 2,
    }
}

fn message(queue: &str, seq: i64) -> QueueMessageRecord {
    QueueMessageRecord {
        seq,
        queue: queue.into(),
        message_id: format!("id-{seq}"),
        body: format!("body {seq} ✓"),
        message_attributes: json!({"a": {"DataType": "String", "StringValue": "v"}}),
        system_attributes: json!({}),
        md5_of_body: "0".repeat(32),
        md5_of_message_attributes: Some("1".repeat(32)),
        md5_of_system_attributes: None,
        sent_ms: 1_000 + seq,
        visible_ms: 2_000 + seq,
        group_id: (seq % 2 == 0).then(|| "g".to_string()),
        dedup_id: None,
        sequence_number: Some(format!("{seq:020}")),
        size: 10,
    }
}

fn receipt(queue: &str, seq: i64, count: i64) -> QueueReceiptRecord {
    QueueReceiptRecord {
        seq,
        queue: queue.into(),
        visible_ms: 9_000 + count,
        receive_count: count,
        first_receive_ms: Some(5_000),
        nonce: -count,
    }
}

fn seqs(states: &[QueueMessageState]) -> Vec<i64> {
    states.iter().map(|s| s.seq).collect()
}

pub async fn queues_messages_and_receipts_round_trip(db: Db) {
    let store = &db.store;
    assert_eq!(store.queues().await.unwrap(), vec![]);
    assert_eq!(store.max_queue_seq().await.unwrap(), 0);
    let mut batch: Vec<Mutation> = vec![
        QueuesMutation::PutQueue(queue("orders")).into(),
        QueuesMutation::PutQueue(queue("Dlq")).into(),
    ];
    batch.extend((1..=3).map(|seq| QueuesMutation::PutMessage(message("orders", seq)).into()));
    batch.push(QueuesMutation::PutMessage(message("Dlq", 4)).into());
    batch.push(QueuesMutation::PutReceipt(receipt("orders", 2, 1)).into());
    batch.push(QueuesMutation::PutReceipt(receipt("orders", 2, 2)).into());
    batch.push(
        QueuesMutation::PutDedup(QueueDedupRecord {
            queue: "orders".into(),
            dedup_key: "d1".into(),
            message_id: "id-1".into(),
            sequence_number: Some("1".into()),
            expires_ms: 100,
        })
        .into(),
    );
    batch.push(
        QueuesMutation::PutDedup(QueueDedupRecord {
            queue: "orders".into(),
            dedup_key: "d2".into(),
            message_id: "id-2".into(),
            sequence_number: None,
            expires_ms: 300,
        })
        .into(),
    );
    store.apply(&batch).await.unwrap();
    let db = db.reopen().await;
    let store = &db.store;
    let names: Vec<String> = store
        .queues()
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.name)
        .collect();
    assert_eq!(names, ["Dlq", "orders"]);
    assert_eq!(store.queues().await.unwrap()[1], queue("orders"));
    let states = store.queue_message_states("orders").await.unwrap();
    assert_eq!(seqs(&states), [1, 2, 3]);
    // Without a receipt row a message has its send's visibility and no receives.
    assert_eq!(
        states[0],
        QueueMessageState {
            seq: 1,
            sent_ms: 1_001,
            visible_ms: 2_001,
            receive_count: 0,
            first_receive_ms: None,
            nonce: 0,
            group_id: None,
            size: 10,
        }
    );
    assert_eq!(states[1].receive_count, 2);
    assert_eq!(states[1].visible_ms, 9_002);
    assert_eq!(states[1].first_receive_ms, Some(5_000));
    assert_eq!(states[1].nonce, -2);
    assert_eq!(states[1].group_id.as_deref(), Some("g"));
    let mut bodies = store.queue_messages(&[3, 1, 99]).await.unwrap();
    bodies.sort_by_key(|m| m.seq);
    assert_eq!(bodies, vec![message("orders", 1), message("orders", 3)]);
    assert_eq!(store.max_queue_seq().await.unwrap(), 4);
    let dedups = store.queue_dedups("orders", 100).await.unwrap();
    assert_eq!(dedups.len(), 1);
    assert_eq!(dedups[0].dedup_key, "d2");
    store
        .apply(&[QueuesMutation::DeleteExpiredDedups {
            queue: "orders".into(),
            before_ms: 301,
        }
        .into()])
        .await
        .unwrap();
    assert_eq!(store.queue_dedups("orders", 0).await.unwrap(), vec![]);
}

pub async fn queue_deletions_moves_and_purges_apply_in_batch_order(db: Db) {
    let store = &db.store;
    // 600 messages then 600 deletions in one batch: the chunked deletes cover every one.
    let mut batch: Vec<Mutation> = vec![QueuesMutation::PutQueue(queue("q")).into()];
    batch.extend((1..=600).map(|seq| QueuesMutation::PutMessage(message("q", seq)).into()));
    store.apply(&batch).await.unwrap();
    let mut batch: Vec<Mutation> = (1..=600)
        .map(|seq| QueuesMutation::PutReceipt(receipt("q", seq, 1)).into())
        .collect();
    batch.extend((1..=597).map(|seq| QueuesMutation::DeleteMessage { seq }.into()));
    store.apply(&batch).await.unwrap();
    let states = store.queue_message_states("q").await.unwrap();
    assert_eq!(seqs(&states), [598, 599, 600]);
    assert!(states.iter().all(|s| s.receive_count == 1));

    // A message moved to another queue takes its receipt state along; a deletion after a
    // write of the same seq in one batch wins.
    store
        .apply(&[
            QueuesMutation::PutQueue(queue("dlq")).into(),
            QueuesMutation::MoveMessage {
                seq: 598,
                to_queue: "dlq".into(),
            }
            .into(),
            QueuesMutation::PutReceipt(receipt("q", 599, 5)).into(),
            QueuesMutation::DeleteMessage { seq: 599 }.into(),
            QueuesMutation::PutMessage(message("q", 601)).into(),
        ])
        .await
        .unwrap();
    assert_eq!(
        seqs(&store.queue_message_states("q").await.unwrap()),
        [600, 601]
    );
    let moved = store.queue_message_states("dlq").await.unwrap();
    assert_eq!(seqs(&moved), [598]);
    assert_eq!(moved[0].receive_count, 1);

    // A purge deletes what was sent before it, in batch order; later sends stay.
    store
        .apply(&[
            QueuesMutation::PutMessage(message("q", 602)).into(),
            QueuesMutation::PurgeQueue {
                queue: "q".into(),
                through_seq: 602,
            }
            .into(),
            QueuesMutation::PutMessage(message("q", 603)).into(),
        ])
        .await
        .unwrap();
    assert_eq!(seqs(&store.queue_message_states("q").await.unwrap()), [603]);

    // Deleting a queue takes its messages; one created again in the same batch starts empty.
    store
        .apply(&[
            QueuesMutation::DeleteQueue { name: "q".into() }.into(),
            QueuesMutation::PutQueue(queue("q")).into(),
        ])
        .await
        .unwrap();
    assert_eq!(store.queue_message_states("q").await.unwrap(), vec![]);
    assert_eq!(store.queues().await.unwrap().len(), 2);
    assert_eq!(
        seqs(&store.queue_message_states("dlq").await.unwrap()),
        [598]
    );
}
