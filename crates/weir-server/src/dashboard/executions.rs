//! `GET /ui/machines/{name}`: a state machine's facts, definition and graph, a form to start an
//! execution, and its executions, newest first, filtered by status, name and start time (UTC)
//! and paged with the store's cursor, with a bulk stop of the running ones.

use std::fmt::Write;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;
use weir_store::{ExecutionFilter, ExecutionRecord, MachineRecord};

use super::execution::json_text;
use super::html::{self, attr, esc, url};
use super::sfn_history::Shape;
use super::{Ctx, Page, PageError, PageResult, Section};

/// Executions listed per page.
const PAGE: usize = 50;
/// Executions read at most to fill one page when the name filter (which the store does not
/// apply) keeps few of them.
const SCANNED: usize = 5_000;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ExecutionsQuery {
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`.
    #[serde(default)]
    status: String,
    /// Part of the execution's name (any case).
    #[serde(default)]
    q: String,
    /// Started at or after / before this UTC time (`2026-12-06T13:00`, a date, or RFC 3339).
    #[serde(default)]
    started_after: String,
    #[serde(default)]
    started_before: String,
    /// Where the page starts: after the execution `STARTED_US~ARN` (the last of the page
    /// before).
    #[serde(default)]
    after: String,
}

impl ExecutionsQuery {
    fn link(&self, after: Option<&str>) -> String {
        let pairs = [
            ("status", self.status.as_str()),
            ("q", self.q.as_str()),
            ("started_after", self.started_after.as_str()),
            ("started_before", self.started_before.as_str()),
            ("after", after.unwrap_or_default()),
        ];
        let query: Vec<String> = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", url(v)))
            .collect();
        format!("?{}", query.join("&"))
    }
}

/// A time the filters take, in microseconds since the epoch, read as UTC.
pub(crate) fn parse_utc(text: &str) -> Result<Option<i64>, PageError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(Some(at.timestamp_micros()));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(Some(at.and_utc().timestamp_micros()));
        }
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(at) = day.and_hms_opt(0, 0, 0)
    {
        return Ok(Some(at.and_utc().timestamp_micros()));
    }
    Err(PageError(crate::ApiError::bad_request(format!(
        "cannot read the time {text:?}: write it as 2026-12-06T13:00 (UTC)"
    ))))
}

/// The state machine, when the caller may see it; "does not exist" otherwise.
pub(crate) async fn visible_machine(ctx: &Ctx, name: &str) -> Result<MachineRecord, PageError> {
    let missing = || PageError::not_found(format!("State Machine Does Not Exist: '{name}'"));
    let Some(machines) = &ctx.state.machines else {
        return Err(missing());
    };
    if !ctx.identity.grants().pipeline(name) {
        return Err(missing());
    }
    Ok(machines.describe(&machines.machine_arn(name)).await?)
}

pub(crate) async fn page(
    ctx: Ctx,
    Path(name): Path<String>,
    query: Result<Query<ExecutionsQuery>, QueryRejection>,
) -> PageResult {
    let Query(query) = query?;
    let machine = visible_machine(&ctx, &name).await?;
    let since = parse_utc(&query.started_after)?;
    let until = parse_utc(&query.started_before)?;
    let status = query.status.trim().to_ascii_uppercase();
    if !status.is_empty()
        && !["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"].contains(&status.as_str())
    {
        return Err(PageError(crate::ApiError::bad_request(format!(
            "no execution status {status:?}"
        ))));
    }
    let cursor = match query.after.split_once('~') {
        Some((us, arn)) => Some((
            us.parse::<i64>().map_err(|_| {
                PageError(crate::ApiError::bad_request(
                    "the after cursor is not one this page made",
                ))
            })?,
            arn.to_string(),
        )),
        None => until.map(|until| (until, String::new())),
    };
    let (rows, next) = find(&ctx, &machine, &status, &query.q, since, cursor).await?;

    let mut body = String::new();
    facts(&mut body, &machine);
    start_form(&mut body, &ctx, &machine);
    body.push_str("<h2 id=\"runs\">Executions</h2>");
    filters(&mut body, &query, &status);
    body.push_str("<div id=\"executions\" data-live-region>");
    table(&mut body, &ctx, &rows);
    let _ = write!(
        body,
        "<p class=\"muted\">Newest first, {PAGE} a page{}.",
        if query.after.is_empty() {
            ""
        } else {
            " (a later page)"
        }
    );
    if !query.after.is_empty() {
        let _ = write!(body, " <a href=\"{}\">newest</a>", attr(&query.link(None)));
    }
    if let Some(next) = next {
        let _ = write!(
            body,
            " <a href=\"{}\" rel=\"next\">older →</a>",
            attr(&query.link(Some(&next)))
        );
    }
    body.push_str("</p></div>");
    Ok(Page::new(machine.name.clone(), Section::Machines)
        .crumb("State machines", Some("/ui/machines"))
        .live(format!("machine:{}", machine.name))
        .body(body)
        .render(&ctx))
}

/// A page of the executions the filters keep, and the cursor of the next page when there may be
/// one. The store filters by machine and status and pages by start; names and the earliest start
/// are filtered here, reading at most [`SCANNED`] executions.
async fn find(
    ctx: &Ctx,
    machine: &MachineRecord,
    status: &str,
    name_part: &str,
    since: Option<i64>,
    mut cursor: Option<(i64, String)>,
) -> Result<(Vec<ExecutionRecord>, Option<String>), PageError> {
    let Some(machines) = &ctx.state.machines else {
        return Ok((Vec::new(), None));
    };
    let needle = name_part.trim().to_lowercase();
    let filter = ExecutionFilter {
        machine_arn: Some(&machine.arn),
        status: (!status.is_empty()).then_some(status),
        redriven: None,
    };
    let mut rows = Vec::new();
    let mut scanned = 0;
    let batch = if needle.is_empty() { PAGE + 1 } else { 500 };
    loop {
        let after = cursor.as_ref().map(|(us, arn)| (*us, arn.as_str()));
        let found = machines.executions(filter, after, batch as u32).await?;
        let ended = found.len() < batch;
        scanned += found.len();
        for execution in found {
            cursor = Some((execution.started_at, execution.arn.clone()));
            if since.is_some_and(|since| execution.started_at < since) {
                return Ok((rows, None));
            }
            if !needle.is_empty() && !execution.name.to_lowercase().contains(&needle) {
                continue;
            }
            if rows.len() == PAGE {
                // One more matches: there is a next page, after the last one shown.
                let last: &ExecutionRecord = &rows[PAGE - 1];
                return Ok((
                    rows.clone(),
                    Some(format!("{}~{}", last.started_at, last.arn)),
                ));
            }
            rows.push(execution);
        }
        if ended {
            return Ok((rows, None));
        }
        if scanned >= SCANNED {
            // Give the reader what was found and a way on from where the reading stopped.
            let next = cursor.map(|(us, arn)| format!("{us}~{arn}"));
            return Ok((rows, next));
        }
    }
}

fn facts(body: &mut String, machine: &MachineRecord) {
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>Type</dt><dd>{kind}</dd><dt>Created</dt><dd>{created}</dd>\
         <dt>Updated</dt><dd>{updated}</dd><dt>Role</dt><dd><code>{role}</code></dd>\
         <dt>ARN</dt><dd><code>{arn}</code></dd></dl>",
        kind = esc(&machine.machine_type),
        created = html::time(machine.created_at),
        updated = html::time(machine.updated_at),
        role = esc(&machine.role_arn),
        arn = esc(&machine.arn),
    );
    let shape = weir_model::asl::parse_definition("definition", &machine.definition)
        .ok()
        .map(|definition| Shape::of(&definition))
        .unwrap_or_default();
    let _ = write!(
        body,
        "<section aria-labelledby=\"definition\"><h2 id=\"definition\">Definition</h2>{graph}\
         <details><summary>Definition (JSON)</summary>{json}</details></section>",
        graph = super::machine_graph::svg(&shape, None, "definition"),
        json = json_text(&machine.definition),
    );
}

fn start_form(body: &mut String, ctx: &Ctx, machine: &MachineRecord) {
    if !ctx.can_operate() {
        return;
    }
    let _ = write!(
        body,
        "<details class=\"card\" id=\"start-execution\"><summary>Start an execution</summary>\
         <form class=\"stack\" id=\"start\" data-api data-method=\"POST\" data-url=\"/\" \
         data-aws-target=\"AWSStepFunctions.StartExecution\" data-then=\"/ui/executions/{{executionArn}}\" \
         data-done=\"Execution started\">\
         <input type=\"hidden\" name=\"stateMachineArn\" value=\"{arn}\">\
         <label>Name (optional: a new one is made) <input name=\"name\" maxlength=\"80\" autocomplete=\"off\"></label>\
         <label>Input (JSON) <textarea name=\"input\" rows=\"6\" data-json-text spellcheck=\"false\">{{}}</textarea></label>\
         <button type=\"submit\" class=\"btn primary\">Start</button></form></details>",
        arn = attr(&machine.arn),
    );
}

fn filters(body: &mut String, query: &ExecutionsQuery, status: &str) {
    body.push_str(
        "<form class=\"filters\" method=\"get\" role=\"search\"><label>Status <select name=\"status\"><option value=\"\">any</option>",
    );
    for option in ["RUNNING", "FAILED", "TIMED_OUT", "ABORTED", "SUCCEEDED"] {
        let chosen = if option == status { " selected" } else { "" };
        let _ = write!(
            body,
            "<option value=\"{option}\"{chosen}>{}</option>",
            option.to_lowercase().replace('_', " ")
        );
    }
    let _ = write!(
        body,
        "</select></label><label>Name contains <input type=\"search\" name=\"q\" value=\"{q}\"></label>\
         <label>Started after (UTC) <input type=\"datetime-local\" name=\"started_after\" value=\"{after}\"></label>\
         <label>Started before (UTC) <input type=\"datetime-local\" name=\"started_before\" value=\"{before}\"></label>\
         <button class=\"btn\">Filter</button></form>",
        q = attr(&query.q),
        after = attr(&query.started_after),
        before = attr(&query.started_before),
    );
}

fn table(body: &mut String, ctx: &Ctx, rows: &[ExecutionRecord]) {
    if rows.is_empty() {
        body.push_str(&html::empty("No executions match."));
        return;
    }
    let operate = ctx.can_operate();
    body.push_str("<div data-bulk>");
    if operate {
        body.push_str(
            "<div class=\"bulkbar\"><span data-bulk-count>0 selected</span>\
             <button type=\"button\" class=\"btn danger\" data-bulk-action data-bulk-each data-method=\"POST\" data-url=\"/\" \
             data-aws-target=\"AWSStepFunctions.StopExecution\" data-body='{\"executionArn\":\"{id}\"}' \
             data-confirm=\"Stop the selected running executions?\" disabled>Stop selected</button></div>",
        );
    }
    body.push_str("<div class=\"scroll\"><table class=\"list\" id=\"execution-list\"><thead><tr>");
    if operate {
        body.push_str(
            "<th scope=\"col\"><label><span class=\"sr-only\">Select all running</span><input type=\"checkbox\" data-select-all></label></th>",
        );
    }
    body.push_str(
        "<th scope=\"col\">Name</th><th scope=\"col\">Status</th><th scope=\"col\">Started</th>\
         <th scope=\"col\">Duration</th><th scope=\"col\" class=\"hide-narrow\">Error</th></tr></thead><tbody>",
    );
    for execution in rows {
        let _ = write!(
            body,
            "<tr data-execution=\"{name_attr}\" data-status=\"{status_attr}\">",
            name_attr = attr(&execution.name),
            status_attr = attr(&execution.status),
        );
        if operate {
            if execution.status == "RUNNING" {
                let _ = write!(
                    body,
                    "<td><label><span class=\"sr-only\">Select {name}</span><input type=\"checkbox\" data-select value=\"{arn}\"></label></td>",
                    name = esc(&execution.name),
                    arn = attr(&execution.arn),
                );
            } else {
                body.push_str("<td></td>");
            }
        }
        let took = execution
            .stopped_at
            .unwrap_or_else(weir_engine::time::now_us)
            .saturating_sub(execution.started_at);
        let _ = write!(
            body,
            "<th scope=\"row\">{link}</th><td>{badge}</td><td>{started}</td><td>{took}</td>\
             <td class=\"hide-narrow\">{error}</td></tr>",
            link = html::link(
                &format!("/ui/executions/{}", url(&execution.arn)),
                &execution.name
            ),
            badge = html::state_badge(&execution.status),
            started = html::time(execution.started_at),
            took = html::duration_us(took),
            error = esc(execution.error.as_deref().unwrap_or_default()),
        );
    }
    body.push_str("</tbody></table></div></div>");
}
