//! Transforms (weir's Glue ETL / DataBrew recipes, `weir_model::transform::Recipe`) over the
//! lake: a recipe compiled into DataFusion plans (`compile`), checked without running (`check`),
//! previewed stage by stage on a sample of its source (`preview`), and a data-quality profile of
//! a table (`profile`); `run/` reads a recipe's source (from its bookmark), runs its compiled
//! plan, writes its sink and commits output, quarantine and bookmark in one batch; `action.rs`
//! is the `transform` pipeline action.

pub mod action;
pub mod bench;
pub mod compile;
mod file;
mod input;
mod preview;
mod profile;
pub mod run;

pub use action::{TransformAction, list_recipes, load_recipe};
pub use compile::{Compiled, FAILED_AT_COLUMN, RULE_COLUMN, Salts, check, compile, tables_read};
pub use file::{RecipeError, read_recipe, valid_name};
pub use input::prepare;
pub use preview::{PreviewColumn, StagePreview, preview};
pub use profile::{ColumnProfile, Profile, TOP_VALUES, TopValue, profile};
pub use run::{RunError, RunReport, SaltLookup, Transforms, tables_written};

use weir_model::problem::Problem;
use weir_model::transform::Recipe;

use crate::sql::SqlEngine;

/// Every problem of `recipe` against the catalog as it is: its source read (a table's or a
/// query's schema, a prefix's files' schema) and its steps compiled and planned, nothing run.
/// Under the SQL engine's limits (time, caught panics).
pub async fn check_recipe(engine: &SqlEngine, recipe: &Recipe, salts: Salts<'_>) -> Vec<Problem> {
    let limits = engine.limits();
    let checked = limits
        .guarded(limits.deadline(), async {
            Ok(match prepare(engine, recipe).await {
                Ok((session, input)) => check(&session, recipe, input, salts).await,
                Err(problems) => problems,
            })
        })
        .await;
    checked.unwrap_or_else(|e| vec![stopped(recipe, e)])
}

/// [`preview`] of `recipe` over its source's first `rows` rows, under the SQL engine's limits.
pub async fn preview_recipe(
    engine: &SqlEngine,
    recipe: &Recipe,
    rows: usize,
    salts: Salts<'_>,
) -> Result<Vec<StagePreview>, Vec<Problem>> {
    let limits = engine.limits();
    let previewed = limits
        .guarded(limits.deadline(), async {
            Ok(match prepare(engine, recipe).await {
                Ok((session, input)) => preview(&session, recipe, input, rows, salts).await,
                Err(problems) => Err(problems),
            })
        })
        .await;
    previewed.unwrap_or_else(|e| Err(vec![stopped(recipe, e)]))
}

/// A check or preview stopped by a limit (or a caught panic), as a problem of the recipe.
fn stopped(recipe: &Recipe, error: crate::sql::SqlError) -> Problem {
    Problem::new(
        &recipe.file,
        weir_model::problem::Pos::START,
        error.to_string(),
    )
}
