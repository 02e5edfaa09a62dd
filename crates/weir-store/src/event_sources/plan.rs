//! The event source mappings' part of a batch: a few rows at most, each written on its own, in
//! batch order (deletions do not commute with upserts of the same mapping).

use super::EventSourceMutation;

#[derive(Default)]
pub(crate) struct Plan<'a> {
    /// In batch order.
    pub mutations: Vec<&'a EventSourceMutation>,
}

impl<'a> Plan<'a> {
    pub fn add(&mut self, mutation: &'a EventSourceMutation) {
        self.mutations.push(mutation)
    }
}
