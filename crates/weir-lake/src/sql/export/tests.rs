//! Exports rendered ahead on other workers: the same bytes, in the same order, as rendering one
//! batch after another; the row limit, errors and stopping the statement as before.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use futures::StreamExt;

use super::{ExportFormat, ExportPart, IndependentRendering, csv, export, json_lines};
use crate::sql::{ResultStream, SqlError};

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("score", DataType::Float64, true),
    ]))
}

/// `rows` rows numbered from `first`.
fn batch(first: i64, rows: usize) -> RecordBatch {
    let ids: Vec<i64> = (first..first + rows as i64).collect();
    let names: Vec<Option<String>> = ids
        .iter()
        .map(|i| (i % 7 != 0).then(|| format!("n\"{i}\u{e9}")))
        .collect();
    let scores: Vec<Option<f64>> = ids
        .iter()
        .map(|i| (i % 5 != 0).then_some(*i as f64 / 3.0))
        .collect();
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(StringArray::from(names)),
            Arc::new(Float64Array::from(scores)),
        ],
    )
    .unwrap()
}

/// Batches of varied lengths (some empty, some below the render-elsewhere size).
fn batches() -> Vec<RecordBatch> {
    let lengths = [3000, 0, 1500, 10, 4096, 0, 1, 2048, 999, 5000, 1024, 7];
    let mut first = 0;
    lengths
        .iter()
        .map(|&n| {
            let b = batch(first, n);
            first += n as i64;
            b
        })
        .collect()
}

/// `batches` as a statement's successful items.
fn ok(batches: &[RecordBatch]) -> Vec<Result<RecordBatch, SqlError>> {
    batches.iter().cloned().map(Ok).collect()
}

/// What a test statement saw: how many items were taken from it, and whether it was let go.
#[derive(Default)]
struct Statement {
    pulled: AtomicUsize,
    dropped: AtomicBool,
}

/// A result of `items`, then (when `hang`) a statement that never answers again.
fn result(
    items: Vec<Result<RecordBatch, SqlError>>,
    seen: Arc<Statement>,
    hang: bool,
) -> ResultStream {
    struct OnDrop(Arc<Statement>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.dropped.store(true, Ordering::SeqCst);
        }
    }
    let guard = OnDrop(seen);
    let rest = if hang {
        futures::stream::pending().boxed()
    } else {
        futures::stream::empty().boxed()
    };
    let batches = futures::stream::iter(items).chain(rest).map(move |item| {
        guard.0.pulled.fetch_add(1, Ordering::SeqCst);
        item
    });
    ResultStream {
        schema: schema(),
        batches: batches.boxed(),
    }
}

/// An export read to its end.
struct Read {
    bytes: Vec<u8>,
    end: Option<(u64, bool)>,
    error: Option<String>,
    /// Whether the statement had been let go when the end (or error) arrived.
    stopped_at_end: bool,
    pulled: usize,
}

/// Every part of an export: its bytes joined, its end, and the error that stopped it.
async fn read(
    items: Vec<Result<RecordBatch, SqlError>>,
    format: ExportFormat,
    max_rows: Option<u64>,
) -> Read {
    let seen = Arc::new(Statement::default());
    let mut parts = export(result(items, Arc::clone(&seen), false), format, max_rows);
    let (mut bytes, mut end, mut error, mut stopped_at_end) = (Vec::new(), None, None, false);
    while let Some(part) = parts.next().await {
        match part {
            Ok(ExportPart::Bytes(b)) => {
                assert!(end.is_none() && error.is_none(), "bytes after the end");
                bytes.extend_from_slice(&b);
            }
            Ok(ExportPart::End { rows, truncated }) => end = Some((rows, truncated)),
            Err(e) => error = Some(e.message),
        }
        if end.is_some() || error.is_some() {
            stopped_at_end |= seen.dropped.load(Ordering::SeqCst);
        }
    }
    Read {
        bytes,
        end,
        error,
        stopped_at_end,
        pulled: seen.pulled.load(Ordering::SeqCst),
    }
}

async fn collect(
    items: Vec<Result<RecordBatch, SqlError>>,
    format: ExportFormat,
    max_rows: Option<u64>,
) -> (Vec<u8>, Option<(u64, bool)>, Option<String>, bool) {
    let r = read(items, format, max_rows).await;
    (r.bytes, r.end, r.error, r.stopped_at_end)
}

fn sequential_json(batches: &[RecordBatch]) -> Vec<u8> {
    let names: Vec<Vec<u8>> = ["\"id\"", "\"name\"", "\"score\""]
        .iter()
        .map(|n| n.as_bytes().to_vec())
        .collect();
    batches
        .iter()
        .flat_map(|b| json_lines(&names, b).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_rendered_ahead_equal_rendering_in_order() {
    let all = batches();
    let total: usize = all.iter().map(RecordBatch::num_rows).sum();
    let (bytes, end, error, _) = collect(ok(&all), ExportFormat::JsonLines, None).await;
    assert_eq!(error, None);
    assert_eq!(end, Some((total as u64, false)));
    assert_eq!(bytes, sequential_json(&all));
    let text = String::from_utf8(bytes.clone()).unwrap();
    let first: Vec<&str> = text.lines().take(4).collect();
    assert_eq!(
        first,
        [
            r#"{"id":0,"name":null,"score":null}"#,
            r#"{"id":1,"name":"n\"1é","score":0.3333333333333333}"#,
            r#"{"id":2,"name":"n\"2é","score":0.6666666666666666}"#,
            r#"{"id":3,"name":"n\"3é","score":1.0}"#,
        ]
    );
    // Rows in the result's order, each once.
    let ids: Vec<i64> = String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, (0..total as i64).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_has_one_header_then_the_rows_in_order() {
    let all = batches();
    let (bytes, end, _, _) = collect(ok(&all), ExportFormat::Csv, None).await;
    let plain = schema();
    let mut expected = csv(&plain, &RecordBatch::new_empty(plain.clone()), true).unwrap();
    for b in &all {
        expected.extend(csv(&plain, b, false).unwrap());
    }
    assert_eq!(bytes, expected);
    let text = String::from_utf8(bytes).unwrap();
    let first: Vec<&str> = text.lines().take(3).collect();
    assert_eq!(
        first,
        ["id,name,score", "0,,", "1,\"n\"\"1é\",0.3333333333333333"]
    );
    assert_eq!(text.matches("id,name,score").count(), 1);
    assert_eq!(
        end.map(|e| e.0),
        Some(all.iter().map(|b| b.num_rows() as u64).sum())
    );

    // No rows: the header alone.
    let (bytes, end, _, _) = collect(vec![Ok(batch(0, 0))], ExportFormat::Csv, None).await;
    assert_eq!(String::from_utf8(bytes).unwrap(), "id,name,score\n");
    assert_eq!(end, Some((0, false)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrow_stream_reads_back_every_row() {
    let all = batches();
    let (bytes, end, _, _) = collect(ok(&all), ExportFormat::ArrowIpc, None).await;
    let reader =
        datafusion::arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
            .unwrap();
    let read: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let rows: usize = read.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(Some((rows as u64, false)), end);
    let non_empty: Vec<&RecordBatch> = all.iter().filter(|b| b.num_rows() > 0).collect();
    assert_eq!(read.len(), non_empty.len());
    for (r, b) in read.iter().zip(non_empty) {
        assert_eq!(r, b);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_row_limit_cuts_stops_the_statement_and_says_so() {
    let all = batches();
    let total: u64 = all.iter().map(|b| b.num_rows() as u64).sum();
    let items = || ok(&all);

    // Inside a batch: the statement is not asked for more.
    let cut = read(items(), ExportFormat::JsonLines, Some(4000)).await;
    assert_eq!(cut.end, Some((4000, true)));
    assert_eq!(cut.bytes.iter().filter(|&&b| b == b'\n').count(), 4000);
    assert!(
        cut.stopped_at_end,
        "the statement is let go once the limit is passed"
    );
    assert_eq!(cut.pulled, 3);
    let kept: Vec<RecordBatch> = vec![all[0].clone(), all[2].slice(0, 1000)];
    assert_eq!(cut.bytes, sequential_json(&kept));

    // At a batch's end with more rows after it: one more batch is looked for, no further.
    let at_end = read(items(), ExportFormat::JsonLines, Some(4500)).await;
    assert_eq!(at_end.end, Some((4500, true)));
    assert_eq!(at_end.pulled, 4);
    assert!(at_end.stopped_at_end);

    // Exactly every row: nothing left out.
    let (_, end, _, _) = collect(items(), ExportFormat::JsonLines, Some(total)).await;
    assert_eq!(end, Some((total, false)));

    // Zero rows allowed.
    let (bytes, end, _, _) = collect(items(), ExportFormat::Csv, Some(0)).await;
    assert_eq!(end, Some((0, true)));
    assert_eq!(String::from_utf8(bytes).unwrap(), "id,name,score\n");

    // Arrow cut: still a whole stream, with the rows kept.
    let (bytes, end, _, _) = collect(items(), ExportFormat::ArrowIpc, Some(3100)).await;
    assert_eq!(end, Some((3100, true)));
    let reader =
        datafusion::arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
            .unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 3100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_rows_in_json_lines_is_no_bytes() {
    let (bytes, end, error, _) =
        collect(vec![Ok(batch(0, 0))], ExportFormat::JsonLines, None).await;
    assert!(bytes.is_empty());
    assert_eq!((end, error), (Some((0, false)), None));
}

/// On a runtime with one thread, renders queue behind the reader and still come in order.
#[tokio::test]
async fn a_single_threaded_runtime_renders_everything_in_order() {
    let all = batches();
    let (bytes, end, _, _) = collect(ok(&all), ExportFormat::JsonLines, None).await;
    assert_eq!(bytes, sequential_json(&all));
    assert_eq!(end.map(|e| e.1), Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_goes_away_stops_the_statement() {
    let seen = Arc::new(Statement::default());
    let items = batches().into_iter().take(3).map(Ok).collect();
    let mut parts = export(
        result(items, Arc::clone(&seen), true),
        ExportFormat::JsonLines,
        None,
    );
    let first = parts.next().await;
    assert!(matches!(first, Some(Ok(ExportPart::Bytes(_)))));
    assert!(!seen.dropped.load(Ordering::SeqCst));
    drop(parts);
    assert!(seen.dropped.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_comes_after_the_rows_before_it_and_ends_the_export() {
    let all = batches();
    let mut items = ok(&all[..4]);
    items.push(Err(SqlError::new("division by zero")));
    items.push(Ok(all[4].clone()));
    let (bytes, end, error, dropped) = collect(items, ExportFormat::JsonLines, None).await;
    assert_eq!(bytes, sequential_json(&all[..4]));
    assert_eq!(end, None);
    assert_eq!(error.as_deref(), Some("division by zero"));
    assert!(dropped);

    // Failing before the first row: no byte at all.
    let items = vec![Err(SqlError::new("no such table")), Ok(all[0].clone())];
    for format in [
        ExportFormat::Csv,
        ExportFormat::JsonLines,
        ExportFormat::ArrowIpc,
    ] {
        let (bytes, end, error, _) = collect(items.clone(), format, None).await;
        assert!(bytes.is_empty(), "{format:?}");
        assert_eq!((end, error.as_deref()), (None, Some("no such table")));
    }
}

#[test]
fn without_a_runtime_batches_render_in_place() {
    let rendering = Arc::new(IndependentRendering::CsvRows { schema: schema() });
    let big = batch(0, 4096);
    let piece = futures::executor::block_on(Arc::clone(&rendering).render_elsewhere(big.clone()));
    match piece {
        Ok(super::Piece::Rendered(bytes)) => {
            assert_eq!(bytes, csv(&schema(), &big, false).unwrap())
        }
        _ => panic!("not rendered"),
    }
}
