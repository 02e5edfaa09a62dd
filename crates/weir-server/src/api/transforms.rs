//! `/api/v1/transforms…`: transforms (recipes of `transforms/*.yaml` and `flows/*.yaml`), run
//! and checked through the lake (`LakeService`, which the binary implements with weir-lake).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};

use super::ApiResult;
use crate::auth::Identity;
use crate::lake::LakeService;
use crate::{ApiError, AppState};

type Shared = State<Arc<AppState>>;

fn service(state: &AppState) -> Result<&Arc<dyn LakeService>, ApiError> {
    state.lake.as_ref().ok_or_else(|| ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "unavailable",
        message: "this server has no lake, so it runs no transforms".into(),
    })
}

// ---------------------------------------------------------------------------------------------
// Running transforms and their bookmarks (part C).

pub async fn list(State(state): Shared) -> ApiResult {
    Ok(Json(service(&state)?.transforms().await?))
}

/// Whether the caller's grants cover every table the transform reads and writes (Lake
/// Formation's table grants, as for SQL).
async fn tables_granted(
    lake: &dyn LakeService,
    identity: &Identity,
    name: &str,
) -> Result<(), ApiError> {
    let grants = identity.grants();
    if grants.tables.is_empty() {
        return Ok(());
    }
    let tables = lake.transform_tables(name).await?;
    let who = identity.name().unwrap_or("?");
    for table in tables.reads.iter().chain(&tables.writes) {
        let (database, table_name) = (table.database.to_lowercase(), table.name.to_lowercase());
        if !grants.table(&database, &table_name) {
            return Err(ApiError {
                status: StatusCode::FORBIDDEN,
                code: "forbidden",
                message: format!(
                    "credential `{who}` is not granted table `{table}`, which transform `{name}` \
                     reads or writes"
                ),
            });
        }
    }
    Ok(())
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

pub async fn bookmark(State(state): Shared, Path(name): Path<String>) -> ApiResult {
    Ok(Json(service(&state)?.transform_bookmark(&name).await?))
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

// ---------------------------------------------------------------------------------------------

/// This subsystem's routes.
pub fn routes() -> crate::Routes {
    use crate::auth::{OPERATOR, VIEWER};
    use crate::openapi;
    crate::Routes::default()
        // Running and bookmarks (part C).
        .get(openapi::TRANSFORMS, VIEWER, list)
        .post(openapi::TRANSFORM_RUNS, OPERATOR, run)
        .get(openapi::TRANSFORM_BOOKMARK, VIEWER, bookmark)
        .delete(openapi::TRANSFORM_BOOKMARK, OPERATOR, reset_bookmark)
}
