//! The crawler's benchmark (`weir bench lake`): write many small files across partitions, crawl
//! them, crawl again (incremental: nothing to read), and report the times.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use serde::Serialize;

use crate::catalog_store::Catalog;
use crate::crawler::crawl;
use crate::error::Result;
use crate::lake::Lake;

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
