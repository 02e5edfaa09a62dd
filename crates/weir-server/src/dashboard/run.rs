//! `GET /ui/runs/{id}`: a run's facts, its task instances, and a Gantt chart of the time each
//! spent waiting for its upstream tasks, queued for a slot and running (retries as segments of
//! their own), read from the run's audit trail. Actions: retry from failure, cancel, mark the run
//! or a task success or failed.

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::Path;
use serde_json::Value;
use weir_store::{EventRecord, RunRecord, TaskRecord};

use super::html::{self, Action, action_button, attr, esc, state_badge, url};
use super::{Ctx, Page, PageError, PageResult, Section};

/// Task instances (rows of the table and of the Gantt chart) shown at most.
const MAX_ROWS: usize = 500;

/// The run, when the caller may see its pipeline; 404 otherwise, as for a run that does not
/// exist (a narrowed credential learns nothing of other pipelines' runs).
pub(super) async fn granted_run(ctx: &Ctx, run_id: &str) -> Result<RunRecord, PageError> {
    let run = ctx.state.engine.store().run(run_id).await?;
    match run {
        Some(run) if ctx.identity.grants().pipeline(&run.pipeline) => Ok(run),
        _ => Err(PageError::not_found(format!("no run {run_id}"))),
    }
}

/// A moment that may not have come yet, as `<time>` or a dash.
pub(super) fn optional_time(at: Option<i64>) -> String {
    at.map(html::time).unwrap_or_else(|| "—".into())
}

pub(crate) async fn page(ctx: Ctx, Path(run_id): Path<String>) -> PageResult {
    let run = granted_run(&ctx, &run_id).await?;
    let tasks = ctx.state.engine.task_instances(&run).await?;
    let events = ctx.state.engine.store().run_events(&run.id).await?;
    let pipeline = super::pipeline::granted_pipeline(&ctx, &run.pipeline).await?;
    let upstream: HashMap<String, Vec<String>> = pipeline
        .map(|p| p.tasks.into_iter().map(|t| (t.id, t.depends_on)).collect())
        .unwrap_or_default();

    let mut body = String::from("<div id=\"run\" data-live-region>");
    facts(&ctx, &mut body, &run);
    body.push_str("</div><div id=\"tasks\" data-live-region>");
    task_table(&ctx, &mut body, &run, &tasks);
    body.push_str("</div><div id=\"gantt\" data-live-region>");
    let now = weir_engine::time::now_us();
    gantt(&mut body, &run, &events, &upstream, now);
    body.push_str("</div>");

    let pipeline_href = format!("/ui/pipelines/{}", url(&run.pipeline));
    Ok(Page::new(format!("Run {}", run.id), Section::Home)
        .crumb("Pipelines", Some("/"))
        .crumb(&run.pipeline, Some(&pipeline_href))
        .live(format!("run:{}", run.id))
        .body(body)
        .render(&ctx))
}

fn facts(ctx: &Ctx, body: &mut String, run: &RunRecord) {
    let id = url(&run.id);
    let retry_url = format!("/api/v1/runs/{id}/retry");
    let cancel_url = format!("/api/v1/runs/{id}/cancel");
    let mark_url = format!("/api/v1/runs/{id}/mark");
    let retry_question = format!("Retry run {} from its failed tasks?", run.id);
    let cancel_question = format!("Cancel run {}? Its running tasks are stopped.", run.id);
    let success_question = format!(
        "Mark run {} success? Its unfinished and failed tasks are marked success.",
        run.id
    );
    let failed_question = format!(
        "Mark run {} failed? Its unfinished tasks are marked failed.",
        run.id
    );
    let mut actions = String::new();
    if weir_engine::is_active_run(&run.state) {
        actions.push_str(&action_button(
            ctx,
            &Action {
                label: "Cancel",
                method: "POST",
                url: &cancel_url,
                confirm: Some(&cancel_question),
                class: "danger",
                ..Action::default()
            },
        ));
    } else if run.state != "success" {
        actions.push_str(&action_button(
            ctx,
            &Action {
                label: "Retry from failure",
                method: "POST",
                url: &retry_url,
                confirm: Some(&retry_question),
                class: "primary",
                ..Action::default()
            },
        ));
    }
    if run.state != "success" {
        actions.push_str(&action_button(
            ctx,
            &Action {
                label: "Mark success",
                method: "POST",
                url: &mark_url,
                body: Some(r#"{"state":"success"}"#),
                confirm: Some(&success_question),
                ..Action::default()
            },
        ));
    }
    if run.state != "failed" {
        actions.push_str(&action_button(
            ctx,
            &Action {
                label: "Mark failed",
                method: "POST",
                url: &mark_url,
                body: Some(r#"{"state":"failed"}"#),
                confirm: Some(&failed_question),
                class: "danger",
                ..Action::default()
            },
        ));
    }
    let duration = run
        .started_at
        .map(|s| html::duration_us(run.ended_at.unwrap_or_else(weir_engine::time::now_us) - s))
        .unwrap_or_else(|| "—".into());
    let params = match &run.params {
        Value::Object(map) if map.is_empty() => "—".to_string(),
        params => html::json_block(params),
    };
    let event = run
        .event
        .as_ref()
        .map(|e| {
            format!(
                "<details><summary>The event that started it</summary>{}</details>",
                html::json_block(e)
            )
        })
        .unwrap_or_default();
    let _ = write!(
        body,
        "<div class=\"cards\"><section class=\"card\" aria-labelledby=\"about\"><h2 id=\"about\">About</h2>\
         <dl class=\"facts\"><dt>State</dt><dd>{state}</dd><dt>Type</dt><dd>{run_type}</dd>\
         <dt>Logical date</dt><dd>{logical}</dd><dt>Interval</dt><dd>{from} – {to}</dd>\
         <dt>Created</dt><dd>{created}</dd><dt>Started</dt><dd>{started}</dd><dt>Ended</dt><dd>{ended}</dd>\
         <dt>Duration</dt><dd>{duration}</dd><dt>Version</dt><dd><code>{version}</code></dd></dl>\
         <p><a href=\"/ui/pipelines/{pipeline}/graph?run={id}\">Graph of this run</a> · \
         <a href=\"/api/v1/runs/{id}\">JSON</a> · <a href=\"/api/v1/runs/{id}/events\">Audit trail</a></p>\
         <div class=\"row\">{actions}</div></section>\
         <section class=\"card\" aria-labelledby=\"params\"><h2 id=\"params\">Params</h2>{params}{event}</section></div>",
        state = state_badge(&run.state),
        run_type = esc(&run.run_type),
        logical = html::time(run.logical_date),
        from = html::time(run.interval_start),
        to = html::time(run.interval_end),
        created = html::time(run.created_at),
        started = optional_time(run.started_at),
        ended = optional_time(run.ended_at),
        version = esc(run.version.get(..12).unwrap_or(&run.version)),
        pipeline = attr(&url(&run.pipeline)),
        id = attr(&id),
    );
}

/// A task instance's page.
pub(super) fn task_href(run_id: &str, task_id: &str, map_index: i32) -> String {
    let mut href = format!("/ui/runs/{}/tasks/{}", url(run_id), url(task_id));
    if map_index >= 0 {
        let _ = write!(href, "?map_index={map_index}");
    }
    href
}

/// Buttons marking one task instance success or failed by hand (none for a viewer).
pub(super) fn mark_buttons(ctx: &Ctx, run_id: &str, task: &TaskRecord) -> String {
    let mark_url = format!(
        "/api/v1/runs/{}/tasks/{}/mark",
        url(run_id),
        url(&task.task_id)
    );
    let instance = if task.map_index >= 0 {
        format!("{}[{}]", task.task_id, task.map_index)
    } else {
        task.task_id.clone()
    };
    let mut out = String::new();
    for (label, state, class) in [
        ("Mark success", "success", ""),
        ("Mark failed", "failed", "danger"),
    ] {
        if task.state == state {
            continue;
        }
        let body = if task.map_index >= 0 {
            format!(r#"{{"state":"{state}","map_index":{}}}"#, task.map_index)
        } else {
            format!(r#"{{"state":"{state}"}}"#)
        };
        let question = format!("Mark {instance} {state}?");
        out.push_str(&action_button(
            ctx,
            &Action {
                label,
                method: "POST",
                url: &mark_url,
                body: Some(&body),
                confirm: Some(&question),
                class,
                ..Action::default()
            },
        ));
    }
    out
}

fn task_table(ctx: &Ctx, body: &mut String, run: &RunRecord, tasks: &[TaskRecord]) {
    body.push_str("<h2 id=\"instances\">Task instances</h2>");
    let shown: Vec<&TaskRecord> = tasks.iter().filter(|t| t.state != "removed").collect();
    if shown.is_empty() {
        body.push_str(&html::empty("No task instances yet."));
        return;
    }
    if shown.len() > MAX_ROWS {
        let _ = write!(
            body,
            "<p class=\"muted\">Showing the first {MAX_ROWS} of {} task instances; every one is in \
             <a href=\"/api/v1/runs/{}\">the run's JSON</a>.</p>",
            shown.len(),
            attr(&url(&run.id))
        );
    }
    body.push_str(
        "<div class=\"scroll\"><table class=\"list\" aria-labelledby=\"instances\"><thead><tr>\
         <th scope=\"col\">Task</th><th scope=\"col\">State</th><th scope=\"col\" class=\"num\">Try</th>\
         <th scope=\"col\">Started</th><th scope=\"col\" class=\"num\">Duration</th>\
         <th scope=\"col\" class=\"hide-narrow\">Error</th><th scope=\"col\"><span class=\"sr-only\">Actions</span></th>\
         </tr></thead><tbody>",
    );
    for task in shown.iter().take(MAX_ROWS) {
        let name = if task.map_index >= 0 {
            format!("{} [{}]", task.task_id, task.map_index)
        } else {
            task.task_id.clone()
        };
        let duration = task
            .started_at
            .map(|s| {
                let end = task.ended_at.unwrap_or_else(weir_engine::time::now_us);
                html::duration_us(end - s)
            })
            .unwrap_or_else(|| "—".into());
        let error = task.error.as_deref().unwrap_or("");
        let short_error: String = error.chars().take(160).collect();
        let _ = write!(
            body,
            "<tr><th scope=\"row\">{link}</th><td>{state}</td><td class=\"num\">{try_number}/{max}</td>\
             <td>{started}</td><td class=\"num\">{duration}</td><td class=\"hide-narrow\" title=\"{error_title}\">{error}</td>\
             <td>{actions}</td></tr>",
            link = html::link(&task_href(&run.id, &task.task_id, task.map_index), &name),
            state = state_badge(&task.state),
            try_number = task.try_number,
            max = task.max_tries,
            started = optional_time(task.started_at),
            error_title = attr(error),
            error = esc(&short_error),
            actions = mark_buttons(ctx, &run.id, task),
        );
    }
    body.push_str("</tbody></table></div>");
}

/// One segment of the Gantt chart.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Bar {
    /// `waiting`, `queued`, `running`, `success` or `failed`.
    pub kind: &'static str,
    pub from: i64,
    pub to: i64,
    pub try_number: i32,
}

/// The Gantt chart's rows: per task instance, in the order the run's events first name them.
pub(super) fn gantt_rows(
    run: &RunRecord,
    events: &[EventRecord],
    upstream: &HashMap<String, Vec<String>>,
    now: i64,
) -> Vec<((String, i32), Vec<Bar>)> {
    let start = run.started_at.unwrap_or(run.created_at);
    // When each task (its unmapped record) reached an end, to tell when a task became ready.
    let mut ends: HashMap<&str, Vec<i64>> = HashMap::new();
    for event in events {
        if let (Some(task), Some(-1)) = (&event.task_id, event.map_index)
            && ends_attempt(&event.state)
        {
            ends.entry(task.as_str()).or_default().push(event.at);
        }
    }
    let ready_at = |task: &str, running_at: i64| -> i64 {
        upstream
            .get(task)
            .into_iter()
            .flatten()
            .filter_map(|dep| {
                ends.get(dep.as_str())?
                    .iter()
                    .copied()
                    .filter(|&at| at <= running_at)
                    .max()
            })
            .max()
            .unwrap_or(start)
            .max(start)
    };

    /// What is known of a task instance while its events are read.
    #[derive(Default)]
    struct Track {
        bars: Vec<Bar>,
        /// When the last attempt ended (a retry waits from there).
        last_end: Option<i64>,
        running: Option<(i64, i32)>,
    }
    let mut order: Vec<(String, i32)> = Vec::new();
    let mut tracks: HashMap<(String, i32), Track> = HashMap::new();
    for event in events {
        let Some(task) = &event.task_id else { continue };
        let key = (task.clone(), event.map_index.unwrap_or(-1));
        let track = tracks.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            Track::default()
        });
        let try_number = event.try_number.unwrap_or(0);
        if event.state == "running" {
            match track.last_end {
                // A retry: waiting out its delay, then queued for a slot (not told apart).
                Some(end) => track.bars.push(Bar {
                    kind: "waiting",
                    from: end,
                    to: event.at,
                    try_number,
                }),
                None => {
                    let ready = ready_at(task, event.at).min(event.at);
                    if ready > start {
                        track.bars.push(Bar {
                            kind: "waiting",
                            from: start,
                            to: ready,
                            try_number,
                        });
                    }
                    track.bars.push(Bar {
                        kind: "queued",
                        from: ready,
                        to: event.at,
                        try_number,
                    });
                }
            }
            track.running = Some((event.at, try_number));
        } else if ends_attempt(&event.state) || event.state == "up_for_retry" {
            if let Some((from, try_number)) = track.running.take() {
                track.bars.push(Bar {
                    kind: if event.state == "success" {
                        "success"
                    } else {
                        "failed"
                    },
                    from,
                    to: event.at,
                    try_number,
                });
            }
            track.last_end = Some(event.at);
        }
    }
    let end = run.ended_at.unwrap_or(now);
    order
        .into_iter()
        .filter_map(|key| {
            let mut track = tracks.remove(&key)?;
            if let Some((from, try_number)) = track.running.take() {
                track.bars.push(Bar {
                    kind: "running",
                    from,
                    to: end.max(from),
                    try_number,
                });
            }
            (!track.bars.is_empty()).then_some((key, track.bars))
        })
        .collect()
}

/// Whether an event's state ends an attempt (or a task without one).
fn ends_attempt(state: &str) -> bool {
    matches!(
        state,
        "success" | "failed" | "lost" | "cancelled" | "timed_out" | "upstream_failed" | "skipped"
    )
}

fn gantt(
    body: &mut String,
    run: &RunRecord,
    events: &[EventRecord],
    upstream: &HashMap<String, Vec<String>>,
    now: i64,
) {
    body.push_str("<h2 id=\"gantt-title\">Gantt</h2>");
    let rows = gantt_rows(run, events, upstream, now);
    if rows.is_empty() {
        body.push_str(&html::empty("No task has started yet."));
        return;
    }
    let start = run.started_at.unwrap_or(run.created_at);
    let end = rows
        .iter()
        .flat_map(|(_, bars)| bars.iter().map(|b| b.to))
        .max()
        .unwrap_or(start)
        .max(run.ended_at.unwrap_or(start));
    let span = (end - start).max(1) as f64;
    let _ = write!(
        body,
        "<p class=\"muted\">From {} to {} ({}). <span class=\"legend\">\
         <span class=\"key waiting\"></span> waiting for upstream tasks \
         <span class=\"key queued\"></span> queued for a slot \
         <span class=\"key running\"></span> running \
         <span class=\"key success\"></span> succeeded \
         <span class=\"key failed\"></span> failed</span></p>",
        html::time(start),
        html::time(end),
        html::duration_us(end - start)
    );
    if rows.len() > MAX_ROWS {
        let _ = write!(
            body,
            "<p class=\"muted\">Showing the first {MAX_ROWS} of {} task instances.</p>",
            rows.len()
        );
    }
    body.push_str("<div class=\"gantt\" role=\"group\" aria-labelledby=\"gantt-title\">");
    for ((task, map_index), bars) in rows.iter().take(MAX_ROWS) {
        let name = if *map_index >= 0 {
            format!("{task} [{map_index}]")
        } else {
            task.clone()
        };
        let _ = write!(
            body,
            "<div class=\"label\">{}</div><div class=\"track\">",
            html::link(&task_href(&run.id, task, *map_index), &name)
        );
        for bar in bars {
            let left = (bar.from - start) as f64 / span * 100.0;
            let width = (bar.to - bar.from) as f64 / span * 100.0;
            let what = match bar.kind {
                "waiting" => "waiting",
                "queued" => "queued",
                "running" => "running",
                "success" => "ran, succeeded",
                _ => "ran, failed",
            };
            let label = format!(
                "{name}, try {}: {what} {} (from +{} to +{})",
                bar.try_number.max(1),
                html::duration_us(bar.to - bar.from),
                html::duration_us(bar.from - start),
                html::duration_us(bar.to - start),
            );
            let _ = write!(
                body,
                "<span class=\"bar {kind}\" role=\"img\" style=\"left:{left:.3}%;width:{width:.3}%\" \
                 title=\"{label}\" aria-label=\"{label}\"></span>",
                kind = bar.kind,
                label = attr(&label),
            );
        }
        body.push_str("</div>");
    }
    body.push_str("</div>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: i64, task: &str, try_number: i32, state: &str) -> EventRecord {
        EventRecord {
            run_id: "r".into(),
            at,
            task_id: Some(task.into()),
            map_index: Some(-1),
            try_number: Some(try_number),
            state: state.into(),
            message: None,
        }
    }

    fn run() -> RunRecord {
        RunRecord {
            id: "r".into(),
            pipeline: "p".into(),
            version: "v".into(),
            state: "success".into(),
            run_type: "manual".into(),
            logical_date: 0,
            interval_start: 0,
            interval_end: 0,
            params: Value::Null,
            created_at: 0,
            started_at: Some(100),
            ended_at: Some(1000),
            notified: true,
            event: None,
        }
    }

    #[test]
    fn waiting_queued_running_and_retries_come_from_the_events() {
        let events = [
            event(110, "a", 1, "running"),
            event(300, "a", 1, "success"),
            event(350, "b", 1, "running"),
            event(400, "b", 1, "up_for_retry"),
            event(600, "b", 2, "running"),
            event(900, "b", 2, "success"),
        ];
        let upstream = HashMap::from([("b".to_string(), vec!["a".to_string()])]);
        let rows = gantt_rows(&run(), &events, &upstream, 5000);
        assert_eq!(rows.len(), 2);
        let kinds = |i: usize| {
            rows[i]
                .1
                .iter()
                .map(|b| (b.kind, b.from, b.to, b.try_number))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds(0),
            [("queued", 100, 110, 1), ("success", 110, 300, 1)]
        );
        assert_eq!(
            kinds(1),
            [
                ("waiting", 100, 300, 1),
                ("queued", 300, 350, 1),
                ("failed", 350, 400, 1),
                ("waiting", 400, 600, 2),
                ("success", 600, 900, 2),
            ]
        );
    }

    #[test]
    fn an_attempt_still_running_runs_to_now() {
        let mut running = run();
        running.ended_at = None;
        let rows = gantt_rows(
            &running,
            &[event(120, "a", 1, "running")],
            &HashMap::new(),
            700,
        );
        assert_eq!(
            rows[0].1.last().map(|b| (b.kind, b.to)),
            Some(("running", 700))
        );
    }
}
