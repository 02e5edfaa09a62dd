//! A rough measure of durable throughput (ignored by default; the lead's `weir bench queues`
//! is the real one): concurrent batch senders and receive-and-delete consumers on SQLite.
//! `cargo test --release -p weir-engine --lib queues::tests_throughput -- --ignored --nocapture`,
//! with `WEIR_BENCH_SENDERS`, `WEIR_BENCH_BATCHES` (of 10, per sender) and
//! `WEIR_BENCH_CONSUMERS` to change the load.

use std::collections::BTreeMap;
use std::time::Instant;

use super::tests::{env, send_ok, take, text};

/// `WEIR_BENCH_{NAME}`, or `default`.
fn setting(name: &str, default: usize) -> usize {
    std::env::var(format!("WEIR_BENCH_{name}"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, run on demand"]
async fn send_and_receive_delete_throughput() {
    let env = env().await;
    let q = env.queues.clone();
    q.create_queue("bench", BTreeMap::new(), BTreeMap::new())
        .await
        .unwrap();
    let (senders, batches, consumers) = (
        setting("SENDERS", 16),
        setting("BATCHES", 500),
        setting("CONSUMERS", 16),
    );
    let total = senders * batches * 10;
    let started = Instant::now();
    let senders: Vec<_> = (0..senders)
        .map(|s| {
            let q = q.clone();
            tokio::spawn(async move {
                for b in 0..batches {
                    let batch = (0..10)
                        .map(|i| text(&format!("message {s}-{b}-{i} {}", "x".repeat(100))))
                        .collect();
                    send_ok(&q, "bench", batch).await;
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..consumers)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move {
                let mut done = 0;
                loop {
                    let mut request = take(10, None);
                    request.wait_seconds = Some(1);
                    let got = q.receive("bench", request).await.unwrap();
                    if got.is_empty() {
                        return done;
                    }
                    done += got.len();
                    let handles = got.into_iter().map(|m| m.receipt_handle).collect();
                    q.delete("bench", handles).await.unwrap();
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    let sent_in = started.elapsed();
    let mut received = 0;
    for consumer in consumers {
        received += consumer.await.unwrap();
    }
    // The consumers' last, empty long poll is not work.
    let elapsed = started
        .elapsed()
        .saturating_sub(std::time::Duration::from_secs(1));
    println!(
        "{total} messages: sent in {sent_in:?} ({:.0}/s), sent+received+deleted in {elapsed:?} ({:.0}/s)",
        total as f64 / sent_in.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(received, total);
}
