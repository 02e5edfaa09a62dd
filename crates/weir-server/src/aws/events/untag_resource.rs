//! UntagResource: removes tags from a bus or a rule by key (keys it does not have are ignored).

use super::members::{RESOURCE_ARN, TAG_KEYS};
use super::{Answer, Call, empty, strings};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[RESOURCE_ARN.required(), TAG_KEYS.required()])?;
    call.events
        .untag(
            request.required("ResourceARN")?,
            &strings(request.member("TagKeys")),
        )
        .await?;
    empty()
}
