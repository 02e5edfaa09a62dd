//! ListFunctions: every function, in one page.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Shared, account_of, configuration};

/// `GET /2015-03-31/functions/`: ListFunctions (every function in one page).
pub async fn handle(State(state): Shared) -> Response {
    let (functions, _) = state.engine.functions().list();
    let listed: Vec<Value> = functions
        .iter()
        .map(|f| configuration(f, account_of(&f.arn)))
        .collect();
    Json(json!({ "Functions": listed })).into_response()
}
