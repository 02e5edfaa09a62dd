//! Names and ARNs: a bus's, a rule's, an archive's and a replay's ARN, the names an ARN or a
//! name stands for, and the stream that holds a bus's events.

use super::model::{BUS_STREAM_PREFIX, Scope};

pub use weir_model::events::arn::DEFAULT_BUS;

/// Region and account, which every ARN carries: the model's [`Scope`] mints them, and
/// [`ArnNames`] reads names back out of them.
pub(crate) type Arns = Scope;

/// The names an ARN, or a name given where an ARN may be, stands for.
pub(crate) trait ArnNames {
    fn bus_name(&self, name_or_arn: Option<&str>) -> String;
    fn rule_of_arn(&self, arn: &str) -> Option<(String, String)>;
    fn name_of(&self, kind: &str, name_or_arn: &str) -> String;
}

impl ArnNames for Scope {
    /// The bus a name or an ARN names (`None`: the default bus).
    fn bus_name(&self, name_or_arn: Option<&str>) -> String {
        match name_or_arn {
            None | Some("") => DEFAULT_BUS.to_string(),
            Some(text) => match text.strip_prefix("arn:") {
                Some(_) => text
                    .split_once(":event-bus/")
                    .map_or(text, |(_, name)| name)
                    .to_string(),
                None => text.to_string(),
            },
        }
    }

    /// The (bus, rule) a rule ARN names.
    fn rule_of_arn(&self, arn: &str) -> Option<(String, String)> {
        let (_, path) = arn.split_once(":rule/")?;
        Some(match path.rsplit_once('/') {
            Some((bus, name)) => (bus.to_string(), name.to_string()),
            None => (DEFAULT_BUS.to_string(), path.to_string()),
        })
    }

    /// The name an ARN of `kind` (`archive`, `replay`) names, or the text itself when it is a name.
    fn name_of(&self, kind: &str, name_or_arn: &str) -> String {
        match name_or_arn.split_once(&format!(":{kind}/")) {
            Some((_, name)) if name_or_arn.starts_with("arn:") => name.to_string(),
            _ => name_or_arn.to_string(),
        }
    }
}

/// The stream holding a bus's events: `__events-BUS`, or for a name a stream cannot carry (too
/// long, or with a `/` as partner buses have) one derived from its hash.
pub fn bus_stream(bus: &str) -> String {
    let direct = format!("{BUS_STREAM_PREFIX}{bus}");
    let fits = direct.len() <= 128
        && bus
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if fits {
        return direct;
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, bus.as_bytes());
    format!("{BUS_STREAM_PREFIX}{}", hex::encode(&digest.as_ref()[..16]))
}

/// The characters of a rule name or a target id, and the pattern AWS's message shows.
pub(crate) const RESOURCE_NAME: (fn(u8) -> bool, &str) = (
    |b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'),
    "[\\.\\-_A-Za-z0-9]+",
);
/// The characters of a bus name (a partner bus's has `/`).
pub(crate) const BUS_NAME: (fn(u8) -> bool, &str) = (
    |b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_'),
    "[/\\.\\-_A-Za-z0-9]+",
);

/// A name as the API's model constrains it (1 to `max` characters of `allowed`), refused with
/// the ValidationException text AWS gives for `member`.
pub(crate) fn check_name(
    value: &str,
    member: &str,
    max: usize,
    (allowed, pattern): (fn(u8) -> bool, &str),
) -> Result<(), String> {
    let failed = format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must"
    );
    if value.is_empty() {
        return Err(format!("{failed} have length greater than or equal to 1"));
    }
    if value.chars().count() > max {
        return Err(format!("{failed} have length less than or equal to {max}"));
    }
    if !value.bytes().all(allowed) {
        return Err(format!(
            "{failed} satisfy regular expression pattern: {pattern}"
        ));
    }
    Ok(())
}

/// The consumer group that dispatches a bus's events.
pub fn group_name(bus: &str) -> String {
    format!("events-{bus}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_names() {
        let arns = Arns::new("us-east-1", "000000000000");
        assert_eq!(
            arns.rule("default", "r"),
            "arn:aws:events:us-east-1:000000000000:rule/r"
        );
        assert_eq!(
            arns.rule("orders", "r"),
            "arn:aws:events:us-east-1:000000000000:rule/orders/r"
        );
        assert_eq!(
            arns.rule_of_arn(&arns.rule("orders", "r")),
            Some(("orders".into(), "r".into()))
        );
        assert_eq!(
            arns.rule_of_arn(&arns.rule("default", "r")),
            Some(("default".into(), "r".into()))
        );
        assert_eq!(arns.bus_name(Some(&arns.bus("orders"))), "orders");
        assert_eq!(arns.bus_name(None), "default");
        assert_eq!(arns.name_of("archive", &arns.archive("a")), "a");
        assert_eq!(bus_stream("orders"), "__events-orders");
        let partner = bus_stream("aws.partner/saas.com/1234/name");
        assert!(partner.starts_with("__events-") && !partner.contains('/'));
        assert!(bus_stream(&"b".repeat(256)).len() <= 128);
    }
}
