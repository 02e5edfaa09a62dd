//! The catalog as one statement sees it. DataFusion resolves names synchronously, while the
//! catalog lives in a database, so before planning a statement the tables it names are fetched
//! into this snapshot (and every table, without manifests, when it asks information_schema).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, CatalogProviderList, SchemaProvider, TableProvider};
use datafusion::common::TableReference;
use datafusion::error::Result;

use super::SqlError;
use super::access::{CatalogAccess, LakeContext};
use super::provider::LakeTable;
use super::session::{CATALOG, DEFAULT_DATABASE};
use crate::catalog::Table;

/// Tables by database, then by name.
#[derive(Default)]
pub struct Snapshot {
    databases: HashMap<String, Arc<SnapshotDatabase>>,
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Snapshot({:?})", self.databases.keys())
    }
}

#[derive(Default, Debug)]
struct SnapshotDatabase {
    tables: HashMap<String, Arc<LakeTable>>,
}

impl Snapshot {
    /// Loads the tables `references` name (and all of them when one is in information_schema).
    pub async fn load(
        lake: &Arc<LakeContext>,
        references: &[TableReference],
    ) -> Result<Snapshot, SqlError> {
        let catalog = &lake.catalog;
        let catalog_error = |e| SqlError::new(format!("catalog: {e}"));
        let mut tables: Vec<Table> = Vec::new();
        let wants_all = references
            .iter()
            .any(|r| r.schema() == Some("information_schema"));
        if wants_all {
            tables = catalog.tables(None).await.map_err(catalog_error)?;
        } else {
            for reference in references {
                if reference.catalog().is_some_and(|c| c != CATALOG) {
                    continue;
                }
                let database = reference.schema().unwrap_or(DEFAULT_DATABASE);
                let name = reference.table();
                if tables
                    .iter()
                    .any(|t| t.database == database && t.name == name)
                {
                    continue;
                }
                if let Some(table) = find_table(catalog, database, name).await? {
                    tables.push(table);
                }
            }
        }
        let mut snapshot = Snapshot::default();
        for table in tables {
            let database = table.database.clone();
            let name = table.name.clone();
            // information_schema lists every table: their schemas as the catalog has them, without
            // reading any footer.
            let provider = if wants_all {
                LakeTable::new(table, Arc::clone(lake))?
            } else {
                LakeTable::open(table, Arc::clone(lake)).await?
            };
            let db = snapshot.databases.entry(database).or_default();
            // Only this function holds the Arc yet, so get_mut succeeds.
            if let Some(db) = Arc::get_mut(db) {
                db.tables.insert(name, Arc::new(provider));
            }
        }
        Ok(snapshot)
    }
}

/// The table by exact name, else by case-insensitive name (SQL folds unquoted names to lower
/// case; the catalog keeps the case it was given).
pub(crate) async fn find_table(
    catalog: &Arc<dyn CatalogAccess>,
    database: &str,
    name: &str,
) -> Result<Option<Table>, SqlError> {
    let catalog_error = |e| SqlError::new(format!("catalog: {e}"));
    if let Some(table) = catalog.table(database, name).await.map_err(catalog_error)? {
        return Ok(Some(table));
    }
    let all = catalog.tables(None).await.map_err(catalog_error)?;
    Ok(all
        .into_iter()
        .find(|t| t.database.eq_ignore_ascii_case(database) && t.name.eq_ignore_ascii_case(name)))
}

/// Looks a name up exactly, then ignoring case.
fn lookup<'a, V>(map: &'a HashMap<String, V>, name: &str) -> Option<&'a V> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

impl CatalogProviderList for Snapshot {
    fn register_catalog(
        &self,
        _name: String,
        _catalog: Arc<dyn CatalogProvider>,
    ) -> Option<Arc<dyn CatalogProvider>> {
        None
    }

    fn catalog_names(&self) -> Vec<String> {
        vec![CATALOG.to_string()]
    }

    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        (name == CATALOG).then(|| {
            Arc::new(SnapshotCatalog {
                databases: self.databases.clone(),
            }) as Arc<dyn CatalogProvider>
        })
    }
}

#[derive(Debug)]
struct SnapshotCatalog {
    databases: HashMap<String, Arc<SnapshotDatabase>>,
}

impl CatalogProvider for SnapshotCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.databases.keys().cloned().collect();
        names.sort();
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        match lookup(&self.databases, name) {
            Some(db) => Some(Arc::clone(db) as Arc<dyn SchemaProvider>),
            // An empty database still resolves, so "table not found" names the table.
            None => Some(Arc::new(SnapshotDatabase::default())),
        }
    }
}

#[async_trait]
impl SchemaProvider for SnapshotDatabase {
    fn table_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.tables.keys().cloned().collect();
        names.sort();
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        Ok(lookup(&self.tables, name).map(|t| Arc::clone(t) as Arc<dyn TableProvider>))
    }

    fn table_exist(&self, name: &str) -> bool {
        lookup(&self.tables, name).is_some()
    }
}
