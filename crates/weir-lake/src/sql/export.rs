//! A streamed result rendered as CSV, JSON lines or Arrow IPC, a batch at a time: memory stays at
//! a few batches whatever the result's size, and the first bytes leave as soon as the first batch
//! is computed. JSON lines hold the same values as the REST API's JSON rows; CSV and Arrow carry
//! dictionary-encoded columns as their plain values.
//!
//! Rendering text costs about as much as computing a large result, so CSV and JSON lines, whose
//! batches render independently, render several batches at once on the runtime's workers while
//! the statement computes the next ones; the parts still leave in the result's order. Arrow's
//! stream is stateful and renders in order on the reading task.

use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    StringViewArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::ipc::writer::StreamWriter;
use futures::StreamExt;
use futures::stream::BoxStream;

use super::limits::panic_error;
use super::result::decode_dictionary;
use super::stream::ResultStream;
use super::{SqlError, json_value};

/// How a streamed result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// RFC 4180 CSV with a header line.
    Csv,
    /// One JSON object per row and line, keyed by column name.
    JsonLines,
    /// The Arrow IPC streaming format.
    ArrowIpc,
}

/// A piece of an export: bytes to send, then once at the end what was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportPart {
    Bytes(Bytes),
    /// Rows written; `truncated` when the row limit left some out.
    End {
        rows: u64,
        truncated: bool,
    },
}

/// Batches of at least this many rows render on another worker; a shorter one renders in place,
/// where it costs less than the hop.
const RENDER_ELSEWHERE_ROWS: usize = 1024;

/// Batches rendering on other workers, in all exports of the process at once: one per core, so
/// exports never crowd out the statements computing them; past it, a batch renders in place.
fn render_permits() -> &'static Arc<tokio::sync::Semaphore> {
    static PERMITS: std::sync::OnceLock<Arc<tokio::sync::Semaphore>> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| Arc::new(tokio::sync::Semaphore::new(cores())))
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Renders `result` in `format`, at most `max_rows` rows (all when `None`). The first part
/// comes once the first batch is computed, so a statement that fails early fails before any
/// byte is sent. Past the limit, one more row is looked for (to say whether rows were left
/// out) and the statement is then stopped.
pub fn export(
    result: ResultStream,
    format: ExportFormat,
    max_rows: Option<u64>,
) -> BoxStream<'static, Result<ExportPart, SqlError>> {
    let encoder = Encoder::new(format, &result.schema);
    let pieces = limit_rows(result.batches, max_rows);
    let pieces = match encoder.independent() {
        Some(rendering) => render_ahead(pieces, rendering),
        None => pieces,
    };
    let assembly = Assembly {
        pieces,
        encoder,
        started: false,
        end: None,
        done: false,
    };
    futures::stream::unfold(assembly, |mut assembly| async move {
        match assembly.step().await {
            Ok(Some(part)) => Some((Ok(part), assembly)),
            Ok(None) => None,
            Err(error) => {
                // Let go of the statement and any rendering now, not when the reader drops us.
                assembly.done = true;
                assembly.pieces = futures::stream::empty().boxed();
                Some((Err(error), assembly))
            }
        }
    })
    .boxed()
}

/// What flows from the statement to the bytes: rows still to render, rendered rows, and once
/// at the end what was sent.
enum Piece {
    Rows(RecordBatch),
    Rendered(Vec<u8>),
    End { rows: u64, truncated: bool },
}

type Pieces = BoxStream<'static, Result<Piece, SqlError>>;

/// The non-empty batches of `batches`, cut to `max_rows` rows, then the [`Piece::End`]. The
/// statement is dropped (so stopped) once the limit is passed or it fails.
fn limit_rows(
    batches: BoxStream<'static, Result<RecordBatch, SqlError>>,
    max_rows: Option<u64>,
) -> Pieces {
    struct Limit {
        batches: Option<BoxStream<'static, Result<RecordBatch, SqlError>>>,
        rows: u64,
        /// Set when the last batch was cut: the end comes next.
        cut: bool,
    }
    let limit = Limit {
        batches: Some(batches),
        rows: 0,
        cut: false,
    };
    futures::stream::unfold(limit, move |mut limit| async move {
        let end = |limit: &mut Limit, truncated: bool| {
            limit.batches = None;
            Piece::End {
                rows: limit.rows,
                truncated,
            }
        };
        if limit.cut {
            limit.cut = false;
            return Some((Ok(end(&mut limit, true)), limit));
        }
        let batches = limit.batches.as_mut()?;
        loop {
            let room = max_rows.map_or(u64::MAX, |m| m.saturating_sub(limit.rows));
            let batch = match batches.next().await {
                Some(Ok(batch)) if batch.num_rows() == 0 => continue,
                Some(Ok(_)) if room == 0 => return Some((Ok(end(&mut limit, true)), limit)),
                Some(Ok(batch)) => batch,
                Some(Err(error)) => {
                    limit.batches = None;
                    return Some((Err(error), limit));
                }
                None => return Some((Ok(end(&mut limit, false)), limit)),
            };
            let batch = if (batch.num_rows() as u64) > room {
                // Cut: the statement stops now; the end follows these rows.
                limit.cut = true;
                limit.batches = None;
                batch.slice(0, room as usize)
            } else {
                batch
            };
            limit.rows += batch.num_rows() as u64;
            return Some((Ok(Piece::Rows(batch)), limit));
        }
    })
    .boxed()
}

/// `pieces` with their rows rendered by `rendering`, several batches at once (one per core, at
/// least two), in order.
fn render_ahead(pieces: Pieces, rendering: Arc<IndependentRendering>) -> Pieces {
    let at_once = cores().clamp(2, 8);
    pieces
        .map(move |piece| {
            let rendering = Arc::clone(&rendering);
            async move {
                match piece? {
                    Piece::Rows(batch) => rendering.render_elsewhere(batch).await,
                    other => Ok(other),
                }
            }
        })
        .buffered(at_once)
        .boxed()
}

/// Puts the pieces together into parts: what goes first, the rows, what goes last, the end.
struct Assembly {
    pieces: Pieces,
    encoder: Encoder,
    /// The header (or schema) went out.
    started: bool,
    /// Set once the last bytes went out: the part that ends the export.
    end: Option<ExportPart>,
    done: bool,
}

impl Assembly {
    /// The next part, or `None` after the end.
    async fn step(&mut self) -> Result<Option<ExportPart>, SqlError> {
        if self.done {
            return Ok(None);
        }
        if let Some(end) = self.end.take() {
            self.done = true;
            return Ok(Some(end));
        }
        let piece = self.pieces.next().await.transpose()?;
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            out = self.encoder.start()?;
        }
        match piece {
            Some(Piece::Rows(batch)) => {
                out.extend(self.encoder.batch(&batch)?);
                Ok(Some(ExportPart::Bytes(Bytes::from(out))))
            }
            Some(Piece::Rendered(bytes)) => {
                if out.is_empty() {
                    out = bytes;
                } else {
                    out.extend(bytes);
                }
                Ok(Some(ExportPart::Bytes(Bytes::from(out))))
            }
            Some(Piece::End { rows, truncated }) => {
                out.extend(self.encoder.finish()?);
                let end = ExportPart::End { rows, truncated };
                if out.is_empty() {
                    self.done = true;
                    return Ok(Some(end));
                }
                self.end = Some(end);
                Ok(Some(ExportPart::Bytes(Bytes::from(out))))
            }
            // `limit_rows` always ends with its end or an error.
            None => Err(failed("the result ended without its end")),
        }
    }
}

/// A rendering whose batches render independently of each other (no header, no state).
enum IndependentRendering {
    JsonLines { names: Vec<Vec<u8>> },
    CsvRows { schema: SchemaRef },
}

impl IndependentRendering {
    fn render(&self, batch: &RecordBatch) -> Result<Vec<u8>, SqlError> {
        match self {
            IndependentRendering::JsonLines { names } => json_lines(names, batch),
            IndependentRendering::CsvRows { schema } => csv(schema, batch, false),
        }
    }

    /// Renders a large batch on another worker of the runtime; in place when the batch is
    /// small, without a runtime, or when every core already renders a batch.
    async fn render_elsewhere(self: Arc<Self>, batch: RecordBatch) -> Result<Piece, SqlError> {
        if batch.num_rows() >= RENDER_ELSEWHERE_ROWS
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
            && let Ok(permit) = Arc::clone(render_permits()).try_acquire_owned()
        {
            let mut task = AbortOnDrop(runtime.spawn(async move {
                let _permit = permit;
                self.render(&batch)
            }));
            return match (&mut task.0).await {
                Ok(rendered) => rendered.map(Piece::Rendered),
                Err(e) if e.is_panic() => Err(panic_error(e.into_panic().as_ref())),
                Err(e) => Err(failed(e)),
            };
        }
        self.render(&batch).map(Piece::Rendered)
    }
}

/// A spawned rendering that stops when its export is dropped (a reader that went away).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

enum Encoder {
    /// CSV and JSON lines: past CSV's header, each batch renders on its own.
    Independent(Arc<IndependentRendering>),
    Arrow {
        schema: SchemaRef,
        writer: Option<Box<StreamWriter<Vec<u8>>>>,
    },
}

fn failed(error: impl std::fmt::Display) -> SqlError {
    SqlError::new(format!("cannot write the result: {error}"))
}

impl Encoder {
    fn new(format: ExportFormat, schema: &SchemaRef) -> Encoder {
        let rendering = match format {
            ExportFormat::Csv => IndependentRendering::CsvRows {
                schema: plain_schema(schema),
            },
            ExportFormat::JsonLines => IndependentRendering::JsonLines {
                names: schema
                    .fields()
                    .iter()
                    .map(|f| serde_json::to_vec(f.name()).unwrap_or_else(|_| b"\"\"".to_vec()))
                    .collect(),
            },
            ExportFormat::ArrowIpc => {
                return Encoder::Arrow {
                    schema: plain_schema(schema),
                    writer: None,
                };
            }
        };
        Encoder::Independent(Arc::new(rendering))
    }

    /// How this encoder's batches render on their own, when they do (all but Arrow's).
    fn independent(&self) -> Option<Arc<IndependentRendering>> {
        match self {
            Encoder::Independent(rendering) => Some(Arc::clone(rendering)),
            Encoder::Arrow { .. } => None,
        }
    }

    /// What goes before the first row: CSV's header, Arrow's schema message.
    fn start(&mut self) -> Result<Vec<u8>, SqlError> {
        match self {
            Encoder::Independent(rendering) => match rendering.as_ref() {
                IndependentRendering::CsvRows { schema } => {
                    csv(schema, &RecordBatch::new_empty(schema.clone()), true)
                }
                IndependentRendering::JsonLines { .. } => Ok(Vec::new()),
            },
            Encoder::Arrow { schema, writer } => {
                let mut started = StreamWriter::try_new(Vec::new(), schema).map_err(failed)?;
                let bytes = std::mem::take(started.get_mut());
                *writer = Some(Box::new(started));
                Ok(bytes)
            }
        }
    }

    fn batch(&mut self, batch: &RecordBatch) -> Result<Vec<u8>, SqlError> {
        match self {
            Encoder::Independent(rendering) => rendering.render(batch),
            Encoder::Arrow { schema, writer } => {
                let batch = plain_batch(batch, schema)?;
                let Some(writer) = writer else {
                    return Err(failed("the Arrow stream was not started"));
                };
                writer.write(&batch).map_err(failed)?;
                Ok(std::mem::take(writer.get_mut()))
            }
        }
    }

    /// What goes after the last row: Arrow's end marker.
    fn finish(&mut self) -> Result<Vec<u8>, SqlError> {
        match self {
            Encoder::Arrow {
                writer: Some(writer),
                ..
            } => {
                writer.finish().map_err(failed)?;
                Ok(std::mem::take(writer.get_mut()))
            }
            _ => Ok(Vec::new()),
        }
    }
}

/// `batch` as CSV rows (to `schema`, from [`plain_schema`]), after the header when `header`.
fn csv(schema: &SchemaRef, batch: &RecordBatch, header: bool) -> Result<Vec<u8>, SqlError> {
    let batch = plain_batch(batch, schema)?;
    let mut writer = datafusion::arrow::csv::WriterBuilder::new()
        .with_header(header)
        .build(Vec::new());
    writer.write(&batch).map_err(failed)?;
    Ok(writer.into_inner())
}

/// `batch` as JSON lines, one object per row keyed by `names` (column names as JSON strings).
fn json_lines(names: &[Vec<u8>], batch: &RecordBatch) -> Result<Vec<u8>, SqlError> {
    let mut out = Vec::with_capacity(batch.num_rows() * 64);
    let plain: Vec<ArrayRef> = batch.columns().iter().map(decode_dictionary).collect();
    let columns: Vec<JsonColumn> = plain.iter().map(JsonColumn::of).collect();
    for row in 0..batch.num_rows() {
        out.push(b'{');
        for (i, (name, column)) in names.iter().zip(&columns).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(name);
            out.push(b':');
            column.write(row, &mut out).map_err(failed)?;
        }
        out.extend_from_slice(b"}\n");
    }
    Ok(out)
}

/// A column as JSON lines write it: the common types straight from their arrays (no JSON value
/// built per cell), the others through [`json_value`], which gives the same text.
enum JsonColumn<'a> {
    Int64(&'a Int64Array),
    Int32(&'a Int32Array),
    Float64(&'a Float64Array),
    Utf8(&'a StringArray),
    Utf8View(&'a StringViewArray),
    Boolean(&'a BooleanArray),
    Other(&'a ArrayRef),
}

impl<'a> JsonColumn<'a> {
    fn of(column: &'a ArrayRef) -> JsonColumn<'a> {
        let any = column.as_any();
        match column.data_type() {
            DataType::Int64 => any.downcast_ref().map(JsonColumn::Int64),
            DataType::Int32 => any.downcast_ref().map(JsonColumn::Int32),
            DataType::Float64 => any.downcast_ref().map(JsonColumn::Float64),
            DataType::Utf8 => any.downcast_ref().map(JsonColumn::Utf8),
            DataType::Utf8View => any.downcast_ref().map(JsonColumn::Utf8View),
            DataType::Boolean => any.downcast_ref().map(JsonColumn::Boolean),
            _ => None,
        }
        .unwrap_or(JsonColumn::Other(column))
    }

    fn write(&self, row: usize, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let is_null = match self {
            JsonColumn::Other(_) => false,
            JsonColumn::Int64(a) => a.is_null(row),
            JsonColumn::Int32(a) => a.is_null(row),
            JsonColumn::Float64(a) => a.is_null(row),
            JsonColumn::Utf8(a) => a.is_null(row),
            JsonColumn::Utf8View(a) => a.is_null(row),
            JsonColumn::Boolean(a) => a.is_null(row),
        };
        if is_null {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        match self {
            JsonColumn::Int64(a) => serde_json::to_writer(out, &a.value(row)),
            JsonColumn::Int32(a) => serde_json::to_writer(out, &a.value(row)),
            // Non-finite numbers are written `null`, as `json_value` makes them.
            JsonColumn::Float64(a) => serde_json::to_writer(out, &a.value(row)),
            JsonColumn::Utf8(a) => serde_json::to_writer(out, a.value(row)),
            JsonColumn::Utf8View(a) => serde_json::to_writer(out, a.value(row)),
            JsonColumn::Boolean(a) => serde_json::to_writer(out, &a.value(row)),
            JsonColumn::Other(a) => serde_json::to_writer(out, &json_value(a.as_ref(), row)),
        }
    }
}

/// The schema with dictionary-encoded columns as their value type.
fn plain_schema(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Dictionary(_, value) => f.as_ref().clone().with_data_type(*value.clone()),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `batch` with its dictionary-encoded columns decoded, to `schema` (from [`plain_schema`]).
fn plain_batch(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, SqlError> {
    if batch.schema().fields() == schema.fields() {
        return Ok(batch.clone());
    }
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| {
            if column.data_type() == field.data_type() {
                Ok(column.clone())
            } else {
                cast(column, field.data_type()).map_err(failed)
            }
        })
        .collect::<Result<_, _>>()?;
    RecordBatch::try_new(schema.clone(), columns).map_err(failed)
}

#[cfg(test)]
mod tests;
