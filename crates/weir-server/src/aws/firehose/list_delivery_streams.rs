//! ListDeliveryStreams: names in order, `Limit` at a time (10 by default) after
//! `ExclusiveStartDeliveryStreamName`, optionally of one `DeliveryStreamType`.

use serde_json::{Value, json};

use super::fields::Violations;
use super::{Answer, DeliveryService, kind_of};

/// Firehose's default page.
const DEFAULT_LIMIT: usize = 10;

pub async fn handle(deliveries: &dyn DeliveryService, body: &Value) -> Answer {
    let mut violations = Violations::default();
    violations.integer(body.get("Limit"), "limit", 1, 10_000);
    violations.text(
        body.get("ExclusiveStartDeliveryStreamName"),
        "exclusiveStartDeliveryStreamName",
        1,
        64,
        false,
        None,
    );
    violations.one_of(
        body.get("DeliveryStreamType"),
        "deliveryStreamType",
        super::DELIVERY_STREAM_TYPES,
    );
    violations.finish()?;
    let kind = body.get("DeliveryStreamType").and_then(Value::as_str);
    let limit = body
        .get("Limit")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_LIMIT, |n| n as usize);
    let after = body
        .get("ExclusiveStartDeliveryStreamName")
        .and_then(Value::as_str);
    let names: Vec<String> = deliveries
        .list()
        .await
        .into_iter()
        .filter(|view| kind.is_none_or(|k| kind_of(view) == k))
        .map(|view| view.spec.name)
        .filter(|name| after.is_none_or(|after| name.as_str() > after))
        .collect();
    let more = names.len() > limit;
    Ok(json!({
        "DeliveryStreamNames": names.into_iter().take(limit).collect::<Vec<_>>(),
        "HasMoreDeliveryStreams": more,
    }))
}
