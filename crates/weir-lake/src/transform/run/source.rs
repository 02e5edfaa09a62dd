//! A recipe's source as a DataFrame, narrowed by its bookmark: a catalog table or a query (a
//! column bookmark reads `col > last AND col <= high`, `high` read first, in the same snapshot
//! of the tables, so a row committed during the run is neither skipped nor read twice), or the
//! objects under a prefix that the bookmark has not read (by key and etag).

use datafusion::common::{ScalarValue, TableReference};
use datafusion::execution::session_state::SessionState;
use datafusion::functions_aggregate::expr_fn::{count, max};
use datafusion::logical_expr::when;
use datafusion::prelude::{
    CsvReadOptions, DataFrame, JsonReadOptions, ParquetReadOptions, SessionContext, ident, lit,
};
use weir_model::transform::{Bookmark, FileFormat, Recipe, Source};
use weir_store::TransformBookmarkObject;

use super::RunError;
use super::bookmark::ColumnMark;
use crate::lake::{Lake, ObjectInfo};
use crate::sql::{LAKE_URL, LakeRoot, parse_type, type_name};

/// What the source read, to be committed as the new bookmark with the output.
pub enum Read {
    /// Nothing new (no unread object, record or row above the column mark): nothing to run.
    /// `unmarked`: rows whose bookmark column is null (never read: a null is above no mark).
    Nothing { unmarked: u64 },
    Frame {
        /// Rows whose bookmark column is null, left out (a null is above no mark).
        unmarked: u64,
        frame: Box<DataFrame>,
        /// The column mark after this run (None: no column bookmark).
        mark: Option<ColumnMark>,
        /// Objects this run reads (a prefix source with a bookmark).
        objects: Vec<TransformBookmarkObject>,
        /// A stream source's positions after this run's records.
        positions: Option<super::stream::Positions>,
    },
}

/// What a source reads from besides the catalog.
pub struct Places<'a> {
    pub lake: &'a Lake,
    pub root: &'a LakeRoot,
    pub streams: Option<&'a weir_stream::Streams>,
}

/// What the stored bookmark says was read already.
pub struct Already<'a> {
    pub mark: Option<ColumnMark>,
    pub objects: &'a [TransformBookmarkObject],
    pub positions: super::stream::Positions,
}

/// Reads the source. `query_plan` is the source query, planned read-only in `state`.
pub async fn read(
    recipe: &Recipe,
    state: &SessionState,
    query_plan: Option<datafusion::logical_expr::LogicalPlan>,
    places: Places<'_>,
    already: Already<'_>,
) -> Result<Read, RunError> {
    let Places {
        lake,
        root,
        streams,
    } = places;
    let read_objects = already.objects;
    let last_mark = already.mark;
    let ctx = SessionContext::new_with_state(state.clone());
    let mut objects = Vec::new();
    let mut positions = None;
    let frame = match &recipe.source {
        Source::Table(table) => {
            let name = &table.value;
            ctx.table(TableReference::partial(
                name.database.as_str(),
                name.name.as_str(),
            ))
            .await
            .map_err(|e| RunError::new(format!("source table {name}: {}", e.find_root())))?
        }
        Source::Query(_) => {
            let plan = query_plan.ok_or_else(|| RunError::new("the source query is missing"))?;
            DataFrame::new(state.clone(), plan)
        }
        Source::Prefix { prefix, format } => {
            let bookmarked = matches!(recipe.bookmark, Some(Bookmark::Objects | Bookmark::Default));
            let listed = lake.list(&prefix.value).await?;
            let read: std::collections::HashMap<&str, &Option<String>> = read_objects
                .iter()
                .map(|o| (o.key.as_str(), &o.etag))
                .collect();
            let unread: Vec<ObjectInfo> = listed
                .into_iter()
                .filter(|o| !hidden(&o.key))
                .filter(|o| !bookmarked || read.get(o.key.as_str()) != Some(&&o.etag))
                .collect();
            if unread.is_empty() {
                return Ok(Read::Nothing { unmarked: 0 });
            }
            let format = match format {
                Some(format) => *format,
                None => one_format(&unread)?,
            };
            let urls: Vec<String> = unread
                .iter()
                .map(|o| format!("{LAKE_URL}/{}", root.path(&o.key)))
                .collect();
            if bookmarked {
                objects = unread
                    .iter()
                    .map(|o| TransformBookmarkObject {
                        transform: recipe.name.clone(),
                        key: o.key.clone(),
                        etag: o.etag.clone(),
                    })
                    .collect();
            }
            let error = |e: datafusion::error::DataFusionError| {
                RunError::new(format!("reading {}: {}", prefix.value, e.find_root()))
            };
            match format {
                FileFormat::Csv => ctx
                    .read_csv(urls, CsvReadOptions::new().file_extension(""))
                    .await
                    .map_err(error)?,
                FileFormat::JsonLines => ctx
                    .read_json(urls, JsonReadOptions::default().file_extension(""))
                    .await
                    .map_err(error)?,
                FileFormat::Parquet => ctx
                    .read_parquet(
                        urls,
                        ParquetReadOptions {
                            file_extension: "",
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(error)?,
            }
        }
        Source::Stream(stream) => {
            let streams = streams.ok_or_else(|| {
                RunError::new("this server has no streams to read a stream source from")
            })?;
            let (frame, after) =
                super::stream::read(&ctx, streams, &stream.value, &already.positions).await?;
            positions = Some(after);
            match frame {
                Some(frame) => frame,
                None => return Ok(Read::Nothing { unmarked: 0 }),
            }
        }
    };
    let (frame, mark, unmarked) = match &recipe.bookmark {
        Some(Bookmark::Column(column)) => {
            match after_mark(frame, &column.value, last_mark).await? {
                (Some((frame, mark)), unmarked) => (frame, Some(mark), unmarked),
                // Like a prefix or stream with nothing unread: no write, no commit (an empty
                // output would otherwise be committed, and an overwrite would empty the sink).
                (None, unmarked) => return Ok(Read::Nothing { unmarked }),
            }
        }
        _ => (frame, None, 0),
    };
    Ok(Read::Frame {
        unmarked,
        frame: Box::new(frame),
        mark,
        objects,
        positions,
    })
}

/// Rows above the last mark up to the highest value now, and the new mark (None when nothing is
/// new: no value above the last mark); and how many rows have a null in the column (never read).
async fn after_mark(
    frame: DataFrame,
    column: &str,
    last: Option<ColumnMark>,
) -> Result<(Option<(DataFrame, ColumnMark)>, u64), RunError> {
    let error = |e: datafusion::error::DataFusionError| {
        RunError::new(format!("bookmark column `{column}`: {}", e.find_root()))
    };
    let null_marks = when(ident(column).is_null(), lit(1)).end().map_err(error)?;
    let highest = frame
        .clone()
        .aggregate(
            vec![],
            vec![
                max(ident(column)).alias("high"),
                count(null_marks).alias("unmarked"),
            ],
        )
        .map_err(error)?
        .collect()
        .await
        .map_err(error)?;
    let (high, unmarked) = match highest.first() {
        Some(batch) if batch.num_rows() > 0 => (
            ScalarValue::try_from_array(batch.column(0), 0).map_err(error)?,
            match ScalarValue::try_from_array(batch.column(1), 0).map_err(error)? {
                ScalarValue::Int64(Some(n)) => u64::try_from(n).unwrap_or(0),
                _ => 0,
            },
        ),
        _ => (ScalarValue::Null, 0),
    };
    // The type the bookmark is stored as (views and dictionaries read as their logical type).
    let high = match parse_type(&type_name(&high.data_type())) {
        Ok(t) if !high.is_null() => high.cast_to(&t).map_err(error)?,
        _ => high,
    };
    let nothing_new = high.is_null()
        || last.as_ref().is_some_and(|last| {
            last.value
                .partial_cmp(&high)
                .is_some_and(|o| o != std::cmp::Ordering::Less)
        });
    if nothing_new {
        return Ok((None, unmarked));
    }
    let mut condition = ident(column).lt_eq(lit(high.clone()));
    if let Some(last) = &last {
        condition = ident(column).gt(lit(last.value.clone())).and(condition);
    }
    let frame = frame.filter(condition).map_err(error)?;
    Ok((
        Some((
            frame,
            ColumnMark {
                column: column.to_string(),
                value: high,
            },
        )),
        unmarked,
    ))
}

/// Objects a reader skips: names starting with `_` or `.` (`_SUCCESS`, temporary files).
fn hidden(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.starts_with('_') || name.starts_with('.')
}

/// The format of objects by their names; all must agree.
fn one_format(objects: &[ObjectInfo]) -> Result<FileFormat, RunError> {
    let mut found: Option<FileFormat> = None;
    for object in objects {
        let Some(format) = format_of(&object.key) else {
            return Err(RunError::new(format!(
                "cannot tell the format of `{}` from its name: give the source a `format` \
                 (csv, json or parquet)",
                object.key
            )));
        };
        match found {
            Some(f) if f != format => {
                return Err(RunError::new(format!(
                    "objects under the prefix are of several formats (`{}` is not like the \
                     others): give the source a `format`",
                    object.key
                )));
            }
            _ => found = Some(format),
        }
    }
    found.ok_or_else(|| RunError::new("no objects to read"))
}

fn format_of(key: &str) -> Option<FileFormat> {
    let lower = key.to_ascii_lowercase();
    if lower.ends_with(".csv") {
        Some(FileFormat::Csv)
    } else if [".json", ".jsonl", ".ndjson"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        Some(FileFormat::JsonLines)
    } else if lower.ends_with(".parquet") {
        Some(FileFormat::Parquet)
    } else {
        None
    }
}
