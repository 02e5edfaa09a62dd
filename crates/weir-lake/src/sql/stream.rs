//! A statement's result as it is produced, for results too large to hold: the batches of the
//! last statement's plan, pulled one at a time by the caller (the REST API's CSV, JSON lines and
//! Arrow exports), under the same time limit, memory pool and panic guard as
//! [`SqlEngine::execute`].

use std::panic::AssertUnwindSafe;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{SendableRecordBatchStream, execute_stream};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{ObjectType, Statement};
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};

use super::engine::parse;
use super::limits::panic_error;
use super::{SqlEngine, SqlError};

/// A result's schema, then its batches as they are computed. Dropping it stops the statement.
pub struct ResultStream {
    pub schema: SchemaRef,
    pub batches: BoxStream<'static, Result<RecordBatch, SqlError>>,
}

impl SqlEngine {
    /// Runs `sql` like [`SqlEngine::execute`] (statements before the last run to completion),
    /// but hands the last statement's rows on as they are computed instead of keeping them.
    /// The time limit runs from now until the last batch is taken.
    pub async fn execute_stream(&self, sql: &str) -> Result<ResultStream, SqlError> {
        let limits = self.limits();
        let deadline = limits.deadline();
        let (schema, batches) = limits.guarded(deadline, self.start(sql)).await?;
        let sql = sql.to_string();
        let batches = futures::stream::unfold(Some(batches), move |running| {
            let sql = sql.clone();
            async move {
                let mut batches = running?;
                // Checked first: a stream that is always ready would never let a timer fire.
                if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                    return Some((Err(limits.timed_out()), None));
                }
                let next = AssertUnwindSafe(batches.next()).catch_unwind();
                let outcome = match deadline {
                    Some(deadline) => match tokio::time::timeout_at(deadline, next).await {
                        Ok(outcome) => outcome,
                        Err(_) => return Some((Err(limits.timed_out()), None)),
                    },
                    None => next.await,
                };
                match outcome {
                    Ok(Some(Ok(batch))) => Some((Ok(batch), Some(batches))),
                    Ok(Some(Err(e))) => Some((
                        Err(limits.name_the_limit(SqlError::from_datafusion(&e, &sql))),
                        None,
                    )),
                    Ok(None) => None,
                    Err(panic) => Some((Err(panic_error(panic.as_ref())), None)),
                }
            }
        });
        Ok(ResultStream {
            schema,
            batches: batches.boxed(),
        })
    }

    /// Runs every statement but the last, and starts the last.
    async fn start(&self, sql: &str) -> Result<(SchemaRef, SendableRecordBatchStream), SqlError> {
        let mut statements = parse(sql)?;
        let last = statements
            .pop_back()
            .ok_or_else(|| SqlError::new("no SQL statement given"))?;
        for statement in statements {
            self.statement(statement, sql, Some(0)).await?;
        }
        if !is_query(&last) {
            // A write's result is one row (the count): nothing to stream.
            let result = self.statement(last, sql, None).await?;
            let schema = result.schema.clone();
            let batches = futures::stream::iter(result.batches.into_iter().map(Ok));
            return Ok((
                schema.clone(),
                Box::pin(RecordBatchStreamAdapter::new(schema, batches)),
            ));
        }
        let (plan, task) = self.plan_query(last, sql).await?;
        let stream =
            execute_stream(plan.clone(), task).map_err(|e| SqlError::from_datafusion(&e, sql))?;
        Ok((plan.schema(), stream))
    }
}

/// Whether DataFusion runs `statement` (weir carries out the writing ones itself).
fn is_query(statement: &DFStatement) -> bool {
    match statement {
        DFStatement::Statement(inner) => !matches!(
            **inner,
            Statement::CreateTable(_)
                | Statement::Insert(_)
                | Statement::Drop {
                    object_type: ObjectType::Table,
                    ..
                }
        ),
        DFStatement::Explain(_) => true,
        _ => false,
    }
}
