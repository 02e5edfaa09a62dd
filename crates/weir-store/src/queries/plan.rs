//! The saved queries' part of a batch: a few rows at most, each written on its own, in batch
//! order (deletions do not commute with upserts of the same names).

use super::QueryMutation;

#[derive(Default)]
pub(crate) struct Plan<'a> {
    /// In batch order.
    pub mutations: Vec<&'a QueryMutation>,
}

impl<'a> Plan<'a> {
    pub fn add(&mut self, mutation: &'a QueryMutation) {
        self.mutations.push(mutation)
    }
}
