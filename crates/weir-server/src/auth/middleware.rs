//! The two layers: `authenticate` over the whole router (who is calling; what to audit) and
//! `authorize` on each route (may they; is it a forged browser request).

use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use weir_engine::access::{Access, Refusal};
use weir_model::access::Role;
use weir_store::AuditRecord;

use super::routes::{Rule, Scope};
use super::{Dialect, Identity, Need, Via};
use crate::AppState;

/// The session cookie's name when authentication is off (there are no sessions then; signing
/// out still clears the cookie of an earlier start). With it on, [`Access::session_cookie_name`].
pub const SESSION_COOKIE: &str = "weir_session";
/// Longest `Authorization` header read; a longer one is refused unread.
const MAX_AUTHORIZATION: usize = 8 * 1024;

/// What a route or handler tells the audit layer about the call, in the response's extensions.
#[derive(Debug, Clone, Default)]
pub struct AuditNote {
    /// `METHOD /route/{param}`, or an AWS protocol's `Service.Operation`.
    pub action: String,
    /// What the call was about when the path does not say (an AWS operation's resource ARN).
    pub target: Option<String>,
    /// Whether the call changes anything (audited even when it succeeds), when the method does
    /// not say (every AWS JSON call is a POST).
    pub mutating: Option<bool>,
    /// Why it was refused.
    pub refusal: Option<String>,
    /// Why it failed, or what it did, when it was not refused (the audit log's detail).
    pub detail: Option<String>,
}

/// Whether the request carries a valid `X-CSRF-Token`: the session's, or, with authentication
/// off, any (a custom header is what a cross-site form cannot add).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CsrfToken(pub bool);

/// Why the session cookie a request carries signs no one in (expired, ended, another server's):
/// the request goes on as anonymous, so the sign-in page still answers, and a route that needs a
/// credential says this instead of asking for one.
#[derive(Debug, Clone)]
pub(crate) struct StaleSession(pub String);

/// `/metrics` is open (`[auth] public_metrics`): told to the route's check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublicMetrics(pub bool);

/// Finds the caller, runs the request, and audits it when it changed something or was refused.
pub async fn authenticate(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.uri().path() == "/healthz" {
        return next.run(request).await;
    }
    request
        .extensions_mut()
        .insert(PublicMetrics(state.auth.public_metrics));
    // For the checks of grants that need the store (a run's pipeline).
    request.extensions_mut().insert(state.clone());
    let Some(access) = &state.access else {
        if let Err(reason) = state.auth.hosts.check(request.headers()) {
            let dialect = dialect_of(request.method(), request.uri().path());
            return refuse(dialect, StatusCode::FORBIDDEN, &reason, "");
        }
        let custom_header = request.headers().contains_key("x-csrf-token");
        request.extensions_mut().insert(CsrfToken(custom_header));
        request.extensions_mut().insert(Identity::unchecked());
        return next.run(request).await;
    };
    let source = request
        .extensions()
        .get::<ConnectInfo<super::Peer>>()
        .map(|info| info.0.to_string())
        .unwrap_or_default();
    let method = request.method().clone();
    let target = request.uri().path().to_string();
    let identified = if is_signed(request.headers()) {
        verify_signature(&state, access, request).await
    } else {
        match identify(access, request.headers()) {
            Ok((identity, stale)) => {
                if let Some(stale) = stale {
                    request.extensions_mut().insert(StaleSession(stale));
                }
                Ok((identity, request))
            }
            Err(problem) => {
                let dialect = dialect_of(&method, &target);
                Err(refuse(dialect, StatusCode::UNAUTHORIZED, &problem, &target))
            }
        }
    };
    let (identity, response) = match identified {
        Ok((identity, mut request)) => {
            let csrf = request
                .headers()
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            let valid = match (&identity.via, csrf) {
                (Via::Session(session), Some(token)) => access.check_csrf_token(session, token),
                _ => false,
            };
            request.extensions_mut().insert(CsrfToken(valid));
            request.extensions_mut().insert(identity.clone());
            (identity, next.run(request).await)
        }
        Err(response) => (Identity::anonymous(), response),
    };
    let note = response.extensions().get::<AuditNote>().cloned();
    // A handler that came to know the caller (the sign-in page) says so.
    let identity = response
        .extensions()
        .get::<Identity>()
        .cloned()
        .unwrap_or(identity);
    let status = response.status();
    audit(access, &identity, &source, &method, &target, status, note).await;
    response
}

/// Whether the request is signed with AWS Signature Version 4.
fn is_signed(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .is_some_and(|value| value.as_bytes().starts_with(b"AWS4-"))
}

/// The AWS service an endpoint answers as (the signature's scope must name it), and how it words
/// errors; None for a route that is not an AWS endpoint.
fn aws_service(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<(&'static str, Dialect)> {
    if path == "/" && method == Method::POST {
        let target = headers.get("x-amz-target")?.to_str().ok()?;
        let service = match target.split_once('.')?.0 {
            "AWSStepFunctions" => "states",
            "Kinesis_20131202" => "kinesis",
            "Firehose_20150804" => "firehose",
            "AWSEvents" => "events",
            "AmazonSQS" => "sqs",
            _ => return None,
        };
        Some((service, Dialect::AwsJson))
    } else if path.starts_with("/2015-03-31/") {
        Some(("lambda", Dialect::AwsRest))
    } else {
        None
    }
}

/// Verifies a signed request against the key pair it names; the request comes back with its
/// body (read whole, within the body limit, since the signature covers its hash).
async fn verify_signature(
    state: &AppState,
    access: &Access,
    request: Request,
) -> Result<(Identity, Request), Response> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let Some((service, dialect)) = aws_service(&parts.method, &path, &parts.headers) else {
        return Err(refuse(
            dialect_of(&parts.method, &path),
            StatusCode::UNAUTHORIZED,
            "AWS Signature Version 4 is accepted on the AWS endpoints (POST / and the Lambda API); \
             the native API takes `Authorization: Bearer TOKEN`",
            &path,
        ));
    };
    let expected = super::sigv4::Expected {
        service,
        region: &state.auth.region,
        unsigned_payload: false,
    };
    let now = std::time::SystemTime::now();
    let refused = |error: super::sigv4::SigV4Error| {
        noted(
            aws_refusal(dialect, error.status(), error.code(), error.message()),
            error.message(),
        )
    };
    // Everything that needs neither the body nor the secret is checked before the body is read:
    // an unsigned, expired or mis-scoped request, or one naming a key that is not an active
    // credential's, never makes the server hold a body of up to `max_body_bytes`.
    let head = super::sigv4::SignedRequest {
        method: parts.method.as_str(),
        path: &path,
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &[],
    };
    let claim = super::sigv4::check(&head, &expected, now).map_err(refused)?;
    if access.by_access_key(claim.access_key_id()).is_err() {
        return Err(match claim.verify(None) {
            Err(error) => refused(error),
            Ok(_) => refuse(
                dialect,
                StatusCode::UNAUTHORIZED,
                "unknown access key",
                &path,
            ),
        });
    }
    let body = match axum::body::to_bytes(body, state.max_body_bytes).await {
        Ok(body) => body,
        Err(_) => {
            let message = format!(
                "Request must be smaller than {} bytes for this operation",
                state.max_body_bytes
            );
            return Err(noted(
                aws_refusal(
                    dialect,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestTooLargeException",
                    &message,
                ),
                &message,
            ));
        }
    };
    let signed = super::sigv4::SignedRequest {
        method: parts.method.as_str(),
        path: &path,
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &body,
    };
    let mut caller = None;
    let verified = super::sigv4::verify(&signed, &expected, now, |key| {
        access.by_access_key(key).ok().map(|(found, secret)| {
            caller = Some(found);
            secret
        })
    });
    match (verified, caller) {
        (Ok(_), Some(caller)) => Ok((
            Identity {
                caller: Some(caller),
                via: Via::Signature,
            },
            Request::from_parts(parts, axum::body::Body::from(body)),
        )),
        (Err(error), _) => Err(refused(error)),
        (Ok(_), None) => Err(refuse(
            dialect,
            StatusCode::UNAUTHORIZED,
            "unknown access key",
            &path,
        )),
    }
}

/// Notes a refusal for the audit log.
fn noted(mut response: Response, reason: &str) -> Response {
    response.extensions_mut().insert(AuditNote {
        refusal: Some(reason.to_string()),
        ..AuditNote::default()
    });
    response
}

/// The caller a request presents (a bearer token or the session cookie), or why what it presents
/// is refused; with why its session cookie signs no one in, when it does not.
fn identify(access: &Access, headers: &HeaderMap) -> Result<(Identity, Option<String>), String> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        if value.len() > MAX_AUTHORIZATION {
            return Err(format!(
                "the Authorization header is longer than {MAX_AUTHORIZATION} bytes"
            ));
        }
        let value = value
            .to_str()
            .map_err(|_| "the Authorization header is not ASCII".to_string())?;
        return match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                let caller = access.by_token(token.trim()).map_err(|refusal| {
                    format!("{} in the Authorization header", refusal.as_str())
                })?;
                Ok((
                    Identity {
                        caller: Some(caller),
                        via: Via::Bearer,
                    },
                    None,
                ))
            }
            _ => Err(
                "the Authorization header must be `Bearer TOKEN` (or an AWS Signature Version 4 \
                 on the AWS endpoints)"
                    .into(),
            ),
        };
    }
    if let Some(session) = cookie(headers, &access.session_cookie_name()) {
        let stale = match access.by_session(session) {
            Ok(caller) => {
                let identity = Identity {
                    caller: Some(caller),
                    via: Via::Session(session.to_string()),
                };
                return Ok((identity, None));
            }
            Err(Refusal::Expired) => "the session has expired; sign in again",
            Err(Refusal::Revoked) => {
                "the session has ended (signed out, or its credential revoked); sign in again"
            }
            Err(Refusal::Unknown) => "the session is not valid; sign in again",
        };
        return Ok((Identity::anonymous(), Some(stale.to_string())));
    }
    Ok((Identity::anonymous(), None))
}

/// A cookie's value from the `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Refuses a caller the route does not allow, and a browser request forged by another site; the
/// audit log names the call by its route (`POST /api/v1/pipelines/{name}/runs`) unless the
/// handler named it (an AWS protocol's operation).
pub async fn authorize(rule: Rule, request: Request, next: Next) -> Response {
    let action = format!("{} {}", request.method(), rule.path);
    let mut response = check_and_run(rule, request, next).await;
    let mut note = response
        .extensions_mut()
        .remove::<AuditNote>()
        .unwrap_or_default();
    if note.action.is_empty() {
        note.action = action;
    }
    response.extensions_mut().insert(note);
    response
}

async fn check_and_run(rule: Rule, request: Request, next: Next) -> Response {
    let (need, dialect) = (rule.need, rule.dialect);
    let identity = request
        .extensions()
        .get::<Identity>()
        .cloned()
        .unwrap_or_else(Identity::anonymous);
    let public_metrics = request
        .extensions()
        .get::<PublicMetrics>()
        .is_some_and(|p| p.0);
    let path = request.uri().path().to_string();
    let needed = match need {
        Need::Open => None,
        Need::Metrics if public_metrics => None,
        Need::Metrics => Some(Role::Viewer),
        Need::Operation => Some(Role::Viewer),
        Need::Role(role) => Some(role),
    };
    if let Some(needed) = needed {
        match identity.role() {
            None => {
                let stale = request.extensions().get::<StaleSession>();
                let message = stale.map_or(
                    "authentication required: send `Authorization: Bearer TOKEN` (see `weir tokens`)",
                    |stale| stale.0.as_str(),
                );
                return refuse(dialect, StatusCode::UNAUTHORIZED, message, &path);
            }
            Some(role) if role < needed => {
                let message = format!(
                    "credential `{}` has role {role}; {} {path} needs {needed}",
                    identity.name().unwrap_or("?"),
                    request.method()
                );
                return refuse(dialect, StatusCode::FORBIDDEN, &message, &path);
            }
            Some(_) => {}
        }
    }
    if need != Need::Open
        && let Err(reason) = same_site(&request, &identity, public_origin(&request).as_deref())
    {
        return refuse(dialect, StatusCode::FORBIDDEN, &reason, &path);
    }
    // A stream's path is always looked at: a delivery's own stream is refused to everyone.
    let unnarrowed = identity.grants().is_everything() && rule.scope != Scope::Stream;
    let request = if unnarrowed || rule.scope == Scope::Nothing {
        request
    } else {
        match granted(rule.scope, request, &identity).await {
            Ok(request) => request,
            Err(reason) => return refuse(dialect, StatusCode::FORBIDDEN, &reason, &path),
        }
    };
    next.run(request).await
}

/// Whether the caller's grants cover what the route's path names.
async fn granted(scope: Scope, request: Request, identity: &Identity) -> Result<Request, String> {
    use axum::extract::FromRequestParts;
    let (mut parts, body) = request.into_parts();
    let params = axum::extract::RawPathParams::from_request_parts(&mut parts, &())
        .await
        .map_err(|_| "the path's parameters could not be read".to_string())?;
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
            .unwrap_or_default()
    };
    let state = parts.extensions.get::<Arc<AppState>>().cloned();
    let who = identity.name().unwrap_or("?");
    let grants = identity.grants();
    let denied = |what: String| format!("credential `{who}` is not granted {what}");
    match scope {
        Scope::Nothing => {}
        Scope::Pipeline => {
            let name = param("name");
            if !grants.pipeline(&name) {
                return Err(denied(format!("pipeline `{name}`")));
            }
        }
        Scope::Bus => {
            let bus = param("bus");
            if !grants.pipeline(&bus) {
                return Err(denied(format!("event bus `{bus}`")));
            }
        }
        Scope::Stream => {
            let name = param("name");
            // weir's own streams are out of reach (see the Kinesis API's same rule).
            if !identity.may_see_stream(&name) {
                return Err(denied(format!("stream `{name}`")));
            }
        }
        Scope::Run => {
            let run_id = param("run_id");
            match state {
                Some(state) => run_granted(&state, identity, &run_id).await?,
                None if grants.pipelines.is_empty() => {}
                None => return Err(denied(format!("run {run_id} (no run it may see)"))),
            }
        }
        Scope::Key => {
            let key = param("key");
            if !grants.key(&key) {
                return Err(denied(format!("lake key `{key}` (outside its prefixes)")));
            }
        }
        Scope::Database => {
            let name = param("name");
            if !grants.database(&name) {
                return Err(denied(format!("database `{name}`")));
            }
        }
        Scope::Table => {
            let (database, name) = (param("database"), param("name"));
            if !grants.table(&database, &name) {
                return Err(denied(format!("table `{database}.{name}`")));
            }
        }
    }
    Ok(Request::from_parts(parts, body))
}

/// Whether the caller may act on run `run_id`: every run when its grants name no pipelines, else
/// only runs of a granted pipeline. A run the check cannot find (unknown, not created yet, or
/// unreadable now) is refused like another pipeline's: letting it through would let the handler
/// find a run created since, and a 404 would tell which runs exist. The routes under
/// `/api/v1/runs/{run_id}` and each run of a bulk action are checked by this one function.
pub(crate) async fn run_granted(
    state: &AppState,
    identity: &Identity,
    run_id: &str,
) -> Result<(), String> {
    let grants = identity.grants();
    if grants.pipelines.is_empty() {
        return Ok(());
    }
    let who = identity.name().unwrap_or("?");
    let run = state.engine.store().run(run_id).await.ok().flatten();
    // One answer for a run of another pipeline and for no run at all, so that a narrowed
    // caller learns nothing of other pipelines' runs.
    match run {
        Some(run) if grants.pipeline(&run.pipeline) => Ok(()),
        _ => Err(format!(
            "credential `{who}` is not granted run {run_id} (no run it may see)"
        )),
    }
}

/// CSRF: a request that changes something and whose credential a browser could have attached on
/// its own (a cookie, or none at all when authentication is off) must come from weir's own
/// pages: not from another site (`Sec-Fetch-Site`, `Origin`), and, for a POST (the one method
/// a form can send), with a JSON body or the session's `X-CSRF-Token`, which a page on another
/// site can send only after a CORS preflight that weir never allows.
fn same_site(
    request: &Request,
    identity: &Identity,
    public_origin: Option<&str>,
) -> Result<(), String> {
    if identity.by_header() || !is_mutating(request.method()) {
        return Ok(());
    }
    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return Err(format!(
            "cross-site request refused (Sec-Fetch-Site: {site}): changes come from weir's own pages or a client with a token"
        ));
    }
    if let Some(origin) = text("origin") {
        let host = text("host").unwrap_or("");
        let origin_host = origin.split_once("://").map(|(_, rest)| rest);
        // The server's own address, or the public one a reverse proxy serves it at (the proxy
        // may pass its own Host on).
        let own = origin_host == Some(host)
            || public_origin.is_some_and(|public| origin.eq_ignore_ascii_case(public));
        if !own {
            return Err(format!(
                "cross-origin request refused (Origin: {origin}): changes come from weir's own pages or a client with a token"
            ));
        }
    }
    if request.method() == Method::POST {
        let json_body = text("content-type").is_some_and(is_json_type);
        let token_ok = request
            .extensions()
            .get::<CsrfToken>()
            .is_some_and(|token| token.0);
        if !json_body && !token_ok {
            return Err(
                "a POST from a browser needs a JSON body (Content-Type: application/json) or the \
                 session's X-CSRF-Token header"
                    .into(),
            );
        }
    }
    Ok(())
}

/// The origin (`scheme://host[:port]`) of `server.public_url`, where the server's pages are
/// served from when a reverse proxy stands in front of it.
fn public_origin(request: &Request) -> Option<String> {
    let state = request.extensions().get::<Arc<AppState>>()?;
    let uri = state.auth.public_url.parse::<axum::http::Uri>().ok()?;
    Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?))
}

fn is_json_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence.ends_with("+json")
        || essence.starts_with("application/x-amz-json-")
}

pub(crate) fn is_mutating(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The dialect of a request refused before routing (a bad credential): AWS's shape on the AWS
/// endpoints, so AWS clients report it as they would AWS's.
fn dialect_of(method: &Method, path: &str) -> Dialect {
    if path == "/" && method == Method::POST {
        Dialect::AwsJson
    } else if path.starts_with("/2015-03-31/") {
        Dialect::AwsRest
    } else {
        Dialect::Rest
    }
}

/// A refusal in the route's dialect, noted for the audit log.
pub(crate) fn refuse(dialect: Dialect, status: StatusCode, message: &str, path: &str) -> Response {
    let mut response = match dialect {
        Dialect::Rest => {
            let code = if status == StatusCode::UNAUTHORIZED {
                "unauthenticated"
            } else {
                "forbidden"
            };
            let mut response = (
                status,
                axum::Json(json!({ "error": { "code": code, "message": message } })),
            )
                .into_response();
            if status == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"weir\""),
                );
            }
            response
        }
        Dialect::AwsJson | Dialect::AwsRest => {
            // As AWS answers: Lambda's REST API refuses with 403, the JSON protocols with 400.
            let refused = if dialect == Dialect::AwsRest {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::BAD_REQUEST
            };
            let (kind, message) = if status == StatusCode::UNAUTHORIZED {
                (
                    "MissingAuthenticationTokenException",
                    "Missing Authentication Token",
                )
            } else {
                ("AccessDeniedException", message)
            };
            aws_refusal(dialect, refused, kind, message)
        }
        Dialect::Browser if status == StatusCode::UNAUTHORIZED => {
            let next = if path.starts_with('/') { path } else { "/" };
            (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, format!("/login?next={}", encode(next)))],
            )
                .into_response()
        }
        Dialect::Browser => (status, message.to_string()).into_response(),
    };
    response.extensions_mut().insert(AuditNote {
        refusal: Some(message.to_string()),
        ..AuditNote::default()
    });
    response
}

/// An AWS-shaped error: `{"__type", "message"}` with `x-amzn-ErrorType`.
pub(crate) fn aws_refusal(
    dialect: Dialect,
    status: StatusCode,
    kind: &str,
    message: &str,
) -> Response {
    let content_type = if dialect == Dialect::AwsJson {
        "application/x-amz-json-1.0"
    } else {
        "application/json"
    };
    let body = json!({ "__type": kind, "message": message }).to_string();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(kind) = HeaderValue::from_str(kind) {
        headers.insert("x-amzn-ErrorType", kind);
    }
    response
}

fn encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn audit(
    access: &Access,
    identity: &Identity,
    source: &str,
    method: &Method,
    target: &str,
    status: StatusCode,
    note: Option<AuditNote>,
) {
    let note = note.as_ref();
    let refused = status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
        || note.is_some_and(|n| n.refusal.is_some());
    let mutating = note
        .and_then(|n| n.mutating)
        .unwrap_or_else(|| is_mutating(method));
    if !refused && !mutating {
        return;
    }
    let action = match note.map(|n| n.action.as_str()) {
        Some(action) if !action.is_empty() => action.to_string(),
        _ => format!("{method} {target}"),
    };
    let outcome = if status == StatusCode::UNAUTHORIZED
        || (refused && identity.caller.is_none() && identity.via != Via::Disabled)
    {
        "unauthenticated"
    } else if refused {
        "denied"
    } else if status.is_success() || status.is_redirection() {
        "ok"
    } else {
        "failed"
    };
    access
        .audit(AuditRecord {
            at: chrono::Utc::now().timestamp_micros(),
            credential: identity.name().map(str::to_string),
            role: identity.role().map(|r| r.as_str().to_string()),
            source: source.to_string(),
            action,
            target: note
                .and_then(|n| n.target.clone())
                .unwrap_or_else(|| target.to_string()),
            outcome: outcome.into(),
            status: i32::from(status.as_u16()),
            detail: note.and_then(|n| n.refusal.clone().or_else(|| n.detail.clone())),
        })
        .await;
}
