//! The catalog's part of a batch. Its mutations include deletions, which do not commute with
//! upserts of the same rows, so they keep their batch order and are applied one by one. A lake
//! commit is a couple of them, each written with a few multi-row statements.

use super::{CatalogMutation, TableFileRecord};
use crate::plan::Rows;

#[derive(Default)]
pub(crate) struct Plan<'a> {
    /// In batch order.
    pub mutations: Vec<&'a CatalogMutation>,
}

impl<'a> Plan<'a> {
    pub fn add(&mut self, mutation: &'a CatalogMutation) {
        self.mutations.push(mutation)
    }
}

/// One row per file key (the last one written), for a multi-row upsert of manifest rows.
pub(crate) fn unique_files(files: &[TableFileRecord]) -> Vec<&TableFileRecord> {
    let mut rows = Rows::default();
    for file in files {
        rows.keep_last(
            (
                file.database.as_str(),
                file.table_name.as_str(),
                file.key.as_str(),
            ),
            file,
        );
    }
    rows.into_rows()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_mutations_keep_their_order() {
        let drop = CatalogMutation::DropTable {
            database: "d".into(),
            name: "t".into(),
        };
        let batch = [
            drop.clone(),
            CatalogMutation::PutTableFiles(vec![]),
            drop.clone(),
        ];
        let mut plan = Plan::default();
        batch.iter().for_each(|m| plan.add(m));
        assert_eq!(plan.mutations, [&batch[0], &batch[1], &batch[2]]);
    }

    #[test]
    fn duplicate_file_keys_keep_the_last() {
        let file = |key: &str, size| TableFileRecord {
            database: "d".into(),
            table_name: "t".into(),
            key: key.into(),
            size,
            last_modified: 0,
            etag: None,
            partition_values: serde_json::json!([]),
            row_count: None,
        };
        let files = [file("a", 1), file("b", 2), file("a", 3)];
        let sizes: Vec<_> = unique_files(&files).iter().map(|f| f.size).collect();
        assert_eq!(sizes, [3, 2]);
    }
}
