//! Who is calling, and may they. Every route is registered with the [`Need`] it has
//! (`routes.rs`); one layer over the whole router finds the caller from what the request
//! presents (`Authorization: Bearer`, an AWS Signature Version 4, or the dashboard's session
//! cookie) and records what must be audited (`middleware.rs`); a layer on each route refuses a
//! caller whose role is too small, and a browser request from another site (CSRF). The browser's
//! sign-in is `session.rs`. Grants (which pipelines, tables and prefixes) are checked by the
//! handlers, which know what a request is about.

pub mod hosts;
pub mod middleware;
pub mod routes;
pub mod session;
pub mod sigv4;

use std::sync::Arc;
use std::time::Duration;

use weir_engine::access::Caller;
use weir_model::access::{Grants, Role};

pub use routes::{Routes, Rule};

/// The peer's address, for the audit log: from a plain TCP listener or a TLS one alike.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::SocketAddr);

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, crate::tls::TlsListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, crate::tls::TlsListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

/// What a route needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: `/healthz`, the sign-in page.
    Open,
    /// A credential of at least this role.
    Role(Role),
    /// Any credential; the protocol checks each operation's role (`POST /`).
    Operation,
    /// A credential of at least this role, unless `[auth] public_metrics` opens it (`/metrics`).
    Metrics,
}

pub const VIEWER: Need = Need::Role(Role::Viewer);
pub const OPERATOR: Need = Need::Role(Role::Operator);
pub const ADMIN: Need = Need::Role(Role::Admin);

/// How a route words its refusals: the native API's JSON, an AWS protocol's error shape, or a
/// redirect to the sign-in page for a person at a browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Rest,
    /// AWS JSON protocols (`POST /`): `{"__type", "message"}` and `x-amzn-ErrorType`.
    AwsJson,
    /// AWS REST protocols (Lambda): the same shape with `application/json`.
    AwsRest,
    Browser,
}

/// How the server checks callers.
#[derive(Debug, Clone)]
pub struct AuthOptions {
    /// `/metrics` without a credential (for a Prometheus that cannot send one).
    pub public_metrics: bool,
    /// How long a browser session lasts.
    pub session_lifetime: Duration,
    /// Session cookies are `Secure` (the server speaks TLS).
    pub secure_cookies: bool,
    /// The region AWS signatures must be scoped to (`aws.region`).
    pub region: String,
    /// The host names answered to (checked when authentication is off, against DNS rebinding).
    pub hosts: hosts::AllowedHosts,
    /// `server.public_url` (empty: none): the server's pages may come from its origin.
    pub public_url: String,
}

impl Default for AuthOptions {
    fn default() -> Self {
        AuthOptions {
            public_metrics: false,
            session_lifetime: Duration::from_secs(12 * 3600),
            secure_cookies: false,
            region: "us-east-1".into(),
            hosts: hosts::AllowedHosts::any(),
            public_url: String::new(),
        }
    }
}

/// How the caller was recognised.
#[derive(Debug, Clone, PartialEq)]
pub enum Via {
    /// Nothing presented.
    Nothing,
    /// `Authorization: Bearer`.
    Bearer,
    /// AWS Signature Version 4.
    Signature,
    /// The session cookie, whose value is kept for the CSRF check.
    Session(String),
    /// Authentication is turned off (`[auth] enabled = false`): everyone is an admin.
    Disabled,
}

/// The caller of a request, in the request's extensions.
#[derive(Debug, Clone)]
pub struct Identity {
    pub caller: Option<Arc<Caller>>,
    pub via: Via,
}

impl Identity {
    pub fn anonymous() -> Identity {
        Identity {
            caller: None,
            via: Via::Nothing,
        }
    }

    pub fn unchecked() -> Identity {
        Identity {
            caller: None,
            via: Via::Disabled,
        }
    }

    /// The caller's role; an admin's when authentication is off; None when anonymous.
    pub fn role(&self) -> Option<Role> {
        match (&self.caller, &self.via) {
            (Some(caller), _) => Some(caller.role),
            (None, Via::Disabled) => Some(Role::Admin),
            (None, _) => None,
        }
    }

    /// What the caller is narrowed to (everything when authentication is off).
    pub fn grants(&self) -> &Grants {
        static EVERYTHING: std::sync::OnceLock<Grants> = std::sync::OnceLock::new();
        match &self.caller {
            Some(caller) => &caller.grants,
            None => EVERYTHING.get_or_init(Grants::default),
        }
    }

    /// Whether the caller may see the stream `name`: its grants name it, and it is not one of
    /// weir's own (`__…`), which no API shows to anyone.
    pub fn may_see_stream(&self, name: &str) -> bool {
        self.grants().pipeline(name) && !weir_stream::is_reserved(name)
    }

    pub fn name(&self) -> Option<&str> {
        self.caller.as_ref().map(|c| c.name.as_str())
    }

    /// Whether the credential came in a header a browser never adds on its own, which a page on
    /// another site therefore cannot make it send.
    pub fn by_header(&self) -> bool {
        matches!(self.via, Via::Bearer | Via::Signature)
    }
}
