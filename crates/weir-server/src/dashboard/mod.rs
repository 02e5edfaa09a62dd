//! The dashboard: pages rendered on the server, one file per page, under `/ui/…` (the home page
//! is `/`). A page reads only what the REST API would give the same credential (its grants
//! applied), and its buttons call that API from the browser (`assets/weir.js`) with the session
//! and its CSRF token, so the dashboard can do nothing the API would not let the caller do. Live
//! pages listen on `/ui/live` (server-sent events) and re-render their changing regions.

pub(crate) mod assets;
mod catalog;
pub(crate) mod chart;
mod dashboards;
mod delivery;
mod execution;
mod executions;
mod graph;
mod home;
pub(crate) mod html;
pub(crate) mod layout;
mod live;
mod log_tail;
mod machine_graph;
mod machines;
mod pipeline;
mod queues;
mod rules;
mod run;
mod samples;
mod sfn_history;
mod sql;
mod stream;
mod streams;
mod table;
mod task;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use weir_model::access::Role;

use crate::auth::{Dialect, Identity, Need, Routes, VIEWER, Via};
use crate::{ApiError, AppState};

/// Every page of the dashboard, its assets and its live updates.
pub(crate) fn routes() -> Routes {
    Routes::new(Dialect::Browser)
        .get("/", VIEWER, home::page)
        .get("/ui/assets/{file}", Need::Open, assets::serve)
        .get("/ui/live", VIEWER, live::events)
        .get("/ui/pipelines/{name}", VIEWER, pipeline::page)
        .get("/ui/pipelines/{name}/graph", VIEWER, graph::page)
        .get("/ui/runs/{id}", VIEWER, run::page)
        .get("/ui/runs/{id}/tasks/{task}", VIEWER, task::page)
        .get("/ui/live/log", VIEWER, log_tail::events)
        .get("/ui/catalog", VIEWER, catalog::page)
        .get("/ui/catalog/{database}/{table}", VIEWER, table::page)
        .get("/ui/sql", VIEWER, sql::page)
        .get("/ui/dashboards", VIEWER, dashboards::list)
        .get("/ui/dashboards/{dashboard}", VIEWER, dashboards::page)
        .get("/ui/streams", VIEWER, streams::page)
        .get("/ui/streams/{name}", VIEWER, stream::page)
        .get("/ui/deliveries/{name}", VIEWER, delivery::page)
        .get("/ui/rules", VIEWER, rules::page)
        .get("/ui/rules/{bus}/{name}", VIEWER, rules::rule_page)
        .get("/ui/queues", VIEWER, queues::page)
        .get("/ui/queues/{name}", VIEWER, queues::queue_page)
        .get("/ui/machines", VIEWER, machines::page)
        .get("/ui/machines/{name}", VIEWER, executions::page)
        .get("/ui/executions/{arn}", VIEWER, execution::page)
}

/// Who is looking, and the server they look at: what every page handler starts from.
pub(crate) struct Ctx {
    pub state: Arc<AppState>,
    pub identity: Identity,
}

impl Ctx {
    /// Whether the caller may act (trigger, retry, stop…): an operator or an admin. A viewer's
    /// pages have no action buttons.
    pub fn can_operate(&self) -> bool {
        self.identity
            .role()
            .is_some_and(|role| role >= Role::Operator)
    }

    /// The token the page's changes carry in `X-CSRF-Token`: the session's; any value when
    /// authentication is off (the header alone is what a cross-site form cannot send).
    fn csrf_token(&self) -> String {
        match (&self.identity.via, &self.state.access) {
            (Via::Session(session), Some(access)) => access.csrf_token(session),
            _ => "-".to_string(),
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Ctx {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let identity = parts
            .extensions
            .get::<Identity>()
            .cloned()
            .unwrap_or_else(Identity::anonymous);
        Ok(Ctx {
            state: state.clone(),
            identity,
        })
    }
}

/// The parts of the dashboard, as the navigation bar lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Home,
    Machines,
    Streams,
    Events,
    Catalog,
    Sql,
}

impl Section {
    const ALL: [Section; 6] = [
        Section::Home,
        Section::Machines,
        Section::Streams,
        Section::Events,
        Section::Catalog,
        Section::Sql,
    ];

    fn label(self) -> &'static str {
        match self {
            Section::Home => "Pipelines",
            Section::Machines => "State machines",
            Section::Streams => "Streams",
            Section::Events => "Rules & queues",
            Section::Catalog => "Catalog",
            Section::Sql => "SQL",
        }
    }

    fn href(self) -> &'static str {
        match self {
            Section::Home => "/",
            Section::Machines => "/ui/machines",
            Section::Streams => "/ui/streams",
            Section::Events => "/ui/rules",
            Section::Catalog => "/ui/catalog",
            Section::Sql => "/ui/sql",
        }
    }

    /// Whether this server has the subsystem the section shows.
    fn present(self, state: &AppState) -> bool {
        match self {
            Section::Home => true,
            Section::Machines => state.machines.is_some(),
            Section::Streams => state.streams.is_some(),
            Section::Events => state.events.is_some() || state.queues.is_some(),
            Section::Catalog | Section::Sql => state.lake.is_some(),
        }
    }
}

/// A page being put together: its title, where it sits, what keeps it live, and its body.
pub(crate) struct Page {
    title: String,
    section: Section,
    crumbs: Vec<(String, Option<String>)>,
    topics: Vec<String>,
    refresh: Option<u32>,
    body: String,
}

impl Page {
    pub fn new(title: impl Into<String>, section: Section) -> Page {
        Page {
            title: title.into(),
            section,
            crumbs: Vec::new(),
            topics: Vec::new(),
            refresh: None,
            body: String::new(),
        }
    }

    /// A breadcrumb before the title (a link when `href` is given).
    pub fn crumb(mut self, text: &str, href: Option<&str>) -> Page {
        self.crumbs
            .push((text.to_string(), href.map(str::to_string)));
        self
    }

    /// Re-render the page's live regions when this topic changes (see `live.rs` for topics).
    pub fn live(mut self, topic: impl Into<String>) -> Page {
        self.topics.push(topic.into());
        self
    }

    /// Re-render the page's live regions every `seconds` as well (charts of rates and lag).
    pub fn refresh(mut self, seconds: u32) -> Page {
        self.refresh = Some(seconds.clamp(1, 86_400));
        self
    }

    pub fn body(mut self, html: String) -> Page {
        self.body = html;
        self
    }

    /// The whole document.
    pub fn render(self, ctx: &Ctx) -> Response {
        use html::{attr, esc};
        let mut nav = String::new();
        for section in Section::ALL {
            if !section.present(&ctx.state) {
                continue;
            }
            let current = if section == self.section {
                " aria-current=\"page\""
            } else {
                ""
            };
            nav.push_str(&format!(
                "<li><a href=\"{}\"{current}>{}</a></li>",
                section.href(),
                section.label()
            ));
        }
        let mut crumbs = String::new();
        for (text, href) in &self.crumbs {
            match href {
                Some(href) => crumbs.push_str(&format!("<li>{}</li>", html::link(href, text))),
                None => crumbs.push_str(&format!("<li>{}</li>", esc(text))),
            }
        }
        let who = match (ctx.identity.name(), ctx.identity.role()) {
            (Some(name), Some(role)) => format!(
                "<span class=\"who\">{} <span class=\"role\">{role}</span></span>\
                 <button type=\"button\" class=\"btn link\" data-sign-out>Sign out</button>",
                esc(name)
            ),
            _ => "<span class=\"who\">authentication off</span>".to_string(),
        };
        let live = if self.topics.is_empty() {
            String::new()
        } else {
            format!(" data-live=\"{}\"", attr(&self.topics.join(" ")))
        };
        let refresh = self
            .refresh
            .map(|s| format!(" data-refresh=\"{s}\""))
            .unwrap_or_default();
        let document = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · weir</title>\
             <meta name=\"csrf-token\" content=\"{csrf}\">\
             <link rel=\"stylesheet\" href=\"/ui/assets/weir.css?v={version}\">\
             <script src=\"/ui/assets/weir.js?v={version}\" defer></script></head>\
             <body{live}{refresh}><a class=\"skip\" href=\"#main\">Skip to content</a>\
             <header class=\"top\"><a class=\"brand\" href=\"/\">weir</a>\
             <nav aria-label=\"Sections\"><ul>{nav}</ul></nav><div class=\"account\">{who}</div></header>\
             <nav class=\"crumbs\" aria-label=\"Breadcrumb\"><ol>{crumbs}<li aria-current=\"page\">{title}</li></ol></nav>\
             <main id=\"main\" tabindex=\"-1\"><h1>{title}</h1>{body}</main>\
             <div id=\"toast\" role=\"status\" aria-live=\"polite\"></div></body></html>",
            title = esc(&self.title),
            csrf = attr(&ctx.csrf_token()),
            version = assets::VERSION.as_str(),
            body = self.body,
        );
        let mut response = Html(document).into_response();
        // Pages show live data and a CSRF token: never cached, never framed by another site.
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                 frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}

/// What a page handler returns.
pub(crate) type PageResult = Result<Response, PageError>;

/// A page that cannot be shown: an HTML page saying why, with the API error's status.
#[derive(Debug)]
pub(crate) struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError(error)
    }
}

impl From<weir_engine::EngineError> for PageError {
    fn from(error: weir_engine::EngineError) -> Self {
        PageError(error.into())
    }
}

impl From<weir_store::StoreError> for PageError {
    fn from(error: weir_store::StoreError) -> Self {
        PageError(error.into())
    }
}

impl From<weir_engine::machines::MachineError> for PageError {
    fn from(error: weir_engine::machines::MachineError) -> Self {
        use weir_engine::machines::MachineError::*;
        let status = match &error {
            StateMachineDoesNotExist(_) | ExecutionDoesNotExist(_) => StatusCode::NOT_FOUND,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        PageError(ApiError {
            status,
            code: error.code(),
            message: error.to_string(),
        })
    }
}

impl From<axum::extract::rejection::QueryRejection> for PageError {
    fn from(error: axum::extract::rejection::QueryRejection) -> Self {
        PageError(error.into())
    }
}

impl PageError {
    pub fn not_found(message: impl Into<String>) -> PageError {
        PageError(ApiError::not_found(message))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let ApiError {
            status,
            code,
            message,
        } = self.0;
        let heading = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::SERVICE_UNAVAILABLE => "Not available",
            _ if status.is_client_error() => "Cannot show this",
            _ => "Something went wrong",
        };
        let page = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{heading} · weir</title>\
             <link rel=\"stylesheet\" href=\"/ui/assets/weir.css?v={version}\"></head>\
             <body><header class=\"top\"><a class=\"brand\" href=\"/\">weir</a></header>\
             <main id=\"main\"><h1>{heading}</h1><p class=\"error\" data-code=\"{code}\">{message}</p>\
             <p><a href=\"/\">Back to the dashboard</a></p></main></body></html>",
            version = assets::VERSION.as_str(),
            code = html::attr(code),
            message = html::esc(&message),
        );
        let mut response = (status, Html(page)).into_response();
        response
            .extensions_mut()
            .insert(crate::auth::middleware::AuditNote {
                detail: Some(message),
                ..Default::default()
            });
        response
    }
}
