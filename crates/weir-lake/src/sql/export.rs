//! A streamed result rendered as CSV, JSON lines or Arrow IPC, a batch at a time: memory stays at
//! one batch whatever the result's size, and the first bytes leave as soon as the first batch is
//! computed. JSON lines hold the same values as the REST API's JSON rows; CSV and Arrow carry
//! dictionary-encoded columns as their plain values.

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

/// Renders `result` in `format`, at most `max_rows` rows (all when `None`). The first part
/// comes once the first batch is computed, so a statement that fails early fails before any
/// byte is sent. Past the limit, one more row is looked for (to say whether rows were left
/// out) and the statement is then stopped.
pub fn export(
    result: ResultStream,
    format: ExportFormat,
    max_rows: Option<u64>,
) -> BoxStream<'static, Result<ExportPart, SqlError>> {
    let exporter = Exporter {
        encoder: Encoder::new(format, &result.schema),
        batches: result.batches,
        rows: 0,
        max_rows,
        started: false,
        end: None,
        done: false,
    };
    futures::stream::unfold(Some(exporter), |state| async move {
        let mut exporter = state?;
        match exporter.step().await {
            Ok(Some(part)) => Some((Ok(part), Some(exporter))),
            Ok(None) => None,
            Err(error) => Some((Err(error), None)),
        }
    })
    .boxed()
}

struct Exporter {
    batches: BoxStream<'static, Result<RecordBatch, SqlError>>,
    encoder: Encoder,
    rows: u64,
    max_rows: Option<u64>,
    /// The header (or schema) went out.
    started: bool,
    /// Set once the last bytes went out: the part that ends the export.
    end: Option<ExportPart>,
    done: bool,
}

impl Exporter {
    /// The next part, or `None` after the end.
    async fn step(&mut self) -> Result<Option<ExportPart>, SqlError> {
        if self.done {
            return Ok(None);
        }
        if let Some(end) = self.end.take() {
            self.done = true;
            return Ok(Some(end));
        }
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            out = self.encoder.start()?;
        }
        loop {
            let room = self
                .max_rows
                .map_or(u64::MAX, |m| m.saturating_sub(self.rows));
            let next = self.batches.next().await.transpose()?;
            let batch = match next {
                Some(batch) if batch.num_rows() == 0 => continue,
                Some(_) if room == 0 => return self.finish(out, true),
                Some(batch) => batch,
                None => return self.finish(out, false),
            };
            let cut = (batch.num_rows() as u64) > room;
            let batch = if cut {
                batch.slice(0, room as usize)
            } else {
                batch
            };
            self.rows += batch.num_rows() as u64;
            out.extend(self.encoder.batch(&batch)?);
            if cut {
                return self.finish(out, true);
            }
            return Ok(Some(ExportPart::Bytes(Bytes::from(out))));
        }
    }

    fn finish(
        &mut self,
        mut out: Vec<u8>,
        truncated: bool,
    ) -> Result<Option<ExportPart>, SqlError> {
        out.extend(self.encoder.finish()?);
        let end = ExportPart::End {
            rows: self.rows,
            truncated,
        };
        if out.is_empty() {
            self.done = true;
            return Ok(Some(end));
        }
        self.end = Some(end);
        Ok(Some(ExportPart::Bytes(Bytes::from(out))))
    }
}

enum Encoder {
    Csv {
        schema: SchemaRef,
        header_written: bool,
    },
    JsonLines {
        /// Column names as JSON strings, serialised once.
        names: Vec<Vec<u8>>,
    },
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
        match format {
            ExportFormat::Csv => Encoder::Csv {
                schema: plain_schema(schema),
                header_written: false,
            },
            ExportFormat::JsonLines => Encoder::JsonLines {
                names: schema
                    .fields()
                    .iter()
                    .map(|f| serde_json::to_vec(f.name()).unwrap_or_else(|_| b"\"\"".to_vec()))
                    .collect(),
            },
            ExportFormat::ArrowIpc => Encoder::Arrow {
                schema: plain_schema(schema),
                writer: None,
            },
        }
    }

    /// What goes before the first row (Arrow's schema message).
    fn start(&mut self) -> Result<Vec<u8>, SqlError> {
        match self {
            Encoder::Arrow { schema, writer } => {
                let mut started = StreamWriter::try_new(Vec::new(), schema).map_err(failed)?;
                let bytes = std::mem::take(started.get_mut());
                *writer = Some(Box::new(started));
                Ok(bytes)
            }
            _ => Ok(Vec::new()),
        }
    }

    fn batch(&mut self, batch: &RecordBatch) -> Result<Vec<u8>, SqlError> {
        match self {
            Encoder::Csv {
                schema,
                header_written,
            } => {
                let batch = plain_batch(batch, schema)?;
                let mut writer = datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(!*header_written)
                    .build(Vec::new());
                writer.write(&batch).map_err(failed)?;
                *header_written = true;
                Ok(writer.into_inner())
            }
            Encoder::JsonLines { names } => {
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

    /// What goes after the last row: CSV's header when there were no rows, Arrow's end marker.
    fn finish(&mut self) -> Result<Vec<u8>, SqlError> {
        match self {
            Encoder::Csv {
                schema,
                header_written: false,
            } => {
                let empty = RecordBatch::new_empty(schema.clone());
                self.batch(&empty)
            }
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
