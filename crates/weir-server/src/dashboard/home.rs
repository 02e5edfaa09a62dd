//! `GET /`: every pipeline and state machine the caller may see, with its status, schedule, next
//! run and the states of its recent runs at a glance. Failures first; filtered by name, tag and
//! state from the query string (so a filtered view is a link).

use std::fmt::Write;

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use serde::Deserialize;
use weir_store::{ExecutionFilter, ExecutionRecord, RunRecord};

use super::html::{self, Action, action_button, attr, esc, state_badge, state_glyph, url};
use super::{Ctx, Page, PageResult, Section};
use crate::api;

/// Recent runs shown per pipeline (and executions per state machine).
const RECENT: u32 = 12;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct HomeQuery {
    /// Part of the name (any case).
    #[serde(default)]
    q: String,
    #[serde(default)]
    tag: String,
    /// The latest run's state: `failed`, `running`, `success`, … or `paused`.
    #[serde(default)]
    state: String,
}

impl HomeQuery {
    fn keeps(&self, name: &str, tags: &[String], latest: &str, paused: bool) -> bool {
        let q = self.q.trim().to_lowercase();
        (q.is_empty() || name.to_lowercase().contains(&q))
            && (self.tag.is_empty() || tags.contains(&self.tag))
            && match self.state.as_str() {
                "" => true,
                "paused" => paused,
                state => latest.eq_ignore_ascii_case(state),
            }
    }
}

/// One row of the home page.
struct Row {
    name: String,
    href: String,
    kind: &'static str,
    detail: String,
    schedule: String,
    next: String,
    paused: bool,
    tags: Vec<String>,
    /// Newest first: (state, link).
    recent: Vec<(String, String)>,
    actions: String,
}

impl Row {
    fn latest(&self) -> &str {
        self.recent.first().map_or("", |(state, _)| state.as_str())
    }
}

pub(crate) async fn page(ctx: Ctx, query: Result<Query<HomeQuery>, QueryRejection>) -> PageResult {
    let Query(query) = query?;
    let (pipelines, problems) = ctx.state.engine.pipelines().await?;
    let mut rows = pipeline_rows(&ctx, pipelines).await?;
    rows.extend(machine_rows(&ctx).await?);
    let mut tags: Vec<String> = rows.iter().flat_map(|r| r.tags.clone()).collect();
    tags.sort();
    tags.dedup();
    rows.retain(|row| query.keeps(&row.name, &row.tags, row.latest(), row.paused));
    // Failures first, then what is running, then by name.
    rows.sort_by(|a, b| {
        html::severity(b.latest())
            .cmp(&html::severity(a.latest()))
            .then_with(|| a.name.cmp(&b.name))
    });

    let problems = api::pipelines::granted_problems(problems, &ctx.identity);
    let mut body = filters(&query, &tags);
    body.push_str("<div id=\"overview\" data-live-region>");
    if !problems.is_empty() {
        body.push_str(
            "<section class=\"card\" aria-labelledby=\"problems\"><h2 id=\"problems\">Definitions with problems</h2><ul>",
        );
        for problem in &problems {
            let _ = write!(body, "<li><code>{}</code></li>", esc(&problem.to_string()));
        }
        body.push_str("</ul></section>");
    }
    if rows.is_empty() {
        body.push_str(&html::empty(
            "Nothing to show: no pipelines or state machines match (pipelines live in the project's pipelines/ folder).",
        ));
    } else {
        table(&mut body, &rows);
    }
    body.push_str("</div>");
    Ok(Page::new("Pipelines and state machines", Section::Home)
        .live("pipelines")
        .live("machines")
        .body(body)
        .render(&ctx))
}

fn filters(query: &HomeQuery, tags: &[String]) -> String {
    let mut html = format!(
        "<form class=\"filters\" method=\"get\" action=\"/\" role=\"search\">\
         <label>Name <input type=\"search\" name=\"q\" value=\"{}\"></label>",
        attr(&query.q)
    );
    html.push_str("<label>Tag <select name=\"tag\"><option value=\"\">any</option>");
    for tag in tags {
        let selected = if *tag == query.tag { " selected" } else { "" };
        let _ = write!(
            html,
            "<option{selected} value=\"{}\">{}</option>",
            attr(tag),
            esc(tag)
        );
    }
    html.push_str("</select></label><label>Latest run <select name=\"state\">");
    for state in [
        "",
        "failed",
        "running",
        "queued",
        "success",
        "cancelled",
        "paused",
    ] {
        let selected = if state == query.state {
            " selected"
        } else {
            ""
        };
        let label = if state.is_empty() { "any" } else { state };
        let _ = write!(html, "<option{selected} value=\"{state}\">{label}</option>");
    }
    html.push_str("</select></label><button class=\"btn\">Filter</button></form>");
    html
}

fn table(body: &mut String, rows: &[Row]) {
    body.push_str(
        "<div class=\"scroll\"><table class=\"list\" id=\"things\"><thead><tr><th scope=\"col\">Name</th>\
         <th scope=\"col\">Latest</th><th scope=\"col\">Recent (newest first)</th>\
         <th scope=\"col\" class=\"hide-narrow\">Schedule</th><th scope=\"col\" class=\"hide-narrow\">Next run</th>\
         <th scope=\"col\"><span class=\"sr-only\">Actions</span></th></tr></thead><tbody>",
    );
    for row in rows {
        let latest = if row.latest().is_empty() {
            "<span class=\"muted\">no runs yet</span>".to_string()
        } else {
            state_badge(row.latest())
        };
        let paused = if row.paused {
            format!(" {}", state_badge("paused"))
        } else {
            String::new()
        };
        let mut strip = String::from("<span class=\"strip\">");
        for (state, href) in &row.recent {
            let (glyph, class) = state_glyph(state);
            let _ = write!(
                strip,
                "<a class=\"{class}\" href=\"{}\" title=\"{}\" aria-label=\"{}\">{glyph}</a>",
                attr(href),
                attr(state),
                attr(state)
            );
        }
        strip.push_str("</span>");
        let tags = row
            .tags
            .iter()
            .map(|t| format!("<span class=\"role\">{}</span>", esc(t)))
            .collect::<Vec<_>>()
            .join(" ");
        let _ = write!(
            body,
            "<tr data-name=\"{name_attr}\"><th scope=\"row\"><a href=\"{href}\">{name}</a> \
             <span class=\"muted\">{kind}</span>{paused}<div class=\"muted\">{detail} {tags}</div></th>\
             <td>{latest}</td><td>{strip}</td><td class=\"hide-narrow\"><code>{schedule}</code></td>\
             <td class=\"hide-narrow\">{next}</td><td>{actions}</td></tr>",
            name_attr = attr(&row.name),
            href = attr(&row.href),
            name = esc(&row.name),
            kind = row.kind,
            detail = esc(&row.detail),
            schedule = esc(&row.schedule),
            next = row.next,
            actions = row.actions,
        );
    }
    body.push_str("</tbody></table></div>");
}

async fn pipeline_rows(
    ctx: &Ctx,
    mut pipelines: Vec<weir_engine::PipelineInfo>,
) -> Result<Vec<Row>, super::PageError> {
    pipelines.retain(|p| ctx.identity.grants().pipeline(&p.name));
    let store = ctx.state.engine.store();
    let mut rows = Vec::with_capacity(pipelines.len());
    for pipeline in pipelines {
        let runs: Vec<RunRecord> = store.runs(Some(&pipeline.name), RECENT).await?;
        let name = url(&pipeline.name);
        let trigger_url = format!("/api/v1/pipelines/{name}/runs");
        let trigger_question = format!(
            "Trigger a run of {} with its default params?",
            pipeline.name
        );
        let trigger = Action {
            label: "Trigger",
            method: "POST",
            url: &trigger_url,
            body: Some("{}"),
            confirm: Some(&trigger_question),
            then: Some("/ui/runs/{run_id}"),
            class: "primary",
            ..Action::default()
        };
        let actions = format!(
            "{}{}",
            action_button(ctx, &trigger),
            super::pipeline::pause_button(ctx, &pipeline)
        );
        rows.push(Row {
            href: format!("/ui/pipelines/{name}"),
            kind: "pipeline",
            detail: pipeline.description.clone().unwrap_or_else(|| {
                format!(
                    "{} task{}",
                    pipeline.tasks.len(),
                    if pipeline.tasks.len() == 1 { "" } else { "s" }
                )
            }),
            schedule: pipeline.schedule.clone().unwrap_or_else(|| "—".into()),
            next: match (&pipeline.next_run_at, pipeline.paused) {
                (Some(next), false) => html::time_rfc3339(next),
                _ => "—".into(),
            },
            paused: pipeline.paused,
            tags: pipeline.tags.clone(),
            recent: runs
                .iter()
                .map(|run| (run.state.clone(), format!("/ui/runs/{}", url(&run.id))))
                .collect(),
            actions,
            name: pipeline.name,
        });
    }
    Ok(rows)
}

async fn machine_rows(ctx: &Ctx) -> Result<Vec<Row>, super::PageError> {
    let Some(machines) = &ctx.state.machines else {
        return Ok(Vec::new());
    };
    let list = machines.list().await?;
    let mut rows = Vec::new();
    for machine in list {
        if !ctx.identity.grants().pipeline(&machine.name) {
            continue;
        }
        let filter = ExecutionFilter {
            machine_arn: Some(&machine.arn),
            status: None,
            redriven: None,
        };
        let executions: Vec<ExecutionRecord> = machines.executions(filter, None, RECENT).await?;
        rows.push(Row {
            href: format!("/ui/machines/{}", url(&machine.name)),
            kind: "state machine",
            detail: machine.machine_type.to_lowercase(),
            schedule: "—".into(),
            next: "—".into(),
            paused: false,
            tags: Vec::new(),
            recent: executions
                .iter()
                .map(|e| (e.status.clone(), format!("/ui/executions/{}", url(&e.arn))))
                .collect(),
            actions: String::new(),
            name: machine.name,
        });
    }
    Ok(rows)
}
