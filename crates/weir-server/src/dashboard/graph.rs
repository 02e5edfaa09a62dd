//! `GET /ui/pipelines/{name}/graph[?run=ID&collapse=GROUPS]`: the pipeline's tasks and their
//! dependencies, laid out on the server as SVG (`layout.rs`), each task coloured by its state in
//! the chosen run (the latest by default) and linking to that task instance. Dotted task ids
//! (`group.task`) are drawn inside their group's box; a collapsed group is one node.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use serde::Deserialize;

use super::html::{self, attr, esc, state_badge, url};
use super::layout::{self, Direction, Edge, Graph, LayoutOptions, Node};
use super::pipeline::{granted_pipeline, group_of};
use super::run::{granted_run, task_href};
use super::{Ctx, Page, PageError, PageResult, Section};

/// Runs the picker offers.
const RECENT_RUNS: u32 = 25;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct GraphQuery {
    /// The run whose states colour the graph (default: the latest).
    run: Option<String>,
    /// Groups drawn as one node: names separated by commas, `*` for all.
    #[serde(default)]
    collapse: String,
}

pub(crate) async fn page(
    ctx: Ctx,
    Path(name): Path<String>,
    query: Result<Query<GraphQuery>, QueryRejection>,
) -> PageResult {
    let Query(query) = query?;
    let Some(pipeline) = granted_pipeline(&ctx, &name).await? else {
        return Err(PageError::not_found(format!("no pipeline `{name}`")));
    };
    let store = ctx.state.engine.store();
    let recent = store.runs(Some(&name), RECENT_RUNS).await?;
    let run = match &query.run {
        Some(id) => {
            let run = granted_run(&ctx, id).await?;
            if run.pipeline != name {
                return Err(PageError::not_found(format!(
                    "run {id} is not a run of `{name}`"
                )));
            }
            Some(run)
        }
        None => recent.first().cloned(),
    };
    let states: HashMap<String, String> = match &run {
        Some(run) => store
            .task_instances(&run.id)
            .await?
            .into_iter()
            .filter(|t| t.map_index == -1)
            .map(|t| (t.task_id, t.state))
            .collect(),
        None => HashMap::new(),
    };

    let groups: HashSet<&str> = pipeline
        .tasks
        .iter()
        .filter_map(|t| group_of(&t.id))
        .collect();
    let collapsed: HashSet<String> = if query.collapse == "*" {
        groups.iter().map(|g| g.to_string()).collect()
    } else {
        query
            .collapse
            .split(',')
            .filter(|g| groups.contains(g))
            .map(str::to_string)
            .collect()
    };
    let graph = Graph {
        nodes: pipeline
            .tasks
            .iter()
            .map(|task| {
                let group = group_of(&task.id).map(str::to_string);
                Node {
                    label: match &group {
                        Some(group) => task.id[group.len() + 1..].to_string(),
                        None => task.id.clone(),
                    },
                    state: states.get(&task.id).cloned(),
                    href: run.as_ref().map(|run| task_href(&run.id, &task.id, -1)),
                    kind: Some(if task.mapped {
                        format!("{} · mapped", task.action)
                    } else {
                        task.action.clone()
                    }),
                    group,
                    id: task.id.clone(),
                }
            })
            .collect(),
        edges: pipeline
            .tasks
            .iter()
            .flat_map(|task| {
                task.depends_on.iter().map(|from| Edge {
                    from: from.clone(),
                    to: task.id.clone(),
                    label: None,
                })
            })
            .collect(),
    };
    let base = format!("/ui/pipelines/{}/graph", url(&name));
    let run_param = run
        .as_ref()
        .filter(|_| query.run.is_some())
        .map(|run| format!("run={}&", url(&run.id)))
        .unwrap_or_default();
    let options = LayoutOptions {
        group_href: Some(group_links(
            base.clone(),
            run_param.clone(),
            collapsed.clone(),
        )),
        collapsed_groups: collapsed,
        direction: Direction::LeftToRight,
        aria_label: format!("Tasks of {name} and their dependencies"),
        id_prefix: "pipeline".into(),
    };

    let mut body = String::new();
    picker(
        &mut body,
        &base,
        &recent,
        run.as_ref().map(|r| r.id.as_str()),
    );
    body.push_str("<div id=\"graph\" data-live-region>");
    match &run {
        Some(run) => {
            let _ = write!(
                body,
                "<p>States of run {} {} · <a href=\"/ui/runs/{}\">its page</a></p>",
                esc(&run.id),
                state_badge(&run.state),
                attr(&url(&run.id))
            );
        }
        None => body.push_str(&html::empty("No runs yet: the graph shows no states.")),
    }
    if !groups.is_empty() {
        let _ = write!(
            body,
            "<p class=\"row\"><a href=\"{}\">collapse groups</a> <a href=\"{}\">expand groups</a></p>",
            attr(&format!("{base}?{run_param}collapse=*")),
            attr(&format!("{base}?{}", run_param.trim_end_matches('&')))
        );
    }
    let _ = write!(
        body,
        "<div class=\"scroll graph\">{}</div></div>",
        layout::render_svg(&graph, &options)
    );
    let pipeline_href = format!("/ui/pipelines/{}", url(&name));
    let mut page = Page::new(format!("{name}: graph"), Section::Home)
        .crumb("Pipelines", Some("/"))
        .crumb(&name, Some(&pipeline_href))
        .live(format!("pipeline:{name}"));
    if let Some(run) = &run {
        page = page.live(format!("run:{}", run.id));
    }
    Ok(page.body(body).render(&ctx))
}

/// The links that expand (`true`) or collapse (`false`) a group, keeping the run and the other
/// groups' state.
fn group_links(base: String, run_param: String, collapsed: HashSet<String>) -> layout::GroupHref {
    Box::new(move |group: &str, expand: bool| {
        let mut next: Vec<&str> = collapsed
            .iter()
            .map(String::as_str)
            .filter(|g| *g != group)
            .collect();
        if !expand {
            next.push(group);
        }
        next.sort_unstable();
        format!("{base}?{run_param}collapse={}", url(&next.join(",")))
    })
}

/// A form choosing the run whose states are drawn.
fn picker(body: &mut String, base: &str, recent: &[weir_store::RunRecord], chosen: Option<&str>) {
    if recent.is_empty() {
        return;
    }
    let _ = write!(
        body,
        "<form class=\"filters\" method=\"get\" action=\"{}\"><label>Run <select name=\"run\">",
        attr(base)
    );
    for run in recent {
        let selected = if Some(run.id.as_str()) == chosen {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            body,
            "<option value=\"{}\"{selected}>{} · {}</option>",
            attr(&run.id),
            esc(&run.id),
            esc(&run.state)
        );
    }
    body.push_str("</select></label><button class=\"btn\">Show</button></form>");
}
