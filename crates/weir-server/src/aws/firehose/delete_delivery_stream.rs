//! DeleteDeliveryStream: stops a delivery made through the API and drops what it had not yet
//! delivered, as Firehose does.

use serde_json::{Value, json};

use super::{Answer, DeliveryService, name_of};

pub async fn handle(deliveries: &dyn DeliveryService, body: &Value) -> Answer {
    let name = name_of(body, |_| {})?;
    deliveries.delete(&name).await?;
    Ok(json!({}))
}
