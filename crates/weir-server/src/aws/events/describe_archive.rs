//! DescribeArchive: an archive, with how many events it keeps and their size; only one of a bus
//! the caller's grants cover.

use super::members::archive_name;
use super::{Answer, Call, bus_of, not_found, shapes};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[archive_name("ArchiveName").required()])?;
    let name = request.required("ArchiveName")?;
    let info = call.events.describe_archive(name)?;
    // An archive of a bus outside the grants is answered as one that is not there, as listings
    // leave it out.
    if !(call.granted)(&bus_of(Some(&info.source_arn))) {
        return Err(not_found(format!("Archive {name} does not exist.")));
    }
    Ok(shapes::archive_description(&info))
}
