//! `/api/v1/dashboards…`: saved queries charted together (QuickSight's dashboards). A dashboard
//! is its queries: it exists while it has one. Each query is read-only SQL, checked by the lake
//! when saved (and against the credential's table grants, as running it would be), with how to
//! chart its result. A viewer reads them; an operator changes them.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use weir_engine::time::format_us;
use weir_store::{QueryMutation, SavedQuery};

use super::ApiResult;
use crate::auth::Identity;
use crate::{ApiError, AppState};

type Shared = State<Arc<AppState>>;

/// Longest name of a dashboard or a query.
const MAX_NAME: usize = 128;
/// Longest SQL of a saved query, in bytes.
const MAX_SQL: usize = 64 * 1024;
/// Most queries on one dashboard.
pub const MAX_QUERIES: usize = 100;
/// What a chart may be.
const CHART_TYPES: [&str; 5] = ["bar", "line", "area", "scatter", "table"];

fn query_json(query: &SavedQuery) -> Value {
    json!({
        "dashboard": query.dashboard,
        "name": query.name,
        "sql": query.sql,
        "chart": query.chart,
        "position": query.position,
        "created_by": query.created_by,
        "created_at": format_us(query.created_at),
        "updated_at": format_us(query.updated_at),
    })
}

/// The dashboards with at least one query the caller may run, and how many of them it may.
pub(crate) async fn visible_dashboards(
    state: &AppState,
    identity: &Identity,
) -> Result<Vec<weir_store::DashboardSummary>, ApiError> {
    let store = state.engine.store();
    let mut dashboards = store.dashboards().await?;
    if identity.grants().is_everything() {
        return Ok(dashboards);
    }
    let mut visible = Vec::with_capacity(dashboards.len());
    for mut dashboard in dashboards.drain(..) {
        let queries = visible_queries(state, identity, &dashboard.name).await?;
        if !queries.is_empty() {
            dashboard.queries = queries.len() as i64;
            visible.push(dashboard);
        }
    }
    Ok(visible)
}

/// A dashboard's queries that read only tables the caller is granted: a credential narrowed to
/// some tables sees neither the SQL nor the names of the others, as it could not run them.
pub(crate) async fn visible_queries(
    state: &AppState,
    identity: &Identity,
    dashboard: &str,
) -> Result<Vec<SavedQuery>, ApiError> {
    let mut queries = state.engine.store().saved_queries(dashboard).await?;
    if !identity.grants().is_everything() {
        let Some(lake) = &state.lake else {
            return Ok(Vec::new());
        };
        queries.retain(|q| crate::lake::sql_allowed(lake.as_ref(), identity, &q.sql).is_ok());
    }
    Ok(queries)
}

pub async fn list(State(state): Shared, Extension(identity): Extension<Identity>) -> ApiResult {
    let dashboards = visible_dashboards(&state, &identity).await?;
    Ok(Json(json!({ "dashboards": dashboards })))
}

pub async fn show(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    Path(dashboard): Path<String>,
) -> ApiResult {
    let queries = visible_queries(&state, &identity, &dashboard).await?;
    if queries.is_empty() {
        return Err(no_dashboard(&dashboard));
    }
    Ok(Json(json!({
        "dashboard": dashboard,
        "queries": queries.iter().map(query_json).collect::<Vec<_>>(),
    })))
}

pub async fn delete(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    Path(dashboard): Path<String>,
) -> ApiResult {
    let queries = state.engine.store().saved_queries(&dashboard).await?;
    let visible = visible_queries(&state, &identity, &dashboard).await?;
    if visible.is_empty() {
        return Err(no_dashboard(&dashboard));
    }
    // Deleting a dashboard deletes every query on it: only a caller who may see them all.
    if visible.len() < queries.len() {
        return Err(ApiError {
            status: axum::http::StatusCode::FORBIDDEN,
            code: "forbidden",
            message: format!(
                "dashboard `{dashboard}` holds queries of tables your credential is not granted;                  delete your own queries one by one"
            ),
        });
    }
    commit(
        &state,
        QueryMutation::DeleteDashboard {
            dashboard: dashboard.clone(),
        },
    )
    .await?;
    Ok(Json(
        json!({ "dashboard": dashboard, "deleted": queries.len() }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryBody {
    pub sql: String,
    pub chart: Value,
    /// Where the chart sits (ascending); by default where it was, or after the others.
    pub position: Option<i32>,
}

pub async fn put_query(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    Path((dashboard, name)): Path<(String, String)>,
    body: Result<Json<QueryBody>, JsonRejection>,
) -> ApiResult {
    check_name("dashboard", &dashboard)?;
    check_name("name", &name)?;
    let Json(body) = body?;
    check_sql(&state, &identity, &body.sql)?;
    check_chart(&body.chart)?;
    let store = state.engine.store();
    let existing = store.saved_queries(&dashboard).await?;
    let previous = existing.iter().find(|q| q.name == name);
    // Replacing a query is for a caller who may see it (and so run it).
    if let Some(previous) = previous
        && !identity.grants().is_everything()
        && check_sql(&state, &identity, &previous.sql).is_err()
    {
        return Err(ApiError::not_found(format!(
            "dashboard `{dashboard}` has a query `{name}` your credential may not see; choose \
             another name"
        )));
    }
    if previous.is_none() && existing.len() >= MAX_QUERIES {
        return Err(ApiError::bad_request(format!(
            "dashboard `{dashboard}` has {} queries, the most one dashboard holds ({MAX_QUERIES}): \
             delete one first",
            existing.len()
        )));
    }
    let now = chrono::Utc::now().timestamp_micros();
    let position = body
        .position
        .or_else(|| previous.map(|q| q.position))
        .unwrap_or_else(|| {
            existing
                .iter()
                .map(|q| q.position.saturating_add(1))
                .max()
                .unwrap_or(0)
        });
    let query = SavedQuery {
        dashboard,
        name,
        sql: body.sql,
        chart: body.chart,
        position,
        created_by: match previous {
            Some(previous) => previous.created_by.clone(),
            None => identity.name().map(str::to_string),
        },
        created_at: previous.map_or(now, |q| q.created_at),
        updated_at: now,
    };
    commit(&state, QueryMutation::PutQuery(query.clone())).await?;
    Ok(Json(query_json(&query)))
}

pub async fn delete_query(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    Path((dashboard, name)): Path<(String, String)>,
) -> ApiResult {
    let visible = visible_queries(&state, &identity, &dashboard).await?;
    if !visible.iter().any(|q| q.name == name) {
        return Err(ApiError::not_found(format!(
            "dashboard `{dashboard}` has no query `{name}`"
        )));
    }
    commit(
        &state,
        QueryMutation::DeleteQuery {
            dashboard: dashboard.clone(),
            name: name.clone(),
        },
    )
    .await?;
    Ok(Json(
        json!({ "dashboard": dashboard, "name": name, "deleted": true }),
    ))
}

fn no_dashboard(dashboard: &str) -> ApiError {
    ApiError::not_found(format!(
        "no dashboard `{dashboard}` (it has no saved query)"
    ))
}

async fn commit(state: &AppState, mutation: QueryMutation) -> Result<(), ApiError> {
    Ok(state.engine.committer().submit(vec![mutation]).await?)
}

/// A dashboard's or a query's name: as weir's other names, letters, digits, `-` and `_`.
fn check_name(field: &str, name: &str) -> Result<(), ApiError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if name.is_empty() || name.len() > MAX_NAME || !name.chars().all(allowed) {
        return Err(ApiError::bad_request(format!(
            "`{field}` must be 1 to {MAX_NAME} letters, digits, `-` or `_`, got `{name}`"
        )));
    }
    Ok(())
}

/// The SQL is not empty, fits, only reads (asked of the lake, whose engine parses it), and reads
/// only tables the credential is granted.
fn check_sql(state: &AppState, identity: &Identity, sql: &str) -> Result<(), ApiError> {
    if sql.trim().is_empty() {
        return Err(ApiError::bad_request("`sql` must not be empty"));
    }
    if sql.len() > MAX_SQL {
        return Err(ApiError::bad_request(format!(
            "`sql` must be at most {MAX_SQL} bytes, got {}",
            sql.len()
        )));
    }
    let Some(lake) = &state.lake else {
        return Err(ApiError::unavailable(
            "this server has no lake, so saved queries cannot be checked or run",
        ));
    };
    if !lake.sql_tables(sql)?.read_only {
        return Err(ApiError::bad_request(
            "`sql` must only read (a query, EXPLAIN, DESCRIBE or SHOW): a saved query runs each \
             time its dashboard is shown",
        ));
    }
    crate::lake::sql_allowed(lake.as_ref(), identity, sql)
}

/// `{"type": "bar|line|area|scatter|table", "x": column, "y": [columns]}`: a table needs
/// nothing more; a chart needs its x column and at least one y column.
fn check_chart(chart: &Value) -> Result<(), ApiError> {
    let bad = |message: String| Err(ApiError::bad_request(message));
    let Some(fields) = chart.as_object() else {
        return bad(format!("`chart` must be an object, got {chart}"));
    };
    if let Some(key) = fields
        .keys()
        .find(|k| !["type", "x", "y"].contains(&k.as_str()))
    {
        return bad(format!(
            "`chart.{key}` is not a chart setting: a chart has `type`, `x` and `y`"
        ));
    }
    let kind = fields.get("type").and_then(Value::as_str).unwrap_or("");
    if !CHART_TYPES.contains(&kind) {
        return bad(format!(
            "`chart.type` must be one of {}, got {}",
            CHART_TYPES.join(", "),
            fields.get("type").unwrap_or(&Value::Null)
        ));
    }
    check_columns(fields, kind != "table")
}

fn check_columns(fields: &Map<String, Value>, needed: bool) -> Result<(), ApiError> {
    let bad = |message: String| Err(ApiError::bad_request(message));
    match fields.get("x") {
        Some(Value::String(x)) if !x.is_empty() => {}
        None if !needed => {}
        other => {
            return bad(format!(
                "`chart.x` must be the name of a result column, got {}",
                other.unwrap_or(&Value::Null)
            ));
        }
    }
    match fields.get("y") {
        Some(Value::Array(ys))
            if (!needed || !ys.is_empty())
                && ys.iter().all(|y| y.as_str().is_some_and(|y| !y.is_empty())) => {}
        None if !needed => {}
        other => {
            return bad(format!(
                "`chart.y` must be a list of one or more result columns' names, got {}",
                other.unwrap_or(&Value::Null)
            ));
        }
    }
    Ok(())
}

/// This subsystem's routes.
pub fn routes() -> crate::Routes {
    use crate::auth::{OPERATOR, VIEWER};
    use crate::openapi;
    crate::Routes::default()
        .get(openapi::DASHBOARDS, VIEWER, list)
        .get(openapi::DASHBOARD, VIEWER, show)
        .delete(openapi::DASHBOARD, OPERATOR, delete)
        .put(openapi::DASHBOARD_QUERY, OPERATOR, put_query)
        .delete(openapi::DASHBOARD_QUERY, OPERATOR, delete_query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_charts_are_checked_with_the_field_and_rule() {
        assert!(check_name("name", "daily_orders-2").is_ok());
        for bad in ["", "a b", "x/y", "é", &"n".repeat(129)] {
            let error = check_name("name", bad).unwrap_err();
            assert!(error.message.contains("`name` must be 1 to 128"), "{bad}");
        }
        assert!(check_chart(&json!({"type": "line", "x": "day", "y": ["n", "m"]})).is_ok());
        assert!(check_chart(&json!({"type": "table"})).is_ok());
        let cases = [
            (json!([]), "`chart` must be an object"),
            (
                json!({"type": "pie", "x": "a", "y": ["b"]}),
                "`chart.type` must be one of bar",
            ),
            (json!({"x": "a", "y": ["b"]}), "`chart.type`"),
            (json!({"type": "bar", "y": ["b"]}), "`chart.x` must be"),
            (json!({"type": "bar", "x": "a"}), "`chart.y` must be"),
            (
                json!({"type": "bar", "x": "a", "y": []}),
                "`chart.y` must be",
            ),
            (
                json!({"type": "bar", "x": "a", "y": [1]}),
                "`chart.y` must be",
            ),
            (
                json!({"type": "bar", "x": "a", "y": ["b"], "z": 1}),
                "`chart.z` is not",
            ),
        ];
        for (chart, expected) in cases {
            let error = check_chart(&chart).unwrap_err();
            assert!(
                error.message.contains(expected),
                "{chart}: {}",
                error.message
            );
        }
    }
}
