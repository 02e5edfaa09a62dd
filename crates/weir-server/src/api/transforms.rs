//! `/api/v1/transforms…`: transforms (recipes of `transforms/*.yaml` and `flows/*.yaml`) listed,
//! run, their bookmarks shown and reset; a recipe checked against the catalog and previewed
//! stage by stage (DataBrew's interactive preview); a table's data-quality profile. All through
//! the lake (`LakeService`, which the binary implements with weir-lake). A viewer may check and
//! preview what reads only tables it is granted; running and resetting need an operator granted
//! every table the transform reads and writes. Every route also needs the lake folders and
//! streams the transform reads or writes granted, as the object and stream routes hold them.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::Value;

use super::ApiResult;
use crate::auth::Identity;
use crate::lake::{LakeService, service};
use crate::{ApiError, AppState};

type Shared = State<Arc<AppState>>;

/// Rows a preview shows per stage unless asked otherwise, and at most.
const DEFAULT_PREVIEW_ROWS: usize = 20;
const MAX_PREVIEW_ROWS: usize = 1_000;

/// Refuses a credential not granted every lake folder and stream transform `name` reads or
/// writes (its prefix and stream source and sink), as the object and stream routes would: the
/// whole folder (a run lists it and reads or writes anything under it), and never one of weir's
/// own `__` streams.
async fn places_granted(
    lake: &dyn LakeService,
    identity: &Identity,
    name: &str,
) -> Result<(), ApiError> {
    let grants = identity.grants();
    let places = match lake.transform_places(name).await {
        Ok(Some(places)) => places,
        // The file has problems: nothing is read.
        Ok(None) => return Ok(()),
        // A bookmark outlives its file (shown and reset after the file is gone); a credential
        // narrowed to folders or streams cannot tell what that file read, so it is refused.
        Err(e) if e.status == 404 && grants.prefixes.is_empty() && grants.pipelines.is_empty() => {
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let who = identity.name().unwrap_or("?");
    let refused = |what: String| ApiError {
        status: StatusCode::FORBIDDEN,
        code: "forbidden",
        message: format!(
            "credential `{who}` is not granted {what}, which transform `{name}` reads or writes"
        ),
    };
    if let Some(prefix) = places
        .prefixes
        .iter()
        .find(|prefix| !crate::lake::folder_granted(grants, prefix))
    {
        return Err(refused(format!("lake prefix `{prefix}`")));
    }
    if let Some(stream) = places
        .streams
        .iter()
        .find(|stream| !identity.may_see_stream(stream))
    {
        return Err(refused(format!("stream `{stream}`")));
    }
    Ok(())
}

/// Refuses a credential not granted every table transform `name` reads, or its lake folders and
/// streams. `false` when the file has problems (which the answer then lists; nothing is read).
async fn granted(state: &AppState, identity: &Identity, name: &str) -> Result<bool, ApiError> {
    let lake = service(state)?;
    places_granted(lake.as_ref(), identity, name).await?;
    let Some(tables) = lake.transform_reads(name).await? else {
        return Ok(false);
    };
    tables_refused(identity, name, &tables, "reads")?;
    Ok(true)
}

/// Refuses a credential not granted one of `tables` (Lake Formation's table grants, as for
/// SQL), which transform `name` `uses` ("reads", "reads or writes").
fn tables_refused(
    identity: &Identity,
    name: &str,
    tables: &[weir_model::sql_tables::TableName],
    uses: &str,
) -> Result<(), ApiError> {
    let grants = identity.grants();
    if grants.tables.is_empty() {
        return Ok(());
    }
    match tables
        .iter()
        .find(|table| !grants.table(&table.database.to_lowercase(), &table.name.to_lowercase()))
    {
        Some(table) => Err(ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: format!(
                "credential `{}` is not granted table `{table}`, which transform `{name}` {uses}",
                identity.name().unwrap_or("?")
            ),
        }),
        None => Ok(()),
    }
}

pub async fn check(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    Path(name): Path<String>,
) -> ApiResult {
    granted(&state, &identity, &name).await?;
    Ok(Json(service(&state)?.transform_check(&name).await?))
}

#[derive(Deserialize)]
pub struct PreviewQuery {
    pub rows: Option<usize>,
}

pub async fn preview(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    Path(name): Path<String>,
    query: Result<Query<PreviewQuery>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query?;
    let rows = query.rows.unwrap_or(DEFAULT_PREVIEW_ROWS);
    if rows == 0 || rows > MAX_PREVIEW_ROWS {
        return Err(ApiError::bad_request(format!(
            "rows must be between 1 and {MAX_PREVIEW_ROWS}"
        )));
    }
    if !granted(&state, &identity, &name).await? {
        // The file's problems, from the check (nothing is read).
        return Ok(Json(service(&state)?.transform_check(&name).await?));
    }
    Ok(Json(service(&state)?.transform_preview(&name, rows).await?))
}

/// The table grant is the route's (its path names the table).
pub async fn profile(
    State(state): Shared,
    Path((database, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service(&state)?.table_profile(&database, &name).await?,
    ))
}

// Running transforms and their bookmarks.

pub async fn list(State(state): Shared) -> ApiResult {
    Ok(Json(service(&state)?.transforms().await?))
}

/// Whether the caller's grants cover every table the transform reads and writes (Lake
/// Formation's table grants, as for SQL), and its lake folders and streams.
async fn tables_granted(
    lake: &dyn LakeService,
    identity: &Identity,
    name: &str,
) -> Result<(), ApiError> {
    places_granted(lake, identity, name).await?;
    if identity.grants().tables.is_empty() {
        return Ok(());
    }
    let tables = lake.transform_tables(name).await?;
    let touched: Vec<_> = tables.reads.into_iter().chain(tables.writes).collect();
    tables_refused(identity, name, &touched, "reads or writes")
}

pub async fn run(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    Path(name): Path<String>,
) -> ApiResult {
    let lake = service(&state)?;
    tables_granted(lake.as_ref(), &identity, &name).await?;
    let run = format!(
        "api:{}@{}",
        identity.name().unwrap_or("anonymous"),
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ")
    );
    Ok(Json(lake.run_transform(&name, &run).await?))
}

pub async fn bookmark(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    Path(name): Path<String>,
) -> ApiResult {
    let lake = service(&state)?;
    tables_granted(lake.as_ref(), &identity, &name).await?;
    Ok(Json(lake.transform_bookmark(&name).await?))
}

pub async fn reset_bookmark(
    State(state): Shared,
    Extension(identity): Extension<Identity>,
    Path(name): Path<String>,
) -> ApiResult {
    let lake = service(&state)?;
    tables_granted(lake.as_ref(), &identity, &name).await?;
    Ok(Json(lake.reset_transform_bookmark(&name).await?))
}

/// This subsystem's routes.
pub fn routes() -> crate::Routes {
    use crate::auth::{OPERATOR, VIEWER};
    use crate::openapi;
    crate::Routes::default()
        .get(openapi::TRANSFORMS, VIEWER, list)
        .post(openapi::TRANSFORM_RUNS, OPERATOR, run)
        .get(openapi::TRANSFORM_BOOKMARK, VIEWER, bookmark)
        .delete(openapi::TRANSFORM_BOOKMARK, OPERATOR, reset_bookmark)
        .post(openapi::TRANSFORM_CHECK, VIEWER, check)
        .post(openapi::TRANSFORM_PREVIEW, VIEWER, preview)
        .get(openapi::CATALOG_TABLE_PROFILE, VIEWER, profile)
}
