//! The crawler's benchmark as a test: 10,000 small files across 100 partitions crawled in at most
//! 5 s on the local lake. Ignored by default (it writes 10,000 files); run it in release mode:
//!
//!     cargo test --release -p weir-lake --test crawl_bench -- --ignored --nocapture

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use serde::Serialize;

use weir_lake::error::Result;
use weir_lake::{Catalog, Lake, crawl};
use weir_model::config::LakeConfig;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run in release mode with --ignored"]
async fn crawl_ten_thousand_files_in_five_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Arc::new(Lake::open(&LakeConfig::default(), dir.path(), "us-east-1").unwrap());
    let store = weir_store::open(&format!("sqlite://{}/weir.db", dir.path().display()))
        .await
        .unwrap();
    let catalog = Catalog::new(store);
    let result = crawl_benchmark(lake, &catalog, "bench", "bench", 10_000, 100)
        .await
        .unwrap();
    println!(
        "crawl: {} files in {} partitions: written in {:.2} s, crawled in {:.2} s, re-crawled in {:.2} s",
        result.files,
        result.partitions,
        result.write_seconds,
        result.crawl_seconds,
        result.recrawl_seconds
    );
    assert_eq!((result.files_read, result.files_reread), (10_000, 0));
    assert!(
        result.crawl_seconds <= 5.0,
        "the crawl took {:.2} s",
        result.crawl_seconds
    );
}

/// Uploads at once while generating the files.
const CONCURRENT_WRITES: usize = 32;

#[derive(Debug, Clone, Serialize)]
pub struct CrawlBenchmark {
    pub files: usize,
    pub partitions: usize,
    /// Files the first crawl read (all of them) and the second (none).
    pub files_read: usize,
    pub files_reread: usize,
    pub write_seconds: f64,
    /// The first crawl: every file read.
    pub crawl_seconds: f64,
    /// A second crawl with nothing changed: every file skipped.
    pub recrawl_seconds: f64,
}

/// Writes `files` small CSV files spread over `partitions` Hive partitions under `prefix/events`
/// and crawls `prefix` into `database` twice.
pub async fn crawl_benchmark(
    lake: Arc<Lake>,
    catalog: &Catalog,
    prefix: &str,
    database: &str,
    files: usize,
    partitions: usize,
) -> Result<CrawlBenchmark> {
    let partitions = partitions.max(1);
    let started = Instant::now();
    let writes = futures::stream::iter(0..files)
        .map(|i| {
            let lake = lake.clone();
            let key = format!("{prefix}/events/day={:03}/part-{i:05}.csv", i % partitions);
            async move {
                let mut body = String::from("id,user,amount,ok\n");
                for row in 0..10 {
                    body += &format!("{},{},{}.5,{}\n", i * 10 + row, row % 7, row, row % 2 == 0);
                }
                lake.put(&key, Bytes::from(body)).await
            }
        })
        .buffer_unordered(CONCURRENT_WRITES);
    let results: Vec<Result<_>> = writes.collect().await;
    results.into_iter().collect::<Result<Vec<_>>>()?;
    let write_seconds = started.elapsed().as_secs_f64();

    let first = crawl(&lake, catalog, prefix, database, None).await?;
    let second = crawl(&lake, catalog, prefix, database, None).await?;
    Ok(CrawlBenchmark {
        files,
        files_read: first.tables.iter().map(|t| t.files_read).sum(),
        files_reread: second.tables.iter().map(|t| t.files_read).sum(),
        partitions,
        write_seconds,
        crawl_seconds: first.seconds,
        recrawl_seconds: second.seconds,
    })
}
