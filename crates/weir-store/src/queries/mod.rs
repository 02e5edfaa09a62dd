//! Saved queries: the charts of dashboards (QuickSight's job), each a read-only SQL statement
//! with how to chart its result, grouped by dashboard name. Records and mutations here; the
//! batch in `plan.rs`; statements, writes and queries in `sql.rs`.

mod plan;
mod sql;

use serde::{Deserialize, Serialize};

use crate::Result;

pub(crate) use plan::Plan;
pub(crate) use sql::QueryWrites;

/// One write of the saved queries. They are applied in batch order (they include deletions).
#[derive(Debug, Clone, PartialEq)]
pub enum QueryMutation {
    /// Upsert a saved query (key: dashboard, name).
    PutQuery(SavedQuery),
    /// Delete one saved query; an absent one is ignored.
    DeleteQuery { dashboard: String, name: String },
    /// Delete every query of a dashboard (a dashboard is its queries).
    DeleteDashboard { dashboard: String },
}

/// The saved queries' reads.
#[async_trait::async_trait]
pub trait QueryStore: Send + Sync + 'static {
    async fn saved_query(&self, dashboard: &str, name: &str) -> Result<Option<SavedQuery>>;
    /// A dashboard's queries by position, then name.
    async fn saved_queries(&self, dashboard: &str) -> Result<Vec<SavedQuery>>;
    /// Every dashboard that has a query, by name, with how many it has.
    async fn dashboards(&self) -> Result<Vec<DashboardSummary>>;
}

/// A query saved on a dashboard, and how its result is charted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedQuery {
    pub dashboard: String,
    pub name: String,
    pub sql: String,
    /// `{"type": "bar|line|area|scatter|table", "x": column, "y": [columns]}`.
    pub chart: serde_json::Value,
    /// Where the chart sits on its dashboard: ascending, ties by name.
    pub position: i32,
    /// The credential that saved it first (None when authentication is off).
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A dashboard: its name and how many queries it has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardSummary {
    pub name: String,
    pub queries: i64,
}
