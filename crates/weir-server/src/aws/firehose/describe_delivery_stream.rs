//! DescribeDeliveryStream: a delivery's source, destination, buffering and status.

use serde_json::{Value, json};

use super::{Answer, DeliveryService, description, name_of};

pub async fn handle(deliveries: &dyn DeliveryService, body: &Value) -> Answer {
    let name = name_of(body, |v| {
        v.integer(body.get("Limit"), "limit", 1, 10_000);
        v.text(
            body.get("ExclusiveStartDestinationId"),
            "exclusiveStartDestinationId",
            1,
            100,
            false,
            None,
        );
    })?;
    let view = deliveries.describe(&name).await?;
    Ok(json!({ "DeliveryStreamDescription": description(&view) }))
}
