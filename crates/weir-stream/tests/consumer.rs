//! Consumer groups against a real log and a real SQLite store: every record processed once, in
//! order per shard, parents before children across a split, a failing batch stalling only its
//! own shard, checkpoints committed with the processor's mutations, leases handed over.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use weir_store::{Committer, Mutation, SecretMutation, SecretRecord, Store};
use weir_stream::consumer::{self, GroupOptions, ProcessError, ShardProcessor};
use weir_stream::{
    NewRecord, NewStream, Record, ShardId, StartingPosition, StreamMode, Streams, StreamsConfig,
};

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    committer: Committer,
    streams: Streams,
}

async fn setup(shards: u32) -> Setup {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/weir.db", dir.path().display());
    let store = weir_store::open(&url).await.expect("open the store");
    let committer = Committer::start(store.clone());
    let config = StreamsConfig::new(dir.path().join("streams"), "us-east-1", "000000000000");
    let streams = Streams::open(config, store.clone(), committer.clone())
        .await
        .expect("open the streams");
    streams
        .create_stream(NewStream {
            name: "orders".into(),
            mode: StreamMode::Provisioned,
            shard_count: Some(shards),
            tags: Vec::new(),
        })
        .await
        .expect("create the stream");
    Setup {
        _dir: dir,
        store,
        committer,
        streams,
    }
}

impl Setup {
    /// Starts a consumer group on the stream with `processor`.
    fn start(
        &self,
        options: GroupOptions,
        processor: Arc<dyn ShardProcessor>,
    ) -> consumer::GroupHandle {
        consumer::start(
            self.streams.clone(),
            self.store.clone(),
            self.committer.clone(),
            options,
            processor,
        )
    }
}

/// Puts `count` records, `key-{i % keys}` as partition key and `{n}` as data (n from `first`).
async fn put(streams: &Streams, first: usize, count: usize, keys: usize) {
    let records = (first..first + count)
        .map(|n| NewRecord {
            partition_key: format!("key-{}", n % keys),
            explicit_hash_key: None,
            data: Bytes::from(n.to_string()),
        })
        .collect();
    for result in streams.put("orders", records).await.expect("put") {
        result.expect("record appended");
    }
}

fn options(owner: &str, batch_size: usize) -> GroupOptions {
    let mut options = GroupOptions::new("g", "orders", owner, StartingPosition::TrimHorizon);
    options.batch_size = batch_size;
    options.lease_duration = Duration::from_millis(600);
    options
}

/// Remembers what it processed, in order; can fail a shard on demand, and slows each batch.
#[derive(Default)]
struct Recorder {
    processed: Mutex<Vec<(ShardId, Record)>>,
    failing_shard: Mutex<Option<ShardId>>,
    attempts: AtomicUsize,
    /// Batches that returned their mutations (an attempt cut short by a stop does not).
    succeeded: AtomicUsize,
    delay_ms: u64,
    /// Each successful batch also writes a secret named after it (a sink's own commit).
    with_mutations: bool,
}

#[async_trait::async_trait]
impl ShardProcessor for Recorder {
    async fn process(
        &self,
        shard: ShardId,
        records: Vec<Record>,
    ) -> Result<Vec<Mutation>, ProcessError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(self.delay_ms)).await;
        if *self.failing_shard.lock().unwrap() == Some(shard) {
            return Err(ProcessError::new("injected").retry_after(Duration::from_millis(20)));
        }
        let mutations = if self.with_mutations {
            let name = format!("batch-{shard}-{}", records[0].sequence);
            vec![
                SecretMutation::PutSecret(SecretRecord {
                    name,
                    sealed: String::new(),
                    key_id: String::new(),
                    created_at: 0,
                    updated_at: 0,
                })
                .into(),
            ]
        } else {
            Vec::new()
        };
        let mut processed = self.processed.lock().unwrap();
        processed.extend(records.into_iter().map(|r| (shard, r)));
        self.succeeded.fetch_add(1, Ordering::SeqCst);
        Ok(mutations)
    }
}

impl Recorder {
    fn numbers(&self) -> Vec<usize> {
        let processed = self.processed.lock().unwrap();
        processed.iter().map(|(_, r)| number(r)).collect()
    }
}

fn number(record: &Record) -> usize {
    std::str::from_utf8(&record.data).unwrap().parse().unwrap()
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every number in 0..count exactly once.
fn assert_exactly_once(numbers: &[usize], count: usize) {
    let distinct: HashSet<usize> = numbers.iter().copied().collect();
    assert_eq!(
        numbers.len(),
        distinct.len(),
        "a record was processed twice"
    );
    assert_eq!(distinct, (0..count).collect(), "a record was missed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_group_finishes_parents_before_children_across_a_split() {
    let s = setup(1).await;
    put(&s.streams, 0, 300, 20).await;
    let recorder = Arc::new(Recorder {
        delay_ms: 5,
        ..Recorder::default()
    });
    let group = s.start(options("a", 10), recorder.clone());
    wait_for("the first batches", || recorder.numbers().len() >= 30).await;
    // Split the parent mid-consumption, and keep putting: new records go to the children.
    s.streams
        .split_shard("orders", ShardId(0), 1u128 << 127)
        .await
        .expect("split");
    put(&s.streams, 300, 300, 20).await;
    wait_for("every record", || recorder.numbers().len() >= 600).await;
    assert_exactly_once(&recorder.numbers(), 600);
    let processed = recorder.processed.lock().unwrap().clone();
    // Parents first: no child record before the parent's last.
    let last_parent = processed
        .iter()
        .rposition(|(shard, _)| *shard == ShardId(0))
        .unwrap();
    let first_child = processed
        .iter()
        .position(|(shard, _)| *shard != ShardId(0))
        .unwrap();
    assert!(
        last_parent < first_child,
        "a child started before its parent ended"
    );
    assert_eq!(processed[..=last_parent].len(), 300);
    // Each partition key's records in the order they were put.
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for (_, record) in &processed {
        by_key
            .entry(record.partition_key.clone())
            .or_default()
            .push(number(record));
    }
    for (key, numbers) in by_key {
        assert!(
            numbers.windows(2).all(|w| w[0] < w[1]),
            "{key} out of order: {numbers:?}"
        );
    }
    // The parent's checkpoint is SHARD_END; the children's lag goes to 0.
    assert!(
        group
            .lag()
            .iter()
            .any(|l| l.shard == ShardId(0) && l.finished),
        "{:?}",
        group.lag()
    );
    let settled = || {
        let lag = group.lag();
        lag.len() == 3
            && lag
                .iter()
                .all(|l| l.records_behind == 0 && l.checkpoint.is_some())
    };
    for _ in 0..200 {
        if settled() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(settled(), "{:?}", group.lag());
    let leases = s
        .store
        .leases(
            "g",
            &format!(
                "orders@{}",
                s.streams.describe("orders").unwrap().created_ms
            ),
        )
        .await
        .unwrap();
    assert_eq!(leases.len(), 3);
    assert!(leases[0].at_shard_end(), "{leases:?}");
    group.stop().await;
    let leases = s.store.all_leases().await.unwrap();
    assert!(
        leases.iter().all(|l| l.owner.is_none()),
        "leases released on stop: {leases:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_a_failing_batch_stalls_only_its_shard() {
    let s = setup(2).await;
    put(&s.streams, 0, 200, 50).await;
    let recorder = Arc::new(Recorder::default());
    *recorder.failing_shard.lock().unwrap() = Some(ShardId(0));
    let group = s.start(options("a", 7), recorder.clone());
    let on_shard_1 = s
        .streams
        .read("orders", ShardId(1), 0, 1000, 1 << 20)
        .unwrap()
        .records
        .len();
    assert!(
        on_shard_1 > 0 && on_shard_1 < 200,
        "both shards have records"
    );
    wait_for("shard 1 to be done", || {
        recorder.numbers().len() == on_shard_1
    })
    .await;
    // Shard 0 keeps failing and retrying; nothing of it is processed or checkpointed.
    wait_for("retries of shard 0", || {
        recorder.attempts.load(Ordering::SeqCst) > on_shard_1 / 7 + 5
    })
    .await;
    // A batch is processed before its checkpoint commits: wait for shard 1's last one.
    wait_for("shard 1's last checkpoint", || {
        group
            .lag()
            .iter()
            .any(|l| l.shard == ShardId(1) && l.records_behind == 0)
    })
    .await;
    let lag = group.lag();
    let shard_0 = lag
        .iter()
        .find(|l| l.shard == ShardId(0))
        .expect("shard 0's lag");
    assert_eq!(shard_0.checkpoint, None, "{lag:?}");
    assert_eq!(shard_0.records_behind as usize, 200 - on_shard_1, "{lag:?}");
    let shard_1 = lag
        .iter()
        .find(|l| l.shard == ShardId(1))
        .expect("shard 1's lag");
    assert_eq!(shard_1.records_behind, 0, "{lag:?}");
    assert!(
        recorder
            .processed
            .lock()
            .unwrap()
            .iter()
            .all(|(shard, _)| *shard == ShardId(1))
    );
    // Once it stops failing, the same records go through, once.
    *recorder.failing_shard.lock().unwrap() = None;
    wait_for("every record", || recorder.numbers().len() >= 200).await;
    assert_exactly_once(&recorder.numbers(), 200);
    group.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_resumes_from_checkpoints_committed_with_its_mutations() {
    let s = setup(2).await;
    put(&s.streams, 0, 400, 40).await;
    let first = Arc::new(Recorder {
        delay_ms: 3,
        with_mutations: true,
        ..Recorder::default()
    });
    let group = s.start(options("a", 10), first.clone());
    wait_for("some batches", || first.numbers().len() >= 100).await;
    group.stop().await;
    let before = first.numbers();
    assert!(before.len() < 400, "stopped midway");
    // Another consumer (a restarted server) goes on from the checkpoints.
    let second = Arc::new(Recorder {
        with_mutations: true,
        ..Recorder::default()
    });
    let group = s.start(options("b", 10), second.clone());
    wait_for("the rest", || before.len() + second.numbers().len() >= 400).await;
    let all: Vec<usize> = before.iter().copied().chain(second.numbers()).collect();
    assert_exactly_once(&all, 400);
    // A batch commits its checkpoint and mutation after it returns: wait for the last ones.
    wait_for("every checkpoint", || {
        let lag = group.lag();
        !lag.is_empty() && lag.iter().all(|l| l.records_behind == 0)
    })
    .await;
    // Each batch's own mutation committed with its checkpoint: one secret per batch. A batch the
    // stop cut short returned nothing and committed nothing; its records came again above.
    let batches = first.succeeded.load(Ordering::SeqCst) + second.succeeded.load(Ordering::SeqCst);
    assert_eq!(s.store.secrets().await.unwrap().len(), batches);
    group.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_leases_hand_shards_over_between_two_consumers() {
    let s = setup(4).await;
    put(&s.streams, 0, 400, 64).await;
    let a = Arc::new(Recorder {
        delay_ms: 5,
        ..Recorder::default()
    });
    let b = Arc::new(Recorder {
        delay_ms: 5,
        ..Recorder::default()
    });
    let group_a = s.start(options("a", 5), a.clone());
    let group_b = s.start(options("b", 5), b.clone());
    wait_for("some batches", || {
        a.numbers().len() + b.numbers().len() >= 100
    })
    .await;
    // A leaves: its leases are released and B takes its shards where A's checkpoints are.
    group_a.stop().await;
    let from_a = a.numbers();
    wait_for("every record", || from_a.len() + b.numbers().len() >= 400).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let all: Vec<usize> = from_a.iter().copied().chain(b.numbers()).collect();
    assert_exactly_once(&all, 400);
    group_b.stop().await;
}

/// Processes the first half of each batch, then fails; the next attempt succeeds.
struct HalfThenAll {
    processed: Mutex<Vec<usize>>,
    failed_once: AtomicBool,
}

#[async_trait::async_trait]
impl ShardProcessor for HalfThenAll {
    async fn process(
        &self,
        _shard: ShardId,
        records: Vec<Record>,
    ) -> Result<Vec<Mutation>, ProcessError> {
        if !self.failed_once.swap(true, Ordering::SeqCst) && records.len() > 1 {
            let half = records.len() / 2;
            self.processed
                .lock()
                .unwrap()
                .extend(records[..half].iter().map(number));
            return Err(ProcessError::new("the second half failed")
                .retry_after(Duration::from_millis(10))
                .partial(half, Vec::new()));
        }
        self.processed
            .lock()
            .unwrap()
            .extend(records.iter().map(number));
        Ok(Vec::new())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_checkpoints_the_part_of_a_batch_that_was_done() {
    let s = setup(1).await;
    put(&s.streams, 0, 50, 5).await;
    let processor = Arc::new(HalfThenAll {
        processed: Mutex::new(Vec::new()),
        failed_once: AtomicBool::new(false),
    });
    let group = s.start(options("a", 100), processor.clone());
    wait_for("every record", || {
        processor.processed.lock().unwrap().len() >= 50
    })
    .await;
    assert_exactly_once(&processor.processed.lock().unwrap(), 50);
    wait_for("the checkpoint", || {
        group.lag().first().is_some_and(|l| l.records_behind == 0)
    })
    .await;
    group.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_starts_afresh_on_a_stream_created_again() {
    let s = setup(1).await;
    put(&s.streams, 0, 10, 3).await;
    let recorder = Arc::new(Recorder::default());
    let group = s.start(options("a", 4), recorder.clone());
    wait_for("the first stream's records", || {
        recorder.numbers().len() == 10
    })
    .await;
    s.streams
        .delete_stream("orders", false)
        .await
        .expect("delete");
    s.streams
        .create_stream(NewStream {
            name: "orders".into(),
            mode: StreamMode::Provisioned,
            shard_count: Some(1),
            tags: Vec::new(),
        })
        .await
        .expect("create again");
    put(&s.streams, 10, 5, 3).await;
    // The new stream's checkpoints are its own: its records are read from its beginning.
    wait_for("the new stream's records", || {
        recorder.numbers().len() == 15
    })
    .await;
    assert_exactly_once(&recorder.numbers(), 15);
    group.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_groups_are_listed_by_stream_with_their_lag_while_they_run() {
    let s = setup(1).await;
    put(&s.streams, 0, 10, 3).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let recorder = Arc::new(Recorder::default());
    *recorder.failing_shard.lock().unwrap() = Some(ShardId(0));
    let mut options = options("a", 100);
    options.description = "a test reader".into();
    let group = s.start(options, recorder.clone());
    // The batch keeps failing: all ten records are behind, by at least their age.
    wait_for("the failing batch's lag", || {
        let groups = s.streams.consumer_groups("orders");
        groups.len() == 1
            && groups[0]
                .shards
                .first()
                .is_some_and(|l| l.records_behind == 10 && l.millis_behind >= 50)
    })
    .await;
    let groups = s.streams.consumer_groups("orders");
    assert_eq!(
        (groups[0].group.as_str(), groups[0].description.as_str()),
        ("g", "a test reader")
    );
    assert_eq!(groups[0].shards[0].checkpoint, None);
    assert!(s.streams.consumer_groups("other").is_empty());
    *recorder.failing_shard.lock().unwrap() = None;
    wait_for("the lag to go", || {
        s.streams.consumer_groups("orders")[0]
            .shards
            .first()
            .is_some_and(|l| l.records_behind == 0 && l.millis_behind == 0)
    })
    .await;
    let last = s.streams.describe("orders").unwrap().shards[0].starting_sequence;
    let checkpoint = s.streams.consumer_groups("orders")[0].shards[0]
        .checkpoint
        .clone()
        .expect("a checkpoint");
    assert!(checkpoint.as_str() > last.to_string().as_str());
    group.stop().await;
    assert!(s.streams.consumer_groups("orders").is_empty());
}
