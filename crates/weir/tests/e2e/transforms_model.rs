//! Transforms and flows as definitions, through the real binary: `weir validate` reports a bad
//! recipe at `file:line:column`, and a flow file is a pipeline of its name (listed, scheduled,
//! triggered by events, reloaded when its folder changes).

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

const TRANSFORM: &str = r#"description: Clean raw orders
source: { table: raw.orders }
bookmark: { column: updated_at }
steps:
  - filter: "amount > 0"
  - mask: { email: { hash: { salt: email_salt } } }
  - validate:
      rules: [{ column: id, not_null: true }]
      on_failure: { quarantine: curated.orders_quarantine }
sink: { table: curated.orders, mode: append, partition_by: [day] }
"#;

fn validate(project: &Project) -> (bool, String, String) {
    let output = Command::new(BIN)
        .arg("validate")
        .arg(project.path())
        .env_remove("WEIR_SERVER")
        .output()
        .expect("run weir validate");
    (output.status.success(), stdout(&output), stderr(&output))
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn validate_reports_a_bad_transform_at_file_line_column() {
    let project = Project::new();
    project.write("transforms/clean_orders.yaml", TRANSFORM);
    project.pipeline("nightly", "tasks:\n  clean:\n    transform: clean_orders\n");
    let (ok, out, err) = validate(&project);
    assert!(ok, "{out}{err}");
    assert!(
        err.contains("ok: 1 pipeline, 1 transform, no problems"),
        "{err}"
    );

    // Every problem of the file at once, each where it is, and a task naming a missing one.
    project.write(
        "transforms/broken.yaml",
        "source: { table: orders }\nbookmark: true\nsteps:\n  - fliter: \"amount > 0\"\n  - pivot: { index: [id], column: m, values: v, agg: sum }\nsink: { prefix: out/, mode: overwrite }\n",
    );
    project.pipeline("other", "tasks:\n  run:\n    transform: clean_ordres\n");
    let (ok, out, err) = validate(&project);
    assert!(!ok, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "transforms/broken.yaml:1:18: `source.table` must be `database.table` (letters, digits and `_`), not `orders`",
            "transforms/broken.yaml:4:5: unknown step `fliter`; did you mean `filter`? (steps: select, drop, drop_null_fields, filter, rename, cast, derive, mask, truncate, split, combine, validate, dedupe, join, union, pivot, unpivot)",
            "transforms/broken.yaml:5:12: `pivot` needs `columns`: the values of `column` that become columns (a plan's columns must be known before it runs)",
            "transforms/broken.yaml:6:29: `mode` belongs to a `table` sink (the overwrite modes replace a table's files; a prefix sink adds objects)",
            "pipelines/other.yaml:3:5: task `run` runs transform `clean_ordres`, which neither transforms/ nor flows/ defines; did you mean `clean_orders`?",
        ],
        "{out}"
    );
    assert!(err.contains("5 problems"), "{err}");

    // A bookmark its source cannot keep, a bad flow, a flow named as a pipeline.
    project.write(
        "transforms/broken.yaml",
        "source: { table: raw.orders }\nbookmark: true\nsink: { table: curated.orders }\n",
    );
    project.pipeline("other", "tasks:\n  run:\n    noop:\n");
    project.write(
        "flows/hourly.yaml",
        "source: { table: raw.orders }\ndestination: { table: curated.orders }\ntrigger: { schedule: \"0 * * *\" }\n",
    );
    project.write(
        "flows/nightly.yaml",
        "source: { table: raw.orders }\ndestination: { table: curated.orders }\n",
    );
    let (ok, out, _) = validate(&project);
    assert!(!ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines.contains(&"transforms/broken.yaml:2:11: a table source's bookmark is a column whose values only grow: name it, as in `bookmark: { column: updated_at }`"),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("flows/hourly.yaml:3:22: ")),
        "{out}"
    );
    assert!(
        lines.contains(&"flows/nightly.yaml:1:1: flow `nightly` has the name of pipelines/nightly.yaml: a flow is a pipeline of its name, so rename one of them"),
        "{out}"
    );
}

#[test]
fn a_flow_file_is_a_pipeline_of_one_transform_task() {
    let project = Project::new();
    project.write(
        "flows/hourly_orders.yaml",
        "description: Orders every hour\nsource: { table: raw.orders }\nmapping: { customer_id: customer, total: \"amount * 1.2\" }\nfilter: \"total > 0\"\ndestination: { table: curated.orders }\ntrigger: { schedule: \"0 * * * *\", timezone: Europe/Paris }\n",
    );
    project.write(
        "flows/on_order.yaml",
        "source: { stream: orders }\nbookmark: true\ndestination: { table: curated.orders }\ntrigger: { event: { source: [shop], detail-type: [Order Placed] } }\n",
    );
    project.pipeline("plain", "tasks:\n  a:\n    noop:\n");
    let (ok, out, err) = validate(&project);
    assert!(ok, "{out}{err}");
    assert!(err.contains("ok: 3 pipelines, no problems"), "{err}");

    let server = Server::start(project.path());
    let list = server.json(&["pipelines", "list"]);
    let pipelines = list["pipelines"].as_array().unwrap();
    let find = |name: &str| -> Value {
        pipelines
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} is not listed: {list}"))
    };
    let hourly = find("hourly_orders");
    assert_eq!(hourly["file"], "flows/hourly_orders.yaml", "{hourly}");
    assert_eq!(hourly["description"], "Orders every hour", "{hourly}");
    assert_eq!(hourly["schedule"], "0 * * * *", "{hourly}");
    assert_eq!(hourly["timezone"], "Europe/Paris", "{hourly}");
    assert!(hourly["next_run_at"].is_string(), "{hourly}");
    assert_eq!(hourly["tasks"].as_array().unwrap().len(), 1, "{hourly}");
    assert_eq!(hourly["tasks"][0]["id"], "run", "{hourly}");
    assert_eq!(hourly["tasks"][0]["action"], "transform", "{hourly}");
    find("plain");
    // The human listing shows it too.
    let human = server.cli(&["pipelines", "list"]);
    assert!(
        stdout(&human).contains("hourly_orders"),
        "{}",
        stdout(&human)
    );

    // An event flow's trigger is a managed rule, and an event that matches it starts a run.
    let rules = server.get_json("/api/v1/rules");
    let names: Vec<&str> = rules["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&"on_order.trigger-1"), "{rules}");
    let (status, answer) = server.aws(
        "AWSEvents.PutEvents",
        r#"{"Entries": [{"Source": "shop", "DetailType": "Order Placed", "Detail": "{\"id\": 1}"}]}"#,
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["FailedEntryCount"], 0, "{answer}");
    wait_for("the flow's run", || {
        let runs = server.get_json("/api/v1/pipelines/on_order/runs");
        runs["runs"].as_array().is_some_and(|r| !r.is_empty())
    });

    // A flow written while the server runs is loaded, as a pipeline file would be.
    project.write(
        "flows/later.yaml",
        "source: { prefix: raw/later/, format: csv }\ndestination: { prefix: out/later/, format: json, compression: gzip }\n",
    );
    wait_for("the new flow", || {
        let list = server.json(&["pipelines", "list"]);
        list["pipelines"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["name"] == "later"))
    });
}
