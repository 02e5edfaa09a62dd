//! Many runs' task states in one read, for a grid of runs × tasks (50 tasks × 1,000 runs is
//! 50,000 instances): the grid's columns only, from the primary key's index.
//!
//! Aggregating each run's instances into one text in the database (one row per run) was tried and
//! is slower on SQLite: its string concatenation costs more than the rows it saves.

use std::sync::Arc;

use sqlx::{Arguments, AssertSqlSafe, Pool, SqlSafeStr, SqlStr};

use super::TaskState;
use crate::Result;
use crate::driver::{Driver, Record, Statement, mapping};
use crate::statements::Placeholders;

mapping!(TaskState {
    run_id: text,
    task_id: text,
    map_index: value,
    state: text,
    try_number: value,
    started_at: value,
    ended_at: value,
});

/// Lengths of the run-id lists: a shorter list is padded to the next one by repeating its last id
/// (a run named twice selects its rows once), so that three statements, prepared once per
/// connection, serve any number of runs. The longest binds 1,024 values, far under SQLite's
/// 32,766 and PostgreSQL's 65,535.
const RUN_ID_LISTS: [usize; 3] = [16, 128, 1024];

/// `SELECT <the grid's columns> FROM task_instances WHERE run_id IN (…)`.
pub(crate) struct TaskStatesRead {
    /// `(ids, sql)`, shortest first as [`RUN_ID_LISTS`].
    statements: Vec<(usize, SqlStr)>,
}

impl TaskStatesRead {
    pub(crate) fn new(placeholders: Placeholders) -> TaskStatesRead {
        let statements = RUN_ID_LISTS
            .iter()
            .map(|&ids| {
                let list: Vec<String> = (1..=ids)
                    .map(|n| match placeholders {
                        Placeholders::Numbered => format!("${n}"),
                        Placeholders::Anonymous => "?".to_string(),
                    })
                    .collect();
                let sql = format!(
                    "SELECT {} FROM task_instances WHERE run_id IN ({}) AND state <> 'removed' \
                     ORDER BY run_id, task_id, map_index",
                    TaskState::COLUMNS.join(", "),
                    list.join(", ")
                );
                (ids, AssertSqlSafe(Arc::<str>::from(sql)).into_sql_str())
            })
            .collect();
        TaskStatesRead { statements }
    }

    /// Every task state of the runs named, ordered by run id, task id, map index.
    pub(crate) async fn read<DB: Driver>(
        &self,
        readers: &Pool<DB>,
        run_ids: &[String],
    ) -> Result<Vec<TaskState>> {
        let mut states = Vec::new();
        let mut rest = run_ids;
        while !rest.is_empty() {
            let (statement, taken) = self.chunk::<DB>(rest)?;
            for row in DB::fetch_all(readers, statement).await? {
                states.push(TaskState::decode::<DB>(&row)?);
            }
            rest = &rest[taken..];
        }
        // Each chunk is in order; several are merged into one order.
        if run_ids.len() > RUN_ID_LISTS[RUN_ID_LISTS.len() - 1] {
            states.sort_by(|a, b| {
                (&a.run_id, &a.task_id, a.map_index).cmp(&(&b.run_id, &b.task_id, b.map_index))
            });
        }
        Ok(states)
    }

    /// The statement for the first chunk of `run_ids` (not empty) with its arguments, and how
    /// many ids it took.
    fn chunk<DB: Driver>(&self, run_ids: &[String]) -> Result<(Statement<DB>, usize)> {
        let (length, sql) = self
            .statements
            .iter()
            .find(|(length, _)| *length >= run_ids.len())
            .unwrap_or(&self.statements[self.statements.len() - 1]);
        let taken = run_ids.len().min(*length);
        let mut args = DB::Arguments::default();
        args.reserve(*length, 0);
        for n in 0..*length {
            DB::add(&mut args, run_ids[n.min(taken - 1)].as_str())?;
        }
        Ok((Statement::with(sql.clone(), args), taken))
    }
}
