//! ListEventSourceMappings: by function, by stream or queue, or all, a page at a time (`Marker`,
//! `MaxItems`, 100 by default).

use axum::Extension;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::event_source_mapping::{configuration, mappings, source_of};
use super::{Shared, aws_error, resolve};

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(rename = "FunctionName")]
    function_name: Option<String>,
    #[serde(rename = "EventSourceArn")]
    event_source_arn: Option<String>,
    #[serde(rename = "Marker")]
    marker: Option<String>,
    #[serde(rename = "MaxItems")]
    max_items: Option<String>,
}

/// `GET /2015-03-31/event-source-mappings`.
pub async fn handle(
    state: Shared,
    Extension(identity): Extension<crate::auth::Identity>,
    Query(query): Query<ListQuery>,
) -> Response {
    if let Err(error) = super::event_source_mapping::unnarrowed(&identity) {
        return error.into_response();
    }
    match list(state, query).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn list(state: Shared, query: ListQuery) -> Result<Response, super::AwsError> {
    let sources = mappings(&state)?;
    let State(app) = &state;
    let function = match &query.function_name {
        Some(name) => Some(resolve(name, None, &app.engine.functions())?),
        None => None,
    };
    let source = query
        .event_source_arn
        .as_deref()
        .map(source_of)
        .transpose()?;
    let max_items = match query.max_items.as_deref() {
        None => 100,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=10_000).contains(&n) => n,
            _ => {
                return Err(aws_error(
                    StatusCode::BAD_REQUEST,
                    "ValidationException",
                    format!(
                        "1 validation error detected: Value '{text}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000"
                    ),
                ));
            }
        },
    };
    // The marker is the position of the page's first mapping.
    let start = match query.marker.as_deref() {
        None => 0,
        Some(text) => text.parse::<usize>().map_err(|_| {
            aws_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                format!("Invalid Marker: {text}"),
            )
        })?,
    };
    let all = sources.list(function.as_deref(), source).await;
    let page: Vec<_> = all
        .iter()
        .skip(start)
        .take(max_items)
        .map(|info| configuration(info, &info.state))
        .collect();
    let mut body = json!({ "EventSourceMappings": page });
    if start + max_items < all.len() {
        body["NextMarker"] = json!((start + max_items).to_string());
    }
    Ok(Json(body).into_response())
}
