//! `GET /ui/live/log?run=…&task=…&map_index=…&try=…&offset=…`: a running attempt's log as it
//! grows, as server-sent events: `append` with the new text (a JSON string, at most
//! [`MAX_CHUNK`] bytes of the log per event), then `end` once the attempt has ended and all of
//! its log has been sent. The file's size is looked at every [`POLL`]; the attempt's record
//! every [`CHECK_ENDED`].
//!
//! Grants as the runs API's logs route: a run of a pipeline the caller may not see is not found.
//! Bounded like `/ui/live`: a place among its listeners, its lifetime, and the server's stop.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::live::{LIFETIME, Place};
use super::run::granted_run;
use super::{Ctx, PageError, PageResult};
use crate::AppState;

/// How often the log's size is looked at.
const POLL: Duration = Duration::from_millis(200);
/// How often the attempt's record is read to see whether it has ended.
const CHECK_ENDED: Duration = Duration::from_secs(1);
/// Most bytes of the log one event carries.
const MAX_CHUNK: u64 = 64 * 1024;

#[derive(Debug, Deserialize)]
pub(crate) struct TailQuery {
    run: String,
    task: String,
    #[serde(default = "unmapped")]
    map_index: i32,
    #[serde(rename = "try")]
    try_number: i32,
    #[serde(default)]
    offset: u64,
}

fn unmapped() -> i32 {
    -1
}

/// One open tail.
struct Tail {
    state: Arc<AppState>,
    query: TailQuery,
    path: PathBuf,
    offset: u64,
    ended: bool,
    last_check: tokio::time::Instant,
    stopping: tokio::sync::watch::Receiver<bool>,
    until: tokio::time::Instant,
    done: bool,
    _place: Place,
}

impl Tail {
    /// Whether the attempt has ended (an attempt gone from the store has, for the tail).
    async fn attempt_ended(&self) -> bool {
        let attempts = self
            .state
            .engine
            .store()
            .attempts(&self.query.run, Some(&self.query.task))
            .await;
        match attempts {
            Ok(attempts) => attempts
                .iter()
                .find(|a| {
                    a.map_index == self.query.map_index && a.try_number == self.query.try_number
                })
                .is_none_or(|a| a.ended_at.is_some()),
            // Asked again at the next check.
            Err(_) => false,
        }
    }

    /// The next bytes of the log from `offset`, whole characters only while it is still being
    /// written.
    async fn read(&mut self) -> Option<String> {
        let range = crate::api::runs::read_range(&self.path, self.offset, MAX_CHUNK)
            .await
            .ok()?;
        let mut bytes = range.bytes;
        if !self.ended
            && let Err(error) = std::str::from_utf8(&bytes)
            && error.error_len().is_none()
        {
            bytes.truncate(error.valid_up_to());
        }
        if bytes.is_empty() {
            return None;
        }
        self.offset = range.offset + bytes.len() as u64;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn next_event(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        loop {
            if let Some(text) = self.read().await {
                let data = serde_json::to_string(&text).unwrap_or_else(|_| "\"\"".into());
                // The offset reached is the event's id: a browser that reconnects (the stream's
                // lifetime ended) sends it back as `Last-Event-ID` and goes on from there.
                return Some(
                    Event::default()
                        .event("append")
                        .id(self.offset.to_string())
                        .data(data),
                );
            }
            if self.ended {
                self.done = true;
                return Some(Event::default().event("end").data("{}"));
            }
            if self.last_check.elapsed() >= CHECK_ENDED {
                self.last_check = tokio::time::Instant::now();
                // Once ended, what is left of the log is read before `end`.
                self.ended = self.attempt_ended().await;
                if self.ended {
                    continue;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = tokio::time::sleep_until(self.until) => return None,
                _ = self.stopping.wait_for(|stopping| *stopping) => return None,
            }
        }
    }
}

pub(crate) async fn events(
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    query: Result<Query<TailQuery>, QueryRejection>,
) -> PageResult {
    let Query(query) = query?;
    let run = granted_run(&ctx, &query.run).await?;
    let attempt = ctx
        .state
        .engine
        .store()
        .attempts(&run.id, Some(&query.task))
        .await?
        .into_iter()
        .find(|a| a.map_index == query.map_index && a.try_number == query.try_number)
        .ok_or_else(|| {
            PageError::not_found(format!(
                "run {} has no try {} of `{}`",
                run.id, query.try_number, query.task
            ))
        })?;
    let Some(place) = Place::take() else {
        return Ok((
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "10")],
            "too many live pages are open; this one will try again",
        )
            .into_response());
    };
    let state = Arc::clone(&ctx.state);
    let tail = Tail {
        path: state.engine.data_dir().join(&attempt.log_path),
        offset: headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(query.offset),
        ended: attempt.ended_at.is_some(),
        last_check: tokio::time::Instant::now(),
        stopping: state.stopping.subscribe(),
        until: tokio::time::Instant::now() + LIFETIME,
        done: false,
        query,
        state,
        _place: place,
    };
    let stream = futures::stream::unfold(tail, |mut tail| async move {
        let event = tail.next_event().await?;
        Some((Ok::<_, Infallible>(event), tail))
    });
    let mut response: Response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    response.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    Ok(response)
}
