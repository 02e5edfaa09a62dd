//! The ARNs of EventBridge's resources and of the targets weir's rules name, built from the
//! server's `[aws]` region and account.

use std::fmt;

/// The bus every account has, which PutEvents and rules use when no bus is named.
pub const DEFAULT_BUS: &str = "default";

/// Where ARNs are minted: the server's region and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub region: String,
    pub account: String,
}

/// What a rule's target names: the kinds a `rules/*.yaml` target may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetKind {
    Pipeline,
    Machine,
    Function,
    Stream,
    Queue,
    Bus,
}

impl TargetKind {
    /// The key naming each kind in a rule file, in the order messages list them.
    pub const KEYS: [(&'static str, TargetKind); 6] = [
        ("pipeline", TargetKind::Pipeline),
        ("machine", TargetKind::Machine),
        ("function", TargetKind::Function),
        ("stream", TargetKind::Stream),
        ("queue", TargetKind::Queue),
        ("bus", TargetKind::Bus),
    ];

    pub fn key(self) -> &'static str {
        TargetKind::KEYS
            .iter()
            .find(|(_, kind)| *kind == self)
            .map_or("pipeline", |(key, _)| key)
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl Scope {
    pub fn new(region: impl Into<String>, account: impl Into<String>) -> Scope {
        Scope {
            region: region.into(),
            account: account.into(),
        }
    }

    /// `arn:aws:events:R:A:event-bus/NAME`
    pub fn bus(&self, name: &str) -> String {
        format!(
            "arn:aws:events:{}:{}:event-bus/{name}",
            self.region, self.account
        )
    }

    /// `arn:aws:events:R:A:rule/NAME` on the default bus, `…:rule/BUS/NAME` on another.
    pub fn rule(&self, bus: &str, name: &str) -> String {
        if bus == DEFAULT_BUS {
            format!(
                "arn:aws:events:{}:{}:rule/{name}",
                self.region, self.account
            )
        } else {
            format!(
                "arn:aws:events:{}:{}:rule/{bus}/{name}",
                self.region, self.account
            )
        }
    }

    /// `arn:aws:events:R:A:archive/NAME`
    pub fn archive(&self, name: &str) -> String {
        format!(
            "arn:aws:events:{}:{}:archive/{name}",
            self.region, self.account
        )
    }

    /// `arn:aws:events:R:A:replay/NAME`
    pub fn replay(&self, name: &str) -> String {
        format!(
            "arn:aws:events:{}:{}:replay/{name}",
            self.region, self.account
        )
    }

    /// The ARN of the resource of `kind` called `name`.
    pub fn target(&self, kind: TargetKind, name: &str) -> String {
        let (region, account) = (&self.region, &self.account);
        match kind {
            TargetKind::Pipeline => {
                format!("arn:weir:pipelines:{region}:{account}:pipeline/{name}")
            }
            TargetKind::Machine => format!("arn:aws:states:{region}:{account}:stateMachine:{name}"),
            TargetKind::Function => format!("arn:aws:lambda:{region}:{account}:function:{name}"),
            TargetKind::Stream => format!("arn:aws:kinesis:{region}:{account}:stream/{name}"),
            TargetKind::Queue => format!("arn:aws:sqs:{region}:{account}:{name}"),
            TargetKind::Bus => self.bus(name),
        }
    }

    /// The kind and name of the resource a target ARN names, when it is one weir mints (any
    /// region and account: the caller compares those if it cares).
    pub fn parse_target(arn: &str) -> Option<(TargetKind, String)> {
        let mut parts = arn.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some(service),
            Some(_region),
            Some(_account),
            Some(rest),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return None;
        };
        let named = |prefix: &str| {
            rest.strip_prefix(prefix)
                .filter(|name| !name.is_empty())
                .map(str::to_string)
        };
        let found = match (partition, service) {
            ("weir", "pipelines") => (TargetKind::Pipeline, named("pipeline/")?),
            ("aws", "states") => (TargetKind::Machine, named("stateMachine:")?),
            ("aws", "lambda") => (TargetKind::Function, named("function:")?),
            ("aws", "kinesis") => (TargetKind::Stream, named("stream/")?),
            ("aws", "sqs") => (TargetKind::Queue, named("")?),
            ("aws", "events") => (TargetKind::Bus, named("event-bus/")?),
            _ => return None,
        };
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_as_the_design_lists_them() {
        let scope = Scope::new("eu-west-1", "123456789012");
        assert_eq!(
            scope.bus("default"),
            "arn:aws:events:eu-west-1:123456789012:event-bus/default"
        );
        assert_eq!(
            scope.rule("default", "r"),
            "arn:aws:events:eu-west-1:123456789012:rule/r"
        );
        assert_eq!(
            scope.rule("orders", "r"),
            "arn:aws:events:eu-west-1:123456789012:rule/orders/r"
        );
        assert_eq!(
            scope.archive("a"),
            "arn:aws:events:eu-west-1:123456789012:archive/a"
        );
        assert_eq!(
            scope.replay("p"),
            "arn:aws:events:eu-west-1:123456789012:replay/p"
        );
        let cases = [
            (
                TargetKind::Pipeline,
                "arn:weir:pipelines:eu-west-1:123456789012:pipeline/agg",
            ),
            (
                TargetKind::Machine,
                "arn:aws:states:eu-west-1:123456789012:stateMachine:agg",
            ),
            (
                TargetKind::Function,
                "arn:aws:lambda:eu-west-1:123456789012:function:agg",
            ),
            (
                TargetKind::Stream,
                "arn:aws:kinesis:eu-west-1:123456789012:stream/agg",
            ),
            (TargetKind::Queue, "arn:aws:sqs:eu-west-1:123456789012:agg"),
            (
                TargetKind::Bus,
                "arn:aws:events:eu-west-1:123456789012:event-bus/agg",
            ),
        ];
        for (kind, arn) in cases {
            assert_eq!(scope.target(kind, "agg"), arn);
            assert_eq!(Scope::parse_target(arn), Some((kind, "agg".to_string())));
        }
        assert_eq!(Scope::parse_target("arn:aws:sqs:r:a:"), None);
        assert_eq!(Scope::parse_target("not an arn"), None);
        assert_eq!(Scope::parse_target("arn:aws:s3:::bucket"), None);
    }
}
