//! ListTagsForDeliveryStream: tags by key, `Limit` at a time (50 by default) after
//! `ExclusiveStartTagKey`.

use serde_json::{Value, json};

use super::{Answer, DeliveryService, name_of};

pub async fn handle(deliveries: &dyn DeliveryService, body: &Value) -> Answer {
    let name = name_of(body, |v| {
        v.integer(body.get("Limit"), "limit", 1, 50);
        v.text(
            body.get("ExclusiveStartTagKey"),
            "exclusiveStartTagKey",
            1,
            128,
            false,
            None,
        );
    })?;
    let limit = body
        .get("Limit")
        .and_then(Value::as_u64)
        .map_or(50, |n| n as usize);
    let after = body.get("ExclusiveStartTagKey").and_then(Value::as_str);
    let mut tags = deliveries.describe(&name).await?.tags;
    tags.sort();
    let tags: Vec<(String, String)> = tags
        .into_iter()
        .filter(|(k, _)| after.is_none_or(|after| k.as_str() > after))
        .collect();
    let more = tags.len() > limit;
    let tags: Vec<Value> = tags
        .into_iter()
        .take(limit)
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(json!({"Tags": tags, "HasMoreTags": more}))
}
