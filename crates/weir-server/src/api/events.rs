//! `/api/v1/events…` and `/api/v1/rules…`: weir's own API over the event bus, for `weir events
//! tail`, `weir rules show` and the dashboard. A bus's events are read from its durable log (a
//! stream of the streams service) from a position, waiting for new ones when asked, so a tail
//! never misses what a slow reader would lose from a broadcast. The EventBridge protocol on
//! `POST /` serves the same buses, rules and targets to AWS clients.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use weir_engine::events::Events;
use weir_stream::{ShardId, StartingPosition};

use super::ApiResult;
use crate::auth::Identity;
use crate::aws::events::shapes;
use crate::{ApiError, AppState};

type Shared = State<Arc<AppState>>;

const MAX_READ_EVENTS: usize = 1000;
const MAX_WAIT_MS: u64 = 20_000;

fn events(state: &AppState) -> Result<&Events, ApiError> {
    state
        .events
        .as_ref()
        .ok_or_else(|| ApiError::unavailable("the event bus is not running on this server"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TailQuery {
    /// `latest` (default), `trim_horizon`, or a position a previous read answered as `next`.
    from: Option<String>,
    limit: Option<usize>,
    /// Milliseconds to wait for a first event when there is none yet (at most 20,000).
    wait_ms: Option<u64>,
}

/// A bus's events from a position: `{events, next}`; `next` is where the following read starts.
pub async fn tail(
    State(state): Shared,
    Path(bus): Path<String>,
    query: Result<Query<TailQuery>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query?;
    let events = events(&state)?;
    events.describe_bus(&bus).map_err(not_found)?;
    let streams = state
        .streams
        .as_ref()
        .ok_or_else(|| ApiError::unavailable("streams are not running on this server"))?;
    let log = weir_engine::events::bus_stream(&bus);
    let shard = ShardId(0);
    let from = query.from.as_deref().unwrap_or("latest");
    let offset = match from {
        "latest" => streams.start_offset(&log, shard, StartingPosition::Latest)?,
        "trim_horizon" => streams.start_offset(&log, shard, StartingPosition::TrimHorizon)?,
        position => position.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!(
                "from: `{position}` is not latest, trim_horizon or a position this API answered"
            ))
        })?,
    };
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_READ_EVENTS);
    let wait = Duration::from_millis(query.wait_ms.unwrap_or(0).min(MAX_WAIT_MS));
    let batch = super::streams::read_waiting(streams, &log, shard, offset, limit, wait).await?;
    let events: Vec<weir_engine::events::model::Event> = batch
        .records
        .iter()
        .filter_map(|record| weir_engine::events::logged_event(&record.data))
        .collect();
    Ok(Json(json!({ "events": events, "next": batch.next_offset })))
}

fn not_found(error: weir_engine::events::EventsError) -> ApiError {
    ApiError::not_found(error.to_string())
}

/// Every rule of every bus the caller is granted, with its targets and what it did lately.
pub async fn rules(State(state): Shared, Extension(identity): Extension<Identity>) -> ApiResult {
    let events = events(&state)?;
    let grants = identity.grants();
    let mut rules = Vec::new();
    for bus in events.list_buses(None) {
        if !grants.pipeline(&bus.name) {
            continue;
        }
        for rule in events.list_rules(&bus.name, None) {
            rules.push(rule_json(events, &bus.name, &rule.name));
        }
    }
    Ok(Json(json!({ "rules": rules })))
}

/// One rule with its targets and its recent matches and failures.
pub async fn rule(State(state): Shared, Path((bus, name)): Path<(String, String)>) -> ApiResult {
    let events = events(&state)?;
    events.describe_rule(&bus, &name).map_err(not_found)?;
    Ok(Json(rule_json(events, &bus, &name)))
}

fn rule_json(events: &Events, bus: &str, name: &str) -> Value {
    // In the EventBridge API's own shapes, so a rule reads the same here and there.
    let rule = events
        .describe_rule(bus, name)
        .map(|info| shapes::rule(&info))
        .unwrap_or(Value::Null);
    let targets: Vec<Value> = events
        .list_targets(bus, name)
        .unwrap_or_default()
        .iter()
        .map(shapes::target)
        .collect();
    json!({
        "bus": bus,
        "name": name,
        "rule": rule,
        "targets": targets,
        "stats": events.rule_stats(bus, name),
    })
}

/// This subsystem's routes.
pub fn routes() -> crate::Routes {
    use crate::auth::VIEWER;
    use crate::openapi;
    crate::Routes::default()
        .get(openapi::BUS_EVENTS, VIEWER, tail)
        .get(openapi::RULES, VIEWER, rules)
        .get(openapi::RULE, VIEWER, rule)
}
