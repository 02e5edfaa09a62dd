//! The shapes of EventBridge's API model (`eventbridge-2015-10-07`, the model botocore and the
//! SDKs are generated from) that the operations share, as [`Member`]s: lengths, ranges and
//! patterns exactly as the model writes them, since AWS's messages quote them.

use std::sync::LazyLock;

use regex::Regex;

pub use crate::aws::fields::Member;

/// A model pattern, matched whole (the model's patterns are implicitly anchored). The patterns
/// are this file's constants, compiled by its tests: a failure here is a bug in this file, never
/// something a request can cause.
fn whole(pattern: &str) -> Regex {
    Regex::new(&format!("^(?:{pattern})$")).expect("the model's patterns compile")
}

const NAME: &str = r"[\.\-_A-Za-z0-9]+";
const BUS_NAME: &str = r"[/\.\-_A-Za-z0-9]+";
const BUS_NAME_OR_ARN: &str =
    r"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/\.\-_A-Za-z0-9]+";
const NON_PARTNER_BUS_NAME_OR_ARN: &str =
    r"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[\.\-_A-Za-z0-9]+";
const EVENTS_ARN: &str = r"^arn:aws([a-z]|\-)*:events:([a-z]|\d|\-)*:([0-9]{12})?:.+\/.+$";
const ENDPOINT_ID: &str = r"^[A-Za-z0-9\-]+[\.][A-Za-z0-9\-]+$";
const EVENT_SOURCE_NAME: &str = r"aws\.partner(/[\.\-_A-Za-z0-9]+){2,}";
const KMS_KEY: &str = r"^[a-zA-Z0-9_\-/:]*$";
const ANY: &str = ".*";

/// The model's patterns as Rust regular expressions: `^…$` of the model's own are anchors
/// already, and `\/`, `\.`, `\-`, `\_` are escapes the `regex` crate reads as the character.
static NAME_RE: LazyLock<Regex> = LazyLock::new(|| whole(NAME));
static BUS_NAME_RE: LazyLock<Regex> = LazyLock::new(|| whole(BUS_NAME));
static BUS_NAME_OR_ARN_RE: LazyLock<Regex> = LazyLock::new(|| whole(BUS_NAME_OR_ARN));
static NON_PARTNER_RE: LazyLock<Regex> = LazyLock::new(|| whole(NON_PARTNER_BUS_NAME_OR_ARN));
static EVENTS_ARN_RE: LazyLock<Regex> = LazyLock::new(|| whole(EVENTS_ARN));
static ENDPOINT_ID_RE: LazyLock<Regex> = LazyLock::new(|| whole(ENDPOINT_ID));
static EVENT_SOURCE_NAME_RE: LazyLock<Regex> = LazyLock::new(|| whole(EVENT_SOURCE_NAME));
static KMS_KEY_RE: LazyLock<Regex> = LazyLock::new(|| whole(KMS_KEY));
/// `.*` without the `s` flag: no line breaks.
static ANY_RE: LazyLock<Regex> = LazyLock::new(|| whole(ANY));

/// `RuleName`: 1–64 characters of `[\.\-_A-Za-z0-9]+` (under the member's own name: `Name`,
/// `Rule`, `NamePrefix`).
pub const fn rule_name(member: &'static str) -> Member {
    Member::matching(member, 1, 64, NAME, |s| NAME_RE.is_match(s))
}

/// `EventBusName`: 1–256 characters of `[/\.\-_A-Za-z0-9]+` (`Name` of CreateEventBus and
/// DeleteEventBus, `NamePrefix` of ListEventBuses).
pub const fn bus_name(member: &'static str) -> Member {
    Member::matching(member, 1, 256, BUS_NAME, |s| BUS_NAME_RE.is_match(s))
}

/// `EventBusNameOrArn`: a bus by name or ARN, 1–1600 characters.
pub const fn bus_name_or_arn(member: &'static str) -> Member {
    Member::matching(member, 1, 1600, BUS_NAME_OR_ARN, |s| {
        BUS_NAME_OR_ARN_RE.is_match(s)
    })
}

/// `EventBusName` where a bus is named by name or ARN (most operations).
pub const EVENT_BUS: Member = bus_name_or_arn("EventBusName");

/// `NonPartnerEventBusNameOrArn`: PutEvents' entries' bus (no `/` in the name).
pub const ENTRY_BUS: Member =
    Member::matching("EventBusName", 1, 1600, NON_PARTNER_BUS_NAME_OR_ARN, |s| {
        NON_PARTNER_RE.is_match(s)
    });

/// `EventBusArn`/`ArchiveArn`: an EventBridge ARN with a `type/name` resource.
pub const fn events_arn(member: &'static str) -> Member {
    Member::matching(member, 1, 1600, EVENTS_ARN, |s| EVENTS_ARN_RE.is_match(s))
}

/// `ArchiveName`: 1–48 characters of `[\.\-_A-Za-z0-9]+`.
pub const fn archive_name(member: &'static str) -> Member {
    Member::matching(member, 1, 48, NAME, |s| NAME_RE.is_match(s))
}

/// `ReplayName`: 1–64 characters of `[\.\-_A-Za-z0-9]+`.
pub const fn replay_name(member: &'static str) -> Member {
    Member::matching(member, 1, 64, NAME, |s| NAME_RE.is_match(s))
}

/// `ArchiveDescription`, `ReplayDescription`: at most 512 characters of `.*`.
pub const DESCRIPTION_512: Member =
    Member::matching("Description", 0, 512, ANY, |s| ANY_RE.is_match(s));

/// `RuleDescription`, `EventBusDescription`: at most 512 characters.
pub const DESCRIPTION: Member = Member::text("Description", 0, 512);

/// `ArchiveState`.
pub const ARCHIVE_STATES: &[&str] = &[
    "ENABLED",
    "DISABLED",
    "CREATING",
    "UPDATING",
    "CREATE_FAILED",
    "UPDATE_FAILED",
];

/// `ReplayState`.
pub const REPLAY_STATES: &[&str] = &[
    "STARTING",
    "RUNNING",
    "CANCELLING",
    "COMPLETED",
    "CANCELLED",
    "FAILED",
];

/// `RuleState`.
pub const RULE_STATES: &[&str] = &[
    "ENABLED",
    "DISABLED",
    "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
];

/// `EventPattern`: at most 4096 characters.
pub const EVENT_PATTERN: Member = Member::text("EventPattern", 0, 4096);

/// `ScheduleExpression`: at most 256 characters.
pub const SCHEDULE_EXPRESSION: Member = Member::text("ScheduleExpression", 0, 256);

/// `RoleArn`: 1–1600 characters.
pub const ROLE_ARN: Member = Member::text("RoleArn", 1, 1600);

/// `RetentionDays`: zero (forever) or more.
pub const RETENTION_DAYS: Member = Member::integer("RetentionDays", 0, i32::MAX as i64);

/// `KmsKeyIdentifier`: at most 2048 characters of `[a-zA-Z0-9_\-/:]*`.
pub const KMS_KEY_IDENTIFIER: Member =
    Member::matching("KmsKeyIdentifier", 0, 2048, KMS_KEY, |s| {
        KMS_KEY_RE.is_match(s)
    });

/// The settings of an archive CreateArchive and UpdateArchive both take, after `members`.
pub fn with_archive_settings(members: &[Member]) -> Vec<Member> {
    let mut all = members.to_vec();
    all.extend([
        DESCRIPTION_512,
        EVENT_PATTERN,
        RETENTION_DAYS,
        KMS_KEY_IDENTIFIER,
    ]);
    all
}

/// `EventSourceName` (partner event sources, which weir has none of).
pub const EVENT_SOURCE_NAME_MEMBER: Member =
    Member::matching("EventSourceName", 1, 256, EVENT_SOURCE_NAME, |s| {
        EVENT_SOURCE_NAME_RE.is_match(s)
    });

/// `EndpointId` (global endpoints, which weir has none of).
pub const ENDPOINT_ID_MEMBER: Member = Member::matching("EndpointId", 1, 50, ENDPOINT_ID, |s| {
    ENDPOINT_ID_RE.is_match(s)
});

/// `NextToken`: 1–2048 characters.
pub const NEXT_TOKEN: Member = Member::text("NextToken", 1, 2048);

/// `LimitMax100`.
pub const LIMIT: Member = Member::integer("Limit", 1, 100);

/// `Tag`: a key of 1–128 characters and a value of 0–256, both required.
const TAG: &[Member] = &[
    Member::text("Key", 1, 128).required(),
    Member::text("Value", 0, 256).required(),
];

/// `TagList`.
pub const TAGS: Member = Member::structures("Tags", 0, usize::MAX, TAG);

/// `TagKeyList`: keys of 1–128 characters.
pub const TAG_KEYS: Member = Member::strings("TagKeys", 0, usize::MAX, (1, 128));

/// `Arn` of TagResource, UntagResource and ListTagsForResource: 1–1600 characters.
pub const RESOURCE_ARN: Member = Member::text("ResourceARN", 1, 1600);

/// `DeadLetterConfig`: the ARN of an SQS queue.
pub const DEAD_LETTER_CONFIG: Member =
    Member::structure("DeadLetterConfig", &[Member::text("Arn", 1, 1600)]);

/// `LogConfig` (kept, not acted on).
pub const LOG_CONFIG: Member = Member::structure(
    "LogConfig",
    &[
        Member::one_of("IncludeDetail", &["NONE", "FULL"]),
        Member::one_of("Level", &["OFF", "ERROR", "INFO", "TRACE"]),
    ],
);

/// `InputTransformer`: up to 100 paths by key, and the template.
const INPUT_TRANSFORMER: &[Member] = &[
    Member::text_map("InputPathsMap", (0, 100), (1, 256), (0, 256)),
    Member::text("InputTemplate", 1, 8192).required(),
];

/// `RetryPolicy`.
const RETRY_POLICY: &[Member] = &[
    Member::integer("MaximumRetryAttempts", 0, 185),
    Member::integer("MaximumEventAgeInSeconds", 60, 86400),
];

/// `Target`, with the members weir acts on checked in depth; the parameters of target kinds
/// weir does not run (ECS, Batch, Run Command, HTTP, Redshift, SageMaker, AppSync) are checked
/// for their type only, and a target of those kinds is refused by ARN.
const TARGET: &[Member] = &[
    Member::matching("Id", 1, 64, NAME, |s| NAME_RE.is_match(s)).required(),
    Member::text("Arn", 1, 1600).required(),
    ROLE_ARN,
    Member::text("Input", 0, 8192),
    Member::text("InputPath", 0, 256),
    Member::structure("InputTransformer", INPUT_TRANSFORMER),
    Member::structure(
        "KinesisParameters",
        &[Member::text("PartitionKeyPath", 0, 256).required()],
    ),
    Member::structure("SqsParameters", &[Member::text("MessageGroupId", 0, 100)]),
    DEAD_LETTER_CONFIG,
    Member::structure("RetryPolicy", RETRY_POLICY),
    Member::structure("RunCommandParameters", &[]),
    Member::structure("EcsParameters", &[]),
    Member::structure("BatchParameters", &[]),
    Member::structure("HttpParameters", &[]),
    Member::structure("RedshiftDataParameters", &[]),
    Member::structure("SageMakerPipelineParameters", &[]),
    Member::structure("AppSyncParameters", &[]),
];

/// `TargetList` of PutTargets: 1–100 targets.
pub const TARGETS: Member = Member::structures("Targets", 1, 100, TARGET);

/// `TargetIdList` of RemoveTargets: 1–100 ids.
pub const TARGET_IDS: Member = Member::strings("Ids", 1, 100, (1, 64));

/// `TargetId`, one of [`TARGET_IDS`], against the model's pattern.
pub fn is_target_id(id: &str) -> bool {
    NAME_RE.is_match(id)
}

/// `PutEventsRequestEntry`: the model's constraints (what an entry must hold to be an event is
/// the bus's check, entry by entry).
const ENTRY: &[Member] = &[
    Member::timestamp("Time"),
    Member::text("Source", 0, usize::MAX),
    Member::strings("Resources", 0, usize::MAX, (0, 2048)),
    Member::text("DetailType", 0, usize::MAX),
    Member::text("Detail", 0, usize::MAX),
    ENTRY_BUS,
    Member::text("TraceHeader", 1, 500),
];

/// `PutEventsRequestEntryList`: 1–10 entries.
pub const ENTRIES: Member = Member::structures("Entries", 1, 10, ENTRY);

/// `ReplayDestination`: the bus to replay to, and the rules to replay to on it.
pub const REPLAY_DESTINATION: Member = Member::structure(
    "Destination",
    &[
        Member::text("Arn", 1, 1600).required(),
        Member::strings("FilterArns", 0, usize::MAX, (1, 1600)),
    ],
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_models_patterns_match_whole_values() {
        assert!(NAME_RE.is_match("orders.v-1_2"));
        assert!(!NAME_RE.is_match("orders/x"));
        assert!(!NAME_RE.is_match("rule one"));
        assert!(BUS_NAME_RE.is_match("aws.partner/x/y"));
        assert!(BUS_NAME_OR_ARN_RE.is_match("orders"));
        assert!(
            BUS_NAME_OR_ARN_RE.is_match("arn:aws:events:us-east-1:123456789012:event-bus/orders")
        );
        assert!(!NON_PARTNER_RE.is_match("arn:aws:events:us-east-1:123456789012:event-bus/a/b"));
        assert!(!BUS_NAME_OR_ARN_RE.is_match("arn:aws:events:us-east-1:1234:event-bus/orders"));
        assert!(EVENTS_ARN_RE.is_match("arn:aws:events:us-east-1:123456789012:event-bus/orders"));
        assert!(EVENTS_ARN_RE.is_match("arn:aws:events:us-east-1:123456789012:archive/a"));
        assert!(!EVENTS_ARN_RE.is_match("arn:aws:events:us-east-1:123456789012:orders"));
        assert!(ENDPOINT_ID_RE.is_match("abcde.veo"));
        assert!(!ENDPOINT_ID_RE.is_match("abcde"));
        assert!(EVENT_SOURCE_NAME_RE.is_match("aws.partner/example.com/123/orders"));
        assert!(KMS_KEY_RE.is_match("alias/aws/events"));
        assert!(ANY_RE.is_match("one line"));
        assert!(!ANY_RE.is_match("two\nlines"));
    }
}
