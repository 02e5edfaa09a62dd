//! The bookmarks' statements: how their records are stored, their writes and their queries.

use super::{
    Plan, TransformBookmarkObject, TransformBookmarkRecord, TransformMutation, TransformStore,
};
use crate::Result;
use crate::driver::{Driver, Record, Statement, mapping};
use crate::sql_store::{SqlStore, write};
use crate::statements::{OnConflict, Placeholders, Write};

mapping!(TransformBookmarkRecord {
    transform: text,
    state: json,
    run: opt_text,
    updated_at: value,
});

mapping!(TransformBookmarkObject {
    transform: text,
    key: text,
    etag: opt_text,
});

/// The bookmarks' write statements, in the backend's placeholder style.
pub(crate) struct TransformWrites {
    bookmarks: Write,
    objects: Write,
}

impl TransformWrites {
    pub(crate) fn new(placeholders: Placeholders) -> TransformWrites {
        TransformWrites {
            bookmarks: Write::new(
                "transform_bookmarks",
                TransformBookmarkRecord::COLUMNS,
                &["transform"],
                OnConflict::Update,
                placeholders,
            ),
            objects: Write::new(
                "transform_bookmark_objects",
                TransformBookmarkObject::COLUMNS,
                &["transform", "key"],
                OnConflict::Update,
                placeholders,
            ),
        }
    }

    /// Writes the bookmarks' part of a batch, inside the batch's transaction, in batch order.
    pub(crate) async fn apply<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        plan: Plan<'_>,
    ) -> Result<()> {
        for mutation in plan.mutations {
            match mutation {
                TransformMutation::PutBookmark(bookmark) => {
                    write::<DB, _>(conn, &self.bookmarks, &[bookmark]).await?
                }
                TransformMutation::PutBookmarkObjects(objects) => {
                    // One row per key: the last of a key wins, as an upsert would.
                    let mut rows: Vec<&TransformBookmarkObject> = Vec::new();
                    let mut index = std::collections::HashMap::new();
                    for object in objects {
                        match index.get(&(&object.transform, &object.key)) {
                            Some(&i) => rows[i] = object,
                            None => {
                                index.insert((&object.transform, &object.key), rows.len());
                                rows.push(object);
                            }
                        }
                    }
                    write::<DB, _>(conn, &self.objects, &rows).await?
                }
                TransformMutation::DeleteBookmark { transform } => {
                    DB::execute(
                        conn,
                        Statement::new(DELETE_OBJECTS).bind(transform.as_str()),
                    )
                    .await?;
                    DB::execute(
                        conn,
                        Statement::new(DELETE_BOOKMARK).bind(transform.as_str()),
                    )
                    .await?
                }
            }
        }
        Ok(())
    }
}

const DELETE_BOOKMARK: &str = "DELETE FROM transform_bookmarks WHERE transform = $1";
const DELETE_OBJECTS: &str = "DELETE FROM transform_bookmark_objects WHERE transform = $1";

// Reads. Rows are decoded by column name, so `SELECT *` stays correct as columns are added.

const BOOKMARK: &str = "SELECT * FROM transform_bookmarks WHERE transform = $1";
const OBJECTS: &str = "SELECT * FROM transform_bookmark_objects WHERE transform = $1 ORDER BY key";

#[async_trait::async_trait]
impl<DB: Driver> TransformStore for SqlStore<DB> {
    async fn bookmark(&self, transform: &str) -> Result<Option<TransformBookmarkRecord>> {
        self.fetch_optional(Statement::new(BOOKMARK).bind(transform))
            .await
    }

    async fn bookmark_objects(&self, transform: &str) -> Result<Vec<TransformBookmarkObject>> {
        self.fetch_all(Statement::new(OBJECTS).bind(transform))
            .await
    }
}
