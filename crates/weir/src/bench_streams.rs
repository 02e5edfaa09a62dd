//! `weir bench streams`: durable appends in process and over HTTP, and how long a record takes
//! from its put to a reader.
//!
//! - In process: `weir_stream::bench_append`, concurrent writers putting batches of 500 into a
//!   fresh stream, each put waiting for its fsync (group commit).
//! - Over HTTP: a real server (this executable) and a load generator here, not boto3: keep-alive
//!   connections each sending Kinesis `PutRecords` of 500 records (JSON 1.1, base64 data) in a
//!   loop for a fixed time. Each answer means the records are durable.
//! - Put to get: one record at a time, stamped with the time it was sent, read by a tailing
//!   reader (`/api/v1/streams/…/records` waiting on the shard) and by a `SubscribeToShard` event
//!   stream; the figure is the time from sending the put to the reader holding the record.
//! - Delivery into Parquet: Firehose `PutRecordBatch` of JSON records into a delivery with a 1 s
//!   buffer writing Parquet files of a catalog table, timed until SQL counts every record; and
//!   single records from their put until SQL sees them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::bench::{AwsJson as Kinesis, ServerProcess, quantile};

/// What `weir bench streams` is asked to measure.
pub struct StreamsBench {
    pub records: u64,
    pub writers: usize,
    pub http_seconds: f64,
    pub connections: usize,
    pub shards: u32,
    pub latency_records: usize,
}

pub async fn run(options: StreamsBench) -> anyhow::Result<()> {
    outln!("weir bench streams");
    let dir = tempfile::tempdir()?;
    for record_bytes in [100usize, 1024] {
        let records = if record_bytes > 100 {
            options.records / 4
        } else {
            options.records
        };
        let figures = weir_stream::bench_append(
            &dir.path().join(format!("append-{record_bytes}")),
            record_bytes,
            records,
            options.writers,
        )
        .await
        .map_err(|e| anyhow::anyhow!("in-process append: {e}"))?;
        outln!("in process, durable append: {figures}");
    }

    let project = tempfile::tempdir()?;
    std::fs::create_dir_all(project.path().join("pipelines"))?;
    // Direct puts into Parquet files of a catalog table, written once 8 MiB have gathered or a
    // second has passed.
    std::fs::create_dir_all(project.path().join("deliveries"))?;
    std::fs::write(
        project.path().join("deliveries/bench.yaml"),
        "buffering: { size: 8MiB, interval: 1s }\nformat: parquet\ncompression: snappy\ntable: bench.events\n",
    )?;
    let server = ServerProcess::start(project.path(), &[]).await?;
    let token = server
        .admin_token()
        .context("the server wrote no admin token")?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(options.connections * 2)
        .build()?;
    let kinesis = Kinesis {
        client: client.clone(),
        url: format!("{}/", server.url),
        token: token.clone(),
    };
    for record_bytes in [100usize, 1024] {
        let stream = format!("http-{record_bytes}");
        kinesis
            .call(
                "CreateStream",
                json!({ "StreamName": stream, "ShardCount": options.shards }),
            )
            .await?;
        let (records, seconds) = http_puts(&kinesis, &stream, record_bytes, &options).await?;
        outln!(
            "over HTTP, PutRecords of 500 ({} connections, {} shards): {records} records of {record_bytes} B in {seconds:.2} s: {:.0} records/s, {:.1} MB/s",
            options.connections,
            options.shards,
            records as f64 / seconds,
            records as f64 * record_bytes as f64 / seconds / 1e6
        );
    }

    kinesis
        .call(
            "CreateStream",
            json!({ "StreamName": "latency", "ShardCount": 1 }),
        )
        .await?;
    let tail = tail_latency(&kinesis, &server.url, &token, options.latency_records).await?;
    print_latency(
        "put to get, tailing reader (/api/v1/streams, waiting read)",
        &tail,
    );
    let subscribe = subscribe_latency(&kinesis, options.latency_records).await?;
    print_latency(
        "put to get, SubscribeToShard (enhanced fan-out)",
        &subscribe,
    );

    let sql = Sql {
        client: client.clone(),
        url: format!("{}/api/v1/sql", server.url),
        token: token.clone(),
    };
    delivery(&kinesis, &sql, options.http_seconds).await?;
    Ok(())
}

/// `POST /api/v1/sql` with the admin's token.
struct Sql {
    client: reqwest::Client,
    url: String,
    token: String,
}

impl Sql {
    /// The rows of `SELECT count(*) AS n FROM bench.events`, 0 while the table does not exist.
    async fn count(&self) -> anyhow::Result<u64> {
        let answer = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&json!({ "query": "SELECT count(*) AS n FROM bench.events" }))
            .send()
            .await?;
        if !answer.status().is_success() {
            return Ok(0);
        }
        let body: Value = answer.json().await?;
        Ok(body["rows"][0]["n"].as_u64().unwrap_or(0))
    }
}

/// A JSON record of the delivery benchmark, about 80 bytes.
fn delivery_record(n: usize) -> String {
    json!({ "user": format!("user-{}", n % 1000), "page": format!("/page/{}", n % 50), "ms": n, "amount": n as f64 * 0.25 })
        .to_string()
        + "\n"
}

/// Delivery into Parquet: PutRecordBatch of JSON records for `seconds`, then the time until SQL
/// counts every one (MB/s of JSON in, through Parquet files and the catalog); then single
/// records, each timed from its put until SQL counts it.
async fn delivery(firehose: &Kinesis, sql: &Sql, seconds: f64) -> anyhow::Result<()> {
    let mut json_bytes = 0u64;
    let mut records = 0u64;
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    while Instant::now() < deadline {
        let batch: Vec<String> = (0..500)
            .map(|i| delivery_record(records as usize + i))
            .collect();
        json_bytes += batch.iter().map(|r| r.len() as u64).sum::<u64>();
        let entries: Vec<Value> = batch
            .iter()
            .map(|r| json!({ "Data": BASE64.encode(r) }))
            .collect();
        let answer = firehose
            .firehose(
                "PutRecordBatch",
                json!({ "DeliveryStreamName": "bench", "Records": entries }),
            )
            .await?;
        if answer["FailedPutCount"].as_u64().unwrap_or(0) > 0 {
            bail!("PutRecordBatch refused records: {answer}");
        }
        records += 500;
    }
    let put_seconds = started.elapsed().as_secs_f64();
    let wait_until = Instant::now() + Duration::from_secs(120);
    while sql.count().await? < records {
        if Instant::now() > wait_until {
            bail!("the delivered records were not all visible in SQL within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total = started.elapsed().as_secs_f64();
    outln!(
        "delivery into Parquet (PutRecordBatch of 500, 1 s buffer): {records} JSON records, {:.1} MB, put in {put_seconds:.2} s, all visible in SQL after {total:.2} s: {:.1} MB/s, {:.0} records/s",
        json_bytes as f64 / 1e6,
        json_bytes as f64 / 1e6 / total,
        records as f64 / total
    );
    let mut visible = Vec::new();
    let mut expected = records;
    for n in 0..5 {
        let sent = Instant::now();
        firehose
            .firehose(
                "PutRecord",
                json!({ "DeliveryStreamName": "bench", "Record": { "Data": BASE64.encode(delivery_record(n)) } }),
            )
            .await?;
        expected += 1;
        while sql.count().await? < expected {
            if sent.elapsed() > Duration::from_secs(60) {
                bail!("a delivered record was not visible in SQL within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        visible.push(sent.elapsed().as_secs_f64());
    }
    visible.sort_by(f64::total_cmp);
    outln!(
        "delivery, one record from PutRecord to visible in SQL (1 s buffer interval): median {:.2} s, max {:.2} s",
        quantile(&visible, 0.5),
        visible.last().copied().unwrap_or(f64::NAN)
    );
    Ok(())
}

fn print_latency(label: &str, millis: &[f64]) {
    outln!(
        "{label}: {} records, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        millis.len(),
        quantile(millis, 0.5),
        quantile(millis, 0.99),
        millis.last().copied().unwrap_or(f64::NAN)
    );
}

/// Kinesis and Firehose calls on the bench's server.
impl Kinesis {
    fn request(&self, operation: &str, body: String) -> reqwest::RequestBuilder {
        self.request_to("Kinesis_20131202", operation, body)
    }

    async fn call(&self, operation: &str, body: Value) -> anyhow::Result<Value> {
        self.answer(operation, self.request(operation, body.to_string()))
            .await
    }

    /// A Firehose call (JSON 1.1, `Firehose_20150804.*`) on the same server.
    async fn firehose(&self, operation: &str, body: Value) -> anyhow::Result<Value> {
        self.call_to("Firehose_20150804", operation, body).await
    }
}

/// PutRecords from `connections` tasks for the configured time; records acknowledged and the
/// seconds taken.
async fn http_puts(
    kinesis: &Kinesis,
    stream: &str,
    record_bytes: usize,
    options: &StreamsBench,
) -> anyhow::Result<(u64, f64)> {
    let data = BASE64.encode(vec![b'x'; record_bytes]);
    let acknowledged = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(options.http_seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for connection in 0..options.connections {
        // Partition keys spread every connection's records over all shards.
        let records: Vec<Value> = (0..500)
            .map(|i| json!({ "Data": data, "PartitionKey": format!("{connection}-{i}") }))
            .collect();
        let body = json!({ "StreamName": stream, "Records": records }).to_string();
        let (kinesis, acknowledged) = (kinesis.clone(), acknowledged.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let answer = kinesis
                    .request("PutRecords", body.clone())
                    .send()
                    .await?
                    .error_for_status()?
                    .json::<Value>()
                    .await?;
                let failed = answer["FailedRecordCount"].as_u64().unwrap_or(0);
                acknowledged.fetch_add(500 - failed, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok((
        acknowledged.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    ))
}

/// Puts `count` records one at a time, each after the reader has the one before, and returns the
/// put-to-get times in milliseconds, sorted. `read` is the reader: a task that reports each
/// record's data (the put's index) as it gets it.
async fn measure_latency(
    kinesis: &Kinesis,
    count: usize,
    mut received: tokio::sync::mpsc::Receiver<u64>,
) -> anyhow::Result<Vec<f64>> {
    let mut millis = Vec::with_capacity(count);
    // Warm-up records (the reader's first wait, the connection) are not counted.
    let warm_up = 20;
    for index in 0..(count + warm_up) as u64 {
        let sent = Instant::now();
        kinesis
            .call(
                "PutRecord",
                json!({ "StreamName": "latency", "PartitionKey": "k", "Data": BASE64.encode(index.to_string()) }),
            )
            .await?;
        loop {
            let got = tokio::time::timeout(Duration::from_secs(10), received.recv())
                .await
                .context("the reader did not get a record within 10 s")?
                .context("the reader stopped")?;
            if got == index {
                break;
            }
        }
        if index >= warm_up as u64 {
            millis.push(sent.elapsed().as_secs_f64() * 1e3);
        }
    }
    millis.sort_by(f64::total_cmp);
    Ok(millis)
}

async fn tail_latency(
    kinesis: &Kinesis,
    url: &str,
    token: &str,
    count: usize,
) -> anyhow::Result<Vec<f64>> {
    let (found, received) = tokio::sync::mpsc::channel(1024);
    let client = kinesis.client.clone();
    let base = format!("{url}/api/v1/streams/latency/shards/shardId-000000000000/records");
    let token = token.to_string();
    let reader = tokio::spawn(async move {
        let mut from = "latest".to_string();
        loop {
            let batch: Value = client
                .get(format!("{base}?from={from}&wait_ms=5000"))
                .bearer_auth(&token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            for record in batch["records"].as_array().into_iter().flatten() {
                let index = record["data"].as_str().and_then(|d| d.parse().ok());
                if let Some(index) = index
                    && found.send(index).await.is_err()
                {
                    return anyhow::Ok(());
                }
            }
            from = format!("offset:{}", batch["next_offset"]);
        }
    });
    // The reader's first read starts at the end; give it that moment before the first put.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let millis = measure_latency(kinesis, count, received).await;
    reader.abort();
    millis
}

async fn subscribe_latency(kinesis: &Kinesis, count: usize) -> anyhow::Result<Vec<f64>> {
    let described = kinesis
        .call("DescribeStreamSummary", json!({ "StreamName": "latency" }))
        .await?;
    let stream_arn = described["StreamDescriptionSummary"]["StreamARN"]
        .as_str()
        .context("no StreamARN")?
        .to_string();
    let consumer = kinesis
        .call(
            "RegisterStreamConsumer",
            json!({ "StreamARN": stream_arn, "ConsumerName": "bench" }),
        )
        .await?;
    let consumer_arn = consumer["Consumer"]["ConsumerARN"]
        .as_str()
        .context("no ConsumerARN")?
        .to_string();
    let (found, received) = tokio::sync::mpsc::channel(1024);
    let subscribe = json!({
        "ConsumerARN": consumer_arn,
        "ShardId": "shardId-000000000000",
        "StartingPosition": { "Type": "LATEST" },
    });
    let answer = kinesis
        .request("SubscribeToShard", subscribe.to_string())
        .send()
        .await?
        .error_for_status()?;
    let reader = tokio::spawn(async move {
        let mut body = answer.bytes_stream();
        let mut buffer: Vec<u8> = Vec::new();
        while let Some(chunk) = body.next().await {
            buffer.extend_from_slice(&chunk?);
            while let Some((payload, used)) = event_payload(&buffer) {
                if let Ok(event) = serde_json::from_slice::<Value>(payload) {
                    for record in event["Records"].as_array().into_iter().flatten() {
                        let index = record["Data"]
                            .as_str()
                            .and_then(|d| BASE64.decode(d).ok())
                            .and_then(|d| String::from_utf8(d).ok())
                            .and_then(|d| d.parse().ok());
                        if let Some(index) = index
                            && found.send(index).await.is_err()
                        {
                            return anyhow::Ok(());
                        }
                    }
                }
                buffer.drain(..used);
            }
        }
        anyhow::Ok(())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let millis = measure_latency(kinesis, count, received).await;
    reader.abort();
    millis
}

/// The payload of the event-stream message at the start of `buffer` and the message's length,
/// once the whole message is there (prelude: total length, headers length, CRC; then headers,
/// payload, CRC).
fn event_payload(buffer: &[u8]) -> Option<(&[u8], usize)> {
    let total = u32::from_be_bytes(buffer.get(0..4)?.try_into().ok()?) as usize;
    let headers = u32::from_be_bytes(buffer.get(4..8)?.try_into().ok()?) as usize;
    if buffer.len() < total || total < 16 + headers {
        return None;
    }
    Some((&buffer[12 + headers..total - 4], total))
}
