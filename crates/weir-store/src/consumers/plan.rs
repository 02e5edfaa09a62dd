//! The consumer groups' part of a batch: a few statements, in batch order (a checkpoint is a
//! conditional update that must see the deletions before it).

use super::ConsumerMutation;

#[derive(Default)]
pub(crate) struct Plan<'a> {
    /// In batch order.
    pub mutations: Vec<&'a ConsumerMutation>,
}

impl<'a> Plan<'a> {
    pub fn add(&mut self, mutation: &'a ConsumerMutation) {
        self.mutations.push(mutation)
    }
}
