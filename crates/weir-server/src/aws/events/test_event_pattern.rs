//! TestEventPattern: whether an event matches a pattern, both given as JSON text; needs no bus.
//! The event must be a whole event (`id`, `account`, `source`, `time`, `region` and
//! `detail-type` at least), as EventBridge requires.

use serde_json::{Value, json};

use super::members::EVENT_PATTERN;
use super::{Answer, AwsError, Call, Member, invalid};
use weir_model::events::pattern::Pattern;

/// The fields TestEventPattern's event must have ("resources" is documented as mandatory, but
/// EventBridge accepts an event without it).
const REQUIRED_FIELDS: [&str; 6] = ["id", "account", "source", "time", "region", "detail-type"];

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[
        EVENT_PATTERN.required(),
        Member::text("Event", 0, usize::MAX).required(),
    ])?;
    let pattern = Pattern::parse(request.required("EventPattern")?).map_err(|e| AwsError {
        code: "InvalidEventPatternException",
        message: e.message,
    })?;
    let event = event(request.required("Event")?)?;
    Ok(json!({"Result": pattern.matches(&event)}))
}

/// The event, if it is a JSON object with every field an event has.
fn event(text: &str) -> Result<Value, AwsError> {
    match serde_json::from_str::<Value>(text) {
        Ok(event)
            if event.is_object()
                && REQUIRED_FIELDS
                    .iter()
                    .all(|field| event.get(*field).is_some()) =>
        {
            Ok(event)
        }
        _ => Err(invalid("Parameter Event is not valid.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_must_be_an_object_with_the_envelope_s_fields() {
        let whole = r#"{"id": "1", "account": "123456789012", "source": "s", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "detail-type": "t", "detail": {}}"#;
        assert!(event(whole).is_ok());
        for text in ["[]", "not json", r#"{"source": "s"}"#] {
            let error = event(text).unwrap_err();
            assert_eq!(
                (error.code, error.message.as_str()),
                ("ValidationException", "Parameter Event is not valid.")
            );
        }
    }
}
