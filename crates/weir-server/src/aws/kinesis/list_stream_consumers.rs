//! ListStreamConsumers: a stream's consumers by name, `MaxResults` at a time.

use serde::Serialize;

use super::members::{Member, NEXT_TOKEN, STREAM_ARN_MEMBER, STREAM_ID_MEMBER};
use super::shapes::Consumer;
use super::{Answer, Call, invalid_argument};

/// Consumers listed when `MaxResults` is not given.
const DEFAULT_MAX_RESULTS: usize = 100;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    consumers: Vec<Consumer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&[
        STREAM_ARN_MEMBER.required(),
        NEXT_TOKEN,
        Member::integer("MaxResults", 1, 10_000),
        Member::timestamp("StreamCreationTimestamp"),
        STREAM_ID_MEMBER,
    ])?;
    let stream = call.stream_of_arn(call.request.required("StreamARN")?)?;
    let max = call
        .request
        .integer("MaxResults")?
        .map_or(DEFAULT_MAX_RESULTS, |n| n as usize);
    // The token is the last name of the page before.
    let after = match call.request.optional("NextToken")? {
        Some(token) => Some(
            token
                .strip_prefix(TOKEN_PREFIX)
                .ok_or_else(|| invalid_argument(format!("Invalid NextToken: {token}")))?,
        ),
        None => None,
    };
    let mut consumers: Vec<_> = call
        .streams
        .list_consumers(&stream)
        .await?
        .into_iter()
        .filter(|c| after.is_none_or(|after| c.name.as_str() > after))
        .collect();
    let more = consumers.len() > max;
    consumers.truncate(max);
    let next_token = more
        .then(|| {
            consumers
                .last()
                .map(|c| format!("{TOKEN_PREFIX}{}", c.name))
        })
        .flatten();
    call.ok(&Output {
        consumers: consumers.iter().map(|c| Consumer::of(c, false)).collect(),
        next_token,
    })
}

const TOKEN_PREFIX: &str = "weir-consumers-after:";
