//! The OpenAPI document of the native API. Routes are registered from the same path constants the
//! document lists, and a test checks the two agree.

use axum::Json;
use serde_json::{Value, json};

pub const OPENAPI: &str = "/api/v1/openapi.json";
pub const PIPELINES: &str = "/api/v1/pipelines";
pub const PIPELINE: &str = "/api/v1/pipelines/{name}";
pub const PIPELINE_RUNS: &str = "/api/v1/pipelines/{name}/runs";
pub const PIPELINE_BACKFILL: &str = "/api/v1/pipelines/{name}/backfill";
pub const PIPELINE_PAUSE: &str = "/api/v1/pipelines/{name}/pause";
pub const PIPELINE_UNPAUSE: &str = "/api/v1/pipelines/{name}/unpause";
pub const RELOAD: &str = "/api/v1/reload";
pub const RUNS: &str = "/api/v1/runs";
pub const RUN: &str = "/api/v1/runs/{run_id}";
pub const RUN_WAIT: &str = "/api/v1/runs/{run_id}/wait";
pub const RUN_EVENTS: &str = "/api/v1/runs/{run_id}/events";
pub const RUN_ATTEMPTS: &str = "/api/v1/runs/{run_id}/attempts";
pub const RUN_LOGS: &str = "/api/v1/runs/{run_id}/logs";
pub const RUN_RETRY: &str = "/api/v1/runs/{run_id}/retry";
pub const RUN_CANCEL: &str = "/api/v1/runs/{run_id}/cancel";
pub const RUN_MARK: &str = "/api/v1/runs/{run_id}/mark";
pub const RUNS_BULK: &str = "/api/v1/runs/bulk";
pub const TASK_MARK: &str = "/api/v1/runs/{run_id}/tasks/{task_id}/mark";
pub const LAKE_OBJECTS: &str = "/api/v1/lake/objects";
pub const LAKE_OBJECT: &str = "/api/v1/lake/objects/{*key}";
pub const CATALOG_DATABASES: &str = "/api/v1/catalog/databases";
pub const CATALOG_DATABASE: &str = "/api/v1/catalog/databases/{name}";
pub const CATALOG_TABLES: &str = "/api/v1/catalog/tables";
pub const CATALOG_TABLE: &str = "/api/v1/catalog/tables/{database}/{name}";
pub const CRAWL: &str = "/api/v1/crawl";
pub const SQL: &str = "/api/v1/sql";
pub const TRANSFORM_CHECK: &str = "/api/v1/transforms/{name}/check";
pub const TRANSFORM_PREVIEW: &str = "/api/v1/transforms/{name}/preview";
pub const CATALOG_TABLE_PROFILE: &str = "/api/v1/catalog/tables/{database}/{name}/profile";
pub const FUNCTIONS: &str = "/api/v1/functions";
pub const FUNCTION: &str = "/api/v1/functions/{name}";
pub const FUNCTION_INVOKE: &str = "/api/v1/functions/{name}/invoke";
pub const FUNCTION_INVOCATIONS: &str = "/api/v1/functions/{name}/invocations";
pub const FUNCTION_INVOCATION_LOG: &str =
    "/api/v1/functions/{name}/invocations/{invocation_id}/log";
pub const TOKENS: &str = "/api/v1/tokens";
pub const TOKEN: &str = "/api/v1/tokens/{name}";
pub const AUDIT: &str = "/api/v1/audit";
pub const SESSION: &str = "/api/v1/session";
pub const LOGOUT: &str = "/api/v1/logout";
pub const SECRETS: &str = "/api/v1/secrets";
pub const SECRET: &str = "/api/v1/secrets/{name}";
pub const STREAMS: &str = "/api/v1/streams";
pub const STREAM: &str = "/api/v1/streams/{name}";
pub const STREAM_RECORDS: &str = "/api/v1/streams/{name}/records";
pub const STREAM_CONSUMERS: &str = "/api/v1/streams/{name}/consumers";
pub const BUS_EVENTS: &str = "/api/v1/events/{bus}";
pub const RULES: &str = "/api/v1/rules";
pub const RULE: &str = "/api/v1/rules/{bus}/{name}";
pub const DASHBOARDS: &str = "/api/v1/dashboards";
pub const DASHBOARD: &str = "/api/v1/dashboards/{dashboard}";
pub const DASHBOARD_QUERY: &str = "/api/v1/dashboards/{dashboard}/queries/{name}";
pub const SHARD_RECORDS: &str = "/api/v1/streams/{name}/shards/{shard}/records";
// Transforms: running them and their bookmarks.
pub const TRANSFORMS: &str = "/api/v1/transforms";
pub const TRANSFORM_RUNS: &str = "/api/v1/transforms/{name}/runs";
pub const TRANSFORM_BOOKMARK: &str = "/api/v1/transforms/{name}/bookmark";

pub async fn document() -> Json<Value> {
    Json(spec())
}

fn op(summary: &str, params: &[&str], body: Option<Value>, ok: &str) -> Value {
    let mut parameters: Vec<Value> = params
        .iter()
        .map(|p| {
            let (name, location) = match p.strip_prefix('?') {
                Some(q) => (q, "query"),
                None => (*p, "path"),
            };
            json!({ "name": name, "in": location, "required": location == "path", "schema": { "type": if name == "limit" || name == "map_index" || name == "try" { "integer" } else if name == "timeout" { "number" } else { "string" } } })
        })
        .collect();
    parameters.sort_by_key(|p| p["in"] != "path");
    let mut operation = json!({
        "summary": summary,
        "parameters": parameters,
        "responses": {
            ok: { "description": "OK", "content": { "application/json": { "schema": { "type": "object" } } } },
            "default": { "description": "Error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
        }
    });
    if let Some(schema) = body {
        operation["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": schema } } });
    }
    operation
}

pub fn spec() -> Value {
    let mut spec = json!({
        "openapi": "3.1.0",
        "info": { "title": "weir", "version": env!("CARGO_PKG_VERSION"), "description": "weir's native REST API: pipelines, runs, logs, functions." },
        "paths": {
            OPENAPI: { "get": op("This document", &[], None, "200") },
            PIPELINES: { "get": op("Pipelines in force and the problems of definitions that are not", &[], None, "200") },
            PIPELINE: { "get": op("One pipeline", &["name"], None, "200") },
            PIPELINE_RUNS: {
                "get": op("Runs of a pipeline, newest first", &["name", "?limit"], None, "200"),
                "post": op("Trigger a run", &["name"], Some(json!({ "type": "object", "additionalProperties": false, "properties": { "params": { "type": "object" }, "logical_date": { "type": "string" } } })), "201")
            },
            PIPELINE_BACKFILL: { "post": op("One run per schedule interval starting in [from, to]", &["name"], Some(json!({ "type": "object", "additionalProperties": false, "required": ["from", "to"], "properties": { "from": { "type": "string" }, "to": { "type": "string" } } })), "201") },
            PIPELINE_PAUSE: { "post": op("Stop scheduling new runs", &["name"], None, "200") },
            PIPELINE_UNPAUSE: { "post": op("Resume scheduling", &["name"], None, "200") },
            RELOAD: { "post": op("Re-read the definitions now", &[], None, "200") },
            RUNS: { "get": op("Runs, newest first", &["?pipeline", "?limit"], None, "200") },
            RUN: { "get": op("A run and its task instances", &["run_id"], None, "200") },
            RUN_WAIT: { "get": op("Wait until the run ends (at most `timeout` seconds, 60 at most)", &["run_id", "?timeout"], None, "200") },
            RUN_EVENTS: { "get": op("The run's audit trail: every state change with its time", &["run_id"], None, "200") },
            RUN_ATTEMPTS: { "get": op("Every attempt of every task", &["run_id", "?task"], None, "200") },
            RUN_LOGS: { "get": op("Logs of every attempt, by range: bytes offset..offset+length (at most 1 MiB) of each, with the log's size and the next_offset to read from (follow a running attempt by asking again from it)", &["run_id", "?task", "?map_index", "?try", "?offset", "?length"], None, "200") },
            RUN_RETRY: { "post": op("Retry from failure: rerun failed, upstream-failed, skipped and cancelled tasks and their downstream", &["run_id"], None, "200") },
            RUN_CANCEL: { "post": op("Cancel a queued or running run", &["run_id"], None, "200") },
            LAKE_OBJECTS: { "get": op("Objects in the lake under a prefix", &["?prefix"], None, "200") },
            LAKE_OBJECT: {
                "get": op("An object's bytes", &["key"], None, "200"),
                "put": op("Write an object (the body is its bytes, streamed to the store: no size limit)", &["key"], Some(json!({ "type": "string", "format": "binary" })), "201"),
                "delete": op("Delete an object", &["key"], None, "200")
            },
            CATALOG_DATABASES: {
                "get": op("Catalog databases", &[], None, "200"),
                "post": op("Create a database", &[], Some(json!({ "type": "object", "required": ["name"], "additionalProperties": false, "properties": { "name": { "type": "string" }, "description": { "type": "string" } } })), "201")
            },
            CATALOG_DATABASE: { "delete": op("Drop a database (cascade=true drops its tables)", &["name", "?cascade"], None, "200") },
            CATALOG_TABLES: {
                "get": op("Catalog tables", &["?database"], None, "200"),
                "post": op("Register a table", &[], Some(json!({ "type": "object" })), "201")
            },
            CATALOG_TABLE: {
                "get": op("A table: schema, partitions, statistics and files", &["database", "name"], None, "200"),
                "delete": op("Drop a table from the catalog", &["database", "name"], None, "200")
            },
            CRAWL: { "post": op("Crawl a prefix into tables", &[], Some(json!({ "type": "object", "required": ["prefix"], "additionalProperties": false, "properties": { "prefix": { "type": "string" }, "database": { "type": "string" }, "table": { "type": "string" } } })), "200") },
            SQL: { "post": op("Run SQL. format json (default): one document with columns, rows (at most max_rows, default 10,000, 0 for up to 1,000,000), row_count and truncated. format csv, jsonl or arrow: the result streamed as it is computed, every row unless max_rows is given; with `TE: trailers`, the trailers weir-row-count and weir-truncated say what was sent", &[], Some(json!({ "type": "object", "required": ["query"], "additionalProperties": false, "properties": { "query": { "type": "string" }, "max_rows": { "type": "integer", "minimum": 0 }, "format": { "enum": ["json", "csv", "jsonl", "arrow"] } } })), "200"),
                "get": op("Run a statement that only reads, as a link (statements that write are refused): the POST's answer, with query, max_rows and format as query parameters; the streamed formats come as a file (Content-Disposition: attachment)", &["?query", "?max_rows", "?format"], None, "200") },
            TASK_MARK: { "post": op("Mark a task instance success or failed by hand", &["run_id", "task_id"], Some(json!({ "type": "object", "additionalProperties": false, "required": ["state"], "properties": { "state": { "enum": ["success", "failed"] }, "map_index": { "type": "integer" } } })), "200") }
        },
        "components": {
            "schemas": {
                "Error": { "type": "object", "properties": { "error": { "type": "object", "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } } }
            }
        }
    });
    // Added apart: one json! literal for every path exceeds the macro's recursion limit.
    if let Some(paths) = spec["paths"].as_object_mut() {
        paths.extend(function_paths());
        paths.extend(access_paths());
        paths.extend(secret_paths());
        paths.extend(transform_run_paths());
        paths.extend(stream_paths());
        paths.extend(event_paths());
        paths.extend(run_action_paths());
        paths.extend(dashboard_paths());
        paths.extend(transform_paths());
    }
    spec
}

/// Transforms checked and previewed, and a table's profile.
fn transform_paths() -> serde_json::Map<String, Value> {
    let paths = json!({
        CATALOG_TABLE_PROFILE: { "get": op("A data-quality profile of a table: rows, and per column nulls, approximate distinct values, min, max and the five most frequent values", &["database", "name"], None, "200") },
        TRANSFORM_CHECK: { "post": op("Check a transform's recipe against the catalog without running it: its problems at file:line:column (none: it compiles)", &["name"], None, "200") },
        TRANSFORM_PREVIEW: { "post": op("Preview a transform: the first rows of its source and of each step's output over them (or the recipe's problems)", &["name", "?rows"], None, "200") },
    });
    match paths {
        Value::Object(paths) => paths,
        _ => serde_json::Map::new(),
    }
}

/// Marking a whole run, and actions on many runs.
fn run_action_paths() -> serde_json::Map<String, Value> {
    let paths = json!({
        RUN_MARK: { "post": op("Mark a whole run success or failed by hand, as Airflow's \"mark run as\": for success every task instance that neither succeeded nor was skipped succeeds, for failed every one not yet ended fails; running attempts are stopped and the run ends in the state", &["run_id"], Some(json!({ "type": "object", "additionalProperties": false, "required": ["state"], "properties": { "state": { "enum": ["success", "failed"] } } })), "200") },
        RUNS_BULK: { "post": op("One action on 1 to 1,000 runs, each checked and done as its own route does it: {results: [{run, ok: true, state} | {run, ok: false, error: {code, message}}]} in the order given", &[], Some(json!({ "type": "object", "additionalProperties": false, "required": ["action", "runs"], "properties": { "action": { "enum": ["retry", "cancel", "mark_success", "mark_failed"] }, "runs": { "type": "array", "minItems": 1, "maxItems": 1000, "items": { "type": "string" } } } })), "200") },
    });
    match paths {
        Value::Object(paths) => paths,
        _ => serde_json::Map::new(),
    }
}

/// The `/api/v1/dashboards…` paths: saved queries charted together.
fn dashboard_paths() -> serde_json::Map<String, Value> {
    let query = json!({ "type": "object", "additionalProperties": false, "required": ["sql", "chart"], "properties": {
        "sql": { "type": "string", "minLength": 1, "maxLength": 65536, "description": "read-only SQL (queries, EXPLAIN, DESCRIBE, SHOW)" },
        "chart": { "type": "object", "additionalProperties": false, "required": ["type"], "properties": { "type": { "enum": ["bar", "line", "area", "scatter", "table"] }, "x": { "type": "string" }, "y": { "type": "array", "items": { "type": "string" } } } },
        "position": { "type": "integer" }
    } });
    let paths = json!({
        DASHBOARDS: { "get": op("Dashboards: each name with how many queries it has", &[], None, "200") },
        DASHBOARD: {
            "get": op("A dashboard's saved queries in position order, each with its SQL and chart", &["dashboard"], None, "200"),
            "delete": op("Delete a dashboard and every query on it", &["dashboard"], None, "200")
        },
        DASHBOARD_QUERY: {
            "put": op("Save a query on a dashboard (created or replaced; at most 100 per dashboard)", &["dashboard", "name"], Some(query), "200"),
            "delete": op("Delete a saved query", &["dashboard", "name"], None, "200")
        },
    });
    match paths {
        Value::Object(paths) => paths,
        _ => serde_json::Map::new(),
    }
}

/// The `/api/v1/functions…` paths.
fn function_paths() -> serde_json::Map<String, Value> {
    let paths = json!({
        FUNCTIONS: { "get": op("Functions in force and the problems of definitions that are not", &[], None, "200") },
        FUNCTION: { "get": op("One function: command, timeout, max_concurrency, ARN", &["name"], None, "200") },
        FUNCTION_INVOKE: { "post": op("Invoke a function: the body is the event (JSON; empty means {}). 200: {invocation_id, result, duration_ms}; 422 when the function failed: {invocation_id, error, cause}", &["name"], Some(json!({})), "200") },
        FUNCTION_INVOCATIONS: { "get": op("Ids of the most recent invocations that have a log, newest first", &["name", "?limit"], None, "200") },
        FUNCTION_INVOCATION_LOG: { "get": op("An invocation's log: its payload, the command's stderr, its result or error", &["name", "invocation_id"], None, "200") },
    });
    match paths {
        Value::Object(paths) => paths,
        _ => serde_json::Map::new(),
    }
}

/// The credentials, the audit log and the browser's session.
fn access_paths() -> serde_json::Map<String, Value> {
    let paths = json!({
        TOKENS: {
            "get": op("Credentials (admin): name, role, grants, access key id, state; never their secrets", &[], None, "200"),
            "post": op("Create a credential (admin). The answer holds its token and AWS key pair, shown this once", &[], Some(json!({ "type": "object", "required": ["role"], "additionalProperties": false, "properties": { "name": { "type": "string" }, "role": { "enum": ["viewer", "operator", "admin"] }, "pipelines": { "type": "array", "items": { "type": "string" } }, "tables": { "type": "array", "items": { "type": "string" } }, "prefixes": { "type": "array", "items": { "type": "string" } }, "expires": { "type": "string" } } })), "201")
        },
        TOKEN: { "delete": op("Revoke a credential (admin): its token, key pair and sessions stop working at once", &["name"], None, "200") },
        AUDIT: { "get": op("The audit log (admin): every mutating call and every refused one, oldest first; page with after=next_after", &["?since", "?after", "?limit"], None, "200") },
        SESSION: { "get": op("Who the caller is: name, role, grants, and the session's CSRF token for X-CSRF-Token", &[], None, "200") },
        LOGOUT: { "post": op("End the browser session (clears the cookie)", &[], None, "200") },
    });
    match paths {
        Value::Object(paths) => paths,
        _ => serde_json::Map::new(),
    }
}

/// The `/api/v1/transforms…` paths that run transforms and keep their bookmarks.
fn transform_run_paths() -> serde_json::Map<String, Value> {
    let paths = json!({
        TRANSFORMS: { "get": op("The project's transforms (transforms/*.yaml and flows/*.yaml): name, file, description, whether bookmarked, or the file's problems", &[], None, "200") },
        TRANSFORM_RUNS: { "post": op("Run a transform now, on the server (operator, and grants on every table it reads and writes); answers when its output and bookmark have committed: rows_in, rows_out, rows_quarantined, files, bookmark", &["name"], None, "200") },
        TRANSFORM_BOOKMARK: {
            "get": op("The transform's bookmark: state (a column's high-water mark, or counts of objects read), run, updated_at, objects; null when it has none", &["name"], None, "200"),
            "delete": op("Reset the bookmark (operator): the next run reads everything", &["name"], None, "200")
        },
    });
    match paths {
        Value::Object(paths) => paths,
        _ => serde_json::Map::new(),
    }
}

/// The `/api/v1/secrets…` paths.
fn secret_paths() -> serde_json::Map<String, Value> {
    let paths = json!({
        SECRETS: { "get": op("Secrets in force: name, source (environment, file or store), updated_at; never values", &[], None, "200") },
        SECRET: {
            "put": op("Set a secret in the store (sealed with the server's key); answers it as listed, without its value", &["name"], Some(json!({ "type": "object", "required": ["value"], "additionalProperties": false, "properties": { "value": { "type": "string", "maxLength": 65536 } } })), "200"),
            "delete": op("Remove a secret from the store", &["name"], None, "200")
        },
    });
    match paths {
        Value::Object(paths) => paths,
        _ => serde_json::Map::new(),
    }
}

/// The `/api/v1/events…` and `/api/v1/rules…` paths.
fn event_paths() -> serde_json::Map<String, Value> {
    let paths = json!({
        BUS_EVENTS: { "get": op("A bus's events from `from` (latest, trim_horizon, or a `next` this API answered), up to `limit`, waiting up to `wait_ms` for the first: {events, next}", &["bus", "?from", "?limit", "?wait_ms"], None, "200") },
        RULES: { "get": op("Every rule of every bus: its description, targets and stats (matched, delivered, failed, last match and failure)", &[], None, "200") },
        RULE: { "get": op("One rule: its description, targets and stats", &["bus", "name"], None, "200") },
    });
    match paths {
        Value::Object(paths) => paths,
        _ => serde_json::Map::new(),
    }
}

/// The `/api/v1/streams…` paths.
fn stream_paths() -> serde_json::Map<String, Value> {
    let paths = json!({
        STREAMS: {
            "get": op("Streams: name, ARN, status, mode, created_ms", &[], None, "200"),
            "post": op("Create a stream (admin): provisioned with `shards` (default 1), or `mode: ON_DEMAND` (4 shards)", &[], Some(json!({ "type": "object", "required": ["name"], "additionalProperties": false, "properties": { "name": { "type": "string" }, "shards": { "type": "integer" }, "mode": { "enum": ["PROVISIONED", "ON_DEMAND"] } } })), "200")
        },
        STREAM: {
            "get": op("A stream: status, mode, retention, and every shard not yet expired with its hash-key range, sequence range and parents", &["name"], None, "200"),
            "delete": op("Delete a stream and its log (admin)", &["name"], None, "200")
        },
        STREAM_CONSUMERS: { "get": op("The consumer groups reading the stream on this server (event source mappings, deliveries): per group its name and who reads, per shard it holds the checkpoint, records_behind (records after the checkpoint) and millis_behind (the age of the oldest record not yet processed, 0 when caught up)", &["name"], None, "200") },
        STREAM_RECORDS: { "post": op("Put 1-500 records, each durable before the answer: {records: [{partition_key, data | data_base64, explicit_hash_key?}]}; per record its shard_id and sequence_number, or error_code and error_message", &["name"], Some(json!({ "type": "object", "required": ["records"], "properties": { "records": { "type": "array", "maxItems": 500 } } })), "200") },
        SHARD_RECORDS: { "get": op("Read a shard from `from` (trim_horizon, latest, at:SEQ, after:SEQ, at_timestamp:MS, offset:N), up to `limit` records, waiting up to `wait_ms` for the first; next_offset continues", &["name", "shard", "?from", "?limit", "?wait_ms"], None, "200") },
    });
    match paths {
        Value::Object(paths) => paths,
        _ => serde_json::Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The document and the router agree: every native route the router serves (read from the
    /// router's own table of rules) is documented with its method, and nothing else is.
    #[test]
    fn every_route_is_documented_and_routed() {
        let routed: BTreeSet<(String, String)> = crate::routes()
            .rules()
            .iter()
            .filter(|rule| rule.path.starts_with("/api/v1"))
            .map(|rule| (rule.path.to_string(), rule.method.as_str().to_lowercase()))
            .collect();
        let spec = spec();
        let documented: BTreeSet<(String, String)> = spec["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, methods)| {
                methods
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(move |method| (path.clone(), method.clone()))
            })
            .collect();
        let undocumented: Vec<_> = routed.difference(&documented).collect();
        let unrouted: Vec<_> = documented.difference(&routed).collect();
        assert!(
            undocumented.is_empty(),
            "routed but not documented: {undocumented:?}"
        );
        assert!(
            unrouted.is_empty(),
            "documented but not routed: {unrouted:?}"
        );
    }
}
