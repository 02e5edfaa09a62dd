//! Sorting a batch by table, so that each table is written with a few multi-row statements.
//!
//! Writing table by table instead of in batch order gives the same database state: there are no
//! foreign keys, events keep their relative order, and for a key written twice in one batch only
//! the write that would have prevailed is kept (the last upsert; the first version, as later ones
//! would be ignored). Keeping one write per key is also required: PostgreSQL refuses a statement
//! whose `ON CONFLICT DO UPDATE` would touch the same row twice.
//!
//! Catalog mutations are the exception: they include deletions, which do not commute with
//! upserts of the same rows, so they keep their batch order and are applied one by one. A lake
//! commit is a couple of them, each written with a few multi-row statements.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;

use crate::{
    AttemptRecord, EventRecord, ExecutionRecord, HistoryEventRecord, MachineRecord, Mutation,
    RunRecord, ScheduleStateRecord, StepRecord, TableFileRecord, TaskRecord, VersionRecord,
};

#[derive(Default)]
pub(crate) struct Plan<'a> {
    pub versions: Vec<&'a VersionRecord>,
    /// Runs created by this batch, inserted before the upserts (which may update them).
    pub new_runs: Vec<&'a RunRecord>,
    pub runs: Vec<&'a RunRecord>,
    pub tasks: Vec<&'a TaskRecord>,
    pub attempts: Vec<&'a AttemptRecord>,
    pub events: Vec<&'a EventRecord>,
    pub schedules: Vec<&'a ScheduleStateRecord>,
    pub machines: Vec<&'a MachineRecord>,
    pub executions: Vec<&'a ExecutionRecord>,
    pub history: Vec<&'a HistoryEventRecord>,
    pub steps: Vec<&'a StepRecord>,
    /// Catalog mutations and other deletions, in batch order.
    pub catalog: Vec<&'a Mutation>,
}

impl<'a> Plan<'a> {
    pub fn new(batch: &'a [Mutation]) -> Plan<'a> {
        let mut plan = Plan::default();
        let mut versions = Rows::default();
        let mut runs = Rows::default();
        let mut tasks = Rows::default();
        let mut attempts = Rows::default();
        let mut schedules = Rows::default();
        let mut machines = Rows::default();
        let mut executions = Rows::default();
        let mut steps = Rows::default();
        for mutation in batch {
            match mutation {
                Mutation::PutVersion(v) => {
                    versions.keep_first((v.pipeline.as_str(), v.version.as_str()), v)
                }
                Mutation::InsertRun(r) => plan.new_runs.push(r),
                Mutation::PutRun(r) => runs.keep_last(r.id.as_str(), r),
                Mutation::PutTask(t) => {
                    tasks.keep_last((t.run_id.as_str(), t.task_id.as_str(), t.map_index), t)
                }
                Mutation::PutAttempt(a) => attempts.keep_last(
                    (
                        a.run_id.as_str(),
                        a.task_id.as_str(),
                        a.map_index,
                        a.try_number,
                    ),
                    a,
                ),
                Mutation::Event(e) => plan.events.push(e),
                Mutation::PutScheduleState(s) => schedules.keep_last(s.pipeline.as_str(), s),
                Mutation::PutMachine(m) => machines.keep_last(m.arn.as_str(), m),
                Mutation::PutExecution(e) => executions.keep_last(e.arn.as_str(), e),
                // Events are unique by construction; a repeat (a replay after a crash) is ignored
                // by the insert itself (`ON CONFLICT DO NOTHING`), so none is tracked here.
                Mutation::HistoryEvent(e) => plan.history.push(e),
                Mutation::PutStep(s) => {
                    steps.keep_last((s.execution_arn.as_str(), s.step.as_str()), s)
                }
                // The delete runs in batch order, before every upsert of the batch: an earlier put
                // of the same machine must not come back after it.
                Mutation::DeleteMachine { arn } => {
                    machines.forget(arn.as_str());
                    plan.catalog.push(mutation)
                }
                Mutation::PutDatabase(_)
                | Mutation::DropDatabase { .. }
                | Mutation::PutTable(_)
                | Mutation::DropTable { .. }
                | Mutation::PutTableFiles(_)
                | Mutation::DeleteTableFiles { .. }
                | Mutation::ReplaceTableFiles { .. } => plan.catalog.push(mutation),
            }
        }
        plan.versions = versions.rows;
        plan.runs = runs.rows;
        plan.tasks = tasks.rows;
        plan.attempts = attempts.rows;
        plan.schedules = schedules.rows;
        plan.machines = machines.into_rows();
        plan.executions = executions.rows;
        plan.steps = steps.rows;
        plan
    }
}

/// One row per file key (the last one written), for a multi-row upsert of manifest rows.
pub(crate) fn unique_files(files: &[TableFileRecord]) -> Vec<&TableFileRecord> {
    let mut rows = Rows::default();
    for file in files {
        rows.keep_last(
            (
                file.database.as_str(),
                file.table_name.as_str(),
                file.key.as_str(),
            ),
            file,
        );
    }
    rows.rows
}

/// The rows of one table, in the order their keys first appeared.
struct Rows<'a, K, R> {
    rows: Vec<&'a R>,
    index: HashMap<K, usize>,
    /// Positions whose key was forgotten, dropped by [`Rows::into_rows`].
    forgotten: Vec<usize>,
}

impl<K, R> Default for Rows<'_, K, R> {
    fn default() -> Self {
        Rows {
            rows: Vec::new(),
            index: HashMap::new(),
            forgotten: Vec::new(),
        }
    }
}

impl<'a, K: Hash + Eq, R> Rows<'a, K, R> {
    fn keep_last(&mut self, key: K, row: &'a R) {
        match self.index.entry(key) {
            Entry::Occupied(slot) => self.rows[*slot.get()] = row,
            Entry::Vacant(slot) => {
                slot.insert(self.rows.len());
                self.rows.push(row);
            }
        }
    }

    /// Drops the row written so far for `key` (a deletion that follows it in the batch).
    fn forget(&mut self, key: K) {
        if let Some(position) = self.index.remove(&key) {
            self.forgotten.push(position);
        }
    }

    /// The rows kept, in order.
    fn into_rows(self) -> Vec<&'a R> {
        if self.forgotten.is_empty() {
            return self.rows;
        }
        let forgotten: std::collections::HashSet<usize> = self.forgotten.into_iter().collect();
        self.rows
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !forgotten.contains(i))
            .map(|(_, row)| row)
            .collect()
    }

    fn keep_first(&mut self, key: K, row: &'a R) {
        if let Entry::Vacant(slot) = self.index.entry(key) {
            slot.insert(self.rows.len());
            self.rows.push(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(pipeline: &str, paused: bool) -> Mutation {
        Mutation::PutScheduleState(ScheduleStateRecord {
            pipeline: pipeline.into(),
            last_interval_end: None,
            paused,
        })
    }

    fn machine(arn: &str) -> Mutation {
        Mutation::PutMachine(crate::MachineRecord {
            arn: arn.into(),
            name: arn.into(),
            machine_type: "STANDARD".into(),
            definition: "{}".into(),
            role_arn: String::new(),
            settings: serde_json::Value::Null,
            source: "api".into(),
            created_at: 0,
            updated_at: 0,
        })
    }

    #[test]
    fn a_machine_put_then_deleted_in_one_batch_stays_deleted() {
        let batch = [
            machine("a"),
            machine("b"),
            Mutation::DeleteMachine { arn: "a".into() },
        ];
        let plan = Plan::new(&batch);
        let kept: Vec<_> = plan.machines.iter().map(|m| m.arn.as_str()).collect();
        assert_eq!(kept, ["b"]);
        assert_eq!(plan.catalog.len(), 1);
        // Deleted then created again: the delete goes first, the put after it.
        let batch = [Mutation::DeleteMachine { arn: "a".into() }, machine("a")];
        let plan = Plan::new(&batch);
        assert_eq!(plan.machines.len(), 1);
        assert_eq!(plan.catalog.len(), 1);
    }

    #[test]
    fn last_upsert_of_a_key_wins_in_first_position() {
        let batch = [
            schedule("a", false),
            schedule("b", false),
            schedule("a", true),
        ];
        let plan = Plan::new(&batch);
        let kept: Vec<_> = plan
            .schedules
            .iter()
            .map(|s| (s.pipeline.as_str(), s.paused))
            .collect();
        assert_eq!(kept, [("a", true), ("b", false)]);
    }

    #[test]
    fn catalog_mutations_keep_their_order() {
        let drop = Mutation::DropTable {
            database: "d".into(),
            name: "t".into(),
        };
        let batch = [
            drop.clone(),
            schedule("a", false),
            Mutation::PutTableFiles(vec![]),
            drop.clone(),
        ];
        let plan = Plan::new(&batch);
        assert_eq!(plan.catalog, [&batch[0], &batch[2], &batch[3]]);
        assert_eq!(plan.schedules.len(), 1);
    }

    #[test]
    fn duplicate_file_keys_keep_the_last() {
        let file = |key: &str, size| TableFileRecord {
            database: "d".into(),
            table_name: "t".into(),
            key: key.into(),
            size,
            last_modified: 0,
            etag: None,
            partition_values: serde_json::json!([]),
            row_count: None,
        };
        let files = [file("a", 1), file("b", 2), file("a", 3)];
        let sizes: Vec<_> = unique_files(&files).iter().map(|f| f.size).collect();
        assert_eq!(sizes, [3, 2]);
    }
}
