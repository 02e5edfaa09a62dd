//! The catalog over the metadata store: databases, tables and manifests, with the checks a
//! catalog owes its users (valid names, existing databases, tables that do not share files).
//!
//! A table's data is exactly the files in its manifest, so a lake write commits by changing the
//! manifest and the table's statistics in ONE `Store::apply` (one transaction): readers see the
//! files before the write or after it, never some of them. Files written but never committed
//! (a killed writer) are invisible; a later crawl or cleanup may adopt or remove them.
//!
//! Manifest changes recompute the table's statistics from the resulting manifest, so writes to
//! one table are serialized within the process (two servers on one PostgreSQL may still race on
//! the statistics, never on the manifest itself).

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Mutex;
use weir_store::{CatalogMutation, DatabaseRecord, Mutation, Store, TableFileRecord, TableRecord};

use crate::catalog::{Database, Format, Partitioning, Table, TableFile, TableStats};
use crate::error::{LakeError, Result};

/// Longest database or table name.
const MAX_NAME: usize = 128;

/// A change to a table's manifest, committed with the table's definition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManifestChange {
    /// Start from an empty manifest instead of the current one.
    pub replace: bool,
    /// Files to add or update (by key).
    pub put: Vec<TableFile>,
    /// Keys to remove.
    pub remove: Vec<String>,
}

impl ManifestChange {
    pub fn add(files: Vec<TableFile>) -> Self {
        ManifestChange {
            put: files,
            ..Self::default()
        }
    }

    pub fn replace(files: Vec<TableFile>) -> Self {
        ManifestChange {
            replace: true,
            put: files,
            remove: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        !self.replace && self.put.is_empty() && self.remove.is_empty()
    }
}

/// Sent after a commit changed a table (its definition or its manifest), or dropped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableChanged {
    pub database: String,
    pub table: String,
}

/// Changes kept for slow subscribers before they start missing some (a subscriber that misses
/// some reads the catalog again).
const CHANGE_BUFFER: usize = 1024;

/// The lake's catalog. Cloning shares it.
#[derive(Clone)]
pub struct Catalog {
    store: Arc<dyn Store>,
    /// Serializes read-modify-write of manifests and statistics within this process.
    writes: Arc<Mutex<()>>,
    changes: tokio::sync::broadcast::Sender<TableChanged>,
}

impl Catalog {
    pub fn new(store: Arc<dyn Store>) -> Catalog {
        Catalog {
            store,
            writes: Arc::new(Mutex::new(())),
            changes: tokio::sync::broadcast::channel(CHANGE_BUFFER).0,
        }
    }

    /// Receives a [`TableChanged`] after every commit through this catalog (or a clone of it)
    /// from now on: what waits on tables (`wait_for`) wakes on it instead of polling.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<TableChanged> {
        self.changes.subscribe()
    }

    /// Announces a committed change of `database.table`, for writers that commit a manifest
    /// change in a batch of their own ([`Catalog::stage_files`]).
    pub fn notify_changed(&self, database: &str, table: &str) {
        // No subscriber is not an error.
        let _ = self.changes.send(TableChanged {
            database: database.to_string(),
            table: table.to_string(),
        });
    }

    /// The metadata store under the catalog.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    // -----------------------------------------------------------------------------------------
    // Databases

    /// Creates a database; fails if it exists.
    pub async fn create_database(&self, name: &str, description: Option<&str>) -> Result<Database> {
        check_name("database", name)?;
        let _guard = self.writes.lock().await;
        if self.store.database(name).await?.is_some() {
            return Err(LakeError::DatabaseExists(name.to_string()));
        }
        let record = DatabaseRecord {
            name: name.to_string(),
            description: description.map(str::to_string),
            created_at: now(),
        };
        self.store
            .apply(&[CatalogMutation::PutDatabase(record.clone()).into()])
            .await?;
        Ok(database_from(record))
    }

    /// The database, created (without a description) if it does not exist.
    pub async fn ensure_database(&self, name: &str) -> Result<Database> {
        if let Some(database) = self.database(name).await? {
            return Ok(database);
        }
        match self.create_database(name, None).await {
            Err(LakeError::DatabaseExists(_)) => self
                .database(name)
                .await?
                .ok_or_else(|| LakeError::NoSuchDatabase(name.to_string())),
            other => other,
        }
    }

    pub async fn database(&self, name: &str) -> Result<Option<Database>> {
        Ok(self.store.database(name).await?.map(database_from))
    }

    /// Every database, by name.
    pub async fn databases(&self) -> Result<Vec<Database>> {
        let records = self.store.databases().await?;
        Ok(records.into_iter().map(database_from).collect())
    }

    /// Drops a database. One with tables is refused unless `cascade`, which drops them (from
    /// the catalog: their files stay in the lake) in the same commit. False if it did not exist.
    pub async fn drop_database(&self, name: &str, cascade: bool) -> Result<bool> {
        let _guard = self.writes.lock().await;
        if self.store.database(name).await?.is_none() {
            return Ok(false);
        }
        let tables = self.store.tables(Some(name)).await?;
        if !tables.is_empty() && !cascade {
            return Err(LakeError::DatabaseNotEmpty {
                name: name.to_string(),
                tables: tables.len(),
            });
        }
        let dropped: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
        let mut batch: Vec<Mutation> = tables
            .into_iter()
            .map(|t| {
                CatalogMutation::DropTable {
                    database: t.database,
                    name: t.name,
                }
                .into()
            })
            .collect();
        batch.push(
            CatalogMutation::DropDatabase {
                name: name.to_string(),
            }
            .into(),
        );
        self.store.apply(&batch).await?;
        for table in &dropped {
            self.notify_changed(name, table);
        }
        Ok(true)
    }

    // -----------------------------------------------------------------------------------------
    // Tables

    /// Registers a new, empty table; fails if it exists.
    pub async fn create_table(&self, table: Table) -> Result<Table> {
        self.create_table_with_files(table, Vec::new()).await
    }

    /// Registers a new table with `files` as its manifest, in one commit; fails if it exists.
    pub async fn create_table_with_files(
        &self,
        table: Table,
        files: Vec<TableFile>,
    ) -> Result<Table> {
        let _guard = self.writes.lock().await;
        if self
            .store
            .table(&table.database, &table.name)
            .await?
            .is_some()
        {
            return Err(LakeError::TableExists(qualified(
                &table.database,
                &table.name,
            )));
        }
        self.commit_locked(table, ManifestChange::add(files)).await
    }

    /// The table, if it exists.
    pub async fn table(&self, database: &str, name: &str) -> Result<Option<Table>> {
        self.store
            .table(database, name)
            .await?
            .map(table_from)
            .transpose()
    }

    /// The tables of one database (by name), or of all (by database, then name).
    pub async fn tables(&self, database: Option<&str>) -> Result<Vec<Table>> {
        let records = self.store.tables(database).await?;
        records.into_iter().map(table_from).collect()
    }

    /// The table's manifest, by key.
    pub async fn files(&self, database: &str, name: &str) -> Result<Vec<TableFile>> {
        let records = self.store.table_files(database, name).await?;
        records
            .into_iter()
            .map(|r| file_from(r, &qualified(database, name)))
            .collect()
    }

    /// Removes the table and its manifest from the catalog (its files stay in the lake). False if
    /// it did not exist.
    pub async fn drop_table(&self, database: &str, name: &str) -> Result<bool> {
        let _guard = self.writes.lock().await;
        if self.store.table(database, name).await?.is_none() {
            return Ok(false);
        }
        self.store
            .apply(&[CatalogMutation::DropTable {
                database: database.to_string(),
                name: name.to_string(),
            }
            .into()])
            .await?;
        self.notify_changed(database, name);
        Ok(true)
    }

    // -----------------------------------------------------------------------------------------
    // Manifests: each call below is one atomic commit.

    /// Adds (or updates, by key) `files` in an existing table's manifest.
    pub async fn add_files(
        &self,
        database: &str,
        name: &str,
        files: Vec<TableFile>,
    ) -> Result<Table> {
        let _guard = self.writes.lock().await;
        let table = self.existing(database, name).await?;
        self.commit_locked(table, ManifestChange::add(files)).await
    }

    /// Replaces an existing table's whole manifest with `files`.
    pub async fn replace_files(
        &self,
        database: &str,
        name: &str,
        files: Vec<TableFile>,
    ) -> Result<Table> {
        let _guard = self.writes.lock().await;
        let table = self.existing(database, name).await?;
        self.commit_locked(table, ManifestChange::replace(files))
            .await
    }

    /// Replaces the table's definition and whole manifest (creating the table if missing) and
    /// returns the files of the old manifest, which the caller may now delete from the lake.
    pub async fn replace_table(
        &self,
        table: Table,
        files: Vec<TableFile>,
    ) -> Result<Vec<TableFile>> {
        let _guard = self.writes.lock().await;
        let old = self.files(&table.database, &table.name).await?;
        self.commit_locked(table, ManifestChange::replace(files))
            .await?;
        Ok(old)
    }

    /// Saves `table`'s definition (creating it if missing) and applies `change` to its manifest,
    /// recomputing its statistics, in one commit. Returns the table as stored.
    pub async fn commit(&self, table: Table, change: ManifestChange) -> Result<Table> {
        let _guard = self.writes.lock().await;
        self.commit_locked(table, change).await
    }

    /// For writers that commit a manifest change in a batch of their own (a delivery commits it
    /// with its stream checkpoint): creates `new` when no table of its name exists (and its
    /// database), merges `schema` into the table's columns, widening them as the crawler does, and
    /// recomputes the statistics from the committed manifest, in one commit. The wider schema is
    /// committed before any file that needs it is named. Returns the table as stored.
    pub async fn prepare_table(
        &self,
        new: Table,
        schema: Option<&datafusion::arrow::datatypes::Schema>,
        source: &str,
    ) -> Result<Table> {
        let _guard = self.writes.lock().await;
        let mut table = match self.table(&new.database, &new.name).await? {
            Some(table) => table,
            None => {
                if self.store.database(&new.database).await?.is_none() {
                    check_name("database", &new.database)?;
                    let record = DatabaseRecord {
                        name: new.database.clone(),
                        description: None,
                        created_at: now(),
                    };
                    self.store
                        .apply(&[CatalogMutation::PutDatabase(record).into()])
                        .await?;
                }
                new
            }
        };
        if let Some(schema) = schema {
            let mut merger = crate::crawler::schema::Merger::from_columns(&table.columns);
            merger.add(schema, source);
            let partitions: Vec<String> = match &table.partitioning {
                Partitioning::None => Vec::new(),
                Partitioning::Hive { columns } | Partitioning::Pattern { columns, .. } => {
                    columns.iter().map(|c| c.name.clone()).collect()
                }
            };
            table.columns = merger.finish(&partitions).0;
        }
        self.commit_locked(table, ManifestChange::default()).await
    }

    /// The mutations that add `files` to `table`'s manifest, checked against the table, for a
    /// caller that applies them in its own batch (see [`Catalog::prepare_table`]).
    pub fn stage_files(&self, table: &Table, files: &[TableFile]) -> Result<Vec<Mutation>> {
        let label = qualified(&table.database, &table.name);
        for file in files {
            check_file(table, &label, file)?;
        }
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let records = files
            .iter()
            .map(|f| file_record(&table.database, &table.name, f))
            .collect();
        Ok(vec![CatalogMutation::PutTableFiles(records).into()])
    }

    async fn existing(&self, database: &str, name: &str) -> Result<Table> {
        self.table(database, name)
            .await?
            .ok_or_else(|| LakeError::NoSuchTable(qualified(database, name)))
    }

    /// Commits changes to several tables' manifests (each table saved, created if missing, and
    /// its statistics recomputed) and `extra` mutations of other subsystems in ONE batch: a
    /// transform's output, its quarantine and its bookmark. Returns the tables as stored and,
    /// for each, the files its change removed (which the caller may now delete).
    pub async fn commit_with(
        &self,
        changes: Vec<(Table, ManifestChange)>,
        extra: Vec<Mutation>,
    ) -> Result<Vec<(Table, Vec<TableFile>)>> {
        let _guard = self.writes.lock().await;
        let mut batch = Vec::new();
        let mut tables = Vec::new();
        for (table, change) in changes {
            let removed = if change.replace {
                self.files(&table.database, &table.name).await?
            } else if change.remove.is_empty() {
                Vec::new()
            } else {
                let gone: std::collections::HashSet<&str> =
                    change.remove.iter().map(String::as_str).collect();
                self.files(&table.database, &table.name)
                    .await?
                    .into_iter()
                    .filter(|f| gone.contains(f.key.as_str()))
                    .collect()
            };
            let (table, mutations) = self.stage_locked(table, change).await?;
            batch.extend(mutations);
            tables.push((table, removed));
        }
        batch.extend(extra);
        self.store.apply(&batch).await?;
        for (table, _) in &tables {
            self.notify_changed(&table.database, &table.name);
        }
        Ok(tables)
    }

    /// `commit` with the write lock held.
    async fn commit_locked(&self, table: Table, change: ManifestChange) -> Result<Table> {
        let (table, batch) = self.stage_locked(table, change).await?;
        self.store.apply(&batch).await?;
        self.notify_changed(&table.database, &table.name);
        Ok(table)
    }

    /// The mutations of `commit`, checked, with the write lock held.
    async fn stage_locked(
        &self,
        mut table: Table,
        change: ManifestChange,
    ) -> Result<(Table, Vec<Mutation>)> {
        check_name("database", &table.database)?;
        check_name("table", &table.name)?;
        table.location = table.location.trim_matches('/').to_string();
        let stored = self.store.table(&table.database, &table.name).await?;
        match &stored {
            Some(old) => {
                table.created_at = old.created_at;
                if old.location != table.location {
                    self.check_location(&table).await?;
                }
            }
            None => {
                if self.store.database(&table.database).await?.is_none() {
                    return Err(LakeError::NoSuchDatabase(table.database.clone()));
                }
                self.check_location(&table).await?;
                table.created_at = now();
            }
        }
        let label = qualified(&table.database, &table.name);
        for file in &change.put {
            check_file(&table, &label, file)?;
        }

        // The manifest after the change, for the statistics.
        let mut manifest: BTreeMap<String, TableFile> = BTreeMap::new();
        if !change.replace && stored.is_some() {
            let files = self.files(&table.database, &table.name).await?;
            manifest.extend(files.into_iter().map(|f| (f.key.clone(), f)));
        }
        for key in &change.remove {
            manifest.remove(key);
        }
        for file in &change.put {
            manifest.insert(file.key.clone(), file.clone());
        }
        table.stats = stats(manifest.values());
        table.updated_at = now();

        let mut batch: Vec<Mutation> =
            vec![CatalogMutation::PutTable(table_record(&table)?).into()];
        let records = |files: &[TableFile]| -> Vec<TableFileRecord> {
            files
                .iter()
                .map(|f| file_record(&table.database, &table.name, f))
                .collect()
        };
        if change.replace {
            batch.push(
                CatalogMutation::ReplaceTableFiles {
                    database: table.database.clone(),
                    table: table.name.clone(),
                    files: records(&change.put),
                }
                .into(),
            );
        } else if !change.is_empty() {
            if !change.remove.is_empty() {
                batch.push(
                    CatalogMutation::DeleteTableFiles {
                        database: table.database.clone(),
                        table: table.name.clone(),
                        keys: change.remove.clone(),
                    }
                    .into(),
                );
            }
            if !change.put.is_empty() {
                batch.push(CatalogMutation::PutTableFiles(records(&change.put)).into());
            }
        }
        Ok((table, batch))
    }

    /// Refuses a location equal to, inside, or containing another table's.
    async fn check_location(&self, table: &Table) -> Result<()> {
        for other in self.store.tables(None).await? {
            if other.database == table.database && other.name == table.name {
                continue;
            }
            if overlaps(&table.location, &other.location) {
                return Err(LakeError::LocationOverlap {
                    table: qualified(&table.database, &table.name),
                    location: table.location.clone(),
                    other: qualified(&other.database, &other.name),
                    other_location: other.location,
                });
            }
        }
        Ok(())
    }
}

/// `database.table`, for messages and events.
pub fn qualified(database: &str, name: &str) -> String {
    format!("{database}.{name}")
}

/// Database and table names are SQL identifiers that need no quoting: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn check_name(what: &'static str, name: &str) -> Result<()> {
    let bad = |reason: &str| {
        Err(LakeError::InvalidName {
            what,
            name: name.to_string(),
            reason: reason.to_string(),
        })
    };
    let mut chars = name.chars();
    match chars.next() {
        None => return bad("it is empty"),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
            return bad("it must start with a letter or `_`");
        }
        Some(_) => {}
    }
    if chars.any(|c| !(c.is_ascii_alphanumeric() || c == '_')) {
        return bad("use only letters, digits and `_`");
    }
    if name.len() > MAX_NAME {
        return bad(&format!("longer than {MAX_NAME} characters"));
    }
    Ok(())
}

/// Whether two locations share files: equal, or one is a folder of the other. The lake's root
/// (an empty location) contains every other.
fn overlaps(a: &str, b: &str) -> bool {
    let inside = |inner: &str, outer: &str| {
        outer.is_empty() || inner == outer || inner.starts_with(&format!("{outer}/"))
    };
    inside(a, b) || inside(b, a)
}

fn check_file(table: &Table, label: &str, file: &TableFile) -> Result<()> {
    let under = table.location.is_empty() || file.key.starts_with(&format!("{}/", table.location));
    if !under {
        return Err(LakeError::FileOutsideTable {
            key: file.key.clone(),
            table: label.to_string(),
            location: table.location.clone(),
        });
    }
    let expected = partition_columns(&table.partitioning);
    if file.partition_values.len() != expected {
        return Err(LakeError::PartitionMismatch {
            key: file.key.clone(),
            table: label.to_string(),
            expected,
            got: file.partition_values.len(),
        });
    }
    Ok(())
}

fn partition_columns(partitioning: &Partitioning) -> usize {
    match partitioning {
        Partitioning::None => 0,
        Partitioning::Hive { columns } | Partitioning::Pattern { columns, .. } => columns.len(),
    }
}

/// Statistics of a manifest.
pub fn stats<'a>(files: impl IntoIterator<Item = &'a TableFile>) -> TableStats {
    let mut stats = TableStats {
        row_count: Some(0),
        ..TableStats::default()
    };
    for file in files {
        stats.file_count += 1;
        stats.size_bytes += file.size;
        stats.row_count = stats.row_count.zip(file.row_count).map(|(a, b)| a + b);
        stats.last_modified = stats.last_modified.max(Some(file.last_modified));
    }
    stats
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

// ---------------------------------------------------------------------------------------------
// Records: the store keeps rows; the catalog's types are built from them here.

pub(crate) fn format_name(format: Format) -> &'static str {
    match format {
        Format::Parquet => "parquet",
        Format::Csv => "csv",
        Format::Json => "json",
    }
}

fn database_from(record: DatabaseRecord) -> Database {
    Database {
        name: record.name,
        description: record.description,
        created_at: record.created_at,
    }
}

fn table_record(table: &Table) -> Result<TableRecord> {
    let json = |what, value: serde_json::Result<serde_json::Value>| {
        value.map_err(|e| LakeError::BadRecord {
            table: qualified(&table.database, &table.name),
            what,
            reason: e.to_string(),
        })
    };
    Ok(TableRecord {
        database: table.database.clone(),
        name: table.name.clone(),
        location: table.location.clone(),
        format: format_name(table.format).to_string(),
        columns: json("columns", serde_json::to_value(&table.columns))?,
        partitioning: json("partitioning", serde_json::to_value(&table.partitioning))?,
        row_count: table.stats.row_count,
        size_bytes: table.stats.size_bytes,
        file_count: table.stats.file_count,
        last_modified: table.stats.last_modified,
        created_at: table.created_at,
        updated_at: table.updated_at,
    })
}

fn table_from(record: TableRecord) -> Result<Table> {
    let label = qualified(&record.database, &record.name);
    let bad = |what, reason: String| LakeError::BadRecord {
        table: label.clone(),
        what,
        reason,
    };
    let format = match record.format.as_str() {
        "parquet" => Format::Parquet,
        "csv" => Format::Csv,
        "json" => Format::Json,
        other => return Err(bad("format", format!("unknown format `{other}`"))),
    };
    let columns =
        serde_json::from_value(record.columns).map_err(|e| bad("columns", e.to_string()))?;
    let partitioning = serde_json::from_value(record.partitioning)
        .map_err(|e| bad("partitioning", e.to_string()))?;
    Ok(Table {
        database: record.database,
        name: record.name,
        location: record.location,
        format,
        columns,
        partitioning,
        stats: TableStats {
            row_count: record.row_count,
            size_bytes: record.size_bytes,
            file_count: record.file_count,
            last_modified: record.last_modified,
        },
        created_at: record.created_at,
        updated_at: record.updated_at,
    })
}

fn file_record(database: &str, table: &str, file: &TableFile) -> TableFileRecord {
    TableFileRecord {
        database: database.to_string(),
        table_name: table.to_string(),
        key: file.key.clone(),
        size: file.size,
        last_modified: file.last_modified,
        etag: file.etag.clone(),
        partition_values: serde_json::Value::from(file.partition_values.clone()),
        row_count: file.row_count,
    }
}

fn file_from(record: TableFileRecord, label: &str) -> Result<TableFile> {
    let partition_values =
        serde_json::from_value(record.partition_values).map_err(|e| LakeError::BadRecord {
            table: label.to_string(),
            what: "partition values",
            reason: format!("{}: {e}", record.key),
        })?;
    Ok(TableFile {
        key: record.key,
        size: record.size,
        last_modified: record.last_modified,
        etag: record.etag,
        partition_values,
        row_count: record.row_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_identifiers() {
        for good in ["a", "_x", "Sales_2024", "t1"] {
            assert!(check_name("table", good).is_ok(), "{good}");
        }
        for bad in ["", "1a", "a-b", "a.b", "é", "a b"] {
            assert!(check_name("table", bad).is_err(), "{bad}");
        }
        assert!(check_name("table", &"a".repeat(MAX_NAME + 1)).is_err());
    }

    #[test]
    fn overlapping_locations() {
        assert!(overlaps("a/b", "a/b"));
        assert!(overlaps("a/b/c", "a/b"));
        assert!(overlaps("a", "a/b"));
        assert!(overlaps("", "a"));
        assert!(!overlaps("a/b", "a/bc"));
        assert!(!overlaps("a/b", "a/c"));
    }

    #[test]
    fn stats_know_rows_only_when_every_file_does() {
        let file = |size, rows| TableFile {
            key: "k".into(),
            size,
            last_modified: size,
            etag: None,
            partition_values: vec![],
            row_count: rows,
        };
        let known = stats(&[file(10, Some(1)), file(20, Some(2))]);
        assert_eq!(
            known,
            TableStats {
                row_count: Some(3),
                size_bytes: 30,
                file_count: 2,
                last_modified: Some(20),
            }
        );
        assert_eq!(stats(&[file(10, Some(1)), file(20, None)]).row_count, None);
        assert_eq!(stats(&[]).row_count, Some(0));
    }
}
