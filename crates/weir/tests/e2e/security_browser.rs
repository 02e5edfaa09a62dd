//! What a browser can be made to send: with authentication off, a page that rebinds its own name
//! to the server's address (DNS rebinding) is not answered.

use crate::security::{create, project, sign_in};
use crate::support::*;

#[test]
fn with_authentication_off_only_the_servers_own_host_names_are_answered() {
    let project = project();
    let server = Server::start_with(
        project.path(),
        &[
            ("WEIR_AUTH_ENABLED", "false"),
            ("WEIR_SERVER_ALLOWED_HOSTS", "weir.lan"),
        ],
    );
    let port = server.url.rsplit(':').next().unwrap().to_string();
    let get_as = |path: &str, host: &str| {
        http_with(
            "GET",
            &format!("{}{path}", server.url),
            None,
            &[("Host", host)],
        )
        .unwrap()
    };
    let trigger = format!("{}/api/v1/pipelines/etl_daily/runs", server.url);
    // A rebinding page: same origin as far as the browser knows, JSON and all.
    let rebound = format!("evil.example:{port}");
    let origin = format!("http://{rebound}");
    let (status, body) = http_with(
        "POST",
        &trigger,
        Some("{}"),
        &[
            ("Host", rebound.as_str()),
            ("Origin", origin.as_str()),
            ("Sec-Fetch-Site", "same-origin"),
            ("Content-Type", "application/json"),
        ],
    )
    .unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("server.allowed_hosts"), "{body}");
    let (status, body) = get_as("/api/v1/pipelines", &rebound);
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        server.get_json("/api/v1/runs")["runs"],
        serde_json::json!([])
    );
    // The names it is known by: localhost, its address, and the configured ones.
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("WEIR.lan:{port}"),
    ] {
        let (status, body) = get_as("/api/v1/pipelines", &host);
        assert_eq!(status, 200, "{host}: {body}");
    }
    // Health checks from a load balancer name any host.
    let (status, _) = get_as("/healthz", &rebound);
    assert_eq!(status, 200);
}

#[test]
fn behind_a_reverse_proxy_pages_from_the_public_url_may_make_changes() {
    let project = project();
    let server = Server::start_with(
        project.path(),
        &[("WEIR_SERVER_PUBLIC_URL", "https://weir.example.com")],
    );
    let operator = create(&server, "operator", "web", &[]);
    let cookie = sign_in(&server, operator["token"].as_str().unwrap());
    let trigger = format!("{}/api/v1/pipelines/etl_daily/runs", server.url);
    // The proxy passes its own Host on; the browser names the public origin.
    let post_from = |origin: &str| {
        http_with(
            "POST",
            &trigger,
            Some("{}"),
            &[
                ("Cookie", cookie.as_str()),
                ("Content-Type", "application/json"),
                ("Origin", origin),
                ("Sec-Fetch-Site", "same-origin"),
            ],
        )
        .unwrap()
    };
    let (status, body) = post_from("https://weir.example.com");
    assert_eq!(status, 201, "{body}");
    for other in ["https://evil.example", "http://weir.example.com", "null"] {
        let (status, body) = post_from(other);
        assert_eq!(status, 403, "{other}: {body}");
        assert!(body.contains("cross-origin"), "{body}");
    }
}

#[test]
fn signing_out_ends_the_session_on_the_server_and_not_only_in_the_browser() {
    let project = project();
    let mut server = Server::start(project.path());
    let viewer = create(&server, "viewer", "looker", &[]);
    let token = viewer["token"].as_str().unwrap();
    let (kept, other) = (sign_in(&server, token), sign_in(&server, token));
    let session = format!("{}/api/v1/session", server.url);
    let with_cookie = |cookie: &str| {
        http_with("GET", &session, None, &[("Cookie", cookie)])
            .unwrap()
            .0
    };
    assert_eq!(with_cookie(&kept), 200);
    let (status, body) = http_with(
        "POST",
        &format!("{}/api/v1/logout", server.url),
        Some("{}"),
        &[
            ("Cookie", kept.as_str()),
            ("Content-Type", "application/json"),
        ],
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    // A copy of the cookie (kept by another tab, or stolen) no longer signs anyone in, not even
    // after a restart; the other session goes on.
    server.restart();
    let (status, body) = http_with("GET", &session, None, &[("Cookie", kept.as_str())]).unwrap();
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("session has ended"), "{body}");
    assert_eq!(with_cookie(&other), 200);
}

#[test]
fn a_session_cookie_that_signs_no_one_in_leads_back_to_the_sign_in_page() {
    let project = project();
    let server = Server::start(project.path());
    let other_project = crate::security::project();
    let other = Server::start(other_project.path());
    // Browsers send a host's cookies to all its ports: two servers need cookies of their own.
    let viewer = create(&server, "viewer", "gone", &[]);
    let stale = sign_in(&server, viewer["token"].as_str().unwrap());
    let elsewhere = sign_in(&other, &other.token());
    let name = |cookie: &str| cookie.split('=').next().unwrap().to_string();
    assert_ne!(name(&stale), name(&elsewhere));
    assert!(name(&stale).starts_with("weir_session_"), "{stale}");

    assert!(server.cli(&["tokens", "revoke", "gone"]).status.success());
    let cookies = format!("{stale}; {elsewhere}");
    // A page: back to the sign-in page, which answers and signs in anew.
    let (status, headers, _) = http_full(
        "GET",
        &format!("{}/", server.url),
        None,
        &[("Cookie", &cookies)],
    )
    .unwrap();
    assert_eq!(status, 303);
    let location = &headers.iter().find(|(k, _)| k == "location").unwrap().1;
    assert!(location.starts_with("/login"), "{location}");
    let login = format!("{}/login?token={}&next=/", server.url, server.token());
    let (status, headers, body) = http_full("GET", &login, None, &[("Cookie", &cookies)]).unwrap();
    assert_eq!(status, 303, "{body}");
    assert!(headers.iter().any(|(k, _)| k == "set-cookie"));
    // The API says why.
    let (status, body) = http_with(
        "GET",
        &format!("{}/api/v1/pipelines", server.url),
        None,
        &[("Cookie", &cookies)],
    )
    .unwrap();
    assert_eq!(status, 401);
    assert!(body.contains("session has ended"), "{body}");
}
