//! Saved queries (the charts of dashboards): stored, replaced, listed by dashboard in position
//! order, deleted one by one or a dashboard at a time, in batch order.

use serde_json::json;
use weir_store::*;

use crate::Db;

fn saved(dashboard: &str, name: &str, position: i32, at: i64) -> SavedQuery {
    SavedQuery {
        dashboard: dashboard.into(),
        name: name.into(),
        sql: format!("SELECT day, count(*) AS n FROM web.{name} GROUP BY day"),
        chart: json!({"type": "line", "x": "day", "y": ["n"]}),
        position,
        created_by: Some("ana".into()),
        created_at: 1,
        updated_at: at,
    }
}

fn put(query: SavedQuery) -> Mutation {
    QueryMutation::PutQuery(query).into()
}

fn names(queries: &[SavedQuery]) -> Vec<&str> {
    queries.iter().map(|q| q.name.as_str()).collect()
}

pub async fn saved_queries_round_trip_order_and_delete(db: Db) {
    let store = &db.store;
    assert!(store.dashboards().await.unwrap().is_empty());
    store
        .apply(&[
            put(saved("sales", "orders", 2, 1)),
            put(saved("sales", "Revenue", 1, 1)),
            put(saved("sales", "clicks", 1, 1)),
            put(SavedQuery {
                created_by: None,
                ..saved("ops", "lag", 0, 1)
            }),
        ])
        .await
        .unwrap();
    let sales = store.saved_queries("sales").await.unwrap();
    assert_eq!(
        names(&sales),
        ["Revenue", "clicks", "orders"],
        "by position, then name bytewise"
    );
    assert_eq!(sales[0], saved("sales", "Revenue", 1, 1));
    assert_eq!(
        store
            .saved_query("ops", "lag")
            .await
            .unwrap()
            .unwrap()
            .created_by,
        None
    );
    assert_eq!(store.saved_query("ops", "orders").await.unwrap(), None);
    assert_eq!(
        store.dashboards().await.unwrap(),
        [
            DashboardSummary {
                name: "ops".into(),
                queries: 1
            },
            DashboardSummary {
                name: "sales".into(),
                queries: 3
            },
        ]
    );
    // A replaced query keeps one row; a deletion then a put of the same name leaves the put;
    // deleting what is absent changes nothing.
    let moved = SavedQuery {
        chart: json!({"type": "bar", "x": "day", "y": ["n", "m"]}),
        ..saved("sales", "orders", 0, 5)
    };
    store
        .apply(&[
            put(moved.clone()),
            QueryMutation::DeleteQuery {
                dashboard: "sales".into(),
                name: "clicks".into(),
            }
            .into(),
            QueryMutation::DeleteQuery {
                dashboard: "sales".into(),
                name: "Revenue".into(),
            }
            .into(),
            put(saved("sales", "Revenue", 9, 6)),
            QueryMutation::DeleteQuery {
                dashboard: "nowhere".into(),
                name: "x".into(),
            }
            .into(),
        ])
        .await
        .unwrap();
    let sales = store.saved_queries("sales").await.unwrap();
    assert_eq!(names(&sales), ["orders", "Revenue"]);
    assert_eq!(sales[0], moved);
    assert_eq!(sales[1].updated_at, 6);
    // A dashboard goes with all its queries, and only its own.
    store
        .apply(&[QueryMutation::DeleteDashboard {
            dashboard: "sales".into(),
        }
        .into()])
        .await
        .unwrap();
    assert!(store.saved_queries("sales").await.unwrap().is_empty());
    assert_eq!(
        store.dashboards().await.unwrap(),
        [DashboardSummary {
            name: "ops".into(),
            queries: 1
        }]
    );
    // They survive a restart.
    let db = db.reopen().await;
    assert!(db.store.saved_query("ops", "lag").await.unwrap().is_some());
}
