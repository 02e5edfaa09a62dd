//! Transforms (weir's Glue ETL / DataBrew recipes) over the lake: a recipe compiled into
//! DataFusion plans (`compile`), checked without running (`check`), previewed stage by stage on
//! a sample of its source (`preview`), and a data-quality profile of a table (`profile`).

pub mod compile;
mod input;
mod preview;
mod profile;

pub use compile::{Compiled, FAILED_AT_COLUMN, RULE_COLUMN, Salts, check, compile, tables_read};
pub use input::prepare;
pub use preview::{PreviewColumn, StagePreview, preview};
pub use profile::{ColumnProfile, Profile, TOP_VALUES, TopValue, profile};

use weir_model::problem::Problem;
use weir_model::transform::Recipe;

use crate::sql::SqlEngine;

/// Every problem of `recipe` against the catalog as it is: its source read (a table's or a
/// query's schema, a prefix's files' schema) and its steps compiled and planned, nothing run.
pub async fn check_recipe(engine: &SqlEngine, recipe: &Recipe, salts: Salts<'_>) -> Vec<Problem> {
    match prepare(engine, recipe).await {
        Ok((session, input)) => check(&session, recipe, input, salts).await,
        Err(problems) => problems,
    }
}

/// [`preview`] of `recipe` over its source's first `rows` rows.
pub async fn preview_recipe(
    engine: &SqlEngine,
    recipe: &Recipe,
    rows: usize,
    salts: Salts<'_>,
) -> Result<Vec<StagePreview>, Vec<Problem>> {
    let (session, input) = prepare(engine, recipe).await?;
    preview(&session, recipe, input, rows, salts).await
}
