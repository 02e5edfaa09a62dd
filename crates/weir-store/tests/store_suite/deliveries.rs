//! Deliveries made through the Firehose API: stored, replaced, deleted in batch order.

use serde_json::json;
use weir_store::*;

use crate::Db;

fn delivery(name: &str, version: i64) -> DeliveryRecord {
    DeliveryRecord {
        name: name.to_string(),
        definition: format!("{{\"table\": \"web.{name}\"}}"),
        request: json!({"DeliveryStreamName": name, "DeliveryStreamType": "DirectPut"}),
        tags: json!([{"Key": "team", "Value": "web"}]),
        version,
        created_at: 1,
        updated_at: version,
    }
}

pub async fn deliveries_round_trip_replace_and_delete(db: Db) {
    let store = &db.store;
    assert_eq!(store.deliveries().await.unwrap(), vec![]);
    store
        .apply(&[
            DeliveryMutation::PutDelivery(delivery("clicks", 1)).into(),
            DeliveryMutation::PutDelivery(delivery("Orders", 1)).into(),
        ])
        .await
        .unwrap();
    let names: Vec<String> = store
        .deliveries()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["Orders", "clicks"], "by name, bytewise");
    assert_eq!(
        store.delivery("clicks").await.unwrap(),
        Some(delivery("clicks", 1))
    );
    // A put and a delete of one name in one batch: the last one wins.
    store
        .apply(&[
            DeliveryMutation::PutDelivery(delivery("clicks", 2)).into(),
            DeliveryMutation::DeleteDelivery {
                name: "Orders".into(),
            }
            .into(),
            DeliveryMutation::PutDelivery(delivery("Orders", 3)).into(),
            DeliveryMutation::DeleteDelivery {
                name: "absent".into(),
            }
            .into(),
        ])
        .await
        .unwrap();
    assert_eq!(store.delivery("clicks").await.unwrap().unwrap().version, 2);
    assert_eq!(store.delivery("Orders").await.unwrap().unwrap().version, 3);
    store
        .apply(&[DeliveryMutation::DeleteDelivery {
            name: "clicks".into(),
        }
        .into()])
        .await
        .unwrap();
    assert_eq!(store.delivery("clicks").await.unwrap(), None);
}
