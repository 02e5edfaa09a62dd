//! Deliveries against a real lake directory and a real SQLite store, read back with SQL.

use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::{Array, Int64Array};
use serde_json::{Value, json};
use weir_model::delivery::parse_delivery;
use weir_stream::{Record, SequenceNumber, ShardId};

use super::*;
use crate::sql::SqlEngine;

struct Setup {
    dir: tempfile::TempDir,
    lake: Arc<Lake>,
    catalog: Catalog,
    sql: SqlEngine,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let lake = Arc::new(Lake::open_local(&dir.path().join("lake")).unwrap());
    let store = weir_store::open(&format!("sqlite://{}/weir.db", dir.path().display()))
        .await
        .unwrap();
    let catalog = Catalog::new(store);
    let sql = SqlEngine::for_lake(lake.clone(), Arc::new(catalog.clone())).unwrap();
    Setup {
        dir,
        lake,
        catalog,
        sql,
    }
}

fn delivery(setup: &Setup, yaml: &str, transformer: Option<Arc<dyn Transformer>>) -> Delivery {
    let spec = parse_delivery("deliveries/d.yaml", "d", yaml).unwrap();
    Delivery::new(
        spec,
        &DeliveryContext {
            lake: setup.lake.clone(),
            catalog: setup.catalog.clone(),
            transformer,
            region: "us-east-1".into(),
            account: "000000000000".into(),
        },
    )
}

fn records(shard: u32, offsets: std::ops::Range<u64>, data: impl Fn(u64) -> Value) -> Vec<Record> {
    offsets
        .map(|offset| Record {
            sequence: SequenceNumber::of_record(ShardId(shard), offset),
            offset,
            partition_key: format!("k{offset}"),
            data: Bytes::from(data(offset).to_string()),
            // 2018-08-27T10:30:00Z, a second per record.
            arrival_ms: 1_535_365_800_000 + offset as i64 * 1000,
        })
        .collect()
}

async fn count(setup: &Setup, sql: &str) -> i64 {
    let result = setup.sql.execute(sql).await.unwrap();
    let column = result.batches[0].column(0);
    column
        .as_any()
        .downcast_ref::<Int64Array>()
        .map(|a| a.value(0))
        .unwrap()
}

async fn commit(setup: &Setup, delivered: &Delivered) {
    setup
        .catalog
        .store()
        .apply(&delivered.mutations)
        .await
        .unwrap();
}

#[tokio::test]
async fn parquet_into_a_partitioned_table_becomes_visible_only_when_committed() {
    let setup = setup().await;
    let d = delivery(
        &setup,
        "format: parquet\ntable: web.clicks\nprefix: \"c=!{partitionKeyFromQuery:customer}/\"\nerror_prefix: \"errors/!{firehose:error-output-type}/\"\npartition_keys: { customer: .customer.id }\n",
        None,
    );
    let batch = records(
        0,
        0..10,
        |i| json!({"id": i, "customer": {"id": i % 2}, "page": "home"}),
    );
    let delivered = d.deliver(ShardId(0), &batch).await.unwrap();
    assert_eq!(delivered.delivered, 10);
    assert_eq!(delivered.objects.len(), 2);
    assert!(
        delivered.objects[0]
            .key
            .starts_with("web/clicks/c=0/d-2018-08-27-10-30-00-0000-")
    );
    assert_eq!(delivered.objects[0].table.as_deref(), Some("web.clicks"));
    assert_eq!(delivered.objects[0].partition.as_deref(), Some("c=0"));
    // Written but not committed: SQL sees nothing.
    assert_eq!(count(&setup, "SELECT count(*) FROM web.clicks").await, 0);

    // A retry of the same batch writes the same objects, and commits once.
    let again = d.deliver(ShardId(0), &batch).await.unwrap();
    let keys = |d: &Delivered| d.objects.iter().map(|o| o.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&again), keys(&delivered));
    commit(&setup, &again).await;
    assert_eq!(count(&setup, "SELECT count(*) FROM web.clicks").await, 10);
    assert_eq!(
        count(&setup, "SELECT count(*) FROM web.clicks WHERE c = '1'").await,
        5
    );

    // A later batch with a new field and a wider type widens the table's schema.
    let batch = records(
        0,
        10..12,
        |i| json!({"id": i as f64 + 0.5, "customer": {"id": 1}, "extra": "x"}),
    );
    let delivered = d.deliver(ShardId(0), &batch).await.unwrap();
    commit(&setup, &delivered).await;
    assert_eq!(count(&setup, "SELECT count(*) FROM web.clicks").await, 12);
    assert_eq!(
        count(&setup, "SELECT count(*) FROM web.clicks WHERE extra = 'x'").await,
        2
    );
    let table = setup.catalog.table("web", "clicks").await.unwrap().unwrap();
    let id = table.columns.iter().find(|c| c.name == "id").unwrap();
    assert_eq!(id.data_type, "Float64");
}

#[tokio::test]
async fn bad_records_go_under_the_error_prefix_with_the_reason() {
    let setup = setup().await;
    let d = delivery(&setup, "table: raw.events\n", None);
    let mut batch = records(3, 0..3, |i| json!({"n": i}));
    batch[1].data = Bytes::from_static(b"not json");
    let delivered = d.deliver(ShardId(3), &batch).await.unwrap();
    assert_eq!((delivered.delivered, delivered.failed), (2, 1));
    commit(&setup, &delivered).await;
    assert_eq!(count(&setup, "SELECT count(*) FROM raw.events").await, 2);
    let error = delivered
        .objects
        .iter()
        .find(|o| {
            o.key
                .starts_with("errors/d/format-conversion-failed/2018/08/27/10/")
        })
        .expect("an error object");
    let text = setup.lake.get(&error.key).await.unwrap();
    let line: Value = serde_json::from_slice(text.trim_ascii_end()).unwrap();
    assert_eq!(line["errorCode"], "DataFormatConversion.MalformedData");
    assert_eq!(line["rawData"], "bm90IGpzb24=");
    assert!(line["errorMessage"].as_str().unwrap().contains("not JSON"));
}

#[tokio::test]
async fn prefixes_without_a_table_get_firehose_s_default_time_folders() {
    let setup = setup().await;
    let d = delivery(&setup, "prefix: logs/\ncompression: gzip\n", None);
    let batch = records(1, 5..7, |i| json!(i));
    let delivered = d.deliver(ShardId(1), &batch).await.unwrap();
    assert!(delivered.mutations.is_empty());
    assert_eq!(
        delivered.objects[0].key,
        "logs/2018/08/27/10/d-2018-08-27-10-30-05-0001-000000000005-000000000006.json.gz"
    );
}

struct Upper;

#[async_trait::async_trait]
impl Transformer for Upper {
    async fn invoke(&self, function: &str, event: &Value) -> Result<Value, String> {
        assert_eq!(function, "shout");
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let records = event["records"].as_array().unwrap();
        let answers: Vec<Value> = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let data = b64.decode(r["data"].as_str().unwrap()).unwrap();
                let text = String::from_utf8(data).unwrap().to_uppercase();
                let result = ["Ok", "Dropped", "ProcessingFailed"][i % 3];
                json!({"recordId": r["recordId"], "result": result, "data": b64.encode(text),
                       "metadata": {"partitionKeys": {"tier": format!("t{}", i % 2)}}})
            })
            .collect();
        Ok(json!({ "records": answers }))
    }
}

#[tokio::test]
async fn the_transform_contract_is_firehose_s() {
    let setup = setup().await;
    let d = delivery(
        &setup,
        "table: t.shout\ntransform: shout\nprefix: \"tier=!{partitionKeyFromLambda:tier}/\"\nerror_prefix: \"errors/!{firehose:error-output-type}/\"\n",
        Some(Arc::new(Upper)),
    );
    let batch = records(0, 0..6, |i| json!({"word": format!("w{i}")}));
    let delivered = d.deliver(ShardId(0), &batch).await.unwrap();
    assert_eq!(
        (delivered.delivered, delivered.dropped, delivered.failed),
        (2, 2, 2)
    );
    commit(&setup, &delivered).await;
    assert_eq!(
        count(
            &setup,
            "SELECT count(*) FROM t.shout WHERE \"WORD\" = 'W0' AND tier = 't0'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &setup,
            "SELECT count(*) FROM t.shout WHERE \"WORD\" = 'W3' AND tier = 't1'"
        )
        .await,
        1
    );
    assert!(
        delivered
            .objects
            .iter()
            .any(|o| o.key.starts_with("errors/processing-failed/2018/08/27/10/"))
    );
}

/// A delivery from a 3-shard weir stream, run as a consumer group by `Deliveries`: every record
/// lands in the table once, one object per shard batch, committed with the checkpoints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_s_shards_are_delivered_through_a_consumer_group() {
    use weir_stream::{NewRecord, NewStream, StreamMode, Streams, StreamsConfig};
    let setup = setup().await;
    let store = setup.catalog.store().clone();
    let committer = weir_store::Committer::start(store.clone());
    let streams = Streams::open(
        StreamsConfig::new(
            setup.dir.path().join("streams"),
            "us-east-1",
            "000000000000",
        ),
        store.clone(),
        committer.clone(),
    )
    .await
    .unwrap();
    streams
        .create_stream(NewStream {
            name: "orders".into(),
            mode: StreamMode::Provisioned,
            shard_count: Some(3),
            tags: Vec::new(),
        })
        .await
        .unwrap();
    let records = (0..300)
        .map(|n| NewRecord {
            partition_key: format!("customer-{n}"),
            explicit_hash_key: None,
            data: Bytes::from(json!({"n": n, "customer": format!("c{}", n % 7)}).to_string()),
        })
        .collect();
    for result in streams.put("orders", records).await.unwrap() {
        result.unwrap();
    }
    let project = setup.dir.path().join("project");
    std::fs::create_dir_all(project.join("deliveries")).unwrap();
    std::fs::write(
        project.join("deliveries/orders.yaml"),
        "source: { stream: orders }\nformat: parquet\ntable: shop.orders\nbuffering: { interval: 0s }\n",
    )
    .unwrap();
    let context = DeliveryContext {
        lake: setup.lake.clone(),
        catalog: setup.catalog.clone(),
        transformer: None,
        region: "us-east-1".into(),
        account: "000000000000".into(),
    };
    let (deliveries, problems) =
        Deliveries::start(context, streams, store, committer, Some(&project), "test")
            .await
            .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let mut total = 0;
    for _ in 0..200 {
        let result = setup.sql.execute("SELECT count(*) FROM shop.orders").await;
        total = result
            .ok()
            .and_then(|r| {
                r.batches[0]
                    .column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .map(|a| a.value(0))
            })
            .unwrap_or(0);
        if total == 300 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(total, 300);
    assert_eq!(
        count(&setup, "SELECT count(DISTINCT n) FROM shop.orders").await,
        300
    );
    let info = deliveries.describe("orders").await.unwrap();
    assert_eq!(
        info.source_stream_arn.as_deref(),
        Some("arn:aws:kinesis:us-east-1:000000000000:stream/orders")
    );
    assert_eq!(info.file.as_deref(), Some("deliveries/orders.yaml"));
    deliveries.stop().await;
}
