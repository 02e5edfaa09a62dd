//! The `sql` action's `export`: a statement's whole result written to a lake object as it is
//! computed, never held whole. CSV and JSON lines come from [`super::export`] (the REST API's
//! renderings, so the same values), optionally gzipped a chunk at a time, and go up through
//! `Lake::put_stream` (multipart); Parquet is written batch by batch with weir's writer settings
//! and the asked compression. The object is at `PREFIX/part-00000.EXT`: a rerun replaces it, and
//! a statement that fails midway leaves nothing there.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use datafusion::parquet::arrow::AsyncArrowWriter;
use datafusion::parquet::basic::{Compression, GzipLevel, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use futures::{Stream, StreamExt};
use serde::Serialize;
use weir_model::lake_actions::{ExportCompression, ExportFormat, SqlExport};

use super::{ExportPart, SqlEngine, SqlError, export, writer_properties};
use crate::lake::{Lake, ObjectCreated};
use crate::upload::Upload;

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exported {
    pub row_count: u64,
    /// Lake keys of the objects written.
    pub objects: Vec<String>,
    pub bytes: u64,
}

/// The key of an export's object.
fn object_key(export: &SqlExport) -> String {
    let gz = match (export.format, export.compression) {
        (ExportFormat::Parquet, _) | (_, ExportCompression::None) => "",
        _ => ".gz",
    };
    format!(
        "{}/part-00000.{}{gz}",
        export.prefix.trim_matches('/'),
        export.format.extension()
    )
}

/// Runs `query` and writes its result as `export` says.
pub async fn export_to_lake(
    engine: &SqlEngine,
    lake: &Lake,
    query: &str,
    export_to: &SqlExport,
) -> Result<Exported, SqlError> {
    let key = object_key(export_to);
    let result = engine.execute_stream(query).await?;
    match export_to.format {
        ExportFormat::Parquet => write_parquet(lake, &key, result, export_to.compression).await,
        format => {
            let rendering = match format {
                ExportFormat::Csv => super::ExportFormat::Csv,
                _ => super::ExportFormat::JsonLines,
            };
            let rows = Arc::new(AtomicU64::new(0));
            let counted = rows.clone();
            let bytes = export(result, rendering, None).filter_map(move |part| {
                let counted = counted.clone();
                async move {
                    match part {
                        Ok(ExportPart::Bytes(bytes)) => Some(Ok(bytes)),
                        Ok(ExportPart::End { rows, .. }) => {
                            counted.store(rows, Ordering::Relaxed);
                            None
                        }
                        Err(e) => Some(Err(std::io::Error::other(e.to_string()))),
                    }
                }
            });
            let body: std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>> =
                match export_to.compression {
                    ExportCompression::Gzip => Box::pin(gzip(bytes)),
                    _ => Box::pin(bytes),
                };
            let written = lake
                .put_stream(&key, body)
                .await
                .map_err(|e| SqlError::new(format!("cannot export to `{key}`: {e}")))?;
            Ok(Exported {
                row_count: rows.load(Ordering::Relaxed),
                objects: vec![key],
                bytes: written.size,
            })
        }
    }
}

/// `body` gzipped as it goes: each chunk compressed as it comes, the trailer after the last.
fn gzip(
    body: impl Stream<Item = std::io::Result<Bytes>> + Send + 'static,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    futures::stream::unfold(Some((Box::pin(body), encoder)), |state| async move {
        let (mut body, mut encoder) = state?;
        match body.next().await {
            Some(Ok(chunk)) => {
                let compressed = encoder
                    .write_all(&chunk)
                    .map(|()| Bytes::from(std::mem::take(encoder.get_mut())));
                Some((compressed, Some((body, encoder))))
            }
            Some(Err(e)) => Some((Err(e), None)),
            None => Some((encoder.finish().map(Bytes::from), None)),
        }
    })
}

async fn write_parquet(
    lake: &Lake,
    key: &str,
    mut result: super::ResultStream,
    compression: ExportCompression,
) -> Result<Exported, SqlError> {
    let failed =
        |e: &dyn std::fmt::Display| SqlError::new(format!("cannot export to `{key}`: {e}"));
    let path = lake.path(key).map_err(|e| failed(&e))?;
    let codec = match compression {
        ExportCompression::None => Compression::UNCOMPRESSED,
        ExportCompression::Gzip => Compression::GZIP(GzipLevel::default()),
        ExportCompression::Snappy => Compression::SNAPPY,
        ExportCompression::Zstd => Compression::ZSTD(ZstdLevel::default()),
    };
    let properties: WriterProperties = writer_properties(&result.schema)
        .into_builder()
        .set_compression(codec)
        .build();
    // Dropped unfinished (a failing statement, a cancelled task), it aborts its upload.
    let object = Upload::new(lake.object_store(), path, None);
    let mut writer = AsyncArrowWriter::try_new(object, result.schema.clone(), Some(properties))
        .map_err(|e| failed(&e))?;
    let mut rows = 0u64;
    while let Some(batch) = result.batches.next().await {
        // An error drops the writer: its upload is aborted, so nothing appears.
        let batch = batch?;
        rows += batch.num_rows() as u64;
        writer.write(&batch).await.map_err(|e| failed(&e))?;
    }
    writer.close().await.map_err(|e| failed(&e))?;
    let size = lake.head(key).await.map_err(|e| failed(&e))?.size;
    lake.notify(ObjectCreated {
        key: key.to_string(),
        size,
        table: None,
        partition: None,
        delivery: None,
    });
    Ok(Exported {
        row_count: rows,
        objects: vec![key.to_string()],
        bytes: size,
    })
}
