//! Mappings on a real log, a real SQLite store and real function processes (Python scripts that
//! append each event they get to a file): the event's shape, partial batch failures, retries
//! given up to an on-failure stream, bisection, tumbling windows' state, and mappings written in
//! function files.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use weir_model::config::Config;
use weir_model::event_source::{EventSourceConfig, StartingPosition};
use weir_store::{Committer, Store};
use weir_stream::{NewRecord, NewStream, StreamMode, Streams, StreamsConfig};

use super::EventSources;
use crate::functions::Functions;

struct Fixture {
    project: tempfile::TempDir,
    data: tempfile::TempDir,
    streams: Streams,
    sources: EventSources,
}

/// A function that appends its event to `events.jsonl` and answers what `answer` (Python, with
/// the event in `event`) computes; `fail` (Python) makes it exit 1 when true.
fn function_yaml(project: &Path, answer: &str, fail: &str, extra: &str) -> String {
    let log = project.join("events.jsonl");
    let script = format!(
        "import json, os, sys\nevent = json.load(sys.stdin)\nfd = os.open({log:?}, os.O_WRONLY | os.O_APPEND | os.O_CREAT)\nos.write(fd, (json.dumps(event) + '\\n').encode())\nif {fail}:\n    sys.exit(1)\nprint(json.dumps({answer}))\n",
        log = log.display().to_string()
    );
    std::fs::write(project.join("handler.py"), script).unwrap();
    format!(
        "command: [python3, {}]\n{extra}",
        project.join("handler.py").display()
    )
}

fn data(record: &Value) -> String {
    use base64::Engine as _;
    let encoded = record["kinesis"]["data"].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

impl Fixture {
    async fn new(function_file: impl FnOnce(&Path) -> String) -> Fixture {
        let project = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(project.path().join("functions")).unwrap();
        std::fs::write(
            project.path().join("functions/handler.yaml"),
            function_file(project.path()),
        )
        .unwrap();
        let url = format!("sqlite://{}/weir.db", data.path().display());
        let store: Arc<dyn Store> = weir_store::open(&url).await.unwrap();
        let committer = Committer::start(store.clone());
        let config = StreamsConfig::new(data.path().join("streams"), "us-east-1", "000000000000");
        let streams = Streams::open(config, store.clone(), committer.clone())
            .await
            .unwrap();
        for name in ["orders", "dlq"] {
            streams
                .create_stream(NewStream {
                    name: name.into(),
                    mode: StreamMode::Provisioned,
                    shard_count: Some(1),
                    tags: Vec::new(),
                })
                .await
                .unwrap();
        }
        let mut engine_config = Config::default();
        engine_config.executor.kill_grace = "1s".into();
        let functions = Arc::new(Functions::new(
            project.path(),
            data.path(),
            &engine_config,
            Arc::new(crate::secrets::Secrets::none()),
        ));
        let sources = EventSources::start(streams.clone(), None, store, committer, functions, None)
            .await
            .unwrap();
        Fixture {
            project,
            data,
            streams,
            sources,
        }
    }

    async fn put(&self, stream: &str, items: &[&str]) {
        let records = items
            .iter()
            .map(|item| NewRecord {
                partition_key: "pk".into(),
                explicit_hash_key: None,
                data: Bytes::from(item.to_string()),
            })
            .collect();
        for result in self.streams.put(stream, records).await.unwrap() {
            result.unwrap();
        }
    }

    fn events_path(&self) -> PathBuf {
        self.project.path().join("events.jsonl")
    }

    /// Every event the function got, in order. Each invocation appends its line with one
    /// `write` (O_APPEND), so parallel invocations never interleave; a line still being written
    /// (no newline yet) is not counted.
    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.events_path())
            .unwrap_or_default()
            .split_inclusive('\n')
            .filter(|line| line.ends_with('\n'))
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// The data of each invocation's records.
    fn batches(&self) -> Vec<Vec<String>> {
        self.events()
            .iter()
            .map(|e| e["Records"].as_array().unwrap().iter().map(data).collect())
            .collect()
    }

    async fn wait_for(&self, what: &str, mut done: impl FnMut(&Fixture) -> bool) {
        for _ in 0..1500 {
            if done(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("timed out waiting for {what}: {:?}", self.batches());
    }
}

fn mapping(batch_size: u32) -> EventSourceConfig {
    let mut config = EventSourceConfig::new("orders", StartingPosition::TrimHorizon);
    config.batch_size = batch_size;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_source_invokes_with_lambdas_kinesis_event() {
    let f = Fixture::new(|p| function_yaml(p, "{}", "False", "")).await;
    f.put("orders", &["a", "b", "c", "d", "e"]).await;
    let info = f.sources.create("handler", mapping(2)).await.unwrap();
    assert_eq!(info.state, "Enabled");
    assert_eq!(
        info.source_arn,
        "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
    );
    f.wait_for("every record", |f| f.batches().concat().len() == 5)
        .await;
    assert_eq!(f.batches().concat(), ["a", "b", "c", "d", "e"]);
    assert!(f.batches().iter().all(|b| b.len() <= 2));
    let record = &f.events()[0]["Records"][0];
    let sequence = record["kinesis"]["sequenceNumber"].as_str().unwrap();
    assert_eq!(
        record["eventID"],
        format!("shardId-000000000000:{sequence}")
    );
    assert_eq!(record["eventSource"], "aws:kinesis");
    assert_eq!(record["eventName"], "aws:kinesis:record");
    assert_eq!(record["eventVersion"], "1.0");
    assert_eq!(record["kinesis"]["kinesisSchemaVersion"], "1.0");
    assert_eq!(record["kinesis"]["partitionKey"], "pk");
    assert!(
        record["kinesis"]["approximateArrivalTimestamp"]
            .as_f64()
            .unwrap()
            > 1.7e9
    );
    assert_eq!(record["awsRegion"], "us-east-1");
    assert_eq!(
        record["invokeIdentityArn"],
        "arn:aws:iam::000000000000:role/weir"
    );
    assert_eq!(record["eventSourceARN"], info.source_arn);
    // New records wake the mapping; it reports how it went.
    f.put("orders", &["f"]).await;
    f.wait_for("the new record", |f| f.batches().concat().len() == 6)
        .await;
    let got = f.sources.get(&info.uuid).await.unwrap();
    assert_eq!(got.last_processing_result, "OK");
    // Deleted: it stops, and its checkpoints go.
    f.sources.delete(&info.uuid).await.unwrap();
    f.put("orders", &["g"]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(f.batches().concat().len(), 6);
    assert!(f.sources.get(&info.uuid).await.is_err());
    let _ = &f.data;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_source_retries_from_the_first_reported_item_failure() {
    // The first time it sees `bad`, the function reports it (and `c` after it) as failed.
    let marker = "import os; first = not os.path.exists('seen')";
    let answer = "(lambda recs: {'batchItemFailures': [{'itemIdentifier': r['kinesis']['sequenceNumber']} for r in recs if __import__('base64').b64decode(r['kinesis']['data']) in (b'bad', b'c') and not __import__('os').path.exists('seen') and not open('seen', 'w').close()]})(event['Records'])";
    let f = Fixture::new(|p| {
        let _ = marker;
        function_yaml(
            p,
            answer,
            "False",
            &format!("working_dir: {}\n", p.display()),
        )
    })
    .await;
    f.put("orders", &["a", "bad", "c", "d"]).await;
    let mut config = mapping(10);
    config.report_batch_item_failures = true;
    f.sources.create("handler", config).await.unwrap();
    f.wait_for("the retry", |f| f.batches().len() == 2).await;
    // Checkpointed up to `bad`; the retry starts there.
    assert_eq!(
        f.batches(),
        [vec!["a", "bad", "c", "d"], vec!["bad", "c", "d"]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_source_bisects_and_gives_up_to_the_on_failure_stream() {
    // Fails whenever its batch holds `bad`.
    let fail = "any(__import__('base64').b64decode(r['kinesis']['data']) == b'bad' for r in event['Records'])";
    let f = Fixture::new(|p| function_yaml(p, "{}", fail, "")).await;
    f.put("orders", &["a", "b", "bad", "d"]).await;
    let mut config = mapping(4);
    config.bisect_batch_on_function_error = true;
    config.maximum_retry_attempts = 1;
    config.on_failure = Some("arn:aws:kinesis:us-east-1:000000000000:stream/dlq".into());
    let info = f.sources.create("handler", config).await.unwrap();
    f.wait_for("`d` after the bad record", |f| f.batches().len() >= 6)
        .await;
    let batches = f.batches();
    // Halves until `bad` is alone: [a b bad d] fails, [a b] passes, [bad d] fails, [bad] fails
    // twice (a retry), then is given up, and [d] passes.
    assert_eq!(
        batches,
        [
            vec!["a", "b", "bad", "d"],
            vec!["a", "b"],
            vec!["bad", "d"],
            vec!["bad"],
            vec!["bad"],
            vec!["d"],
        ]
    );
    let dlq = f
        .streams
        .read("dlq", weir_stream::ShardId(0), 0, 10, 1 << 20)
        .unwrap();
    assert_eq!(dlq.records.len(), 1);
    let described: Value = serde_json::from_slice(&dlq.records[0].data).unwrap();
    assert_eq!(
        described["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(described["requestContext"]["approximateInvokeCount"], 2);
    assert_eq!(
        described["requestContext"]["functionArn"],
        info.function_arn
    );
    assert_eq!(described["responseContext"]["functionError"], "Unhandled");
    let batch = &described["KinesisBatchInfo"];
    assert_eq!(batch["batchSize"], 1);
    assert_eq!(batch["shardId"], "shardId-000000000000");
    assert_eq!(batch["streamArn"], info.source_arn);
    assert_eq!(batch["startSequenceNumber"], batch["endSequenceNumber"]);
    // (the last invocation may still be returning when its event is in the file)
    for _ in 0..250 {
        if f.sources
            .get(&info.uuid)
            .await
            .unwrap()
            .last_processing_result
            == "OK"
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the mapping never said OK after passing the bad record");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_source_tumbling_windows_carry_state_and_definitions_run() {
    // Counts records in the window's state; defined in the function's file.
    let answer = "{'state': {'count': event['state'].get('count', 0) + len(event['Records'])}}";
    let f = Fixture::new(|p| {
        function_yaml(
            p,
            answer,
            "False",
            "event_sources:\n  - stream: orders\n    batch_size: 2\n    tumbling_window: 900s\n",
        )
    })
    .await;
    f.put("orders", &["a", "b", "c", "d", "e"]).await;
    f.wait_for("every record", |f| f.batches().concat().len() == 5)
        .await;
    let events = f.events();
    let counts: Vec<Value> = events.iter().map(|e| e["state"]["count"].clone()).collect();
    assert_eq!(counts, [json!(null), json!(2), json!(4)]);
    assert_eq!(events[0]["shardId"], "shardId-000000000000");
    assert_eq!(events[0]["isFinalInvokeForWindow"], false);
    assert_eq!(
        events[0]["eventSourceARN"],
        "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
    );
    assert!(
        events[0]["window"]["start"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let listed = f.sources.list(Some("handler"), None).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].source, "functions/handler.yaml");
    assert!(
        f.sources.delete(&listed[0].uuid).await.is_err(),
        "defined in its file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_source_parallelization_splits_a_batch_by_partition_key() {
    let f = Fixture::new(|p| function_yaml(p, "{}", "False", "")).await;
    let records: Vec<NewRecord> = (0..40)
        .map(|i| NewRecord {
            partition_key: format!("key-{}", i % 8),
            explicit_hash_key: None,
            data: Bytes::from(format!("{}:{i}", i % 8)),
        })
        .collect();
    for result in f.streams.put("orders", records).await.unwrap() {
        result.unwrap();
    }
    let mut config = mapping(40);
    config.parallelization_factor = 4;
    f.sources.create("handler", config).await.unwrap();
    f.wait_for("every record", |f| f.batches().concat().len() == 40)
        .await;
    let batches = f.batches();
    assert!(batches.len() > 1 && batches.len() <= 4, "{batches:?}");
    // Each key's records in one invocation, in order.
    let mut seen_in: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (invocation, batch) in batches.iter().enumerate() {
        let mut last: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for item in batch {
            let (key, n) = item.split_once(':').unwrap();
            let n: usize = n.parse().unwrap();
            assert_eq!(
                *seen_in.entry(key.to_string()).or_insert(invocation),
                invocation
            );
            assert!(
                last.insert(key, n).is_none_or(|before| before < n),
                "{batch:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_source_a_quiet_tumbling_window_closes_when_its_time_is_up() {
    // Counts records in the window's state; one-second windows.
    let answer = "{'state': {'count': event['state'].get('count', 0) + len(event['Records'])}}";
    let f = Fixture::new(|p| {
        function_yaml(
            p,
            answer,
            "False",
            "event_sources:\n  - stream: orders\n    tumbling_window: 1s\n",
        )
    })
    .await;
    f.put("orders", &["a", "b", "c"]).await;
    let finals = |f: &Fixture| -> Vec<Value> {
        f.events()
            .into_iter()
            .filter(|e| e["isFinalInvokeForWindow"] == true)
            .collect()
    };
    // No later record comes: the window's final invocation comes anyway, with its state.
    f.wait_for("the final invocation of the quiet window", |f| {
        finals(f)
            .iter()
            .map(|e| e["state"]["count"].as_i64().unwrap_or(0))
            .sum::<i64>()
            == 3
    })
    .await;
    for last in finals(&f) {
        assert_eq!(last["Records"], json!([]));
    }
    let closed = finals(&f).len();
    // Closed once: a window is not closed again, and a later record opens a new one.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(finals(&f).len(), closed);
    f.put("orders", &["d"]).await;
    f.wait_for("the next window's first invocation", |f| {
        f.batches().concat().contains(&"d".to_string())
    })
    .await;
    let events = f.events();
    let first_of_next = events
        .iter()
        .find(|e| {
            e["Records"]
                .as_array()
                .is_some_and(|r| r.len() == 1 && data(&r[0]) == "d")
        })
        .unwrap();
    assert_eq!(first_of_next["state"], json!({}));
}
