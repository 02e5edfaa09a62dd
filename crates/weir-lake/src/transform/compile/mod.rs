//! A checked recipe compiled into DataFusion plans: each step is `DataFrame` operations on the
//! previous step's plan, its SQL expressions planned against the schema they see. Plans are
//! lazy, so compiling runs nothing (but `drop_null_fields`, which must look at the data to know
//! its own schema); the caller executes what it gets. Every unknown column and type error is a
//! [`Problem`] at the step, inside the SQL expression when DataFusion says where.
//!
//! One file per group of steps: `columns.rs` (select, drop, drop_null_fields, rename, cast),
//! `expressions.rs` (filter, derive), `text.rs` (mask, truncate, split, combine), `validate.rs`,
//! `dedupe.rs`, `tables.rs` (join, union), `reshape.rs` (pivot, unpivot); `context.rs` holds
//! what they share (column lookup with did-you-mean, SQL expressions, problems).

mod columns;
mod context;
mod dedupe;
mod expressions;
mod reshape;
mod tables;
mod text;
mod validate;

use datafusion::dataframe::DataFrame;
use datafusion::execution::session_state::SessionState;
use weir_model::problem::Problem;
use weir_model::sql_tables::TableName;
use weir_model::transform::{OnFailure, Recipe, Source, Step, StepKind};

pub(crate) use context::ident;
use context::{Ctx, Mode};
pub use validate::{FAILED_AT_COLUMN, RULE_COLUMN};

/// A salt secret's value by name (the binary passes the engine's secrets). The error says why
/// there is none; values are never logged.
pub type Salts<'a> = &'a (dyn Fn(&str) -> Result<String, String> + Send + Sync);

/// A recipe's plans.
pub struct Compiled {
    /// The rows for the sink.
    pub output: DataFrame,
    /// Rows a `validate` step with `on_failure: { quarantine: TABLE }` refused, as they stood at
    /// that step, with `_rule` (the first rule each broke) and `_failed_at`; and the table.
    pub quarantine: Option<(DataFrame, TableName)>,
    /// For `on_failure: fail`: up to 10 refused rows (with `_rule`). The runner executes it
    /// first; any row fails the run before anything is written.
    pub fail_check: Option<DataFrame>,
    /// Each step's output, by the step's index in `recipe.steps` (for previews).
    pub stages: Vec<(usize, DataFrame)>,
}

/// Compiles `recipe` over `input` (the source's rows) in `session`, whose catalog must hold the
/// tables the steps read ([`tables_read`]). `salts` gives mask salts by secret name.
pub async fn compile(
    session: &SessionState,
    recipe: &Recipe,
    input: DataFrame,
    salts: Salts<'_>,
) -> Result<Compiled, Vec<Problem>> {
    build(session, recipe, input, salts, Mode::Run).await
}

/// Every problem compiling `recipe` over `input` would meet, found without running anything:
/// the steps are compiled and their plans taken down to physical plans (the analyzer's type
/// checks included), never executed. `drop_null_fields` keeps every column here (which ones
/// are null everywhere is only known from the data).
pub async fn check(
    session: &SessionState,
    recipe: &Recipe,
    input: DataFrame,
    salts: Salts<'_>,
) -> Vec<Problem> {
    let compiled = match build(session, recipe, input, salts, Mode::Check).await {
        Ok(compiled) => compiled,
        Err(problems) => return problems,
    };
    let mut problems = Vec::new();
    // Planning a stage can only fail for a reason its step introduced; the first stage that
    // fails names the step.
    for (index, stage) in &compiled.stages {
        if let Err(err) = stage.create_physical_plan().await
            && let Some(step) = recipe.steps.get(*index)
        {
            let located = crate::sql::SqlError::from_datafusion(&err, "");
            problems.push(Problem::new(
                &recipe.file,
                step.pos,
                format!("{}: {}", step.name(), located.message),
            ));
            break;
        }
    }
    problems
}

/// The catalog tables a recipe reads besides a query source's: its source table, and the
/// tables of its `join` and `union` steps.
pub fn tables_read(recipe: &Recipe) -> Vec<TableName> {
    let mut tables = Vec::new();
    if let Source::Table(table) = &recipe.source {
        tables.push(table.value.clone());
    }
    for step in &recipe.steps {
        match &step.kind {
            StepKind::Join(join) => tables.push(join.table.value.clone()),
            StepKind::Union(table) => tables.push(table.value.clone()),
            _ => {}
        }
    }
    tables.dedup();
    tables
}

async fn build(
    session: &SessionState,
    recipe: &Recipe,
    input: DataFrame,
    salts: Salts<'_>,
    mode: Mode,
) -> Result<Compiled, Vec<Problem>> {
    let mut ctx = Ctx::new(session, &recipe.file, salts, mode);
    let mut frame = input;
    let mut quarantine = None;
    let mut fail_check = None;
    let mut stages = Vec::with_capacity(recipe.steps.len());
    for (index, step) in recipe.steps.iter().enumerate() {
        let known = ctx.problems.len();
        let after = match &step.kind {
            StepKind::Validate(rules) => {
                match validate::apply(&mut ctx, frame.clone(), step, rules) {
                    Some(validated) => {
                        match &rules.on_failure {
                            OnFailure::Quarantine(table) if quarantine.is_some() => ctx.problem(
                                table.pos,
                                "validate: a recipe has at most one quarantine (put the rules \
                                 in one validate step)",
                            ),
                            OnFailure::Quarantine(table) => {
                                quarantine = Some((validated.refused, table.value.clone()))
                            }
                            OnFailure::Fail if fail_check.is_some() => ctx.problem(
                                step.pos,
                                "validate: a recipe has at most one validate step with \
                                 `on_failure: fail` (put the rules in one step)",
                            ),
                            OnFailure::Fail => fail_check = Some(validated.refused),
                            OnFailure::Drop => {}
                        }
                        Some(validated.output)
                    }
                    None => None,
                }
            }
            _ => apply(&mut ctx, frame.clone(), step).await,
        };
        match after {
            Some(after) => frame = after,
            // Never a step left out in silence: one that could not be planned says so. The
            // frame stays as it was, so the steps after it are still checked.
            None if ctx.problems.len() == known => ctx.problem(
                step.pos,
                format!("{}: the step could not be planned", step.name()),
            ),
            None => {}
        }
        stages.push((index, frame.clone()));
    }
    if !ctx.problems.is_empty() {
        return Err(ctx.problems);
    }
    Ok(Compiled {
        output: frame,
        quarantine,
        fail_check,
        stages,
    })
}

/// One step (other than `validate`): the frame after it, or `None` when the step had problems.
async fn apply(ctx: &mut Ctx<'_>, frame: DataFrame, step: &Step) -> Option<DataFrame> {
    match &step.kind {
        StepKind::Select(names) => columns::select(ctx, frame, names),
        StepKind::Drop(names) => columns::drop(ctx, frame, names),
        StepKind::DropNullFields => columns::drop_null_fields(ctx, frame, step).await,
        StepKind::Rename(pairs) => columns::rename(ctx, frame, pairs),
        StepKind::Cast(pairs) => columns::cast(ctx, frame, pairs),
        StepKind::Filter(condition) => expressions::filter(ctx, frame, step, condition),
        StepKind::Derive(columns) => expressions::derive(ctx, frame, columns),
        StepKind::Mask(masks) => text::mask(ctx, frame, masks),
        StepKind::Truncate(columns) => text::truncate(ctx, frame, columns),
        StepKind::Split {
            column,
            separator,
            into,
            keep,
        } => text::split(ctx, frame, step, column, separator, into, *keep),
        StepKind::Combine {
            columns,
            separator,
            into,
            keep,
        } => text::combine(ctx, frame, step, columns, separator, into, *keep),
        StepKind::Dedupe {
            keys,
            order_by,
            latest,
        } => dedupe::apply(ctx, frame, step, keys, order_by.as_ref(), *latest),
        StepKind::Join(join) => tables::join(ctx, frame, step, join).await,
        StepKind::Union(table) => tables::union(ctx, frame, step, table).await,
        StepKind::Pivot {
            index,
            column,
            values,
            agg,
            columns,
        } => reshape::pivot(ctx, frame, step, index, column, values, agg, columns),
        StepKind::Unpivot {
            columns,
            name,
            value,
        } => reshape::unpivot(ctx, frame, step, columns, name, value),
        StepKind::Validate(_) => Some(frame),
    }
}

#[cfg(test)]
mod tests;
