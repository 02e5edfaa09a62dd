//! `GET /ui/live?topics=…`: server-sent events telling a page that what it shows has changed, so
//! it re-renders its live regions (`weir.js`). An event says what changed, never more than the
//! caller may see; the page fetches the rest through its own route, with its grants.
//!
//! Topics: `pipelines` (any run or task), `pipeline:NAME`, `run:ID`, `machines` (any execution),
//! `machine:NAME`, `execution:ARN`, `streams` (any stream created, deleted or resharded),
//! `stream:NAME`.
//!
//! Bounded: at most [`MAX_LISTENERS`] at once (then 503, and the browser retries); each stream
//! ends after [`LIFETIME`] (the browser reconnects) and when the server stops, so a graceful
//! shutdown never waits on an open page.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use weir_engine::StatusChange;

use super::Ctx;
use crate::auth::Identity;

/// Open live streams the server holds at most.
pub(crate) const MAX_LISTENERS: usize = 256;
/// How long one stream stays open before the browser is asked to reconnect.
pub(crate) const LIFETIME: Duration = Duration::from_secs(600);
/// Topics one page may listen to.
const MAX_TOPICS: usize = 32;

static LISTENERS: AtomicUsize = AtomicUsize::new(0);

/// Holds one of the [`MAX_LISTENERS`] places while its stream is open.
pub(crate) struct Place;

impl Place {
    pub(crate) fn take() -> Option<Place> {
        LISTENERS
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < MAX_LISTENERS).then_some(open + 1)
            })
            .ok()
            .map(|_| Place)
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        LISTENERS.fetch_sub(1, Ordering::AcqRel);
    }
}

#[derive(Deserialize)]
pub(crate) struct LiveQuery {
    #[serde(default)]
    topics: String,
}

/// What a page listens to.
#[derive(Debug, Default)]
struct Topics(HashSet<String>);

impl Topics {
    fn parse(text: &str) -> Topics {
        Topics(
            text.split([' ', ','])
                .filter(|t| !t.is_empty())
                .take(MAX_TOPICS)
                .map(str::to_string)
                .collect(),
        )
    }

    fn has(&self, kind: &str, name: &str) -> bool {
        self.0.contains(&format!("{kind}:{name}"))
    }

    fn wants_pipelines(&self) -> bool {
        self.0
            .iter()
            .any(|t| t == "pipelines" || t.starts_with("pipeline:") || t.starts_with("run:"))
    }

    fn wants_machines(&self) -> bool {
        self.0
            .iter()
            .any(|t| t == "machines" || t.starts_with("machine:") || t.starts_with("execution:"))
    }

    fn wants_streams(&self) -> bool {
        self.0
            .iter()
            .any(|t| t == "streams" || t.starts_with("stream:"))
    }
}

/// A change as the page hears of it, when the page listens to it and the caller may see it.
fn run_event(topics: &Topics, identity: &Identity, change: &StatusChange) -> Option<Event> {
    let (pipeline, run_id, task, state) = match change {
        StatusChange::Run(run) => (&run.pipeline, &run.id, None, &run.state),
        StatusChange::Task { pipeline, task } => {
            (pipeline, &task.run_id, Some(&task.task_id), &task.state)
        }
    };
    let listens = topics.0.contains("pipelines")
        || topics.has("pipeline", pipeline)
        || topics.has("run", run_id);
    (listens && identity.grants().pipeline(pipeline)).then(|| {
        change_event(json!({
            "kind": if task.is_some() { "task" } else { "run" },
            "pipeline": pipeline, "run": run_id, "task": task, "state": state,
        }))
    })
}

fn execution_event(
    topics: &Topics,
    identity: &Identity,
    execution: &weir_store::ExecutionRecord,
) -> Option<Event> {
    let machine = execution
        .machine_arn
        .rsplit_once(':')
        .map_or(execution.machine_arn.as_str(), |(_, name)| name);
    let listens = topics.0.contains("machines")
        || topics.has("machine", machine)
        || topics.has("execution", &execution.arn);
    (listens && identity.grants().pipeline(machine)).then(|| {
        change_event(json!({
            "kind": "execution", "machine": machine, "execution": execution.arn,
            "status": execution.status,
        }))
    })
}

fn stream_event(
    topics: &Topics,
    identity: &Identity,
    change: &weir_stream::StreamChange,
) -> Option<Event> {
    let listens = topics.0.contains("streams") || topics.has("stream", &change.stream);
    (listens && identity.may_see_stream(&change.stream)).then(|| {
        change_event(json!({
            "kind": "stream", "stream": change.stream, "change": change.change,
        }))
    })
}

fn change_event(data: serde_json::Value) -> Event {
    Event::default().event("change").data(data.to_string())
}

/// What one open stream waits on.
struct Listener {
    topics: Topics,
    identity: Identity,
    runs: Option<broadcast::Receiver<StatusChange>>,
    executions: Option<broadcast::Receiver<weir_store::ExecutionRecord>>,
    streams: Option<broadcast::Receiver<weir_stream::StreamChange>>,
    stopping: tokio::sync::watch::Receiver<bool>,
    until: tokio::time::Instant,
    _place: Place,
}

/// Waits on a receiver that may be absent (the subsystem is not in this server, or the page
/// does not listen to it): forever, then.
async fn next<T: Clone>(receiver: &mut Option<broadcast::Receiver<T>>) -> Result<T, RecvError> {
    match receiver {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

impl Listener {
    /// The next event for the page, or None when the stream should end.
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            let heard = tokio::select! {
                _ = tokio::time::sleep_until(self.until) => return None,
                _ = self.stopping.wait_for(|stopping| *stopping) => return None,
                change = next(&mut self.runs) => Heard::Run(change),
                change = next(&mut self.executions) => Heard::Execution(change),
                change = next(&mut self.streams) => Heard::Stream(change),
            };
            let event = match heard {
                Heard::Run(Ok(change)) => run_event(&self.topics, &self.identity, &change),
                Heard::Execution(Ok(execution)) => {
                    execution_event(&self.topics, &self.identity, &execution)
                }
                Heard::Stream(Ok(change)) => stream_event(&self.topics, &self.identity, &change),
                Heard::Run(Err(error)) => self.missed(error, Which::Runs),
                Heard::Execution(Err(error)) => self.missed(error, Which::Executions),
                Heard::Stream(Err(error)) => self.missed(error, Which::Streams),
            };
            if event.is_some() {
                return event;
            }
        }
    }

    /// A listener that fell behind tells the page to re-render (it missed something); one whose
    /// source closed stops listening to it.
    fn missed(&mut self, error: RecvError, which: Which) -> Option<Event> {
        match error {
            RecvError::Lagged(_) => Some(Event::default().event("resync").data("{}")),
            RecvError::Closed => {
                match which {
                    Which::Runs => self.runs = None,
                    Which::Executions => self.executions = None,
                    Which::Streams => self.streams = None,
                }
                None
            }
        }
    }
}

/// What one wait heard.
enum Heard {
    Run(Result<StatusChange, RecvError>),
    Execution(Result<weir_store::ExecutionRecord, RecvError>),
    Stream(Result<weir_stream::StreamChange, RecvError>),
}

enum Which {
    Runs,
    Executions,
    Streams,
}

pub(crate) async fn events(ctx: Ctx, Query(query): Query<LiveQuery>) -> Response {
    let Some(place) = Place::take() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "10")],
            "too many live pages are open; this one will try again",
        )
            .into_response();
    };
    let topics = Topics::parse(&query.topics);
    let state = Arc::clone(&ctx.state);
    let listener = Listener {
        runs: topics
            .wants_pipelines()
            .then(|| state.engine.subscribe_status()),
        executions: state
            .machines
            .as_ref()
            .filter(|_| topics.wants_machines())
            .map(|machines| machines.subscribe_status()),
        streams: state
            .streams
            .as_ref()
            .filter(|_| topics.wants_streams())
            .map(|streams| streams.subscribe_changes()),
        stopping: state.stopping.subscribe(),
        until: tokio::time::Instant::now() + LIFETIME,
        topics,
        identity: ctx.identity,
        _place: place,
    };
    let stream = futures::stream::unfold(listener, |mut listener| async move {
        let event = listener.next_event().await?;
        Some((Ok::<_, Infallible>(event), listener))
    });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    // A reverse proxy must pass events on as they come.
    response.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_bounded_and_split_on_spaces_and_commas() {
        let topics = Topics::parse("pipeline:a run:1,machines  ");
        assert!(topics.has("pipeline", "a"));
        assert!(topics.has("run", "1"));
        assert!(topics.wants_pipelines() && topics.wants_machines());
        assert!(!topics.wants_streams());
        let many = (0..100).map(|i| format!("run:{i}")).collect::<Vec<_>>();
        assert_eq!(Topics::parse(&many.join(" ")).0.len(), MAX_TOPICS);
    }

    #[test]
    fn places_are_given_back() {
        let before = LISTENERS.load(Ordering::Acquire);
        let place = Place::take();
        assert!(place.is_some());
        drop(place);
        assert_eq!(LISTENERS.load(Ordering::Acquire), before);
    }
}
