//! DeleteArchive: deletes an archive and the events it kept.

use super::members::archive_name;
use super::{Answer, Call, empty};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[archive_name("ArchiveName").required()])?;
    call.events
        .delete_archive(request.required("ArchiveName")?)
        .await?;
    empty()
}
