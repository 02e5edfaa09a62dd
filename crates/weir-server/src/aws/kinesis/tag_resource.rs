//! TagResource: adds or overwrites the tags of a stream named by its ARN.

use super::create_stream::tags;
use super::members::{RESOURCE_ARN_MEMBER, STREAM_ID_MEMBER, TAG_MAP};
use super::{Answer, AwsError, Call, invalid_argument};

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&[
        TAG_MAP.required(),
        RESOURCE_ARN_MEMBER.required(),
        STREAM_ID_MEMBER,
    ])?;
    let stream = resource_stream(call)?;
    call.streams
        .add_tags(&stream, tags(call.request.member("Tags")))
        .await?;
    call.empty()
}

/// The stream `ResourceARN` names. weir keeps tags on streams only: a consumer's ARN is refused.
pub fn resource_stream(call: &Call<'_>) -> Result<String, AwsError> {
    let arn = call.request.required("ResourceARN")?;
    if arn.contains("/consumer/") {
        return Err(invalid_argument(format!(
            "Tags on consumers are not supported by this server: {arn}"
        )));
    }
    call.stream_of_arn(arn)
}
