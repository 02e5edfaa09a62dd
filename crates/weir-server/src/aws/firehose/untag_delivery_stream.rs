//! UntagDeliveryStream: removes tags by key (absent keys are ignored).

use serde_json::{Value, json};

use super::{Answer, DeliveryService, name_of};

pub async fn handle(deliveries: &dyn DeliveryService, body: &Value) -> Answer {
    let name = name_of(body, |v| {
        v.list(body.get("TagKeys"), "tagKeys", 1, 50, true);
        let keys = body.get("TagKeys").and_then(Value::as_array);
        for (i, key) in keys.into_iter().flatten().enumerate() {
            v.text(
                Some(key),
                &format!("tagKeys.{}.member", i + 1),
                1,
                128,
                true,
                None,
            );
        }
    })?;
    let keys: Vec<String> = body
        .get("TagKeys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    deliveries.retag(&name, Vec::new(), keys).await?;
    Ok(json!({}))
}
