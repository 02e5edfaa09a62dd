//! The shapes of Kinesis' API model (`kinesis-2013-12-02`, the model botocore and the SDKs are
//! generated from) that several operations share, as [`Member`]s: lengths, ranges and patterns
//! exactly as the model writes them, since AWS's messages quote them.

use std::sync::LazyLock;

use regex::Regex;

pub use crate::aws::fields::Member;

/// A model pattern, matched whole (the model's patterns are implicitly anchored). The patterns
/// are this file's constants, compiled by its tests: a failure here is a bug in this file, never
/// something a request can cause.
fn whole(pattern: &str) -> Regex {
    Regex::new(&format!("^(?:{pattern})$")).expect("the model's patterns compile")
}

const NAME: &str = "[a-zA-Z0-9_.-]+";
const STREAM_ARN: &str = r"arn:aws.*:kinesis:.*:\d{12}:stream/\S+";
const RESOURCE_ARN: &str = r"arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+";
const CONSUMER_ARN: &str =
    r"^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+";
const STREAM_ID: &str = "[a-z0-9]{20}-[a-z0-9]{3}";
const HASH_KEY: &str = r"0|([1-9]\d{0,38})";
const SEQUENCE: &str = r"0|([1-9]\d{0,128})";

static NAME_RE: LazyLock<Regex> = LazyLock::new(|| whole(NAME));
static STREAM_ARN_RE: LazyLock<Regex> = LazyLock::new(|| whole(STREAM_ARN));
static RESOURCE_ARN_RE: LazyLock<Regex> = LazyLock::new(|| whole(RESOURCE_ARN));
static CONSUMER_ARN_RE: LazyLock<Regex> = LazyLock::new(|| whole(CONSUMER_ARN));
static STREAM_ID_RE: LazyLock<Regex> = LazyLock::new(|| whole(STREAM_ID));
static HASH_KEY_RE: LazyLock<Regex> = LazyLock::new(|| whole(HASH_KEY));
static SEQUENCE_RE: LazyLock<Regex> = LazyLock::new(|| whole(SEQUENCE));

/// `StreamName`: 1–128 characters of `[a-zA-Z0-9_.-]+`.
pub const STREAM_NAME: Member =
    Member::matching("StreamName", 1, 128, NAME, |s| NAME_RE.is_match(s));

/// `StreamARN`: 1–2048 characters.
pub const STREAM_ARN_MEMBER: Member = Member::matching("StreamARN", 1, 2048, STREAM_ARN, |s| {
    STREAM_ARN_RE.is_match(s)
});

/// `ResourceARN` (a stream's or a consumer's): 1–2048 characters.
pub const RESOURCE_ARN_MEMBER: Member =
    Member::matching("ResourceARN", 1, 2048, RESOURCE_ARN, |s| {
        RESOURCE_ARN_RE.is_match(s)
    });

/// `ConsumerARN`: 1–2048 characters.
pub const CONSUMER_ARN_MEMBER: Member =
    Member::matching("ConsumerARN", 1, 2048, CONSUMER_ARN, |s| {
        CONSUMER_ARN_RE.is_match(s)
    });

/// `ConsumerName`: 1–128 characters of `[a-zA-Z0-9_.-]+`.
pub const CONSUMER_NAME: Member =
    Member::matching("ConsumerName", 1, 128, NAME, |s| NAME_RE.is_match(s));

/// `StreamId` ("Not Implemented. Reserved for future use."): checked, not used.
pub const STREAM_ID_MEMBER: Member =
    Member::matching("StreamId", 1, 24, STREAM_ID, |s| STREAM_ID_RE.is_match(s));

/// `ShardId`: 1–128 characters of `[a-zA-Z0-9_.-]+` (under the member's own name).
pub const fn shard_id(name: &'static str) -> Member {
    Member::matching(name, 1, 128, NAME, |s| NAME_RE.is_match(s))
}

/// `HashKey`: a decimal number of up to 39 digits.
pub const fn hash_key(name: &'static str) -> Member {
    Member::matching(name, 0, usize::MAX, HASH_KEY, |s| HASH_KEY_RE.is_match(s))
}

/// `SequenceNumber`: a decimal number of up to 129 digits.
pub const fn sequence_number(name: &'static str) -> Member {
    Member::matching(name, 0, usize::MAX, SEQUENCE, |s| SEQUENCE_RE.is_match(s))
}

/// `NextToken`: 1–1,048,576 characters.
pub const NEXT_TOKEN: Member = Member::text("NextToken", 1, 1_048_576);

/// `TagMap`: 1–200 tags, keys of 1–128 characters and values of 0–256.
pub const TAG_MAP: Member = Member::text_map("Tags", (1, 200), (1, 128), (0, 256));

/// `TagKeyList`: 1–50 keys of 1–128 characters.
pub const TAG_KEYS: Member = Member::strings("TagKeys", 1, 50, (1, 128));

/// `ShardIteratorType`.
pub const ITERATOR_TYPES: &[&str] = &[
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
];

/// The members every operation that takes a stream has: `StreamName`, `StreamARN`, `StreamId`.
pub const STREAM: [Member; 3] = [STREAM_NAME, STREAM_ARN_MEMBER, STREAM_ID_MEMBER];

/// `members` after the stream's members.
pub fn with_stream(members: &[Member]) -> Vec<Member> {
    let mut all = STREAM.to_vec();
    all.extend_from_slice(members);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_models_patterns_match_whole_values() {
        assert!(NAME_RE.is_match("orders_2024.v-1"));
        assert!(!NAME_RE.is_match("orders/x"));
        assert!(STREAM_ARN_RE.is_match("arn:aws:kinesis:us-east-1:123456789012:stream/orders"));
        assert!(!STREAM_ARN_RE.is_match("arn:aws:kinesis:us-east-1:1234:stream/orders"));
        assert!(CONSUMER_ARN_RE.is_match(
            "arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/app:1700000000"
        ));
        assert!(HASH_KEY_RE.is_match("340282366920938463463374607431768211455"));
        assert!(!HASH_KEY_RE.is_match("0340"));
        assert!(!HASH_KEY_RE.is_match(&"9".repeat(40)));
        assert!(SEQUENCE_RE.is_match("0"));
    }
}
