//! ListStreams: stream names and summaries by name, `Limit` at a time, after
//! `ExclusiveStartStreamName` or where a `NextToken` left off; only the streams the caller's
//! grants cover.

use serde::Serialize;

use super::members::{Member, NEXT_TOKEN, STREAM_NAME};
use super::shapes::StreamModeDetails;
use super::wire::Timestamp;
use super::{Answer, AwsError, Call};

/// Streams listed when `Limit` is not given ("The default value is 100").
const DEFAULT_LIMIT: usize = 100;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    stream_names: Vec<String>,
    has_more_streams: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    stream_summaries: Vec<Summary>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Summary {
    stream_name: String,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
    stream_status: String,
    stream_mode_details: StreamModeDetails,
    stream_creation_timestamp: Timestamp,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[
        Member::integer("Limit", 1, 10_000),
        STREAM_NAME.named("ExclusiveStartStreamName"),
        NEXT_TOKEN,
    ])?;
    let limit = request
        .integer("Limit")?
        .map_or(DEFAULT_LIMIT, |n| n as usize);
    // The token is the last name of the page before, so a page goes on after it.
    let after = match request.optional("NextToken")? {
        Some(token) => Some(read_token(token)?),
        None => request
            .optional("ExclusiveStartStreamName")?
            .map(str::to_string),
    };
    let mut streams: Vec<_> = call
        .streams
        .list()
        .into_iter()
        .filter(|stream| (call.granted)(&stream.name))
        .filter(|stream| {
            after
                .as_deref()
                .is_none_or(|after| stream.name.as_str() > after)
        })
        .collect();
    let has_more_streams = streams.len() > limit;
    streams.truncate(limit);
    let next_token = has_more_streams
        .then(|| streams.last().map(|last| make_token(&last.name)))
        .flatten();
    call.ok(&Output {
        stream_names: streams.iter().map(|s| s.name.clone()).collect(),
        has_more_streams,
        next_token,
        stream_summaries: streams
            .iter()
            .map(|s| Summary {
                stream_name: s.name.clone(),
                stream_arn: s.arn.clone(),
                stream_status: s.status.clone(),
                stream_mode_details: StreamModeDetails {
                    stream_mode: s.mode.as_str(),
                },
                stream_creation_timestamp: Timestamp(s.created_ms),
            })
            .collect(),
    })
}

const TOKEN_PREFIX: &str = "weir-streams-after:";

fn make_token(name: &str) -> String {
    format!("{TOKEN_PREFIX}{name}")
}

fn read_token(token: &str) -> Result<String, AwsError> {
    token
        .strip_prefix(TOKEN_PREFIX)
        .map(str::to_string)
        .ok_or_else(|| super::invalid_argument(format!("Invalid NextToken: {token}")))
}
