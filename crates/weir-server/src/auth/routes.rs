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
        self.add(Method::DELETE, path, need, on(MethodFilter::DELETE, handler))
    }

    /// A route whose method router carries layers of its own (a larger body limit, …).
    pub fn add(
        mut self,
        method: Method,
        path: &'static str,
        need: Need,
        route: MethodRouter<Arc<AppState>>,
    ) -> Routes {
        let dialect = self.dialect;
        let check = from_fn(move |request: Request, next: Next| {
            super::middleware::authorize(path, need, dialect, request, next)
        });
        self.router = self.router.route(path, route.layer(check));
        self.rules.push(Rule {
            method,
            path,
            need,
            dialect,
        });
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
