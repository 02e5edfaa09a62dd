//! `GET /ui/machines`: every state machine the caller may see, with its type, when it was made,
//! the statuses of its recent executions as a strip, and how many of the last 24 hours' are
//! running and failed. Failures first; filtered by name from the query string.

use std::fmt::Write;

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use serde::Deserialize;
use weir_store::{ExecutionFilter, ExecutionRecord, MachineRecord};

use super::html::{self, attr, esc, state_glyph, url};
use super::{Ctx, Page, PageResult, Section};

/// Recent executions shown per state machine.
const RECENT: u32 = 20;
/// Executions of one status counted at most (shown as "1000+").
const COUNTED: u32 = 1_000;
/// What "recent" means for the counts.
const DAY_US: i64 = 24 * 3600 * 1_000_000;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct MachinesQuery {
    /// Part of the name (any case).
    #[serde(default)]
    q: String,
}

struct Row {
    machine: MachineRecord,
    recent: Vec<ExecutionRecord>,
    running: (usize, bool),
    failed: (usize, bool),
}

impl Row {
    fn latest(&self) -> &str {
        self.recent.first().map_or("", |e| e.status.as_str())
    }
}

pub(crate) async fn page(
    ctx: Ctx,
    query: Result<Query<MachinesQuery>, QueryRejection>,
) -> PageResult {
    let Query(query) = query?;
    let mut rows = Vec::new();
    if let Some(machines) = &ctx.state.machines {
        let needle = query.q.trim().to_lowercase();
        let since = weir_engine::time::now_us() - DAY_US;
        for machine in machines.list().await? {
            if !ctx.identity.grants().pipeline(&machine.name)
                || !machine.name.to_lowercase().contains(&needle)
            {
                continue;
            }
            let of = |status: Option<&'static str>| ExecutionFilter {
                machine_arn: Some(&machine.arn),
                status,
                redriven: None,
            };
            let recent = machines.executions(of(None), None, RECENT).await?;
            let running = started_since(machines, of(Some("RUNNING")), since).await?;
            let failed = started_since(machines, of(Some("FAILED")), since).await?;
            rows.push(Row {
                recent,
                running,
                failed,
                machine,
            });
        }
    }
    // Failures first (the last day's, then the latest execution's), then by name.
    rows.sort_by(|a, b| {
        b.failed
            .0
            .min(1)
            .cmp(&a.failed.0.min(1))
            .then_with(|| html::severity(b.latest()).cmp(&html::severity(a.latest())))
            .then_with(|| a.machine.name.cmp(&b.machine.name))
    });

    let mut body = format!(
        "<form class=\"filters\" method=\"get\" action=\"/ui/machines\" role=\"search\">\
         <label>Name <input type=\"search\" name=\"q\" value=\"{}\"></label>\
         <button class=\"btn\">Filter</button></form>",
        attr(&query.q)
    );
    body.push_str("<div id=\"machines\" data-live-region>");
    if rows.is_empty() {
        body.push_str(&html::empty(
            "No state machines to show (they live in the project's machines/ folder, or are made with CreateStateMachine).",
        ));
    } else {
        table(&mut body, &rows);
    }
    body.push_str("</div>");
    Ok(Page::new("State machines", Section::Machines)
        .live("machines")
        .body(body)
        .render(&ctx))
}

/// How many of the executions `filter` keeps started since `since` (at most [`COUNTED`]; true
/// when there may be more).
async fn started_since(
    machines: &weir_engine::machines::Machines,
    filter: ExecutionFilter<'_>,
    since: i64,
) -> Result<(usize, bool), super::PageError> {
    let found = machines.executions(filter, None, COUNTED).await?;
    let within = found.iter().filter(|e| e.started_at >= since).count();
    Ok((within, within == COUNTED as usize))
}

fn count(counted: (usize, bool)) -> String {
    match counted {
        (0, _) => "<span class=\"muted\">0</span>".into(),
        (n, true) => format!("{n}+"),
        (n, false) => n.to_string(),
    }
}

fn table(body: &mut String, rows: &[Row]) {
    body.push_str(
        "<div class=\"scroll\"><table class=\"list\" id=\"machine-list\"><thead><tr><th scope=\"col\">Name</th>\
         <th scope=\"col\">Type</th><th scope=\"col\" class=\"hide-narrow\">Created</th>\
         <th scope=\"col\">Recent executions (newest first)</th>\
         <th scope=\"col\" class=\"num\">Running (24 h)</th><th scope=\"col\" class=\"num\">Failed (24 h)</th></tr></thead><tbody>",
    );
    for row in rows {
        let mut strip = String::from("<span class=\"strip\">");
        for execution in &row.recent {
            let (glyph, class) = state_glyph(&execution.status);
            let label = format!("{}: {}", execution.name, execution.status.to_lowercase());
            let _ = write!(
                strip,
                "<a class=\"{class}\" href=\"{}\" title=\"{label}\" aria-label=\"{label}\">{glyph}</a>",
                attr(&format!("/ui/executions/{}", url(&execution.arn))),
                label = attr(&label),
            );
        }
        if row.recent.is_empty() {
            strip.push_str("<span class=\"muted\">no executions yet</span>");
        }
        strip.push_str("</span>");
        let name = &row.machine.name;
        let _ = write!(
            body,
            "<tr data-name=\"{name_attr}\"><th scope=\"row\">{link}</th><td>{kind}</td>\
             <td class=\"hide-narrow\">{created}</td><td>{strip}</td>\
             <td class=\"num\" data-running=\"{running_n}\">{running}</td><td class=\"num\" data-failed=\"{failed_n}\">{failed}</td></tr>",
            name_attr = attr(name),
            link = html::link(&format!("/ui/machines/{}", url(name)), name),
            kind = esc(&row.machine.machine_type.to_lowercase()),
            created = html::time(row.machine.created_at),
            running_n = row.running.0,
            running = count(row.running),
            failed_n = row.failed.0,
            failed = if row.failed.0 > 0 {
                format!(
                    "<a class=\"st-failed\" href=\"{}\">{}</a>",
                    attr(&format!("/ui/machines/{}?status=FAILED", url(name))),
                    count(row.failed)
                )
            } else {
                count(row.failed)
            },
        );
    }
    body.push_str("</tbody></table></div>");
}
