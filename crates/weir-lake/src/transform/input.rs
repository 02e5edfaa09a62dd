//! A recipe's session and source rows for `check` and `preview`: a catalog table, a query, or
//! the objects under a prefix (read with DataFusion's CSV, JSON lines and Parquet readers). A
//! run reads its source with its bookmark (the runner's part); a check needs only the schema,
//! and a preview the first rows.

use datafusion::dataframe::DataFrame;
use datafusion::datasource::file_format::options::{
    CsvReadOptions, JsonReadOptions, ParquetReadOptions,
};
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::{SQLOptions, SessionContext};
use futures::TryStreamExt;
use weir_model::problem::Problem;
use weir_model::transform::{FileFormat, Recipe, Source};

use super::compile::tables_read;
use crate::sql::{LAKE_URL, SqlEngine, SqlError};

/// A session holding every table the recipe reads, and its source's rows (lazy).
pub async fn prepare(
    engine: &SqlEngine,
    recipe: &Recipe,
) -> Result<(SessionState, DataFrame), Vec<Problem>> {
    let problem = |pos, message: String| vec![Problem::new(&recipe.file, pos, message)];
    let mut tables = tables_read(recipe);
    if let Source::Query(query) = &recipe.source {
        let read = engine
            .sql_tables(&query.text)
            .map_err(|e| problem(located(query, &e), format!("source query: {}", e.message)))?;
        tables.extend(read.reads);
    }
    let state = engine
        .session_for_tables(&tables)
        .await
        .map_err(|e| problem(recipe_start(recipe), e.message))?;
    let session = SessionContext::new_with_state(state);
    let input = match &recipe.source {
        Source::Table(table) => {
            let reference = datafusion::common::TableReference::partial(
                table.value.database.as_str(),
                table.value.name.as_str(),
            );
            session.table(reference).await.map_err(|_| {
                problem(
                    table.pos,
                    format!("source: no table `{}` in the catalog", table.value),
                )
            })?
        }
        Source::Query(query) => {
            let read_only = SQLOptions::new()
                .with_allow_ddl(false)
                .with_allow_dml(false)
                .with_allow_statements(false);
            session
                .sql_with_options(&query.text, read_only)
                .await
                .map_err(|e| {
                    let e = SqlError::from_datafusion(&e, &query.text);
                    problem(located(query, &e), format!("source query: {}", e.message))
                })?
        }
        Source::Prefix { prefix, format } => read_prefix(engine, &session, &prefix.value, *format)
            .await
            .map_err(|message| problem(prefix.pos, format!("source: {message}")))?,
        Source::Stream(stream) => {
            return Err(problem(
                stream.pos,
                "source: a stream's records are read when the transform runs; check and \
                 preview read tables, queries and prefixes"
                    .to_string(),
            ));
        }
    };
    Ok((session.state(), input))
}

fn located(query: &weir_model::transform::SqlExpr, e: &SqlError) -> weir_model::problem::Pos {
    match (e.line, e.column) {
        (Some(line), Some(column)) => query.pos_at_line_column(line.into(), column.into()),
        _ => query.pos,
    }
}

fn recipe_start(recipe: &Recipe) -> weir_model::problem::Pos {
    match &recipe.source {
        Source::Table(t) => t.pos,
        Source::Prefix { prefix, .. } => prefix.pos,
        Source::Stream(s) => s.pos,
        Source::Query(q) => q.pos,
    }
}

/// The objects under a lake prefix as one frame, in the given format or the one their names
/// say.
async fn read_prefix(
    engine: &SqlEngine,
    session: &SessionContext,
    prefix: &str,
    format: Option<FileFormat>,
) -> Result<DataFrame, String> {
    let path = engine.lake.root.path(prefix);
    let objects: Vec<_> = engine
        .lake
        .store
        .list(Some(&path))
        .try_collect()
        .await
        .map_err(|e| format!("listing `{prefix}`: {e}"))?;
    let Some(first) = objects.iter().map(|o| o.location.as_ref()).min() else {
        return Err(format!("no objects under `{prefix}`"));
    };
    let extension = first
        .rsplit('/')
        .next()
        .and_then(|name| name.split_once('.'))
        .map(|(_, ext)| format!(".{ext}"))
        .unwrap_or_default();
    let format = match format {
        Some(format) => format,
        None => match extension.split('.').nth(1).unwrap_or_default() {
            "parquet" => FileFormat::Parquet,
            "csv" => FileFormat::Csv,
            "json" | "jsonl" | "ndjson" => FileFormat::JsonLines,
            _ => {
                return Err(format!(
                    "cannot tell the format of `{first}`; say `format: csv|json|parquet`"
                ));
            }
        },
    };
    let url = format!("{LAKE_URL}/{}/", path.as_ref());
    let read = match format {
        FileFormat::Parquet => {
            session
                .read_parquet(
                    url,
                    ParquetReadOptions::default().file_extension(&extension),
                )
                .await
        }
        FileFormat::Csv => {
            session
                .read_csv(url, CsvReadOptions::new().file_extension(&extension))
                .await
        }
        FileFormat::JsonLines => {
            session
                .read_json(url, JsonReadOptions::default().file_extension(&extension))
                .await
        }
    };
    read.map_err(|e| SqlError::from_datafusion(&e, "").message)
}
