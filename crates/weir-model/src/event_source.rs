//! Event source mappings (Lambda's trigger from streams and queues): what a function consumes and
//! how, as `functions/NAME.yaml` writes it under `event_sources:` and as the Lambda API's
//! CreateEventSourceMapping takes it. One [`EventSourceConfig`] for both, with Lambda's defaults
//! and limits for a Kinesis source and for an SQS source, so that a mapping means the same
//! wherever it was made.

use serde::{Deserialize, Serialize};

use crate::pipeline::fields::Ctx;
use crate::pipeline::yaml::{Node, Value};

/// Lambda's default batch size for a Kinesis source, and its limits.
pub const DEFAULT_BATCH_SIZE: u32 = 100;
pub const MAX_BATCH_SIZE: u32 = 10_000;
/// MaximumBatchingWindowInSeconds: 0 to 300.
pub const MAX_BATCHING_WINDOW_SECONDS: u32 = 300;
/// MaximumRetryAttempts: -1 (until the record expires) to 10,000.
pub const MAX_RETRY_ATTEMPTS: i32 = 10_000;
/// MaximumRecordAgeInSeconds: -1 (no limit) or 60 to 604,800 (a week).
pub const MIN_RECORD_AGE_SECONDS: i32 = 60;
pub const MAX_RECORD_AGE_SECONDS: i32 = 604_800;
/// ParallelizationFactor: 1 to 10.
pub const MAX_PARALLELIZATION_FACTOR: u32 = 10;
/// TumblingWindowInSeconds: 0 to 900.
pub const MAX_TUMBLING_WINDOW_SECONDS: u32 = 900;

/// An SQS source: Lambda's default batch size, its limits (a FIFO queue's batches hold at most
/// 10 messages), and ScalingConfig.MaximumConcurrency's range.
pub const DEFAULT_QUEUE_BATCH_SIZE: u32 = 10;
pub const MAX_FIFO_QUEUE_BATCH_SIZE: u32 = 10;
pub const MIN_MAXIMUM_CONCURRENCY: u32 = 2;
pub const MAX_MAXIMUM_CONCURRENCY: u32 = 1000;

/// The keys of one entry of `event_sources:`.
pub const EVENT_SOURCE_KEYS: [&str; 15] = [
    "stream",
    "queue",
    "maximum_concurrency",
    "batch_size",
    "batching_window",
    "starting_position",
    "starting_position_timestamp",
    "maximum_retry_attempts",
    "maximum_record_age",
    "bisect_batch_on_function_error",
    "report_batch_item_failures",
    "on_failure",
    "parallelization_factor",
    "tumbling_window",
    "enabled",
];

/// Where a shard without a checkpoint starts (Lambda's `StartingPosition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StartingPosition {
    TrimHorizon,
    Latest,
    AtTimestamp,
}

impl StartingPosition {
    pub fn as_str(self) -> &'static str {
        match self {
            StartingPosition::TrimHorizon => "TRIM_HORIZON",
            StartingPosition::Latest => "LATEST",
            StartingPosition::AtTimestamp => "AT_TIMESTAMP",
        }
    }

    pub fn parse(text: &str) -> Option<StartingPosition> {
        match text {
            "TRIM_HORIZON" => Some(StartingPosition::TrimHorizon),
            "LATEST" => Some(StartingPosition::Latest),
            "AT_TIMESTAMP" => Some(StartingPosition::AtTimestamp),
            _ => None,
        }
    }
}

/// Where a batch that could not be processed is described (`DestinationConfig.OnFailure`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A weir stream, `arn:aws:kinesis:REGION:ACCOUNT:stream/NAME`: one record per failed batch.
    Stream(String),
    /// A lake prefix, `arn:aws:s3:::BUCKET[/PREFIX]` or `s3://BUCKET[/PREFIX]`: one object per
    /// failed batch under it.
    Lake { bucket: String, prefix: String },
}

impl Destination {
    /// Reads a destination as Lambda's `Destination` ARN (or an `s3://` URL) writes it.
    pub fn parse(text: &str) -> Option<Destination> {
        if let Some(name) = stream_name_of(text) {
            return Some(Destination::Stream(name.to_string()));
        }
        let location = text
            .strip_prefix("arn:aws:s3:::")
            .or_else(|| text.strip_prefix("s3://"))?;
        let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
        let valid_bucket = !bucket.is_empty()
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'));
        valid_bucket.then(|| Destination::Lake {
            bucket: bucket.to_string(),
            prefix: prefix.trim_end_matches('/').to_string(),
        })
    }
}

/// The stream name in a Kinesis stream ARN (`arn:aws:kinesis:REGION:ACCOUNT:stream/NAME`).
pub fn stream_name_of(arn: &str) -> Option<&str> {
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    match fields.as_slice() {
        ["arn", _partition, "kinesis", _region, _account, resource] => {
            let name = resource.strip_prefix("stream/")?;
            is_stream_name(name).then_some(name)
        }
        _ => None,
    }
}

/// The queue name in an SQS queue ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`).
pub fn queue_name_of(arn: &str) -> Option<&str> {
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    match fields.as_slice() {
        ["arn", _partition, "sqs", _region, _account, name] => is_queue_name(name).then_some(*name),
        _ => None,
    }
}

/// SQS's queue names: up to 80 of `[a-zA-Z0-9_-]`, a FIFO queue's ending in `.fifo` (counted).
pub fn is_queue_name(name: &str) -> bool {
    let stem = name.strip_suffix(".fifo").unwrap_or(name);
    !stem.is_empty()
        && name.len() <= 80
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

/// Whether a queue name is a FIFO queue's.
pub fn is_fifo_queue(name: &str) -> bool {
    name.ends_with(".fifo")
}

/// Kinesis' stream names: `[a-zA-Z0-9_.-]{1,128}`.
pub fn is_stream_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// What a mapping reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    /// A weir stream (Kinesis), by name.
    Stream(&'a str),
    /// A queue (SQS), by name.
    Queue(&'a str),
}

/// One mapping's settings, with Lambda's names in its comments. Stored as JSON (a mapping stored
/// before queues were sources has no `queue` and reads as a stream's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventSourceConfig {
    /// The stream's name (from `EventSourceArn`); empty for a queue's mapping.
    #[serde(default)]
    pub stream: String,
    /// The queue's name (from `EventSourceArn`), for an SQS source; `stream` is then empty and
    /// the stream-only settings keep their defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// ScalingConfig.MaximumConcurrency (SQS only): invocations of this mapping at once; None is
    /// Lambda's default (as many as the function's own limit allows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_concurrency: Option<u32>,
    /// BatchSize.
    pub batch_size: u32,
    /// MaximumBatchingWindowInSeconds.
    pub batching_window_seconds: u32,
    pub starting_position: StartingPosition,
    /// StartingPositionTimestamp, in seconds since the epoch (AT_TIMESTAMP only).
    pub starting_position_timestamp: Option<f64>,
    /// MaximumRetryAttempts; -1: until the records expire.
    pub maximum_retry_attempts: i32,
    /// MaximumRecordAgeInSeconds; -1: no limit.
    pub maximum_record_age_seconds: i32,
    /// BisectBatchOnFunctionError.
    pub bisect_batch_on_function_error: bool,
    /// FunctionResponseTypes: ["ReportBatchItemFailures"].
    pub report_batch_item_failures: bool,
    /// DestinationConfig.OnFailure.Destination, as given.
    pub on_failure: Option<String>,
    /// ParallelizationFactor.
    pub parallelization_factor: u32,
    /// TumblingWindowInSeconds; 0: none.
    pub tumbling_window_seconds: u32,
    /// Enabled.
    pub enabled: bool,
}

impl EventSourceConfig {
    /// A mapping of `stream` with Lambda's defaults.
    pub fn new(stream: &str, starting_position: StartingPosition) -> EventSourceConfig {
        EventSourceConfig {
            stream: stream.to_string(),
            queue: None,
            maximum_concurrency: None,
            batch_size: DEFAULT_BATCH_SIZE,
            batching_window_seconds: 0,
            starting_position,
            starting_position_timestamp: None,
            maximum_retry_attempts: -1,
            maximum_record_age_seconds: -1,
            bisect_batch_on_function_error: false,
            report_batch_item_failures: false,
            on_failure: None,
            parallelization_factor: 1,
            tumbling_window_seconds: 0,
            enabled: true,
        }
    }

    /// A mapping of the SQS queue `queue` with Lambda's defaults for one (a batch of 10, no
    /// batching window, no starting position).
    pub fn for_queue(queue: &str) -> EventSourceConfig {
        EventSourceConfig {
            stream: String::new(),
            queue: Some(queue.to_string()),
            batch_size: DEFAULT_QUEUE_BATCH_SIZE,
            ..EventSourceConfig::new("", StartingPosition::TrimHorizon)
        }
    }

    /// What the mapping reads.
    pub fn source(&self) -> Source<'_> {
        match &self.queue {
            Some(queue) => Source::Queue(queue),
            None => Source::Stream(&self.stream),
        }
    }

    /// What is wrong with these settings, in Lambda's terms (the API's field names), beyond each
    /// field's own range: the combinations.
    pub fn problems(&self) -> Vec<String> {
        if let Some(queue) = &self.queue {
            return self.queue_problems(queue);
        }
        let mut problems = Vec::new();
        if self.maximum_concurrency.is_some() {
            problems.push(unsupported("ScalingConfig"));
        }
        if self.starting_position == StartingPosition::AtTimestamp
            && self.starting_position_timestamp.is_none()
        {
            problems.push(
                "StartingPositionTimestamp must be set when StartingPosition is AT_TIMESTAMP"
                    .to_string(),
            );
        }
        if self.maximum_record_age_seconds != -1
            && !(MIN_RECORD_AGE_SECONDS..=MAX_RECORD_AGE_SECONDS)
                .contains(&self.maximum_record_age_seconds)
        {
            problems.push(format!(
                "MaximumRecordAgeInSeconds must be -1 or between {MIN_RECORD_AGE_SECONDS} and {MAX_RECORD_AGE_SECONDS}"
            ));
        }
        if let Some(destination) = &self.on_failure
            && Destination::parse(destination).is_none()
        {
            problems.push(format!(
                "the on-failure destination `{destination}` must be a stream (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME) or a lake prefix (arn:aws:s3:::BUCKET/PREFIX)"
            ));
        }
        problems
    }
}

impl EventSourceConfig {
    /// What is wrong with an SQS source's settings, in Lambda's words where known: the batch
    /// size against the batching window and the queue's kind, and the stream-only settings.
    fn queue_problems(&self, queue: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let fifo = is_fifo_queue(queue);
        if fifo && self.batching_window_seconds > 0 {
            problems.push("Batching window is not supported for FIFO queues".to_string());
        }
        if fifo && self.batch_size > MAX_FIFO_QUEUE_BATCH_SIZE {
            problems.push(format!(
                "Maximum batch size must be between 1 and {MAX_FIFO_QUEUE_BATCH_SIZE} inclusive"
            ));
        } else if self.batch_size > DEFAULT_QUEUE_BATCH_SIZE && self.batching_window_seconds == 0 {
            problems.push(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
                    .to_string(),
            );
        }
        if let Some(n) = self.maximum_concurrency
            && !(MIN_MAXIMUM_CONCURRENCY..=MAX_MAXIMUM_CONCURRENCY).contains(&n)
        {
            problems.push(format!(
                "MaximumConcurrency must be between {MIN_MAXIMUM_CONCURRENCY} and {MAX_MAXIMUM_CONCURRENCY}"
            ));
        }
        let stream_only = [
            ("MaximumRetryAttempts", self.maximum_retry_attempts != -1),
            (
                "MaximumRecordAgeInSeconds",
                self.maximum_record_age_seconds != -1,
            ),
            (
                "BisectBatchOnFunctionError",
                self.bisect_batch_on_function_error,
            ),
            ("DestinationConfig", self.on_failure.is_some()),
            ("ParallelizationFactor", self.parallelization_factor != 1),
            ("TumblingWindowInSeconds", self.tumbling_window_seconds != 0),
            (
                "StartingPositionTimestamp",
                self.starting_position_timestamp.is_some(),
            ),
        ];
        for (member, set) in stream_only {
            if set {
                problems.push(unsupported(member));
            }
        }
        problems
    }
}

/// Lambda's refusal of a setting the source's kind does not have.
fn unsupported(member: &str) -> String {
    format!("Unsupported {member} parameter for given event source mapping type.")
}

/// The keys an SQS source may have besides `queue` (the rest are a stream's).
const QUEUE_KEYS: [&str; 5] = [
    "batch_size",
    "batching_window",
    "report_batch_item_failures",
    "maximum_concurrency",
    "enabled",
];

/// Reads `event_sources:`: a list of mappings.
pub(crate) fn read_event_sources(ctx: &mut Ctx<'_>, node: &Node) -> Vec<EventSourceConfig> {
    let items = match &node.value {
        Value::Null => return Vec::new(),
        Value::Seq(items) => items,
        _ => {
            ctx.problem(
                node.pos,
                format!(
                    "`event_sources` must be a list of mappings such as `- stream: orders`, not {}",
                    node.describe()
                ),
            );
            return Vec::new();
        }
    };
    items
        .iter()
        .filter_map(|item| read_event_source(ctx, item))
        .collect()
}

fn read_event_source(ctx: &mut Ctx<'_>, node: &Node) -> Option<EventSourceConfig> {
    let Some(entries) = node.as_map() else {
        ctx.problem(
            node.pos,
            format!(
                "each of `event_sources` must be a mapping with `stream` or `queue`, not {}",
                node.describe()
            ),
        );
        return None;
    };
    let stream_entry = entries.iter().find(|e| e.key == "stream");
    let queue_entry = entries.iter().find(|e| e.key == "queue");
    let mut config = match (stream_entry, queue_entry) {
        (Some(_), Some(queue)) => {
            ctx.problem(
                queue.key_pos,
                "an event source reads either a `stream` or a `queue`, not both",
            );
            return None;
        }
        (None, None) => {
            ctx.problem(
                node.pos,
                "an event source needs `stream` (a stream's name or ARN) or `queue` (a queue's name or ARN)",
            );
            return None;
        }
        (Some(stream_entry), None) => {
            let stream_text = ctx.string("stream", &stream_entry.value)?;
            let stream = match stream_name_of(&stream_text) {
                Some(name) => name.to_string(),
                None if is_stream_name(&stream_text) => stream_text,
                None => {
                    ctx.problem(
                        stream_entry.value.pos,
                        format!("`stream`: `{stream_text}` is neither a stream name ([a-zA-Z0-9_.-], up to 128) nor a stream ARN"),
                    );
                    return None;
                }
            };
            EventSourceConfig::new(&stream, StartingPosition::TrimHorizon)
        }
        (None, Some(queue_entry)) => {
            let queue_text = ctx.string("queue", &queue_entry.value)?;
            let queue = match queue_name_of(&queue_text) {
                Some(name) => name.to_string(),
                None if is_queue_name(&queue_text) => queue_text,
                None => {
                    ctx.problem(
                        queue_entry.value.pos,
                        format!("`queue`: `{queue_text}` is neither a queue name ([a-zA-Z0-9_-], up to 80, `.fifo` at the end of a FIFO queue's) nor a queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)"),
                    );
                    return None;
                }
            };
            EventSourceConfig::for_queue(&queue)
        }
    };
    let problems_before = ctx.problems.len();
    let of_queue = config.queue.is_some();
    for e in entries {
        let value = &e.value;
        let key = e.key.as_str();
        if of_queue
            && key != "queue"
            && EVENT_SOURCE_KEYS.contains(&key)
            && !QUEUE_KEYS.contains(&key)
        {
            ctx.problem(
                e.key_pos,
                format!(
                    "`{key}` applies to stream sources only; a queue source takes {}",
                    QUEUE_KEYS.map(|k| format!("`{k}`")).join(", ")
                ),
            );
            continue;
        }
        match key {
            "stream" | "queue" => {}
            "maximum_concurrency" => {
                if !of_queue {
                    ctx.problem(
                        e.key_pos,
                        "`maximum_concurrency` applies to queue sources only (a stream's scales with `parallelization_factor`)",
                    );
                } else if let Some(n) = ranged(
                    ctx,
                    "maximum_concurrency",
                    value,
                    i64::from(MIN_MAXIMUM_CONCURRENCY),
                    i64::from(MAX_MAXIMUM_CONCURRENCY),
                ) {
                    config.maximum_concurrency = Some(n as u32);
                }
            }
            "batch_size" => {
                if let Some(n) = ranged(ctx, "batch_size", value, 1, i64::from(MAX_BATCH_SIZE)) {
                    config.batch_size = n as u32;
                }
            }
            "batching_window" => {
                if let Some(secs) =
                    seconds(ctx, "batching_window", value, MAX_BATCHING_WINDOW_SECONDS)
                {
                    config.batching_window_seconds = secs;
                }
            }
            "tumbling_window" => {
                if let Some(secs) =
                    seconds(ctx, "tumbling_window", value, MAX_TUMBLING_WINDOW_SECONDS)
                {
                    config.tumbling_window_seconds = secs;
                }
            }
            "starting_position" => {
                if let Some(text) = ctx.string("starting_position", value) {
                    match StartingPosition::parse(&text) {
                        Some(position) => config.starting_position = position,
                        None => ctx.problem(
                            value.pos,
                            format!(
                                "`starting_position` must be TRIM_HORIZON, LATEST or AT_TIMESTAMP, not `{text}`"
                            ),
                        ),
                    }
                }
            }
            "starting_position_timestamp" => {
                config.starting_position_timestamp = timestamp(ctx, value);
            }
            "maximum_retry_attempts" => {
                if let Some(n) = ranged(
                    ctx,
                    "maximum_retry_attempts",
                    value,
                    -1,
                    i64::from(MAX_RETRY_ATTEMPTS),
                ) {
                    config.maximum_retry_attempts = n as i32;
                }
            }
            "maximum_record_age" => {
                // -1 (no limit), or a duration of a minute to a week.
                if matches!(value.value, Value::Int(-1)) {
                    config.maximum_record_age_seconds = -1;
                } else if let Some(secs) = seconds(
                    ctx,
                    "maximum_record_age",
                    value,
                    MAX_RECORD_AGE_SECONDS as u32,
                ) {
                    if secs < MIN_RECORD_AGE_SECONDS as u32 {
                        ctx.problem(
                            value.pos,
                            "`maximum_record_age` must be -1 (no limit) or from 1m to 7d",
                        );
                    } else {
                        config.maximum_record_age_seconds = secs as i32;
                    }
                }
            }
            "bisect_batch_on_function_error" => {
                if let Some(b) = ctx.boolean("bisect_batch_on_function_error", value) {
                    config.bisect_batch_on_function_error = b;
                }
            }
            "report_batch_item_failures" => {
                if let Some(b) = ctx.boolean("report_batch_item_failures", value) {
                    config.report_batch_item_failures = b;
                }
            }
            "enabled" => {
                if let Some(b) = ctx.boolean("enabled", value) {
                    config.enabled = b;
                }
            }
            "on_failure" => {
                if let Some(text) = ctx.string("on_failure", value) {
                    if Destination::parse(&text).is_none() {
                        ctx.problem(
                            value.pos,
                            format!("`on_failure`: `{text}` must be a stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME) or a lake prefix (s3://BUCKET/PREFIX)"),
                        );
                    } else {
                        config.on_failure = Some(text);
                    }
                }
            }
            "parallelization_factor" => {
                if let Some(n) = ranged(
                    ctx,
                    "parallelization_factor",
                    value,
                    1,
                    i64::from(MAX_PARALLELIZATION_FACTOR),
                ) {
                    config.parallelization_factor = n as u32;
                }
            }
            other => {
                crate::pipeline::fields::unknown_key(
                    ctx,
                    other,
                    e.key_pos,
                    "an event source",
                    &EVENT_SOURCE_KEYS,
                );
            }
        }
    }
    if ctx.problems.len() > problems_before {
        return None;
    }
    for problem in config.problems() {
        ctx.problem(node.pos, problem);
    }
    Some(config)
}

/// A whole number in `min..=max`.
fn ranged(ctx: &mut Ctx<'_>, key: &str, node: &Node, min: i64, max: i64) -> Option<i64> {
    match node.value {
        Value::Null => None,
        Value::Int(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            ctx.problem(
                node.pos,
                format!("`{key}` must be a whole number from {min} to {max}"),
            );
            None
        }
    }
}

/// A duration in whole seconds, up to `max`.
fn seconds(ctx: &mut Ctx<'_>, key: &str, node: &Node, max: u32) -> Option<u32> {
    let duration = ctx.duration(key, node)?;
    let secs = duration.as_secs_f64();
    if secs.fract() != 0.0 || secs > f64::from(max) {
        ctx.problem(
            node.pos,
            format!("`{key}` must be whole seconds, at most {max}s"),
        );
        return None;
    }
    Some(secs as u32)
}

/// An RFC 3339 time or a number of seconds since the epoch.
fn timestamp(ctx: &mut Ctx<'_>, node: &Node) -> Option<f64> {
    match &node.value {
        Value::Null => None,
        Value::Int(n) => Some(*n as f64),
        Value::Float(f) if f.is_finite() => Some(*f),
        Value::Str(text) => match chrono::DateTime::parse_from_rfc3339(text) {
            Ok(at) => Some(at.timestamp_millis() as f64 / 1000.0),
            Err(e) => {
                ctx.problem(
                    node.pos,
                    format!("`starting_position_timestamp` must be an RFC 3339 time such as 2024-05-01T00:00:00Z: {e}"),
                );
                None
            }
        },
        _ => {
            ctx.problem(
                node.pos,
                "`starting_position_timestamp` must be an RFC 3339 time or seconds since the epoch",
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_streams_or_lake_prefixes() {
        assert_eq!(
            Destination::parse("arn:aws:kinesis:us-east-1:000000000000:stream/dlq"),
            Some(Destination::Stream("dlq".into()))
        );
        assert_eq!(
            Destination::parse("arn:aws:s3:::failed/orders/"),
            Some(Destination::Lake {
                bucket: "failed".into(),
                prefix: "orders".into()
            })
        );
        assert_eq!(
            Destination::parse("s3://failed"),
            Some(Destination::Lake {
                bucket: "failed".into(),
                prefix: String::new()
            })
        );
        assert_eq!(Destination::parse("arn:aws:sqs:us-east-1:0:q"), None);
        assert_eq!(Destination::parse("s3://Bad_Bucket/x"), None);
        assert_eq!(
            stream_name_of("arn:aws:kinesis:eu-west-1:123:stream/a.b-c"),
            Some("a.b-c")
        );
        assert_eq!(
            stream_name_of("arn:aws:kinesis:eu-west-1:123:stream/"),
            None
        );
    }

    #[test]
    fn combinations_are_checked() {
        let mut config = EventSourceConfig::new("s", StartingPosition::AtTimestamp);
        config.maximum_record_age_seconds = 30;
        config.on_failure = Some("nowhere".into());
        let problems = config.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("StartingPositionTimestamp"));
        assert!(
            problems[1].contains("MaximumRecordAgeInSeconds must be -1 or between 60 and 604800")
        );
    }

    #[test]
    fn queue_sources_have_sqs_defaults_and_limits() {
        assert_eq!(
            queue_name_of("arn:aws:sqs:us-east-1:000000000000:jobs.fifo"),
            Some("jobs.fifo")
        );
        assert_eq!(
            queue_name_of("arn:aws:sqs:us-east-1:000000000000:a.b"),
            None
        );
        assert_eq!(queue_name_of("arn:aws:kinesis:us-east-1:0:stream/s"), None);
        assert!(is_queue_name(&"q".repeat(80)));
        assert!(!is_queue_name(&"q".repeat(81)));
        assert!(!is_queue_name(".fifo"));
        let mut config = EventSourceConfig::for_queue("jobs");
        assert_eq!(config.batch_size, 10);
        assert_eq!(config.source(), Source::Queue("jobs"));
        assert!(config.problems().is_empty());
        config.batch_size = 100;
        assert_eq!(
            config.problems(),
            [
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
            ]
        );
        config.batching_window_seconds = 1;
        config.parallelization_factor = 2;
        config.maximum_concurrency = Some(1);
        assert_eq!(
            config.problems(),
            [
                "MaximumConcurrency must be between 2 and 1000",
                "Unsupported ParallelizationFactor parameter for given event source mapping type."
            ]
        );
        let mut fifo = EventSourceConfig::for_queue("jobs.fifo");
        fifo.batch_size = 11;
        fifo.batching_window_seconds = 5;
        assert_eq!(
            fifo.problems(),
            [
                "Batching window is not supported for FIFO queues",
                "Maximum batch size must be between 1 and 10 inclusive"
            ]
        );
        // A mapping stored before queues were sources reads as a stream's.
        let stored =
            serde_json::to_value(EventSourceConfig::new("s", StartingPosition::Latest)).unwrap();
        assert!(stored.get("queue").is_none());
        let read: EventSourceConfig = serde_json::from_value(stored).unwrap();
        assert_eq!(read.source(), Source::Stream("s"));
        let queued: EventSourceConfig =
            serde_json::from_value(serde_json::to_value(&config).unwrap()).unwrap();
        assert_eq!(queued, config);
    }
}
