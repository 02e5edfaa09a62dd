//! Wires SQL to the real lake: the catalog persisted in the metadata store implements
//! [`CatalogAccess`], and [`SqlEngine::for_lake`] builds an engine over a [`Lake`] whose writes
//! are announced as the lake's "object created" events.

use std::sync::Arc;

use async_trait::async_trait;

use super::access::{CatalogAccess, CatalogError};
use super::{SessionOptions, SqlEngine, SqlError};
use crate::catalog::{Table, TableFile};
use crate::catalog_store::Catalog;
use crate::lake::Lake;

#[async_trait]
impl CatalogAccess for Catalog {
    async fn table(&self, database: &str, name: &str) -> Result<Option<Table>, CatalogError> {
        Ok(Catalog::table(self, database, name).await?)
    }

    async fn tables(&self, database: Option<&str>) -> Result<Vec<Table>, CatalogError> {
        Ok(Catalog::tables(self, database).await?)
    }

    async fn files(&self, database: &str, name: &str) -> Result<Vec<TableFile>, CatalogError> {
        Ok(Catalog::files(self, database, name).await?)
    }

    async fn create_table(&self, table: Table, files: Vec<TableFile>) -> Result<(), CatalogError> {
        // The real catalog needs the database to exist first; SQL creates it on demand.
        self.ensure_database(&table.database).await?;
        Catalog::create_table_with_files(self, table, files).await?;
        Ok(())
    }

    async fn add_files(
        &self,
        database: &str,
        name: &str,
        files: Vec<TableFile>,
    ) -> Result<(), CatalogError> {
        Catalog::add_files(self, database, name, files).await?;
        Ok(())
    }

    async fn replace_table(
        &self,
        table: Table,
        files: Vec<TableFile>,
    ) -> Result<Vec<TableFile>, CatalogError> {
        self.ensure_database(&table.database).await?;
        Ok(Catalog::replace_table(self, table, files).await?)
    }

    async fn drop_table(&self, database: &str, name: &str) -> Result<bool, CatalogError> {
        Ok(Catalog::drop_table(self, database, name).await?)
    }
}

impl SqlEngine {
    /// An engine over `lake` and `catalog` (default session options) whose writes are
    /// announced through [`Lake::notify`].
    pub fn for_lake(
        lake: Arc<Lake>,
        catalog: Arc<dyn CatalogAccess>,
    ) -> Result<SqlEngine, SqlError> {
        Self::for_lake_with(lake, catalog, SessionOptions::default())
    }

    /// [`SqlEngine::for_lake`] with session options (the server's memory and time limits).
    pub fn for_lake_with(
        lake: Arc<Lake>,
        catalog: Arc<dyn CatalogAccess>,
        options: SessionOptions,
    ) -> Result<SqlEngine, SqlError> {
        // The lake's root inside its store: the path of a probe key, less the key.
        let probe = lake.path("x").map_err(|e| SqlError::new(e.to_string()))?;
        let root = probe
            .as_ref()
            .strip_suffix('x')
            .unwrap_or("")
            .trim_end_matches('/')
            .to_string();
        let notify = Arc::clone(&lake);
        Ok(
            SqlEngine::with_options(lake.object_store(), &root, catalog, options)?
                .with_listener(Arc::new(move |object| notify.notify(object))),
        )
    }
}
