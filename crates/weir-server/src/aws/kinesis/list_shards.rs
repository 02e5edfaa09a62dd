//! ListShards: a stream's shards, `MaxResults` at a time, after `ExclusiveStartShardId` or where
//! a `NextToken` left off (a token names its stream, so it comes without `StreamName`), narrowed
//! by a `ShardFilter`.

use serde::Serialize;
use weir_stream::ShardDescription;

use super::members::{Member, NEXT_TOKEN, STREAM, shard_id};
use super::shapes::Shard;
use super::{Answer, AwsError, Call, invalid_argument, now_ms};

/// Shards listed when `MaxResults` is not given ("the default value is 1000").
const DEFAULT_MAX_RESULTS: usize = 1000;

/// `ShardFilterType`.
const FILTER_TYPES: &[&str] = &[
    "AFTER_SHARD_ID",
    "AT_TRIM_HORIZON",
    "FROM_TRIM_HORIZON",
    "AT_LATEST",
    "AT_TIMESTAMP",
    "FROM_TIMESTAMP",
];

const FILTER: &[Member] = &[
    Member::one_of("Type", FILTER_TYPES).required(),
    shard_id("ShardId"),
    Member::timestamp("Timestamp"),
];

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    shards: Vec<Shard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    let mut members = STREAM.to_vec();
    members.extend_from_slice(&[
        NEXT_TOKEN,
        shard_id("ExclusiveStartShardId"),
        Member::integer("MaxResults", 1, 10_000),
        Member::timestamp("StreamCreationTimestamp"),
        Member::structure("ShardFilter", FILTER),
    ]);
    request.validate_typed(&members)?;
    let named = request.member("StreamName").is_some() || request.member("StreamARN").is_some();
    let (stream, mut after) = match request.optional("NextToken")? {
        Some(_) if named => {
            return Err(invalid_argument(
                "NextToken and StreamName cannot be provided together.",
            ));
        }
        Some(token) => read_token(token)?,
        None if !named => {
            return Err(invalid_argument(
                "Either NextToken or StreamName should be provided.",
            ));
        }
        None => (call.stream()?, None),
    };
    if after.is_none() {
        after = request
            .optional("ExclusiveStartShardId")?
            .map(str::to_string);
    }
    let max = request
        .integer("MaxResults")?
        .map_or(DEFAULT_MAX_RESULTS, |n| n as usize);
    let description = call.streams.describe(&stream)?;
    let shards = filtered(
        &description.shards,
        request.nested("ShardFilter"),
        after.as_deref(),
    )?;
    let more = shards.len() > max;
    let page: Vec<Shard> = shards.into_iter().take(max).map(Shard::from).collect();
    let next_token = more
        .then(|| page.last().map(|last| make_token(&stream, &last.shard_id)))
        .flatten();
    call.ok(&Output {
        shards: page,
        next_token,
    })
}

/// The shards a filter keeps, after `after` (shard ids are zero-padded: their text sorts as
/// their numbers do).
fn filtered<'a>(
    shards: &'a [ShardDescription],
    filter: Option<super::Request<'_>>,
    after: Option<&str>,
) -> Result<Vec<&'a ShardDescription>, AwsError> {
    let after_id = |shard: &ShardDescription, after: Option<&str>| {
        after.is_none_or(|after| shard.id.to_string().as_str() > after)
    };
    let mut kept: Vec<&ShardDescription> = shards.iter().filter(|s| after_id(s, after)).collect();
    let Some(filter) = filter else {
        return Ok(kept);
    };
    let present =
        |id: Option<weir_stream::ShardId>| id.is_some_and(|id| shards.iter().any(|s| s.id == id));
    match filter.optional("Type")?.unwrap_or_default() {
        "AFTER_SHARD_ID" => {
            let Some(id) = filter.optional("ShardId")? else {
                return Err(invalid_argument(
                    "ShardId must be provided with ShardFilter type AFTER_SHARD_ID.",
                ));
            };
            kept.retain(|s| s.id.to_string().as_str() > id);
        }
        // The shards a reader starting at the oldest data starts with: those whose parents have
        // expired.
        "AT_TRIM_HORIZON" => {
            kept.retain(|s| !present(s.parent) && !present(s.adjacent_parent));
        }
        "AT_LATEST" => kept.retain(|s| s.is_open()),
        "AT_TIMESTAMP" | "FROM_TIMESTAMP" => {
            let Some(at) = filter.timestamp_ms("Timestamp")? else {
                return Err(invalid_argument(
                    "Timestamp must be provided with ShardFilter types AT_TIMESTAMP and FROM_TIMESTAMP.",
                ));
            };
            // weir keeps no shard's opening and closing times, only its lineage: a time from
            // now on is the open shards; an earlier one is every shard not yet expired (which
            // holds the ones open then, and readers follow lineage from there).
            if at >= now_ms() {
                kept.retain(|s| s.is_open());
            }
        }
        // FROM_TRIM_HORIZON: every shard not yet expired.
        _ => {}
    }
    Ok(kept)
}

const TOKEN_PREFIX: &str = "weir-shards:";

fn make_token(stream: &str, last_shard: &str) -> String {
    format!("{TOKEN_PREFIX}{last_shard}:{stream}")
}

/// The stream a NextToken pages through, for the grants (None when it is not one of weir's).
pub(super) fn stream_of_token(token: &str) -> Option<String> {
    read_token(token).ok().map(|(stream, _)| stream)
}

fn read_token(token: &str) -> Result<(String, Option<String>), AwsError> {
    token
        .strip_prefix(TOKEN_PREFIX)
        .and_then(|rest| rest.split_once(':'))
        .map(|(shard, stream)| (stream.to_string(), Some(shard.to_string())))
        .ok_or_else(|| invalid_argument(format!("Invalid NextToken: {token}")))
}
