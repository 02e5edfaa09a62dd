//! ListArchives: archives by name, of one bus, in one state or starting with `NamePrefix` (at
//! most one of the three), `Limit` at a time; only those of buses the caller's grants cover.

use super::members::{ARCHIVE_STATES, LIMIT, NEXT_TOKEN, archive_name, events_arn};
use super::{Answer, Call, Filter, Member, bus_of, listed, page, shapes};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[
        archive_name("NamePrefix"),
        events_arn("EventSourceArn"),
        Member::one_of("State", ARCHIVE_STATES),
        NEXT_TOKEN,
        LIMIT,
    ])?;
    let filter = Filter::of(request, "ListArchives")?;
    let archives: Vec<_> = call
        .events
        .list_archives(filter.prefix, filter.source, filter.state)
        .into_iter()
        .filter(|a| (call.granted)(&bus_of(Some(&a.source_arn))))
        .collect();
    let (archives, next) = page(request, archives, |a| a.name.as_str())?;
    listed(
        "Archives",
        archives.iter().map(shapes::archive).collect(),
        next,
    )
}
