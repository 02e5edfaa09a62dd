//! `GET /ui/dashboards` and `GET /ui/dashboards/{dashboard}?refresh=SECONDS`: saved queries as
//! dashboards of charts that refresh (QuickSight's job). Every chart's query runs as the viewer
//! (read-only, their grants, bounded), a few at a time; one that fails shows its error in its
//! card and the others still render.

use std::fmt::Write;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use futures::StreamExt;
use serde::Deserialize;
use weir_store::SavedQuery;

use super::catalog::plural;
use super::html::{self, Action, action_button, attr, esc, url};
use super::sql::{self, View};
use super::{Ctx, Page, PageError, PageResult, Section};

/// Queries of one dashboard run at once: enough to hide their latencies, few enough to leave the
/// SQL engine to others.
const CONCURRENT_QUERIES: usize = 4;
/// Rows a card's table shows (the SQL page shows more).
const CARD_ROWS: usize = 50;
/// Most dashboards listed.
const SHOWN_DASHBOARDS: usize = 500;
/// Seconds between refreshes unless the URL says otherwise, and the fewest it may say.
const DEFAULT_REFRESH: u32 = 60;
const MIN_REFRESH: u32 = 5;
/// The most it may say: a day (a browser runs a longer timer at once, in a loop).
const MAX_REFRESH: u32 = 86_400;

pub(crate) async fn list(ctx: Ctx) -> PageResult {
    let dashboards = crate::api::dashboards::visible_dashboards(&ctx.state, &ctx.identity).await?;
    let mut body = String::new();
    if dashboards.is_empty() {
        body.push_str(&html::empty(
            "No dashboards yet: run a query on the SQL page, chart it, and save it to a dashboard.",
        ));
    } else {
        body.push_str(
            "<div class=\"scroll\"><table class=\"list\"><thead><tr><th scope=\"col\">Dashboard</th>\
             <th scope=\"col\" class=\"num\">Charts</th></tr></thead><tbody>",
        );
        for dashboard in dashboards.iter().take(SHOWN_DASHBOARDS) {
            let _ = write!(
                body,
                "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td></tr>",
                html::link(&dashboard_href(&dashboard.name), &dashboard.name),
                dashboard.queries
            );
        }
        body.push_str("</tbody></table></div>");
        if dashboards.len() > SHOWN_DASHBOARDS {
            let _ = write!(
                body,
                "<p class=\"muted\">Showing the first {SHOWN_DASHBOARDS} of {} dashboards.</p>",
                dashboards.len()
            );
        }
    }
    body.push_str("<p><a href=\"/ui/sql\">New chart: write a query on the SQL page</a></p>");
    Ok(Page::new("Dashboards", Section::Sql)
        .crumb("SQL", Some("/ui/sql"))
        .body(body)
        .render(&ctx))
}

fn dashboard_href(name: &str) -> String {
    format!("/ui/dashboards/{}", url(name))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DashboardQuery {
    /// Seconds between refreshes (at least 5; 60 by default).
    refresh: Option<u32>,
}

pub(crate) async fn page(
    ctx: Ctx,
    Path(dashboard): Path<String>,
    query: Result<Query<DashboardQuery>, QueryRejection>,
) -> PageResult {
    let Query(query) = query?;
    let refresh = query
        .refresh
        .unwrap_or(DEFAULT_REFRESH)
        .clamp(MIN_REFRESH, MAX_REFRESH);
    let queries =
        crate::api::dashboards::visible_queries(&ctx.state, &ctx.identity, &dashboard).await?;
    if queries.is_empty() {
        return Err(PageError::not_found(format!(
            "dashboard `{dashboard}` does not exist"
        )));
    }
    // Collected first: a stream over a closure that borrows each query is not `Send` to the
    // compiler's satisfaction, a list of the futures is.
    let pending: Vec<_> = queries.iter().map(|query| card(&ctx, query)).collect();
    let cards: Vec<String> = futures::stream::iter(pending)
        .buffered(CONCURRENT_QUERIES)
        .collect()
        .await;

    let mut body = String::from("<div class=\"row\">");
    body.push_str(&refresh_form(&dashboard, refresh));
    let delete_url = format!("/api/v1/dashboards/{}", url(&dashboard));
    let question = format!(
        "Delete the dashboard {dashboard} and its {}?",
        plural(queries.len(), "chart")
    );
    body.push_str(&action_button(
        &ctx,
        &Action {
            label: "Delete dashboard",
            method: "DELETE",
            url: &delete_url,
            confirm: Some(&question),
            then: Some("/ui/dashboards"),
            class: "danger",
            ..Action::default()
        },
    ));
    body.push_str("</div><div id=\"charts\" class=\"cards dash-cards\" data-live-region>");
    for card in cards {
        body.push_str(&card);
    }
    body.push_str("</div>");
    Ok(Page::new(dashboard.clone(), Section::Sql)
        .crumb("Dashboards", Some("/ui/dashboards"))
        .refresh(refresh)
        .body(body)
        .render(&ctx))
}

/// How often the page refreshes, as a GET form (so it is the page's URL too).
fn refresh_form(dashboard: &str, refresh: u32) -> String {
    let mut html = format!(
        "<form method=\"get\" action=\"{}\" class=\"filters\"><label>Refresh every \
         <select name=\"refresh\" data-submit-on-change>",
        attr(&dashboard_href(dashboard))
    );
    let mut choices = vec![5, 15, 30, 60, 300, 900];
    if !choices.contains(&refresh) {
        choices.push(refresh);
        choices.sort_unstable();
    }
    for seconds in choices {
        let selected = if seconds == refresh { " selected" } else { "" };
        let label = if seconds % 60 == 0 {
            format!("{} min", seconds / 60)
        } else {
            format!("{seconds} s")
        };
        let _ = write!(
            html,
            "<option value=\"{seconds}\"{selected}>{label}</option>"
        );
    }
    html.push_str(
        "</select></label><noscript><button class=\"btn\">Set</button></noscript></form>",
    );
    html
}

/// A saved query's settings as the SQL page reads them.
fn view_of(query: &SavedQuery) -> View {
    let text = |field: &str| query.chart[field].as_str().unwrap_or_default().to_string();
    let ys = match &query.chart["y"] {
        serde_json::Value::Array(ys) => ys
            .iter()
            .filter_map(|y| y.as_str().map(str::to_string))
            .collect(),
        serde_json::Value::String(y) => vec![y.clone()],
        _ => Vec::new(),
    };
    View {
        q: query.sql.clone(),
        chart: text("type"),
        x: text("x"),
        ys,
    }
}

/// One chart of the dashboard: its query run as the viewer, charted; or its error.
async fn card(ctx: &Ctx, query: &SavedQuery) -> String {
    let asked = view_of(query);
    let outcome = sql::run_read_only(ctx, &query.sql, sql::SHOWN_ROWS).await;
    let view = match &outcome {
        Ok(result) => sql::settle(&asked, &result.columns),
        Err(_) => asked,
    };
    let mut html = format!(
        "<section class=\"card dash-card\" data-chart=\"{}\" aria-label=\"{}\"><h2>{}</h2>",
        attr(&query.name),
        attr(&query.name),
        esc(&query.name)
    );
    let mut facts = String::new();
    match &outcome {
        Err(error) => html.push_str(&error.render(&query.sql)),
        Ok(result) => {
            if view.chart == "table" {
                let mut shown = result.clone();
                shown.rows.truncate(CARD_ROWS);
                html.push_str(&sql::results_table(&shown));
                if result.rows.len() > CARD_ROWS {
                    let _ = write!(
                        html,
                        "<p class=\"muted\">showing the first {CARD_ROWS} rows</p>"
                    );
                }
            } else {
                html.push_str(&sql::chart_html(&view, result));
            }
            let _ = write!(
                facts,
                "<span class=\"muted\">{} in {}</span>",
                plural(
                    usize::try_from(result.row_count).unwrap_or(usize::MAX),
                    "row"
                ),
                html::duration_us(i64::try_from(result.elapsed.as_micros()).unwrap_or(i64::MAX))
            );
        }
    }
    let delete_url = format!(
        "/api/v1/dashboards/{}/queries/{}",
        url(&query.dashboard),
        url(&query.name)
    );
    let question = format!("Delete the chart {} from this dashboard?", query.name);
    let _ = write!(
        html,
        "<p class=\"row\">{facts}<a href=\"{}\">Open in SQL</a>{}</p></section>",
        attr(&view.href()),
        action_button(
            ctx,
            &Action {
                label: "Delete",
                method: "DELETE",
                url: &delete_url,
                confirm: Some(&question),
                class: "danger",
                ..Action::default()
            }
        )
    );
    html
}
