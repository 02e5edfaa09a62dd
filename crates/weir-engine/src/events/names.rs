//! Names and ARNs: a bus's, a rule's, an archive's and a replay's ARN, the names an ARN or a
//! name stands for, and the stream that holds a bus's events.

use super::model::BUS_STREAM_PREFIX;

/// The default bus, which always exists.
pub const DEFAULT_BUS: &str = "default";

/// Region and account, which every ARN carries.
#[derive(Debug, Clone)]
pub(crate) struct Arns {
    pub region: String,
    pub account: String,
}

impl Arns {
    fn prefix(&self) -> String {
        format!("arn:aws:events:{}:{}", self.region, self.account)
    }

    pub fn bus(&self, bus: &str) -> String {
        format!("{}:event-bus/{bus}", self.prefix())
    }

    /// A rule's ARN: `rule/NAME` on the default bus, `rule/BUS/NAME` on another.
    pub fn rule(&self, bus: &str, name: &str) -> String {
        if bus == DEFAULT_BUS {
            format!("{}:rule/{name}", self.prefix())
        } else {
            format!("{}:rule/{bus}/{name}", self.prefix())
        }
    }

    pub fn archive(&self, name: &str) -> String {
        format!("{}:archive/{name}", self.prefix())
    }

    pub fn replay(&self, name: &str) -> String {
        format!("{}:replay/{name}", self.prefix())
    }

    /// The bus a name or an ARN names (`None`: the default bus).
    pub fn bus_name(&self, name_or_arn: Option<&str>) -> String {
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
    pub fn rule_of_arn(&self, arn: &str) -> Option<(String, String)> {
        let (_, path) = arn.split_once(":rule/")?;
        Some(match path.rsplit_once('/') {
            Some((bus, name)) => (bus.to_string(), name.to_string()),
            None => (DEFAULT_BUS.to_string(), path.to_string()),
        })
    }

    /// The name an ARN of `kind` (`archive`, `replay`) names, or the text itself when it is a name.
    pub fn name_of(&self, kind: &str, name_or_arn: &str) -> String {
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

/// The consumer group that dispatches a bus's events.
pub fn group_name(bus: &str) -> String {
    format!("events-{bus}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_names() {
        let arns = Arns {
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
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
