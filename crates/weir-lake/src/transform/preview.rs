//! DataBrew's interactive preview: the recipe compiled over a sample of its source (the first
//! rows), and each stage's first rows with its columns.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::SessionContext;
use serde::Serialize;
use serde_json::{Map, Value};
use weir_model::problem::{Pos, Problem};
use weir_model::transform::{Recipe, Source};

use super::compile::{Salts, compile};
use crate::sql::{QueryResult, SqlError, type_name};

/// One stage of a preview: the source (`step` 0) or the output of step `step` (1-based).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StagePreview {
    pub step: usize,
    /// `source`, or the step's key (`filter`, `derive`, …).
    pub name: String,
    /// Where the source or step is in the file.
    pub line: u32,
    pub column: u32,
    pub columns: Vec<PreviewColumn>,
    /// Up to the asked number of rows, as JSON objects keyed by column name.
    pub rows: Vec<Map<String, Value>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewColumn {
    pub name: String,
    pub data_type: String,
}

/// The first `rows` rows of `input` (the sample), then each step's output over that sample (at
/// most `rows` rows each). A step's failure on the sample is a problem at the step.
pub async fn preview(
    session: &SessionState,
    recipe: &Recipe,
    input: DataFrame,
    rows: usize,
    salts: Salts<'_>,
) -> Result<Vec<StagePreview>, Vec<Problem>> {
    let problem = |pos: Pos, message: String| vec![Problem::new(&recipe.file, pos, message)];
    let source_pos = source_pos(&recipe.source);
    let sample = input
        .limit(0, Some(rows))
        .map_err(|e| problem(source_pos, SqlError::from_datafusion(&e, "").message))?;
    // The sample is read once; every stage starts from the rows in memory.
    let sample_batches = sample.clone().collect().await.map_err(|e| {
        problem(
            source_pos,
            format!("source: {}", SqlError::from_datafusion(&e, "").message),
        )
    })?;
    let schema = sample.schema().inner().clone();
    let memory = MemTable::try_new(schema.clone(), vec![sample_batches.clone()])
        .map_err(|e| problem(source_pos, SqlError::from_datafusion(&e, "").message))?;
    let cached = SessionContext::new_with_state(session.clone())
        .read_table(Arc::new(memory))
        .map_err(|e| problem(source_pos, SqlError::from_datafusion(&e, "").message))?;
    let mut stages = vec![stage(
        0,
        "source",
        source_pos,
        &schema,
        &sample_batches,
        rows,
    )];
    let compiled = compile(session, recipe, cached, salts).await?;
    for (index, frame) in compiled.stages {
        let Some(step) = recipe.steps.get(index) else {
            continue;
        };
        let frame_schema = frame.schema().inner().clone();
        let batches = frame
            .limit(0, Some(rows))
            .map_err(|e| problem(step.pos, SqlError::from_datafusion(&e, "").message))?
            .collect()
            .await
            .map_err(|e| {
                problem(
                    step.pos,
                    format!(
                        "{}: {}",
                        step.name(),
                        SqlError::from_datafusion(&e, "").message
                    ),
                )
            })?;
        stages.push(stage(
            index + 1,
            step.name(),
            step.pos,
            &frame_schema,
            &batches,
            rows,
        ));
    }
    Ok(stages)
}

fn stage(
    step: usize,
    name: &str,
    pos: Pos,
    schema: &datafusion::arrow::datatypes::Schema,
    batches: &[RecordBatch],
    limit: usize,
) -> StagePreview {
    let columns = schema
        .fields()
        .iter()
        .map(|f| PreviewColumn {
            name: f.name().clone(),
            data_type: type_name(f.data_type()),
        })
        .collect();
    let mut kept = Vec::new();
    let mut room = limit;
    for batch in batches {
        if room == 0 {
            break;
        }
        let batch = batch.slice(0, batch.num_rows().min(room));
        room -= batch.num_rows();
        kept.push(batch);
    }
    let rows = QueryResult {
        schema: Arc::new(schema.clone()),
        row_count: kept.iter().map(|b| b.num_rows() as u64).sum(),
        batches: kept,
        truncated: false,
        elapsed: Default::default(),
        files_scanned: 0,
    }
    .to_json_rows();
    StagePreview {
        step,
        name: name.to_string(),
        line: pos.line,
        column: pos.column,
        columns,
        rows,
    }
}

pub(super) fn source_pos(source: &Source) -> Pos {
    match source {
        Source::Table(t) => t.pos,
        Source::Prefix { prefix, .. } => prefix.pos,
        Source::Stream(s) => s.pos,
        Source::Query(q) => q.pos,
    }
}
