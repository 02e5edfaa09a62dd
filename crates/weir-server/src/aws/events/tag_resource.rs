//! TagResource: adds tags to a bus or a rule named by its ARN (a key already there takes the new
//! value).

use super::members::{RESOURCE_ARN, TAGS};
use super::{Answer, Call, empty, tag_pairs};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[RESOURCE_ARN.required(), TAGS.required()])?;
    call.events
        .tag(
            request.required("ResourceARN")?,
            tag_pairs(request.member("Tags")),
        )
        .await?;
    empty()
}
