//! An in-memory [`CatalogAccess`]: for tests and the query benchmark, where a metadata database
//! would only add noise. Each operation is atomic under one lock, like the real catalog's commits.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;

use super::access::{CatalogAccess, CatalogError};
use crate::catalog::{Table, TableFile};

type Entry = (Table, Vec<TableFile>);

#[derive(Default)]
pub struct MemoryCatalog {
    tables: Mutex<BTreeMap<(String, String), Entry>>,
    /// When set, every commit fails (to test that a failed commit leaves nothing behind).
    fail_commits: AtomicBool,
}

impl MemoryCatalog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every following commit fail (true) or succeed (false).
    pub fn fail_commits(&self, fail: bool) {
        self.fail_commits.store(fail, Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), Entry>> {
        // A panic while holding the lock cannot leave a half-applied change (each change is a
        // single insert or remove), so a poisoned lock is still consistent.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn check_commit(&self) -> Result<(), CatalogError> {
        if self.fail_commits.load(Ordering::SeqCst) {
            return Err("commit failed (injected)".into());
        }
        Ok(())
    }
}

fn key(database: &str, name: &str) -> (String, String) {
    (database.to_string(), name.to_string())
}

#[async_trait]
impl CatalogAccess for MemoryCatalog {
    async fn table(&self, database: &str, name: &str) -> Result<Option<Table>, CatalogError> {
        Ok(self
            .lock()
            .get(&key(database, name))
            .map(|(t, _)| t.clone()))
    }

    async fn tables(&self, database: Option<&str>) -> Result<Vec<Table>, CatalogError> {
        Ok(self
            .lock()
            .values()
            .filter(|(t, _)| database.is_none_or(|d| t.database == d))
            .map(|(t, _)| t.clone())
            .collect())
    }

    async fn files(&self, database: &str, name: &str) -> Result<Vec<TableFile>, CatalogError> {
        match self.lock().get(&key(database, name)) {
            Some((_, files)) => Ok(files.clone()),
            None => Err(format!("no table {database}.{name}").into()),
        }
    }

    async fn create_table(&self, table: Table, files: Vec<TableFile>) -> Result<(), CatalogError> {
        self.check_commit()?;
        let mut tables = self.lock();
        let k = key(&table.database, &table.name);
        if tables.contains_key(&k) {
            return Err(format!("table {}.{} exists", table.database, table.name).into());
        }
        tables.insert(k, (table, files));
        Ok(())
    }

    async fn add_files(
        &self,
        database: &str,
        name: &str,
        files: Vec<TableFile>,
    ) -> Result<(), CatalogError> {
        self.check_commit()?;
        let mut tables = self.lock();
        let Some((_, manifest)) = tables.get_mut(&key(database, name)) else {
            return Err(format!("no table {database}.{name}").into());
        };
        for file in files {
            manifest.retain(|f| f.key != file.key);
            manifest.push(file);
        }
        Ok(())
    }

    async fn replace_table(
        &self,
        table: Table,
        files: Vec<TableFile>,
    ) -> Result<Vec<TableFile>, CatalogError> {
        self.check_commit()?;
        let mut tables = self.lock();
        let k = key(&table.database, &table.name);
        let old = tables.remove(&k).map(|(_, f)| f).unwrap_or_default();
        tables.insert(k, (table, files));
        Ok(old)
    }

    async fn drop_table(&self, database: &str, name: &str) -> Result<bool, CatalogError> {
        Ok(self.lock().remove(&key(database, name)).is_some())
    }
}
