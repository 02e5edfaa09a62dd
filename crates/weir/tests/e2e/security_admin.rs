//! An admin narrowed by grants stays inside them: it cannot make itself a credential without
//! grants, set the secrets every pipeline uses, read every pipeline's callers in the audit log, or make catalog entries and crawl
//! outside its tables and prefixes.

use crate::security::{narrowed, project, with_token};
use crate::support::*;

#[test]
fn an_admin_narrowed_by_grants_cannot_step_outside_them() {
    let project = project();
    let server = Server::start(project.path());
    let lead = narrowed(&server, "admin", "lead");
    let token = lead["token"].as_str().unwrap();
    let call =
        |method: &str, path: &str, body: &str| with_token(&server, token, method, path, body);
    let refused = |method: &str, path: &str, body: &str, says: &str| {
        let (status, answer) = call(method, path, body);
        assert_eq!(status, 403, "{method} {path} {body}: {answer}");
        assert!(answer.contains(says), "{method} {path} {body}: {answer}");
    };
    refused(
        "POST",
        "/api/v1/tokens",
        r#"{"role": "admin", "name": "escape"}"#,
        "without grants",
    );
    refused("GET", "/api/v1/tokens", "", "without grants");
    refused("DELETE", "/api/v1/tokens/admin", "", "without grants");
    refused("GET", "/api/v1/audit", "", "without grants");
    refused("GET", "/api/v1/secrets", "", "without grants");
    refused(
        "PUT",
        "/api/v1/secrets/db_password",
        r#"{"value": "x"}"#,
        "without grants",
    );
    assert!(
        server
            .json(&["tokens", "list"])
            .to_string()
            .contains("\"admin\"")
    );

    refused(
        "POST",
        "/api/v1/catalog/databases",
        r#"{"name": "hr"}"#,
        "database `hr`",
    );
    let table = r#"{"database": "sales", "name": "pay", "location": "raw/b/pay", "format": "csv", "columns": []}"#;
    refused(
        "POST",
        "/api/v1/catalog/tables",
        table,
        "lake prefix `raw/b/pay`",
    );
    refused(
        "POST",
        "/api/v1/crawl",
        r#"{"prefix": "raw/"}"#,
        "lake prefix `raw/`",
    );
    refused(
        "POST",
        "/api/v1/crawl",
        r#"{"prefix": "raw/a/", "database": "hr"}"#,
        "database `hr`",
    );
    // Inside the grants, the same calls work.
    project.write("orders.csv", "id,total\n1,10\n");
    let orders = project.path().join("orders.csv");
    let put = server.cli(&[
        "lake",
        "put",
        orders.to_str().unwrap(),
        "raw/a/orders/1.csv",
    ]);
    assert!(put.status.success(), "{}", stderr(&put));
    let (status, body) = call(
        "POST",
        "/api/v1/crawl",
        r#"{"prefix": "raw/a/", "database": "sales"}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        server
            .cli(&["sql", "SELECT * FROM sales.orders"])
            .status
            .success()
    );
}
