//! Transforms' bookmarks: a state row and a prefix's objects stored, replaced, committed in the
//! same batch as a table's manifest (all or nothing), and forgotten with their objects.

use serde_json::json;
use weir_store::*;

use crate::Db;

fn bookmark(transform: &str, value: i64, run: &str) -> TransformBookmarkRecord {
    TransformBookmarkRecord {
        transform: transform.into(),
        state: json!({"column": "id", "type": "Int64", "value": value.to_string()}),
        run: Some(run.into()),
        updated_at: value,
    }
}

fn object(transform: &str, key: &str, etag: Option<&str>) -> TransformBookmarkObject {
    TransformBookmarkObject {
        transform: transform.into(),
        key: key.into(),
        etag: etag.map(str::to_string),
    }
}

pub async fn transform_bookmarks_round_trip_and_reset(db: Db) {
    let store = &db.store;
    assert_eq!(store.bookmark("clean").await.unwrap(), None);
    assert!(store.bookmark_objects("clean").await.unwrap().is_empty());
    store
        .apply(&[
            TransformMutation::PutBookmark(bookmark("clean", 10, "r1")).into(),
            TransformMutation::PutBookmarkObjects(vec![
                object("clean", "raw/b.csv", Some("e1")),
                object("clean", "raw/a.csv", None),
                object("other", "raw/c.csv", Some("x")),
            ])
            .into(),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.bookmark("clean").await.unwrap(),
        Some(bookmark("clean", 10, "r1"))
    );
    // A later run replaces the state and updates an object's etag (a rewritten object); one
    // batch may name a key twice, the last wins.
    store
        .apply(&[
            TransformMutation::PutBookmark(bookmark("clean", 20, "r2")).into(),
            TransformMutation::PutBookmarkObjects(vec![
                object("clean", "raw/b.csv", Some("e2")),
                object("clean", "raw/d.csv", Some("d1")),
                object("clean", "raw/d.csv", Some("d2")),
            ])
            .into(),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.bookmark("clean").await.unwrap(),
        Some(bookmark("clean", 20, "r2"))
    );
    assert_eq!(
        store.bookmark_objects("clean").await.unwrap(),
        vec![
            object("clean", "raw/a.csv", None),
            object("clean", "raw/b.csv", Some("e2")),
            object("clean", "raw/d.csv", Some("d2")),
        ]
    );

    // A reset forgets the state and the objects, of that transform only; a put after it in the
    // same batch stands.
    store
        .apply(&[
            TransformMutation::DeleteBookmark {
                transform: "clean".into(),
            }
            .into(),
            TransformMutation::PutBookmarkObjects(vec![object("clean", "raw/z.csv", None)]).into(),
        ])
        .await
        .unwrap();
    assert_eq!(store.bookmark("clean").await.unwrap(), None);
    assert_eq!(
        store.bookmark_objects("clean").await.unwrap(),
        vec![object("clean", "raw/z.csv", None)]
    );
    assert_eq!(
        store.bookmark_objects("other").await.unwrap(),
        vec![object("other", "raw/c.csv", Some("x"))]
    );

    // Survives a reopen.
    let db = db.reopen().await;
    assert_eq!(
        db.store.bookmark_objects("other").await.unwrap().len(),
        1,
        "objects are durable"
    );
}

/// A bookmark commits with a table's manifest: when the batch fails (here: a second scheduled
/// run of one interval, which the store refuses), neither the new file nor the bookmark is written.
pub async fn a_bookmark_commits_with_the_manifest_or_not_at_all(db: Db) {
    let store = &db.store;
    store
        .apply(&[
            CatalogMutation::PutTable(crate::table("curated", "orders")).into(),
            CatalogMutation::PutTableFiles(vec![crate::file("curated", "orders", "a", 1)]).into(),
            TransformMutation::PutBookmark(bookmark("clean", 1, "r1")).into(),
            RunMutation::PutRun(crate::run("first", "etl", "scheduled", 1, 1)).into(),
        ])
        .await
        .unwrap();
    let doomed = [
        CatalogMutation::PutTableFiles(vec![crate::file("curated", "orders", "b", 1)]).into(),
        TransformMutation::PutBookmark(bookmark("clean", 2, "r2")).into(),
        TransformMutation::PutBookmarkObjects(vec![object("clean", "raw/x.csv", None)]).into(),
        RunMutation::PutRun(crate::run("second", "etl", "scheduled", 1, 2)).into(),
    ];
    let result = store.apply(&doomed).await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(
        crate::keys(&store.table_files("curated", "orders").await.unwrap()),
        ["curated/orders/a"]
    );
    assert_eq!(
        store.bookmark("clean").await.unwrap(),
        Some(bookmark("clean", 1, "r1"))
    );
    assert!(store.bookmark_objects("clean").await.unwrap().is_empty());
}
