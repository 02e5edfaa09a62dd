//! `/api/v1/lake…`, `/api/v1/catalog…`, `/api/v1/crawl`, `/api/v1/sql`: the lake, the catalog,
//! the crawler and SQL over HTTP. The work is done behind [`LakeService`], which the binary
//! implements with `weir-lake`: this crate stays free of DataFusion.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{ApiError, AppState};

/// A failure of a lake operation, with the HTTP status it maps to.
#[derive(Debug)]
pub struct ServiceError {
    pub status: u16,
    pub message: String,
}

impl ServiceError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ServiceError {
            status,
            message: message.into(),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let status =
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = match error.status {
            400 => "invalid_request",
            404 => "not_found",
            409 => "conflict",
            _ => "lake_error",
        };
        ApiError {
            status,
            code,
            message: error.message,
        }
    }
}

pub type ServiceResult<T = Value> = Result<T, ServiceError>;

/// The lake operations the HTTP API offers. Results are JSON documents as the API returns them.
#[async_trait::async_trait]
pub trait LakeService: Send + Sync {
    async fn list(&self, prefix: &str) -> ServiceResult;
    async fn put(&self, key: &str, body: Bytes) -> ServiceResult;
    async fn get(&self, key: &str) -> ServiceResult<Bytes>;
    async fn delete(&self, key: &str) -> ServiceResult;
    async fn databases(&self) -> ServiceResult;
    async fn create_database(&self, name: &str, description: Option<&str>) -> ServiceResult;
    async fn drop_database(&self, name: &str, cascade: bool) -> ServiceResult;
    async fn tables(&self, database: Option<&str>) -> ServiceResult;
    async fn table(&self, database: &str, name: &str) -> ServiceResult;
    /// Registers a table described as the catalog's `Table` JSON.
    async fn create_table(&self, spec: Value) -> ServiceResult;
    async fn drop_table(&self, database: &str, name: &str) -> ServiceResult;
    async fn crawl(
        &self,
        prefix: &str,
        database: Option<&str>,
        table: Option<&str>,
    ) -> ServiceResult;
    /// Runs one statement; `max_rows` bounds the rows returned (the count is exact).
    async fn sql(&self, query: &str, max_rows: usize) -> ServiceResult;
}

type Shared = State<Arc<AppState>>;

fn service(state: &AppState) -> Result<&Arc<dyn LakeService>, ApiError> {
    state.lake.as_ref().ok_or_else(|| ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "unavailable",
        message: "this server has no lake".into(),
    })
}

#[derive(Deserialize)]
pub struct PrefixQuery {
    pub prefix: Option<String>,
}

pub async fn list(
    State(state): Shared,
    query: Result<Query<PrefixQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    Ok(Json(
        service(&state)?
            .list(query.prefix.as_deref().unwrap_or(""))
            .await?,
    ))
}

pub async fn put(
    State(state): Shared,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(service(&state)?.put(&key, body).await?),
    ))
}

pub async fn get(State(state): Shared, Path(key): Path<String>) -> Result<Response, ApiError> {
    let bytes = service(&state)?.get(&key).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

pub async fn delete(
    State(state): Shared,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service(&state)?.delete(&key).await?))
}

pub async fn databases(State(state): Shared) -> Result<Json<Value>, ApiError> {
    Ok(Json(service(&state)?.databases().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseBody {
    pub name: String,
    pub description: Option<String>,
}

pub async fn create_database(
    State(state): Shared,
    body: Result<Json<DatabaseBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body?;
    Ok((
        StatusCode::CREATED,
        Json(
            service(&state)?
                .create_database(&body.name, body.description.as_deref())
                .await?,
        ),
    ))
}

#[derive(Deserialize)]
pub struct CascadeQuery {
    pub cascade: Option<bool>,
}

pub async fn drop_database(
    State(state): Shared,
    Path(name): Path<String>,
    query: Result<Query<CascadeQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    Ok(Json(
        service(&state)?
            .drop_database(&name, query.cascade.unwrap_or(false))
            .await?,
    ))
}

#[derive(Deserialize)]
pub struct DatabaseQuery {
    pub database: Option<String>,
}

pub async fn tables(
    State(state): Shared,
    query: Result<Query<DatabaseQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    Ok(Json(
        service(&state)?.tables(query.database.as_deref()).await?,
    ))
}

pub async fn table(
    State(state): Shared,
    Path((database, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service(&state)?.table(&database, &name).await?))
}

pub async fn create_table(
    State(state): Shared,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body?;
    Ok((
        StatusCode::CREATED,
        Json(service(&state)?.create_table(body).await?),
    ))
}

pub async fn drop_table(
    State(state): Shared,
    Path((database, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service(&state)?.drop_table(&database, &name).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrawlBody {
    pub prefix: String,
    pub database: Option<String>,
    pub table: Option<String>,
}

pub async fn crawl(
    State(state): Shared,
    body: Result<Json<CrawlBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    Ok(Json(
        service(&state)?
            .crawl(
                &body.prefix,
                body.database.as_deref(),
                body.table.as_deref(),
            )
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlBody {
    pub query: String,
    pub max_rows: Option<usize>,
}

pub async fn sql(
    State(state): Shared,
    body: Result<Json<SqlBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    if body.query.trim().is_empty() {
        return Err(ApiError::bad_request("`query` must not be empty"));
    }
    let result = service(&state)?
        .sql(&body.query, body.max_rows.unwrap_or(10_000).min(1_000_000))
        .await?;
    Ok(Json(json!(result)))
}

/// This subsystem's routes.
pub fn routes() -> crate::Routes {
    use crate::openapi;
    use axum::routing::{get, post};
    axum::Router::new()
        .route(openapi::LAKE_OBJECTS, get(list))
        .route(openapi::LAKE_OBJECT, get(self::get).put(put).delete(delete))
        .route(
            openapi::CATALOG_DATABASES,
            get(databases).post(create_database),
        )
        .route(
            openapi::CATALOG_DATABASE,
            axum::routing::delete(drop_database),
        )
        .route(openapi::CATALOG_TABLES, get(tables).post(create_table))
        .route(openapi::CATALOG_TABLE, get(table).delete(drop_table))
        .route(openapi::CRAWL, post(crawl))
        .route(openapi::SQL, post(sql))
}
