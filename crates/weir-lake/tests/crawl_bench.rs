//! The crawler's benchmark as a test: 10,000 small files across 100 partitions crawled in at most
//! 5 s on the local lake. Ignored by default (it writes 10,000 files); run it in release mode:
//!
//!     cargo test --release -p weir-lake --test crawl_bench -- --ignored --nocapture

use std::sync::Arc;

use weir_lake::bench::crawl_benchmark;
use weir_lake::{Catalog, Lake};
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
