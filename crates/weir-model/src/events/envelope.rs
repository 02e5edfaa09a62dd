//! The event envelope EventBridge delivers, and PutEvents' validation of each entry.
//!
//! An entry is checked on its own ([`check_entry`]): a bad entry fails with AWS's per-entry
//! `ErrorCode` and `ErrorMessage` while the rest of the request goes on. The request as a whole
//! is bounded by [`MAX_ENTRIES`] and by [`MAX_REQUEST_BYTES`] of entries, sized as AWS sizes
//! them ([`entry_size`], "Calculating PutEvents event entry size" in the EventBridge guide).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Entries in one PutEvents request (botocore: `PutEventsRequestEntryList`, 1 to 10).
pub const MAX_ENTRIES: usize = 10;
/// The most the entries of one request may weigh together, in bytes (256 KB).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// What a `Time` adds to an entry's size, whatever its value.
pub const TIME_BYTES: usize = 14;
/// Longest `DetailType` ("a maximum of 128 characters", the PutEventsRequestEntry reference).
pub const MAX_DETAIL_TYPE_CHARS: usize = 128;

/// An event as EventBridge hands it to targets and patterns, with EventBridge's field names
/// and order (`version`, `id`, `detail-type`, `source`, `account`, `time`, `region`,
/// `resources`, `detail`; `replay-name` only on replayed events).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub version: String,
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub account: String,
    /// RFC 3339 in UTC to the second: `2026-01-02T03:04:05Z`.
    pub time: String,
    pub region: String,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub detail: Value,
    #[serde(
        rename = "replay-name",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub replay_name: Option<String>,
}

impl Event {
    /// The envelope's `version`, always "0".
    pub const VERSION: &'static str = "0";

    /// The event as JSON, as patterns match it and targets receive it.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The event of a checked entry: `id` (a UUID the caller drew), the account and region of
    /// the bus, and `now` when the entry has no `Time`.
    pub fn from_entry(
        entry: &PutEventsEntry,
        id: String,
        account: &str,
        region: &str,
        now: DateTime<Utc>,
    ) -> Result<Event, EntryError> {
        let detail = check_entry(entry)?;
        Ok(Event {
            version: Event::VERSION.to_string(),
            id,
            detail_type: entry.detail_type.clone().unwrap_or_default(),
            source: entry.source.clone().unwrap_or_default(),
            account: account.to_string(),
            time: event_time(entry.time.unwrap_or(now)),
            region: region.to_string(),
            resources: entry.resources.clone(),
            detail,
            replay_name: None,
        })
    }
}

/// A time as the envelope writes it: RFC 3339, UTC, whole seconds, `Z`.
pub fn event_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One entry of a PutEvents request, as the API names its members.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PutEventsEntry {
    pub source: Option<String>,
    pub detail_type: Option<String>,
    /// A JSON object, as text.
    pub detail: Option<String>,
    pub resources: Vec<String>,
    pub time: Option<DateTime<Utc>>,
    /// A bus name or ARN; the default bus when None.
    pub event_bus_name: Option<String>,
    pub trace_header: Option<String>,
}

/// Why one entry was refused: PutEvents' `ErrorCode` and `ErrorMessage` for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EntryError {
    pub code: String,
    pub message: String,
}

impl EntryError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> EntryError {
        EntryError {
            code: code.into(),
            message: message.into(),
        }
    }

    fn required(parameter: &str) -> EntryError {
        EntryError::new(
            "InvalidArgument",
            format!(
                "Parameter {parameter} is not valid. Reason: {parameter} is a required argument."
            ),
        )
    }
}

/// Checks one entry as PutEvents does, in AWS's order: `Source`, `DetailType` and `Detail`
/// present (an empty string counts as missing), then `Detail` a JSON object. Returns the
/// parsed detail.
pub fn check_entry(entry: &PutEventsEntry) -> Result<Value, EntryError> {
    let present = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.is_empty());
    if !present(&entry.source) {
        return Err(EntryError::required("Source"));
    }
    if !present(&entry.detail_type) {
        return Err(EntryError::required("DetailType"));
    }
    if !present(&entry.detail) {
        return Err(EntryError::required("Detail"));
    }
    let detail_type = entry.detail_type.as_deref().unwrap_or_default();
    let chars = detail_type.chars().count();
    if chars > MAX_DETAIL_TYPE_CHARS {
        // AWS documents the limit; this wording is weir's, in the shape of AWS's messages.
        return Err(EntryError::new(
            "InvalidArgument",
            format!(
                "Parameter DetailType is not valid. Reason: DetailType is {chars} characters long; it may have at most {MAX_DETAIL_TYPE_CHARS}."
            ),
        ));
    }
    match serde_json::from_str::<Value>(entry.detail.as_deref().unwrap_or_default()) {
        Ok(detail @ Value::Object(_)) => Ok(detail),
        _ => Err(EntryError::new("MalformedDetail", "Detail is malformed.")),
    }
}

/// An entry's size as AWS computes it: 14 bytes for a `Time`, then the UTF-8 bytes of
/// `Source`, `DetailType`, `Detail` and each of `Resources`. (`EventBusName` and
/// `TraceHeader` do not count.)
pub fn entry_size(entry: &PutEventsEntry) -> usize {
    let bytes = |value: &Option<String>| value.as_deref().map_or(0, str::len);
    let time = if entry.time.is_some() { TIME_BYTES } else { 0 };
    time + bytes(&entry.source)
        + bytes(&entry.detail_type)
        + bytes(&entry.detail)
        + entry.resources.iter().map(String::len).sum::<usize>()
}

/// The size of a whole request: the sum of its entries' sizes.
pub fn request_size(entries: &[PutEventsEntry]) -> usize {
    entries.iter().map(entry_size).sum()
}

/// Why a whole request was refused (a `ValidationException`): its entries weigh more than
/// [`MAX_REQUEST_BYTES`]. The count of entries (1 to [`MAX_ENTRIES`]) is a model constraint
/// the protocol checks with the other members.
pub fn check_request(entries: &[PutEventsEntry]) -> Result<(), String> {
    if request_size(entries) > MAX_REQUEST_BYTES {
        return Err("Total size of the entries in the request is over the limit.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn entry(source: &str, detail_type: &str, detail: &str) -> PutEventsEntry {
        PutEventsEntry {
            source: Some(source.into()),
            detail_type: Some(detail_type.into()),
            detail: Some(detail.into()),
            ..PutEventsEntry::default()
        }
    }

    #[test]
    fn missing_members_fail_in_aws_order_with_aws_messages() {
        let missing = |e: PutEventsEntry| check_entry(&e).unwrap_err();
        let err = missing(PutEventsEntry::default());
        assert_eq!(err.code, "InvalidArgument");
        assert_eq!(
            err.message,
            "Parameter Source is not valid. Reason: Source is a required argument."
        );
        let err = missing(PutEventsEntry {
            source: Some("s".into()),
            ..PutEventsEntry::default()
        });
        assert_eq!(
            err.message,
            "Parameter DetailType is not valid. Reason: DetailType is a required argument."
        );
        let err = missing(entry("s", "t", ""));
        assert_eq!(
            err.message,
            "Parameter Detail is not valid. Reason: Detail is a required argument."
        );
        assert_eq!(
            missing(entry("", "t", "{}")).message,
            "Parameter Source is not valid. Reason: Source is a required argument."
        );
        let long = "x".repeat(129);
        assert!(
            missing(entry("s", &long, "{}"))
                .message
                .starts_with("Parameter DetailType is not valid.")
        );
        assert!(check_entry(&entry("s", &"x".repeat(128), "{}")).is_ok());
    }

    #[test]
    fn detail_must_be_a_json_object() {
        for bad in ["detail", "[1]", "\"s\"", "1", "null", "{\"a\": 1", "{} {}"] {
            let err = check_entry(&entry("s", "t", bad)).unwrap_err();
            assert_eq!(
                err,
                EntryError::new("MalformedDetail", "Detail is malformed."),
                "{bad}"
            );
        }
        assert_eq!(
            check_entry(&entry("s", "t", " {\"a\": [1, {\"b\": null}]} ")).unwrap(),
            json!({"a": [1, {"b": null}]})
        );
    }

    #[test]
    fn sizes_as_aws_computes_them() {
        let mut e = entry("src", "type", "{\"k\":\"é\"}");
        assert_eq!(entry_size(&e), 3 + 4 + 10);
        e.resources = vec!["arn:1".into(), "ab".into()];
        e.time = Some(Utc::now());
        e.event_bus_name = Some("a-long-bus-name".into());
        e.trace_header = Some("Root=1-abc".into());
        assert_eq!(entry_size(&e), 14 + 3 + 4 + 10 + 5 + 2);
        assert_eq!(request_size(&[e.clone(), e.clone()]), 2 * entry_size(&e));
        assert_eq!(entry_size(&PutEventsEntry::default()), 0);
    }

    #[test]
    fn request_limit_is_256_kb_of_entries() {
        let detail = format!("{{\"k\":\"{}\"}}", "x".repeat(MAX_REQUEST_BYTES - 10));
        let fits = entry("s", "t", &detail);
        assert_eq!(request_size(std::slice::from_ref(&fits)), MAX_REQUEST_BYTES);
        assert!(check_request(std::slice::from_ref(&fits)).is_ok());
        let over = entry("s2", "t", &detail);
        assert_eq!(
            check_request(&[over]).unwrap_err(),
            "Total size of the entries in the request is over the limit."
        );
    }

    #[test]
    fn events_serialize_with_eventbridge_names() {
        let time = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let mut e = entry("weir.test", "Thing Happened", "{\"x\": 1}");
        e.resources = vec!["arn:r".into()];
        let event =
            Event::from_entry(&e, "id-1".into(), "123456789012", "eu-west-1", time).unwrap();
        let text = serde_json::to_string(&event).unwrap();
        assert_eq!(
            text,
            r#"{"version":"0","id":"id-1","detail-type":"Thing Happened","source":"weir.test","account":"123456789012","time":"2026-01-02T03:04:05Z","region":"eu-west-1","resources":["arn:r"],"detail":{"x":1}}"#
        );
        let replayed = Event {
            replay_name: Some("backfill".into()),
            ..event.clone()
        };
        assert_eq!(replayed.to_value()["replay-name"], "backfill");
        let back: Event = serde_json::from_str(&serde_json::to_string(&replayed).unwrap()).unwrap();
        assert_eq!(back, replayed);
        e.time = Some(
            Utc.with_ymd_and_hms(2020, 5, 6, 7, 8, 9).unwrap()
                + chrono::Duration::milliseconds(450),
        );
        let event = Event::from_entry(&e, "id-2".into(), "a", "r", time).unwrap();
        assert_eq!(event.time, "2020-05-06T07:08:09Z");
        assert!(Event::from_entry(&entry("s", "t", "[]"), "i".into(), "a", "r", time).is_err());
    }

    proptest! {
        #[test]
        fn checking_never_panics(source in proptest::option::of(".{0,8}"), detail_type in proptest::option::of(".{0,140}"), detail in proptest::option::of(".{0,40}")) {
            let e = PutEventsEntry { source, detail_type, detail, ..PutEventsEntry::default() };
            let _ = check_entry(&e);
            let _ = entry_size(&e);
        }
    }
}
