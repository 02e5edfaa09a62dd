//! The dashboard in a real browser (headless Chromium, see browser.rs): signing in, and what a
//! person with each role sees.

use std::path::Path;

use crate::browser::{Browser, DESKTOP, PHONE, WAIT};
use crate::security::create;
use crate::support::*;

/// What the tests look for on the pages, in one place: the pages change, these follow them.
mod page {
    /// The sign-in page's token field and its button.
    pub const SIGN_IN_TOKEN: &str = "form[action='/login'] input[name=token]";
    pub const SIGN_IN_BUTTON: &str = "form[action='/login'] button";
    /// What the sign-in page says when a token signs no one in.
    pub const SIGN_IN_REFUSED: &str = "Not signed in";
    /// The home page's heading and the text in it.
    pub const HOME_HEADING: (&str, &str) = ("h1", "Pipelines and state machines");
    /// Where the home page lists the pipelines (their names are in its text).
    pub const HOME_PIPELINES: &str = "#things";
}

/// A project with two pipelines, one of which a narrowed credential may not see.
fn project() -> Project {
    let project = Project::new();
    project.pipeline("nightly_report", "tasks:\n  a:\n    command: echo report\n");
    project.pipeline("ml_train", "tasks:\n  a:\n    command: echo ml\n");
    project
}

/// The width and height of a PNG file, which must be one (and not a trivially small one).
fn png_size(path: &Path) -> (u32, u32) {
    let png = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.get(12..16) == Some(b"IHDR"),
        "{} is not a PNG",
        path.display()
    );
    assert!(
        png.len() > 4_000,
        "{} has only {} bytes: an empty page?",
        path.display(),
        png.len()
    );
    let be = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    (be(16), be(20))
}

#[test]
fn dashboard_signs_in_in_a_real_browser() {
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let project = project();
    let server = Server::start(project.path());
    // Without a session, the home page sends the browser to the sign-in page.
    browser.goto(&format!("{}/", server.url));
    browser.wait_for(page::SIGN_IN_TOKEN, WAIT);
    let path = browser.path();
    assert!(path.starts_with("/login"), "{path}");

    // A person types the admin token into it and lands on the home page.
    browser.fill(page::SIGN_IN_TOKEN, &server.token());
    browser.click(page::SIGN_IN_BUTTON);
    browser.wait_for_path("/", WAIT);
    let (heading, text) = page::HOME_HEADING;
    browser.wait_for_text(heading, text, WAIT);
    for pipeline in ["nightly_report", "ml_train"] {
        browser.wait_for_text(page::HOME_PIPELINES, pipeline, WAIT);
    }
    assert!(browser.title().contains("weir"), "{}", browser.title());
    assert_eq!(browser.console_errors(), Vec::<String>::new());

    let shot = browser.screenshot("home");
    assert_eq!(png_size(&shot), DESKTOP, "{}", shot.display());
}

#[test]
fn a_viewers_session_sees_the_pipelines_it_may_see_also_on_a_phone() {
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let project = project();
    let server = Server::start(project.path());
    let viewer = create(&server, "viewer", "looker", &["--pipelines", "nightly_*"]);
    let token = viewer["token"].as_str().expect("a viewer's token");
    // A token that signs no one in stays on the sign-in page, which says so.
    browser.goto(&format!("{}/login?token=not-a-token&next=/", server.url));
    browser.wait_for_text("body", page::SIGN_IN_REFUSED, WAIT);
    browser.wait_for(page::SIGN_IN_TOKEN, WAIT);
    let errors = browser.console_errors();
    assert!(
        errors.len() == 1 && errors[0].contains("401 (Unauthorized)"),
        "{errors:?}"
    );

    browser.sign_in(&server.url, token);
    let (heading, text) = page::HOME_HEADING;
    browser.wait_for_text(heading, text, WAIT);
    let shown = browser.wait_for_text(page::HOME_PIPELINES, "nightly_report", WAIT);
    assert!(
        !shown.contains("ml_train"),
        "a pipeline outside the grant:\n{shown}"
    );
    assert_eq!(browser.console_errors(), Vec::<String>::new());

    // The same page at a phone's width.
    browser.set_window_size(PHONE);
    browser.goto("/");
    browser.wait_for_text(page::HOME_PIPELINES, "nightly_report", WAIT);
    let shot = browser.screenshot("home-phone");
    assert_eq!(png_size(&shot), PHONE, "{}", shot.display());
}
