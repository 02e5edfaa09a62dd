//! ListEventBuses: the buses by name, optionally those starting with `NamePrefix`, `Limit` at a
//! time; only those the caller's grants cover.

use super::members::{LIMIT, NEXT_TOKEN, bus_name};
use super::{Answer, Call, listed, page, shapes};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[bus_name("NamePrefix"), NEXT_TOKEN, LIMIT])?;
    let buses: Vec<_> = call
        .events
        .list_buses(request.optional("NamePrefix")?)
        .into_iter()
        .filter(|bus| (call.granted)(&bus.name))
        .collect();
    let (buses, next) = page(request, buses, |bus| bus.name.as_str())?;
    listed("EventBuses", buses.iter().map(shapes::bus).collect(), next)
}
