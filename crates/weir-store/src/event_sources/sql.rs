//! The event source mappings' statements: how their records are stored, their writes and their
//! queries.

use super::{EventSourceMappingRecord, EventSourceMutation, EventSourceStore, Plan};
use crate::Result;
use crate::driver::{Driver, Record, Statement, mapping};
use crate::sql_store::{SqlStore, write};
use crate::statements::{OnConflict, Placeholders, Write};

mapping!(EventSourceMappingRecord {
    uuid: text,
    function_name: text,
    config: json,
    state: text,
    state_reason: text,
    created_at: value,
    updated_at: value,
});

/// The event source mappings' write statements, in the backend's placeholder style.
pub(crate) struct EventSourceWrites {
    mappings: Write,
}

impl EventSourceWrites {
    pub(crate) fn new(placeholders: Placeholders) -> EventSourceWrites {
        EventSourceWrites {
            mappings: Write::new(
                "event_source_mappings",
                EventSourceMappingRecord::COLUMNS,
                &["uuid"],
                OnConflict::Update,
                placeholders,
            ),
        }
    }

    /// Writes the mappings' part of a batch, inside the batch's transaction, in batch order.
    pub(crate) async fn apply<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        plan: Plan<'_>,
    ) -> Result<()> {
        for mutation in plan.mutations {
            match mutation {
                EventSourceMutation::PutMapping(mapping) => {
                    write::<DB, _>(conn, &self.mappings, &[mapping]).await?
                }
                EventSourceMutation::DeleteMapping { uuid } => {
                    DB::execute(conn, Statement::new(DELETE_MAPPING).bind(uuid.as_str())).await?
                }
            }
        }
        Ok(())
    }
}

const DELETE_MAPPING: &str = "DELETE FROM event_source_mappings WHERE uuid = $1";
const MAPPING: &str = "SELECT * FROM event_source_mappings WHERE uuid = $1";
const MAPPINGS: &str = "SELECT * FROM event_source_mappings ORDER BY created_at, uuid";

#[async_trait::async_trait]
impl<DB: Driver> EventSourceStore for SqlStore<DB> {
    async fn event_source_mapping(&self, uuid: &str) -> Result<Option<EventSourceMappingRecord>> {
        self.fetch_optional(Statement::new(MAPPING).bind(uuid))
            .await
    }

    async fn event_source_mappings(&self) -> Result<Vec<EventSourceMappingRecord>> {
        self.fetch_all(Statement::new(MAPPINGS)).await
    }
}
