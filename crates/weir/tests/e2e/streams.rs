//! Streams through the real binary: `weir streams …` and `/api/v1/streams`, and durability: the
//! server killed with SIGKILL while producers put records, at varied points, then restarted.
//! Every acknowledged record must be readable with the sequence number it was given, nothing
//! may appear twice or half-written, and sequence numbers go on growing after the restart.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

#[test]
fn the_cli_creates_puts_reads_tails_and_deletes() {
    let project = Project::new();
    let server = Server::start(project.path());
    let created = server.cli(&["streams", "create", "clicks", "--shards", "2"]);
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(
        stdout(&created).contains("created clicks (2 shards"),
        "{}",
        stdout(&created)
    );
    let listed = stdout(&server.cli(&["streams", "list"]));
    assert!(listed.contains("clicks  ACTIVE  PROVISIONED"), "{listed}");
    let described = server.json(&["streams", "describe", "clicks"]);
    assert_eq!(
        described["shards"].as_array().map(Vec::len),
        Some(2),
        "{described}"
    );
    assert_eq!(
        described["shards"][1]["hash_key_range"]["ending"],
        u128::MAX.to_string()
    );

    // Records from arguments, one partition key: one shard, in order.
    let put = server.json(&[
        "streams",
        "put",
        "clicks",
        "--partition-key",
        "u1",
        "a",
        "b",
        "c",
    ]);
    assert_eq!(put["failed"], 0, "{put}");
    let sequences: Vec<&str> = put["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sequence_number"].as_str().unwrap())
        .collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    let read = stdout(&server.cli(&["streams", "read", "clicks"]));
    let lines: Vec<&str> = read.lines().collect();
    assert_eq!(lines.len(), 3, "{read}");
    for (line, data) in lines.iter().zip(["a", "b", "c"]) {
        assert!(line.ends_with(&format!("  u1  {data}")), "{line}");
    }

    // A tail started at the end sees only what comes after it, and stops after --count.
    let mut tail = std::process::Command::new(BIN)
        .args(["streams", "tail", "clicks", "--count", "2", "--json"])
        .env("WEIR_SERVER", &server.url)
        .env("WEIR_TOKEN", server.token())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("tail starts");
    std::thread::sleep(Duration::from_millis(700));
    let late = server.cli(&["streams", "put", "clicks", "late-1", "late-2"]);
    assert!(late.status.success(), "{}", stderr(&late));
    let waited = Instant::now();
    let status = loop {
        if let Some(status) = tail.try_wait().expect("tail") {
            break status;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(20),
            "tail did not see the new records"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    let mut out = String::new();
    std::io::Read::read_to_string(&mut tail.stdout.take().unwrap(), &mut out).unwrap();
    let seen: BTreeSet<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["data"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        seen,
        BTreeSet::from(["late-1".into(), "late-2".into()]),
        "{out}"
    );

    let bad = server.cli(&["streams", "read", "clicks", "--from", "somewhere"]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("is not a position"),
        "{}",
        stderr(&bad)
    );
    let missing = server.cli(&["streams", "describe", "nope"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("Stream nope under account"),
        "{}",
        stderr(&missing)
    );

    assert!(
        server
            .cli(&["streams", "delete", "clicks"])
            .status
            .success()
    );
    assert!(!stdout(&server.cli(&["streams", "list"])).contains("clicks"));
}

/// Every record of every shard, read through the REST API from the start, by shard.
fn read_all(server: &Server, stream: &str) -> BTreeMap<String, Vec<Value>> {
    let described = server.get_json(&format!("/api/v1/streams/{stream}"));
    let mut all = BTreeMap::new();
    for shard in described["shards"].as_array().unwrap() {
        let id = shard["shard_id"].as_str().unwrap().to_string();
        let mut from = "trim_horizon".to_string();
        let mut records = Vec::new();
        loop {
            let batch = server.get_json(&format!(
                "/api/v1/streams/{stream}/shards/{id}/records?from={from}&limit=10000"
            ));
            let got = batch["records"].as_array().unwrap();
            if got.is_empty() {
                break;
            }
            records.extend(got.iter().cloned());
            from = format!("offset:{}", batch["next_offset"]);
        }
        all.insert(id, records);
    }
    all
}

/// Producers put batches of records until the server stops answering; each remembers the
/// records the server acknowledged, with their shard and sequence number.
type Producers = (Vec<std::thread::JoinHandle<()>>, Arc<Mutex<Vec<Value>>>);

fn produce(server: &Server, stream: &str, round: usize, producers: usize) -> Producers {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let token = format!("Bearer {}", server.token());
    let url = format!("{}/api/v1/streams/{stream}/records", server.url);
    let handles = (0..producers)
        .map(|p| {
            let (acked, token, url) = (acked.clone(), token.clone(), url.clone());
            std::thread::spawn(move || {
                for batch in 0.. {
                    let records: Vec<Value> = (0..50)
                        .map(|i| json!({ "partition_key": format!("p{p}-{}", i % 7), "data": format!("{round}:{p}:{batch}:{i}") }))
                        .collect();
                    let body = json!({ "records": records }).to_string();
                    let headers = [("Authorization", token.as_str()), ("Content-Type", "application/json")];
                    let Some((200, answer)) = http_with("POST", &url, Some(&body), &headers) else {
                        return;
                    };
                    let Ok(answer) = serde_json::from_str::<Value>(&answer) else {
                        return;
                    };
                    let mut acked = acked.lock().unwrap();
                    for (record, result) in records.iter().zip(answer["records"].as_array().unwrap()) {
                        acked.push(json!({
                            "data": record["data"], "partition_key": record["partition_key"],
                            "shard_id": result["shard_id"], "sequence_number": result["sequence_number"],
                        }));
                    }
                }
            })
        })
        .collect();
    (handles, acked)
}

/// A record's place in the producers' order, from its data `ROUND:PRODUCER:BATCH:INDEX`:
/// (round, batch, index).
fn position(data: &str) -> Option<(u64, u64, u64)> {
    let parts: Vec<u64> = data
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    match parts[..] {
        [round, _producer, batch, index] => Some((round, batch, index)),
        _ => None,
    }
}

#[test]
fn kill_9_while_producers_put_loses_no_acknowledged_record() {
    let project = Project::new();
    let mut server = Server::start(project.path());
    let (status, body) = server.post("/api/v1/streams", r#"{"name": "events", "shards": 3}"#);
    assert_eq!(status, 200, "{body}");
    let mut acked_total: Vec<Value> = Vec::new();
    // Kills at varied points: at once, under load, and after a longer run.
    for (round, run_for) in [5u64, 150, 600].into_iter().enumerate() {
        let (producers, acked) = produce(&server, "events", round, 3);
        std::thread::sleep(Duration::from_millis(run_for));
        server.kill9();
        for producer in producers {
            producer.join().expect("producer");
        }
        acked_total.extend(acked.lock().unwrap().drain(..));
        server.start_again();

        let all = read_all(&server, "events");
        let mut by_data: BTreeMap<String, (String, String)> = BTreeMap::new();
        for (shard, records) in &all {
            let mut last = String::new();
            for record in records {
                let data = record["data"]
                    .as_str()
                    .expect("every record whole, as text");
                assert!(position(data).is_some(), "half-written? {record}");
                let sequence = record["sequence_number"].as_str().unwrap().to_string();
                assert!(sequence > last, "sequence numbers grow within {shard}");
                last = sequence.clone();
                let previous = by_data.insert(data.to_string(), (shard.clone(), sequence));
                assert!(previous.is_none(), "{data} appears twice (round {round})");
            }
        }
        for acked in &acked_total {
            let data = acked["data"].as_str().unwrap();
            let Some((shard, sequence)) = by_data.get(data) else {
                panic!(
                    "acknowledged record {data} lost (round {round}, {} acknowledged)",
                    acked_total.len()
                );
            };
            assert_eq!(Some(shard.as_str()), acked["shard_id"].as_str(), "{data}");
            assert_eq!(
                Some(sequence.as_str()),
                acked["sequence_number"].as_str(),
                "{data}"
            );
        }
        // Within a partition key, records keep the order they were put in: one producer puts
        // a key's records, one batch after another.
        let mut per_key: BTreeMap<String, Vec<(u64, u64, u64)>> = BTreeMap::new();
        for records in all.values() {
            for record in records {
                let data = record["data"].as_str().unwrap();
                per_key
                    .entry(record["partition_key"].as_str().unwrap().to_string())
                    .or_default()
                    .push(position(data).unwrap());
            }
        }
        for (key, order) in per_key {
            assert!(
                order.windows(2).all(|w| w[0] < w[1]),
                "order of {key}: {order:?}"
            );
        }
    }
    assert!(
        acked_total.len() >= 50,
        "the producers got records acknowledged before the kills ({})",
        acked_total.len()
    );
    // After the restarts, a put gets a sequence number greater than any before it in its shard.
    let (status, body) = server.post(
        "/api/v1/streams/events/records",
        r#"{"records": [{"partition_key": "p0-0", "data": "after"}]}"#,
    );
    assert_eq!(status, 200, "{body}");
    let after: Value = serde_json::from_str(&body).unwrap();
    let shard = after["records"][0]["shard_id"].as_str().unwrap();
    let sequence = after["records"][0]["sequence_number"].as_str().unwrap();
    let before = acked_total
        .iter()
        .filter(|a| a["shard_id"] == shard)
        .map(|a| a["sequence_number"].as_str().unwrap())
        .max()
        .unwrap_or("");
    assert!(sequence > before, "{sequence} after {before}");
}

#[test]
fn throughput_quotas_refuse_records_past_a_shards_write_quota_when_on() {
    let project = Project::new();
    project.write(
        "weir.toml",
        "[streams]\nthroughput_quotas = true\nsegment_size = \"1MiB\"\n",
    );
    let server = Server::start(project.path());
    let (status, body) = server.aws(
        "Kinesis_20131202.CreateStream",
        r#"{"StreamName": "metered", "ShardCount": 1}"#,
    );
    assert_eq!(status, 200, "{body}");
    // 1,500 records in well under a second: a shard takes 1,000 a second.
    let records: Vec<Value> = (0..500)
        .map(|i| json!({ "PartitionKey": "k", "Data": "eA==", "ExplicitHashKey": i.to_string() }))
        .collect();
    let request = json!({ "StreamName": "metered", "Records": records }).to_string();
    let mut failed = 0;
    for _ in 0..3 {
        let (status, answer) = server.aws("Kinesis_20131202.PutRecords", &request);
        assert_eq!(status, 200, "{answer}");
        failed += answer["FailedRecordCount"].as_u64().unwrap();
        for record in answer["Records"].as_array().unwrap() {
            if let Some(code) = record.get("ErrorCode") {
                assert_eq!(code, "ProvisionedThroughputExceededException", "{record}");
            }
        }
    }
    assert!(
        failed >= 400,
        "past 1,000 records a second, records are refused ({failed})"
    );

    // A segment size below a record's largest size is refused at start, naming the key.
    let bad = Project::new();
    bad.write("weir.toml", "[streams]\nsegment_size = \"64KiB\"\n");
    let validated = weir(&["validate", bad.path().to_str().unwrap()]);
    assert!(!validated.status.success());
    assert!(
        stderr(&validated).contains("streams.segment_size must be at least 1MiB")
            || stdout(&validated).contains("streams.segment_size must be at least 1MiB"),
        "{}{}",
        stdout(&validated),
        stderr(&validated)
    );
}

/// A credential narrowed by name sees and reaches the streams its grants name, through weir's
/// own API as through Kinesis's.
#[test]
fn narrowed_credentials_reach_only_their_streams() {
    let project = Project::new();
    let server = Server::start(project.path());
    for name in ["etl_clicks", "ml_features"] {
        let (status, body) = server.post("/api/v1/streams", &format!(r#"{{"name": "{name}"}}"#));
        assert_eq!(status, 200, "{body}");
    }
    let narrow = crate::security::create(&server, "operator", "etl", &["--pipelines", "etl_*"]);
    let token = narrow["token"].as_str().unwrap();
    let call = |method: &str, path: &str, body: &str| {
        crate::security::with_token(&server, token, method, path, body)
    };
    let (status, body) = call("GET", "/api/v1/streams", "");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("etl_clicks") && !body.contains("ml_features"),
        "{body}"
    );
    let put = r#"{"records": [{"partition_key": "k", "data": "x"}]}"#;
    assert_eq!(
        call("POST", "/api/v1/streams/etl_clicks/records", put).0,
        200
    );
    for (method, path, body) in [
        ("GET", "/api/v1/streams/ml_features", ""),
        ("POST", "/api/v1/streams/ml_features/records", put),
        ("GET", "/api/v1/streams/ml_features/shards/0/records", ""),
    ] {
        let (status, answer) = call(method, path, body);
        assert_eq!(status, 403, "{method} {path}: {answer}");
        assert!(
            answer.contains("not granted stream `ml_features`"),
            "{answer}"
        );
    }
    // Names in bodies are checked too: a new stream, a page token, a new delivery.
    let (status, answer) = call("POST", "/api/v1/streams", r#"{"name": "ml_other"}"#);
    assert_eq!(status, 403, "{answer}");
    let bearer = format!("Bearer {token}");
    let aws = |target: &str, body: &str| {
        http_with(
            "POST",
            &format!("{}/", server.url),
            Some(body),
            &[
                ("X-Amz-Target", target),
                ("Content-Type", "application/x-amz-json-1.1"),
                ("Authorization", &bearer),
            ],
        )
        .expect("server answers")
    };
    let (status, answer) = aws(
        "Kinesis_20131202.ListShards",
        r#"{"NextToken": "weir-shards:shardId-000000000000:ml_features"}"#,
    );
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("AccessDeniedException"), "{answer}");
    let (status, answer) = aws(
        "Firehose_20150804.CreateDeliveryStream",
        r#"{"DeliveryStreamName": "etl_copy", "DeliveryStreamType": "KinesisStreamAsSource", "KinesisStreamSourceConfiguration": {"KinesisStreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/ml_features", "RoleARN": "arn:aws:iam::000000000000:role/r"}}"#,
    );
    assert!(
        answer.contains("AccessDeniedException"),
        "{status} {answer}"
    );
    // Event source mappings join streams to functions: a narrowed credential may not use them.
    let (status, answer) = call("GET", "/2015-03-31/event-source-mappings/", "");
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("AccessDeniedException"), "{answer}");
}

/// A delivery's direct puts are kept in a stream of its own, acknowledged to Firehose producers:
/// neither the Kinesis API nor weir's own may read, write or delete it, even as the admin. The
/// same holds for every name starting with `__` (an event bus's events are `__events-BUS`),
/// whether or not such a stream exists yet.
#[test]
fn a_deliverys_own_stream_is_out_of_reach() {
    let project = Project::new();
    project.write(
        "deliveries/web.yaml",
        "buffering: { size: 1MiB, interval: 1s }\nprefix: web/\n",
    );
    let server = Server::start(project.path());
    let (status, body) = server.get("/api/v1/streams");
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("__delivery-"), "{body}");
    for (method, path, body) in [
        ("GET", "/api/v1/streams/__delivery-web", None),
        ("DELETE", "/api/v1/streams/__delivery-web", None),
        (
            "POST",
            "/api/v1/streams",
            Some(r#"{"name": "__delivery-other"}"#),
        ),
        ("POST", "/api/v1/streams", Some(r#"{"name": "__events-x"}"#)),
        ("GET", "/api/v1/streams/__events-default", None),
    ] {
        let (status, answer) = server.request(method, path, body);
        assert_eq!(status, 403, "{method} {path}: {answer}");
    }
    for (target, body) in [
        (
            "Kinesis_20131202.DeleteStream",
            r#"{"StreamName": "__delivery-web"}"#,
        ),
        (
            "Kinesis_20131202.DescribeStreamSummary",
            r#"{"StreamName": "__delivery-web"}"#,
        ),
        (
            "Kinesis_20131202.CreateStream",
            r#"{"StreamName": "__mine", "ShardCount": 1}"#,
        ),
        (
            "Kinesis_20131202.PutRecord",
            r#"{"StreamName": "__events-default", "Data": "e30=", "PartitionKey": "k"}"#,
        ),
    ] {
        let (status, answer) = server.aws(target, body);
        assert_eq!(
            answer["__type"], "AccessDeniedException",
            "{status} {answer}"
        );
    }
    let (_, listed) = server.aws("Kinesis_20131202.ListStreams", "{}");
    assert!(!listed.to_string().contains("__delivery-"), "{listed}");
}
