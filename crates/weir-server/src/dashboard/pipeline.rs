//! `GET /ui/pipelines/{name}`: Airflow's grid, faster. Runs across (oldest on the left, newest
//! on the right, as Airflow puts them), tasks down in the pipeline's order, dotted task ids
//! (`group.task`) under collapsible group rows that show the worst state of their members, a
//! mapped task's row summing up its instances. Above it: the pipeline's facts and its actions
//! (trigger with params, backfill, pause), and a checkbox per run for bulk actions.
//!
//! Small per cell: 50 tasks × 1,000 runs is 50,000 cells, so a cell is only its state (a
//! one-letter class and a glyph) and `data-i="MILLISECONDS[,TRY]"`, with no end tag (HTML lets a
//! `td` end where the next begins); the run is named once in its column's header and the task
//! once in its row, and `weir.js` builds a cell's tooltip and link from those when it is pointed
//! at or focused.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use serde::Deserialize;
use serde_json::Value;
use weir_engine::PipelineInfo;
use weir_store::{RunRecord, TaskState};

use super::html::{self, Action, action_button, attr, esc, state_badge, state_glyph, url};
use super::{Ctx, Page, PageError, PageResult, Section};

/// Runs shown when the query does not say.
const DEFAULT_RUNS: u32 = 25;
/// Runs one page shows at most.
const MAX_RUNS: u32 = 1000;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct GridQuery {
    /// How many runs (default 25, at most 1,000).
    runs: Option<u32>,
    /// Show the runs older than this run (paging back).
    before: Option<String>,
    /// Groups shown as one row: names separated by commas, `*` for all.
    #[serde(default)]
    collapse: String,
}

/// The pipeline as it is defined now, when the caller may see it: None when it is not granted
/// or not defined (a page answers 404 either way, so a narrowed credential learns nothing).
pub(super) async fn granted_pipeline(
    ctx: &Ctx,
    name: &str,
) -> Result<Option<PipelineInfo>, PageError> {
    if !ctx.identity.grants().pipeline(name) {
        return Ok(None);
    }
    let (pipelines, _) = ctx.state.engine.pipelines().await?;
    Ok(pipelines.into_iter().find(|p| p.name == name))
}

/// The group a task id belongs to: its part before the first dot.
pub(super) fn group_of(task_id: &str) -> Option<&str> {
    task_id.split_once('.').map(|(group, _)| group)
}

pub(crate) async fn page(
    ctx: Ctx,
    Path(name): Path<String>,
    query: Result<Query<GridQuery>, QueryRejection>,
) -> PageResult {
    let Query(query) = query?;
    let not_found = || PageError::not_found(format!("no pipeline `{name}`"));
    if !ctx.identity.grants().pipeline(&name) {
        return Err(not_found());
    }
    let pipeline = granted_pipeline(&ctx, &name).await?;
    let limit = query.runs.unwrap_or(DEFAULT_RUNS).clamp(1, MAX_RUNS);
    let runs = runs_page(&ctx, &name, query.before.as_deref(), limit).await?;
    // A pipeline whose file is gone still shows its runs; one that never was is not found.
    if pipeline.is_none() && runs.is_empty() && query.before.is_none() {
        return Err(not_found());
    }
    let instances = instances(&ctx, &runs).await?;

    let mut body = String::new();
    let path = format!("/ui/pipelines/{}", url(&name));
    body.push_str("<div id=\"facts\" data-live-region>");
    match &pipeline {
        Some(pipeline) => facts(&ctx, &mut body, pipeline, &path),
        None => body.push_str(&html::empty(
            "This pipeline is not defined now (its file is gone or invalid); its runs are kept.",
        )),
    }
    body.push_str("</div>");
    if let Some(pipeline) = &pipeline
        && ctx.can_operate()
    {
        forms(&mut body, pipeline);
    }

    let grid = Grid::new(pipeline.as_ref(), &runs, &instances, &query.collapse);
    let view = View {
        path: &path,
        limit,
        before: query.before.as_deref(),
        collapse: &query.collapse,
    };
    body.push_str("<div data-bulk>");
    body.push_str("<div id=\"grid\" data-live-region>");
    grid.render(&mut body, &view, ctx.can_operate());
    body.push_str("</div>");
    if ctx.can_operate() && !runs.is_empty() {
        bulk_bar(&mut body);
    }
    body.push_str("</div>");

    Ok(Page::new(name.clone(), Section::Home)
        .crumb("Pipelines", Some("/"))
        .live(format!("pipeline:{name}"))
        .body(body)
        .render(&ctx))
}

/// A page of the pipeline's runs, newest first: at most `limit` older than the run `before`
/// (none when that run is not one of the pipeline's).
async fn runs_page(
    ctx: &Ctx,
    pipeline: &str,
    before: Option<&str>,
    limit: u32,
) -> Result<Vec<RunRecord>, PageError> {
    let store = ctx.state.engine.store();
    let cursor = match before {
        None => None,
        Some(id) => match store.run(id).await? {
            Some(run) if run.pipeline == pipeline => Some((run.created_at, run.id)),
            _ => return Ok(Vec::new()),
        },
    };
    let cursor = cursor.as_ref().map(|(at, id)| (*at, id.as_str()));
    Ok(store.runs_page(pipeline, cursor, limit).await?)
}

/// The states of the runs' task instances, in one read.
async fn instances(ctx: &Ctx, runs: &[RunRecord]) -> Result<Vec<TaskState>, PageError> {
    let ids: Vec<String> = runs.iter().map(|run| run.id.clone()).collect();
    Ok(ctx.state.engine.store().task_states(&ids).await?)
}

/// Pause or Unpause, whichever the pipeline is not (nothing for a viewer).
pub(super) fn pause_button(ctx: &Ctx, pipeline: &PipelineInfo) -> String {
    let (label, verb) = if pipeline.paused {
        ("Unpause", "unpause")
    } else {
        ("Pause", "pause")
    };
    let pause_url = format!("/api/v1/pipelines/{}/{verb}", url(&pipeline.name));
    let question = format!(
        "Pause {}? No new scheduled runs start until it is unpaused.",
        pipeline.name
    );
    action_button(
        ctx,
        &Action {
            label,
            method: "POST",
            url: &pause_url,
            confirm: (!pipeline.paused).then_some(question.as_str()),
            ..Action::default()
        },
    )
}

fn facts(ctx: &Ctx, body: &mut String, pipeline: &PipelineInfo, path: &str) {
    let name = url(&pipeline.name);
    let pause = pause_button(ctx, pipeline);
    let schedule = pipeline.schedule.as_deref().unwrap_or("none (manual)");
    let next = match (&pipeline.next_run_at, pipeline.paused) {
        (Some(next), false) => html::time_rfc3339(next),
        _ => "—".into(),
    };
    let status = if pipeline.paused {
        state_badge("paused")
    } else {
        "<span class=\"muted\">active</span>".into()
    };
    let tags = if pipeline.tags.is_empty() {
        "—".to_string()
    } else {
        pipeline
            .tags
            .iter()
            .map(|t| format!("<span class=\"role\">{}</span>", esc(t)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let params = if pipeline.params.is_empty() {
        String::new()
    } else {
        format!(
            "<details><summary>Params ({})</summary>{}</details>",
            pipeline.params.len(),
            html::json_block(&Value::Object(pipeline.params.clone()))
        )
    };
    let _ = write!(
        body,
        "<section class=\"card\" aria-labelledby=\"about\"><h2 id=\"about\" class=\"sr-only\">About</h2>\
         {description}<dl class=\"facts wide\">\
         <dt>Schedule</dt><dd><code>{schedule}</code> <span class=\"muted\">{timezone}</span></dd>\
         <dt>Next run</dt><dd>{next}</dd><dt>Status</dt><dd>{status} {pause}</dd>\
         <dt>Tags</dt><dd>{tags}</dd><dt>Tasks</dt><dd>{tasks}</dd>\
         <dt>File</dt><dd><code>{file}</code> <span class=\"muted\">version {version}</span></dd>\
         <dt>Catch-up</dt><dd>{catchup}</dd><dt>Active runs at most</dt><dd>{max_active}</dd></dl>\
         <p class=\"row\"><a href=\"{path}/graph\">Graph</a> <a href=\"/api/v1/pipelines/{name}\">JSON</a></p>\
         {params}</section>",
        description = pipeline
            .description
            .as_deref()
            .map(|d| format!("<p>{}</p>", esc(d)))
            .unwrap_or_default(),
        schedule = esc(schedule),
        timezone = esc(&pipeline.timezone),
        tasks = pipeline.tasks.len(),
        file = esc(&pipeline.file),
        version = esc(pipeline.version.get(..12).unwrap_or(&pipeline.version)),
        catchup = if pipeline.catchup { "yes" } else { "no" },
        max_active = pipeline.max_active_runs,
        path = attr(path),
    );
}

/// Trigger (a form made from the pipeline's params, with their defaults) and backfill.
fn forms(body: &mut String, pipeline: &PipelineInfo) {
    let name = url(&pipeline.name);
    let _ = write!(
        body,
        "<div class=\"row actions\"><details class=\"card\"><summary>Trigger a run…</summary>\
         <form class=\"stack\" data-api data-method=\"POST\" data-url=\"/api/v1/pipelines/{name}/runs\" \
         data-confirm=\"{confirm}\" data-then=\"/ui/runs/{{run_id}}\">",
        confirm = attr(&format!(
            "Trigger a run of {} with these params?",
            pipeline.name
        )),
    );
    for (key, default) in &pipeline.params {
        let field = format!("params.{key}");
        // The param's place in the body, given whole: a name such as `a.b` is one key, not a
        // path (weir.js splits `name` on dots otherwise).
        let path = attr(&serde_json::json!(["params", key]).to_string());
        let input = match default {
            Value::String(text) => {
                format!(
                    "<input name=\"{}\" data-path=\"{path}\" value=\"{}\">",
                    attr(&field),
                    attr(text)
                )
            }
            Value::Number(number) => format!(
                "<input type=\"number\" step=\"any\" name=\"{}\" data-path=\"{path}\" value=\"{number}\">",
                attr(&field)
            ),
            Value::Bool(yes) => format!(
                "<select name=\"{}\" data-path=\"{path}\" data-json><option value=\"true\"{}>true</option>\
                 <option value=\"false\"{}>false</option></select>",
                attr(&field),
                if *yes { " selected" } else { "" },
                if *yes { "" } else { " selected" },
            ),
            other => format!(
                "<textarea name=\"{}\" data-path=\"{path}\" data-json rows=\"3\">{}</textarea>",
                attr(&field),
                esc(&serde_json::to_string_pretty(other).unwrap_or_default())
            ),
        };
        let hint = if default.is_string() || default.is_number() || default.is_boolean() {
            ""
        } else {
            " <span class=\"muted\">(JSON)</span>"
        };
        let _ = write!(body, "<label>{}{hint} {input}</label>", esc(key));
    }
    let _ = write!(
        body,
        "<label>Logical date <span class=\"muted\">(empty: now; YYYY-MM-DD or RFC 3339)</span>\
         <input name=\"logical_date\"></label>\
         <div><button type=\"submit\" class=\"btn primary\">Trigger</button></div></form></details>\
         <details class=\"card\"><summary>Backfill a date range…</summary>\
         <form class=\"stack\" data-api data-method=\"POST\" data-url=\"/api/v1/pipelines/{name}/backfill\" \
         data-confirm=\"{confirm}\"><p class=\"muted\">One run per schedule interval starting in the range; \
         intervals that have a run are skipped.</p>\
         <label>From <input type=\"date\" name=\"from\" required></label>\
         <label>To <input type=\"date\" name=\"to\" required></label>\
         <div><button type=\"submit\" class=\"btn\">Backfill</button></div></form></details></div>",
        confirm = attr(&format!(
            "Create a run of {} for every interval in this range?",
            pipeline.name
        )),
    );
}

fn bulk_bar(body: &mut String) {
    body.push_str(
        "<div class=\"bulkbar\" role=\"group\" aria-label=\"Actions on the selected runs\">\
         <span data-bulk-count>0 selected</span>",
    );
    for (label, action, question, class) in [
        (
            "Retry",
            "retry",
            "Retry {count} selected run(s) from their failed tasks?",
            "",
        ),
        (
            "Cancel",
            "cancel",
            "Cancel {count} selected run(s)?",
            "danger",
        ),
        (
            "Mark success",
            "mark_success",
            "Mark {count} selected run(s) success (their unfinished and failed tasks too)?",
            "",
        ),
        (
            "Mark failed",
            "mark_failed",
            "Mark {count} selected run(s) failed (their unfinished tasks too)?",
            "danger",
        ),
    ] {
        let _ = write!(
            body,
            "<button type=\"button\" class=\"btn {class}\" data-bulk-action data-method=\"POST\" \
             data-url=\"/api/v1/runs/bulk\" data-key=\"runs\" data-body=\"{}\" data-confirm=\"{}\" disabled>{label}</button>",
            attr(&format!("{{\"action\":\"{action}\"}}")),
            attr(question),
        );
    }
    body.push_str("</div>");
}

/// What the grid's links keep: the page, its size, its cursor and its collapsed groups.
#[derive(Clone, Copy)]
struct View<'a> {
    path: &'a str,
    limit: u32,
    before: Option<&'a str>,
    collapse: &'a str,
}

impl View<'_> {
    fn href(&self, before: Option<&str>, collapse: &str) -> String {
        let mut href = format!("{}?runs={}", self.path, self.limit);
        if let Some(before) = before {
            let _ = write!(href, "&before={}", url(before));
        }
        if !collapse.is_empty() {
            let _ = write!(href, "&collapse={}", url(collapse));
        }
        href
    }
}

/// One row of the grid: a task, a mapped task or a group of tasks.
enum RowKind {
    Task,
    /// A group's summary row; `collapsed` when its members are hidden.
    Group {
        collapsed: bool,
        members: usize,
    },
}

struct Row<'a> {
    /// The task id, or the group's name.
    key: String,
    kind: RowKind,
    mapped: bool,
    /// Indented under a group.
    member: bool,
    /// One per run shown, oldest first.
    cells: Vec<Cell<'a>>,
}

/// What a cell shows: the state (worst of a group's members), the try and the duration, and a
/// mapped task's instances counted by state. Its texts are the task states read (50,000 cells
/// copy none).
#[derive(Default, Clone)]
struct Cell<'a> {
    state: Option<&'a str>,
    try_number: i32,
    duration_ms: Option<i64>,
    counts: Vec<(&'a str, u32)>,
}

impl<'a> Cell<'a> {
    fn worsen(&mut self, state: &'a str) {
        let worse = match &self.state {
            None => true,
            Some(now) => html::severity(state) > html::severity(now),
        };
        if worse {
            self.state = Some(state);
        }
    }

    fn count(&mut self, state: &'a str) {
        match self.counts.iter_mut().find(|(s, _)| *s == state) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((state, 1)),
        }
    }
}

struct Grid<'a> {
    /// Oldest first, as the columns go.
    runs: Vec<&'a RunRecord>,
    rows: Vec<Row<'a>>,
    /// The oldest run shown: where the "older runs" page starts.
    oldest: Option<&'a str>,
}

impl<'a> Grid<'a> {
    fn new(
        pipeline: Option<&PipelineInfo>,
        runs: &'a [RunRecord],
        instances: &'a [TaskState],
        collapse: &str,
    ) -> Grid<'a> {
        let columns: HashMap<&str, usize> = runs
            .iter()
            .rev()
            .enumerate()
            .map(|(i, run)| (run.id.as_str(), i))
            .collect();
        // Tasks in the pipeline's order, then those only older runs have (sorted).
        let mut order: Vec<String> = pipeline
            .map(|p| p.tasks.iter().map(|t| t.id.clone()).collect())
            .unwrap_or_default();
        let mut known: HashSet<String> = order.iter().cloned().collect();
        let mut extra: Vec<String> = instances
            .iter()
            .filter(|i| !known.contains(&i.task_id))
            .map(|i| i.task_id.clone())
            .collect();
        extra.sort();
        extra.dedup();
        known.extend(extra.iter().cloned());
        order.extend(extra);
        let mapped: HashSet<&str> = pipeline
            .map(|p| {
                p.tasks
                    .iter()
                    .filter(|t| t.mapped)
                    .map(|t| t.id.as_str())
                    .collect()
            })
            .unwrap_or_default();

        let width = runs.len();
        let mut task_cells: HashMap<&str, Vec<Cell>> = order
            .iter()
            .map(|t| (t.as_str(), vec![Cell::default(); width]))
            .collect();
        let mut has_instances: HashSet<&str> = HashSet::new();
        for instance in instances {
            let (Some(&column), Some(cells)) = (
                columns.get(instance.run_id.as_str()),
                task_cells.get_mut(instance.task_id.as_str()),
            ) else {
                continue;
            };
            let cell = &mut cells[column];
            if instance.map_index >= 0 {
                cell.count(&instance.state);
                has_instances.insert(instance.task_id.as_str());
                continue;
            }
            cell.state = Some(&instance.state);
            cell.try_number = instance.try_number;
            cell.duration_ms = instance
                .started_at
                .zip(instance.ended_at)
                .map(|(s, e)| (e - s) / 1000);
        }

        let all_collapsed = collapse == "*";
        let collapsed: HashSet<&str> = collapse.split(',').filter(|g| !g.is_empty()).collect();
        let mut rows: Vec<Row> = Vec::new();
        let mut seen_groups: HashSet<&str> = HashSet::new();
        for task in &order {
            let Some(group) = group_of(task) else {
                let cells = task_cells.remove(task.as_str()).unwrap_or_default();
                rows.push(Row {
                    key: task.clone(),
                    kind: RowKind::Task,
                    mapped: mapped.contains(task.as_str()) || has_instances.contains(task.as_str()),
                    member: false,
                    cells,
                });
                continue;
            };
            if !seen_groups.insert(group) {
                continue;
            }
            // The group's row where its first member is, then its members (unless collapsed).
            let members: Vec<&String> = order
                .iter()
                .filter(|t| group_of(t) == Some(group))
                .collect();
            let is_collapsed = all_collapsed || collapsed.contains(group);
            let mut summary = vec![Cell::default(); width];
            let mut member_rows = Vec::new();
            for member in &members {
                let cells = task_cells.remove(member.as_str()).unwrap_or_default();
                for (sum, cell) in summary.iter_mut().zip(&cells) {
                    if let Some(state) = &cell.state {
                        sum.worsen(state);
                        sum.count(state);
                    }
                }
                member_rows.push(Row {
                    key: (*member).clone(),
                    kind: RowKind::Task,
                    mapped: mapped.contains(member.as_str())
                        || has_instances.contains(member.as_str()),
                    member: true,
                    cells,
                });
            }
            rows.push(Row {
                key: group.to_string(),
                kind: RowKind::Group {
                    collapsed: is_collapsed,
                    members: members.len(),
                },
                mapped: false,
                member: false,
                cells: summary,
            });
            if !is_collapsed {
                rows.extend(member_rows);
            }
        }
        Grid {
            runs: runs.iter().rev().collect(),
            rows,
            oldest: runs.last().map(|r| r.id.as_str()),
        }
    }

    fn render(&self, body: &mut String, view: &View, selectable: bool) {
        // Paging.
        body.push_str("<nav class=\"row\" aria-label=\"Runs shown\">");
        let _ = write!(
            body,
            "<span class=\"muted\">{} run{} shown, oldest on the left, newest on the right</span>",
            self.runs.len(),
            if self.runs.len() == 1 { "" } else { "s" }
        );
        if let Some(oldest) = self.oldest
            && self.runs.len() as u32 >= view.limit
        {
            let _ = write!(
                body,
                "<a href=\"{}\">← older runs</a>",
                attr(&view.href(Some(oldest), view.collapse))
            );
        }
        if view.before.is_some() {
            let _ = write!(
                body,
                "<a href=\"{}\">newest runs →</a>",
                attr(&view.href(None, view.collapse))
            );
        }
        for n in [25, 100, 365, 1000] {
            if n != view.limit {
                let other = View { limit: n, ..*view };
                let _ = write!(
                    body,
                    "<a href=\"{}\">{n} runs</a>",
                    attr(&other.href(view.before, view.collapse))
                );
            }
        }
        let _ = write!(
            body,
            "<a href=\"{}\">collapse groups</a> <a href=\"{}\">expand groups</a>",
            attr(&view.href(view.before, "*")),
            attr(&view.href(view.before, ""))
        );
        body.push_str("</nav>");
        if self.runs.is_empty() {
            body.push_str(&html::empty(if view.before.is_some() {
                "No older runs."
            } else {
                "No runs yet."
            }));
            return;
        }

        body.push_str(
            "<div class=\"scroll\" data-scroll-end><table class=\"grid\" role=\"grid\" \
             aria-label=\"Task instances: tasks down, runs across\" data-cell-href=\"/ui/runs/{run}/tasks/{task}\">\
             <thead><tr><th scope=\"col\">Task</th>",
        );
        for run in &self.runs {
            let (glyph, class) = state_glyph(&run.state);
            let date = weir_engine::time::format_us(run.logical_date);
            let short = date.get(5..16).unwrap_or(&date).replace('T', " ");
            let id = url(&run.id);
            let _ = write!(
                body,
                "<th data-run=\"{id_attr}\"><a href=\"/ui/runs/{id_attr}\" title=\"{title}\">\
                 <span class=\"{class}\" aria-hidden=\"true\">{glyph}</span>{short}</a></th>",
                id_attr = attr(&id),
                title = attr(&format!("{} · {} · {}", run.id, run.run_type, run.state)),
                short = esc(&short),
            );
        }
        body.push_str("</tr>");
        if selectable {
            body.push_str(
                "<tr><th scope=\"row\"><label><input type=\"checkbox\" data-select-all> all runs</label></th>",
            );
            for run in &self.runs {
                let _ = write!(
                    body,
                    "<th><input type=checkbox data-select value=\"{}\" aria-label=\"Select this run\"></th>",
                    attr(&run.id)
                );
            }
            body.push_str("</tr>");
        }
        body.push_str("</thead><tbody>");
        let mut first_cell = true;
        for row in &self.rows {
            self.row(body, row, view, &mut first_cell);
        }
        body.push_str("</tbody></table></div>");
        legend(body);
    }

    fn row(&self, body: &mut String, row: &Row, view: &View, first_cell: &mut bool) {
        match &row.kind {
            RowKind::Task => {
                let label = if row.member {
                    row.key
                        .split_once('.')
                        .map_or(row.key.as_str(), |(_, rest)| rest)
                } else {
                    row.key.as_str()
                };
                let _ = write!(
                    body,
                    "<tr data-task=\"{task}\"><th scope=\"row\"{class} title=\"{task_title}\">{label}{mapped}</th>",
                    task = attr(&url(&row.key)),
                    class = if row.member { " class=\"member\"" } else { "" },
                    task_title = attr(&row.key),
                    label = esc(label),
                    mapped = if row.mapped {
                        " <span class=\"muted\">[mapped]</span>"
                    } else {
                        ""
                    },
                );
            }
            RowKind::Group { collapsed, members } => {
                let remaining: Vec<&str> = if view.collapse == "*" {
                    Vec::new()
                } else {
                    view.collapse
                        .split(',')
                        .filter(|g| !g.is_empty() && *g != row.key)
                        .collect()
                };
                let (href, glyph, verb) = if *collapsed {
                    (view.href(view.before, &remaining.join(",")), "▸", "Expand")
                } else {
                    let mut more = remaining.clone();
                    more.push(&row.key);
                    (view.href(view.before, &more.join(",")), "▾", "Collapse")
                };
                let _ = write!(
                    body,
                    "<tr class=\"group\" data-group=\"{group}\"><th scope=\"row\"><a href=\"{href}\" \
                     aria-expanded=\"{expanded}\" title=\"{verb} group {group_title}\">\
                     <span aria-hidden=\"true\">{glyph}</span> {name}</a> <span class=\"muted\">{members} tasks</span></th>",
                    group = attr(&row.key),
                    href = attr(&href),
                    expanded = !collapsed,
                    group_title = attr(&row.key),
                    name = esc(&row.key),
                );
            }
        }
        for cell in &row.cells {
            let Some(state) = cell.state else {
                if cell.counts.is_empty() {
                    body.push_str("<td class=n>");
                    continue;
                }
                // A mapped task whose parent is not recorded: its instances alone.
                let worst = cell
                    .counts
                    .iter()
                    .max_by_key(|(s, _)| html::severity(s))
                    .map_or("", |(s, _)| *s);
                mapped_cell(body, worst, cell, first_cell);
                continue;
            };
            // A group's cell whose members all share a state is that state alone.
            let summed = match row.kind {
                RowKind::Group { .. } => cell.counts.len() > 1,
                RowKind::Task => !cell.counts.is_empty(),
            };
            if summed {
                mapped_cell(body, state, cell, first_cell);
                continue;
            }
            let (glyph, class) = state_glyph(state);
            let (letter, named) = cell_class(class);
            let tab = if std::mem::take(first_cell) {
                " tabindex=0"
            } else {
                ""
            };
            let _ = write!(body, "<td class={letter}{tab}");
            // `data-i="MS[,TRY]"`: the try only when it is not the first.
            match (cell.duration_ms, cell.try_number) {
                (Some(ms), 0 | 1) => {
                    let _ = write!(body, " data-i={ms}");
                }
                (Some(ms), tries) => {
                    let _ = write!(body, " data-i={ms},{tries}");
                }
                (None, 0 | 1) => {}
                (None, tries) => {
                    let _ = write!(body, " data-i=,{tries}");
                }
            }
            if state != named {
                let _ = write!(body, " data-s=\"{}\"", attr(state));
            }
            let _ = write!(body, ">{glyph}");
        }
        body.push_str("</tr>");
    }
}

/// A grid cell's class: one letter for the state class `html::state_glyph` gives (the cells are
/// many; `weir.css` colours these as the `st-*` classes), and the state weir.js names for it
/// (a cell whose state is another one of the class says which in `data-s`).
fn cell_class(class: &str) -> (&'static str, &'static str) {
    match class {
        "st-success" => ("s", "success"),
        "st-failed" => ("f", "failed"),
        "st-running" => ("r", "running"),
        "st-queued" => ("q", "queued"),
        "st-retry" => ("u", "up_for_retry"),
        "st-upstream" => ("x", "upstream_failed"),
        "st-skipped" => ("k", "skipped"),
        "st-cancelled" => ("c", "cancelled"),
        "st-timeout" => ("t", "timed_out"),
        "st-paused" => ("p", "paused"),
        _ => ("n", ""),
    }
}

/// A cell summing up several instances (a mapped task's, a group's members): the worst state's
/// glyph and the counts by state in `data-c`.
fn mapped_cell(body: &mut String, worst: &str, cell: &Cell, first_cell: &mut bool) {
    let (glyph, class) = state_glyph(worst);
    let (letter, _) = cell_class(class);
    let counts = cell
        .counts
        .iter()
        .map(|(state, n)| format!("{n} {}", state.replace('_', " ")))
        .collect::<Vec<_>>()
        .join(", ");
    let tab = if std::mem::take(first_cell) {
        " tabindex=0"
    } else {
        ""
    };
    let _ = write!(
        body,
        "<td class={letter}{tab} data-c=\"{}\">{glyph}",
        attr(&counts)
    );
}

fn legend(body: &mut String) {
    body.push_str("<p class=\"legend muted\">");
    for state in [
        "success",
        "failed",
        "running",
        "queued",
        "up_for_retry",
        "upstream_failed",
        "skipped",
        "cancelled",
    ] {
        body.push_str(&state_badge(state));
        body.push(' ');
    }
    body.push_str(
        "· a cell opens its task instance (click, or Enter); arrow keys move between cells</p>",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(count: usize) -> Vec<RunRecord> {
        (0..count)
            .rev()
            .map(|i| RunRecord {
                id: format!(
                    "wide__scheduled__2026-01-01T00:{:02}:{:02}+00:00",
                    i / 60,
                    i % 60
                ),
                pipeline: "wide".into(),
                version: "v".into(),
                state: "success".into(),
                run_type: "scheduled".into(),
                logical_date: i as i64 * 60_000_000,
                interval_start: 0,
                interval_end: 0,
                params: Value::Null,
                created_at: i as i64,
                started_at: Some(0),
                ended_at: Some(1),
                notified: true,
                event: None,
            })
            .collect()
    }

    fn instances(runs: &[RunRecord], tasks: usize) -> Vec<TaskState> {
        let mut out = Vec::new();
        for run in runs {
            for t in 0..tasks {
                out.push(TaskState {
                    run_id: run.id.clone(),
                    task_id: format!("g{}.t{t}", t / 10),
                    map_index: -1,
                    state: if t == 7 { "failed" } else { "success" }.into(),
                    try_number: 1,
                    started_at: Some(1_000_000),
                    ended_at: Some(13_400_000),
                });
            }
        }
        out
    }

    fn render(runs: &[RunRecord], instances: Vec<TaskState>, collapse: &str) -> String {
        let grid = Grid::new(None, runs, &instances, collapse);
        let view = View {
            path: "/ui/pipelines/wide",
            limit: runs.len() as u32,
            before: None,
            collapse,
        };
        let mut body = String::new();
        grid.render(&mut body, &view, true);
        body
    }

    #[test]
    fn the_grid_of_50_tasks_by_1000_runs_takes_at_most_40_bytes_a_cell() {
        let runs = runs(1000);
        let page = render(&runs, instances(&runs, 50), "");
        let per_cell = page.len() as f64 / 50_000.0;
        assert!(per_cell <= 40.0, "{per_cell:.1} bytes per cell");
        // Every task's row and every run's column, oldest run on the left.
        assert_eq!(page.matches("<tr data-task=").count(), 50);
        assert_eq!(page.matches("data-run=").count(), 1000);
        let oldest = page.find("00:00:00+00:00").unwrap();
        let newest = page.find("00:16:39+00:00").unwrap();
        assert!(oldest < newest);
        assert_eq!(page.matches("tabindex=0").count(), 1);
    }

    #[test]
    fn a_collapsed_group_is_one_row_with_its_worst_state() {
        let runs = runs(3);
        let page = render(&runs, instances(&runs, 20), "g0");
        assert!(!page.contains("data-task=\"g0.t1\""));
        assert!(page.contains("data-task=\"g1.t12\""));
        let group = &page[page.find("data-group=\"g0\"").unwrap()..];
        let group = &group[..group.find("</tr>").unwrap()];
        assert_eq!(group.matches("data-c=\"9 success, 1 failed\">✗").count(), 3);
        assert!(group.contains("aria-expanded=\"false\""));
        // Its link expands it, keeping the rest of the view.
        assert!(
            group.contains("href=\"/ui/pipelines/wide?runs=3\""),
            "{group}"
        );
        let all = render(&runs, instances(&runs, 20), "*");
        assert_eq!(all.matches("<tr data-task=").count(), 0);
        assert_eq!(all.matches("<tr class=\"group\"").count(), 2);
    }

    #[test]
    fn a_params_place_in_the_trigger_body_is_given_whole() {
        let mut params = serde_json::Map::new();
        params.insert("region.name".into(), serde_json::json!("eu"));
        params.insert("limits".into(), serde_json::json!({"rows": 5}));
        let pipeline = PipelineInfo {
            name: "p".into(),
            file: "pipelines/p.yaml".into(),
            version: "v".into(),
            description: None,
            tags: Vec::new(),
            schedule: None,
            timezone: "UTC".into(),
            catchup: false,
            paused: false,
            max_active_runs: 16,
            params,
            next_run_at: None,
            tasks: Vec::new(),
        };
        let mut body = String::new();
        forms(&mut body, &pipeline);
        // A dotted name stays one key (weir.js reads `data-path` before splitting `name`).
        assert!(
            body.contains("data-path=\"[&quot;params&quot;,&quot;region.name&quot;]\""),
            "{body}"
        );
        assert!(body.contains("data-path=\"[&quot;params&quot;,&quot;limits&quot;]\" data-json"));
    }
}
