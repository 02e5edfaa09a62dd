//! `GET /ui/runs/{id}/tasks/{task}[?map_index=&try=]`: a task instance's attempts and the chosen
//! attempt's log: its last [`LOG_TAIL`] bytes, searchable, with a link to the whole log through
//! the API and, while the attempt runs, a live tail (`log_tail.rs`). Its output, its mapped item,
//! and a mapped task's instances.

use std::fmt::Write;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use serde::Deserialize;
use weir_store::{AttemptRecord, TaskRecord};

use super::html::{self, attr, esc, state_badge, url};
use super::run::{granted_run, mark_buttons, optional_time, task_href};
use super::{Ctx, Page, PageError, PageResult, Section};

/// Most bytes of a log the page shows (its end); the rest is a link to the API.
const LOG_TAIL: u64 = 256 * 1024;
/// A mapped task's instances listed at most.
const MAX_INSTANCES: usize = 500;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TaskQuery {
    map_index: Option<i32>,
    #[serde(rename = "try")]
    try_number: Option<i32>,
}

pub(crate) async fn page(
    ctx: Ctx,
    Path((run_id, task_id)): Path<(String, String)>,
    query: Result<Query<TaskQuery>, QueryRejection>,
) -> PageResult {
    let Query(query) = query?;
    let run = granted_run(&ctx, &run_id).await?;
    let store = ctx.state.engine.store();
    let instances: Vec<TaskRecord> = store
        .task_instances(&run.id)
        .await?
        .into_iter()
        .filter(|t| t.task_id == task_id && t.state != "removed")
        .collect();
    let map_index = query.map_index.unwrap_or(-1);
    let Some(task) = instances.iter().find(|t| t.map_index == map_index) else {
        return Err(PageError::not_found(format!(
            "run {} has no task instance `{task_id}`{}",
            run.id,
            if map_index >= 0 {
                format!(" [{map_index}]")
            } else {
                String::new()
            }
        )));
    };
    let attempts: Vec<AttemptRecord> = store
        .attempts(&run.id, Some(&task_id))
        .await?
        .into_iter()
        .filter(|a| a.map_index == map_index)
        .collect();
    let chosen = match query.try_number {
        Some(try_number) => attempts.iter().find(|a| a.try_number == try_number),
        None => attempts.last(),
    };

    let mut body = String::from("<div id=\"instance\" data-live-region>");
    facts(&ctx, &mut body, &run.id, task);
    attempts_table(&mut body, &run.id, task, &attempts, chosen);
    body.push_str("</div>");
    let mapped: Vec<&TaskRecord> = instances.iter().filter(|t| t.map_index >= 0).collect();
    if map_index < 0 && !mapped.is_empty() {
        body.push_str("<div id=\"mapped\" data-live-region>");
        mapped_table(&mut body, &run.id, &mapped);
        body.push_str("</div>");
    }
    match chosen {
        Some(attempt) => log(&ctx, &mut body, &run.id, attempt).await,
        None => body.push_str(&html::empty(
            "No attempt has started yet, so there is no log.",
        )),
    }

    let name = if map_index >= 0 {
        format!("{task_id} [{map_index}]")
    } else {
        task_id.clone()
    };
    let pipeline_href = format!("/ui/pipelines/{}", url(&run.pipeline));
    let run_href = format!("/ui/runs/{}", url(&run.id));
    Ok(Page::new(name, Section::Home)
        .crumb("Pipelines", Some("/"))
        .crumb(&run.pipeline, Some(&pipeline_href))
        .crumb(&run.id, Some(&run_href))
        .live(format!("run:{}", run.id))
        .body(body)
        .render(&ctx))
}

fn facts(ctx: &Ctx, body: &mut String, run_id: &str, task: &TaskRecord) {
    let optional_json = |value: &Option<serde_json::Value>| {
        value
            .as_ref()
            .map(html::json_block)
            .unwrap_or_else(|| "—".into())
    };
    let _ = write!(
        body,
        "<div class=\"cards\"><section class=\"card\" aria-labelledby=\"about\"><h2 id=\"about\">About</h2>\
         <dl class=\"facts\"><dt>State</dt><dd>{state}</dd><dt>Tries</dt><dd>{tries} of {max}</dd>\
         <dt>Started</dt><dd>{started}</dd><dt>Ended</dt><dd>{ended}</dd>{next}{error}</dl>\
         <div class=\"row\">{actions}</div></section>\
         <section class=\"card\" aria-labelledby=\"output\"><h2 id=\"output\">Output</h2>{output}{item}</section></div>",
        state = state_badge(&task.state),
        tries = task.try_number,
        max = task.max_tries,
        started = optional_time(task.started_at),
        ended = optional_time(task.ended_at),
        next = task
            .next_try_at
            .map(|at| format!("<dt>Next try</dt><dd>{}</dd>", html::time(at)))
            .unwrap_or_default(),
        error = task
            .error
            .as_deref()
            .map(|e| format!("<dt>Error</dt><dd class=\"error\">{}</dd>", esc(e)))
            .unwrap_or_default(),
        actions = mark_buttons(ctx, run_id, task),
        output = optional_json(&task.output),
        item = task
            .item
            .as_ref()
            .map(|item| format!("<h3>Mapped item</h3>{}", html::json_block(item)))
            .unwrap_or_default(),
    );
}

fn attempts_table(
    body: &mut String,
    run_id: &str,
    task: &TaskRecord,
    attempts: &[AttemptRecord],
    chosen: Option<&AttemptRecord>,
) {
    body.push_str("<h2 id=\"attempts\">Attempts</h2>");
    if attempts.is_empty() {
        body.push_str(&html::empty("No attempts yet."));
        return;
    }
    body.push_str(
        "<div class=\"scroll\"><table class=\"list\" aria-labelledby=\"attempts\"><thead><tr>\
         <th scope=\"col\" class=\"num\">Try</th><th scope=\"col\">State</th><th scope=\"col\">Started</th>\
         <th scope=\"col\" class=\"num\">Duration</th><th scope=\"col\" class=\"num\">Exit code</th>\
         <th scope=\"col\">Error</th></tr></thead><tbody>",
    );
    let base = task_href(run_id, &task.task_id, task.map_index);
    let joiner = if base.contains('?') { '&' } else { '?' };
    for attempt in attempts {
        let current = chosen.is_some_and(|c| c.try_number == attempt.try_number);
        let href = format!("{base}{joiner}try={}", attempt.try_number);
        let duration = html::duration_us(
            attempt.ended_at.unwrap_or_else(weir_engine::time::now_us) - attempt.started_at,
        );
        let _ = write!(
            body,
            "<tr><th scope=\"row\" class=\"num\"><a href=\"{href}\"{current}>{try_number}</a></th><td>{state}</td>\
             <td>{started}</td><td class=\"num\">{duration}</td><td class=\"num\">{exit}</td><td>{error}</td></tr>",
            href = attr(&href),
            current = if current {
                " aria-current=\"true\""
            } else {
                ""
            },
            try_number = attempt.try_number,
            state = state_badge(&attempt.state),
            started = html::time(attempt.started_at),
            exit = attempt
                .exit_code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "—".into()),
            error = esc(attempt.error.as_deref().unwrap_or("")),
        );
    }
    body.push_str("</tbody></table></div>");
}

fn mapped_table(body: &mut String, run_id: &str, mapped: &[&TaskRecord]) {
    let _ = write!(
        body,
        "<h2 id=\"instances\">Mapped instances ({})</h2>",
        mapped.len()
    );
    if mapped.len() > MAX_INSTANCES {
        let _ = write!(
            body,
            "<p class=\"muted\">Showing the first {MAX_INSTANCES}; every one is in the run's JSON.</p>"
        );
    }
    body.push_str(
        "<div class=\"scroll\"><table class=\"list\" aria-labelledby=\"instances\"><thead><tr>\
         <th scope=\"col\" class=\"num\">Index</th><th scope=\"col\">State</th><th scope=\"col\" class=\"num\">Try</th>\
         <th scope=\"col\">Item</th></tr></thead><tbody>",
    );
    for instance in mapped.iter().take(MAX_INSTANCES) {
        let item = instance
            .item
            .as_ref()
            .map(|i| i.to_string())
            .unwrap_or_default();
        let short: String = item.chars().take(120).collect();
        let _ = write!(
            body,
            "<tr><th scope=\"row\" class=\"num\">{link}</th><td>{state}</td><td class=\"num\">{try_number}</td>\
             <td><code>{item}</code></td></tr>",
            link = html::link(
                &task_href(run_id, &instance.task_id, instance.map_index),
                &instance.map_index.to_string()
            ),
            state = state_badge(&instance.state),
            try_number = instance.try_number,
            item = esc(&short),
        );
    }
    body.push_str("</tbody></table></div>");
}

/// How many of `bytes` end on a whole UTF-8 character: all but a character cut short at the end
/// (invalid bytes elsewhere are left for the lossy decoding to mark).
fn whole_characters(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Err(error) if error.error_len().is_none() => error.valid_up_to(),
        _ => bytes.len(),
    }
}

/// The end of an attempt's log, searchable, tailed live while the attempt runs.
async fn log(ctx: &Ctx, body: &mut String, run_id: &str, attempt: &AttemptRecord) {
    let path = ctx.state.engine.data_dir().join(&attempt.log_path);
    let size = tokio::fs::metadata(&path).await.map_or(0, |m| m.len());
    let from = size.saturating_sub(LOG_TAIL);
    let running = attempt.ended_at.is_none();
    let (text, end) = match crate::api::runs::read_range(&path, from, LOG_TAIL).await {
        Ok(mut range) => {
            // A running attempt may be halfway through writing a character: the page stops
            // before it, and the tail sends it whole.
            if running {
                range.bytes.truncate(whole_characters(&range.bytes));
            }
            let end = range.offset + range.bytes.len() as u64;
            let mut text = String::from_utf8_lossy(&range.bytes).into_owned();
            // A tail starting inside a line starts at the next whole one.
            if range.offset > 0
                && let Some(newline) = text.find('\n')
            {
                text.drain(..=newline);
            }
            (text, end)
        }
        Err(error) => (format!("(the log cannot be read: {error})"), 0),
    };
    let attempt_query = format!(
        "task={}&map_index={}&try={}",
        url(&attempt.task_id),
        attempt.map_index,
        attempt.try_number
    );
    let query = format!("run={}&{attempt_query}", url(run_id));
    let whole = format!("/api/v1/runs/{}/logs?{attempt_query}", url(run_id));
    let _ = write!(
        body,
        "<h2 id=\"log-title\">Log of try {try_number}</h2>\
         <div class=\"filters\"><label>Search the log <input type=\"search\" data-log-search data-target=\"#log\"></label>\
         <span data-log-count data-target=\"#log\" aria-live=\"polite\"></span>\
         <a href=\"{whole}\">The whole log (API)</a>{truncated}{live}</div>\
         <pre id=\"log\" class=\"log\" tabindex=\"0\" aria-labelledby=\"log-title\"{tail}>{text}</pre>",
        try_number = attempt.try_number,
        whole = attr(&whole),
        truncated = if from > 0 {
            format!(
                " <span class=\"muted\">showing the last {} KiB of {} KiB</span>",
                LOG_TAIL / 1024,
                size.div_ceil(1024)
            )
        } else {
            String::new()
        },
        live = if running {
            " <span class=\"muted\" data-live-note>(live: new lines appear as they are written)</span>"
        } else {
            ""
        },
        tail = if running {
            format!(
                " data-log-tail=\"{}\"",
                attr(&format!("/ui/live/log?{query}&offset={end}"))
            )
        } else {
            String::new()
        },
        text = esc(&text),
    );
}

#[cfg(test)]
mod tests {
    use super::whole_characters;

    #[test]
    fn a_character_cut_short_at_the_end_is_left_for_the_tail() {
        let text = "ok é".as_bytes();
        assert_eq!(whole_characters(text), text.len());
        // "é" is two bytes; with only its first, the page stops before it.
        assert_eq!(whole_characters(&text[..text.len() - 1]), text.len() - 2);
        // An invalid byte in the middle is not a cut: it is shown (as U+FFFD) in place.
        assert_eq!(whole_characters(b"a\xffb"), 3);
        assert_eq!(whole_characters(b""), 0);
    }
}
