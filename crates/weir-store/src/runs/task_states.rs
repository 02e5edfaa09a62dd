//! Many runs' task states in one read, for a grid of runs × tasks (50 tasks × 1,000 runs is
//! 50,000 instances): the grid's columns only, from the primary key's index.
//!
//! Rows are what a large read costs: sqlx's SQLite driver copies each value into an allocation of
//! its own on its worker thread and hands each row over a channel, about 3 µs of CPU a row (a
//! read of 50,000 rows took 160 ms of CPU, mostly in the allocator). So the database returns one
//! row per run, each column the list of its instances' values (`string_agg`, the same in SQLite
//! and PostgreSQL), and the lists are split here: about a fifth of the cost. Every aggregate of
//! a group is fed the group's rows in one pass, so the lists line up; one concatenation per
//! instance instead would cost SQLite twice as much as separate lists.

use std::sync::Arc;

use sqlx::{Arguments, AssertSqlSafe, Pool, SqlSafeStr, SqlStr};

use super::TaskState;
use crate::driver::{Driver, Statement};
use crate::statements::Placeholders;
use crate::{Result, StoreError};

/// Separates the values of a list: a control character, which no id or state contains.
const SEPARATOR: char = '\u{1f}';

/// The lists of one run, as the read returns them.
struct RunLists {
    run_id: String,
    task_ids: String,
    map_indexes: String,
    states: String,
    tries: String,
    started: String,
    ended: String,
}

/// Lengths of the run-id lists: a shorter list is padded to the next one by repeating its last id
/// (a run named twice selects its rows once), so that three statements, prepared once per
/// connection, serve any number of runs; more runs are read a longest list at a time, the lists
/// at once on several readers (a grid of 1,000 runs is four reads, two cores' worth on SQLite).
/// The longest binds 256 values, far under SQLite's 32,766 and PostgreSQL's 65,535.
const RUN_ID_LISTS: [usize; 3] = [16, 64, 256];

/// `SELECT run_id, <a list per column> FROM task_instances WHERE run_id IN (…) GROUP BY run_id`.
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
                let list_of = |value: &str, name: &str| {
                    format!("string_agg({value}, '{SEPARATOR}') AS {name}")
                };
                let lists = [
                    list_of("task_id", "task_ids"),
                    list_of("CAST(map_index AS TEXT)", "map_indexes"),
                    list_of("state", "states"),
                    list_of("CAST(try_number AS TEXT)", "tries"),
                    list_of("COALESCE(CAST(started_at AS TEXT), '')", "started"),
                    list_of("COALESCE(CAST(ended_at AS TEXT), '')", "ended"),
                ];
                let sql = format!(
                    "SELECT run_id, {} FROM task_instances \
                     WHERE run_id IN ({}) AND state <> 'removed' GROUP BY run_id",
                    lists.join(", "),
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
        let mut chunks = Vec::new();
        let mut rest = run_ids;
        while !rest.is_empty() {
            let (statement, taken) = self.chunk::<DB>(rest)?;
            chunks.push(DB::fetch_all(readers, statement));
            rest = &rest[taken..];
        }
        let mut states = Vec::new();
        for rows in futures::future::try_join_all(chunks).await? {
            for row in rows {
                let load = |column: &str| -> Result<String> { DB::load(&row, column) };
                let lists = RunLists {
                    run_id: load("run_id")?,
                    task_ids: load("task_ids")?,
                    map_indexes: load("map_indexes")?,
                    states: load("states")?,
                    tries: load("tries")?,
                    started: load("started")?,
                    ended: load("ended")?,
                };
                lists.split_into(&mut states)?;
            }
        }
        // SQLite answers in key order (it groups along the primary key's index); PostgreSQL in
        // no particular one.
        fn key(t: &TaskState) -> (&str, &str, i32) {
            (&t.run_id, &t.task_id, t.map_index)
        }
        if !states.is_sorted_by(|a, b| key(a) <= key(b)) {
            states.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
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

impl RunLists {
    /// One task state per position of the lists, which must be equally long.
    fn split_into(&self, states: &mut Vec<TaskState>) -> Result<()> {
        let malformed = |what: &str| {
            StoreError::Database(sqlx::Error::Decode(
                format!("task states of run {}: {what}", self.run_id).into(),
            ))
        };
        let number = |text: &str| {
            text.parse::<i64>()
                .map_err(|_| malformed(&format!("`{text}` is not a number")))
        };
        let time = |text: &str| match text {
            "" => Ok(None),
            text => number(text).map(Some),
        };
        let small = |text: &str| {
            number(text)
                .and_then(|n| i32::try_from(n).map_err(|_| malformed(&format!("{n} is too large"))))
        };
        let mut map_indexes = self.map_indexes.split(SEPARATOR);
        let mut kinds = self.states.split(SEPARATOR);
        let mut tries = self.tries.split(SEPARATOR);
        let mut started = self.started.split(SEPARATOR);
        let mut ended = self.ended.split(SEPARATOR);
        for task_id in self.task_ids.split(SEPARATOR) {
            let (Some(map_index), Some(state), Some(try_number), Some(started_at), Some(ended_at)) = (
                map_indexes.next(),
                kinds.next(),
                tries.next(),
                started.next(),
                ended.next(),
            ) else {
                return Err(malformed("its lists are not equally long"));
            };
            states.push(TaskState {
                run_id: self.run_id.clone(),
                task_id: task_id.to_string(),
                map_index: small(map_index)?,
                state: state.to_string(),
                try_number: small(try_number)?,
                started_at: time(started_at)?,
                ended_at: time(ended_at)?,
            });
        }
        let mut leftovers = [map_indexes, kinds, tries, started, ended];
        if leftovers.iter_mut().any(|rest| rest.next().is_some()) {
            return Err(malformed("its lists are not equally long"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(task_ids: &str, map_indexes: &str, tries: &str) -> RunLists {
        let join = |values: &[&str]| values.join(&SEPARATOR.to_string());
        RunLists {
            run_id: "r".into(),
            task_ids: join(&task_ids.split(' ').collect::<Vec<_>>()),
            map_indexes: join(&map_indexes.split(' ').collect::<Vec<_>>()),
            states: join(&["success", "pending"]),
            tries: join(&tries.split(' ').collect::<Vec<_>>()),
            started: join(&["10", ""]),
            ended: join(&["20", ""]),
        }
    }

    #[test]
    fn lists_split_into_states_and_refuse_what_does_not_line_up() {
        let mut states = Vec::new();
        lists("a b", "-1 3", "2 0").split_into(&mut states).unwrap();
        assert_eq!(states.len(), 2);
        assert_eq!(
            (
                states[0].map_index,
                states[0].try_number,
                states[0].ended_at
            ),
            (-1, 2, Some(20))
        );
        assert_eq!(
            (
                states[1].task_id.as_str(),
                states[1].map_index,
                states[1].started_at
            ),
            ("b", 3, None)
        );
        assert!(lists("a", "-1 3", "2 0").split_into(&mut states).is_err());
        assert!(
            lists("a b c", "-1 3", "2 0")
                .split_into(&mut states)
                .is_err()
        );
        assert!(lists("a b", "-1 x", "2 0").split_into(&mut states).is_err());
        assert!(
            lists("a b", "-1 3", "2 99999999999")
                .split_into(&mut states)
                .is_err()
        );
    }
}
