//! The lake suite: every case is written once and runs twice, on a local lake (a temporary
//! directory) and on S3 (the moto server `scripts/moto.sh` starts; `WEIR_TEST_S3_ENDPOINT`),
//! each case under a prefix of its own. The catalog is a real SQLite store in a temporary
//! directory.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::{Float64Array, Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::object_store::ObjectStoreExt;
use datafusion::parquet::arrow::ArrowWriter;
use weir_lake::catalog::{Column, Format, Partitioning, Table, TableFile, TableStats};
use weir_lake::crawler::{TableReport, TableStatus};
use weir_lake::{Catalog, CrawlReport, Lake, LakeError, ManifestChange, crawl};
use weir_model::config::LakeConfig;

/// What a case works with.
struct Env {
    lake: Arc<Lake>,
    catalog: Catalog,
    _dir: tempfile::TempDir,
}

macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod local {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                crate::on_local(super::$case).await
            })*
        }
        mod s3 {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                crate::on_s3(super::$case).await
            })*
        }
    };
}

suite!(
    objects_put_get_list_delete,
    large_files_stream_both_ways,
    an_abandoned_upload_leaves_nothing_behind,
    keys_are_validated,
    writes_emit_object_created,
    manifests_commit_atomically,
    catalog_refuses_bad_requests,
    crawler_makes_a_table_per_folder,
    crawler_merges_schemas_and_reports_conflicts,
    crawler_finds_partitions,
    recrawls_are_incremental,
    crawler_makes_one_table_when_named,
);

async fn catalog_in(dir: &std::path::Path) -> Catalog {
    let url = format!("sqlite://{}/weir.db", dir.display());
    let store = weir_store::open(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    Catalog::new(store)
}

async fn on_local<F, Fut>(case: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temporary directory");
    let lake = Lake::open(&LakeConfig::default(), dir.path(), "us-east-1").expect("local lake");
    let catalog = catalog_in(dir.path()).await;
    case(Env {
        lake: Arc::new(lake),
        catalog,
        _dir: dir,
    })
    .await;
}

async fn on_s3<F, Fut>(case: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    let Ok(endpoint) = std::env::var("WEIR_TEST_S3_ENDPOINT") else {
        panic!(
            "WEIR_TEST_S3_ENDPOINT is not set. Start the S3-compatible test server with \
             `eval \"$(scripts/moto.sh)\"` (from the repository root; it prints the export lines), \
             then run the tests again."
        );
    };
    let bucket = std::env::var("WEIR_TEST_S3_BUCKET").unwrap_or_else(|_| "weir-test".into());
    let prefix = format!("t{:016x}", fastrand::u64(..));
    let config = LakeConfig {
        url: format!("s3://{bucket}/{prefix}"),
        endpoint,
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        allow_http: true,
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let lake = Lake::open(&config, dir.path(), "us-east-1").expect("S3 lake");
    let catalog = catalog_in(dir.path()).await;
    case(Env {
        lake: Arc::new(lake),
        catalog,
        _dir: dir,
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Helpers

async fn put(env: &Env, key: &str, body: &str) {
    env.lake
        .put(key, Bytes::from(body.to_string()))
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e}"));
}

fn keys(objects: &[weir_lake::ObjectInfo]) -> Vec<&str> {
    objects.iter().map(|o| o.key.as_str()).collect()
}

fn parquet_bytes(ids: &[i32], names: &[&str], scores: &[f64]) -> Bytes {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("score", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int32Array::from(ids.to_vec())),
            Arc::new(StringArray::from(names.to_vec())),
            Arc::new(Float64Array::from(scores.to_vec())),
        ],
    )
    .unwrap();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    Bytes::from(out)
}

fn by_name(report: &CrawlReport) -> BTreeMap<&str, &TableReport> {
    report.tables.iter().map(|t| (t.name.as_str(), t)).collect()
}

fn columns(columns: &[Column]) -> Vec<(&str, &str)> {
    columns
        .iter()
        .map(|c| (c.name.as_str(), c.data_type.as_str()))
        .collect()
}

fn table(database: &str, name: &str, location: &str) -> Table {
    Table {
        database: database.into(),
        name: name.into(),
        location: location.into(),
        format: Format::Csv,
        columns: vec![Column {
            name: "id".into(),
            data_type: "Int64".into(),
            nullable: false,
        }],
        partitioning: Partitioning::None,
        stats: TableStats::default(),
        created_at: 0,
        updated_at: 0,
    }
}

fn file(key: &str, size: i64, rows: Option<i64>) -> TableFile {
    TableFile {
        key: key.into(),
        size,
        last_modified: size * 10,
        etag: None,
        partition_values: vec![],
        row_count: rows,
    }
}

fn file_keys(files: &[TableFile]) -> Vec<&str> {
    files.iter().map(|f| f.key.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// Objects

async fn objects_put_get_list_delete(env: Env) {
    let lake = &env.lake;
    let written = lake
        .put("b/two.csv", Bytes::from_static(b"a\n2\n"))
        .await
        .unwrap();
    assert_eq!((written.key.as_str(), written.size), ("b/two.csv", 4));
    assert!(written.last_modified > 0);
    put(&env, "a.csv", "a\n1\n").await;
    put(&env, "b/c/three.csv", "a\n3\n").await;
    put(&env, "bc/four.csv", "a\n4\n").await;

    assert_eq!(
        keys(&lake.list("").await.unwrap()),
        ["a.csv", "b/c/three.csv", "b/two.csv", "bc/four.csv"]
    );
    // A prefix is a folder: `b` does not match `bc/…`.
    assert_eq!(
        keys(&lake.list("b").await.unwrap()),
        ["b/c/three.csv", "b/two.csv"]
    );
    assert_eq!(keys(&lake.list("b/").await.unwrap()).len(), 2);
    assert!(lake.list("nothing/here").await.unwrap().is_empty());

    assert_eq!(
        lake.get("b/two.csv").await.unwrap(),
        Bytes::from_static(b"a\n2\n")
    );
    assert_eq!(
        lake.get_range("b/two.csv", 2..3).await.unwrap(),
        Bytes::from_static(b"2")
    );
    let head = lake.head("b/two.csv").await.unwrap();
    assert_eq!(head.size, 4);

    // Overwrite: readers see the new object whole.
    put(&env, "b/two.csv", "a\n22\n").await;
    assert_eq!(lake.get("b/two.csv").await.unwrap().len(), 5);

    lake.delete("b/two.csv").await.unwrap();
    assert!(matches!(
        lake.get("b/two.csv").await,
        Err(LakeError::NotFound { .. })
    ));
    assert!(matches!(
        lake.head("b/two.csv").await,
        Err(LakeError::NotFound { .. })
    ));
    // Deleting what is not there is fine.
    lake.delete("b/two.csv").await.unwrap();
    assert_eq!(lake.list("").await.unwrap().len(), 3);

    // The store and URL DataFusion uses reach the same objects.
    let path = lake.path("a.csv").unwrap();
    let meta = lake.object_store().head(&path).await.unwrap();
    assert_eq!(meta.size, 4);
    assert!(lake.url().ends_with('/'));
    assert!(
        lake.url()
            .starts_with(lake.object_store_url().as_str().trim_end_matches('/'))
    );
}

async fn large_files_stream_both_ways(env: Env) {
    // Larger than one upload part, so S3 gets a multipart upload.
    let size = 9 * 1024 * 1024 + 123;
    let content: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("big.bin");
    std::fs::write(&source, &content).unwrap();
    let info = env.lake.put_file("big/big.bin", &source).await.unwrap();
    assert_eq!(info.size, size as u64);

    let target = dir.path().join("copy.bin");
    let written = env.lake.get_to_file("big/big.bin", &target).await.unwrap();
    assert_eq!(written, size as u64);
    assert!(std::fs::read(&target).unwrap() == content);
    // No partial file is left beside the target.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);

    let missing = env
        .lake
        .put_file("big/other.bin", &dir.path().join("absent"))
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("absent"), "{missing}");
    assert!(matches!(
        env.lake
            .get_to_file("big/absent.bin", &dir.path().join("x"))
            .await,
        Err(LakeError::NotFound { .. })
    ));
    assert!(!dir.path().join("x").exists());
}

/// What is left of unfinished uploads under the lake: S3 multipart uploads (listed with boto3,
/// as the e2e tests do), or staged files of a local lake.
fn unfinished_uploads(lake: &Lake) -> Vec<String> {
    if let Some(rest) = lake.url().strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let endpoint = std::env::var("WEIR_TEST_S3_ENDPOINT").expect("the S3 endpoint");
        let output = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys, boto3\n\
                 s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
                     aws_access_key_id='test', aws_secret_access_key='test')\n\
                 found = s3.list_multipart_uploads(Bucket=sys.argv[2], Prefix=sys.argv[3])\n\
                 for u in found.get('Uploads', []): print(u['Key'])\n",
                &endpoint,
                bucket,
                prefix,
            ])
            .output()
            .expect("python3 with boto3");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    } else {
        let root = url::Url::parse(lake.url())
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .expect("a local lake's directory");
        let mut files = Vec::new();
        let mut folders = vec![root];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
                if entry.path().is_dir() {
                    folders.push(entry.path());
                } else {
                    files.push(entry.path().display().to_string());
                }
            }
        }
        files
    }
}

async fn an_abandoned_upload_leaves_nothing_behind(env: Env) {
    use futures::StreamExt;
    // More than a part, then a body that never ends: the multipart upload has begun when the
    // write is dropped (as a cancelled or timed-out task drops it).
    let first = Bytes::from(vec![7u8; 9 * 1024 * 1024]);
    let body = futures::stream::iter([Ok(first)]).chain(futures::stream::pending());
    let write = env.lake.put_stream("abandoned/big.bin", Box::pin(body));
    assert!(
        tokio::time::timeout(std::time::Duration::from_secs(3), write)
            .await
            .is_err()
    );
    // The abort runs in the background once the write is dropped.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left = unfinished_uploads(&env.lake);
        if left.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "uploads left behind: {left:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(matches!(
        env.lake.head("abandoned/big.bin").await,
        Err(LakeError::NotFound { .. })
    ));
}

async fn keys_are_validated(env: Env) {
    for bad in ["../escape.csv", "/abs.csv", "a/../../b", "a//b", "", "dir/"] {
        let error = env
            .lake
            .put(bad, Bytes::from_static(b"x"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, LakeError::InvalidKey { .. }),
            "{bad:?}: {error}"
        );
        assert!(error.to_string().contains("invalid lake key"), "{error}");
    }
    assert!(matches!(
        env.lake.get("../x").await,
        Err(LakeError::InvalidKey { .. })
    ));
    assert!(matches!(
        env.lake.list("../").await,
        Err(LakeError::InvalidKey { .. })
    ));
    assert!(matches!(
        env.lake.delete("/x").await,
        Err(LakeError::InvalidKey { .. })
    ));
    assert!(env.lake.list("").await.unwrap().is_empty());
}

async fn writes_emit_object_created(env: Env) {
    let mut events = env.lake.subscribe();
    put(&env, "in/a.json", "{}\n").await;
    let event = events.recv().await.unwrap();
    assert_eq!(event.key, "in/a.json");
    assert_eq!(event.size, 3);
    assert_eq!(event.table, None);
    env.lake.notify(weir_lake::ObjectCreated {
        key: "db/t/day=1/f.parquet".into(),
        size: 10,
        table: Some("db.t".into()),
        partition: Some("day=1".into()),
        delivery: None,
    });
    let event = events.recv().await.unwrap();
    assert_eq!(event.table.as_deref(), Some("db.t"));
    assert_eq!(event.partition.as_deref(), Some("day=1"));
}

// ---------------------------------------------------------------------------------------------
// Catalog

async fn manifests_commit_atomically(env: Env) {
    let catalog = &env.catalog;
    catalog.create_database("db", Some("test")).await.unwrap();
    catalog
        .create_table(table("db", "t", "db/t"))
        .await
        .unwrap();

    // Written to the lake but not committed: not part of the table.
    put(&env, "db/t/a.csv", "id\n1\n").await;
    put(&env, "db/t/b.csv", "id\n2\n3\n").await;
    assert!(catalog.files("db", "t").await.unwrap().is_empty());

    let t = catalog
        .add_files(
            "db",
            "t",
            vec![
                file("db/t/a.csv", 5, Some(1)),
                file("db/t/b.csv", 7, Some(2)),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        t.stats,
        TableStats {
            row_count: Some(3),
            size_bytes: 12,
            file_count: 2,
            last_modified: Some(70),
        }
    );
    assert_eq!(
        catalog.table("db", "t").await.unwrap().unwrap().stats,
        t.stats
    );
    assert_eq!(
        file_keys(&catalog.files("db", "t").await.unwrap()),
        ["db/t/a.csv", "db/t/b.csv"]
    );

    // A bad file fails the whole commit: nothing of it is visible.
    let error = catalog
        .add_files(
            "db",
            "t",
            vec![
                file("db/t/c.csv", 1, Some(1)),
                file("elsewhere/d.csv", 1, None),
            ],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, LakeError::FileOutsideTable { .. }),
        "{error}"
    );
    assert_eq!(catalog.files("db", "t").await.unwrap().len(), 2);

    // Replacing swaps the whole manifest and the statistics at once.
    let t = catalog
        .replace_files("db", "t", vec![file("db/t/new.csv", 100, None)])
        .await
        .unwrap();
    assert_eq!(
        file_keys(&catalog.files("db", "t").await.unwrap()),
        ["db/t/new.csv"]
    );
    assert_eq!((t.stats.row_count, t.stats.file_count), (None, 1));

    // replace_table changes the definition too and hands back the old files.
    let mut wider = table("db", "t", "db/t");
    wider.format = Format::Parquet;
    let old = catalog
        .replace_table(wider, vec![file("db/t/x.parquet", 3, Some(9))])
        .await
        .unwrap();
    assert_eq!(file_keys(&old), ["db/t/new.csv"]);
    let t = catalog.table("db", "t").await.unwrap().unwrap();
    assert_eq!((t.format, t.stats.row_count), (Format::Parquet, Some(9)));

    // One commit edits, removes and adds.
    let t = catalog
        .commit(
            t,
            ManifestChange {
                replace: false,
                put: vec![file("db/t/y.parquet", 4, Some(1))],
                remove: vec!["db/t/x.parquet".into()],
            },
        )
        .await
        .unwrap();
    assert_eq!(t.stats.row_count, Some(1));
    assert_eq!(
        file_keys(&catalog.files("db", "t").await.unwrap()),
        ["db/t/y.parquet"]
    );

    // Dropping the table drops its manifest; its files stay in the lake.
    assert!(catalog.drop_table("db", "t").await.unwrap());
    assert!(!catalog.drop_table("db", "t").await.unwrap());
    assert!(catalog.files("db", "t").await.unwrap().is_empty());
    assert_eq!(env.lake.list("db/t").await.unwrap().len(), 2);
}

async fn catalog_refuses_bad_requests(env: Env) {
    let catalog = &env.catalog;
    for bad in ["", "1db", "my-db", "a.b"] {
        let error = catalog.create_database(bad, None).await.unwrap_err();
        assert!(
            matches!(error, LakeError::InvalidName { .. }),
            "{bad}: {error}"
        );
    }
    catalog.create_database("db", None).await.unwrap();
    assert!(matches!(
        catalog.create_database("db", None).await,
        Err(LakeError::DatabaseExists(_))
    ));
    assert!(matches!(
        catalog.create_table(table("nodb", "t", "x/t")).await,
        Err(LakeError::NoSuchDatabase(_))
    ));
    assert!(matches!(
        catalog.create_table(table("db", "bad-name", "x/t")).await,
        Err(LakeError::InvalidName { .. })
    ));
    catalog
        .create_table(table("db", "t", "data/t"))
        .await
        .unwrap();
    assert!(matches!(
        catalog.create_table(table("db", "t", "data/other")).await,
        Err(LakeError::TableExists(_))
    ));
    for overlapping in ["data/t", "data/t/inner", "data", ""] {
        let error = catalog
            .create_table(table("db", "u", overlapping))
            .await
            .unwrap_err();
        assert!(
            matches!(error, LakeError::LocationOverlap { .. }),
            "{overlapping}: {error}"
        );
    }
    catalog
        .create_table(table("db", "u", "data/tt"))
        .await
        .unwrap();
    assert!(matches!(
        catalog.add_files("db", "missing", vec![]).await,
        Err(LakeError::NoSuchTable(_))
    ));
    // A file with the wrong number of partition values.
    let mut partitioned = table("db", "p", "data/p");
    partitioned.partitioning = Partitioning::Hive {
        columns: vec![Column {
            name: "day".into(),
            data_type: "Utf8".into(),
            nullable: false,
        }],
    };
    catalog.create_table(partitioned).await.unwrap();
    assert!(matches!(
        catalog
            .add_files("db", "p", vec![file("data/p/day=1/a.csv", 1, None)])
            .await,
        Err(LakeError::PartitionMismatch { .. })
    ));

    // A database with tables is dropped only with cascade, and then with its tables.
    let error = catalog.drop_database("db", false).await.unwrap_err();
    assert!(
        matches!(error, LakeError::DatabaseNotEmpty { tables: 3, .. }),
        "{error}"
    );
    assert_eq!(catalog.tables(Some("db")).await.unwrap().len(), 3);
    assert!(catalog.drop_database("db", true).await.unwrap());
    assert!(catalog.tables(None).await.unwrap().is_empty());
    assert!(catalog.databases().await.unwrap().is_empty());
    assert!(!catalog.drop_database("db", false).await.unwrap());
}

// ---------------------------------------------------------------------------------------------
// Crawler

async fn crawler_makes_a_table_per_folder(env: Env) {
    put(
        &env,
        "raw/orders/a.csv",
        "id,item,price\n1,pen,1.5\n2,ink,2\n",
    )
    .await;
    put(&env, "raw/orders/b.csv", "id,item,price\n3,cap,0.25\n").await;
    put(&env, "raw/orders/_SUCCESS", "").await;
    put(&env, "raw/orders/.hidden.csv", "junk").await;
    put(
        &env,
        "raw/clicks/2024.jsonl",
        "{\"user\":\"u1\",\"n\":1,\"ok\":true}\n{\"user\":\"u2\",\"n\":2}\n",
    )
    .await;
    env.lake
        .put(
            "raw/Scores-2024/s.parquet",
            parquet_bytes(&[1, 2, 3], &["a", "b", "c"], &[0.5, 1.5, 2.5]),
        )
        .await
        .unwrap();
    put(&env, "raw/notes.txt", "not a table").await;
    put(&env, "raw/orders/readme.md", "ignored").await;

    let report = crawl(&env.lake, &env.catalog, "raw", "lake", None)
        .await
        .unwrap();
    let tables = by_name(&report);
    assert_eq!(
        tables.keys().copied().collect::<Vec<_>>(),
        ["clicks", "orders", "scores_2024"]
    );
    assert_eq!(report.ignored_count, 2, "{:?}", report.ignored);

    let orders = tables["orders"];
    assert_eq!(orders.status, TableStatus::Created);
    assert_eq!(orders.format, Some(Format::Csv));
    assert_eq!(orders.location, "raw/orders");
    assert_eq!(orders.files_read, 2);
    assert_eq!(
        columns(&orders.columns),
        [("id", "Int64"), ("item", "Utf8"), ("price", "Float64")]
    );
    assert_eq!(orders.stats.row_count, Some(3));
    assert!(orders.conflicts.is_empty());

    let clicks = tables["clicks"];
    assert_eq!(clicks.format, Some(Format::Json));
    assert_eq!(
        columns(&clicks.columns),
        [("user", "Utf8"), ("n", "Int64"), ("ok", "Boolean")]
    );
    assert_eq!(clicks.stats.row_count, Some(2));

    let scores = tables["scores_2024"];
    assert_eq!(scores.format, Some(Format::Parquet));
    assert_eq!(
        columns(&scores.columns),
        [("id", "Int32"), ("name", "Utf8"), ("score", "Float64")]
    );
    assert!(!scores.columns[0].nullable);
    assert_eq!(scores.stats.row_count, Some(3));

    // What the report says is what the catalog holds.
    let stored = env.catalog.table("lake", "orders").await.unwrap().unwrap();
    assert_eq!(stored.columns, orders.columns);
    assert_eq!(stored.stats.file_count, 2);
    assert_eq!(
        file_keys(&env.catalog.files("lake", "orders").await.unwrap()),
        ["raw/orders/a.csv", "raw/orders/b.csv"]
    );
    assert!(env.catalog.database("lake").await.unwrap().is_some());
}

async fn crawler_merges_schemas_and_reports_conflicts(env: Env) {
    put(&env, "m/t/a.csv", "id,amount,code\n1,10,7\n2,20,8\n").await;
    put(&env, "m/t/b.csv", "id,amount,code,extra\n3,2.5,X7,true\n").await;
    let report = crawl(&env.lake, &env.catalog, "m", "db", None)
        .await
        .unwrap();
    let t = by_name(&report)["t"];
    assert_eq!(
        columns(&t.columns),
        [
            ("id", "Int64"),
            ("amount", "Float64"),
            ("code", "Utf8"),
            ("extra", "Boolean")
        ]
    );
    assert!(
        t.columns[3].nullable,
        "a column missing from a file is nullable"
    );
    assert_eq!(t.conflicts.len(), 1, "{:?}", t.conflicts);
    let conflict = &t.conflicts[0];
    assert_eq!(conflict.column, "code");
    assert_eq!(conflict.types, ["Int64", "Utf8"]);
    assert_eq!(conflict.resolved, "Utf8");
    assert_eq!(conflict.file, "m/t/b.csv");

    // Mixed formats: the majority wins and the rest is reported.
    put(&env, "m/mixed/a.json", "{\"a\":1}\n").await;
    put(&env, "m/mixed/b.json", "{\"a\":2}\n").await;
    put(&env, "m/mixed/c.csv", "a\n3\n").await;
    put(&env, "m/broken/a.parquet", "not parquet at all").await;
    put(&env, "m/broken/b.parquet", "").await;
    let report = crawl(&env.lake, &env.catalog, "m", "db", None)
        .await
        .unwrap();
    let tables = by_name(&report);
    let mixed = tables["mixed"];
    assert_eq!(mixed.format, Some(Format::Json));
    assert_eq!(mixed.stats.file_count, 2);
    assert!(
        mixed.problems[0].contains("1 csv file(s) ignored"),
        "{:?}",
        mixed.problems
    );
    // Unreadable files are reported and left out of the manifest.
    let broken = tables["broken"];
    assert_eq!(broken.stats.file_count, 0);
    assert_eq!(broken.problems.len(), 2, "{:?}", broken.problems);
    assert!(
        broken
            .problems
            .iter()
            .any(|p| p.contains("m/broken/a.parquet"))
    );
}

async fn crawler_finds_partitions(env: Env) {
    for (day, hour, n) in [
        ("2024-01-01", 0, 1),
        ("2024-01-01", 1, 2),
        ("2024-01-02", 0, 3),
    ] {
        put(
            &env,
            &format!("p/events/day={day}/hour={hour}/part-0.json"),
            &format!("{{\"n\":{n},\"day\":\"{day}\"}}\n"),
        )
        .await;
    }
    put(&env, "p/logs/2024/01/31/23/a.csv", "level,msg\nINFO,x\n").await;
    put(
        &env,
        "p/logs/2024/02/01/00/b.csv",
        "level,msg\nWARN,y\nINFO,z\n",
    )
    .await;
    put(&env, "p/odd/a=1/x.csv", "v\n1\n").await;
    put(&env, "p/odd/b=1/y.csv", "v\n2\n").await;

    let report = crawl(&env.lake, &env.catalog, "p", "db", None)
        .await
        .unwrap();
    let tables = by_name(&report);

    let events = tables["events"];
    let Partitioning::Hive { columns: keys } = &events.partitioning else {
        panic!("events: {:?}", events.partitioning);
    };
    assert_eq!(columns(keys), [("day", "Utf8"), ("hour", "Int64")]);
    // The `day` field inside the files is the partition column, not a data column.
    assert_eq!(columns(&events.columns), [("n", "Int64")]);
    assert_eq!(events.partitions, 3);
    let files = env.catalog.files("db", "events").await.unwrap();
    assert_eq!(files[0].partition_values, ["2024-01-01", "0"]);
    assert_eq!(files[2].partition_values, ["2024-01-02", "0"]);

    let logs = tables["logs"];
    assert_eq!(
        logs.partitioning,
        Partitioning::Pattern {
            pattern: "yyyy/MM/dd/HH".into(),
            columns: ["year", "month", "day", "hour"]
                .iter()
                .map(|n| Column {
                    name: n.to_string(),
                    data_type: "Int64".into(),
                    nullable: false,
                })
                .collect(),
        }
    );
    assert_eq!(logs.partitions, 2);
    assert_eq!(logs.stats.row_count, Some(3));
    let files = env.catalog.files("db", "logs").await.unwrap();
    assert_eq!(files[1].partition_values, ["2024", "02", "01", "00"]);

    let odd = tables["odd"];
    assert_eq!(odd.partitioning, Partitioning::None);
    assert!(odd.problems[0].contains("disagree"), "{:?}", odd.problems);
    assert_eq!(odd.stats.file_count, 2);
}

async fn recrawls_are_incremental(env: Env) {
    for i in 0..5 {
        put(
            &env,
            &format!("inc/t/day={i}/f.csv"),
            &format!("id,v\n{i},1\n"),
        )
        .await;
    }
    let crawl_t = || crawl(&env.lake, &env.catalog, "inc", "db", None);
    let first = crawl_t().await.unwrap();
    assert_eq!(first.tables[0].files_read, 5);

    let second = crawl_t().await.unwrap();
    let t = &second.tables[0];
    assert_eq!(
        (t.status, t.files_read, t.files_skipped, t.files_removed),
        (TableStatus::Unchanged, 0, 5, 0)
    );

    // A new file: read alone; the others are skipped.
    put(&env, "inc/t/day=5/f.csv", "id,v\n5,1\n").await;
    let third = crawl_t().await.unwrap();
    let t = &third.tables[0];
    assert_eq!(
        (t.status, t.files_read, t.files_skipped),
        (TableStatus::Updated, 1, 5)
    );
    assert_eq!(t.stats.file_count, 6);
    assert_eq!(t.partitions, 6);

    // A changed file (same size, new content) is read again, and its new column merged.
    put(&env, "inc/t/day=2/f.csv", "id,w\n2,9\n").await;
    let fourth = crawl_t().await.unwrap();
    let t = &fourth.tables[0];
    assert_eq!((t.files_read, t.files_skipped), (1, 5));
    assert_eq!(
        columns(&t.columns),
        [("id", "Int64"), ("v", "Int64"), ("w", "Int64")]
    );

    // A deleted file leaves the manifest.
    env.lake.delete("inc/t/day=0/f.csv").await.unwrap();
    let fifth = crawl_t().await.unwrap();
    let t = &fifth.tables[0];
    assert_eq!((t.files_read, t.files_removed), (0, 1));
    assert_eq!(t.stats.file_count, 5);
    assert_eq!(env.catalog.files("db", "t").await.unwrap().len(), 5);
    assert_eq!(t.stats.row_count, Some(5));

    // Every file gone: the table stays, with an empty manifest.
    for object in env.lake.list("inc/t").await.unwrap() {
        env.lake.delete(&object.key).await.unwrap();
    }
    let sixth = crawl_t().await.unwrap();
    assert_eq!(sixth.tables.len(), 1, "{:?}", sixth.tables);
    assert_eq!(sixth.tables[0].files_removed, 5);
    let stored = env.catalog.table("db", "t").await.unwrap().unwrap();
    assert_eq!(stored.stats.file_count, 0);
}

async fn crawler_makes_one_table_when_named(env: Env) {
    put(&env, "one/a.csv", "id\n1\n").await;
    put(&env, "one/sub/b.csv", "id\n2\n").await;
    let report = crawl(&env.lake, &env.catalog, "one/", "db", Some("all_of_it"))
        .await
        .unwrap();
    assert_eq!(report.tables.len(), 1);
    let t = &report.tables[0];
    assert_eq!((t.name.as_str(), t.location.as_str()), ("all_of_it", "one"));
    assert_eq!(t.stats.file_count, 2);
    assert_eq!(t.partitioning, Partitioning::None);

    // Folder tables inside it would share its files: skipped, with the reason.
    let report = crawl(&env.lake, &env.catalog, "one", "db", None)
        .await
        .unwrap();
    let sub = by_name(&report)["sub"];
    assert_eq!(sub.status, TableStatus::Skipped);
    assert!(sub.problems[0].contains("overlaps"), "{:?}", sub.problems);
    assert!(env.catalog.table("db", "sub").await.unwrap().is_none());

    let error = crawl(&env.lake, &env.catalog, "one", "db", Some("bad-name"))
        .await
        .unwrap_err();
    assert!(matches!(error, LakeError::InvalidName { .. }), "{error}");
    let error = crawl(&env.lake, &env.catalog, "../up", "db", None)
        .await
        .unwrap_err();
    assert!(matches!(error, LakeError::InvalidKey { .. }), "{error}");
}
