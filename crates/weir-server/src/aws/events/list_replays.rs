//! ListReplays: replays by name, of one archive, in one state or starting with `NamePrefix` (at
//! most one of the three), `Limit` at a time; only those onto buses the caller's grants cover.

use super::members::{LIMIT, NEXT_TOKEN, REPLAY_STATES, events_arn, replay_name};
use super::{Answer, Call, Filter, Member, bus_of, listed, page, shapes};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[
        replay_name("NamePrefix"),
        Member::one_of("State", REPLAY_STATES),
        events_arn("EventSourceArn"),
        NEXT_TOKEN,
        LIMIT,
    ])?;
    let filter = Filter::of(request, "ListReplays")?;
    let replays: Vec<_> = call
        .events
        .list_replays(filter.prefix, filter.state, filter.source)
        .into_iter()
        .filter(|r| (call.granted)(&bus_of(Some(&r.destination_arn))))
        .collect();
    let (replays, next) = page(request, replays, |r| r.name.as_str())?;
    listed(
        "Replays",
        replays.iter().map(shapes::replay).collect(),
        next,
    )
}
