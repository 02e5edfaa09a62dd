//! The deliveries' statements: how their records are stored, their writes and their queries.

use super::{DeliveryMutation, DeliveryRecord, DeliveryStore, Plan};
use crate::Result;
use crate::driver::{Driver, Record, Statement, mapping};
use crate::sql_store::{SqlStore, write};
use crate::statements::{OnConflict, Placeholders, Write};

mapping!(DeliveryRecord {
    name: text,
    definition: text,
    request: json,
    tags: json,
    version: value,
    created_at: value,
    updated_at: value,
});

/// The deliveries' write statements, in the backend's placeholder style.
pub(crate) struct DeliveryWrites {
    deliveries: Write,
}

impl DeliveryWrites {
    pub(crate) fn new(placeholders: Placeholders) -> DeliveryWrites {
        DeliveryWrites {
            deliveries: Write::new(
                "deliveries",
                DeliveryRecord::COLUMNS,
                &["name"],
                OnConflict::Update,
                placeholders,
            ),
        }
    }

    /// Writes the deliveries' part of a batch, inside the batch's transaction, in batch order.
    pub(crate) async fn apply<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        plan: Plan<'_>,
    ) -> Result<()> {
        for mutation in plan.mutations {
            match mutation {
                DeliveryMutation::PutDelivery(delivery) => {
                    write::<DB, _>(conn, &self.deliveries, &[delivery]).await?
                }
                DeliveryMutation::DeleteDelivery { name } => {
                    DB::execute(conn, Statement::new(DELETE_DELIVERY).bind(name.as_str())).await?
                }
            }
        }
        Ok(())
    }
}

const DELETE_DELIVERY: &str = "DELETE FROM deliveries WHERE name = $1";

// Reads. Rows are decoded by column name, so `SELECT *` stays correct as columns are added.

const DELIVERY: &str = "SELECT * FROM deliveries WHERE name = $1";
const DELIVERIES: &str = "SELECT * FROM deliveries ORDER BY name";

#[async_trait::async_trait]
impl<DB: Driver> DeliveryStore for SqlStore<DB> {
    async fn delivery(&self, name: &str) -> Result<Option<DeliveryRecord>> {
        self.fetch_optional(Statement::new(DELIVERY).bind(name))
            .await
    }

    async fn deliveries(&self) -> Result<Vec<DeliveryRecord>> {
        self.fetch_all(Statement::new(DELIVERIES)).await
    }
}
