//! What every step shares while a recipe compiles: the session, the problems found so far, and
//! the lookups that turn a recipe's names and SQL text into DataFusion expressions or problems
//! at their positions.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, DFSchema, SchemaError};
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{Expr, ExprSchemable};
use datafusion::prelude::SessionContext;
use weir_model::problem::{Pos, Problem, did_you_mean};
use weir_model::transform::{At, SqlExpr};

use super::Salts;
use crate::sql::SqlError;

/// Whether the plans will run (compile) or only be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Run,
    Check,
}

pub(super) struct Ctx<'a> {
    pub session: SessionContext,
    file: &'a str,
    pub salts: Salts<'a>,
    pub mode: Mode,
    pub problems: Vec<Problem>,
}

/// A column of the current frame, found by a recipe's name for it.
#[derive(Debug, Clone)]
pub(super) struct Found {
    /// The column as an expression (qualified as the frame has it).
    pub expr: Expr,
    /// Its name in the frame (which may differ in case from the recipe's).
    pub name: String,
    pub data_type: DataType,
}

impl<'a> Ctx<'a> {
    pub fn new(session: &SessionState, file: &'a str, salts: Salts<'a>, mode: Mode) -> Self {
        Ctx {
            session: SessionContext::new_with_state(session.clone()),
            file,
            salts,
            mode,
            problems: Vec::new(),
        }
    }

    pub fn problem(&mut self, pos: Pos, message: impl Into<String>) {
        self.problems.push(Problem::new(self.file, pos, message));
    }

    /// A DataFusion error while building a step's plan, at the step.
    pub fn planning(&mut self, pos: Pos, step: &str, err: &DataFusionError) {
        let message = match unknown_field(err) {
            Some(name) => format!("unknown column `{name}`"),
            None => SqlError::from_datafusion(err, "").message,
        };
        self.problem(pos, format!("{step}: {message}"));
    }

    /// The frame's column `name`, or a problem at its position (with the nearest name).
    pub fn column(&mut self, frame: &DataFrame, name: &At<String>) -> Option<Found> {
        let found = find(frame.schema(), &name.value);
        if found.is_none() {
            let message = unknown_column(frame.schema(), &name.value);
            self.problem(name.pos, message);
        }
        found
    }

    /// Every column found, or `None` (with a problem for each one missing).
    pub fn columns(&mut self, frame: &DataFrame, names: &[At<String>]) -> Option<Vec<Found>> {
        let found: Vec<Option<Found>> = names.iter().map(|n| self.column(frame, n)).collect();
        found.into_iter().collect()
    }

    /// A SQL expression of the recipe, planned against the frame's schema and typed (so type
    /// errors are found here), or a problem inside the expression.
    pub fn sql(&mut self, step: &str, frame: &DataFrame, sql: &SqlExpr) -> Option<Expr> {
        let planned = self
            .session
            .state()
            .create_logical_expr(&sql.text, frame.schema())
            .and_then(|expr| expr.get_type(frame.schema()).map(|_| expr));
        match planned {
            Ok(expr) => Some(strip_alias(expr)),
            Err(err) => {
                let located = SqlError::from_datafusion(&err, &sql.text);
                let pos = match (located.line, located.column) {
                    (Some(line), Some(column)) => {
                        sql.pos_at_line_column(u64::from(line), u64::from(column))
                    }
                    _ => sql.pos,
                };
                let message = match unknown_field(&err) {
                    Some(name) => unknown_column(frame.schema(), &name),
                    None => located.message,
                };
                self.problem(pos, format!("{step}: {message}"));
                None
            }
        }
    }

    /// An expression weir writes itself (as SQL text over quoted names, see [`ident`]), planned
    /// against the frame; a failure is a problem at `pos`.
    pub fn internal(&mut self, pos: Pos, step: &str, frame: &DataFrame, sql: &str) -> Option<Expr> {
        let planned = self
            .session
            .state()
            .create_logical_expr(sql, frame.schema())
            .and_then(|expr| expr.get_type(frame.schema()).map(|_| expr));
        match planned {
            Ok(expr) => Some(strip_alias(expr)),
            Err(err) => {
                self.planning(pos, step, &err);
                None
            }
        }
    }
}

fn strip_alias(expr: Expr) -> Expr {
    match expr {
        Expr::Alias(alias) => *alias.expr,
        other => other,
    }
}

/// The column `name` of `schema`: exactly, else ignoring case (as SQL folds unquoted names).
pub(super) fn find(schema: &DFSchema, name: &str) -> Option<Found> {
    let fields = || schema.iter();
    let (qualifier, field) = fields()
        .find(|(_, f)| f.name() == name)
        .or_else(|| fields().find(|(_, f)| f.name().eq_ignore_ascii_case(name)))?;
    Some(Found {
        expr: Expr::Column(Column::new(qualifier.cloned(), field.name())),
        name: field.name().clone(),
        data_type: field.data_type().clone(),
    })
}

/// "unknown column `x`; did you mean `y`?" (or the columns there are, when few).
pub(super) fn unknown_column(schema: &DFSchema, name: &str) -> String {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let hint = did_you_mean(name, names.iter().copied());
    if !hint.is_empty() {
        return format!("unknown column `{name}`{hint}");
    }
    if names.len() <= 12 {
        return format!("unknown column `{name}` (columns: {})", names.join(", "));
    }
    format!("unknown column `{name}`")
}

/// The column a "no field named" error is about.
fn unknown_field(err: &DataFusionError) -> Option<String> {
    match err.find_root() {
        DataFusionError::SchemaError(schema_error, _) => match schema_error.as_ref() {
            SchemaError::FieldNotFound { field, .. } => Some(field.name.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// `name` as a quoted SQL identifier, for expressions weir writes as SQL text.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a SQL string literal.
pub(super) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Whether values of this type are text.
pub(super) fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => true,
        DataType::Dictionary(_, value) => is_text(value),
        _ => false,
    }
}

/// The SQL text of column `name` as text (cast when it is not).
pub(super) fn as_text(name: &str, data_type: &DataType) -> String {
    if is_text(data_type) {
        ident(name)
    } else {
        format!("CAST({} AS VARCHAR)", ident(name))
    }
}

/// The frame with the named columns' values replaced by expressions, in place.
pub(super) fn replace_in_place(
    frame: DataFrame,
    replaced: Vec<(String, Expr)>,
) -> Option<DataFrame> {
    let exprs: Vec<Expr> = frame
        .schema()
        .columns()
        .into_iter()
        .map(
            |c| match replaced.iter().find(|(name, _)| *name == c.name) {
                Some((_, expr)) => expr.clone().alias(&c.name),
                None => Expr::Column(c),
            },
        )
        .collect();
    frame.select(exprs).ok()
}
