//! The dashboard's pipeline pages through the real binary: the grid, the graph, a run with its
//! Gantt chart, a task with its log, and the log's live tail; what a viewer and a narrowed
//! credential see; hostile text escaped. Then in a real browser (browser.rs): a run turning green
//! on the grid without a reload, a log's live tail, a retry and a bulk mark from the grid.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::browser::{Browser, PHONE, WAIT};
use crate::security::{create, with_token};
use crate::support::*;

/// A pipeline with a group of two tasks (one fails), a task downstream of both, a mapped task,
/// hostile text in its description, params and log.
const GRID: &str = r#"description: "<script>alert('description')</script>"
params:
  greeting: "<img src=x onerror=alert(1)>"
  count: 3
  dry_run: false
  regions: [eu, "<us>"]
tasks:
  extract.orders:
    command: "echo 'orders <b>&amp; done</b>'; echo second line"
  extract.users:
    command: "echo users failing; exit 3"
  load:
    depends_on: [extract.orders, extract.users]
    command: echo load
  list:
    noop: { output: [1, 2] }
  each:
    depends_on: [list]
    map_over: tasks.list.output
    noop: true
"#;

fn page(server: &Server, path: &str) -> String {
    let (status, body) = server.get(path);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// The `<tr …>` of a grid row, up to its end.
fn grid_row<'a>(page: &'a str, marker: &str) -> &'a str {
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("no row {marker} in {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</tr>").unwrap_or(rest.len())]
}

#[test]
fn the_grid_shows_a_finished_runs_states_with_glyphs_and_groups_collapse() {
    let project = Project::new();
    project.pipeline("grid", GRID);
    let server = Server::start(project.path());
    let run = server.trigger_wait("grid", &[]);
    assert_eq!(run["state"], "failed", "{run}");
    let run_id = run["run_id"].as_str().unwrap();

    let grid = page(&server, "/ui/pipelines/grid");
    assert!(grid.contains("role=\"grid\""), "{grid}");
    assert_eq!(
        grid.matches("tabindex=0").count(),
        1,
        "one cell in the tab order"
    );
    // The run's column header links to the run.
    assert!(
        grid.contains(&format!(
            "/ui/runs/{}",
            run_id.replace(':', "%3A").replace('+', "%2B")
        )),
        "{grid}"
    );
    // State by class AND glyph; try and duration in the cell's data.
    let orders = grid_row(&grid, "data-task=\"extract.orders\"");
    assert!(orders.contains("<td class=s "), "{orders}");
    assert!(
        orders.contains(" data-i=") && orders.contains(">✓"),
        "{orders}"
    );
    let users = grid_row(&grid, "data-task=\"extract.users\"");
    assert!(
        users.contains("<td class=f ") && users.contains(">✗"),
        "{users}"
    );
    let load = grid_row(&grid, "data-task=\"load\"");
    assert!(
        load.contains("<td class=x>") && load.contains(">⚠"),
        "{load}"
    );
    // The group's row shows the worst state of its members, with their counts.
    let group = grid_row(&grid, "data-group=\"extract\"");
    assert!(group.contains("aria-expanded=\"true\""), "{group}");
    assert!(
        group.contains("<td class=f") && group.contains("data-c=\"1 success, 1 failed\">✗"),
        "{group}"
    );
    // The mapped task's row sums up its instances.
    let each = grid_row(&grid, "data-task=\"each\"");
    assert!(
        each.contains("[mapped]") && each.contains("2 success"),
        "{each}"
    );
    // Tasks in the pipeline's order.
    let order: Vec<usize> = [
        "data-group=\"extract\"",
        "data-task=\"load\"",
        "data-task=\"each\"",
    ]
    .iter()
    .map(|m| grid.find(m).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");

    // Collapsed: the group's row only, with a link that expands it again.
    let collapsed = page(&server, "/ui/pipelines/grid?collapse=extract");
    assert!(!collapsed.contains("data-task=\"extract.orders\""));
    let group = grid_row(&collapsed, "data-group=\"extract\"");
    assert!(
        group.contains("aria-expanded=\"false\"") && group.contains("<td class=f "),
        "{group}"
    );
    assert!(
        group.contains("href=\"/ui/pipelines/grid?runs=25\""),
        "{group}"
    );
    assert!(collapsed.contains("data-task=\"load\""));

    // Facts and the trigger form from the params, hostile text escaped.
    assert!(grid.contains("&lt;script&gt;alert(&#39;description&#39;)&lt;/script&gt;"));
    assert!(!grid.contains("<script>alert"), "{grid}");
    assert!(!grid.contains("<img src=x"), "{grid}");
    assert!(grid.contains("name=\"params.greeting\" data-path=\"[&quot;params&quot;,&quot;greeting&quot;]\" value=\"&lt;img src=x onerror=alert(1)&gt;\""));
    assert!(grid.contains("type=\"number\" step=\"any\" name=\"params.count\" data-path=\"[&quot;params&quot;,&quot;count&quot;]\" value=\"3\""));
    assert!(grid.contains("<select name=\"params.dry_run\" data-path=\"[&quot;params&quot;,&quot;dry_run&quot;]\" data-json>"));
    assert!(grid.contains("<textarea name=\"params.regions\" data-path=\"[&quot;params&quot;,&quot;regions&quot;]\" data-json"));
    assert!(grid.contains("data-url=\"/api/v1/pipelines/grid/backfill\""));
    assert!(grid.contains("data-url=\"/api/v1/pipelines/grid/pause\""));
    // Bulk: a checkbox per run and the bar's buttons against the bulk route.
    assert!(
        grid.contains(&format!("data-select value=\"{run_id}\"")),
        "{grid}"
    );
    assert!(grid.contains("data-select-all"));
    for action in ["retry", "cancel", "mark_success", "mark_failed"] {
        assert!(
            grid.contains(&format!(
                "data-url=\"/api/v1/runs/bulk\" data-key=\"runs\" data-body=\"{{&quot;action&quot;:&quot;{action}&quot;}}\""
            )),
            "{action}"
        );
    }
    assert!(grid.contains("data-live=\"pipeline:grid\""));

    // The graph: SVG laid out on the server, the run's states, links to its task instances.
    let encoded = run_id.replace(':', "%3A").replace('+', "%2B");
    let graph = page(&server, "/ui/pipelines/grid/graph");
    assert!(graph.contains("<svg"), "{graph}");
    assert!(
        graph.contains(&format!("/ui/runs/{encoded}/tasks/extract.orders")),
        "{graph}"
    );
    assert!(graph.contains("st-failed") && graph.contains("st-success"));
    let collapsed = page(&server, "/ui/pipelines/grid/graph?collapse=extract");
    assert!(!collapsed.contains(&format!("/ui/runs/{encoded}/tasks/extract.orders")));
    assert!(collapsed.contains(&format!("/ui/runs/{encoded}/tasks/load")));
    let chosen = page(&server, &format!("/ui/pipelines/grid/graph?run={encoded}"));
    assert!(chosen.contains("<svg"));
    assert_eq!(server.get("/ui/pipelines/grid/graph?run=nope").0, 404);

    // Paging: 1 run per page, the older page of the newest run holds the first one.
    server.trigger_wait("grid", &[]);
    let first = page(&server, "/ui/pipelines/grid?runs=1");
    assert_eq!(first.matches("data-run=").count(), 1);
    assert!(first.contains("older runs"), "{first}");
    let older_href = first
        .split("href=\"")
        .find(|s| s.contains("before="))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    let older = page(&server, &older_href);
    assert!(
        older.contains(&format!("data-select value=\"{run_id}\"")),
        "{older}"
    );
    assert!(older.contains("newest runs"));
}

#[test]
fn a_runs_page_has_a_gantt_bar_for_each_task_and_the_task_page_its_log() {
    let project = Project::new();
    project.pipeline("grid", GRID);
    let server = Server::start(project.path());
    let run = server.trigger_wait("grid", &[]);
    let run_id = run["run_id"].as_str().unwrap();
    let encoded = run_id.replace(':', "%3A").replace('+', "%2B");

    let page_html = page(&server, &format!("/ui/runs/{encoded}"));
    assert!(page_html.contains("data-live=\"run:"), "{page_html}");
    let gantt = &page_html[page_html.find("class=\"gantt\"").expect("a Gantt chart")..];
    for task in [
        "extract.orders",
        "extract.users",
        "load",
        "list",
        "each [0]",
        "each [1]",
    ] {
        let label = format!(">{task}</a></div><div class=\"track\">");
        if task == "load" {
            // Upstream failed: it never ran, so it has no bar.
            assert!(!gantt.contains(&label), "{gantt}");
            continue;
        }
        let at = gantt
            .find(&label)
            .unwrap_or_else(|| panic!("no Gantt row for {task}: {gantt}"));
        let track = &gantt[at + label.len()..];
        let track = &track[..track.find("</div>").unwrap()];
        assert!(
            track.contains("class=\"bar success\"") || track.contains("class=\"bar failed\""),
            "{task}: {track}"
        );
        assert!(track.contains("aria-label=\""), "{track}");
    }
    assert!(gantt.contains("class=\"bar failed\""));
    // Actions: retry from failure and marks.
    assert!(page_html.contains(&format!("data-url=\"/api/v1/runs/{encoded}/retry\"")));
    assert!(page_html.contains(&format!("data-url=\"/api/v1/runs/{encoded}/mark\"")));
    assert!(page_html.contains(&format!(
        "data-url=\"/api/v1/runs/{encoded}/tasks/extract.users/mark\""
    )));

    // The task's page: attempts, its log escaped, the search box and the link to the whole log.
    let task = page(&server, &format!("/ui/runs/{encoded}/tasks/extract.orders"));
    assert!(task.contains("<pre id=\"log\" class=\"log\""), "{task}");
    assert!(
        task.contains("orders &lt;b&gt;&amp;amp; done&lt;/b&gt;\nsecond line"),
        "{task}"
    );
    assert!(!task.contains("<b>&amp; done"), "{task}");
    assert!(task.contains("data-log-search data-target=\"#log\""));
    assert!(task.contains("data-log-count"));
    assert!(task.contains("/api/v1/runs/") && task.contains("/logs?task=extract.orders"));
    // An ended attempt has no live tail.
    assert!(!task.contains("data-log-tail"));
    let failed = page(&server, &format!("/ui/runs/{encoded}/tasks/extract.users"));
    assert!(failed.contains("users failing"), "{failed}");
    assert!(
        failed.contains("<td class=\"num\">3</td>"),
        "exit code 3: {failed}"
    );
    // A mapped instance shows its item.
    let mapped = page(&server, &format!("/ui/runs/{encoded}/tasks/each"));
    assert!(mapped.contains("Mapped instances (2)"), "{mapped}");
    let item = page(
        &server,
        &format!("/ui/runs/{encoded}/tasks/each?map_index=1"),
    );
    assert!(item.contains("Mapped item"), "{item}");
    // An unknown task is not found.
    assert_eq!(server.get(&format!("/ui/runs/{encoded}/tasks/nope")).0, 404);
}

#[test]
fn a_viewer_sees_no_buttons_and_a_narrowed_credential_nothing_of_other_pipelines() {
    let project = crate::security::project();
    let server = Server::start(project.path());
    let etl = server.trigger_wait("etl_daily", &[]);
    let ml = server.trigger_wait("ml_train", &[]);
    let etl_run = etl["run_id"]
        .as_str()
        .unwrap()
        .replace(':', "%3A")
        .replace('+', "%2B");
    let ml_run = ml["run_id"]
        .as_str()
        .unwrap()
        .replace(':', "%3A")
        .replace('+', "%2B");

    let viewer = create(&server, "viewer", "looker", &[]);
    let viewer = viewer["token"].as_str().unwrap();
    let pages = [
        "/ui/pipelines/etl_daily".to_string(),
        format!("/ui/runs/{etl_run}"),
        format!("/ui/runs/{etl_run}/tasks/a"),
    ];
    for path in &pages {
        let (status, body) = with_token(&server, viewer, "GET", path, "");
        assert_eq!(status, 200, "{path}: {body}");
        for control in ["data-action", "data-api", "data-bulk-action", "data-select"] {
            assert!(!body.contains(control), "a viewer sees {control} on {path}");
        }
        // The admin sees them.
        let (_, admin) = server.get(path);
        assert!(
            admin.contains("data-action") || admin.contains("data-api"),
            "{path}"
        );
    }

    let narrow = create(&server, "viewer", "etl", &["--pipelines", "etl_*"]);
    let narrow = narrow["token"].as_str().unwrap();
    let get = |path: &str| with_token(&server, narrow, "GET", path, "").0;
    assert_eq!(get("/ui/pipelines/etl_daily"), 200);
    assert_eq!(get(&format!("/ui/runs/{etl_run}")), 200);
    for path in [
        "/ui/pipelines/ml_train".to_string(),
        "/ui/pipelines/ml_train/graph".to_string(),
        "/ui/pipelines/nonexistent".to_string(),
        format!("/ui/runs/{ml_run}"),
        format!("/ui/runs/{ml_run}/tasks/a"),
        format!("/ui/live/log?run={ml_run}&task=a&try=1"),
    ] {
        assert_eq!(get(&path), 404, "{path}");
    }
}

/// Reads a server-sent event stream until `until` is in it or `timeout` passes.
fn read_events(server: &Server, path: &str, until: &str, timeout: Duration) -> String {
    let host = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n",
        server.token()
    )
    .unwrap();
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
            Err(_) => {}
        }
        if String::from_utf8_lossy(&seen).contains(until) {
            break;
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[test]
fn the_log_tail_streams_what_a_running_task_appends_and_ends() {
    let project = Project::new();
    project.pipeline(
        "slow",
        "tasks:\n  talk:\n    command: \"echo 'first <line>'; sleep 2; echo second; sleep 1; echo third\"\n",
    );
    let server = Server::start(project.path());
    let output = server.cli(&["pipelines", "trigger", "slow", "--json"]);
    let run: serde_json::Value = serde_json::from_slice(&output.stdout).expect("run JSON");
    let run_id = run["run_id"].as_str().unwrap().to_string();
    let encoded = run_id.replace(':', "%3A").replace('+', "%2B");
    assert!(
        eventually(Duration::from_secs(20), || {
            server
                .attempts(&encoded, "talk")
                .first()
                .is_some_and(|a| a["state"] == "running")
        }),
        "the task did not start"
    );
    // The page of the running attempt tails its log from where it stopped reading.
    let task = page(&server, &format!("/ui/runs/{encoded}/tasks/talk"));
    let tail = task
        .split("data-log-tail=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no live tail on a running attempt's page: {task}"))
        .replace("&amp;", "&");
    assert!(tail.starts_with("/ui/live/log?run="), "{tail}");
    // From the start of the log, whatever the page had read.
    let from_start = tail
        .rsplit_once("&offset=")
        .map(|(query, _)| format!("{query}&offset=0"))
        .unwrap();
    let events = read_events(&server, &from_start, "event: end", Duration::from_secs(30));
    assert!(events.contains("text/event-stream"), "{events}");
    assert!(events.contains("event: append"), "{events}");
    // The text is JSON-encoded: markup arrives as data, never as HTML.
    assert!(events.contains(r#""first <line>\n"#), "{events}");
    let second = events.find("second").expect("second line streamed");
    let third = events.find("third").expect("third line streamed");
    assert!(second < third);
    assert!(
        events.contains("event: end"),
        "the tail did not end: {events}"
    );
    assert!(events.find("event: end").unwrap() > third);
    server.wait_run(&encoded);
    // Once ended, a tail sends what is left and ends at once.
    let again = read_events(&server, &from_start, "event: end", Duration::from_secs(10));
    assert!(
        again.contains("third") && again.contains("event: end"),
        "{again}"
    );
}

// ---- in a real browser (headless Chromium, browser.rs) -------------------------------------

/// Waits in the browser until `check` (a script returning true or false) holds.
fn browser_until(browser: &Browser, script: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while browser.eval(script, vec![]) != serde_json::Value::Bool(true) {
        assert!(Instant::now() < deadline, "waited 30 s for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether the page is still the one loaded when `mark_page` ran (no reload since).
const NOT_RELOADED: &str = "return window.weirTestMark === true;";

fn mark_page(browser: &Browser) {
    browser.eval("window.weirTestMark = true; return null;", vec![]);
}

#[test]
fn in_a_browser_a_run_turns_green_on_the_grid_without_a_reload() {
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let project = Project::new();
    project.pipeline(
        "live",
        "tasks:\n  extract.orders:\n    command: sleep 1\n  extract.users:\n    command: echo users\n  load:\n    depends_on: [extract.orders, extract.users]\n    command: echo load\n",
    );
    let server = Server::start(project.path());
    for _ in 0..3 {
        server.trigger_wait("live", &[]);
    }
    browser.sign_in(&server.url, &server.token());
    browser.goto("/ui/pipelines/live");
    browser.wait_for("table.grid[role=grid]", WAIT);
    assert_eq!(browser.count("tr[data-task='load'] td.s"), 3);
    mark_page(&browser);

    // Someone else triggers a run: the grid shows it running, then green, without a reload.
    let (status, body) = server.post("/api/v1/pipelines/live/runs", "{}");
    assert_eq!(status, 201, "{body}");
    browser_until(
        &browser,
        "return document.querySelectorAll(\"tr[data-task='load'] td\").length === 4;",
        "the new run's column",
    );
    browser_until(
        &browser,
        "return document.querySelectorAll(\"tr[data-task='load'] td.s\").length === 4;",
        "the new run's load task to turn green",
    );
    assert_eq!(
        browser.eval(NOT_RELOADED, vec![]),
        true,
        "the page was reloaded"
    );

    // A cell's tooltip names its task, run, state and try; Enter opens its task instance.
    browser.eval(
        "const c = document.querySelector(\"tr[data-task='load'] td.s\"); c.focus(); \
         c.dispatchEvent(new FocusEvent('focusin', {bubbles: true})); return null;",
        vec![],
    );
    let title = browser.eval(
        "return document.querySelector(\"tr[data-task='load'] td.s\").title;",
        vec![],
    );
    let title = title.as_str().unwrap_or_default().to_string();
    assert!(
        title.starts_with("load · live__") && title.contains("success · try 1"),
        "{title}"
    );
    // Collapsing the group leaves one row with the worst state of its members.
    browser.click("tr[data-group='extract'] th a");
    browser.wait_for_none("tr[data-task='extract.orders']", WAIT);
    assert_eq!(browser.count("tr[data-group='extract'] td.s"), 4);
    browser.click("tr[data-group='extract'] th a");
    browser.wait_for("tr[data-task='extract.orders']", WAIT);
    assert_eq!(browser.console_errors(), Vec::<String>::new());
    browser.screenshot("pipelines-grid");

    browser.goto("/ui/pipelines/live/graph");
    browser.wait_for("svg", WAIT);
    browser.screenshot("pipelines-graph");

    let run = server.get_json("/api/v1/runs?pipeline=live&limit=1")["runs"][0]["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    browser.goto(&format!("/ui/runs/{run}"));
    browser.wait_for(".gantt .bar.success", WAIT);
    assert!(browser.count(".gantt .bar.success") >= 3);
    browser.eval(
        "document.getElementById('tasks').scrollIntoView(); return null;",
        vec![],
    );
    browser.screenshot("pipelines-gantt");

    browser.set_window_size(PHONE);
    browser.goto("/ui/pipelines/live");
    browser.wait_for("table.grid", WAIT);
    browser.eval(
        "document.getElementById('grid').scrollIntoView(); return null;",
        vec![],
    );
    browser.screenshot("pipelines-grid-phone");
}

#[test]
fn in_a_browser_a_running_tasks_log_grows_and_can_be_searched() {
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let project = Project::new();
    project.pipeline(
        "talk",
        "tasks:\n  talk:\n    command: \"echo 'first <line>'; sleep 2; echo second; sleep 2; echo third\"\n",
    );
    let server = Server::start(project.path());
    let (status, body) = server.post("/api/v1/pipelines/talk/runs", "{}");
    assert_eq!(status, 201, "{body}");
    let run: serde_json::Value = serde_json::from_str(&body).unwrap();
    let run_id = run["run_id"].as_str().unwrap().to_string();
    assert!(
        eventually(Duration::from_secs(20), || {
            server
                .attempts(&run_id, "talk")
                .first()
                .is_some_and(|a| a["state"] == "running")
        }),
        "the task did not start"
    );
    browser.sign_in(&server.url, &server.token());
    browser.goto(&format!("/ui/runs/{run_id}/tasks/talk"));
    browser.wait_for("pre#log[data-log-tail]", WAIT);
    mark_page(&browser);
    browser.wait_for_text("pre#log", "first <line>", WAIT);
    browser.wait_for_text("pre#log", "third", Duration::from_secs(30));
    // Once the attempt ends, the tail ends and the page says so.
    browser.wait_for_text("[data-live-note]", "has ended", Duration::from_secs(20));
    assert_eq!(
        browser.eval(NOT_RELOADED, vec![]),
        true,
        "the page was reloaded"
    );
    browser.fill("input[data-log-search]", "second");
    browser.wait_for_text("[data-log-count]", "1 matching line", WAIT);
    assert_eq!(browser.text("pre#log mark"), "second");
    assert_eq!(browser.console_errors(), Vec::<String>::new());
    browser.screenshot("pipelines-log");
}

#[test]
fn in_a_browser_a_failed_run_is_retried_and_two_runs_bulk_marked_from_the_grid() {
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let project = Project::new();
    let flag = project.path().join("tried-once");
    project.pipeline(
        "flaky",
        &format!(
            "tasks:\n  work:\n    command: \"test -f '{flag}' || {{ touch '{flag}'; exit 1; }}\"\n",
            flag = flag.display()
        ),
    );
    project.pipeline("broken", "tasks:\n  work:\n    command: exit 1\n");
    let server = Server::start(project.path());
    let failed = server.trigger_wait("flaky", &[]);
    assert_eq!(failed["state"], "failed", "{failed}");
    let run_id = failed["run_id"].as_str().unwrap().to_string();
    browser.sign_in(&server.url, &server.token());

    // Retry: select the failed run's column, Retry, confirm; the cell turns green.
    browser.goto("/ui/pipelines/flaky");
    browser.wait_for("tr[data-task='work'] td.f", WAIT);
    mark_page(&browser);
    browser.click(&format!("input[data-select][value='{run_id}']"));
    browser.wait_for_text("[data-bulk-count]", "1 selected", WAIT);
    browser.click("button[data-bulk-action][data-body*='retry']");
    browser.wait_for_text("dialog", "Retry 1 selected run", WAIT);
    browser.click("[data-confirm-ok]");
    browser.wait_for("tr[data-task='work'] td.s", Duration::from_secs(30));
    assert_eq!(
        browser.eval(NOT_RELOADED, vec![]),
        true,
        "the page was reloaded"
    );
    assert_eq!(server.run(&run_id)["state"], "success");

    // Bulk: two failed runs marked success at once.
    let runs: Vec<String> = (0..2)
        .map(|_| {
            server.trigger_wait("broken", &[])["run_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    browser.goto("/ui/pipelines/broken");
    browser.wait_for("tr[data-task='work'] td.f", WAIT);
    browser.click("input[data-select-all]");
    browser.wait_for_text("[data-bulk-count]", "2 selected", WAIT);
    browser.click("button[data-bulk-action][data-body*='mark_success']");
    browser.wait_for_text("dialog", "Mark 2 selected run(s) success", WAIT);
    browser.click("[data-confirm-ok]");
    browser_until(
        &browser,
        "return document.querySelectorAll(\"th[data-run] .st-success\").length === 2;",
        "both runs shown as succeeded",
    );
    for run in &runs {
        assert_eq!(server.run(run)["state"], "success", "{run}");
    }
    assert_eq!(browser.console_errors(), Vec::<String>::new());
}
