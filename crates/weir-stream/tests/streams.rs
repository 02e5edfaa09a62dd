//! The Streams service end to end, on real files and a real SQLite metadata store: what callers
//! see, what survives a restart, and AWS's error words.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use support::*;
use weir_stream::{
    ITERATOR_LIFETIME_MS, NewStream, SequenceNumber, ShardId, ShardIterator, StartingPosition,
    StreamError, StreamMode,
};

const HALF: u128 = 1 << 127;

fn message(result: Result<impl std::fmt::Debug, StreamError>) -> (String, String) {
    let error = result.expect_err("an error");
    (error.code().to_string(), error.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_round_trip_keeps_order_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path()).await;
    let created = env
        .streams
        .create_stream(provisioned("orders", 3))
        .await
        .unwrap();
    assert_eq!(created.status, "ACTIVE");
    assert_eq!(
        created.arn,
        "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
    );
    assert_eq!(created.shards.len(), 3);
    assert_eq!(created.open_shard_count, 3);
    assert_eq!(created.retention_hours, 24);
    assert_eq!(created.shards[0].hash_start, 0);
    assert_eq!(created.shards[2].hash_end, u128::MAX);
    assert_eq!(created.shards[1].id.to_string(), "shardId-000000000001");
    let records: Vec<_> = (0..100)
        .map(|i| record(&format!("user-{}", i % 7), &format!("event-{i}")))
        .collect();
    let appended = env.streams.put("orders", records).await.unwrap();
    let mut shard_of_key: HashMap<String, ShardId> = HashMap::new();
    let mut last: HashMap<ShardId, SequenceNumber> = HashMap::new();
    for (i, result) in appended.iter().enumerate() {
        let appended = result.as_ref().expect("appended");
        let key = format!("user-{}", i % 7);
        assert_eq!(
            *shard_of_key.entry(key).or_insert(appended.shard),
            appended.shard
        );
        assert_eq!(appended.sequence.shard(), appended.shard);
        if let Some(previous) = last.insert(appended.shard, appended.sequence) {
            assert!(
                previous < appended.sequence,
                "sequence numbers grow within a shard"
            );
        }
    }
    let read_all = |streams: &weir_stream::Streams| {
        let mut by_key: HashMap<String, Vec<String>> = HashMap::new();
        let mut total = 0;
        for shard in 0..3 {
            let batch = streams
                .read("orders", ShardId(shard), 0, 10_000, 10 << 20)
                .unwrap();
            assert_eq!(batch.millis_behind_latest, 0);
            assert!(!batch.at_shard_end);
            total += batch.records.len();
            for (i, record) in batch.records.iter().enumerate() {
                assert_eq!(record.offset, i as u64);
                assert_eq!(
                    record.sequence,
                    SequenceNumber::of_record(ShardId(shard), i as u64)
                );
                let data = String::from_utf8(record.data.to_vec()).unwrap();
                by_key
                    .entry(record.partition_key.clone())
                    .or_default()
                    .push(data);
            }
        }
        (total, by_key)
    };
    let (total, by_key) = read_all(&env.streams);
    assert_eq!(total, 100);
    for (key, events) in &by_key {
        let expected: Vec<String> = (0..100)
            .filter(|i| format!("user-{}", i % 7) == *key)
            .map(|i| format!("event-{i}"))
            .collect();
        assert_eq!(events, &expected, "order within a key");
    }
    // Reads page by count and by bytes, and never return nothing when there is something.
    let shard = appended[0].as_ref().unwrap().shard;
    let page = env.streams.read("orders", shard, 0, 2, 10 << 20).unwrap();
    assert_eq!(page.records.len(), 2);
    assert_eq!(page.next_offset, 2);
    assert!(page.millis_behind_latest >= 0);
    let page = env.streams.read("orders", shard, 2, 100, 1).unwrap();
    assert_eq!(
        page.records.len(),
        1,
        "at least one record whatever max_bytes"
    );
    assert_eq!(page.records[0].offset, 2);

    // A restart: the metadata and every record come back, and appends go on where they were.
    env.streams.close().await;
    assert!(
        env.streams
            .put("orders", vec![record("k", "late")])
            .await
            .is_err()
    );
    drop(env);
    let env = open(dir.path()).await;
    let (total, again) = read_all(&env.streams);
    assert_eq!((total, &again), (100, &by_key));
    let ends: Vec<u64> = (0..3)
        .map(|s| {
            env.streams
                .start_offset("orders", ShardId(s), StartingPosition::Latest)
                .unwrap()
        })
        .collect();
    let next = env
        .streams
        .put("orders", vec![record("user-0", "after")])
        .await
        .unwrap();
    let next = next[0].as_ref().unwrap();
    assert_eq!(next.shard, shard_of_key["user-0"]);
    assert_eq!(
        next.sequence.record_offset(),
        Some(ends[next.shard.0 as usize])
    );
    let listed: Vec<String> = env.streams.list().into_iter().map(|s| s.name).collect();
    assert_eq!(listed, ["orders"]);
    assert_eq!(
        env.streams.describe("orders").unwrap().shards,
        created.shards
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_errors_are_in_aws_words_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path()).await;
    let streams = &env.streams;
    streams.create_stream(provisioned("s", 2)).await.unwrap();
    assert_eq!(
        message(streams.create_stream(provisioned("s", 5)).await),
        (
            "ResourceInUseException".into(),
            "Stream s under account 000000000000 already exists.".into()
        )
    );
    assert_eq!(streams.describe("s").unwrap().shards.len(), 2);
    assert_eq!(
        message(streams.describe("nope")),
        (
            "ResourceNotFoundException".into(),
            "Stream nope under account 000000000000 not found.".into()
        )
    );
    assert_eq!(
        message(streams.put("nope", vec![record("k", "d")]).await).0,
        "ResourceNotFoundException"
    );
    assert_eq!(
        message(streams.create_stream(provisioned("bad/name", 1)).await).0,
        "ValidationException"
    );
    assert_eq!(
        message(streams.create_stream(provisioned("../x", 1)).await).0,
        "ValidationException"
    );
    assert_eq!(
        message(streams.create_stream(provisioned("zero", 0)).await).0,
        "ValidationException"
    );
    let long_key = "k".repeat(257);
    assert_eq!(
        message(streams.put("s", vec![record("ok", "d"), record(&long_key, "d")]).await),
        (
            "ValidationException".into(),
            "1 validation error detected: Value at 'records.2.member.partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256".into()
        )
    );
    assert_eq!(
        streams
            .start_offset("s", ShardId(0), StartingPosition::Latest)
            .unwrap(),
        0,
        "a refused put appends nothing"
    );
    assert_eq!(
        message(streams.read("s", ShardId(9), 0, 10, 1000)),
        (
            "ResourceNotFoundException".into(),
            "Shard shardId-000000000009 in stream s under account 000000000000 does not exist"
                .into()
        )
    );
    assert_eq!(
        message(streams.set_retention("s", 23).await).1,
        "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short."
    );
    assert_eq!(
        message(streams.set_retention("s", 8761).await).1,
        "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long."
    );
    streams.increase_retention("s", 48).await.unwrap();
    assert_eq!(
        message(streams.increase_retention("s", 36).await).1,
        "Requested retention period (36 hours) for stream s can not be shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API."
    );
    assert_eq!(
        message(streams.decrease_retention("s", 72).await).1,
        "Requested retention period (72 hours) for stream s can not be longer than existing retention period (48 hours). Use IncreaseRetentionPeriod API."
    );
    streams.decrease_retention("s", 24).await.unwrap();
    assert_eq!(streams.describe("s").unwrap().retention_hours, 24);
    let on_demand = NewStream {
        name: "od".into(),
        mode: StreamMode::OnDemand,
        shard_count: None,
        tags: vec![("team".into(), "data".into())],
    };
    let described = streams.create_stream(on_demand).await.unwrap();
    assert_eq!(
        (described.mode, described.shards.len()),
        (StreamMode::OnDemand, 4)
    );
    assert_eq!(
        message(streams.update_shard_count("od", 8).await),
        (
            "ValidationException".into(),
            "Request is invalid. Stream od under account 000000000000 is in On-Demand mode.".into()
        )
    );
    // Tags, and consumers holding a stream back from deletion.
    assert_eq!(
        streams.tags("od").await.unwrap(),
        vec![("team".to_string(), "data".to_string())]
    );
    streams
        .add_tags(
            "od",
            vec![("a".into(), "1".into()), ("team".into(), "ops".into())],
        )
        .await
        .unwrap();
    streams
        .remove_tags("od", vec!["a".into(), "missing".into()])
        .await
        .unwrap();
    assert_eq!(
        streams.tags("od").await.unwrap(),
        vec![("team".to_string(), "ops".to_string())]
    );
    let too_many: Vec<(String, String)> =
        (0..50).map(|i| (format!("t{i}"), String::new())).collect();
    assert_eq!(
        message(streams.add_tags("od", too_many).await).0,
        "InvalidArgumentException"
    );
    let consumer = streams.register_consumer("od", "app").await.unwrap();
    assert!(
        consumer
            .arn
            .starts_with("arn:aws:kinesis:us-east-1:000000000000:stream/od/consumer/app:")
    );
    assert_eq!(consumer.status, "ACTIVE");
    assert_eq!(
        message(streams.register_consumer("od", "app").await).0,
        "ResourceInUseException"
    );
    assert_eq!(
        streams.consumer_by_arn(&consumer.arn).await.unwrap().0,
        "od"
    );
    assert_eq!(streams.describe("od").unwrap().consumer_count, 1);
    assert_eq!(
        message(streams.delete_stream("od", false).await).0,
        "ResourceInUseException"
    );
    drop(env);
    let env = open(dir.path()).await;
    let streams = &env.streams;
    assert_eq!(
        streams.list_consumers("od").await.unwrap(),
        vec![consumer.clone()]
    );
    assert_eq!(
        streams.tags("od").await.unwrap(),
        vec![("team".to_string(), "ops".to_string())]
    );
    streams.deregister_consumer("od", "app").await.unwrap();
    assert_eq!(
        message(streams.describe_consumer("od", "app").await),
        (
            "ResourceNotFoundException".into(),
            "Consumer app, account 000000000000 not found.".into()
        )
    );
    streams.delete_stream("od", false).await.unwrap();
    assert!(streams.describe("od").is_err());
    // A stream created again under a deleted one's name starts empty.
    streams.put("s", vec![record("k", "old")]).await.unwrap();
    streams.delete_stream("s", false).await.unwrap();
    streams.create_stream(provisioned("s", 1)).await.unwrap();
    assert!(
        streams
            .read("s", ShardId(0), 0, 10, 1000)
            .unwrap()
            .records
            .is_empty()
    );
    let folders = std::fs::read_dir(dir.path().join("streams"))
        .unwrap()
        .count();
    assert_eq!(folders, 1, "deleted streams leave no files");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_resharding_keeps_lineage_and_parents_readable() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path()).await;
    let streams = &env.streams;
    streams.create_stream(provisioned("r", 1)).await.unwrap();
    streams
        .put("r", vec![at_hash(1, "low-0"), at_hash(HALF + 1, "high-0")])
        .await
        .unwrap();
    assert_eq!(
        message(streams.split_shard("r", ShardId(0), 1).await),
        (
            "InvalidArgumentException".into(),
            format!(
                "NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000000 in stream r under account 000000000000 is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey {}.",
                u128::MAX
            )
        )
    );
    assert_eq!(
        message(streams.split_shard("r", ShardId(4), HALF).await),
        (
            "ResourceNotFoundException".into(),
            "Could not find shard shardId-000000000004 in stream r under account 000000000000."
                .into()
        )
    );
    streams.split_shard("r", ShardId(0), HALF).await.unwrap();
    let described = streams.describe("r").unwrap();
    assert_eq!(described.open_shard_count, 2);
    let [parent, low, high] = &described.shards[..] else {
        panic!("three shards: {:?}", described.shards)
    };
    assert_eq!(
        parent.ending_sequence,
        Some(SequenceNumber::of_record(ShardId(0), 2))
    );
    assert_eq!(
        (low.parent, low.hash_start, low.hash_end),
        (Some(ShardId(0)), 0, HALF - 1)
    );
    assert_eq!(
        (high.parent, high.hash_start, high.hash_end),
        (Some(ShardId(0)), HALF, u128::MAX)
    );
    assert_eq!(
        message(streams.split_shard("r", ShardId(0), HALF).await).1,
        "Shard shardId-000000000000 in stream r under account 000000000000 has already been merged or split, and thus is not eligible for merging or splitting."
    );
    let after = streams
        .put("r", vec![at_hash(1, "low-1"), at_hash(HALF + 1, "high-1")])
        .await
        .unwrap();
    let shards: Vec<ShardId> = after.iter().map(|r| r.as_ref().unwrap().shard).collect();
    assert_eq!(
        shards,
        [ShardId(1), ShardId(2)],
        "new records go to the children"
    );
    // The parent stays readable to its end, and its end names the children.
    let batch = streams.read("r", ShardId(0), 0, 100, 1 << 20).unwrap();
    assert_eq!(batch.records.len(), 2);
    assert!(batch.at_shard_end);
    let children: Vec<ShardId> = batch.child_shards.iter().map(|c| c.id).collect();
    assert_eq!(children, [ShardId(1), ShardId(2)]);
    assert!(
        streams
            .read("r", ShardId(1), 0, 100, 1 << 20)
            .unwrap()
            .child_shards
            .is_empty()
    );
    // Merging wants adjacent open shards.
    streams
        .split_shard("r", ShardId(2), HALF + (HALF / 2))
        .await
        .unwrap();
    assert_eq!(
        message(streams.merge_shards("r", ShardId(1), ShardId(4)).await),
        (
            "InvalidArgumentException".into(),
            "Shards shardId-000000000001 and shardId-000000000004 in stream r under account 000000000000 are not an adjacent pair of shards eligible for merging".into()
        )
    );
    streams
        .merge_shards("r", ShardId(4), ShardId(3))
        .await
        .unwrap();
    let merged = streams.describe("r").unwrap().shards.pop().unwrap();
    assert_eq!(merged.id, ShardId(5));
    assert_eq!(
        (merged.parent, merged.adjacent_parent),
        (Some(ShardId(4)), Some(ShardId(3)))
    );
    assert_eq!((merged.hash_start, merged.hash_end), (HALF, u128::MAX));
    // UpdateShardCount: limits in AWS's words, then an even layout.
    assert_eq!(
        message(streams.update_shard_count("r", 5).await),
        (
            "LimitExceededException".into(),
            "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 2, Target shard count: 5".into()
        )
    );
    streams.update_shard_count("r", 3).await.unwrap();
    let described = streams.describe("r").unwrap();
    let mut open_ranges: Vec<(u128, u128)> = described
        .shards
        .iter()
        .filter(|s| s.is_open())
        .map(|s| (s.hash_start, s.hash_end))
        .collect();
    open_ranges.sort();
    assert_eq!(open_ranges, weir_stream::hash::even_ranges(3));
    for shard in &described.shards {
        for parent in [shard.parent, shard.adjacent_parent].into_iter().flatten() {
            assert!(
                described
                    .shards
                    .iter()
                    .any(|s| s.id == parent && !s.is_open())
            );
        }
    }
    // Every record put so far is still readable, and all of it survives a restart.
    let count = |streams: &weir_stream::Streams| -> usize {
        streams
            .describe("r")
            .unwrap()
            .shards
            .iter()
            .map(|s| {
                streams
                    .read("r", s.id, 0, 1000, 1 << 20)
                    .unwrap()
                    .records
                    .len()
            })
            .sum()
    };
    assert_eq!(count(streams), 4);
    drop(env);
    let env = open(dir.path()).await;
    assert_eq!(env.streams.describe("r").unwrap(), described);
    assert_eq!(count(&env.streams), 4);
    let put = env
        .streams
        .put("r", vec![at_hash(u128::MAX, "last")])
        .await
        .unwrap();
    assert!(
        described
            .shards
            .iter()
            .any(|s| s.is_open() && s.id == put[0].as_ref().unwrap().shard)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_positions_by_sequence_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path()).await;
    let streams = &env.streams;
    streams.create_stream(provisioned("p", 2)).await.unwrap();
    let first = streams
        .put("p", (0..3).map(|i| at_hash(5, &format!("a{i}"))).collect())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let between = weir_stream_now();
    tokio::time::sleep(Duration::from_millis(30)).await;
    streams
        .put("p", (0..3).map(|i| at_hash(5, &format!("b{i}"))).collect())
        .await
        .unwrap();
    let shard = ShardId(0);
    let at = |position| streams.start_offset("p", shard, position).unwrap();
    assert_eq!(at(StartingPosition::TrimHorizon), 0);
    assert_eq!(at(StartingPosition::Latest), 6);
    assert_eq!(at(StartingPosition::AtTimestamp(between)), 3);
    assert_eq!(at(StartingPosition::AtTimestamp(0)), 0);
    assert_eq!(at(StartingPosition::AtTimestamp(between + 3_600_000)), 6);
    let second = first[1].as_ref().unwrap().sequence;
    assert_eq!(at(StartingPosition::AtSequence(second)), 1);
    assert_eq!(at(StartingPosition::AfterSequence(second)), 2);
    assert_eq!(
        message(streams.start_offset("p", ShardId(1), StartingPosition::AtSequence(second))),
        (
            "InvalidArgumentException".into(),
            "Invalid StartingSequenceNumber. It encodes shardId-000000000000, while it was used in a call to a shard with shardId-000000000001".into()
        )
    );
    let unknown = SequenceNumber::of_record(shard, 99);
    assert_eq!(
        message(streams.start_offset("p", shard, StartingPosition::AtSequence(unknown))).0,
        "InvalidArgumentException"
    );
    let records = streams.read("p", shard, 3, 10, 1 << 20).unwrap().records;
    assert!(records.iter().all(|r| r.arrival_ms >= between));
    let iterator = ShardIterator {
        stream: "p".into(),
        shard,
        offset: 3,
        issued_ms: between,
    };
    assert_eq!(
        ShardIterator::decode(&iterator.encode()),
        Some(iterator.clone())
    );
    assert!(iterator.expired(between + ITERATOR_LIFETIME_MS + 1));
}

/// A shard's starting sequence number is below its first record's, so a reader that resumes
/// AT or AFTER it (as the KCL does with SubscribeToShard's continuation on an empty shard) gets
/// the first record once it is put.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_positions_after_an_empty_shards_start_begin_at_its_first_record() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path()).await;
    let streams = &env.streams;
    streams.create_stream(provisioned("e", 1)).await.unwrap();
    let shard = ShardId(0);
    let start = streams.describe("e").unwrap().shards[0].starting_sequence;
    let at = |position| streams.start_offset("e", shard, position).unwrap();
    assert_eq!(at(StartingPosition::AfterSequence(start)), 0);
    assert_eq!(at(StartingPosition::AtSequence(start)), 0);
    let put = streams.put("e", vec![record("k", "first")]).await.unwrap();
    let first = put[0].as_ref().unwrap().sequence;
    assert!(start.to_string() < first.to_string());
    let batch = streams
        .read(
            "e",
            shard,
            at(StartingPosition::AfterSequence(start)),
            10,
            1 << 20,
        )
        .unwrap();
    let data: Vec<&[u8]> = batch.records.iter().map(|r| &r.data[..]).collect();
    assert_eq!(data, [b"first"]);
    assert_eq!(batch.records[0].sequence, first);
    // After the newest record: the next one, not yet put, and no further.
    assert_eq!(at(StartingPosition::AfterSequence(first)), 1);
    let beyond = SequenceNumber::of_record(shard, 1);
    assert_eq!(
        message(streams.start_offset("e", shard, StartingPosition::AfterSequence(beyond))).0,
        "InvalidArgumentException"
    );
}

fn weir_stream_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_tailers_wake_on_durable_appends() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path()).await;
    env.streams
        .create_stream(provisioned("t", 1))
        .await
        .unwrap();
    let mut watch = env.streams.watch("t", ShardId(0)).unwrap();
    assert_eq!(*watch.borrow_and_update(), 0);
    let tail = tokio::spawn(async move {
        watch.changed().await.unwrap();
        *watch.borrow()
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    env.streams
        .put("t", vec![record("k", "1"), record("k", "2")])
        .await
        .unwrap();
    let end = tokio::time::timeout(Duration::from_secs(5), tail)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(end, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_retention_drops_whole_old_segments() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with(dir.path(), |config| config.segment_bytes = 2_000).await;
    let streams = &env.streams;
    streams.create_stream(provisioned("old", 1)).await.unwrap();
    for i in 0..10 {
        let batch = (0..10)
            .map(|j| record("k", &format!("{i}-{j}-{}", "x".repeat(80))))
            .collect();
        streams.put("old", batch).await.unwrap();
    }
    let shard_dir = std::fs::read_dir(dir.path().join("streams"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("shardId-000000000000");
    let segments = |dir: &std::path::Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "log")
            })
            .count()
    };
    let before = segments(&shard_dir);
    assert!(before > 3, "segments rolled: {before}");
    // Within the retention nothing goes.
    streams.enforce_retention(weir_stream_now());
    assert_eq!(segments(&shard_dir), before);
    assert_eq!(
        streams
            .read("old", ShardId(0), 0, 1000, 1 << 20)
            .unwrap()
            .records
            .len(),
        100
    );
    // A day and more later every sealed segment goes, and the active one is rolled to go next.
    let later = weir_stream_now() + 25 * 3_600_000;
    streams.enforce_retention(later);
    tokio::time::sleep(Duration::from_millis(100)).await;
    streams.enforce_retention(later);
    assert_eq!(
        segments(&shard_dir),
        1,
        "only the new, empty active segment is left"
    );
    assert_eq!(
        streams
            .start_offset("old", ShardId(0), StartingPosition::TrimHorizon)
            .unwrap(),
        100
    );
    let batch = streams.read("old", ShardId(0), 0, 1000, 1 << 20).unwrap();
    assert!(batch.records.is_empty());
    assert_eq!(batch.next_offset, 100);
    let put = streams.put("old", vec![record("k", "new")]).await.unwrap();
    assert_eq!(put[0].as_ref().unwrap().sequence.record_offset(), Some(100));
    drop(env);
    let env = open(dir.path()).await;
    let batch = env
        .streams
        .read("old", ShardId(0), 0, 1000, 1 << 20)
        .unwrap();
    assert_eq!(batch.records.len(), 1);
    assert_eq!(batch.records[0].offset, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_recovery_cuts_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path()).await;
    env.streams
        .create_stream(provisioned("torn", 1))
        .await
        .unwrap();
    let records = (0..10).map(|i| record("k", &format!("r{i}"))).collect();
    env.streams.put("torn", records).await.unwrap();
    drop(env);
    let segment = std::fs::read_dir(dir.path().join("streams"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("shardId-000000000000")
        .join(format!("{:020}.log", 0));
    let whole = std::fs::metadata(&segment).unwrap().len();
    // Half a frame: a length that promises more than follows.
    let mut torn = std::fs::read(&segment).unwrap();
    torn.extend_from_slice(&[40, 0, 0, 0, 1, 2, 3, 4, 5]);
    std::fs::write(&segment, torn).unwrap();
    let env = open(dir.path()).await;
    assert_eq!(
        std::fs::metadata(&segment).unwrap().len(),
        whole,
        "the torn tail is cut"
    );
    let batch = env
        .streams
        .read("torn", ShardId(0), 0, 100, 1 << 20)
        .unwrap();
    assert_eq!(batch.records.len(), 10);
    let put = env
        .streams
        .put("torn", vec![record("k", "r10")])
        .await
        .unwrap();
    assert_eq!(put[0].as_ref().unwrap().sequence.record_offset(), Some(10));
    drop(env);
    let env = open(dir.path()).await;
    let data: Vec<String> = env
        .streams
        .read("torn", ShardId(0), 0, 100, 1 << 20)
        .unwrap()
        .records
        .iter()
        .map(|r| String::from_utf8(r.data.to_vec()).unwrap())
        .collect();
    let expected: Vec<String> = (0..11).map(|i| format!("r{i}")).collect();
    assert_eq!(data, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_throughput_quotas_refuse_per_record() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with(dir.path(), |config| config.throughput_quotas = true).await;
    env.streams
        .create_stream(provisioned("q", 1))
        .await
        .unwrap();
    let records = (0..1500).map(|i| record("k", &format!("{i}"))).collect();
    let results = env.streams.put("q", records).await.unwrap();
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        !failed.is_empty() && failed.len() <= 1000,
        "{} failed",
        failed.len()
    );
    assert_eq!(
        failed[0].error_code,
        "ProvisionedThroughputExceededException"
    );
    assert_eq!(
        failed[0].error_message,
        "Rate exceeded for shard shardId-000000000000 in stream q under account 000000000000."
    );
    let appended = results.iter().filter(|r| r.is_ok()).count() as u64;
    assert_eq!(
        env.streams
            .start_offset("q", ShardId(0), StartingPosition::Latest)
            .unwrap(),
        appended
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_places_by_md5_and_carries_records_of_a_mebibyte() {
    let dir = tempfile::tempdir().unwrap();
    let env = open_with(dir.path(), |config| config.segment_bytes = 3 << 20).await;
    let streams = &env.streams;
    streams.create_stream(provisioned("big", 2)).await.unwrap();
    // MD5("a") = 0cc175b9…, below 2^127: the first shard; MD5("b") = 92eb5ffe…: the second.
    let placed = streams
        .put("big", vec![record("a", "1"), record("b", "2")])
        .await
        .unwrap();
    let shards: Vec<ShardId> = placed.iter().map(|r| r.as_ref().unwrap().shard).collect();
    assert_eq!(shards, [ShardId(0), ShardId(1)]);
    // Records of AWS's largest size, between small ones, across segment rolls.
    let big = |i: u8| bytes::Bytes::from(vec![i; 1 << 20]);
    let mut sent = Vec::new();
    for i in 0..5u8 {
        let batch = vec![
            weir_stream::NewRecord {
                partition_key: "a".into(),
                explicit_hash_key: None,
                data: big(i),
            },
            record("a", &format!("small-{i}")),
        ];
        sent.push(big(i));
        sent.push(bytes::Bytes::from(format!("small-{i}")));
        streams.put("big", batch).await.unwrap();
    }
    let too_big = weir_stream::NewRecord {
        partition_key: "a".into(),
        explicit_hash_key: None,
        data: bytes::Bytes::from(vec![0; (1 << 20) + 1]),
    };
    assert_eq!(
        message(streams.put("big", vec![too_big]).await).0,
        "ValidationException"
    );
    let mut read = Vec::new();
    let mut offset = 1;
    loop {
        let batch = streams
            .read("big", ShardId(0), offset, 10_000, 2 << 20)
            .unwrap();
        if batch.records.is_empty() {
            break;
        }
        assert!(batch.records.len() <= 2, "max_bytes bounds a batch");
        offset = batch.next_offset;
        read.extend(batch.records.into_iter().map(|r| r.data));
    }
    assert_eq!(read, sent);
    drop(env);
    let env = open(dir.path()).await;
    let batch = env.streams.read("big", ShardId(0), 3, 1, 1).unwrap();
    assert_eq!(batch.records[0].data, big(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_parents_stay_readable_until_their_retention_ends() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path()).await;
    let streams = &env.streams;
    streams
        .create_stream(provisioned("lineage", 1))
        .await
        .unwrap();
    streams
        .put("lineage", vec![at_hash(1, "before")])
        .await
        .unwrap();
    streams
        .split_shard("lineage", ShardId(0), HALF)
        .await
        .unwrap();
    streams
        .put("lineage", vec![at_hash(1, "after")])
        .await
        .unwrap();
    // Within the retention the parent is described and read.
    streams.enforce_retention(weir_stream_now() + 23 * 3_600_000);
    assert_eq!(streams.describe("lineage").unwrap().shards.len(), 3);
    let parent = streams.read("lineage", ShardId(0), 0, 10, 1 << 20).unwrap();
    assert_eq!(parent.records.len(), 1);
    assert!(parent.at_shard_end);
    // Past it, the parent is gone from the description and its files from the disk; the
    // children, open, keep their lineage.
    let later = weir_stream_now() + 25 * 3_600_000;
    streams.enforce_retention(later);
    let described = streams.describe("lineage").unwrap();
    let ids: Vec<ShardId> = described.shards.iter().map(|s| s.id).collect();
    assert_eq!(ids, [ShardId(1), ShardId(2)]);
    assert_eq!(described.shards[0].parent, Some(ShardId(0)));
    let stream_dir = std::fs::read_dir(dir.path().join("streams"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(!stream_dir.join("shardId-000000000000").exists());
    assert!(stream_dir.join("shardId-000000000001").exists());
    let parent = streams.read("lineage", ShardId(0), 0, 10, 1 << 20).unwrap();
    assert!(parent.records.is_empty() && parent.at_shard_end);
    drop(env);
    let env = open(dir.path()).await;
    assert_eq!(env.streams.describe("lineage").unwrap().shards.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_benchmarks_measure_what_they_appended() {
    let dir = tempfile::tempdir().unwrap();
    let figures = weir_stream::bench_append(dir.path(), 100, 5_001, 3)
        .await
        .unwrap();
    assert_eq!(
        (figures.records, figures.writers, figures.shards),
        (5_001, 3, 4)
    );
    assert!(figures.records_per_second > 0.0 && figures.megabytes_per_second > 0.0);
    assert!(figures.to_string().contains("records/s"));
    let dir = tempfile::tempdir().unwrap();
    let latency = weir_stream::bench_tail_latency(dir.path(), 200, 7, Duration::from_millis(1))
        .await
        .unwrap();
    assert_eq!(latency.records, 200, "the reader saw every record");
    assert!(latency.p50_ms <= latency.p99_ms && latency.p99_ms <= latency.max_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_counts_what_was_made_durable_and_where_each_shard_is() {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path()).await;
    env.streams
        .create_stream(provisioned("counted", 2))
        .await
        .unwrap();
    let before = env.streams.activity("counted").unwrap();
    assert_eq!((before.records, before.bytes), (0, 0));
    assert_eq!(before.shards.len(), 2);
    let records: Vec<_> = (0..10)
        .map(|i| record(&format!("k{i}"), "0123456789"))
        .collect();
    env.streams.put("counted", records).await.unwrap();
    let after = env.streams.activity("counted").unwrap();
    assert_eq!(after.records, 10);
    // Each record's 10 bytes of data plus its key and framing.
    assert!(after.bytes > 100, "{}", after.bytes);
    let ends: u64 = after.shards.iter().map(|s| s.end_offset).sum();
    assert_eq!(ends, 10);
    assert!(after.shards.iter().all(|s| s.first_offset == 0));
    assert!(
        after
            .shards
            .iter()
            .any(|s| s.last_arrival_ms.is_some_and(|ms| ms > 0))
    );
    assert!(matches!(
        env.streams.activity("missing"),
        Err(StreamError::NotFound { .. })
    ));
}
