//! Sorting a batch by subsystem, and each subsystem's part by table, so that each table is
//! written with a few multi-row statements.
//!
//! Writing table by table instead of in batch order gives the same database state: there are no
//! foreign keys, events keep their relative order, and for a key written twice in one batch only
//! the write that would have prevailed is kept (the last upsert; the first version, as later ones
//! would be ignored). Keeping one write per key is also required: PostgreSQL refuses a statement
//! whose `ON CONFLICT DO UPDATE` would touch the same row twice.
//!
//! Deletions do not commute with upserts of the same rows: a subsystem that has them keeps them in
//! batch order and applies them one by one before its upserts, and a deletion drops the earlier
//! upserts of its key from the plan (the catalog's mutations all keep their order; see
//! `catalog/plan.rs` and `machines/plan.rs`).
//!
//! Each subsystem's plan (`runs/plan.rs`, …) takes its mutations with `add`; [`Plan`] only sends
//! each mutation to its subsystem.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;

use crate::{
    Mutation, access, catalog, consumers, deliveries, event_sources, events, machines, queries,
    queues, runs, secrets, streams, transforms,
};

/// A batch, split by subsystem.
#[derive(Default)]
pub(crate) struct Plan<'a> {
    pub runs: runs::Plan<'a>,
    pub catalog: catalog::Plan<'a>,
    pub machines: machines::Plan<'a>,
    pub access: access::Plan<'a>,
    pub secrets: secrets::Plan<'a>,
    pub consumers: consumers::Plan<'a>,
    pub event_sources: event_sources::Plan<'a>,
    pub streams: streams::Plan<'a>,
    pub deliveries: deliveries::Plan<'a>,
    pub events: events::Plan<'a>,
    pub queues: queues::Plan<'a>,
    pub queries: queries::Plan<'a>,
    pub transforms: transforms::Plan<'a>,
}

impl<'a> Plan<'a> {
    pub fn new(batch: &'a [Mutation]) -> Plan<'a> {
        let mut plan = Plan::default();
        for mutation in batch {
            match mutation {
                Mutation::Runs(mutation) => plan.runs.add(mutation),
                Mutation::Catalog(mutation) => plan.catalog.add(mutation),
                Mutation::Machines(mutation) => plan.machines.add(mutation),
                Mutation::Access(mutation) => plan.access.add(mutation),
                Mutation::Secrets(mutation) => plan.secrets.add(mutation),
                Mutation::Consumers(mutation) => plan.consumers.add(mutation),
                Mutation::EventSources(mutation) => plan.event_sources.add(mutation),
                Mutation::Streams(mutation) => plan.streams.add(mutation),
                Mutation::Deliveries(mutation) => plan.deliveries.add(mutation),
                Mutation::Events(mutation) => plan.events.add(mutation),
                Mutation::Queues(mutation) => plan.queues.add(mutation),
                Mutation::Queries(mutation) => plan.queries.add(mutation),
                Mutation::Transforms(mutation) => plan.transforms.add(mutation),
            }
        }
        plan
    }
}

/// The rows of one table, in the order their keys first appeared.
pub(crate) struct Rows<'a, K, R> {
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
    pub(crate) fn keep_last(&mut self, key: K, row: &'a R) {
        match self.index.entry(key) {
            Entry::Occupied(slot) => self.rows[*slot.get()] = row,
            Entry::Vacant(slot) => {
                slot.insert(self.rows.len());
                self.rows.push(row);
            }
        }
    }

    /// Drops the row written so far for `key` (a deletion that follows it in the batch).
    pub(crate) fn forget(&mut self, key: K) {
        if let Some(position) = self.index.remove(&key) {
            self.forgotten.push(position);
        }
    }

    /// The rows kept, in order.
    pub(crate) fn into_rows(self) -> Vec<&'a R> {
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

    pub(crate) fn keep_first(&mut self, key: K, row: &'a R) {
        if let Entry::Vacant(slot) = self.index.entry(key) {
            slot.insert(self.rows.len());
            self.rows.push(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CatalogMutation, MachineMutation, RunMutation, ScheduleStateRecord};

    #[test]
    fn each_mutation_goes_to_its_subsystem_in_batch_order() {
        let drop = |name: &str| -> Mutation {
            CatalogMutation::DropTable {
                database: "d".into(),
                name: name.into(),
            }
            .into()
        };
        let batch = [
            drop("a"),
            RunMutation::PutScheduleState(ScheduleStateRecord {
                pipeline: "p".into(),
                last_interval_end: None,
                paused: false,
            })
            .into(),
            MachineMutation::DeleteMachine { arn: "m".into() }.into(),
            drop("b"),
        ];
        let plan = Plan::new(&batch);
        let dropped: Vec<_> = plan
            .catalog
            .mutations
            .iter()
            .map(|m| match m {
                CatalogMutation::DropTable { name, .. } => name.as_str(),
                _ => "?",
            })
            .collect();
        assert_eq!(dropped, ["a", "b"]);
        assert_eq!(plan.runs.schedules.into_rows().len(), 1);
        assert_eq!(plan.machines.deleted, ["m"]);
    }
}
