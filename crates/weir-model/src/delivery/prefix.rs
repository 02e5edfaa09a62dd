//! Firehose's object prefixes: text with `!{namespace:value}` expressions evaluated when an
//! object is written. `timestamp` takes a Java `DateTimeFormatter` pattern (UTC, the oldest
//! record's arrival); `firehose` takes `error-output-type` (error prefixes only) or
//! `random-string` (11 letters and digits); `partitionKeyFromQuery` and `partitionKeyFromLambda`
//! take a key of dynamic partitioning. Evaluation is pure: the caller passes the instant, the
//! keys and the random string (which weir derives from the batch, so a retried write makes the
//! same keys).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::datetime::{self, Pattern};
use super::query::is_key_name;

/// Length of `!{firehose:random-string}`'s value.
pub const RANDOM_STRING_LEN: usize = 11;
/// Longest prefix after evaluation (Firehose's limit, which keeps keys under S3's 1,024 bytes).
pub const MAX_EVALUATED_LEN: usize = 512;

/// The error output types weir writes: a transform's failures and records that could not be
/// converted (to JSON for a table, to Parquet).
pub const PROCESSING_FAILED: &str = "processing-failed";
pub const FORMAT_CONVERSION_FAILED: &str = "format-conversion-failed";

/// One piece of a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Literal(String),
    Timestamp(Pattern),
    RandomString,
    ErrorOutputType,
    KeyFromQuery(String),
    KeyFromLambda(String),
}

/// A parsed prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix {
    pub text: String,
    pub parts: Vec<Part>,
}

/// What a prefix's expressions evaluate to for one object.
#[derive(Debug, Clone, Default)]
pub struct Values<'a> {
    /// The approximate arrival of the oldest record in the object.
    pub at: DateTime<Utc>,
    pub query_keys: Option<&'a BTreeMap<String, String>>,
    pub lambda_keys: Option<&'a BTreeMap<String, String>>,
    pub error_output_type: Option<&'a str>,
    pub random_string: &'a str,
}

/// Parses `text`; an error names the expression at fault.
pub fn parse(text: &str) -> Result<Prefix, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("!{") {
        if start > 0 {
            parts.push(Part::Literal(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!(
                "the expression starting `{}` has no closing `}}`",
                clip(&rest[start..])
            ));
        };
        let inner = &after[..end];
        parts.push(expression(inner)?);
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_string()));
    }
    Ok(Prefix {
        text: text.to_string(),
        parts,
    })
}

fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

fn expression(inner: &str) -> Result<Part, String> {
    let whole = format!("!{{{inner}}}");
    let Some((namespace, value)) = inner.split_once(':') else {
        return Err(format!(
            "the expression `{whole}` must be `!{{namespace:value}}` (namespaces: firehose, timestamp, partitionKeyFromQuery, partitionKeyFromLambda)"
        ));
    };
    if inner.contains("!{") {
        return Err(format!("expressions cannot be nested: `{whole}`"));
    }
    match namespace {
        "timestamp" => datetime::parse(value)
            .map(Part::Timestamp)
            .map_err(|e| format!("the expression `{whole}` has an invalid timestamp pattern: {e}")),
        "firehose" => match value {
            "random-string" => Ok(Part::RandomString),
            "error-output-type" => Ok(Part::ErrorOutputType),
            _ => Err(format!(
                "the expression `{whole}` names an unknown firehose value `{value}` (error-output-type or random-string)"
            )),
        },
        "partitionKeyFromQuery" | "partitionKeyFromLambda" => {
            if !is_key_name(value) {
                return Err(format!(
                    "the expression `{whole}` needs a partition key name of letters, digits and `_`"
                ));
            }
            Ok(if namespace == "partitionKeyFromQuery" {
                Part::KeyFromQuery(value.to_string())
            } else {
                Part::KeyFromLambda(value.to_string())
            })
        }
        _ => Err(format!(
            "the expression `{whole}` has an unknown namespace `{namespace}` (firehose, timestamp, partitionKeyFromQuery or partitionKeyFromLambda)"
        )),
    }
}

impl Prefix {
    pub fn has_expressions(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Literal(_)))
    }

    pub fn has_timestamp(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Timestamp(_)))
    }

    pub fn has(&self, part: &Part) -> bool {
        self.parts.contains(part)
    }

    /// The partition keys it reads: (from the query, from the transform).
    pub fn keys(&self) -> (Vec<&str>, Vec<&str>) {
        let mut query = Vec::new();
        let mut lambda = Vec::new();
        for part in &self.parts {
            match part {
                Part::KeyFromQuery(k) => query.push(k.as_str()),
                Part::KeyFromLambda(k) => lambda.push(k.as_str()),
                _ => {}
            }
        }
        (query, lambda)
    }

    /// This prefix with `!{timestamp:yyyy/MM/dd/HH/}` appended, which is what Firehose does to a
    /// prefix without a timestamp expression when dynamic partitioning is off.
    pub fn with_default_time(mut self) -> Prefix {
        if !self.has_timestamp() {
            self.text.push_str("!{timestamp:yyyy/MM/dd/HH/}");
            if let Ok(pattern) = datetime::parse("yyyy/MM/dd/HH/") {
                self.parts.push(Part::Timestamp(pattern));
            }
        }
        self
    }

    /// The prefix for one object. Fails when a key it reads is missing, or when the result is
    /// longer than Firehose allows.
    pub fn evaluate(&self, values: &Values<'_>) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Timestamp(pattern) => out.push_str(&pattern.format(values.at)),
                Part::RandomString => out.push_str(values.random_string),
                Part::ErrorOutputType => {
                    out.push_str(values.error_output_type.unwrap_or(PROCESSING_FAILED))
                }
                Part::KeyFromQuery(key) => out.push_str(lookup(values.query_keys, key, "Query")?),
                Part::KeyFromLambda(key) => {
                    out.push_str(lookup(values.lambda_keys, key, "Lambda")?)
                }
            }
        }
        if out.chars().count() > MAX_EVALUATED_LEN {
            return Err(format!(
                "the prefix evaluates to more than {MAX_EVALUATED_LEN} characters"
            ));
        }
        Ok(out)
    }
}

fn lookup<'v>(
    keys: Option<&'v BTreeMap<String, String>>,
    key: &str,
    source: &str,
) -> Result<&'v str, String> {
    keys.and_then(|k| k.get(key))
        .map(String::as_str)
        .ok_or_else(|| format!("partitionKeyFrom{source} key `{key}` has no value for this record"))
}

/// Firehose's rules on a destination's two prefixes, as problems (empty when they hold).
/// `query_keys`: the keys dynamic partitioning's query defines; `transform`: whether a
/// transform function runs (it alone gives `partitionKeyFromLambda` keys).
pub fn check(
    prefix: Option<&Prefix>,
    error_prefix: Option<&Prefix>,
    query_keys: &[String],
    transform: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    let dynamic = !query_keys.is_empty();
    if let Some(prefix) = prefix {
        if prefix.has(&Part::ErrorOutputType) {
            problems.push(
                "`!{firehose:error-output-type}` can only be used in the error prefix".to_string(),
            );
        }
        let (query, lambda) = prefix.keys();
        for key in query {
            if !query_keys.iter().any(|k| k == key) {
                problems.push(format!(
                    "`!{{partitionKeyFromQuery:{key}}}` names a key the partition keys do not define"
                ));
            }
        }
        if !lambda.is_empty() && !transform {
            problems.push(
                "`!{partitionKeyFromLambda:…}` needs a transform function to give the keys"
                    .to_string(),
            );
        }
        if dynamic && prefix.keys().0.is_empty() {
            problems.push(
                "with partition keys, the prefix must use at least one `!{partitionKeyFromQuery:KEY}`"
                    .to_string(),
            );
        }
        if prefix.has_expressions() && error_prefix.is_none() {
            problems.push(
                "a prefix with expressions needs an error prefix (`error_prefix`) as well"
                    .to_string(),
            );
        }
    } else if dynamic {
        problems.push("partition keys need a prefix that uses them".to_string());
    }
    if let Some(error_prefix) = error_prefix {
        let (query, lambda) = error_prefix.keys();
        if !query.is_empty() || !lambda.is_empty() {
            problems.push(
                "the error prefix cannot use partition keys (failed records may have none)"
                    .to_string(),
            );
        }
        if error_prefix.has_expressions() && !error_prefix.has(&Part::ErrorOutputType) {
            problems.push(
                "an error prefix with expressions must contain `!{firehose:error-output-type}`"
                    .to_string(),
            );
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2018, 8, 27, 10, 30, 0).unwrap()
    }

    #[test]
    fn evaluates_every_namespace() {
        let keys: BTreeMap<String, String> = [("customer".to_string(), "42".to_string())].into();
        let lambda: BTreeMap<String, String> = [("tier".to_string(), "gold".to_string())].into();
        let prefix = parse(
            "c=!{partitionKeyFromQuery:customer}/t=!{partitionKeyFromLambda:tier}/!{timestamp:yyyy/MM/dd}/!{firehose:random-string}-",
        )
        .unwrap();
        let values = Values {
            at: at(),
            query_keys: Some(&keys),
            lambda_keys: Some(&lambda),
            random_string: "abcdefghijk",
            ..Values::default()
        };
        assert_eq!(
            prefix.evaluate(&values).unwrap(),
            "c=42/t=gold/2018/08/27/abcdefghijk-"
        );
        let errors = parse("errors/!{firehose:error-output-type}/").unwrap();
        let values = Values {
            error_output_type: Some(FORMAT_CONVERSION_FAILED),
            ..values
        };
        assert_eq!(
            errors.evaluate(&values).unwrap(),
            "errors/format-conversion-failed/"
        );
        let missing = parse("!{partitionKeyFromQuery:other}").unwrap();
        assert!(missing.evaluate(&values).unwrap_err().contains("`other`"));
    }

    #[test]
    fn default_time_is_appended_only_without_a_timestamp() {
        let plain = parse("events/").unwrap().with_default_time();
        let values = Values {
            at: at(),
            ..Values::default()
        };
        assert_eq!(plain.evaluate(&values).unwrap(), "events/2018/08/27/10/");
        let timed = parse("d=!{timestamp:yyyy-MM-dd}/")
            .unwrap()
            .with_default_time();
        assert_eq!(timed.evaluate(&values).unwrap(), "d=2018-08-27/");
    }

    #[test]
    fn bad_expressions_are_named() {
        assert!(
            parse("a/!{timestamp:yyyy")
                .unwrap_err()
                .contains("no closing")
        );
        assert!(
            parse("!{nope:x}")
                .unwrap_err()
                .contains("unknown namespace `nope`")
        );
        assert!(
            parse("!{firehose:uuid}")
                .unwrap_err()
                .contains("unknown firehose value")
        );
        assert!(
            parse("!{timestamp:bb}")
                .unwrap_err()
                .contains("Unknown pattern letter: b")
        );
        assert!(parse("!{plain}").unwrap_err().contains("namespace:value"));
        assert!(parse("!{partitionKeyFromQuery:a-b}").is_err());
    }

    #[test]
    fn firehose_rules_hold() {
        let p = |t: &str| parse(t).unwrap();
        let keys = vec!["customer".to_string()];
        assert!(
            check(
                Some(&p("!{firehose:error-output-type}/")),
                Some(&p("e/")),
                &[],
                false
            )[0]
            .contains("only be used in the error prefix")
        );
        assert!(
            check(Some(&p("!{timestamp:yyyy}/")), None, &[], false)[0]
                .contains("needs an error prefix")
        );
        assert!(
            check(Some(&p("x/")), Some(&p("e/!{timestamp:yyyy}/")), &[], false)[0]
                .contains("must contain `!{firehose:error-output-type}`")
        );
        assert!(
            check(
                Some(&p("!{partitionKeyFromQuery:other}/")),
                Some(&p("e/")),
                &keys,
                false
            )
            .iter()
            .any(|m| m.contains("do not define"))
        );
        assert!(
            check(
                Some(&p("!{partitionKeyFromLambda:k}/")),
                Some(&p("e/")),
                &[],
                false
            )[0]
            .contains("needs a transform")
        );
        assert!(check(Some(&p("x/")), None, &keys, false)[0].contains("at least one"));
        assert!(
            check(
                Some(&p("c=!{partitionKeyFromQuery:customer}/")),
                Some(&p("e/!{firehose:error-output-type}/")),
                &keys,
                false
            )
            .is_empty()
        );
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,60}", secs in 0i64..4_000_000_000i64) {
            if let Ok(prefix) = parse(&text) {
                let values = Values {
                    at: Utc.timestamp_opt(secs, 0).single().unwrap(),
                    random_string: "abcdefghijk",
                    ..Values::default()
                };
                let _ = prefix.evaluate(&values);
                let _ = check(Some(&prefix), Some(&prefix), &[], true);
            }
        }

        #[test]
        fn literal_text_evaluates_to_itself(text in "[a-zA-Z0-9=/_.-]{0,80}") {
            let prefix = parse(&text).unwrap();
            prop_assert_eq!(prefix.evaluate(&Values::default()).unwrap(), text);
        }

        #[test]
        fn keys_are_substituted_verbatim(value in "[a-zA-Z0-9_.-]{1,30}") {
            let keys: BTreeMap<String, String> = [("k".to_string(), value.clone())].into();
            let prefix = parse("k=!{partitionKeyFromQuery:k}/").unwrap();
            let values = Values { query_keys: Some(&keys), ..Values::default() };
            prop_assert_eq!(prefix.evaluate(&values).unwrap(), format!("k={value}/"));
        }
    }
}
