//! Transforms' bookmarks: what a bookmarked transform has already processed, so its next run
//! reads only what arrived since. A column bookmark or a stream's positions is one row's JSON
//! `state`; a prefix source's objects are rows of their own (key and etag), since a prefix may
//! hold many. The lake commits a bookmark in the same batch as the run's output manifests, so a
//! run that is killed before that commit leaves the bookmark where it was. Records and mutations
//! here; the batch in `plan.rs`; statements, writes and queries in `sql.rs`.

mod plan;
mod sql;

use serde::{Deserialize, Serialize};

use crate::Result;

pub(crate) use plan::Plan;
pub(crate) use sql::TransformWrites;

/// One write of the bookmarks. They are applied in batch order (they include deletions).
#[derive(Debug, Clone, PartialEq)]
pub enum TransformMutation {
    /// Upsert a transform's bookmark (key: transform).
    PutBookmark(TransformBookmarkRecord),
    /// Add (or update, by key) objects a prefix source has read.
    PutBookmarkObjects(Vec<TransformBookmarkObject>),
    /// Forget a transform's bookmark and its objects: the next run reads everything.
    DeleteBookmark { transform: String },
}

/// The bookmarks' reads.
#[async_trait::async_trait]
pub trait TransformStore: Send + Sync + 'static {
    async fn bookmark(&self, transform: &str) -> Result<Option<TransformBookmarkRecord>>;
    /// The objects a transform's bookmark holds, by key.
    async fn bookmark_objects(&self, transform: &str) -> Result<Vec<TransformBookmarkObject>>;
}

/// Where a transform's last successful run left off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformBookmarkRecord {
    pub transform: String,
    /// The lake's JSON: a column's high-water mark with its type, a stream's positions, or the
    /// count of a prefix's objects (which are rows of `transform_bookmark_objects`).
    pub state: serde_json::Value,
    /// The run (pipeline run and task, or the API call) that advanced it last.
    pub run: Option<String>,
    pub updated_at: i64,
}

/// An object a prefix source's bookmark has read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformBookmarkObject {
    pub transform: String,
    pub key: String,
    /// The etag the object had when read (a rewritten object is read again); None when the store
    /// gives none.
    pub etag: Option<String>,
}
