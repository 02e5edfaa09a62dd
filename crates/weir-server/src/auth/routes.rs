//! How routes are registered: each with the access it needs, declared in the same call that adds
//! it to the router. The router and the table of rules are built together, so a route cannot be
//! added without its rule (the middleware would have nothing to check) and the route-coverage
//! test reads the same table the server serves from.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::{Next, from_fn};
use axum::routing::{MethodFilter, MethodRouter, on};

use super::{Dialect, Need};
use crate::AppState;

/// One route and what it needs.
#[derive(Debug, Clone)]
pub struct Rule {
    pub method: Method,
    pub path: &'static str,
    pub need: Need,
    pub dialect: Dialect,
    pub scope: Scope,
}

/// What a route's path names, for the grants: read off the path's parameters when the route is
/// registered, so a new route under `/api/v1/pipelines/{name}` is narrowed like the others
/// without a line of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Nothing the grants narrow (functions, credentials, listings: those filter what they show).
    Nothing,
    /// `{name}` is a pipeline.
    Pipeline,
    /// `{run_id}` is a run, whose pipeline is granted or not.
    Run,
    /// `{*key}` is a lake key.
    Key,
    /// `{name}` is a catalog database.
    Database,
    /// `{database}` and `{name}` are a catalog table.
    Table,
    /// `{name}` is a stream (granted by name, as pipelines and state machines are).
    Stream,
    /// `{bus}` is an event bus (granted by name, as the EventBridge API grants buses).
    Bus,
}

impl Scope {
    pub fn of(path: &str) -> Scope {
        if path.starts_with("/api/v1/pipelines/{name}") {
            Scope::Pipeline
        } else if path.starts_with("/api/v1/runs/{run_id}") {
            Scope::Run
        } else if path.starts_with("/api/v1/lake/objects/{*key}") {
            Scope::Key
        } else if path.starts_with("/api/v1/catalog/databases/{name}") {
            Scope::Database
        } else if path.starts_with("/api/v1/catalog/tables/{database}/{name}") {
            Scope::Table
        } else if path.starts_with("/api/v1/streams/{name}") {
            Scope::Stream
        } else if path.starts_with("/api/v1/events/{bus}")
            || path.starts_with("/api/v1/rules/{bus}")
        {
            Scope::Bus
        } else {
            Scope::Nothing
        }
    }
}

/// A subsystem's routes with their rules, merged into the server's router.
pub struct Routes {
    router: Router<Arc<AppState>>,
    rules: Vec<Rule>,
    /// How refusals of the routes added next are worded.
    dialect: Dialect,
}

impl Default for Routes {
    fn default() -> Self {
        Routes::new(Dialect::Rest)
    }
}

impl Routes {
    pub fn new(dialect: Dialect) -> Routes {
        Routes {
            router: Router::new(),
            rules: Vec::new(),
            dialect,
        }
    }

    pub fn get<H, T>(self, path: &'static str, need: Need, handler: H) -> Routes
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        self.add(Method::GET, path, need, on(MethodFilter::GET, handler))
    }

    pub fn post<H, T>(self, path: &'static str, need: Need, handler: H) -> Routes
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        self.add(Method::POST, path, need, on(MethodFilter::POST, handler))
    }

    pub fn put<H, T>(self, path: &'static str, need: Need, handler: H) -> Routes
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        self.add(Method::PUT, path, need, on(MethodFilter::PUT, handler))
    }

    pub fn delete<H, T>(self, path: &'static str, need: Need, handler: H) -> Routes
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        self.add(
            Method::DELETE,
            path,
            need,
            on(MethodFilter::DELETE, handler),
        )
    }

    /// A route whose method router carries layers of its own (a larger body limit, …).
    pub fn add(
        mut self,
        method: Method,
        path: &'static str,
        need: Need,
        route: MethodRouter<Arc<AppState>>,
    ) -> Routes {
        let rule = Rule {
            method,
            path,
            need,
            dialect: self.dialect,
            scope: Scope::of(path),
        };
        let checked = rule.clone();
        let check = from_fn(move |request: Request, next: Next| {
            super::middleware::authorize(checked.clone(), request, next)
        });
        self.router = self.router.route(path, route.layer(check));
        self.rules.push(rule);
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.rules.extend(other.rules);
        self
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn into_parts(self) -> (Router<Arc<AppState>>, Vec<Rule>) {
        (self.router, self.rules)
    }
}
