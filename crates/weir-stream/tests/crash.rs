//! kill -9 under load: a child process (this test binary again, running the ignored
//! `stream_crash_child`) appends from several producers and prints every acknowledged record;
//! it is killed with SIGKILL at varied points. After each kill the log is opened again (recovery)
//! and every acknowledged record must be there, whole, where it was acknowledged, and every record
//! in the log must be one a producer sent, whole (nothing half-written).

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use support::*;
use weir_stream::{NewRecord, ShardId};

const CHILD_DIR: &str = "WEIR_STREAM_CRASH_DIR";
const CHILD_ROUND: &str = "WEIR_STREAM_CRASH_ROUND";
const SHARDS: u32 = 4;

/// The data a producer sends with `key`: derived from it, so a reader can tell a whole record
/// from a damaged one. Sizes vary from 20 bytes to about 3 KB.
fn payload(key: &str) -> Bytes {
    let size = 20 + key.bytes().map(usize::from).sum::<usize>() * 7 % 3000;
    Bytes::from(key.bytes().cycle().take(size).collect::<Vec<u8>>())
}

#[test]
fn stream_acknowledged_records_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let env = open(dir.path()).await;
        env.streams
            .create_stream(provisioned("crash", SHARDS))
            .await
            .unwrap();
    });
    // (shard, offset) -> key of every acknowledged record, over all rounds.
    let mut acknowledged: HashMap<(u32, u64), String> = HashMap::new();
    for (round, delay_ms) in [5u64, 40, 150, 400, 900].into_iter().enumerate() {
        let acks = run_child_and_kill(dir.path(), round, Duration::from_millis(delay_ms));
        assert!(
            !acks.is_empty(),
            "round {round}: the child acknowledged nothing"
        );
        for (shard, offset, key) in acks {
            let previous = acknowledged.insert((shard, offset), key.clone());
            assert!(
                previous.is_none(),
                "round {round}: {shard}/{offset} acknowledged twice"
            );
        }
        runtime.block_on(check(dir.path(), round, &acknowledged));
    }
}

/// Starts a child that appends, kills it `delay` after its first acknowledgement, and returns
/// what it acknowledged: (shard, offset, key).
fn run_child_and_kill(dir: &Path, round: usize, delay: Duration) -> Vec<(u32, u64, String)> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "stream_crash_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_ROUND, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        // A line cut by the kill has no newline: `lines` still yields it, so only lines that
        // parse whole are counted (a cut ack line was not acknowledged to anyone either).
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut acks = Vec::new();
    let parse = |line: String, acks: &mut Vec<(u32, u64, String)>| {
        let mut fields = line.split(' ');
        if fields.next() != Some("ack") {
            return;
        }
        let (Some(shard), Some(offset), Some(key), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return;
        };
        if let (Ok(shard), Ok(offset)) = (shard.parse(), offset.parse()) {
            acks.push((shard, offset, key.to_string()));
        }
    };
    // Wait for the first acknowledgement: the child is under load from then on.
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the child acknowledges a record within a minute");
        let had = acks.len();
        parse(line, &mut acks);
        if acks.len() > had {
            break;
        }
    }
    std::thread::sleep(delay);
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    for line in lines.try_iter() {
        parse(line, &mut acks);
    }
    acks
}

/// Opens the log again and checks it against what was acknowledged.
async fn check(dir: &Path, round: usize, acknowledged: &HashMap<(u32, u64), String>) {
    let env = open(dir).await;
    let mut in_log = 0;
    for shard in 0..SHARDS {
        let mut offset = 0;
        loop {
            let batch = env
                .streams
                .read("crash", ShardId(shard), offset, 10_000, 8 << 20)
                .unwrap();
            for record in &batch.records {
                assert_eq!(record.offset, offset, "round {round}: offsets have no gaps");
                assert_eq!(
                    record.data,
                    payload(&record.partition_key),
                    "round {round}: record {shard}/{offset} is whole"
                );
                if let Some(key) = acknowledged.get(&(shard, offset)) {
                    assert_eq!(
                        &record.partition_key, key,
                        "round {round}: {shard}/{offset}"
                    );
                }
                offset += 1;
            }
            if batch.records.is_empty() {
                break;
            }
        }
        in_log += offset;
        for (&(s, o), key) in acknowledged {
            assert!(
                s != shard || o < offset,
                "round {round}: acknowledged record {key} at {s}/{o} is missing (shard ends at {offset})"
            );
        }
    }
    assert!(in_log >= acknowledged.len() as u64);
}

/// The child: appends from four producers until killed, printing each acknowledged record as
/// `ack SHARD OFFSET KEY` once its put has returned (is durable).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of stream_acknowledged_records_survive_kill_9, which runs it"]
async fn stream_crash_child() {
    let dir = std::env::var(CHILD_DIR).expect("run by stream_acknowledged_records_survive_kill_9");
    let round = std::env::var(CHILD_ROUND).unwrap_or_default();
    let env = open(Path::new(&dir)).await;
    let mut producers = Vec::new();
    for producer in 0..4 {
        let streams = env.streams.clone();
        let round = round.clone();
        producers.push(tokio::spawn(async move {
            for put in 0.. {
                let batch: Vec<NewRecord> = (0..(1 + put % 60))
                    .map(|i| {
                        let key = format!("r{round}-p{producer}-{put}-{i}");
                        NewRecord {
                            data: payload(&key),
                            partition_key: key,
                            explicit_hash_key: None,
                        }
                    })
                    .collect();
                let keys: Vec<String> = batch.iter().map(|r| r.partition_key.clone()).collect();
                let results = streams.put("crash", batch).await.unwrap();
                let mut out = String::new();
                for (key, result) in keys.iter().zip(results) {
                    let appended = result.unwrap();
                    out += &format!(
                        "ack {} {} {key}\n",
                        appended.shard.0,
                        appended.sequence.record_offset().unwrap()
                    );
                }
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(out.as_bytes()).unwrap();
                stdout.flush().unwrap();
            }
        }));
    }
    for producer in producers {
        producer.await.unwrap();
    }
}
