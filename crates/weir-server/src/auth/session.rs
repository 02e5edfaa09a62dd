//! The browser's sign-in, as Jupyter's: `GET /login?token=TOKEN&next=/` checks the token, sets
//! the session cookie (`HttpOnly`, `SameSite=Strict`, `Secure` under TLS) and redirects to
//! `next`. The server prints that link at start with the admin token. `GET /api/v1/session` tells
//! a page who it is signed in as and its CSRF token; `POST /api/v1/logout` ends the session, on
//! the server too.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::middleware::{AuditNote, SESSION_COOKIE};
use super::{Identity, Via};
use crate::AppState;

#[derive(Deserialize)]
pub struct Login {
    token: Option<String>,
    next: Option<String>,
}

pub async fn login(State(state): State<Arc<AppState>>, Query(login): Query<Login>) -> Response {
    let next = safe_next(login.next.as_deref());
    let Some(access) = &state.access else {
        return redirect(&next, None);
    };
    let Some(token) = login.token.filter(|t| !t.is_empty()) else {
        return form(StatusCode::OK, &next, None);
    };
    match access.new_session(&token, state.auth.session_lifetime) {
        Ok((session, caller)) => {
            let secure = if state.auth.secure_cookies {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
                access.session_cookie_name(),
                state.auth.session_lifetime.as_secs()
            );
            let mut response = redirect(&next, Some(cookie));
            // A sign-in is audited as the credential that signed in.
            response.extensions_mut().insert(AuditNote {
                mutating: Some(true),
                detail: Some("signed in: a browser session began".into()),
                ..AuditNote::default()
            });
            response.extensions_mut().insert(Identity {
                caller: Some(caller),
                via: Via::Bearer,
            });
            response
        }
        Err(refusal) => {
            let mut response = form(StatusCode::UNAUTHORIZED, &next, Some(refusal.as_str()));
            response.extensions_mut().insert(AuditNote {
                refusal: Some(format!("sign-in refused: {}", refusal.as_str())),
                ..AuditNote::default()
            });
            response
        }
    }
}

/// Who the page is signed in as, and the CSRF token its changes carry in `X-CSRF-Token`.
pub async fn session(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
) -> Json<Value> {
    let csrf_token = match (&identity.via, &state.access) {
        (Via::Session(session), Some(access)) => Some(access.csrf_token(session)),
        _ => None,
    };
    Json(json!({
        "name": identity.name(),
        "role": identity.role(),
        "grants": identity.grants(),
        "csrf_token": csrf_token,
        "authentication": state.access.is_some(),
    }))
}

/// Signs out: the session ends on the server (its cookie, wherever a copy of it is, no longer
/// signs anyone in) and the browser forgets the cookie.
pub async fn logout(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
) -> Response {
    if let (Via::Session(session), Some(access)) = (&identity.via, &state.access)
        && let Err(error) = access.end_session(session).await
    {
        return crate::ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "store_error",
            message: format!("the session could not be ended: {error}"),
        }
        .into_response();
    }
    let name = state
        .access
        .as_ref()
        .map_or_else(|| SESSION_COOKIE.to_string(), |a| a.session_cookie_name());
    let cookie = format!("{name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    let mut response = Json(json!({ "signed_out": true })).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `next` when it is a path on this server; `/` otherwise (an open redirect would let a link
/// that looks like weir's send the user anywhere).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

fn redirect(next: &str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(next) {
        headers.insert(header::LOCATION, location);
    }
    if let Some(value) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn form(status: StatusCode, next: &str, problem: Option<&str>) -> Response {
    let problem = problem
        .map(|p| {
            format!(
                "<p class=\"error\" role=\"alert\">Not signed in: {}.</p>",
                crate::dashboard::html::esc(p)
            )
        })
        .unwrap_or_default();
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=utf-8>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>weir: sign in</title><link rel=stylesheet href=\"/ui/assets/weir.css?v={}\"></head>\
         <body><header class=\"top\"><span class=\"brand\">weir</span></header>\
         <main id=\"main\"><h1>Sign in</h1>{problem}\
         <form class=\"stack\" method=get action=/login><input type=hidden name=next value=\"{}\">\
         <label>Token <input name=token type=password autofocus size=50 autocomplete=current-password></label> \
         <div><button class=\"btn primary\">Sign in</button></div></form>\
         <p class=\"muted\">The admin token is in the data directory's <code>admin-token</code> file; \
         <code>weir tokens create</code> makes others.</p></main></body></html>",
        crate::dashboard::assets::VERSION.as_str(),
        crate::dashboard::html::esc(next)
    );
    (status, Html(page)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(safe_next(Some("/runs?x=1")), "/runs?x=1");
        for outside in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "",
            "runs",
        ] {
            assert_eq!(safe_next(Some(outside)), "/", "{outside}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
