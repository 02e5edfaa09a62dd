//! A credential narrowed to some pipelines sees those and nothing of the others, wherever
//! pipelines and runs are listed: the API, the dashboard, the problems of definition files, and
//! a run's routes.

use serde_json::Value;

use crate::security::{create, project, with_token};
use crate::support::*;

#[test]
fn narrowed_listings_and_the_dashboard_show_the_granted_pipelines_only() {
    let project = project();
    project.pipeline("ml_broken", "tasks:\n  a:\n    command: [\n");
    let server = Server::start(project.path());
    let trigger = |pipeline: &str| {
        let output = server.cli(&["pipelines", "trigger", pipeline]);
        assert!(output.status.success(), "{}", stderr(&output));
    };
    for pipeline in ["etl_daily", "etl_daily", "ml_train", "ml_train", "ml_train"] {
        trigger(pipeline);
    }
    let narrow = create(&server, "viewer", "etl", &["--pipelines", "etl_*"]);
    let token = narrow["token"].as_str().unwrap();
    let get = |path: &str| with_token(&server, token, "GET", path, "");

    // The two newest runs it may see, though the three newest overall are another pipeline's.
    let (status, body) = get("/api/v1/runs?limit=2");
    assert_eq!(status, 200, "{body}");
    let runs: Value = serde_json::from_str(&body).unwrap();
    let pipelines: Vec<&str> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["pipeline"].as_str().unwrap())
        .collect();
    assert_eq!(pipelines, ["etl_daily", "etl_daily"], "{body}");

    let (status, page) = get("/");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("etl_daily"), "{page}");
    assert!(
        !page.contains("ml_train") && !page.contains("ml_broken"),
        "{page}"
    );
    let (status, body) = get("/api/v1/pipelines");
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("ml_broken"), "{body}");
    // The admin sees the broken file's problem.
    assert!(server.get("/api/v1/pipelines").1.contains("ml_broken"));

    // A run it cannot see is refused whether or not it exists, so its answers tell nothing of
    // other pipelines' runs.
    let other = server.get_json("/api/v1/runs?pipeline=ml_train&limit=1")["runs"][0]["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    for run in [
        other.as_str(),
        "ml_train__manual__2999-01-01T00:00:00+00:00",
    ] {
        let (status, body) = get(&format!("/api/v1/runs/{run}/wait?timeout=0"));
        assert_eq!(status, 403, "{run}: {body}");
    }
    assert_eq!(server.get("/api/v1/runs/nope").0, 404);
}
