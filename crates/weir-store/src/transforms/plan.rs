//! The bookmarks' part of a batch: a few rows, written in batch order (a deletion does not
//! commute with a put of the same transform).

use super::TransformMutation;

#[derive(Default)]
pub(crate) struct Plan<'a> {
    /// In batch order.
    pub mutations: Vec<&'a TransformMutation>,
}

impl<'a> Plan<'a> {
    pub fn add(&mut self, mutation: &'a TransformMutation) {
        self.mutations.push(mutation)
    }
}
