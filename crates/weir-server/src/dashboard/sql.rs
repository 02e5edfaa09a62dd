//! `GET /ui/sql?q=…&chart=bar&x=COL&y=COL`: Athena's query editor and QuickSight's chart of a
//! result in one page. The editor is a GET form, so the statement and the chart settings live in
//! the URL and a view is shared by its link. Only statements that read run here, as the caller
//! (their table grants applied by the API's own check), with bounded rows and time.

use std::fmt::Write;
use std::time::{Duration, Instant};

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use serde_json::Value;

use super::html::{self, attr, esc, url};
use super::{Ctx, Page, PageResult, Section, chart};
use crate::lake;

/// Most rows a page shows (and charts); the count says how many the statement produced.
pub(super) const SHOWN_ROWS: usize = 10_000;
/// Longest a statement may run for a page, whatever the SQL engine's own (longer) limit is: a
/// page nobody can wait for helps no one; the API and the CLI run longer statements.
const PAGE_TIMEOUT: Duration = Duration::from_secs(60);

/// How a result is shown: one of the chart kinds, or the table alone.
pub(super) const CHART_KINDS: [&str; 5] = ["bar", "line", "area", "scatter", "table"];

/// The page's settings, read from the query string (`y` may repeat).
#[derive(Debug, Default, Clone)]
pub(super) struct View {
    pub q: String,
    pub chart: String,
    pub x: String,
    pub ys: Vec<String>,
}

impl View {
    fn from_pairs(pairs: Vec<(String, String)>) -> View {
        let mut view = View::default();
        for (key, value) in pairs {
            match key.as_str() {
                "q" => view.q = value,
                "chart" => view.chart = value,
                "x" => view.x = value,
                "y" if !value.is_empty() && !view.ys.contains(&value) => view.ys.push(value),
                _ => {}
            }
        }
        view
    }

    /// The link to the SQL page showing this view.
    pub fn href(&self) -> String {
        let mut href = format!("/ui/sql?q={}", url(&self.q));
        if !self.chart.is_empty() {
            let _ = write!(href, "&chart={}", url(&self.chart));
        }
        if !self.x.is_empty() {
            let _ = write!(href, "&x={}", url(&self.x));
        }
        for y in &self.ys {
            let _ = write!(href, "&y={}", url(y));
        }
        href
    }
}

/// A result column: its name and the engine's type name (`Int64`, `Utf8`, `Timestamp(…)`).
#[derive(Debug, Clone)]
pub(super) struct ResultColumn {
    pub name: String,
    pub data_type: String,
}

impl ResultColumn {
    pub fn is_numeric(&self) -> bool {
        let t = self.data_type.as_str();
        t.starts_with("Int")
            || t.starts_with("UInt")
            || t.starts_with("Float")
            || t.starts_with("Decimal")
    }
}

/// What a statement returned, as the page shows it.
#[derive(Debug, Clone)]
pub(super) struct Outcome {
    pub columns: Vec<ResultColumn>,
    /// Each row's values in the order of `columns`.
    pub rows: Vec<Vec<Value>>,
    /// Rows the statement produced (`rows` holds at most the page's bound of them).
    pub row_count: u64,
    pub truncated: bool,
    pub elapsed: Duration,
}

/// Why a statement did not run (`refused`: not allowed here) or failed (the engine's message).
#[derive(Debug, Clone)]
pub(super) struct QueryError {
    pub refused: bool,
    pub message: String,
}

impl QueryError {
    fn refused(message: impl Into<String>) -> QueryError {
        QueryError {
            refused: true,
            message: message.into(),
        }
    }

    fn failed(message: impl Into<String>) -> QueryError {
        QueryError {
            refused: false,
            message: message.into(),
        }
    }

    /// The error as a block for a page: the message, and the statement's line with a caret
    /// under the column when the engine said where (`line L, column C: …`).
    pub fn render(&self, query: &str) -> String {
        let title = if self.refused {
            "Not run"
        } else {
            "The statement failed"
        };
        let mut html = format!(
            "<div class=\"card sql-error\" role=\"alert\"><p><strong>{title}</strong></p>\
             <pre class=\"error\">{}</pre>",
            esc(&self.message)
        );
        if let Some((line, column)) = position(&self.message)
            && let Some(text) = query.lines().nth(line.saturating_sub(1))
        {
            let caret = format!(
                "{}^",
                " ".repeat(column.saturating_sub(1).min(text.chars().count()))
            );
            let _ = write!(
                html,
                "<pre class=\"mono\" aria-label=\"where: line {line}, column {column}\">{}\n{}</pre>",
                esc(text),
                esc(&caret)
            );
        }
        html.push_str("</div>");
        html
    }
}

/// The position an engine message starts with: `line L, column C: …` (1-based).
fn position(message: &str) -> Option<(usize, usize)> {
    let rest = message.strip_prefix("line ")?;
    let (line, rest) = rest.split_once(", column ")?;
    let (column, _) = rest.split_once(':')?;
    Some((line.trim().parse().ok()?, column.trim().parse().ok()?))
}

/// Runs a statement for a page, as the caller: only one that reads, only over tables the
/// credential is granted (the API's `sql_allowed`), at most `max_rows` rows kept, within the
/// page's time limit.
pub(super) async fn run_read_only(
    ctx: &Ctx,
    query: &str,
    max_rows: usize,
) -> Result<Outcome, QueryError> {
    let Some(service) = ctx.state.lake.as_ref() else {
        return Err(QueryError::refused("this server has no lake"));
    };
    if query.trim().is_empty() {
        return Err(QueryError::refused("the statement is empty"));
    }
    let tables = service
        .sql_tables(query)
        .map_err(|e| QueryError::failed(e.message))?;
    if !tables.read_only {
        return Err(QueryError::refused(
            "This page runs statements that only read (SELECT, WITH, SHOW, EXPLAIN). \
             Run statements that write through the API (POST /api/v1/sql) or the CLI \
             (weir sql \"…\"), with an admin credential.",
        ));
    }
    lake::sql_allowed(service.as_ref(), &ctx.identity, query)
        .map_err(|e| QueryError::refused(e.message))?;
    let started = Instant::now();
    let answer = tokio::time::timeout(PAGE_TIMEOUT, service.sql(query, max_rows))
        .await
        .map_err(|_| {
            QueryError::failed(format!(
                "the statement ran longer than {} s, this page's limit: narrow it, or run it \
                 with the API or the CLI",
                PAGE_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| QueryError::failed(e.message))?;
    let elapsed = started.elapsed();
    let columns: Vec<ResultColumn> = answer["columns"]
        .as_array()
        .map(|columns| {
            columns
                .iter()
                .map(|c| ResultColumn {
                    name: c["name"].as_str().unwrap_or_default().to_string(),
                    data_type: c["data_type"].as_str().unwrap_or_default().to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let rows = answer["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    columns
                        .iter()
                        .map(|c| row.get(&c.name).cloned().unwrap_or(Value::Null))
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Outcome {
        columns,
        rows,
        row_count: answer["row_count"].as_u64().unwrap_or_default(),
        truncated: answer["truncated"].as_bool().unwrap_or(false),
        elapsed,
    })
}

/// The chart settings a result is shown with: the ones asked for where the result has those
/// columns, else sensible ones (the first text or time column across, the first numeric one up).
pub(super) fn settle(view: &View, columns: &[ResultColumn]) -> View {
    let has = |name: &str| columns.iter().any(|c| c.name == name);
    let x = if has(&view.x) {
        view.x.clone()
    } else {
        columns
            .iter()
            .find(|c| !c.is_numeric())
            .or_else(|| columns.first())
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let mut ys: Vec<String> = view.ys.iter().filter(|y| has(y)).cloned().collect();
    if ys.is_empty()
        && let Some(first) = columns.iter().find(|c| c.is_numeric() && c.name != x)
    {
        ys.push(first.name.clone());
    }
    let chart = if CHART_KINDS.contains(&view.chart.as_str()) {
        view.chart.clone()
    } else if ys.is_empty() {
        "table".to_string()
    } else {
        "bar".to_string()
    };
    View {
        q: view.q.clone(),
        chart,
        x,
        ys,
    }
}

pub(crate) async fn page(
    ctx: Ctx,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> PageResult {
    let Query(pairs) = query?;
    let asked = View::from_pairs(pairs);
    let outcome = if asked.q.trim().is_empty() {
        None
    } else {
        Some(run_read_only(&ctx, &asked.q, SHOWN_ROWS).await)
    };
    let view = match &outcome {
        Some(Ok(result)) => settle(&asked, &result.columns),
        _ => asked.clone(),
    };
    let columns = match &outcome {
        Some(Ok(result)) => result.columns.as_slice(),
        _ => &[],
    };
    let mut body = editor(&view, columns);
    body.push_str("<div id=\"result\" data-live-region>");
    match &outcome {
        None => body.push_str(&html::empty(
            "Write a statement that reads (SELECT …) and run it: the result shows here as a table \
             and a chart. The statement and the chart settings stay in the address, so a view is \
             shared by its link.",
        )),
        Some(Err(error)) => body.push_str(&error.render(&view.q)),
        Some(Ok(result)) => {
            body.push_str(&summary(result, &view.q));
            if view.chart != "table" {
                body.push_str(&chart_html(&view, result));
            }
            body.push_str(&results_table(result));
        }
    }
    body.push_str("</div>");
    if let Some(Ok(_)) = &outcome
        && ctx.can_operate()
    {
        let dashboards = ctx.state.engine.store().dashboards().await?;
        let names: Vec<String> = dashboards.into_iter().map(|d| d.name).collect();
        body.push_str(&save_form(&view, &names));
    }
    Ok(Page::new("SQL", Section::Sql).body(body).render(&ctx))
}

/// The editor and the chart settings: one GET form, so running it puts everything in the URL.
fn editor(view: &View, columns: &[ResultColumn]) -> String {
    let mut html = format!(
        "<form class=\"sql-editor\" method=\"get\" action=\"/ui/sql\">\
         <label for=\"q\">Statement <span class=\"muted\">(Ctrl+Enter or ⌘+Enter runs it)</span></label>\
         <textarea id=\"q\" name=\"q\" rows=\"5\" spellcheck=\"false\" autocapitalize=\"off\" \
         data-submit-keys placeholder=\"SELECT country, count(*) AS n FROM sales.orders GROUP BY country\">{}</textarea>",
        esc(&view.q)
    );
    if !columns.is_empty() {
        html.push_str("<fieldset class=\"filters chart-settings\"><legend>Chart</legend>");
        html.push_str("<label>Type <select name=\"chart\" data-submit-on-change>");
        for kind in CHART_KINDS {
            let selected = if kind == view.chart { " selected" } else { "" };
            let label = if kind == "table" { "table only" } else { kind };
            let _ = write!(html, "<option value=\"{kind}\"{selected}>{label}</option>");
        }
        html.push_str("</select></label><label>X <select name=\"x\" data-submit-on-change>");
        for column in columns {
            let selected = if column.name == view.x {
                " selected"
            } else {
                ""
            };
            let _ = write!(
                html,
                "<option value=\"{}\"{selected}>{}</option>",
                attr(&column.name),
                esc(&column.name)
            );
        }
        html.push_str(
            "</select></label><span class=\"y-columns\" role=\"group\" aria-label=\"Y columns\">Y",
        );
        let numeric: Vec<&ResultColumn> = columns.iter().filter(|c| c.is_numeric()).collect();
        if numeric.is_empty() {
            html.push_str(" <span class=\"muted\">(no numeric column)</span>");
        }
        for column in numeric {
            let checked = if view.ys.contains(&column.name) {
                " checked"
            } else {
                ""
            };
            let _ = write!(
                html,
                " <label><input type=\"checkbox\" name=\"y\" value=\"{}\"{checked} data-submit-on-change> {}</label>",
                attr(&column.name),
                esc(&column.name)
            );
        }
        html.push_str("</span></fieldset>");
    } else if !view.chart.is_empty() || !view.x.is_empty() || !view.ys.is_empty() {
        // Keep the chart settings of a shared link across a failed run.
        let _ = write!(
            html,
            "<input type=\"hidden\" name=\"chart\" value=\"{}\"><input type=\"hidden\" name=\"x\" value=\"{}\">",
            attr(&view.chart),
            attr(&view.x)
        );
        for y in &view.ys {
            let _ = write!(
                html,
                "<input type=\"hidden\" name=\"y\" value=\"{}\">",
                attr(y)
            );
        }
    }
    let _ = write!(
        html,
        "<div class=\"row\"><button class=\"btn primary\" type=\"submit\">Run</button>\
         <span class=\"muted\">Statements that only read, as you; at most {} rows shown, \
         at most {} s. <a href=\"/ui/catalog\">Catalog</a> · <a href=\"/ui/dashboards\">Dashboards</a></span></div></form>",
        group_digits(SHOWN_ROWS as u64),
        PAGE_TIMEOUT.as_secs()
    );
    html
}

/// Rows, time and the download links.
fn summary(result: &Outcome, query: &str) -> String {
    let count = group_digits(result.row_count);
    let rows = if result.truncated {
        format!(
            "{count} rows; showing the first {} (download for all of them)",
            group_digits(result.rows.len() as u64)
        )
    } else if result.row_count == 1 {
        "1 row".to_string()
    } else {
        format!("{count} rows")
    };
    let download = |format: &str| format!("/api/v1/sql?query={}&format={format}", url(query));
    format!(
        "<p class=\"row sql-summary\"><span data-row-count=\"{}\">{rows}</span>\
         <span class=\"muted\">in {}</span>\
         <a href=\"{}\" download=\"result.csv\">Download CSV</a>\
         <a href=\"{}\" download=\"result.jsonl\">Download JSON lines</a></p>",
        result.row_count,
        html::duration_us(i64::try_from(result.elapsed.as_micros()).unwrap_or(i64::MAX)),
        attr(&download("csv")),
        attr(&download("jsonl")),
    )
}

/// The result as a table: numbers right-aligned, NULL set apart from text.
pub(super) fn results_table(result: &Outcome) -> String {
    if result.columns.is_empty() {
        return html::empty("The statement returned no columns.");
    }
    let mut html =
        String::from("<div class=\"scroll\"><table class=\"list sql-result\"><thead><tr>");
    for column in &result.columns {
        let class = if column.is_numeric() {
            " class=\"num\""
        } else {
            ""
        };
        let _ = write!(
            html,
            "<th scope=\"col\"{class} title=\"{}\">{}</th>",
            attr(&column.data_type),
            esc(&column.name)
        );
    }
    html.push_str("</tr></thead><tbody>");
    for row in &result.rows {
        html.push_str("<tr>");
        for (column, value) in result.columns.iter().zip(row) {
            html.push_str(&cell(column, value));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    if result.rows.is_empty() {
        html.push_str(&html::empty("No rows."));
    }
    html
}

fn cell(column: &ResultColumn, value: &Value) -> String {
    let open = if column.is_numeric() || value.is_number() {
        "<td class=\"num\">"
    } else {
        "<td>"
    };
    match value {
        Value::Null => format!("{open}<span class=\"null\">NULL</span></td>"),
        Value::String(text) => format!("{open}{}</td>", esc(text)),
        Value::Number(number) => format!("{open}{}</td>", esc(&number.to_string())),
        other => format!("{open}<code>{}</code></td>", esc(&other.to_string())),
    }
}

/// The result charted as the view says, or why it cannot be.
pub(super) fn chart_html(view: &View, result: &Outcome) -> String {
    let Some(kind) = chart::ChartKind::parse(&view.chart) else {
        return String::new();
    };
    let names: Vec<String> = result.columns.iter().map(|c| c.name.clone()).collect();
    match chart::from_rows(kind, &names, &result.rows, &view.x, &view.ys) {
        Ok(chart) => chart::render_svg(&chart),
        Err(why) => format!("<p class=\"chart-note\">Not charted: {}</p>", esc(&why)),
    }
}

/// The form that saves this view as a chart of a dashboard (operators; the API checks), the
/// existing dashboards offered by name.
fn save_form(view: &View, dashboards: &[String]) -> String {
    let mut dashboard_names = String::from("<datalist id=\"dashboard-names\">");
    for name in dashboards {
        let _ = write!(dashboard_names, "<option value=\"{}\">", attr(name));
    }
    dashboard_names.push_str("</datalist>");
    let ys = serde_json::to_string(&view.ys).unwrap_or_else(|_| "[]".into());
    format!(
        "<details class=\"card save-chart\"><summary>Save to dashboard</summary>\
         <form class=\"stack\" data-api data-method=\"PUT\" \
         data-url=\"/api/v1/dashboards/{{dashboard}}/queries/{{name}}\" \
         data-then=\"/ui/dashboards/{{dashboard}}\">\
         <input type=\"hidden\" name=\"sql\" value=\"{sql}\">\
         <input type=\"hidden\" name=\"chart.type\" value=\"{chart}\">\
         <input type=\"hidden\" name=\"chart.x\" value=\"{x}\">\
         <input type=\"hidden\" name=\"chart.y\" value=\"{ys}\" data-json>\
         <label>Dashboard <input name=\"dashboard\" {name_rule} list=\"dashboard-names\"></label>\
         <label>Chart name <input name=\"name\" {name_rule}></label>\
         <label>Position <span class=\"muted\">(ascending; empty: after the others, or where it was)</span>\
         <input type=\"number\" name=\"position\"></label>{names}\
         <div><button class=\"btn primary\" type=\"submit\">Save chart</button></div></form></details>",
        name_rule = "required maxlength=\"128\" pattern=\"[A-Za-z0-9_\\-]+\" autocomplete=\"off\" \
                     title=\"letters, digits, - and _\"",
        names = dashboard_names,
        sql = attr(&view.q),
        chart = attr(&view.chart),
        x = attr(&view.x),
        ys = attr(&ys),
    )
}

/// A count with thousands separated: 10,000.
pub(super) fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, data_type: &str) -> ResultColumn {
        ResultColumn {
            name: name.into(),
            data_type: data_type.into(),
        }
    }

    #[test]
    fn settings_default_to_a_text_column_across_and_a_numeric_one_up() {
        let columns = [
            column("n", "Int64"),
            column("country", "Utf8"),
            column("total", "Float64"),
        ];
        let view = settle(&View::default(), &columns);
        assert_eq!((view.chart.as_str(), view.x.as_str()), ("bar", "country"));
        assert_eq!(view.ys, ["n"]);
        // Asked-for columns the result lacks fall back to the defaults.
        let asked = View {
            chart: "line".into(),
            x: "gone".into(),
            ys: vec!["total".into(), "gone".into()],
            ..View::default()
        };
        let view = settle(&asked, &columns);
        assert_eq!((view.chart.as_str(), view.x.as_str()), ("line", "country"));
        assert_eq!(view.ys, ["total"]);
        // Nothing numeric: the table alone.
        assert_eq!(
            settle(&View::default(), &[column("a", "Utf8")]).chart,
            "table"
        );
    }

    #[test]
    fn a_view_round_trips_through_its_link() {
        let view = View {
            q: "SELECT a, b FROM t WHERE c = 'x&y'".into(),
            chart: "area".into(),
            x: "a".into(),
            ys: vec!["b".into(), "c d".into()],
        };
        let href = view.href();
        let query = href.strip_prefix("/ui/sql?").unwrap();
        let pairs: Vec<(String, String)> = query
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                let decode = |s: &str| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8()
                        .unwrap()
                        .into_owned()
                };
                (decode(k), decode(v))
            })
            .collect();
        let back = View::from_pairs(pairs);
        assert_eq!(back.q, view.q);
        assert_eq!(back.chart, view.chart);
        assert_eq!(back.x, view.x);
        assert_eq!(back.ys, view.ys);
    }

    #[test]
    fn engine_positions_are_read_off_messages() {
        assert_eq!(position("line 2, column 7: Expected …"), Some((2, 7)));
        assert_eq!(position("table not found"), None);
        let error = QueryError::failed("line 2, column 3: bad <thing>");
        let html = error.render("SELECT 1\nFROM <t>");
        assert!(html.contains("FROM &lt;t&gt;\n  ^"), "{html}");
        assert!(html.contains("bad &lt;thing&gt;"));
    }

    #[test]
    fn cells_escape_and_set_null_apart() {
        let text = column("s", "Utf8");
        assert_eq!(
            cell(&text, &Value::String("<b>".into())),
            "<td>&lt;b&gt;</td>"
        );
        assert_eq!(
            cell(&column("n", "Int64"), &Value::Null),
            "<td class=\"num\"><span class=\"null\">NULL</span></td>"
        );
        assert_eq!(group_digits(1234567), "1,234,567");
        assert_eq!(group_digits(999), "999");
    }
}
