//! A message's content as the service holds it, and its row in weir-store.

use std::collections::BTreeMap;

use weir_store::QueueMessageRecord;

use super::message::{MessageAttributeValue, attributes_from_json, attributes_to_json};

/// What a message carries, written once at its send.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Content {
    pub message_id: String,
    pub body: String,
    pub message_attributes: BTreeMap<String, MessageAttributeValue>,
    pub system_attributes: BTreeMap<String, MessageAttributeValue>,
    pub md5_of_body: String,
    pub md5_of_message_attributes: Option<String>,
    pub md5_of_system_attributes: Option<String>,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    pub sequence_number: Option<String>,
    pub sent_ms: i64,
}

impl Content {
    pub fn from_record(record: &QueueMessageRecord) -> Content {
        Content {
            message_id: record.message_id.clone(),
            body: record.body.clone(),
            message_attributes: attributes_from_json(&record.message_attributes),
            system_attributes: attributes_from_json(&record.system_attributes),
            md5_of_body: record.md5_of_body.clone(),
            md5_of_message_attributes: record.md5_of_message_attributes.clone(),
            md5_of_system_attributes: record.md5_of_system_attributes.clone(),
            group_id: record.group_id.clone(),
            dedup_id: record.dedup_id.clone(),
            sequence_number: record.sequence_number.clone(),
            sent_ms: record.sent_ms,
        }
    }

    pub fn record(
        &self,
        seq: i64,
        queue: &str,
        visible_ms: i64,
        size: usize,
    ) -> QueueMessageRecord {
        QueueMessageRecord {
            seq,
            queue: queue.to_string(),
            message_id: self.message_id.clone(),
            body: self.body.clone(),
            message_attributes: attributes_to_json(&self.message_attributes),
            system_attributes: attributes_to_json(&self.system_attributes),
            md5_of_body: self.md5_of_body.clone(),
            md5_of_message_attributes: self.md5_of_message_attributes.clone(),
            md5_of_system_attributes: self.md5_of_system_attributes.clone(),
            sent_ms: self.sent_ms,
            visible_ms,
            group_id: self.group_id.clone(),
            dedup_id: self.dedup_id.clone(),
            sequence_number: self.sequence_number.clone(),
            size: size as i64,
        }
    }
}
