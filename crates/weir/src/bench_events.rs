//! `weir bench events`: how fast the bus matches, how soon a put event reaches its target, and
//! how many messages a second queues take durably.
//!
//! - Matching: 1,000 rules of mixed operators (exact, prefix, suffix, numeric ranges, exists,
//!   anything-but, wildcard, `$or`, …) compiled into one `Matcher`, and events that match a few
//!   of them each, matched on one thread for a fixed time: events per second per core.
//! - PutEvents to target: a real server (this executable) with a rule whose target is a queue; a
//!   long-polling ReceiveMessage waits while one PutEvents is sent, and the figure is the time
//!   from sending the put to the receive holding the message (so it includes the bus's durable
//!   append, matching, the target's durable send and the receive's wake-up).
//! - Queues: keep-alive connections sending SendMessageBatch of 10 messages of 100 B for a fixed
//!   time, then as many receiving (ReceiveMessage of 10) and deleting (DeleteMessageBatch) until
//!   the queue is empty; every answer means the change is committed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use weir_model::events::pattern::{FlatEvent, Matcher, bench as patterns};

use crate::bench::{AwsJson as Aws, ServerProcess, quantile};

/// What `weir bench events` is asked to measure.
pub struct EventsBench {
    pub rules: usize,
    pub match_seconds: f64,
    pub latency_events: usize,
    pub queue_seconds: f64,
    pub connections: usize,
}

pub async fn run(options: EventsBench) -> anyhow::Result<()> {
    outln!("weir bench events");
    matching(options.rules, options.match_seconds);

    let project = tempfile::tempdir()?;
    std::fs::create_dir_all(project.path().join("rules"))?;
    std::fs::write(
        project.path().join("rules/bench.yaml"),
        "pattern: {source: [bench]}\ntargets:\n  - queue: bench-target\n",
    )?;
    let server = ServerProcess::start(project.path(), &[]).await?;
    let token = server
        .admin_token()
        .context("the server wrote no admin token")?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(options.connections * 2)
        .build()?;
    let aws = Aws {
        client,
        url: format!("{}/", server.url),
        token,
    };
    put_to_target(&aws, options.latency_events).await?;
    queues(&aws, options.queue_seconds, options.connections).await?;
    Ok(())
}

/// Events matched per second on this thread against `rules` mixed rules.
fn matching(rules: usize, seconds: f64) {
    let compiled = patterns::mixed_rules(rules);
    let events = patterns::sample_events(10_000, rules);
    let matcher = Matcher::new(compiled);
    let mut matched = 0usize;
    let mut count = 0u64;
    let start = Instant::now();
    let budget = Duration::from_secs_f64(seconds);
    while start.elapsed() < budget {
        for event in &events {
            matched += matcher.matches(event).len();
            count += 1;
        }
    }
    let per_second = count as f64 / start.elapsed().as_secs_f64();
    outln!(
        "matching, {rules} rules of mixed operators, one core: {per_second:.0} events/s ({:.2} rules matched per event)",
        matched as f64 / count as f64
    );
    // An event matched many times is flattened once (what a bus does for its rules).
    let flat: Vec<FlatEvent> = events.iter().map(FlatEvent::new).collect();
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < budget {
        for event in &flat {
            std::hint::black_box(matcher.matches_flat(event));
            count += 1;
        }
    }
    let per_second = count as f64 / start.elapsed().as_secs_f64();
    outln!("matching an event already flattened, one core: {per_second:.0} events/s");
}

/// From PutEvents sent to the message received on the rule's target queue.
async fn put_to_target(aws: &Aws, events: usize) -> anyhow::Result<()> {
    let queue = aws
        .call_to(
            "AmazonSQS",
            "CreateQueue",
            json!({ "QueueName": "bench-target" }),
        )
        .await?;
    let url = queue["QueueUrl"].as_str().unwrap_or_default().to_string();
    let mut millis = Vec::with_capacity(events);
    for i in 0..events {
        let receiver = {
            let aws = aws.clone();
            let url = url.clone();
            tokio::spawn(async move {
                aws.call_to(
                    "AmazonSQS",
                    "ReceiveMessage",
                    json!({ "QueueUrl": url, "MaxNumberOfMessages": 1, "WaitTimeSeconds": 20 }),
                )
                .await
                .map(|answer| (answer, Instant::now()))
            })
        };
        // Let the receive reach the server and wait there before the event is put.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let sent = Instant::now();
        let entry = json!({ "Source": "bench", "DetailType": "tick", "Detail": json!({ "i": i }).to_string() });
        let put = aws
            .call_to("AWSEvents", "PutEvents", json!({ "Entries": [entry] }))
            .await?;
        if put["FailedEntryCount"] != 0 {
            bail!("PutEvents failed: {put}");
        }
        let (answer, received) = receiver.await??;
        let Some(message) = answer["Messages"].as_array().and_then(|m| m.first()) else {
            bail!("the target queue got nothing within 20 s");
        };
        millis.push(received.duration_since(sent).as_secs_f64() * 1000.0);
        aws.call_to(
            "AmazonSQS",
            "DeleteMessage",
            json!({ "QueueUrl": url, "ReceiptHandle": message["ReceiptHandle"] }),
        )
        .await?;
    }
    millis.sort_by(f64::total_cmp);
    outln!(
        "PutEvents to a queue target received, {events} events one at a time: median {:.2} ms, p99 {:.2} ms",
        quantile(&millis, 0.5),
        quantile(&millis, 0.99)
    );
    Ok(())
}

/// Durable sends, then receive-and-delete, in messages per second.
async fn queues(aws: &Aws, seconds: f64, connections: usize) -> anyhow::Result<()> {
    let queue = aws
        .call_to(
            "AmazonSQS",
            "CreateQueue",
            json!({ "QueueName": "bench-load" }),
        )
        .await?;
    let url = Arc::new(queue["QueueUrl"].as_str().unwrap_or_default().to_string());
    let body = "x".repeat(100);
    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..connections {
        let (aws, url, body, sent, stop) = (
            aws.clone(),
            url.clone(),
            body.clone(),
            sent.clone(),
            stop.clone(),
        );
        senders.push(tokio::spawn(async move {
            let entries: Vec<Value> = (0..10)
                .map(|i| json!({ "Id": format!("m{i}"), "MessageBody": body }))
                .collect();
            let request = json!({ "QueueUrl": *url, "Entries": entries });
            while !stop.load(Ordering::Relaxed) {
                let answer = aws
                    .call_to("AmazonSQS", "SendMessageBatch", request.clone())
                    .await?;
                let ok = answer["Successful"].as_array().map_or(0, Vec::len);
                sent.fetch_add(ok as u64, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.await??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let total = sent.load(Ordering::Relaxed);
    outln!(
        "queue SendMessageBatch of 10 x 100 B, {connections} connections: {:.0} messages/s ({total} in {elapsed:.1} s)",
        total as f64 / elapsed
    );

    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut consumers = Vec::new();
    for _ in 0..connections {
        let (aws, url, done) = (aws.clone(), url.clone(), done.clone());
        consumers.push(tokio::spawn(async move {
            loop {
                let answer = aws
                    .call_to(
                        "AmazonSQS",
                        "ReceiveMessage",
                        json!({ "QueueUrl": *url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1 }),
                    )
                    .await?;
                let messages = answer["Messages"].as_array().cloned().unwrap_or_default();
                if messages.is_empty() {
                    return anyhow::Ok(());
                }
                let entries: Vec<Value> = messages
                    .iter()
                    .enumerate()
                    .map(|(i, m)| json!({ "Id": format!("m{i}"), "ReceiptHandle": m["ReceiptHandle"] }))
                    .collect();
                let deleted = aws
                    .call_to(
                        "AmazonSQS",
                        "DeleteMessageBatch",
                        json!({ "QueueUrl": *url, "Entries": entries }),
                    )
                    .await?;
                let ok = deleted["Successful"].as_array().map_or(0, Vec::len);
                done.fetch_add(ok as u64, Ordering::Relaxed);
            }
        }));
    }
    for consumer in consumers {
        consumer.await??;
    }
    // The last empty long poll of each consumer is not work: leave its second out.
    let elapsed = (start.elapsed().as_secs_f64() - 1.0).max(0.001);
    let total = done.load(Ordering::Relaxed);
    outln!(
        "queue ReceiveMessage of 10 then DeleteMessageBatch, {connections} connections: {:.0} messages/s ({total} of {} sent)",
        total as f64 / elapsed,
        sent.load(Ordering::Relaxed)
    );
    Ok(())
}
