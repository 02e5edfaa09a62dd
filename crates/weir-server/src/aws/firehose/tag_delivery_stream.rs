//! TagDeliveryStream: adds tags (a key already there takes the new value); 50 at most.

use serde_json::{Value, json};

use super::fields::tag_pairs;
use super::{Answer, DeliveryService, name_of};

pub async fn handle(deliveries: &dyn DeliveryService, body: &Value) -> Answer {
    let name = name_of(body, |v| v.tags(body.get("Tags"), "tags", 1, 50, true))?;
    deliveries
        .retag(&name, tag_pairs(body.get("Tags")), Vec::new())
        .await?;
    Ok(json!({}))
}
