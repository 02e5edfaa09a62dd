//! What a Parquet file's footer says that planning needs: the file's Arrow schema and which of its
//! string columns are dictionary-encoded in every data page.
//!
//! Strings that repeat (countries, pages, event types) are stored as a dictionary of distinct
//! values and a small integer per row. Read as Arrow dictionaries, they stay that way: the reader
//! copies the integers instead of building a string per row, filters compare the few distinct
//! values, and grouping indexes by the integer (see `dictionary_aggregate`). A column is read as a
//! dictionary only where every file stores it so; one plain page anywhere would make the reader
//! hash every value to build a dictionary, which is slower than reading strings.
//!
//! Footers are cached by key, size and modification time, so a table's footers are read once,
//! not once per statement.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::{ColumnStatistics, Statistics};
use datafusion::datasource::physical_plan::parquet::metadata::DFParquetMetadata;
use datafusion::object_store::ObjectStore;
use datafusion::object_store::ObjectStoreExt;
use datafusion::parquet::arrow::parquet_to_arrow_schema;
use datafusion::parquet::basic::Encoding;
use datafusion::parquet::file::metadata::ColumnChunkMetaData;

use super::access::LakeRoot;
use crate::catalog::TableFile;
use crate::parquet_footer::parquet_metadata;

/// The type dictionary-read string columns have: what the Parquet reader produces from a
/// dictionary-encoded byte array column without touching the values per row.
pub fn dictionary_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// One file's footer, as planning uses it.
#[derive(Debug)]
pub struct Footer {
    /// The file's schema as Arrow reads it (including any Arrow schema embedded by the writer).
    pub schema: SchemaRef,
    /// Top-level string columns whose every data page, in every row group, is dictionary-encoded.
    pub dictionary_columns: HashSet<String>,
    /// Row count and, per column of `schema`, null count and min/max from the row groups'
    /// statistics: what the planner estimates join and filter cardinalities from. `None` when
    /// the footer's statistics cannot be read.
    pub statistics: Option<Statistics>,
}

impl Footer {
    /// The schema to read this file with when `columns` are to come out as dictionaries: the
    /// file's own schema with those string columns' types replaced. `None` when the file lacks one
    /// of them or stores it as something other than a string; the file is then read as it is and
    /// DataFusion converts its columns.
    pub fn read_schema(&self, columns: &HashSet<String>) -> Option<SchemaRef> {
        let mut found = 0;
        let fields: Vec<Field> = self
            .schema
            .fields()
            .iter()
            .map(|f| {
                if !columns.contains(f.name()) {
                    return Some(f.as_ref().clone());
                }
                found += 1;
                is_string(f.data_type())
                    .then(|| f.as_ref().clone().with_data_type(dictionary_type()))
            })
            .collect::<Option<_>>()?;
        (found == columns.len()).then(|| {
            Arc::new(Schema::new_with_metadata(
                fields,
                self.schema.metadata().clone(),
            ))
        })
    }
}

impl Footer {
    /// This file's column statistics in the order of `file_schema` (a table's file columns),
    /// inexact, so that they guide estimates and never answer a query alone. A column the file
    /// lacks, or stores with another type than the table reads it as, is unknown.
    pub fn column_statistics(&self, file_schema: &Schema) -> Option<Vec<ColumnStatistics>> {
        let statistics = self.statistics.as_ref()?;
        Some(
            file_schema
                .fields()
                .iter()
                .map(|field| {
                    self.schema
                        .index_of(field.name())
                        .ok()
                        .filter(|&i| self.schema.field(i).data_type() == field.data_type())
                        .and_then(|i| statistics.column_statistics.get(i))
                        .map(|c| c.clone().to_inexact())
                        .unwrap_or_else(ColumnStatistics::new_unknown)
                })
                .collect(),
        )
    }
}

fn is_string(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, value) => {
            matches!(value.as_ref(), DataType::Utf8 | DataType::LargeUtf8)
        }
        _ => false,
    }
}

/// Whether every data page of the chunk is dictionary-encoded. Writers that record no page
/// encoding statistics get `false`: nothing proves the pages are.
fn all_dictionary(chunk: &ColumnChunkMetaData) -> bool {
    chunk.dictionary_page_offset().is_some()
        && chunk.page_encoding_stats_mask().is_some_and(|mask| {
            mask.is_only(Encoding::RLE_DICTIONARY) || mask.is_only(Encoding::PLAIN_DICTIONARY)
        })
}

/// Most footers kept; past it the cache starts over (a footer is a few kilobytes).
const MAX_CACHED: usize = 100_000;

type FooterKey = (String, i64, i64);

/// Footers by (key, size, modification time): a rewritten object is a new entry.
#[derive(Default)]
pub struct FooterCache {
    footers: Mutex<HashMap<FooterKey, Arc<Footer>>>,
}

impl FooterCache {
    /// The footer of `file`, read from `store` unless cached.
    pub async fn footer(
        &self,
        store: &Arc<dyn ObjectStore>,
        root: &LakeRoot,
        file: &TableFile,
    ) -> Result<Arc<Footer>, String> {
        let key = (file.key.clone(), file.size, file.last_modified);
        if let Some(footer) = self.lock().get(&key) {
            return Ok(Arc::clone(footer));
        }
        let path = root.path(&file.key);
        let parquet = parquet_metadata(&file.key, file.size.max(0) as u64, |range| {
            let path = path.clone();
            async move {
                store
                    .get_range(&path, range)
                    .await
                    .map_err(|e| format!("{}: {e}", file.key))
            }
        })
        .await?;
        let descriptor = parquet.file_metadata().schema_descr();
        let schema = Arc::new(
            parquet_to_arrow_schema(descriptor, parquet.file_metadata().key_value_metadata())
                .map_err(|e| format!("{}: Parquet schema: {e}", file.key))?,
        );
        let mut dictionary_columns = HashSet::new();
        for field in schema.fields() {
            if !is_string(field.data_type()) {
                continue;
            }
            // A top-level string is one leaf whose path is its name.
            let leaf = (0..descriptor.num_columns())
                .find(|&i| descriptor.column(i).path().parts() == [field.name().as_str()]);
            let Some(leaf) = leaf else { continue };
            let everywhere = parquet.num_row_groups() > 0
                && parquet
                    .row_groups()
                    .iter()
                    .all(|rg| all_dictionary(rg.column(leaf)));
            if everywhere {
                dictionary_columns.insert(field.name().clone());
            }
        }
        let statistics =
            DFParquetMetadata::statistics_from_parquet_metadata(&parquet, &schema).ok();
        let footer = Arc::new(Footer {
            schema,
            dictionary_columns,
            statistics,
        });
        let mut footers = self.lock();
        if footers.len() >= MAX_CACHED {
            footers.clear();
        }
        footers.insert(key, Arc::clone(&footer));
        Ok(footer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<FooterKey, Arc<Footer>>> {
        // A panic while holding the lock leaves a map that is still valid.
        self.footers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The string columns of a table to read as dictionaries: those every file stores as
/// dictionaries.
pub fn common_dictionary_columns(footers: &[Arc<Footer>]) -> HashSet<String> {
    let mut iter = footers.iter();
    let Some(first) = iter.next() else {
        return HashSet::new();
    };
    let mut common = first.dictionary_columns.clone();
    for footer in iter {
        common.retain(|c| footer.dictionary_columns.contains(c));
    }
    common
}
