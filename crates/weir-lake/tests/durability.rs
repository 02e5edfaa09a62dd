//! A file that a committed manifest names is durable: on a local lake, every file weir writes is
//! fsynced (with its directories) before the write returns, so before any manifest commit that
//! names it; the crawler fsyncs files copied in by hand before committing them. The lake's sync
//! listener and a catalog that records its commits put both in one log, whose order is checked.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use datafusion::object_store::path::Path;
use weir_lake::catalog::{Table, TableFile};
use weir_lake::sql::{CatalogAccess, CatalogError, MemoryCatalog, SqlEngine};
use weir_lake::{Catalog, Lake, crawl};
use weir_model::config::LakeConfig;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Synced(String),
    Committed(Vec<String>),
}

type Log = Arc<Mutex<Vec<Event>>>;

fn push(log: &Log, event: Event) {
    log.lock().expect("log").push(event);
}

/// A local lake whose syncs go into `log`.
fn lake_logging_to(dir: &std::path::Path, log: &Log) -> Arc<Lake> {
    let lake = Arc::new(Lake::open(&LakeConfig::default(), dir, "us-east-1").expect("lake"));
    let sink = Arc::clone(log);
    let keys = Arc::clone(&lake);
    lake.set_sync_listener(Arc::new(move |path: &Path| {
        if let Some(key) = keys.key_of(path) {
            push(&sink, Event::Synced(key));
        }
    }));
    lake
}

/// The in-memory catalog, logging the files each commit names.
struct RecordingCatalog {
    inner: MemoryCatalog,
    log: Log,
}

impl RecordingCatalog {
    fn commit(&self, files: &[TableFile]) {
        push(
            &self.log,
            Event::Committed(files.iter().map(|f| f.key.clone()).collect()),
        );
    }
}

#[async_trait]
impl CatalogAccess for RecordingCatalog {
    async fn table(&self, database: &str, name: &str) -> Result<Option<Table>, CatalogError> {
        self.inner.table(database, name).await
    }
    async fn tables(&self, database: Option<&str>) -> Result<Vec<Table>, CatalogError> {
        self.inner.tables(database).await
    }
    async fn files(&self, database: &str, name: &str) -> Result<Vec<TableFile>, CatalogError> {
        self.inner.files(database, name).await
    }
    async fn create_table(&self, table: Table, files: Vec<TableFile>) -> Result<(), CatalogError> {
        self.commit(&files);
        self.inner.create_table(table, files).await
    }
    async fn add_files(
        &self,
        database: &str,
        name: &str,
        files: Vec<TableFile>,
    ) -> Result<(), CatalogError> {
        self.commit(&files);
        self.inner.add_files(database, name, files).await
    }
    async fn replace_table(
        &self,
        table: Table,
        files: Vec<TableFile>,
    ) -> Result<Vec<TableFile>, CatalogError> {
        self.commit(&files);
        self.inner.replace_table(table, files).await
    }
    async fn drop_table(&self, database: &str, name: &str) -> Result<bool, CatalogError> {
        self.inner.drop_table(database, name).await
    }
}

/// Every file a commit names was synced before that commit; returns the commits seen.
fn check_synced_before_commits(log: &Log) -> usize {
    let log = log.lock().expect("log");
    let mut commits = 0;
    for (at, event) in log.iter().enumerate() {
        let Event::Committed(files) = event else {
            continue;
        };
        commits += 1;
        assert!(!files.is_empty(), "a commit without files: {log:?}");
        for file in files {
            assert!(
                log[..at].contains(&Event::Synced(file.clone())),
                "{file} committed before it was synced: {log:?}"
            );
        }
    }
    commits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_writes_are_synced_before_their_manifest_commits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log: Log = Arc::default();
    let lake = lake_logging_to(dir.path(), &log);
    let catalog = Arc::new(RecordingCatalog {
        inner: MemoryCatalog::new(),
        log: Arc::clone(&log),
    });
    let engine = SqlEngine::for_lake(Arc::clone(&lake), catalog).expect("engine");
    for statement in [
        "CREATE TABLE shop.t PARTITIONED BY (k) AS SELECT value AS v, value % 3 AS k FROM generate_series(1, 100)",
        "INSERT INTO shop.t SELECT 7 AS v, 1 AS k",
        "CREATE OR REPLACE TABLE shop.t AS SELECT 1 AS v, 2 AS k",
    ] {
        engine.execute(statement).await.expect(statement);
    }
    assert_eq!(check_synced_before_commits(&log), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn puts_and_uploads_are_synced_before_they_return() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log: Log = Arc::default();
    let lake = lake_logging_to(dir.path(), &log);
    lake.put("a/b/small.csv", Bytes::from_static(b"x\n1\n"))
        .await
        .expect("put");
    assert_eq!(
        log.lock().expect("log").last(),
        Some(&Event::Synced("a/b/small.csv".into()))
    );
    // Larger than one upload part: written as a multipart upload.
    let source = dir.path().join("big.bin");
    std::fs::write(&source, vec![7u8; 9 << 20]).expect("source");
    lake.put_file("a/big.bin", &source).await.expect("upload");
    assert_eq!(
        log.lock().expect("log").last(),
        Some(&Event::Synced("a/big.bin".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crawler_syncs_files_copied_in_by_hand() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log: Log = Arc::default();
    let lake = lake_logging_to(dir.path(), &log);
    let folder = dir.path().join("lake/raw/orders");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(folder.join("a.csv"), "id,amount\n1,2.5\n").expect("write");
    let store = weir_store::open(&format!("sqlite://{}/weir.db", dir.path().display()))
        .await
        .expect("store");
    let report = crawl(&lake, &Catalog::new(store), "raw/", "raw", None)
        .await
        .expect("crawl");
    assert_eq!(report.tables.len(), 1, "{report:?}");
    assert!(
        log.lock()
            .expect("log")
            .contains(&Event::Synced("raw/orders/a.csv".into())),
        "{:?}",
        log.lock().expect("log")
    );
}
