//! `GET /ui/executions/{arn}`: one execution of a state machine: its status, times, input,
//! output, error and cause; its definition's graph with each state's status from the history;
//! each Map's iterations and each Parallel's branches; the event history; stop and redrive.
//!
//! Everything comes from one read of the history, walked once ([`Summary::read`]); the page
//! shows summaries, a page of iterations and a page of events, so the page of a Map of 10,000
//! items costs about what its history costs to read.

use std::fmt::Write;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use serde::Deserialize;
use serde_json::Value;
use weir_model::asl;
use weir_store::{ExecutionRecord, HistoryEventRecord};

use super::html::{self, Action, action_button, attr, esc, url};
use super::sfn_history::{Shape, Status, Summary, settled};
use super::{Ctx, Page, PageError, PageResult, Section};

/// Iterations listed per page.
const ITERATIONS_PAGE: usize = 50;
/// Events listed per page.
const EVENTS_PAGE: usize = 100;
/// JSON shown inline at most (input, output, an event's details); the rest through the API.
const JSON_SHOWN: usize = 32 * 1024;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ExecutionQuery {
    /// The Map whose iterations are paged and filtered.
    #[serde(default)]
    map: String,
    #[serde(default)]
    page: usize,
    /// Only iterations in this status (`FAILED`, `SUCCEEDED`, …).
    #[serde(default)]
    status: String,
    /// Events of this state only.
    #[serde(default)]
    state: String,
    /// Events of this Parallel's branch only: `NAME` and `b` (1-based).
    #[serde(default)]
    branch: String,
    #[serde(default)]
    b: usize,
    /// Events with ids in this range (an iteration's events among the others of its time).
    #[serde(default)]
    ev_from: Option<i64>,
    #[serde(default)]
    ev_to: Option<i64>,
    /// Events after this id (the history's pages).
    #[serde(default)]
    ev_after: Option<i64>,
}

impl ExecutionQuery {
    /// The query string of this view with one parameter changed (`None` removes it), for links
    /// to other pages of it.
    fn with(&self, key: &str, value: Option<&str>) -> String {
        let mut pairs: Vec<(&str, String)> = vec![
            ("map", self.map.clone()),
            ("page", self.page.to_string()),
            ("status", self.status.clone()),
            ("state", self.state.clone()),
            ("branch", self.branch.clone()),
            ("b", self.b.to_string()),
            (
                "ev_from",
                self.ev_from.map(|v| v.to_string()).unwrap_or_default(),
            ),
            (
                "ev_to",
                self.ev_to.map(|v| v.to_string()).unwrap_or_default(),
            ),
            (
                "ev_after",
                self.ev_after.map(|v| v.to_string()).unwrap_or_default(),
            ),
        ];
        for pair in &mut pairs {
            if pair.0 == key {
                pair.1 = value.unwrap_or_default().to_string();
            }
        }
        let query: Vec<String> = pairs
            .into_iter()
            .filter(|(k, v)| !v.is_empty() && !((*k == "page" || *k == "b") && v == "0"))
            .map(|(k, v)| format!("{k}={}", url(&v)))
            .collect();
        format!("?{}", query.join("&"))
    }

    fn filters_events(&self) -> bool {
        !self.state.is_empty()
            || !self.branch.is_empty()
            || self.ev_from.is_some()
            || self.ev_to.is_some()
    }
}

/// The state machine an execution ARN names (its seventh part), as the API's grants read it.
pub(crate) fn machine_of(execution_arn: &str) -> Option<&str> {
    execution_arn.split(':').nth(6)
}

/// The execution, when the caller may see it; "does not exist" otherwise, as for a missing one.
pub(crate) async fn visible_execution(ctx: &Ctx, arn: &str) -> Result<ExecutionRecord, PageError> {
    let missing = || PageError::not_found(format!("Execution Does Not Exist: '{arn}'"));
    let Some(machines) = &ctx.state.machines else {
        return Err(missing());
    };
    match machine_of(arn) {
        Some(machine) if ctx.identity.grants().pipeline(machine) => {}
        _ => return Err(missing()),
    }
    Ok(machines.describe_execution(arn).await?)
}

pub(crate) async fn page(
    ctx: Ctx,
    Path(arn): Path<String>,
    query: Result<Query<ExecutionQuery>, QueryRejection>,
) -> PageResult {
    let Query(query) = query?;
    let execution = visible_execution(&ctx, &arn).await?;
    let Some(machines) = &ctx.state.machines else {
        return Err(PageError::not_found("no state machines here"));
    };
    let events = machines.history_records(&arn).await?;
    let redrivable = machines.redrive_status(&execution).await?.0 == "REDRIVABLE";
    let body = render(&ctx, &execution, &events, &query, redrivable);
    let machine = machine_of(&arn).unwrap_or_default().to_string();
    let mut page = Page::new(execution.name.clone(), Section::Machines)
        .crumb("State machines", Some("/ui/machines"))
        .crumb(&machine, Some(&format!("/ui/machines/{}", url(&machine))))
        .live(format!("execution:{arn}"))
        .body(body);
    // Status changes are published as an execution starts and ends; the states in between
    // are seen by polling while it runs.
    if execution.status == "RUNNING" {
        page = page.refresh(2);
    }
    Ok(page.render(&ctx))
}

/// The page's body: everything but the document around it.
pub(crate) fn render(
    ctx: &Ctx,
    execution: &ExecutionRecord,
    events: &[HistoryEventRecord],
    query: &ExecutionQuery,
    redrivable: bool,
) -> String {
    let definition = asl::parse_definition("definition", &execution.definition).ok();
    let shape = definition.as_ref().map(Shape::of).unwrap_or_default();
    let summary = Summary::read(&shape, events);
    let status = execution.status.as_str();
    let mut body = String::with_capacity(64 * 1024);
    body.push_str("<div id=\"execution\" data-live-region>");
    facts(&mut body, ctx, execution, redrivable);
    if definition.is_none() {
        body.push_str(&html::empty(
            "The execution's definition cannot be read: no graph or state statuses.",
        ));
    }
    graph(&mut body, &shape, &summary, status);
    failed_states(&mut body, &shape, &summary, status);
    maps(&mut body, &shape, &summary, status, query);
    parallels(&mut body, &shape, &summary, status);
    body.push_str(
        "<section aria-labelledby=\"io\"><h2 id=\"io\">Input and output</h2><div class=\"cards\">",
    );
    let _ = write!(
        body,
        "<div class=\"card\"><h3>Input</h3>{}</div>",
        json_text(&execution.input)
    );
    let output = match &execution.output {
        Some(output) => json_text(output),
        None if execution.status == "RUNNING" => "<p class=\"muted\">none yet</p>".into(),
        None => "<p class=\"muted\">none</p>".into(),
    };
    let _ = write!(
        body,
        "<div class=\"card\"><h3>Output</h3>{output}</div></div></section>"
    );
    history(&mut body, &shape, &summary, events, query);
    body.push_str("</div>");
    body
}

fn facts(body: &mut String, ctx: &Ctx, execution: &ExecutionRecord, redrivable: bool) {
    let machine = machine_of(&execution.arn).unwrap_or_default();
    let ended = execution.stopped_at.map_or_else(
        || "<span class=\"muted\">running</span>".to_string(),
        html::time,
    );
    let took = execution
        .stopped_at
        .unwrap_or_else(weir_engine::time::now_us)
        .saturating_sub(execution.started_at);
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>Status</dt><dd id=\"execution-status\" data-status=\"{status_attr}\">{status}</dd>\
         <dt>State machine</dt><dd>{machine_link}</dd>\
         <dt>Started</dt><dd>{started}</dd><dt>Ended</dt><dd>{ended}</dd>\
         <dt>Duration</dt><dd>{took}</dd><dt>ARN</dt><dd><code>{arn}</code></dd>",
        status_attr = attr(&execution.status),
        status = html::state_badge(&execution.status),
        machine_link = html::link(&format!("/ui/machines/{}", url(machine)), machine),
        started = html::time(execution.started_at),
        took = html::duration_us(took),
        arn = esc(&execution.arn),
    );
    if execution.redrive_count > 0 {
        let _ = write!(
            body,
            "<dt>Redriven</dt><dd>{} time{}{}</dd>",
            execution.redrive_count,
            if execution.redrive_count == 1 {
                ""
            } else {
                "s"
            },
            execution
                .redriven_at
                .map(|at| format!(", last {}", html::time(at)))
                .unwrap_or_default()
        );
    }
    body.push_str("</dl>");
    let request = serde_json::json!({ "executionArn": execution.arn }).to_string();
    let mut actions = String::new();
    if execution.status == "RUNNING" {
        let question = format!("Stop the execution {}?", execution.name);
        actions.push_str(&action_button(
            ctx,
            &Action {
                label: "Stop",
                method: "POST",
                url: "/",
                body: Some(&request),
                confirm: Some(&question),
                aws_target: Some("AWSStepFunctions.StopExecution"),
                class: "danger",
                ..Action::default()
            },
        ));
    }
    if redrivable {
        let question = format!(
            "Redrive the execution {} from the states that did not succeed?",
            execution.name
        );
        actions.push_str(&action_button(
            ctx,
            &Action {
                label: "Redrive",
                method: "POST",
                url: "/",
                body: Some(&request),
                confirm: Some(&question),
                aws_target: Some("AWSStepFunctions.RedriveExecution"),
                class: "primary",
                ..Action::default()
            },
        ));
    }
    if !actions.is_empty() {
        let _ = write!(
            body,
            "<div class=\"row\" id=\"actions\" style=\"margin: 0.75rem 0\">{actions}</div>"
        );
    }
    if execution.error.is_some() || execution.cause.is_some() {
        let _ = write!(
            body,
            "<section class=\"card\" aria-labelledby=\"why\"><h2 id=\"why\">Error</h2>\
             <p class=\"error\"><strong>{}</strong></p>{}</section>",
            esc(execution.error.as_deref().unwrap_or_default()),
            execution
                .cause
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(json_text)
                .unwrap_or_default()
        );
    }
}

/// A status as a badge: glyph, colour and words (the API's statuses, and the page's own
/// "retrying" and "not reached").
pub(crate) fn status_badge(status: Status) -> String {
    match status {
        Status::NotReached => {
            "<span class=\"badge st-none\"><span aria-hidden=\"true\">○</span> not reached</span>"
                .to_string()
        }
        status => html::state_badge(status.api()),
    }
}

fn graph(body: &mut String, shape: &Shape, summary: &Summary, status: &str) {
    body.push_str("<section aria-labelledby=\"graph\"><h2 id=\"graph\">States</h2>");
    // The graph (an SVG) and the same facts as a table, for a screen reader and a phone.
    body.push_str(&super::machine_graph::svg(
        shape,
        Some((summary, status)),
        "states",
    ));
    body.push_str(
        "<details><summary>States as a table</summary><div class=\"scroll\"><table class=\"list\" id=\"states\"><thead><tr>\
         <th scope=\"col\">State</th><th scope=\"col\">Type</th><th scope=\"col\">Status</th>\
         <th scope=\"col\" class=\"num\">Entered</th><th scope=\"col\" class=\"num\">Exited</th>\
         <th scope=\"col\" class=\"num\">Failures</th><th scope=\"col\" class=\"num\">Retries</th>\
         <th scope=\"col\"><span class=\"sr-only\">Events</span></th></tr></thead><tbody>",
    );
    for (index, state) in shape.states.iter().enumerate() {
        let record = &summary.states[index];
        let state_status = summary.status(shape, index, status);
        let _ = write!(
            body,
            "<tr data-state=\"{name_attr}\" data-status=\"{api}\"><th scope=\"row\">{name}{group}</th><td>{kind}</td><td>{badge}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td><a href=\"?state={href}#history\">events</a></td></tr>",
            record.entered,
            record.exited,
            record.failures,
            record.retries,
            name_attr = attr(&state.name),
            api = state_status.api(),
            name = esc(&state.name),
            group = state
                .group
                .as_deref()
                .map(|g| format!(" <span class=\"muted\">in {}</span>", esc(g)))
                .unwrap_or_default(),
            kind = state.kind,
            badge = status_badge(state_status),
            href = attr(&url(&state.name)),
        );
    }
    body.push_str("</tbody></table></div></details></section>");
}

fn failed_states(body: &mut String, shape: &Shape, summary: &Summary, status: &str) {
    let failed: Vec<usize> = (0..shape.states.len())
        .filter(|&i| {
            summary.states[i].last_error.is_some()
                && matches!(
                    summary.status(shape, i, status),
                    Status::Failed | Status::Retrying
                )
        })
        .collect();
    if failed.is_empty() {
        return;
    }
    body.push_str(
        "<section aria-labelledby=\"failed\"><h2 id=\"failed\">Where it failed</h2><ul class=\"failures\">",
    );
    for index in failed {
        let Some(failure) = &summary.states[index].last_error else {
            continue;
        };
        let _ = write!(
            body,
            "<li data-failed-state=\"{name_attr}\"><strong>{name}</strong>: <code class=\"error\">{error}</code> \
             <a href=\"?ev_from={event}#history\">event {event}</a>{cause}</li>",
            name_attr = attr(&shape.states[index].name),
            name = esc(&shape.states[index].name),
            error = esc(&failure.error),
            event = failure.event,
            cause = if failure.cause.is_empty() {
                String::new()
            } else {
                json_text(&failure.cause)
            },
        );
    }
    body.push_str("</ul></section>");
}

fn maps(body: &mut String, shape: &Shape, summary: &Summary, status: &str, query: &ExecutionQuery) {
    let mut indexes: Vec<usize> = summary.maps.keys().copied().collect();
    indexes.sort_unstable();
    for index in indexes {
        let Some(record) = summary.maps.get(&index) else {
            continue;
        };
        let name = &shape.states[index].name;
        let selected = query.map == *name;
        let id = format!("map-{index}");
        let _ = write!(
            body,
            "<section aria-labelledby=\"{id}\" data-map=\"{name_attr}\"><h2 id=\"{id}\">Map {name}: {count} iteration{s}</h2><p>",
            name_attr = attr(name),
            name = esc(name),
            count = record.iterations.len(),
            s = if record.iterations.len() == 1 {
                ""
            } else {
                "s"
            },
        );
        if record.items as usize != record.iterations.len() {
            let _ = write!(body, "{} items. ", record.items);
        }
        for (iteration_status, count) in summary.map_counts(index, status) {
            let _ = write!(
                body,
                "<a class=\"count\" data-count=\"{api}\" href=\"{href}#{id}\">{badge} {count}</a> ",
                api = iteration_status.api(),
                href = attr(&format!(
                    "?map={}&status={}",
                    url(name),
                    iteration_status.api()
                )),
                badge = status_badge(iteration_status),
            );
        }
        body.push_str("</p>");
        let wanted = if selected {
            Status::parse(&query.status)
        } else {
            None
        };
        let page = if selected { query.page } else { 0 };
        let mut matching = record
            .iterations
            .iter()
            .filter(|i| wanted.is_none_or(|w| settled(i.status, status) == w));
        let shown: Vec<_> = matching
            .by_ref()
            .skip(page.saturating_mul(ITERATIONS_PAGE))
            .take(ITERATIONS_PAGE)
            .collect();
        let more = matching.next().is_some();
        let _ = write!(
            body,
            "<form class=\"filters\" method=\"get\" action=\"#{id}\"><input type=\"hidden\" name=\"map\" value=\"{name_attr}\">\
             <label>Iterations <select name=\"status\"><option value=\"\">all</option>",
            name_attr = attr(name)
        );
        for option in [
            Status::Failed,
            Status::Running,
            Status::Aborted,
            Status::TimedOut,
            Status::Succeeded,
        ] {
            let chosen = if wanted == Some(option) {
                " selected"
            } else {
                ""
            };
            let _ = write!(
                body,
                "<option value=\"{api}\"{chosen}>{words}</option>",
                api = option.api(),
                words = option.api().to_lowercase().replace('_', " ")
            );
        }
        body.push_str("</select></label><button class=\"btn\">Show</button></form>");
        if shown.is_empty() {
            body.push_str(&html::empty("No iterations to show."));
        } else {
            let _ = write!(
                body,
                "<div class=\"scroll\"><table class=\"list\" id=\"{id}-iterations\"><thead><tr><th scope=\"col\" class=\"num\">Index</th>\
                 <th scope=\"col\">Status</th><th scope=\"col\">Started</th><th scope=\"col\">Duration</th>\
                 <th scope=\"col\"><span class=\"sr-only\">Events</span></th></tr></thead><tbody>"
            );
            for iteration in &shown {
                let iteration_status = settled(iteration.status, status);
                let took = iteration
                    .ended_at
                    .map(|end| html::duration_us(end - iteration.started_at))
                    .unwrap_or_else(|| "—".into());
                let events = match iteration.end_event {
                    Some(end) => format!("?ev_from={}&ev_to={end}#history", iteration.start_event),
                    None => format!("?ev_from={}#history", iteration.start_event),
                };
                let _ = write!(
                    body,
                    "<tr data-index=\"{index}\" data-status=\"{api}\"><td class=\"num\">{index}</td><td>{badge}</td>\
                     <td>{started}</td><td>{took}</td><td><a href=\"{events}\">events</a></td></tr>",
                    index = iteration.index,
                    api = iteration_status.api(),
                    badge = status_badge(iteration_status),
                    started = html::time(iteration.started_at),
                    events = attr(&events),
                );
            }
            body.push_str("</tbody></table></div>");
            let first = page.saturating_mul(ITERATIONS_PAGE);
            let _ = write!(
                body,
                "<p class=\"muted\">Showing iterations {} to {} (in the order they started), {ITERATIONS_PAGE} a page.",
                first + 1,
                first + shown.len()
            );
            let map_query = ExecutionQuery {
                map: name.clone(),
                status: wanted.map(|w| w.api().to_string()).unwrap_or_default(),
                ..ExecutionQuery::default()
            };
            if page > 0 {
                let _ = write!(
                    body,
                    " <a href=\"{}#{id}\">← previous</a>",
                    attr(&map_query.with("page", Some(&(page - 1).to_string())))
                );
            }
            if more {
                let _ = write!(
                    body,
                    " <a href=\"{}#{id}\" rel=\"next\">next →</a>",
                    attr(&map_query.with("page", Some(&(page + 1).to_string())))
                );
            }
            body.push_str("</p>");
        }
        body.push_str("</section>");
    }
}

fn parallels(body: &mut String, shape: &Shape, summary: &Summary, status: &str) {
    for parallel in &shape.parallels {
        if summary.states[parallel.state].entered == 0 {
            continue;
        }
        let name = &shape.states[parallel.state].name;
        let id = format!("parallel-{}", parallel.state);
        let _ = write!(
            body,
            "<section aria-labelledby=\"{id}\" data-parallel=\"{name_attr}\"><h2 id=\"{id}\">Parallel {name}: {n} branches</h2>\
             <div class=\"scroll\"><table class=\"list\"><thead><tr><th scope=\"col\" class=\"num\">Branch</th>\
             <th scope=\"col\">Status</th><th scope=\"col\">States reached</th><th scope=\"col\">Duration</th>\
             <th scope=\"col\"><span class=\"sr-only\">Events</span></th></tr></thead><tbody>",
            name_attr = attr(name),
            name = esc(name),
            n = parallel.branches.len(),
        );
        for (b, states) in parallel.branches.iter().enumerate() {
            let statuses: Vec<Status> = states
                .iter()
                .map(|&s| summary.status(shape, s, status))
                .collect();
            let reached = statuses
                .iter()
                .filter(|s| **s != Status::NotReached)
                .count();
            let worst = statuses
                .iter()
                .copied()
                .filter(|s| *s != Status::Succeeded && *s != Status::NotReached)
                .max();
            let branch_status = match worst {
                Some(worst) => worst,
                None if reached > 0 => Status::Succeeded,
                None => Status::NotReached,
            };
            let first = states
                .iter()
                .filter_map(|&s| summary.states[s].first_at)
                .min();
            let last = states
                .iter()
                .filter_map(|&s| summary.states[s].last_at)
                .max();
            let took = match (first, last) {
                (Some(first), Some(last)) => html::duration_us(last - first),
                _ => "—".into(),
            };
            let _ = write!(
                body,
                "<tr data-branch=\"{n}\" data-status=\"{api}\"><td class=\"num\">{n}</td><td>{badge}</td>\
                 <td>{reached} of {total}</td><td>{took}</td><td><a href=\"?branch={href}&amp;b={n}#history\">events</a></td></tr>",
                n = b + 1,
                api = branch_status.api(),
                badge = status_badge(branch_status),
                total = states.len(),
                href = attr(&url(name)),
            );
        }
        body.push_str("</tbody></table></div></section>");
    }
}

fn history(
    body: &mut String,
    shape: &Shape,
    summary: &Summary,
    events: &[HistoryEventRecord],
    query: &ExecutionQuery,
) {
    let state = shape.by_name.get(&query.state).copied();
    let branch: Option<&Vec<usize>> = shape
        .by_name
        .get(&query.branch)
        .and_then(|&p| shape.parallels.iter().find(|par| par.state == p))
        .and_then(|par| par.branches.get(query.b.saturating_sub(1)));
    let keeps = |position: usize, event: &HistoryEventRecord| -> bool {
        let given = summary.event_state.get(position).copied().flatten();
        (query.state.is_empty() || given.is_some() && given == state)
            && (query.branch.is_empty()
                || given.is_some_and(|g| branch.is_some_and(|b| b.contains(&g))))
            && query.ev_from.is_none_or(|from| event.id >= from)
            && query.ev_to.is_none_or(|to| event.id <= to)
            && query.ev_after.is_none_or(|after| event.id > after)
    };
    // Events are in id order: the first page starts where the filter does.
    let start = query
        .ev_from
        .max(query.ev_after.map(|a| a.saturating_add(1)))
        .map_or(0, |from| events.partition_point(|e| e.id < from));
    let mut matching = events
        .iter()
        .enumerate()
        .skip(start)
        .filter(|(position, event)| keeps(*position, event));
    let shown: Vec<(usize, &HistoryEventRecord)> = matching.by_ref().take(EVENTS_PAGE).collect();
    let more = matching.next().is_some();
    let _ = write!(
        body,
        "<section aria-labelledby=\"history\"><h2 id=\"history\">Event history</h2><p class=\"muted\">{} events in all.",
        events.len()
    );
    if query.filters_events() || query.ev_after.is_some() {
        let _ = write!(
            body,
            " Showing {}. <a href=\"?#history\">All events</a>",
            describe_filter(query)
        );
    }
    body.push_str("</p>");
    if shown.is_empty() {
        body.push_str(&html::empty("No events to show."));
        body.push_str("</section>");
        return;
    }
    body.push_str(
        "<div class=\"scroll\"><table class=\"list\" id=\"events\"><thead><tr><th scope=\"col\" class=\"num\">Id</th>\
         <th scope=\"col\">Type</th><th scope=\"col\">State</th><th scope=\"col\">Time (UTC)</th>\
         <th scope=\"col\" class=\"num\">Elapsed</th><th scope=\"col\">Details</th></tr></thead><tbody>",
    );
    let began = summary.started_at.unwrap_or_default();
    for (position, event) in &shown {
        let state_name = summary
            .event_state
            .get(*position)
            .copied()
            .flatten()
            .map(|s| shape.states[s].name.as_str())
            .unwrap_or("");
        let class =
            if event.event_type.ends_with("Failed") || event.event_type.ends_with("TimedOut") {
                " class=\"error\""
            } else {
                ""
            };
        let _ = write!(
            body,
            "<tr id=\"event-{id}\" data-type=\"{kind_attr}\"><td class=\"num\">{id}</td><td{class}>{kind}</td><td>{state}</td>\
             <td>{at}</td><td class=\"num\">{elapsed}</td><td>{details}</td></tr>",
            id = event.id,
            kind_attr = attr(&event.event_type),
            kind = esc(&event.event_type),
            state = esc(state_name),
            at = html::time(event.at),
            elapsed = html::duration_us(event.at - began),
            details = event_details(&event.details),
        );
    }
    body.push_str("</tbody></table></div><p class=\"muted\">");
    let _ = write!(body, "{EVENTS_PAGE} events a page.");
    if let Some((_, last)) = shown.last()
        && more
    {
        let _ = write!(
            body,
            " <a href=\"{}#history\" rel=\"next\">later events →</a>",
            attr(&query.with("ev_after", Some(&last.id.to_string())))
        );
    }
    if query.ev_after.is_some() {
        let _ = write!(
            body,
            " <a href=\"{}#history\">first events</a>",
            attr(&query.with("ev_after", None))
        );
    }
    body.push_str("</p></section>");
}

fn describe_filter(query: &ExecutionQuery) -> String {
    let mut parts = Vec::new();
    if !query.state.is_empty() {
        parts.push(format!("the events of state {}", esc(&query.state)));
    }
    if !query.branch.is_empty() {
        parts.push(format!(
            "the events of branch {} of {}",
            query.b,
            esc(&query.branch)
        ));
    }
    match (query.ev_from, query.ev_to) {
        (Some(from), Some(to)) => parts.push(format!("events {from} to {to}")),
        (Some(from), None) => parts.push(format!("events from {from}")),
        (None, Some(to)) => parts.push(format!("events up to {to}")),
        (None, None) => {}
    }
    if let Some(after) = query.ev_after {
        parts.push(format!("after event {after}"));
    }
    parts.join(", ")
}

/// An event's details: its input, output, error and cause, each folded in a `<details>`.
fn event_details(details: &str) -> String {
    let Ok(Value::Object(outer)) = serde_json::from_str::<Value>(details) else {
        return String::new();
    };
    let Some(Value::Object(inner)) = outer.into_iter().next().map(|(_, v)| v) else {
        return String::new();
    };
    let mut html = String::new();
    for (key, value) in &inner {
        if key.ends_with("Details") || key == "name" {
            continue;
        }
        match value {
            Value::String(text)
                if matches!(key.as_str(), "input" | "output" | "parameters" | "cause") =>
            {
                let _ = write!(
                    html,
                    "<details><summary>{}</summary>{}</details>",
                    esc(key),
                    json_text(text)
                );
            }
            Value::Null => {}
            value => {
                let text = match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                let _ = write!(
                    html,
                    "<span class=\"muted\">{}</span> {} ",
                    esc(key),
                    esc(&truncate(&text, 300))
                );
            }
        }
    }
    html
}

/// JSON text, pretty-printed and escaped in a `<pre>` (as written when it is not JSON), cut at
/// [`JSON_SHOWN`] bytes: the rest is the API's (DescribeExecution, GetExecutionHistory).
pub(crate) fn json_text(text: &str) -> String {
    if text.len() > JSON_SHOWN {
        return format!(
            "<pre class=\"json\">{}</pre><p class=\"muted\">The first {} KiB of {} KiB; the whole through the API.</p>",
            esc(&truncate(text, JSON_SHOWN)),
            JSON_SHOWN / 1024,
            text.len() / 1024
        );
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value) => html::json_block(&value),
        Err(_) => format!("<pre>{}</pre>", esc(text)),
    }
}

/// At most `bytes` of `text`, cut at a character boundary.
fn truncate(text: &str, bytes: usize) -> String {
    if text.len() <= bytes {
        return text.to_string();
    }
    let mut end = bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
