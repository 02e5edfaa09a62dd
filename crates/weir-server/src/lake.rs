//! `/api/v1/lake…`, `/api/v1/catalog…`, `/api/v1/crawl`, `/api/v1/sql`: the lake, the catalog,
//! the crawler and SQL over HTTP. The work is done behind [`LakeService`], which the binary
//! implements with `weir-lake`: this crate stays free of DataFusion.

use std::pin::Pin;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures::{Stream, StreamExt, TryStreamExt};
use http_body::Frame;
use http_body_util::StreamBody;
use serde::Deserialize;
use serde_json::{Value, json};

pub use bytes::Bytes;
pub use weir_model::sql_tables::{SqlTables, TableName};

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

/// Bytes as they arrive (an upload) or leave (a download), never held whole.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// An object's bytes, streamed, with its size.
pub struct ObjectBody {
    pub size: u64,
    pub body: ByteStream,
}

/// The lake operations the HTTP API offers. Results are JSON documents as the API returns them.
#[async_trait::async_trait]
pub trait LakeService: Send + Sync {
    async fn list(&self, prefix: &str) -> ServiceResult;
    /// Stores the object from `body` as it arrives; a body that fails midway stores nothing.
    async fn put(&self, key: &str, body: ByteStream) -> ServiceResult;
    async fn get(&self, key: &str) -> ServiceResult<ObjectBody>;
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
    /// The catalog tables the statements of `sql` read and write, as the SQL engine resolves
    /// them, worked out without running anything: what a check before [`LakeService::sql`] or
    /// [`LakeService::sql_export`] holds against a credential. Text the engine would refuse
    /// to parse is a 400 with the engine's message.
    fn sql_tables(&self, sql: &str) -> ServiceResult<SqlTables>;
    /// Runs one statement; `max_rows` bounds the rows returned (the count is exact).
    async fn sql(&self, query: &str, max_rows: usize) -> ServiceResult;
    /// Runs one statement and streams its result in `format`, at most `max_rows` rows (all when
    /// `None`). Errors before the first part are the statement's; later ones break the stream.
    async fn sql_export(
        &self,
        query: &str,
        format: ResultFormat,
        max_rows: Option<u64>,
    ) -> ServiceResult<ResultParts>;

    /// The catalog tables transform `name` reads (its source table or query's tables, its
    /// joins' and unions'): what a route holds against a credential before it compiles the
    /// recipe. `None` when its file has problems (so nothing would be read); 404 for no such
    /// transform.
    async fn transform_reads(&self, name: &str) -> ServiceResult<Option<Vec<TableName>>> {
        let _ = name;
        Err(ServiceError::new(501, "this server has no transforms"))
    }
    /// The lake folders and streams transform `name` reads or writes, for the grant checks of
    /// its routes. `None` when its file has problems (so nothing would be read); 404 for no
    /// such transform.
    async fn transform_places(
        &self,
        name: &str,
    ) -> ServiceResult<Option<weir_model::transform::RecipePlaces>> {
        let _ = name;
        Err(ServiceError::new(501, "this server has no transforms"))
    }
    /// `{"transform", "problems": [{file, line, column, message}]}`: the recipe checked
    /// against the catalog, nothing run (no problems: it compiles).
    async fn transform_check(&self, name: &str) -> ServiceResult {
        let _ = name;
        Err(ServiceError::new(501, "this server has no transforms"))
    }
    /// `{"transform", "stages": [{step, name, line, column, columns, rows}]}`: the source's
    /// first `rows` rows and each step's output over them; or, when the recipe has problems,
    /// `{"transform", "problems": [...]}`.
    async fn transform_preview(&self, name: &str, rows: usize) -> ServiceResult {
        let _ = (name, rows);
        Err(ServiceError::new(501, "this server has no transforms"))
    }
    /// A data-quality profile of a table: `{database, table, rows, columns: [{name,
    /// data_type, nulls, distinct_approx, min, max, top: [{value, count}]}]}`.
    async fn table_profile(&self, database: &str, name: &str) -> ServiceResult {
        let _ = (database, name);
        Err(ServiceError::new(501, "this server cannot profile tables"))
    }
    // Transforms: run, bookmarks, listing. Not every server runs them (defaults: 501).

    /// The project's transforms, as `{"transforms": [...]}`.
    async fn transforms(&self) -> ServiceResult {
        Err(no_transforms())
    }
    /// The tables a transform reads (`reads`) and writes (`writes`), from its file, for the
    /// grant check before [`LakeService::run_transform`].
    async fn transform_tables(&self, name: &str) -> ServiceResult<SqlTables> {
        let _ = name;
        Err(no_transforms())
    }
    /// Runs a transform; `run` names the run in its bookmark. Answers its report.
    async fn run_transform(&self, name: &str, run: &str) -> ServiceResult {
        let _ = (name, run);
        Err(no_transforms())
    }
    async fn transform_bookmark(&self, name: &str) -> ServiceResult {
        let _ = name;
        Err(no_transforms())
    }
    async fn reset_transform_bookmark(&self, name: &str) -> ServiceResult {
        let _ = name;
        Err(no_transforms())
    }
}

fn no_transforms() -> ServiceError {
    ServiceError::new(501, "this server does not run transforms")
}

/// The streamed renderings of a SQL result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFormat {
    Csv,
    JsonLines,
    Arrow,
}

impl ResultFormat {
    fn parse(name: &str) -> Option<ResultFormat> {
        match name {
            "csv" => Some(ResultFormat::Csv),
            "jsonl" => Some(ResultFormat::JsonLines),
            "arrow" => Some(ResultFormat::Arrow),
            _ => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            ResultFormat::Csv => "text/csv; charset=utf-8",
            ResultFormat::JsonLines => "application/x-ndjson",
            ResultFormat::Arrow => "application/vnd.apache.arrow.stream",
        }
    }
}

/// A piece of a streamed result: bytes, then once what was sent.
pub enum ResultPart {
    Bytes(Bytes),
    /// Rows sent; `truncated` when `max_rows` left some out.
    End {
        rows: u64,
        truncated: bool,
    },
}

pub type ResultParts = Pin<Box<dyn Stream<Item = Result<ResultPart, ServiceError>> + Send>>;

/// Trailers of a streamed result (sent to clients that ask with `TE: trailers`).
pub const ROW_COUNT_TRAILER: &str = "weir-row-count";
pub const TRUNCATED_TRAILER: &str = "weir-truncated";

/// Rows of the JSON answer when the request names no `max_rows`.
const DEFAULT_JSON_ROWS: usize = 10_000;
/// Most rows the JSON answer holds, whatever the request says (`truncated` tells).
const MAX_JSON_ROWS: usize = 1_000_000;

type Shared = State<Arc<AppState>>;

pub(crate) fn service(state: &AppState) -> Result<&Arc<dyn LakeService>, ApiError> {
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
    Extension(identity): Extension<crate::auth::Identity>,
    query: Result<Query<PrefixQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let prefix = query.prefix.as_deref().unwrap_or("");
    let grants = identity.grants();
    if !grants.listing(prefix) {
        return Err(not_granted(&identity, format!("lake prefix `{prefix}`")));
    }
    let mut answer = service(&state)?.list(prefix).await?;
    keep(&mut answer, "objects", |object| {
        object["key"].as_str().is_some_and(|key| grants.key(key))
    });
    Ok(Json(answer))
}

/// A 403 naming what the credential is not granted.
fn not_granted(identity: &crate::auth::Identity, what: String) -> ApiError {
    ApiError {
        status: StatusCode::FORBIDDEN,
        code: "forbidden",
        message: format!(
            "credential `{}` is not granted {what}",
            identity.name().unwrap_or("?")
        ),
    }
}

/// Whether the lake folder `prefix` (and so everything under it) is inside the grants.
pub(crate) fn folder_granted(grants: &weir_model::access::Grants, prefix: &str) -> bool {
    grants.key(&format!("{}/", prefix.trim_end_matches('/')))
}

/// Keeps the entries of `answer[field]` that `granted` allows: a listing shows only what the
/// credential may see.
fn keep(answer: &mut Value, field: &str, granted: impl Fn(&Value) -> bool) {
    if let Some(entries) = answer.get_mut(field).and_then(Value::as_array_mut) {
        entries.retain(|entry| granted(entry));
    }
}

/// The body is streamed to the store (no size limit: `server.max_body_bytes` bounds only
/// bodies read whole).
pub async fn put(
    State(state): Shared,
    Path(key): Path<String>,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let stream: ByteStream = Box::pin(body.into_data_stream().map_err(std::io::Error::other));
    Ok((
        StatusCode::CREATED,
        Json(service(&state)?.put(&key, stream).await?),
    ))
}

pub async fn get(State(state): Shared, Path(key): Path<String>) -> Result<Response, ApiError> {
    let object = service(&state)?.get(&key).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, object.size.to_string()),
        ],
        Body::from_stream(object.body),
    )
        .into_response())
}

pub async fn delete(
    State(state): Shared,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service(&state)?.delete(&key).await?))
}

pub async fn databases(
    State(state): Shared,
    Extension(identity): Extension<crate::auth::Identity>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(granted_databases(&state, &identity).await?))
}

/// The catalog's databases the credential may see (`{"databases": [...]}`): the API's listing,
/// which the dashboard's catalog page shows too.
pub(crate) async fn granted_databases(
    state: &AppState,
    identity: &crate::auth::Identity,
) -> Result<Value, ApiError> {
    let mut answer = service(state)?.databases().await?;
    let grants = identity.grants();
    keep(&mut answer, "databases", |database| {
        database["name"]
            .as_str()
            .is_some_and(|name| grants.database(name))
    });
    Ok(answer)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseBody {
    pub name: String,
    pub description: Option<String>,
}

pub async fn create_database(
    State(state): Shared,
    Extension(identity): Extension<crate::auth::Identity>,
    body: Result<Json<DatabaseBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body?;
    if !identity.grants().database(&body.name) {
        return Err(not_granted(&identity, format!("database `{}`", body.name)));
    }
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
    Extension(identity): Extension<crate::auth::Identity>,
    query: Result<Query<DatabaseQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    Ok(Json(
        granted_tables(&state, &identity, query.database.as_deref()).await?,
    ))
}

/// The catalog's tables (of one database, or all) the credential may see (`{"tables": [...]}`).
pub(crate) async fn granted_tables(
    state: &AppState,
    identity: &crate::auth::Identity,
    database: Option<&str>,
) -> Result<Value, ApiError> {
    let mut answer = service(state)?.tables(database).await?;
    let grants = identity.grants();
    keep(&mut answer, "tables", |table| {
        let text = |field: &str| table[field].as_str().unwrap_or_default().to_string();
        grants.table(&text("database"), &text("name"))
    });
    Ok(answer)
}

pub async fn table(
    State(state): Shared,
    Path((database, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service(&state)?.table(&database, &name).await?))
}

pub async fn create_table(
    State(state): Shared,
    Extension(identity): Extension<crate::auth::Identity>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body?;
    let text = |field: &str| body[field].as_str().unwrap_or_default();
    let grants = identity.grants();
    if !grants.table(text("database"), text("name")) {
        let table = format!("table `{}.{}`", text("database"), text("name"));
        return Err(not_granted(&identity, table));
    }
    if !folder_granted(grants, text("location")) {
        let location = format!("lake prefix `{}`", text("location"));
        return Err(not_granted(&identity, location));
    }
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
    Extension(identity): Extension<crate::auth::Identity>,
    body: Result<Json<CrawlBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    let grants = identity.grants();
    if !folder_granted(grants, &body.prefix) {
        return Err(not_granted(
            &identity,
            format!("lake prefix `{}`", body.prefix),
        ));
    }
    // The tables a crawl makes are named after folders: a credential narrowed to some tables
    // names the database they go to and is granted all of it, or names the one table.
    if !grants.tables.is_empty() {
        let database = body.database.as_deref().unwrap_or("(the default)");
        let allowed = match (body.database.as_deref(), body.table.as_deref()) {
            (Some(database), Some(table)) => grants.table(database, table),
            (Some(database), None) => grants.every_table_of(database),
            (None, _) => false,
        };
        if !allowed {
            return Err(not_granted(&identity, format!("database `{database}`")));
        }
    }
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
    /// Most rows to return; 0 for all of them.
    pub max_rows: Option<usize>,
    /// `json` (the default: one JSON document), or a streamed `csv`, `jsonl` or `arrow`.
    pub format: Option<String>,
}

pub async fn sql(
    State(state): Shared,
    Extension(identity): Extension<crate::auth::Identity>,
    body: Result<Json<SqlBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    run_sql(&state, &identity, body).await
}

/// `GET /api/v1/sql?query=…&format=csv`: a statement that only reads, as a link (the
/// dashboard's downloads of a result, a shared export): the same answer as the POST, with a
/// file name for the streamed formats. A statement that writes is refused: a GET changes
/// nothing.
pub async fn sql_link(
    State(state): Shared,
    Extension(identity): Extension<crate::auth::Identity>,
    query: Result<Query<SqlBody>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = query?;
    if params.query.trim().is_empty() {
        return Err(ApiError::bad_request("`query` must not be empty"));
    }
    if !service(&state)?.sql_tables(&params.query)?.read_only {
        return Err(ApiError::bad_request(
            "GET /api/v1/sql runs statements that only read; send one that writes with POST",
        ));
    }
    let extension = match params.format.as_deref() {
        Some("csv") => Some("csv"),
        Some("jsonl") => Some("jsonl"),
        Some("arrow") => Some("arrow"),
        _ => None,
    };
    let mut response = run_sql(&state, &identity, params).await?;
    if let Some(extension) = extension
        && response.status().is_success()
    {
        let disposition = format!("attachment; filename=\"result.{extension}\"");
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

/// Runs a statement the caller may run (see [`sql_allowed`]) and answers with its result: one
/// JSON document, or the result streamed in the format asked for.
async fn run_sql(
    state: &AppState,
    identity: &crate::auth::Identity,
    body: SqlBody,
) -> Result<Response, ApiError> {
    if body.query.trim().is_empty() {
        return Err(ApiError::bad_request("`query` must not be empty"));
    }
    sql_allowed(service(state)?.as_ref(), identity, &body.query)?;
    let format = match body.format.as_deref() {
        None | Some("json") => None,
        Some(name) => Some(ResultFormat::parse(name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "`format` must be json, csv, jsonl or arrow, got `{name}`"
            ))
        })?),
    };
    let service = service(state)?;
    let Some(format) = format else {
        let max_rows = match body.max_rows {
            None => DEFAULT_JSON_ROWS,
            Some(0) => MAX_JSON_ROWS,
            Some(n) => n.min(MAX_JSON_ROWS),
        };
        let result = service.sql(&body.query, max_rows).await?;
        return Ok(Json(json!(result)).into_response());
    };
    let max_rows = body.max_rows.filter(|&n| n > 0).map(|n| n as u64);
    let mut parts = service.sql_export(&body.query, format, max_rows).await?;
    // The first part holds the first rows: a statement that fails before them gets an error
    // answer; one that fails later breaks the stream off (the status is sent by then).
    let first = parts.next().await.transpose()?;
    let frames = futures::stream::iter(first.map(Ok))
        .chain(parts)
        .map(|part| match part {
            Ok(ResultPart::Bytes(bytes)) => Ok(Frame::data(bytes)),
            Ok(ResultPart::End { rows, truncated }) => {
                let mut trailers = HeaderMap::new();
                trailers.insert(ROW_COUNT_TRAILER, HeaderValue::from(rows));
                trailers.insert(
                    TRUNCATED_TRAILER,
                    HeaderValue::from_static(if truncated { "true" } else { "false" }),
                );
                Ok(Frame::trailers(trailers))
            }
            Err(error) => {
                tracing::warn!(error = %error.message, "a streamed SQL result broke off");
                Err(std::io::Error::other(error.message))
            }
        });
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::TRAILER,
                format!("{ROW_COUNT_TRAILER}, {TRUNCATED_TRAILER}"),
            ),
        ],
        Body::new(StreamBody::new(frames)),
    )
        .into_response())
}

/// Whether the caller may run a statement: one that writes needs an admin, and every table it
/// reads or writes must be in the credential's grants (Lake Formation's table grants). A listing
/// of the whole catalog (SHOW TABLES, information_schema) is refused to a credential narrowed to
/// some tables, since it would name the others.
pub(crate) fn sql_allowed(
    service: &dyn LakeService,
    identity: &crate::auth::Identity,
    query: &str,
) -> Result<(), ApiError> {
    use weir_model::access::Role;
    let tables = service.sql_tables(query)?;
    let who = identity.name().unwrap_or("?");
    let forbidden = |message: String| ApiError {
        status: StatusCode::FORBIDDEN,
        code: "forbidden",
        message,
    };
    if !tables.read_only && identity.role().is_none_or(|role| role < Role::Admin) {
        return Err(forbidden(format!(
            "credential `{who}` may not run SQL that writes (needs role admin)"
        )));
    }
    let grants = identity.grants();
    if grants.tables.is_empty() {
        return Ok(());
    }
    for table in tables.reads.iter().chain(&tables.writes) {
        // The catalog finds tables whatever their case; grants compare the same way.
        let (database, name) = (table.database.to_lowercase(), table.name.to_lowercase());
        if !grants.table(&database, &name) {
            return Err(forbidden(format!(
                "credential `{who}` is not granted table `{table}`"
            )));
        }
    }
    if tables.lists_catalog {
        return Err(forbidden(format!(
            "credential `{who}` is granted some tables only; a statement that lists the catalog \
             (SHOW TABLES, information_schema) would name the others: use `weir catalog list`"
        )));
    }
    Ok(())
}

/// This subsystem's routes.
pub fn routes() -> crate::Routes {
    use crate::auth::{ADMIN, VIEWER};
    use crate::openapi;
    crate::Routes::default()
        .get(openapi::LAKE_OBJECTS, VIEWER, list)
        .get(openapi::LAKE_OBJECT, VIEWER, self::get)
        .put(openapi::LAKE_OBJECT, ADMIN, put)
        .delete(openapi::LAKE_OBJECT, ADMIN, delete)
        .get(openapi::CATALOG_DATABASES, VIEWER, databases)
        .post(openapi::CATALOG_DATABASES, ADMIN, create_database)
        .delete(openapi::CATALOG_DATABASE, ADMIN, drop_database)
        .get(openapi::CATALOG_TABLES, VIEWER, tables)
        .post(openapi::CATALOG_TABLES, ADMIN, create_table)
        .get(openapi::CATALOG_TABLE, VIEWER, table)
        .delete(openapi::CATALOG_TABLE, ADMIN, drop_table)
        .post(openapi::CRAWL, ADMIN, crawl)
        // Any viewer may read with SQL; a statement that writes needs an admin (checked by
        // `sql` itself, which knows what the statement does).
        .post(openapi::SQL, VIEWER, sql)
        .get(openapi::SQL, VIEWER, sql_link)
}
