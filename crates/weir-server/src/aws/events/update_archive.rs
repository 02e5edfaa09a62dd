//! UpdateArchive: changes an archive's description, pattern or retention (what it is not given
//! stays as it was).

use super::create_archive::state_of;
use super::members::{archive_name, with_archive_settings};
use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&with_archive_settings(&[
        archive_name("ArchiveName").required()
    ]))?;
    let info = call
        .events
        .update_archive(
            request.required("ArchiveName")?,
            request.optional("Description")?.map(str::to_string),
            request.optional("EventPattern")?.map(str::to_string),
            request.integer("RetentionDays")?.map(|days| days as u32),
        )
        .await?;
    Ok(state_of(&info))
}
