//! Saved queries charted together on dashboards, through the real binary: saved, listed in
//! position order, replaced, refused with the field and the rule when wrong (writing SQL, a bad
//! chart, too many), narrowed by table grants, deleted, kept across a restart.

use serde_json::{Value, json};

use crate::security::{create, narrowed, with_token};
use crate::support::*;

fn put(server: &Server, dashboard: &str, name: &str, body: Value) -> (u16, Value) {
    let path = format!("/api/v1/dashboards/{dashboard}/queries/{name}");
    let (status, text) = server.request("PUT", &path, Some(&body.to_string()));
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}")),
    )
}

fn query(sql: &str) -> Value {
    json!({"sql": sql, "chart": {"type": "bar", "x": "day", "y": ["n"]}})
}

fn names(dashboard: &Value) -> Vec<String> {
    dashboard["queries"]
        .as_array()
        .expect("queries")
        .iter()
        .map(|q| q["name"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn saved_queries_make_dashboards() {
    let project = Project::new();
    let mut server = Server::start(project.path());
    assert_eq!(
        server.get_json("/api/v1/dashboards"),
        json!({"dashboards": []})
    );
    let (status, first) = put(&server, "sales", "orders", query("SELECT 1 AS day, 2 AS n"));
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["position"], 0);
    assert_eq!(
        first["chart"],
        json!({"type": "bar", "x": "day", "y": ["n"]})
    );
    assert!(first["created_by"].is_string(), "{first}");
    let (_, second) = put(
        &server,
        "sales",
        "revenue",
        query("SELECT 1 AS day, 3 AS n"),
    );
    assert_eq!(second["position"], 1, "after the others by default");
    let mut top = query("SELECT 1 AS day, 4 AS n");
    top["position"] = json!(-1);
    top["chart"] = json!({"type": "table"});
    assert_eq!(put(&server, "sales", "top", top).0, 200);
    put(&server, "ops", "lag", query("SELECT 1 AS day, 5 AS n"));

    let sales = server.get_json("/api/v1/dashboards/sales");
    assert_eq!(names(&sales), ["top", "orders", "revenue"]);
    assert_eq!(sales["queries"][1]["sql"], "SELECT 1 AS day, 2 AS n");
    assert_eq!(
        server.get_json("/api/v1/dashboards"),
        json!({"dashboards": [{"name": "ops", "queries": 1}, {"name": "sales", "queries": 3}]})
    );
    // Replaced: the new SQL, the same place and creation.
    let (status, replaced) = put(&server, "sales", "orders", query("SELECT 2 AS day, 9 AS n"));
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["position"], 0);
    assert_eq!(replaced["created_at"], first["created_at"]);
    assert_eq!(
        server.get_json("/api/v1/dashboards/sales")["queries"][1]["sql"],
        "SELECT 2 AS day, 9 AS n"
    );

    // Kept across a restart.
    server.restart();
    assert_eq!(
        names(&server.get_json("/api/v1/dashboards/sales")),
        ["top", "orders", "revenue"]
    );

    // Deleted one at a time, or a dashboard at once.
    let (status, _) = server.request("DELETE", "/api/v1/dashboards/sales/queries/top", None);
    assert_eq!(status, 200);
    let (status, text) = server.request("DELETE", "/api/v1/dashboards/sales/queries/top", None);
    assert_eq!(status, 404, "{text}");
    let (status, text) = server.request("DELETE", "/api/v1/dashboards/sales", None);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"deleted\":2"), "{text}");
    let (status, text) = server.get("/api/v1/dashboards/sales");
    assert_eq!(status, 404, "{text}");
    assert_eq!(
        server.get_json("/api/v1/dashboards"),
        json!({"dashboards": [{"name": "ops", "queries": 1}]})
    );
}

#[test]
fn saved_queries_are_checked_and_refused_with_the_field_and_rule() {
    let project = Project::new();
    let server = Server::start(project.path());
    let cases = [
        (
            "sales",
            "q",
            query("CREATE TABLE web.copy AS SELECT 1 AS n"),
            "`sql` must only read",
        ),
        ("sales", "q", query("   "), "`sql` must not be empty"),
        (
            "sales",
            "q",
            query(&format!("SELECT '{}' AS day", "x".repeat(65_536))),
            "`sql` must be at most 65536 bytes",
        ),
        (
            "sales",
            "q",
            json!({"sql": "SELECT 1 AS n", "chart": {"type": "pie", "x": "a", "y": ["n"]}}),
            "`chart.type` must be one of bar, line, area, scatter, table",
        ),
        (
            "sales",
            "q",
            json!({"sql": "SELECT 1 AS n", "chart": {"type": "line", "y": ["n"]}}),
            "`chart.x` must be",
        ),
        (
            "sales",
            "q",
            json!({"sql": "SELECT 1 AS n", "chart": {"type": "line", "x": "a", "y": []}}),
            "`chart.y` must be",
        ),
        (
            "sales",
            "q",
            json!({"sql": "SELECT 1 AS n"}),
            "missing field `chart`",
        ),
        (
            "sales",
            "q",
            json!({"sql": "SELECT 1 AS n", "chart": {"type": "table"}, "owner": "me"}),
            "unknown field `owner`",
        ),
        (
            "sales",
            "a.b",
            query("SELECT 1 AS n"),
            "`name` must be 1 to 128 letters, digits, `-` or `_`",
        ),
        (
            &"d".repeat(129),
            "q",
            query("SELECT 1 AS n"),
            "`dashboard` must be 1 to 128",
        ),
    ];
    for (dashboard, name, body, expected) in cases {
        let (status, answer) = put(&server, dashboard, name, body.clone());
        assert_eq!(status, 400, "{name} {body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(expected), "{expected}: {answer}");
    }
    // SQL the engine cannot parse is the engine's 400.
    let (status, answer) = put(&server, "sales", "q", query("SELEC 1"));
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        server.get_json("/api/v1/dashboards"),
        json!({"dashboards": []}),
        "nothing was saved"
    );

    // At most 100 queries on a dashboard; one already there can still be replaced.
    for i in 0..100 {
        let (status, answer) = put(&server, "big", &format!("q{i}"), query("SELECT 1 AS n"));
        assert_eq!(status, 200, "{answer}");
    }
    let (status, answer) = put(&server, "big", "q100", query("SELECT 1 AS n"));
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("the most one dashboard holds (100)"),
        "{answer}"
    );
    assert_eq!(put(&server, "big", "q7", query("SELECT 2 AS n")).0, 200);
}

#[test]
fn viewers_read_dashboards_and_grants_narrow_what_is_saved() {
    let project = crate::security::project();
    let server = Server::start(project.path());
    put(&server, "sales", "orders", query("SELECT 1 AS day, 2 AS n"));
    let viewer = create(&server, "viewer", "v", &[]);
    let viewer = viewer["token"].as_str().expect("token");
    let (status, text) = with_token(&server, viewer, "GET", "/api/v1/dashboards/sales", "");
    assert_eq!(status, 200, "{text}");
    let body = query("SELECT 1 AS n").to_string();
    let path = "/api/v1/dashboards/sales/queries/mine";
    let (status, text) = with_token(&server, viewer, "PUT", path, &body);
    assert_eq!(status, 403, "{text}");

    // A credential granted the tables `sales.*` saves queries of those only.
    let operator = narrowed(&server, "operator", "etl");
    let operator = operator["token"].as_str().expect("token");
    let body = query("SELECT count(*) AS n FROM hr.pay").to_string();
    let (status, text) = with_token(&server, operator, "PUT", path, &body);
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("not granted table `hr.pay`"), "{text}");
    let body = query("SELECT count(*) AS n FROM sales.orders").to_string();
    let (status, text) = with_token(&server, operator, "PUT", path, &body);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"created_by\":\"etl\""), "{text}");
}
