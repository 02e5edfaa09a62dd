//! GetFunction: a function's configuration and where its definition lives.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Qualified, Shared, account_of, configuration, not_found, resolve};

/// `GET /2015-03-31/functions/{name}`: GetFunction.
pub async fn handle(
    State(state): Shared,
    Path(raw): Path<String>,
    Query(query): Query<Qualified>,
) -> Response {
    let functions = state.engine.functions();
    let name = match resolve(&raw, query.qualifier.as_deref(), &functions) {
        Ok(name) => name,
        Err(error) => return error.into_response(),
    };
    match functions.get(&name) {
        Some(info) => Json(json!({
            "Configuration": configuration(&info, account_of(&info.arn)),
            "Code": { "RepositoryType": "weir", "Location": info.file },
        }))
        .into_response(),
        None => not_found(&name, &functions),
    }
}
