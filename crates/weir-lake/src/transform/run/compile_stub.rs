//! A minimal compile of a few steps (select, drop, filter, rename, derive, validate without
//! `unique`, dedupe), so the runner can be built and tested before part B's
//! `transform::compile::compile` lands. Same signature and result as B's: at the merge this
//! file is deleted and `run/mod.rs` imports B's `compile` and `Compiled` instead.

use datafusion::execution::session_state::SessionState;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::ExprFunctionExt;
use datafusion::prelude::{DataFrame, Expr, ident, lit};
use weir_model::problem::Problem;
use weir_model::sql_tables::TableName;
use weir_model::transform::{Check, OnFailure, Recipe, StepKind};

/// A recipe's plans: its output, its quarantine (with the table it goes to), and the failing
/// rows of a `validate … on_failure: fail` step, which the runner checks first.
pub struct Compiled {
    pub output: DataFrame,
    pub quarantine: Option<(DataFrame, TableName)>,
    pub fail_check: Option<DataFrame>,
    /// Each step's output (part B's preview reads them; the runner does not).
    #[allow(dead_code)]
    pub stages: Vec<(usize, DataFrame)>,
}

/// Rows kept by a `validate … fail` check's plan (the first failing rows, for the message).
const FAIL_SAMPLE: usize = 10;

pub async fn compile(
    _session: &SessionState,
    recipe: &Recipe,
    input: DataFrame,
    _salts: &(dyn Fn(&str) -> Result<String, String> + Send + Sync),
) -> Result<Compiled, Vec<Problem>> {
    let mut df = input;
    let mut quarantine = None;
    let mut fail_check = None;
    for step in &recipe.steps {
        let problem = |message: String| vec![Problem::new(&recipe.file, step.pos, message)];
        let datafusion = |e: datafusion::error::DataFusionError| {
            vec![Problem::new(
                &recipe.file,
                step.pos,
                format!("{}: {}", step.name(), e.find_root().message()),
            )]
        };
        df = match &step.kind {
            StepKind::Select(columns) => df
                .select(columns.iter().map(|c| ident(&c.value)).collect::<Vec<_>>())
                .map_err(datafusion)?,
            StepKind::Drop(columns) => {
                let names: Vec<&str> = columns.iter().map(|c| c.value.as_str()).collect();
                df.drop_columns(&names).map_err(datafusion)?
            }
            StepKind::Filter(expr) => {
                let condition = df.parse_sql_expr(&expr.text).map_err(datafusion)?;
                df.filter(condition).map_err(datafusion)?
            }
            StepKind::Rename(pairs) => {
                for (old, new) in pairs {
                    df = df
                        .with_column_renamed(ident(&old.value).to_string(), &new.value)
                        .map_err(datafusion)?;
                }
                df
            }
            StepKind::Derive(columns) => {
                for (name, expr) in columns {
                    let value = df.parse_sql_expr(&expr.text).map_err(datafusion)?;
                    df = df.with_column(&name.value, value).map_err(datafusion)?;
                }
                df
            }
            StepKind::Validate(validate) => {
                let mut case = String::from("CASE");
                for rule in &validate.rules {
                    let column = format!("\"{}\"", rule.column.value.replace('"', "\"\""));
                    let text = |s: &str| format!("'{}'", s.replace('\'', "''"));
                    let failing = match &rule.check {
                        Check::NotNull => format!("{column} IS NULL"),
                        Check::Range { min, max } => {
                            let mut parts = Vec::new();
                            if let Some(min) = min {
                                parts.push(format!("{column} < {min}"));
                            }
                            if let Some(max) = max {
                                parts.push(format!("{column} > {max}"));
                            }
                            if parts.is_empty() {
                                continue;
                            }
                            parts.join(" OR ")
                        }
                        Check::Regex(pattern) => {
                            format!(
                                "NOT regexp_like(CAST({column} AS VARCHAR), {})",
                                text(pattern)
                            )
                        }
                        Check::Allowed(values) => format!(
                            "CAST({column} AS VARCHAR) NOT IN ({})",
                            values
                                .iter()
                                .map(|v| text(v))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        Check::Unique => {
                            return Err(problem(
                                "`unique` needs the full compile (part B), not in this build"
                                    .into(),
                            ));
                        }
                    };
                    case.push_str(&format!(" WHEN {failing} THEN {}", text(&rule.label())));
                }
                case.push_str(" END");
                let rule = df.parse_sql_expr(&case).map_err(datafusion)?;
                let checked = df.with_column("_rule", rule).map_err(datafusion)?;
                let failing = checked
                    .clone()
                    .filter(ident("_rule").is_not_null())
                    .map_err(datafusion)?;
                match &validate.on_failure {
                    OnFailure::Quarantine(table) => {
                        let failed = failing
                            .with_column(
                                "_failed_at",
                                datafusion::functions::datetime::expr_fn::now(),
                            )
                            .map_err(datafusion)?;
                        quarantine = Some((failed, table.value.clone()));
                    }
                    OnFailure::Fail => {
                        fail_check = Some(failing.limit(0, Some(FAIL_SAMPLE)).map_err(datafusion)?)
                    }
                    OnFailure::Drop => {}
                }
                checked
                    .filter(ident("_rule").is_null())
                    .and_then(|df| df.drop_columns(&["_rule"]))
                    .map_err(datafusion)?
            }
            StepKind::Dedupe {
                keys,
                order_by,
                latest,
            } => {
                let mut number =
                    row_number().partition_by(keys.iter().map(|k| ident(&k.value)).collect());
                if let Some(order) = order_by {
                    number = number.order_by(vec![ident(&order.value).sort(!latest, false)]);
                }
                let number: Expr = number.build().map_err(datafusion)?.alias("__row");
                df.window(vec![number])
                    .and_then(|df| df.filter(ident("__row").eq(lit(1u64))))
                    .and_then(|df| df.drop_columns(&["__row"]))
                    .map_err(datafusion)?
            }
            other => {
                return Err(problem(format!(
                    "step `{}` needs the full compile (part B), not in this build",
                    other.name()
                )));
            }
        };
    }
    Ok(Compiled {
        output: df,
        quarantine,
        fail_check,
        stages: Vec::new(),
    })
}
