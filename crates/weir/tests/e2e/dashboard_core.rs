//! The dashboard's frame, over HTTP with the real binary: the home page (failures first,
//! filters, escaping, no buttons for a viewer), its assets (served from the binary, cached by
//! ETag), the headers that keep other sites from framing or scripting it, and the live events
//! that keep pages current (only what the caller may see).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::security::{create, with_token};
use crate::support::*;

fn project() -> Project {
    let project = Project::new();
    project.pipeline(
        "etl_daily",
        "description: \"loads <b>orders</b>\"\ntags: [etl, daily]\ntasks:\n  a:\n    command: echo etl\n",
    );
    project.pipeline(
        "ml_train",
        "tags: [ml]\ntasks:\n  a:\n    command: exit 3\n",
    );
    project
}

#[test]
fn home_lists_failures_first_with_glyphs_and_filters() {
    let project = project();
    let server = Server::start(project.path());
    for pipeline in ["etl_daily", "ml_train"] {
        server.trigger_wait(pipeline, &[]);
    }
    let (status, page) = server.get("/");
    assert_eq!(status, 200, "{page}");
    let failed = page
        .find("data-name=\"ml_train\"")
        .expect("ml_train listed");
    let succeeded = page
        .find("data-name=\"etl_daily\"")
        .expect("etl_daily listed");
    assert!(failed < succeeded, "the failing pipeline comes first");
    // State by glyph and text, not colour alone.
    assert!(page.contains("✗</span> failed"), "{page}");
    assert!(page.contains("✓</span> success"), "{page}");
    // A description is text, never markup.
    assert!(page.contains("loads &lt;b&gt;orders&lt;/b&gt;"), "{page}");
    assert!(!page.contains("<b>orders</b>"));

    let (_, filtered) = server.get("/?state=failed");
    assert!(filtered.contains("data-name=\"ml_train\""));
    assert!(!filtered.contains("data-name=\"etl_daily\""));
    let (_, by_tag) = server.get("/?tag=etl");
    assert!(
        by_tag.contains("data-name=\"etl_daily\"") && !by_tag.contains("data-name=\"ml_train\"")
    );
    let (_, by_name) = server.get("/?q=TRAIN");
    assert!(
        by_name.contains("data-name=\"ml_train\"") && !by_name.contains("data-name=\"etl_daily\"")
    );
    let (status, _) = server.get("/?state=failed&bogus=1");
    assert_eq!(status, 200, "unknown query parameters are ignored");
}

#[test]
fn a_viewer_sees_no_action_buttons_and_an_operator_does() {
    let project = project();
    let server = Server::start(project.path());
    let viewer = create(&server, "viewer", "watcher", &[]);
    let operator = create(&server, "operator", "doer", &[]);
    let page = |token: &serde_json::Value| {
        let (status, page) = with_token(&server, token["token"].as_str().unwrap(), "GET", "/", "");
        assert_eq!(status, 200, "{page}");
        page
    };
    let seen = page(&viewer);
    assert!(seen.contains("etl_daily"));
    assert!(
        !seen.contains("data-action"),
        "a viewer's page has no actions"
    );
    let acting = page(&operator);
    assert!(acting.contains("data-action") && acting.contains("/api/v1/pipelines/etl_daily/runs"));
}

#[test]
fn pages_refuse_framing_and_assets_come_from_the_binary() {
    let project = project();
    let server = Server::start(project.path());
    let bearer = format!("Bearer {}", server.token());
    let (status, headers, page) = http_full(
        "GET",
        &format!("{}/", server.url),
        None,
        &[("Authorization", &bearer)],
    )
    .expect("answers");
    assert_eq!(status, 200);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("cache-control"), "no-store");
    // No third-party script or stylesheet: every asset is the server's own.
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );

    // Assets need no credential (the sign-in page uses them) and are cached by their ETag.
    for asset in ["weir.js", "weir.css", "weir.svg"] {
        let url = format!("{}/ui/assets/{asset}", server.url);
        let (status, headers, body) = http_full("GET", &url, None, &[]).expect("answers");
        assert_eq!(status, 200, "{asset}");
        assert!(!body.is_empty());
        let etag = headers
            .iter()
            .find(|(n, _)| n == "etag")
            .map(|(_, v)| v.clone())
            .expect("an ETag");
        let (again, _, _) =
            http_full("GET", &url, None, &[("If-None-Match", &etag)]).expect("answers");
        assert_eq!(again, 304, "{asset}");
    }
    let (status, _) = server.get("/ui/assets/..%2Fmod.rs");
    assert_eq!(status, 404);
}

/// An open `/ui/live` stream, read line by line.
struct Live {
    reader: BufReader<TcpStream>,
}

impl Live {
    fn open(server: &Server, token: &str, topics: &str) -> Live {
        let address = server.url.trim_start_matches("http://").to_string();
        let mut stream = TcpStream::connect(&address).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        write!(
            stream,
            "GET /ui/live?topics={topics} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .expect("sends");
        Live {
            reader: BufReader::new(stream),
        }
    }

    /// The `data:` lines of `change` events heard within `within`.
    fn changes(&mut self, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut heard = Vec::new();
        let mut event = String::new();
        while Instant::now() < deadline {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => break,
                Ok(_) => {
                    let line = line.trim_end();
                    if let Some(name) = line.strip_prefix("event: ") {
                        event = name.to_string();
                    } else if let Some(data) = line.strip_prefix("data: ")
                        && event == "change"
                    {
                        heard.push(data.to_string());
                    }
                }
                Err(_) => continue,
            }
        }
        heard
    }
}

#[test]
fn live_events_tell_a_page_of_changes_it_may_see_only() {
    let project = project();
    let server = Server::start(project.path());
    let narrow = create(&server, "viewer", "etl", &["--pipelines", "etl_*"]);
    let mut everything = Live::open(&server, &server.token(), "pipelines");
    let mut narrowed = Live::open(&server, narrow["token"].as_str().unwrap(), "pipelines");
    let mut one_run = Live::open(&server, &server.token(), "pipeline:etl_daily");
    server.trigger_wait("ml_train", &[]);
    server.trigger_wait("etl_daily", &[]);

    let all = everything.changes(Duration::from_secs(3));
    assert!(all.iter().any(|c| c.contains("\"ml_train\"")), "{all:?}");
    assert!(
        all.iter()
            .any(|c| c.contains("\"etl_daily\"") && c.contains("\"success\""))
    );
    let seen = narrowed.changes(Duration::from_secs(1));
    assert!(seen.iter().any(|c| c.contains("\"etl_daily\"")), "{seen:?}");
    assert!(!seen.iter().any(|c| c.contains("ml_train")), "{seen:?}");
    let only = one_run.changes(Duration::from_secs(1));
    assert!(
        !only.is_empty() && only.iter().all(|c| c.contains("\"etl_daily\"")),
        "{only:?}"
    );
}

#[test]
fn live_events_end_when_the_server_stops() {
    let project = project();
    let mut server = Server::start(project.path());
    let _live = Live::open(&server, &server.token(), "pipelines");
    std::thread::sleep(Duration::from_millis(300));
    // An open live page must not hold a graceful stop up.
    let (took, stopped) = server.terminate(Duration::from_secs(20));
    assert!(stopped, "the server stopped");
    assert!(took < Duration::from_secs(10), "stopping took {took:?}");
}

/// docs/dashboard.md shows screenshots the browser tests take: each one it shows is committed,
/// and is the name of a screenshot a test takes (so `WEIR_SCREENSHOTS=docs/img/dashboard`
/// remakes every one of them).
#[test]
fn the_dashboard_guide_shows_screenshots_the_tests_take() {
    let docs = manifest_dir().join("../../docs");
    let guide = std::fs::read_to_string(docs.join("dashboard.md")).expect("docs/dashboard.md");
    let tests: String = std::fs::read_dir(manifest_dir().join("tests/e2e"))
        .expect("the e2e tests")
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
        .collect();
    let mut shown = 0;
    for (at, _) in guide.match_indices("](img/dashboard/") {
        let image = &guide[at + 2..];
        let image = &image[..image.find(')').expect("a closed link")];
        let name = image
            .strip_prefix("img/dashboard/")
            .and_then(|n| n.strip_suffix(".png"))
            .expect("a PNG under img/dashboard");
        let file = docs.join(image);
        let size = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("{} is shown but missing: {e}", file.display()))
            .len();
        assert!(size > 4_000, "{} is nearly empty", file.display());
        assert!(
            tests.contains(&format!("screenshot(\"{name}\"")),
            "no browser test takes the screenshot {name}"
        );
        shown += 1;
    }
    assert!(shown >= 10, "the guide shows {shown} screenshots");
}
