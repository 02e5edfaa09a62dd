//! Wiring: the server's `LakeService` implemented with `weir-lake`. Each method maps one HTTP
//! operation to one library call and the library's errors to HTTP statuses; nothing else.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::{Value, json};
use weir_lake::catalog::Table;
use weir_lake::sql::{ExportFormat, ExportPart, SqlEngine, SqlError, SqlErrorKind, export};
use weir_lake::transform::{self, RecipeError};
use weir_lake::{Catalog, Lake, LakeError};
use weir_model::problem::Problem;
use weir_model::transform::{Recipe, Source};
use weir_server::lake::{
    ByteStream, LakeService, ObjectBody, ResultFormat, ResultPart, ResultParts, ServiceError,
    ServiceResult, SqlTables, TableName,
};

pub struct LakeAdapter {
    pub lake: Arc<Lake>,
    pub catalog: Catalog,
    pub sql: Arc<SqlEngine>,
    /// Where `transforms/` and `flows/` are.
    pub project_dir: std::path::PathBuf,
    /// Mask salts of transforms, by secret name.
    pub secrets: Arc<weir_engine::secrets::Secrets>,
    /// Transforms run from the project's files (None: this adapter runs none).
    pub transforms: Option<weir_lake::transform::Transforms>,
}

impl LakeAdapter {
    /// Transform `name`'s recipe, or its file's problems.
    fn recipe(&self, name: &str) -> ServiceResult<Result<Recipe, Vec<Problem>>> {
        match transform::read_recipe(&self.project_dir, name) {
            Ok(recipe) => Ok(Ok(recipe)),
            Err(RecipeError::Invalid(problems)) => Ok(Err(problems)),
            Err(e @ RecipeError::NotFound(_)) => Err(ServiceError::new(404, e.to_string())),
            Err(e @ RecipeError::InvalidName(_)) => Err(ServiceError::new(400, e.to_string())),
            Err(e @ RecipeError::Io { .. }) => Err(ServiceError::new(500, e.to_string())),
        }
    }

    fn salt(&self, secret: &str) -> Result<String, String> {
        self.secrets.value(secret)
    }

    fn transforms(&self) -> ServiceResult<&weir_lake::transform::Transforms> {
        self.transforms
            .as_ref()
            .ok_or_else(|| ServiceError::new(501, "this server does not run transforms"))
    }

    /// The recipe of a transform to run: a missing file is a 404, a bad one a 400 with its
    /// problems.
    fn run_recipe(&self, name: &str) -> ServiceResult<Recipe> {
        self.recipe(name)?.map_err(|problems| {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            ServiceError::new(400, lines.join("\n"))
        })
    }
}

fn status(error: LakeError) -> ServiceError {
    let code = match &error {
        LakeError::NotFound { .. } | LakeError::NoSuchDatabase(_) | LakeError::NoSuchTable(_) => {
            404
        }
        LakeError::DatabaseExists(_)
        | LakeError::TableExists(_)
        | LakeError::DatabaseNotEmpty { .. }
        | LakeError::LocationOverlap { .. } => 409,
        LakeError::InvalidKey { .. }
        | LakeError::InvalidName { .. }
        | LakeError::FileOutsideTable { .. }
        | LakeError::PartitionMismatch { .. } => 400,
        _ => 500,
    };
    ServiceError::new(code, error.to_string())
}

/// A statement's error: the statement's fault (or its limits'), or a bug (a caught panic).
fn sql_error(error: SqlError) -> ServiceError {
    let code = match error.kind {
        SqlErrorKind::Panic => 500,
        SqlErrorKind::Statement | SqlErrorKind::MemoryLimit | SqlErrorKind::Timeout => 400,
    };
    ServiceError::new(code, error.to_string())
}

fn json_of<T: serde::Serialize>(value: &T) -> ServiceResult {
    serde_json::to_value(value).map_err(|e| ServiceError::new(500, e.to_string()))
}

#[async_trait::async_trait]
impl LakeService for LakeAdapter {
    async fn list(&self, prefix: &str) -> ServiceResult {
        let objects = self.lake.list(prefix).await.map_err(status)?;
        Ok(json!({ "objects": json_of(&objects)? }))
    }

    async fn put(&self, key: &str, body: ByteStream) -> ServiceResult {
        json_of(&self.lake.put_stream(key, body).await.map_err(status)?)
    }

    async fn get(&self, key: &str) -> ServiceResult<ObjectBody> {
        let (size, body) = self.lake.get_stream(key).await.map_err(status)?;
        Ok(ObjectBody { size, body })
    }

    async fn delete(&self, key: &str) -> ServiceResult {
        self.lake.delete(key).await.map_err(status)?;
        Ok(json!({ "deleted": key }))
    }

    async fn databases(&self) -> ServiceResult {
        Ok(json!({ "databases": json_of(&self.catalog.databases().await.map_err(status)?)? }))
    }

    async fn create_database(&self, name: &str, description: Option<&str>) -> ServiceResult {
        json_of(
            &self
                .catalog
                .create_database(name, description)
                .await
                .map_err(status)?,
        )
    }

    async fn drop_database(&self, name: &str, cascade: bool) -> ServiceResult {
        if !self
            .catalog
            .drop_database(name, cascade)
            .await
            .map_err(status)?
        {
            return Err(ServiceError::new(
                404,
                format!("database `{name}` does not exist"),
            ));
        }
        Ok(json!({ "dropped": name }))
    }

    async fn tables(&self, database: Option<&str>) -> ServiceResult {
        Ok(json!({ "tables": json_of(&self.catalog.tables(database).await.map_err(status)?)? }))
    }

    async fn table(&self, database: &str, name: &str) -> ServiceResult {
        let table = self
            .catalog
            .table(database, name)
            .await
            .map_err(status)?
            .ok_or_else(|| {
                ServiceError::new(404, format!("table `{database}.{name}` does not exist"))
            })?;
        let files = self.catalog.files(database, name).await.map_err(status)?;
        Ok(json!({ "table": json_of(&table)?, "files": json_of(&files)? }))
    }

    async fn create_table(&self, mut spec: Value) -> ServiceResult {
        // Statistics and times are the catalog's to keep; a request need not send them.
        if let Value::Object(fields) = &mut spec {
            fields.entry("stats").or_insert_with(|| json!({ "row_count": null, "size_bytes": 0, "file_count": 0, "last_modified": null }));
            fields.entry("created_at").or_insert(json!(0));
            fields.entry("updated_at").or_insert(json!(0));
            fields
                .entry("partitioning")
                .or_insert(json!({ "style": "none" }));
        }
        let table: Table = serde_json::from_value(spec)
            .map_err(|e| ServiceError::new(400, format!("invalid table: {e}")))?;
        self.catalog
            .ensure_database(&table.database)
            .await
            .map_err(status)?;
        json_of(&self.catalog.create_table(table).await.map_err(status)?)
    }

    fn sql_tables(&self, sql: &str) -> ServiceResult<SqlTables> {
        self.sql.sql_tables(sql).map_err(sql_error)
    }

    async fn drop_table(&self, database: &str, name: &str) -> ServiceResult {
        if !self
            .catalog
            .drop_table(database, name)
            .await
            .map_err(status)?
        {
            return Err(ServiceError::new(
                404,
                format!("table `{database}.{name}` does not exist"),
            ));
        }
        Ok(json!({ "dropped": format!("{database}.{name}") }))
    }

    async fn crawl(
        &self,
        prefix: &str,
        database: Option<&str>,
        table: Option<&str>,
    ) -> ServiceResult {
        let report = weir_lake::crawl(
            &self.lake,
            &self.catalog,
            prefix,
            database.unwrap_or("default"),
            table,
        )
        .await
        .map_err(status)?;
        json_of(&report)
    }

    async fn sql(&self, query: &str, max_rows: usize) -> ServiceResult {
        let result = self
            .sql
            .execute_limited(query, Some(max_rows))
            .await
            .map_err(sql_error)?;
        Ok(json!({
            "columns": json_of(&result.columns())?,
            "rows": result.to_json_rows(),
            "row_count": result.row_count,
            "truncated": result.truncated,
            "files_scanned": result.files_scanned,
            "elapsed_ms": result.elapsed.as_secs_f64() * 1000.0,
        }))
    }

    async fn sql_export(
        &self,
        query: &str,
        format: ResultFormat,
        max_rows: Option<u64>,
    ) -> ServiceResult<ResultParts> {
        let result = self.sql.execute_stream(query).await.map_err(sql_error)?;
        Ok(export_parts(result, format, max_rows))
    }

    async fn transform_reads(&self, name: &str) -> ServiceResult<Option<Vec<TableName>>> {
        let Ok(recipe) = self.recipe(name)? else {
            return Ok(None);
        };
        let mut tables = transform::tables_read(&recipe);
        if let Source::Query(query) = &recipe.source {
            match self.sql.sql_tables(&query.text) {
                Ok(read) => tables.extend(read.reads),
                // The check says what is wrong with the query; nothing is read.
                Err(_) => return Ok(None),
            }
        }
        Ok(Some(tables))
    }

    async fn transform_places(
        &self,
        name: &str,
    ) -> ServiceResult<Option<weir_model::transform::RecipePlaces>> {
        Ok(self.recipe(name)?.ok().map(|recipe| recipe.places()))
    }

    async fn transform_check(&self, name: &str) -> ServiceResult {
        let problems = match self.recipe(name)? {
            Err(problems) => problems,
            Ok(recipe) => transform::check_recipe(&self.sql, &recipe, &|s| self.salt(s)).await,
        };
        Ok(json!({ "transform": name, "problems": json_of(&problems)? }))
    }

    async fn transform_preview(&self, name: &str, rows: usize) -> ServiceResult {
        let recipe = match self.recipe(name)? {
            Err(problems) => {
                return Ok(json!({ "transform": name, "problems": json_of(&problems)? }));
            }
            Ok(recipe) => recipe,
        };
        match transform::preview_recipe(&self.sql, &recipe, rows, &|s| self.salt(s)).await {
            Ok(stages) => Ok(json!({ "transform": name, "stages": json_of(&stages)? })),
            Err(problems) => Ok(json!({ "transform": name, "problems": json_of(&problems)? })),
        }
    }

    async fn table_profile(&self, database: &str, name: &str) -> ServiceResult {
        let table = TableName::new(database, name);
        if self
            .catalog
            .table(database, name)
            .await
            .map_err(status)?
            .is_none()
        {
            return Err(ServiceError::new(404, format!("no table `{table}`")));
        }
        json_of(
            &transform::profile(&self.sql, &table)
                .await
                .map_err(sql_error)?,
        )
    }

    // Transforms: running them and their bookmarks.

    async fn transforms(&self) -> ServiceResult {
        self.transforms()?;
        Ok(json!({ "transforms": weir_lake::transform::list_recipes(&self.project_dir) }))
    }

    async fn transform_tables(&self, name: &str) -> ServiceResult<SqlTables> {
        let recipe = self.run_recipe(name)?;
        let mut reads = weir_lake::transform::tables_read(&recipe);
        if let weir_model::transform::Source::Query(query) = &recipe.source {
            reads.extend(self.sql.sql_tables(&query.text).map_err(sql_error)?.reads);
        }
        Ok(SqlTables {
            reads,
            writes: weir_lake::transform::tables_written(&recipe),
            read_only: false,
            lists_catalog: false,
        })
    }

    async fn run_transform(&self, name: &str, run: &str) -> ServiceResult {
        let recipe = self.run_recipe(name)?;
        let secrets = self.secrets.clone();
        let salts = move |secret: &str| secrets.value(secret);
        let mut log = std::io::sink();
        self.transforms()?
            .run(&recipe, run, &salts, &mut log)
            .await
            .map(|report| report.to_json())
            .map_err(|e| ServiceError::new(400, e.message))
    }

    async fn transform_bookmark(&self, name: &str) -> ServiceResult {
        weir_lake::transform::action::check_name(name).map_err(|m| ServiceError::new(400, m))?;
        self.transforms()?
            .bookmark(name)
            .await
            .map_err(|e| ServiceError::new(500, e.message))
    }

    async fn reset_transform_bookmark(&self, name: &str) -> ServiceResult {
        weir_lake::transform::action::check_name(name).map_err(|m| ServiceError::new(400, m))?;
        let reset = self
            .transforms()?
            .reset_bookmark(name)
            .await
            .map_err(|e| ServiceError::new(500, e.message))?;
        Ok(json!({ "transform": name, "reset": reset }))
    }
}

/// The parts of a streamed export as the server sends them.
fn export_parts(
    result: weir_lake::sql::ResultStream,
    format: ResultFormat,
    max_rows: Option<u64>,
) -> ResultParts {
    let format = match format {
        ResultFormat::Csv => ExportFormat::Csv,
        ResultFormat::JsonLines => ExportFormat::JsonLines,
        ResultFormat::Arrow => ExportFormat::ArrowIpc,
    };
    Box::pin(export(result, format, max_rows).map(|part| match part {
        Ok(ExportPart::Bytes(bytes)) => Ok(ResultPart::Bytes(bytes)),
        Ok(ExportPart::End { rows, truncated }) => Ok(ResultPart::End { rows, truncated }),
        Err(error) => Err(sql_error(error)),
    }))
}

/// The lake as state machines read it (Map's `ItemReader`).
pub struct LakeObjects(pub Arc<weir_lake::Lake>);

#[async_trait::async_trait]
impl weir_engine::machines::ObjectReader for LakeObjects {
    async fn read(&self, key: &str) -> Result<Vec<u8>, String> {
        self.0
            .get(key)
            .await
            .map(|bytes| bytes.to_vec())
            .map_err(|e| e.to_string())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>, String> {
        self.0
            .list(prefix)
            .await
            .map(|objects| objects.into_iter().map(|o| (o.key, o.size)).collect())
            .map_err(|e| e.to_string())
    }
}

/// The lake as where event source mappings write the records of batches they gave up on.
#[async_trait::async_trait]
impl weir_engine::functions::event_sources::ObjectWriter for LakeObjects {
    async fn write(&self, key: &str, bytes: Vec<u8>) -> Result<(), String> {
        self.0
            .put(key, bytes.into())
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The adapter over a real local lake, SQLite catalog and SQL engine.
    async fn adapter(dir: &std::path::Path) -> LakeAdapter {
        let store = weir_store::open(&format!("sqlite://{}", dir.join("weir.db").display()))
            .await
            .expect("store");
        let lake = Arc::new(Lake::open_local(&dir.join("lake")).expect("lake"));
        let catalog = Catalog::new(store);
        let sql = Arc::new(
            SqlEngine::for_lake(lake.clone(), Arc::new(catalog.clone())).expect("SQL engine"),
        );
        LakeAdapter {
            lake,
            catalog,
            sql,
            project_dir: dir.to_path_buf(),
            secrets: Arc::new(weir_engine::secrets::Secrets::none()),
            transforms: None,
        }
    }

    #[tokio::test]
    async fn sql_tables_says_what_a_statement_reads_and_writes_and_refuses_bad_text() {
        let dir = tempfile::tempdir().expect("temp dir");
        let service: &dyn LakeService = &adapter(dir.path()).await;
        let tables = service
            .sql_tables(
                "CREATE TABLE sales.daily AS SELECT * FROM sales.orders JOIN regions USING (id)",
            )
            .expect("tables");
        let shown = |names: &[weir_server::lake::TableName]| -> Vec<String> {
            names.iter().map(ToString::to_string).collect()
        };
        assert_eq!(shown(&tables.reads), ["default.regions", "sales.orders"]);
        assert_eq!(shown(&tables.writes), ["sales.daily"]);
        assert!(!tables.read_only && !tables.lists_catalog);
        let refused = service.sql_tables("SELECT * FROM t WHERE )").unwrap_err();
        assert_eq!(refused.status, 400, "{}", refused.message);
    }
}
