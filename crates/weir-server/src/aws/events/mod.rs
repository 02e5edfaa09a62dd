//! EventBridge's JSON 1.1 protocol (`X-Amz-Target: AWSEvents.<Operation>`, SigV4 service
//! `events`), over [`Events`], the bus. Field names, shapes, limits and error names and texts are
//! AWS's, so boto3's `events` client and `aws events` work unchanged; timestamps are epoch
//! seconds, as the protocol encodes them.
//!
//! One file per operation, named after it; this module routes an operation to its file, checks
//! the caller's role and grants, and holds what several operations share: the bus a request
//! names, paging, errors. `members.rs` declares the model's shapes (botocore's
//! `events/2015-10-07/service-2.json`); `shapes.rs` writes and reads rules, targets, buses,
//! archives and replays as the API shows them. A new operation is a new file, a line in
//! [`handle`] and one in [`OPERATIONS`]; it checks its members against the model first.
//!
//! **Grants.** Names in a narrowed credential's grants cover buses, as they cover pipelines and
//! streams. Putting events and reading a bus's rules and targets need the bus granted (every bus
//! a request names: each PutEvents entry's, `EventBusName`, a bus or rule ARN), and listings show
//! only granted buses and what belongs to them. Everything that shapes the bus — buses, rules,
//! targets, archives, replays, tags — needs a credential granted everything, as a new delivery
//! does: a rule routes a bus's events to pipelines, state machines, functions, streams and
//! queues, an archive copies a bus and a replay re-sends it, none of which stays within names.

mod cancel_replay;
mod create_archive;
mod create_event_bus;
mod delete_archive;
mod delete_event_bus;
mod delete_rule;
mod describe_archive;
mod describe_event_bus;
mod describe_replay;
mod describe_rule;
mod disable_rule;
mod enable_rule;
mod list_archives;
mod list_event_buses;
mod list_replays;
mod list_rule_names_by_target;
mod list_rules;
mod list_tags_for_resource;
mod list_targets_by_rule;
mod members;
mod put_events;
mod put_rule;
mod put_targets;
mod remove_targets;
pub(crate) mod shapes;
mod start_replay;
mod tag_resource;
mod test_event_pattern;
#[cfg(test)]
mod tests;
mod untag_resource;
mod update_archive;

use serde_json::{Value, json};
use weir_model::access::Role;
use weir_model::events::envelope;

use super::AwsError;
use super::fields::Request;
pub use super::fields::tag_pairs;
use crate::auth::Identity;
use crate::auth::middleware::AuditNote;
use members::Member;
pub use weir_engine::events::{Events, EventsError};

/// PutEvents' entries add up to at most 256 KB, counted as AWS counts them; written as JSON text
/// inside the JSON body (`Detail` is a string of JSON), escaping makes a byte up to six
/// (`\u0001`), so a body is read up to six times the entries' quota, and a little more for the
/// members around them, before it is refused unread.
pub const MAX_REQUEST_BYTES: usize = 6 * envelope::MAX_REQUEST_BYTES + (64 << 10);

/// Each operation and the role it needs. [`handle`] refuses an operation that is not here to
/// anyone but an admin, so one added without a line here is closed, not open. Reading is a
/// viewer's; putting events and replaying them (running what the rules start) an operator's;
/// shaping buses, rules, targets and archives, and tagging, an admin's.
pub const OPERATIONS: &[(&str, Role)] = &[
    ("PutEvents", Role::Operator),
    ("PutRule", Role::Admin),
    ("DeleteRule", Role::Admin),
    ("DescribeRule", Role::Viewer),
    ("ListRules", Role::Viewer),
    ("EnableRule", Role::Admin),
    ("DisableRule", Role::Admin),
    ("PutTargets", Role::Admin),
    ("RemoveTargets", Role::Admin),
    ("ListTargetsByRule", Role::Viewer),
    ("ListRuleNamesByTarget", Role::Viewer),
    ("TestEventPattern", Role::Viewer),
    ("TagResource", Role::Admin),
    ("UntagResource", Role::Admin),
    ("ListTagsForResource", Role::Viewer),
    ("CreateEventBus", Role::Admin),
    ("DeleteEventBus", Role::Admin),
    ("DescribeEventBus", Role::Viewer),
    ("ListEventBuses", Role::Viewer),
    ("CreateArchive", Role::Admin),
    ("DescribeArchive", Role::Viewer),
    ("ListArchives", Role::Viewer),
    ("UpdateArchive", Role::Admin),
    ("DeleteArchive", Role::Admin),
    ("StartReplay", Role::Operator),
    ("DescribeReplay", Role::Viewer),
    ("ListReplays", Role::Viewer),
    ("CancelReplay", Role::Operator),
];

/// The operations that reach past names (see the module's note on grants): only a credential
/// granted everything may call them.
const SHAPING: &[&str] = &[
    "PutRule",
    "DeleteRule",
    "EnableRule",
    "DisableRule",
    "PutTargets",
    "RemoveTargets",
    "TagResource",
    "UntagResource",
    "CreateEventBus",
    "DeleteEventBus",
    "CreateArchive",
    "UpdateArchive",
    "DeleteArchive",
    "StartReplay",
    "CancelReplay",
];

/// The role an operation needs (an admin's for one not listed).
pub fn role_of(operation: &str) -> Role {
    super::role_in(OPERATIONS, operation)
}

/// The default bus, used where a request names none.
pub const DEFAULT_BUS: &str = "default";

/// What an operation's handler gets.
pub struct Call<'a> {
    pub events: &'a Events,
    pub request: Request<'a>,
    /// Whether the caller's grants cover a bus (by name); listings show only those.
    pub granted: &'a (dyn Fn(&str) -> bool + Sync),
}

pub type Answer = Result<Value, AwsError>;

impl From<EventsError> for AwsError {
    fn from(e: EventsError) -> Self {
        AwsError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

pub fn invalid(message: impl Into<String>) -> AwsError {
    super::fields::invalid(message)
}

pub fn not_found(message: impl Into<String>) -> AwsError {
    AwsError {
        code: "ResourceNotFoundException",
        message: message.into(),
    }
}

/// Answers one EventBridge call on its request body: checks the caller's role and grants, then
/// runs the operation on the bus (a server without one answers as for an unknown operation,
/// once the caller is known to be allowed to ask).
pub async fn answer(
    events: Option<&Events>,
    identity: &Identity,
    operation: &str,
    body: &Value,
    note: &mut AuditNote,
) -> Answer {
    let needed = role_of(operation);
    // Putting events is the data plane: like CloudTrail's data events, not in the audit log
    // unless refused (a producer's every call would flood it).
    note.mutating = Some(needed > Role::Viewer && operation != "PutEvents");
    let request = Request(body);
    let buses = buses_named(operation, &request);
    note.target = target_of(&request).or_else(|| buses.first().cloned());
    if let Err(error) = allowed(identity, needed, operation, &buses) {
        note.refusal = Some(error.message.clone());
        return Err(error);
    }
    let Some(events) = events else {
        return Err(super::unknown(&format!("AWSEvents.{operation}")));
    };
    let grants = identity.grants();
    let granted = |bus: &str| grants.pipeline(bus);
    let call = Call {
        events,
        request,
        granted: &granted,
    };
    handle(&call, operation).await
}

/// Whether the caller's role and grants allow the operation on every bus the request names,
/// refused as IAM refuses it.
fn allowed(
    identity: &Identity,
    needed: Role,
    operation: &str,
    buses: &[String],
) -> Result<(), AwsError> {
    let action = format!("events:{operation}");
    super::check_role(identity, needed, &action)?;
    let grants = identity.grants();
    if SHAPING.contains(&operation) && !grants.is_everything() {
        return Err(super::not_granted(
            identity,
            &action,
            "the event buses (shaping rules, targets, buses, archives and replays needs a credential without grants: a rule starts pipelines, state machines, functions, streams and queues)",
        ));
    }
    match buses.iter().find(|bus| !grants.pipeline(bus)) {
        Some(bus) => Err(super::not_granted(
            identity,
            &action,
            &format!("event bus {bus}"),
        )),
        None => Ok(()),
    }
}

/// Every bus a request names, by name (a bus named by ARN, a rule's ARN, each PutEvents entry's,
/// the default where a bus member is left out).
fn buses_named(operation: &str, request: &Request<'_>) -> Vec<String> {
    let text = |value: &Value, member: &str| {
        value
            .get(member)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match operation {
        "PutEvents" => request
            .0
            .get("Entries")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|entry| bus_of(text(entry, "EventBusName").as_deref()))
            .collect(),
        "DescribeRule" | "ListRules" | "ListTargetsByRule" | "ListRuleNamesByTarget" => {
            vec![bus_of(text(request.0, "EventBusName").as_deref())]
        }
        "DescribeEventBus" => vec![bus_of(text(request.0, "Name").as_deref())],
        "ListTagsForResource" => text(request.0, "ResourceARN")
            .and_then(|arn| bus_of_resource(&arn))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// The resource ARN a request names, for the audit log.
fn target_of(request: &Request<'_>) -> Option<String> {
    ["ResourceARN", "EventSourceArn", "TargetArn"]
        .iter()
        .find_map(|member| request.0.get(*member).and_then(Value::as_str))
        .map(str::to_string)
}

/// A bus by name or ARN (`…:event-bus/NAME`), as its name; the default bus when none is given.
pub fn bus_of(name_or_arn: Option<&str>) -> String {
    match name_or_arn {
        None => DEFAULT_BUS.to_string(),
        Some(text) => match text.split_once(":event-bus/") {
            Some((_, name)) if text.starts_with("arn:") => name.to_string(),
            _ => text.to_string(),
        },
    }
}

/// The bus a bus's or a rule's ARN belongs to (`…:event-bus/BUS`, `…:rule/NAME` on the default
/// bus, `…:rule/BUS/NAME`).
pub fn bus_of_resource(arn: &str) -> Option<String> {
    let (_, resource) = arn.rsplit_once(':')?;
    if let Some(bus) = resource.strip_prefix("event-bus/") {
        return Some(bus.to_string());
    }
    let rule = resource.strip_prefix("rule/")?;
    Some(match rule.rsplit_once('/') {
        Some((bus, _)) => bus.to_string(),
        None => DEFAULT_BUS.to_string(),
    })
}

/// The bus the request's `EventBusName` names (by name or ARN; the default when left out).
pub fn request_bus(call: &Call<'_>) -> Result<String, AwsError> {
    Ok(bus_of(call.request.optional("EventBusName")?))
}

/// Runs one operation.
async fn handle(call: &Call<'_>, operation: &str) -> Answer {
    match operation {
        "PutEvents" => put_events::handle(call).await,
        "PutRule" => put_rule::handle(call).await,
        "DeleteRule" => delete_rule::handle(call).await,
        "DescribeRule" => describe_rule::handle(call).await,
        "ListRules" => list_rules::handle(call).await,
        "EnableRule" => enable_rule::handle(call).await,
        "DisableRule" => disable_rule::handle(call).await,
        "PutTargets" => put_targets::handle(call).await,
        "RemoveTargets" => remove_targets::handle(call).await,
        "ListTargetsByRule" => list_targets_by_rule::handle(call).await,
        "ListRuleNamesByTarget" => list_rule_names_by_target::handle(call).await,
        "TestEventPattern" => test_event_pattern::handle(call).await,
        "TagResource" => tag_resource::handle(call).await,
        "UntagResource" => untag_resource::handle(call).await,
        "ListTagsForResource" => list_tags_for_resource::handle(call).await,
        "CreateEventBus" => create_event_bus::handle(call).await,
        "DeleteEventBus" => delete_event_bus::handle(call).await,
        "DescribeEventBus" => describe_event_bus::handle(call).await,
        "ListEventBuses" => list_event_buses::handle(call).await,
        "CreateArchive" => create_archive::handle(call).await,
        "DescribeArchive" => describe_archive::handle(call).await,
        "ListArchives" => list_archives::handle(call).await,
        "UpdateArchive" => update_archive::handle(call).await,
        "DeleteArchive" => delete_archive::handle(call).await,
        "StartReplay" => start_replay::handle(call).await,
        "DescribeReplay" => describe_replay::handle(call).await,
        "ListReplays" => list_replays::handle(call).await,
        "CancelReplay" => cancel_replay::handle(call).await,
        _ => Err(AwsError {
            code: "UnknownOperationException",
            message: format!("AWSEvents.{operation} is not supported by this server"),
        }),
    }
}

/// An answer with no members (`{}`), as AWS's operations without output give.
pub fn empty() -> Answer {
    Ok(json!({}))
}

/// Most items a listing returns when `Limit` is not given (the model's largest).
const DEFAULT_LIMIT: usize = 100;

const TOKEN_PREFIX: &str = "weir-events-after:";

/// One page of `items` (sorted by `key`, which is unique): up to `Limit` of them after where
/// the request's `NextToken` left off, and the token for the next page when there is one.
pub fn page<T>(
    request: &Request<'_>,
    mut items: Vec<T>,
    key: impl Fn(&T) -> &str,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let limit = request
        .integer("Limit")?
        .map_or(DEFAULT_LIMIT, |n| n.max(1) as usize);
    items.sort_by(|a, b| key(a).cmp(key(b)));
    if let Some(token) = request.optional("NextToken")? {
        let after = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or_else(|| invalid("The NextToken provided is invalid."))?;
        items.retain(|item| key(item) > after);
    }
    let more = items.len() > limit;
    items.truncate(limit);
    let next = more
        .then(|| {
            items
                .last()
                .map(|last| format!("{TOKEN_PREFIX}{}", key(last)))
        })
        .flatten();
    Ok((items, next))
}

/// A listing's answer: a page of items under `member`, and `NextToken` when there is more.
pub fn listed(member: &str, items: Vec<Value>, next: Option<String>) -> Answer {
    let mut answer = json!({ member: items });
    if let Some(token) = next {
        answer["NextToken"] = json!(token);
    }
    Ok(answer)
}

/// Epoch seconds, as the protocol writes timestamps.
pub fn seconds(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// A list of strings member (its non-string items left out: the type check refused them).
pub fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_str().map(str::to_string))
        .collect()
}

/// ListArchives' and ListReplays' filters, of which a request may give at most one.
pub struct Filter<'a> {
    pub prefix: Option<&'a str>,
    pub source: Option<&'a str>,
    pub state: Option<&'a str>,
}

impl<'a> Filter<'a> {
    /// The request's filter; `listing` names the operation in the refusal of more than one.
    pub fn of(request: &Request<'a>, listing: &str) -> Result<Filter<'a>, AwsError> {
        let filter = Filter {
            prefix: request.optional("NamePrefix")?,
            source: request.optional("EventSourceArn")?,
            state: request.optional("State")?,
        };
        if [filter.prefix, filter.source, filter.state]
            .iter()
            .flatten()
            .count()
            > 1
        {
            return Err(invalid(format!(
                "At most one filter is allowed for {listing}. Use either : State, EventSourceArn, or NamePrefix."
            )));
        }
        Ok(filter)
    }
}
