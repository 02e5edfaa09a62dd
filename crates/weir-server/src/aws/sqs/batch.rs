//! What SQS's three batch operations share: the rules on `Entries` (at least one, at most ten,
//! each `Id` of up to 80 letters, digits, hyphens and underscores, no two the same), checked in
//! SQS's order and refused in its words before anything happens; and the answer's shape
//! (`Successful`, and `Failed` entries with `SenderFault`, `Code` and `Message`).

use serde_json::{Value, json};

use super::AwsError;

/// Most entries in one batch.
pub const MAX_ENTRIES: usize = 10;
/// Longest entry id.
const MAX_ID_CHARS: usize = 80;

/// The request's `Entries`, checked: `kind` names the entry in messages
/// (`SendMessageBatchRequestEntry`).
pub fn entries<'a>(request: &'a Value, kind: &str) -> Result<&'a [Value], AwsError> {
    let entries = match request.get("Entries") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(entries)) => entries.as_slice(),
        Some(_) => {
            return Err(AwsError {
                code: "SerializationException",
                message: "Start of list expected for Entries".into(),
            });
        }
    };
    if entries.is_empty() {
        return Err(AwsError {
            code: "EmptyBatchRequest",
            message: format!("There should be at least one {kind} in the request."),
        });
    }
    if entries.len() > MAX_ENTRIES {
        return Err(AwsError {
            code: "TooManyEntriesInBatchRequest",
            message: format!(
                "Maximum number of entries per request are {MAX_ENTRIES}. You have sent {}.",
                entries.len()
            ),
        });
    }
    let mut seen: Vec<&str> = Vec::with_capacity(entries.len());
    for entry in entries {
        let Some(id) = entry.get("Id").and_then(Value::as_str) else {
            return Err(super::errors::missing(&format!("{kind}.Id")));
        };
        if !is_entry_id(id) {
            return Err(AwsError {
                code: "InvalidBatchEntryId",
                message: "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.".into(),
            });
        }
        if seen.contains(&id) {
            return Err(AwsError {
                code: "BatchEntryIdsNotDistinct",
                message: format!("Id {id} repeated."),
            });
        }
        seen.push(id);
    }
    Ok(entries)
}

/// `[A-Za-z0-9_-]{1,80}`.
fn is_entry_id(id: &str) -> bool {
    (1..=MAX_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An entry's `Id` (checked by [`entries`]).
pub fn id_of(entry: &Value) -> &str {
    entry.get("Id").and_then(Value::as_str).unwrap_or_default()
}

/// A `Failed` entry: the code and message of what went wrong with it, and whether the sender
/// is at fault.
pub fn failed(id: &str, code: &str, message: &str, sender_fault: bool) -> Value {
    json!({"Id": id, "SenderFault": sender_fault, "Code": code, "Message": message})
}

/// `{"Successful": [...], "Failed": [...]}`.
pub fn answer(successful: Vec<Value>, failed: Vec<Value>) -> Value {
    json!({"Successful": successful, "Failed": failed})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(request: Value) -> String {
        match entries(&request, "DeleteMessageBatchRequestEntry") {
            Ok(entries) => format!("{} entries", entries.len()),
            Err(error) => format!("{}: {}", error.code, error.message),
        }
    }

    #[test]
    fn entries_follow_sqs_rules_in_its_order() {
        assert_eq!(
            refusal(json!({})),
            "EmptyBatchRequest: There should be at least one DeleteMessageBatchRequestEntry in the request."
        );
        assert_eq!(
            refusal(json!({"Entries": []})),
            "EmptyBatchRequest: There should be at least one DeleteMessageBatchRequestEntry in the request."
        );
        let eleven: Vec<Value> = (0..11).map(|i| json!({"Id": format!("id{i}")})).collect();
        assert_eq!(
            refusal(json!({ "Entries": eleven })),
            "TooManyEntriesInBatchRequest: Maximum number of entries per request are 10. You have sent 11."
        );
        assert_eq!(
            refusal(json!({"Entries": [{"Id": "a b"}]})),
            "InvalidBatchEntryId: A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long."
        );
        assert!(
            refusal(json!({"Entries": [{"Id": "x".repeat(81)}]}))
                .starts_with("InvalidBatchEntryId")
        );
        assert_eq!(
            refusal(json!({"Entries": [{"Id": "a"}, {"Id": "b"}, {"Id": "a"}]})),
            "BatchEntryIdsNotDistinct: Id a repeated."
        );
        assert_eq!(
            refusal(json!({"Entries": [{"Id": "x".repeat(80)}, {"Id": "A-b_9"}]})),
            "2 entries"
        );
    }
}
