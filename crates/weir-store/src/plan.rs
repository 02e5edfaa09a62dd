//! Sorting a batch by table, so that each table is written with a few multi-row statements.
//!
//! Writing table by table instead of in batch order gives the same database state: there are no
//! foreign keys, events keep their relative order, and for a key written twice in one batch only
//! the write that would have prevailed is kept (the last upsert; the first version, as later ones
//! would be ignored). Keeping one write per key is also required: PostgreSQL refuses a statement
//! whose `ON CONFLICT DO UPDATE` would touch the same row twice.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;

use crate::{
    AttemptRecord, EventRecord, Mutation, RunRecord, ScheduleStateRecord, TaskRecord, VersionRecord,
};

#[derive(Default)]
pub(crate) struct Plan<'a> {
    pub versions: Vec<&'a VersionRecord>,
    pub runs: Vec<&'a RunRecord>,
    pub tasks: Vec<&'a TaskRecord>,
    pub attempts: Vec<&'a AttemptRecord>,
    pub events: Vec<&'a EventRecord>,
    pub schedules: Vec<&'a ScheduleStateRecord>,
}

impl<'a> Plan<'a> {
    pub fn new(batch: &'a [Mutation]) -> Plan<'a> {
        let mut plan = Plan::default();
        let mut versions = Rows::default();
        let mut runs = Rows::default();
        let mut tasks = Rows::default();
        let mut attempts = Rows::default();
        let mut schedules = Rows::default();
        for mutation in batch {
            match mutation {
                Mutation::PutVersion(v) => {
                    versions.keep_first((v.pipeline.as_str(), v.version.as_str()), v)
                }
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
            }
        }
        plan.versions = versions.rows;
        plan.runs = runs.rows;
        plan.tasks = tasks.rows;
        plan.attempts = attempts.rows;
        plan.schedules = schedules.rows;
        plan
    }
}

/// The rows of one table, one per key, in the order their keys first appeared.
struct Rows<'a, K, R> {
    rows: Vec<&'a R>,
    index: HashMap<K, usize>,
}

impl<K, R> Default for Rows<'_, K, R> {
    fn default() -> Self {
        Rows {
            rows: Vec::new(),
            index: HashMap::new(),
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
}
