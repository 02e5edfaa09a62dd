//! The deliveries' part of a batch: a few rows at most, each written on its own, in batch order
//! (deletions do not commute with upserts of the same name).

use super::DeliveryMutation;

#[derive(Default)]
pub(crate) struct Plan<'a> {
    /// In batch order.
    pub mutations: Vec<&'a DeliveryMutation>,
}

impl<'a> Plan<'a> {
    pub fn add(&mut self, mutation: &'a DeliveryMutation) {
        self.mutations.push(mutation)
    }
}
