//! The saved queries' statements: how their records are stored, their writes and their queries.

use super::{DashboardSummary, Plan, QueryMutation, QueryStore, SavedQuery};
use crate::Result;
use crate::driver::{Driver, Record, Statement, mapping};
use crate::sql_store::{SqlStore, write};
use crate::statements::{OnConflict, Placeholders, Write};

mapping!(SavedQuery {
    dashboard: text,
    name: text,
    sql: text,
    chart: json,
    position: value,
    created_by: opt_text,
    created_at: value,
    updated_at: value,
});

mapping!(DashboardSummary {
    name: text,
    queries: value,
});

/// The saved queries' write statements, in the backend's placeholder style.
pub(crate) struct QueryWrites {
    queries: Write,
}

impl QueryWrites {
    pub(crate) fn new(placeholders: Placeholders) -> QueryWrites {
        QueryWrites {
            queries: Write::new(
                "saved_queries",
                SavedQuery::COLUMNS,
                &["dashboard", "name"],
                OnConflict::Update,
                placeholders,
            ),
        }
    }

    /// Writes the saved queries' part of a batch, inside the batch's transaction, in batch order.
    pub(crate) async fn apply<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        plan: Plan<'_>,
    ) -> Result<()> {
        for mutation in plan.mutations {
            match mutation {
                QueryMutation::PutQuery(query) => {
                    write::<DB, _>(conn, &self.queries, &[query]).await?
                }
                QueryMutation::DeleteQuery { dashboard, name } => {
                    let statement = Statement::new(DELETE_QUERY)
                        .bind(dashboard.as_str())
                        .bind(name.as_str());
                    DB::execute(conn, statement).await?
                }
                QueryMutation::DeleteDashboard { dashboard } => {
                    let statement = Statement::new(DELETE_DASHBOARD).bind(dashboard.as_str());
                    DB::execute(conn, statement).await?
                }
            }
        }
        Ok(())
    }
}

const DELETE_QUERY: &str = "DELETE FROM saved_queries WHERE dashboard = $1 AND name = $2";
const DELETE_DASHBOARD: &str = "DELETE FROM saved_queries WHERE dashboard = $1";

// Reads. Rows are decoded by column name, so `SELECT *` stays correct as columns are added.

const QUERY: &str = "SELECT * FROM saved_queries WHERE dashboard = $1 AND name = $2";
const QUERIES: &str = "SELECT * FROM saved_queries WHERE dashboard = $1 ORDER BY position, name";
const DASHBOARDS: &str = "SELECT dashboard AS name, COUNT(*) AS queries FROM saved_queries \
     GROUP BY dashboard ORDER BY dashboard";

#[async_trait::async_trait]
impl<DB: Driver> QueryStore for SqlStore<DB> {
    async fn saved_query(&self, dashboard: &str, name: &str) -> Result<Option<SavedQuery>> {
        self.fetch_optional(Statement::new(QUERY).bind(dashboard).bind(name))
            .await
    }

    async fn saved_queries(&self, dashboard: &str) -> Result<Vec<SavedQuery>> {
        self.fetch_all(Statement::new(QUERIES).bind(dashboard))
            .await
    }

    async fn dashboards(&self) -> Result<Vec<DashboardSummary>> {
        self.fetch_all(Statement::new(DASHBOARDS)).await
    }
}
