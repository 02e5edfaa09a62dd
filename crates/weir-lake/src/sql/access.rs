//! What SQL needs from the rest of the lake: the catalog (tables and their manifests) and a way to
//! announce the objects it writes. A trait rather than the concrete `Catalog` so SQL is tested on
//! an in-memory fake and does not care whether the metadata lives in SQLite or PostgreSQL.

use std::sync::Arc;

use async_trait::async_trait;

use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::object_store::ObjectStore;
use datafusion::object_store::path::Path;

use crate::catalog::{Table, TableFile};
pub use crate::lake::ObjectCreated;

/// Any error from the catalog; SQL only reports it.
pub type CatalogError = Box<dyn std::error::Error + Send + Sync>;

/// The catalog operations SQL uses. Every write is one atomic commit of the metadata store, so a
/// table's data (exactly the files in its manifest) changes all at once or not at all.
#[async_trait]
pub trait CatalogAccess: Send + Sync {
    /// The table, if it exists.
    async fn table(&self, database: &str, name: &str) -> Result<Option<Table>, CatalogError>;

    /// Every table of `database`, or of every database when `None`.
    async fn tables(&self, database: Option<&str>) -> Result<Vec<Table>, CatalogError>;

    /// The table's manifest: the files that make up its data.
    async fn files(&self, database: &str, name: &str) -> Result<Vec<TableFile>, CatalogError>;

    /// Registers a new table with `files` as its manifest, in one commit. Fails when a table of
    /// that name exists (the caller checks first; this is the race guard).
    async fn create_table(&self, table: Table, files: Vec<TableFile>) -> Result<(), CatalogError>;

    /// Appends `files` to the table's manifest in one commit.
    async fn add_files(
        &self,
        database: &str,
        name: &str,
        files: Vec<TableFile>,
    ) -> Result<(), CatalogError>;

    /// Replaces the table's definition and its whole manifest in one commit (creating the table
    /// when it does not exist) and returns the files that were in the old manifest, which the
    /// caller then deletes.
    async fn replace_table(
        &self,
        table: Table,
        files: Vec<TableFile>,
    ) -> Result<Vec<TableFile>, CatalogError>;

    /// Removes the table from the catalog (its files stay in the lake). False when it did not exist.
    async fn drop_table(&self, database: &str, name: &str) -> Result<bool, CatalogError>;
}

/// Called once per object SQL wrote, after the write commits (so the object is part of a table):
/// wire it to `Lake::notify`. Must not block.
pub type ObjectListener = Arc<dyn Fn(ObjectCreated) + Send + Sync>;

/// Where lake keys live in the object store: the lake's root (a directory or a bucket prefix,
/// possibly empty). Keys in the catalog are relative to it.
#[derive(Debug, Clone, Default)]
pub struct LakeRoot(Path);

impl LakeRoot {
    /// `root` is an object store path such as `data/lake` (or "" for the store's root).
    pub fn new(root: &str) -> Self {
        LakeRoot(Path::from(root))
    }

    /// The object store path of a lake key (keys are already in object store form).
    pub fn path(&self, key: &str) -> Path {
        let key = key.trim_matches('/');
        let full = match (self.0.as_ref().is_empty(), key.is_empty()) {
            (true, _) => key.to_string(),
            (false, true) => self.0.as_ref().to_string(),
            (false, false) => format!("{}/{key}", self.0.as_ref()),
        };
        Path::parse(&full).unwrap_or_else(|_| Path::from(full.as_str()))
    }

    /// The lake key of an object store path under the root.
    pub fn key(&self, path: &Path) -> Option<String> {
        let root = self.0.as_ref();
        if root.is_empty() {
            return Some(path.as_ref().to_string());
        }
        let rest = path.as_ref().strip_prefix(root)?;
        rest.strip_prefix('/').map(str::to_string)
    }
}

/// What every part of SQL shares: the lake's store, its root, the URL DataFusion knows the store
/// by, and the catalog.
pub struct LakeContext {
    pub store: Arc<dyn ObjectStore>,
    pub root: LakeRoot,
    pub url: ObjectStoreUrl,
    pub catalog: Arc<dyn CatalogAccess>,
    /// Parquet footers already read, so planning a statement does not read them again.
    pub footers: super::footers::FooterCache,
}
