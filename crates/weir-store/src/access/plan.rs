//! The access subsystem's part of a batch: one write per credential and per ended session (the
//! last), audit entries appended in batch order.

use super::{AccessMutation, AuditRecord, CredentialRecord, EndedSession};
use crate::plan::Rows;

#[derive(Default)]
pub(crate) struct Plan<'a> {
    pub credentials: Rows<'a, &'a str, CredentialRecord>,
    pub audit: Vec<&'a AuditRecord>,
    pub ended_sessions: Rows<'a, &'a str, EndedSession>,
}

impl<'a> Plan<'a> {
    pub fn add(&mut self, mutation: &'a AccessMutation) {
        match mutation {
            AccessMutation::PutCredential(c) => self.credentials.keep_last(c.name.as_str(), c),
            AccessMutation::Audit(entries) => self.audit.extend(entries),
            AccessMutation::EndSession(s) => self.ended_sessions.keep_last(s.id.as_str(), s),
        }
    }
}
