//! The crawler: turns folders of files into catalog tables, as Glue's crawler does, in seconds.
//!
//! Each folder directly under the crawled prefix becomes a table named after it (or, given a
//! table name, the whole prefix is one table). For each table the crawler picks the format most
//! of its files have, reads only what it must of each file (`infer.rs`), merges their schemas
//! (`schema.rs`), recognises partition folders (`layout.rs`), and commits the table's definition
//! and manifest together (one `Catalog::commit`).
//!
//! Re-crawls are incremental: a file whose key, size and entity tag (or modification time) match
//! the manifest is not read again; files gone from the lake leave the manifest.

mod infer;
mod layout;
pub(crate) mod schema;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::catalog::{Column, Format, Partitioning, Table, TableFile, TableStats};
use crate::catalog_store::{Catalog, ManifestChange, check_name, qualified};
use crate::error::{LakeError, Result};
use crate::lake::{Lake, ObjectInfo};

pub use schema::Conflict;

/// Files read at once. Reads are small (a footer, a small file), so latency dominates: on S3
/// many requests in flight is what makes a crawl take seconds rather than minutes.
const CONCURRENT_READS: usize = 32;
/// Ignored keys listed in a report (all are counted).
const IGNORED_LISTED: usize = 20;

/// What a crawl did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrawlReport {
    pub database: String,
    pub prefix: String,
    pub tables: Vec<TableReport>,
    /// Objects under the prefix that belong to no table (unknown format, outside any folder, or
    /// of another format than their table's), up to 20 of them, with the reason.
    pub ignored: Vec<String>,
    pub ignored_count: usize,
    pub seconds: f64,
}

/// What a crawl did to one table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableReport {
    pub name: String,
    pub location: String,
    pub status: TableStatus,
    pub format: Option<Format>,
    /// New or changed files whose schema was read.
    pub files_read: usize,
    /// Files unchanged since the last crawl, not read.
    pub files_skipped: usize,
    /// Files gone from the lake, removed from the manifest.
    pub files_removed: usize,
    pub columns: Vec<Column>,
    pub partitioning: Partitioning,
    /// Distinct partitions in the manifest.
    pub partitions: usize,
    pub stats: TableStats,
    /// Columns whose types could not be merged (resolved to `Utf8`).
    pub conflicts: Vec<Conflict>,
    /// Files that could not be read, layouts that were not recognised, …
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableStatus {
    Created,
    Updated,
    Unchanged,
    /// Not crawled: see the report's problems.
    Skipped,
}

/// Crawls `prefix` into tables of `database` (created if missing): one table per folder
/// directly under `prefix`, or one table named `table` for the whole prefix.
pub async fn crawl(
    lake: &Lake,
    catalog: &Catalog,
    prefix: &str,
    database: &str,
    table: Option<&str>,
) -> Result<CrawlReport> {
    let started = Instant::now();
    check_name("database", database)?;
    if let Some(name) = table {
        check_name("table", name)?;
    }
    let prefix = prefix.trim_matches('/').to_string();
    catalog.ensure_database(database).await?;
    let objects = lake.list(&prefix).await?;

    let mut ignored = Ignored::default();
    let groups = group(&prefix, table, objects, &mut ignored);
    let mut reports = Vec::new();
    let mut crawled = BTreeSet::new();
    for (name, group) in groups {
        crawled.insert(name.clone());
        let report = crawl_table(lake, catalog, database, &name, group, &mut ignored).await?;
        reports.push(report);
    }
    // Tables of earlier crawls whose folder is now empty: their manifests empty too.
    for existing in catalog.tables(Some(database)).await? {
        let gone = match table {
            Some(name) => existing.name == name && existing.location == prefix,
            None => parent(&existing.location) == prefix,
        };
        if gone && !crawled.contains(&existing.name) {
            let group = Group {
                location: existing.location.clone(),
                objects: Vec::new(),
            };
            let name = existing.name.clone();
            reports.push(crawl_table(lake, catalog, database, &name, group, &mut ignored).await?);
        }
    }
    Ok(CrawlReport {
        database: database.to_string(),
        prefix,
        tables: reports,
        ignored: ignored.listed,
        ignored_count: ignored.count,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The objects of one table-to-be.
struct Group {
    location: String,
    objects: Vec<ObjectInfo>,
}

#[derive(Default)]
struct Ignored {
    listed: Vec<String>,
    count: usize,
}

impl Ignored {
    fn add(&mut self, key: &str, reason: &str) {
        self.count += 1;
        if self.listed.len() < IGNORED_LISTED {
            self.listed.push(format!("{key}: {reason}"));
        }
    }
}

/// Sorts the objects under `prefix` into tables, by name.
fn group(
    prefix: &str,
    table: Option<&str>,
    objects: Vec<ObjectInfo>,
    ignored: &mut Ignored,
) -> BTreeMap<String, Group> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for object in objects {
        let relative = relative_to(&object.key, prefix).to_string();
        // Hidden files and the markers of Spark and Hadoop (`_SUCCESS`, `_temporary/`, `.crc`).
        if relative
            .split('/')
            .any(|s| s.starts_with('_') || s.starts_with('.'))
        {
            continue;
        }
        let (name, location) = match table {
            Some(name) => (name.to_string(), prefix.to_string()),
            None => {
                let Some((folder, _)) = relative.split_once('/') else {
                    ignored.add(
                        &object.key,
                        "not in a folder (crawl with a table name to make one table of the prefix)",
                    );
                    continue;
                };
                let location = join(prefix, folder);
                let name = table_name(folder);
                if let Some(other) = groups.get(&name)
                    && other.location != location
                {
                    ignored.add(
                        &object.key,
                        &format!(
                            "folder `{folder}` would be table `{name}`, already taken by `{}`",
                            other.location
                        ),
                    );
                    continue;
                }
                (name, location)
            }
        };
        groups
            .entry(name)
            .or_insert_with(|| Group {
                location,
                objects: Vec::new(),
            })
            .objects
            .push(object);
    }
    groups
}

async fn crawl_table(
    lake: &Lake,
    catalog: &Catalog,
    database: &str,
    name: &str,
    group: Group,
    ignored: &mut Ignored,
) -> Result<TableReport> {
    let location = group.location;
    let existing = catalog.table(database, name).await?;
    let mut report = TableReport {
        name: name.to_string(),
        location: location.clone(),
        status: TableStatus::Skipped,
        format: None,
        files_read: 0,
        files_skipped: 0,
        files_removed: 0,
        columns: Vec::new(),
        partitioning: Partitioning::None,
        partitions: 0,
        stats: TableStats::default(),
        conflicts: Vec::new(),
        problems: Vec::new(),
    };
    if let Some(existing) = &existing
        && existing.location != location
    {
        report.problems.push(format!(
            "table {} exists at location `{}`, not `{location}`: not crawled",
            qualified(database, name),
            existing.location
        ));
        return Ok(report);
    }

    // The format most files have; the others are not part of the table.
    let mut by_format: Vec<(Format, Vec<ObjectInfo>)> = Vec::new();
    for object in group.objects {
        let Some(format) = infer::format_of(&object.key) else {
            ignored.add(
                &object.key,
                "not a .parquet, .csv, .json, .jsonl or .ndjson file",
            );
            continue;
        };
        match by_format.iter_mut().find(|(f, _)| *f == format) {
            Some((_, files)) => files.push(object),
            None => by_format.push((format, vec![object])),
        }
    }
    // Most files wins; on a tie, the format met first (keys are sorted).
    let chosen = by_format
        .iter()
        .enumerate()
        .max_by_key(|(i, (_, files))| (files.len(), std::cmp::Reverse(*i)))
        .map(|(i, _)| i);
    let (format, objects) = match (chosen, &existing) {
        (Some(i), _) => by_format.swap_remove(i),
        (None, Some(existing)) => (existing.format, Vec::new()),
        (None, None) => return Ok(report),
    };
    for (other, files) in &by_format {
        for file in files {
            ignored.add(
                &file.key,
                &format!("table `{name}` is {}", format_label(format)),
            );
        }
        report.problems.push(format!(
            "{} {} file(s) ignored: the table's format is {}",
            files.len(),
            format_label(*other),
            format_label(format)
        ));
    }
    report.format = Some(format);

    // Partitions, from the folders between the location and each file. (Owned values from here
    // on: borrowed ones held across the reads below make the future's `Send` unprovable.)
    let (partitioning, partition_values) = {
        let dirs: Vec<Vec<&str>> = objects
            .iter()
            .map(|o| folders(relative_to(&o.key, &location)))
            .collect();
        let detected = layout::detect(&dirs);
        report.problems.extend(detected.problem);
        let values: Vec<Vec<String>> = dirs
            .iter()
            .map(|d| layout::values(&detected.partitioning, d))
            .collect();
        (detected.partitioning, values)
    };

    // What must be read: everything when the format changed, else new and changed files.
    let same_format = existing.as_ref().is_some_and(|t| t.format == format);
    let old_files: HashMap<String, TableFile> = if existing.is_some() {
        catalog
            .files(database, name)
            .await?
            .into_iter()
            .map(|f| (f.key.clone(), f))
            .collect()
    } else {
        HashMap::new()
    };
    let mut merger = match (&existing, same_format) {
        (Some(table), true) => schema::Merger::from_columns(&table.columns),
        _ => schema::Merger::default(),
    };
    let mut to_read = Vec::new();
    let mut manifest: Vec<TableFile> = Vec::new();
    let mut put: Vec<TableFile> = Vec::new();
    for (object, partition_values) in objects.into_iter().zip(partition_values) {
        match old_files.get(&object.key) {
            Some(old) if same_format && unchanged(old, &object) => {
                report.files_skipped += 1;
                let file = TableFile {
                    partition_values,
                    ..old.clone()
                };
                if file != *old {
                    put.push(file.clone());
                }
                manifest.push(file);
            }
            _ => to_read.push((object, partition_values)),
        }
    }

    let mut results = read_all(lake, to_read, format).await;
    results.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    for (object, partition_values, facts) in results {
        match facts {
            Ok(facts) => {
                report.files_read += 1;
                merger.add(&facts.schema, &object.key);
                let file = TableFile {
                    key: object.key.clone(),
                    size: object.size as i64,
                    last_modified: object.last_modified,
                    etag: object.etag.clone(),
                    partition_values,
                    row_count: facts.row_count,
                };
                put.push(file.clone());
                manifest.push(file);
            }
            Err(problem) => report.problems.push(problem),
        }
    }

    let kept: BTreeSet<&str> = manifest.iter().map(|f| f.key.as_str()).collect();
    let remove: Vec<String> = old_files
        .keys()
        .filter(|k| !kept.contains(k.as_str()))
        .cloned()
        .collect();
    report.files_removed = remove.len();
    let partition_names: Vec<String> = partition_columns(&partitioning)
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let (columns, conflicts) = merger.finish(&partition_names);
    report.conflicts = conflicts;
    report.partitions = manifest
        .iter()
        .map(|f| &f.partition_values)
        .filter(|v| !v.is_empty())
        .collect::<BTreeSet<_>>()
        .len();

    let definition = Table {
        database: database.to_string(),
        name: name.to_string(),
        location,
        format,
        columns,
        partitioning,
        stats: TableStats::default(),
        created_at: 0,
        updated_at: 0,
    };
    let unchanged_table = existing.as_ref().is_some_and(|t| {
        t.format == definition.format
            && t.columns == definition.columns
            && t.partitioning == definition.partitioning
    });
    let saved = if unchanged_table && put.is_empty() && remove.is_empty() {
        report.status = TableStatus::Unchanged;
        existing.unwrap_or(definition)
    } else {
        report.status = if existing.is_some() {
            TableStatus::Updated
        } else {
            TableStatus::Created
        };
        // Files copied into a local lake by hand may still sit in the page cache: a manifest
        // must name only files that survive a crash.
        let new_keys: Vec<String> = put.iter().map(|f| f.key.clone()).collect();
        lake.make_durable(&new_keys).await?;
        let change = ManifestChange {
            replace: false,
            put,
            remove,
        };
        match catalog.commit(definition, change).await {
            Ok(saved) => saved,
            // Another table already owns these files: this one is skipped, the crawl goes on.
            Err(error @ LakeError::LocationOverlap { .. }) => {
                report.status = TableStatus::Skipped;
                report.problems.push(error.to_string());
                return Ok(report);
            }
            Err(error) => return Err(error),
        }
    };
    report.columns = saved.columns;
    report.partitioning = saved.partitioning;
    report.stats = saved.stats;
    Ok(report)
}

/// Inspects `files` (with their partition values), many at once.
async fn read_all(
    lake: &Lake,
    files: Vec<(ObjectInfo, Vec<String>)>,
    format: Format,
) -> Vec<(
    ObjectInfo,
    Vec<String>,
    std::result::Result<infer::Facts, String>,
)> {
    futures::stream::iter(files)
        .map(move |(object, partition_values)| async move {
            let facts = infer::inspect(lake, &object, format).await;
            (object, partition_values, facts)
        })
        .buffer_unordered(CONCURRENT_READS)
        .collect()
        .await
}

/// Whether the object is the file the manifest describes: same size, and same entity tag when
/// both have one, else same modification time.
fn unchanged(old: &TableFile, object: &ObjectInfo) -> bool {
    old.size == object.size as i64
        && match (&old.etag, &object.etag) {
            (Some(a), Some(b)) => a == b,
            _ => old.last_modified == object.last_modified,
        }
}

fn partition_columns(partitioning: &Partitioning) -> &[Column] {
    match partitioning {
        Partitioning::None => &[],
        Partitioning::Hive { columns } | Partitioning::Pattern { columns, .. } => columns,
    }
}

fn format_label(format: Format) -> &'static str {
    crate::catalog_store::format_name(format)
}

/// `key` relative to the folder `prefix` ("" is the lake's root).
fn relative_to<'a>(key: &'a str, prefix: &str) -> &'a str {
    if prefix.is_empty() {
        return key;
    }
    key.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(key)
}

/// The folders of a relative key (all its segments but the file name).
fn folders(relative: &str) -> Vec<&str> {
    let mut segments: Vec<&str> = relative.split('/').collect();
    segments.pop();
    segments
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

/// The folder a location is in ("" for a top-level one).
fn parent(location: &str) -> &str {
    location.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// A folder's name as a table name, as Glue makes them: lower case, anything but letters,
/// digits and `_` turned into `_`, and never starting with a digit.
pub fn table_name(folder: &str) -> String {
    let mut name: String = folder
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name.truncate(128);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_become_table_names() {
        assert_eq!(table_name("Sales-2024.v2"), "sales_2024_v2");
        assert_eq!(table_name("2024"), "_2024");
        assert_eq!(table_name("orders"), "orders");
        assert!(check_name("table", &table_name("ünïcode")).is_ok());
    }

    #[test]
    fn keys_are_grouped_by_folder() {
        let object = |key: &str| ObjectInfo {
            key: key.into(),
            size: 1,
            last_modified: 0,
            etag: None,
        };
        let mut ignored = Ignored::default();
        let groups = group(
            "raw",
            None,
            vec![
                object("raw/top.csv"),
                object("raw/a/x.csv"),
                object("raw/a/_SUCCESS"),
                object("raw/a/_temporary/0/y.csv"),
                object("raw/B-2/day=1/z.csv"),
            ],
            &mut ignored,
        );
        let names: Vec<(&str, &str, usize)> = groups
            .iter()
            .map(|(n, g)| (n.as_str(), g.location.as_str(), g.objects.len()))
            .collect();
        assert_eq!(names, [("a", "raw/a", 1), ("b_2", "raw/B-2", 1)]);
        assert_eq!(ignored.count, 1);
        assert!(ignored.listed[0].starts_with("raw/top.csv: not in a folder"));

        let mut ignored = Ignored::default();
        let one = group(
            "raw",
            Some("all"),
            vec![object("raw/top.csv"), object("raw/a/x.csv")],
            &mut ignored,
        );
        assert_eq!(one["all"].objects.len(), 2);
        assert_eq!(one["all"].location, "raw");
    }
}
