//! The dashboard's catalog, SQL and saved-dashboard pages through the real binary: a table's
//! schema and sample rows, a query's result table and chart from the URL alone, statements that
//! write refused, a narrowed credential kept to its tables, and data escaped wherever it shows.

use crate::browser::{Browser, WAIT};
use crate::lake::put;
use crate::security::{create, with_token};
use crate::support::*;

/// A query-string value, percent-encoded (everything but RFC 3986's unreserved characters).
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The SQL page showing `query` (and more of the query string after it).
fn sql_page(query: &str, rest: &str) -> String {
    format!("/ui/sql?q={}{rest}", encode(query))
}

/// A hostile value, as a row of data or a name could hold it.
const HOSTILE: &str = "<img src=x onerror=alert(1)>";

/// A server with `sales.orders` (two days' CSV files, partitioned by day, one value hostile)
/// and `hr.people`.
fn lake_server(project: &Project) -> Server {
    let server = Server::start(project.path());
    put(
        &server,
        project,
        "a.csv",
        &format!("id,country,amount\n1,FR,10.5\n2,US,20\n3,\"{HOSTILE}\",7\n"),
        "raw/sales/orders/day=2026-01-01/a.csv",
    );
    put(
        &server,
        project,
        "b.csv",
        "id,country,amount\n4,DE,1\n5,FR,2\n",
        "raw/sales/orders/day=2026-01-02/b.csv",
    );
    put(
        &server,
        project,
        "people.csv",
        "name,salary\nalice_secret,100\n",
        "raw/hr/people/people.csv",
    );
    server.json(&["crawl", "raw/sales/", "--database", "sales"]);
    server.json(&["crawl", "raw/hr/", "--database", "hr"]);
    server
}

/// Bars drawn in a chart: `<rect class="bar …">` elements with a tooltip (the legend's swatch
/// is a `rect` of its own that closes at once).
fn bars(page: &str) -> usize {
    page.match_indices("<rect class=\"bar ")
        .filter(|(at, _)| {
            let rest = &page[*at..];
            let end = rest.find('>').unwrap_or(rest.len());
            !rest[..end].ends_with('/')
        })
        .count()
}

/// The rows of the result table (`table.sql-result`).
fn result_rows(page: &str) -> usize {
    let Some(start) = page.find("class=\"list sql-result\"") else {
        return 0;
    };
    let table = &page[start..];
    let body = &table[table.find("<tbody>").unwrap_or(0)..table.find("</tbody>").unwrap_or(0)];
    body.matches("<tr>").count()
}

#[test]
fn the_catalog_lists_a_table_with_its_schema_partitions_and_sample_rows() {
    let project = Project::new();
    let server = lake_server(&project);

    let (status, page) = server.get("/ui/catalog");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("href=\"/ui/catalog/sales/orders\""), "{page}");
    assert!(page.contains("href=\"/ui/catalog/hr/people\""), "{page}");
    let (_, found) = server.get("/ui/catalog?q=PEOP");
    assert!(found.contains("/ui/catalog/hr/people") && !found.contains("/ui/catalog/sales/orders"));

    let (status, page) = server.get("/ui/catalog/sales/orders");
    assert_eq!(status, 200, "{page}");
    for expected in [
        "raw/sales/orders",
        "<code>country</code>",
        "<code>amount</code>",
        "2 partitions",
        "day=2026-01-02",
        "Sample rows",
        "Query in SQL",
    ] {
        assert!(page.contains(expected), "{expected} missing: {page}");
    }
    // The partition key is marked, and the newest partition comes first.
    let day_row = page.find("<code>day</code>").expect("the partition column");
    assert!(
        page[day_row..]
            .split("</tr>")
            .next()
            .unwrap()
            .contains("partition key")
    );
    assert!(page.find("day=2026-01-02") < page.find("day=2026-01-01"));
    // The sample: all five rows, the hostile one escaped.
    assert_eq!(result_rows(&page), 5, "{page}");
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{page}"
    );
    assert!(!page.contains(HOSTILE));

    let (status, page) = server.get("/ui/catalog/sales/nothing");
    assert_eq!(status, 404, "{page}");
}

#[test]
fn the_sql_page_runs_a_query_from_its_url_and_charts_a_bar_per_row() {
    let project = Project::new();
    let server = lake_server(&project);
    let query = "SELECT country, sum(amount) AS total, count(*) AS n FROM sales.orders \
                 GROUP BY country ORDER BY country";
    let (status, page) = server.get(&sql_page(query, "&chart=bar&x=country&y=total"));
    assert_eq!(status, 200, "{page}");
    assert_eq!(result_rows(&page), 4, "{page}");
    assert!(page.contains("<svg"), "{page}");
    assert_eq!(bars(&page), 4, "a bar per row: {page}");
    assert!(page.contains("4 rows"), "{page}");
    assert!(page.contains("<td class=\"num\">12.5</td>"), "{page}");
    // The hostile category is escaped in the table, the chart and the x select alike.
    assert!(!page.contains(HOSTILE), "{page}");
    // The settings are the page's form, so the view is its URL.
    assert!(page.contains("<option value=\"bar\" selected>"), "{page}");
    assert!(
        page.contains("<option value=\"country\" selected>"),
        "{page}"
    );
    assert!(
        page.contains("name=\"y\" value=\"total\" checked"),
        "{page}"
    );
    // Two y columns: two bars per row.
    let (_, two) = server.get(&sql_page(query, "&chart=bar&x=country&y=total&y=n"));
    assert_eq!(bars(&two), 8, "{two}");
    // Without settings the chart defaults to the first text column across and the first
    // numeric one up.
    let (_, defaulted) = server.get(&sql_page(query, ""));
    assert!(
        defaulted.contains("name=\"y\" value=\"total\" checked"),
        "{defaulted}"
    );
    assert_eq!(bars(&defaulted), 4);
    let (_, line) = server.get(&sql_page(query, "&chart=line&x=n&y=total"));
    assert!(line.contains("chart-line") && bars(&line) == 0, "{line}");

    // The download links go to the API's GET form of SQL, which streams the result as a file.
    assert!(
        page.contains(&format!(
            "href=\"/api/v1/sql?query={}&amp;format=csv\"",
            encode(query)
        )),
        "{page}"
    );
    let (status, csv) = server.get(&format!(
        "/api/v1/sql?query={}&format=csv",
        encode("SELECT id FROM sales.orders WHERE id < 3 ORDER BY id")
    ));
    assert_eq!((status, csv.as_str()), (200, "id\n1\n2\n"));

    // NULL reads apart from text, and an engine error says where.
    let (_, nulls) = server.get(&sql_page("SELECT NULL AS nothing, 'NULL' AS text", ""));
    assert!(
        nulls.contains("<span class=\"null\">NULL</span>"),
        "{nulls}"
    );
    assert!(nulls.contains("<td>NULL</td>"), "{nulls}");
    let (status, bad) = server.get(&sql_page(
        "SELECT country\nFROM sales.orders\nWHERE nope = 1",
        "",
    ));
    assert_eq!(status, 200);
    assert!(
        bad.contains("The statement failed") && bad.contains("line 3"),
        "{bad}"
    );
    assert!(
        bad.contains("WHERE nope = 1\n      ^"),
        "a caret under the column: {bad}"
    );

    // A hostile column name is escaped in the header, the selects and the chart.
    let (_, named) = server.get(&sql_page(
        &format!("SELECT 'a' AS \"{HOSTILE}\", 1 AS \"y{HOSTILE}\""),
        "",
    ));
    assert!(!named.contains(HOSTILE), "{named}");
    assert!(named.contains("&lt;img"), "{named}");
}

#[test]
fn statements_that_write_are_refused_and_change_nothing() {
    let project = Project::new();
    let server = lake_server(&project);
    for statement in [
        "DROP TABLE sales.orders",
        "INSERT INTO sales.orders SELECT * FROM sales.orders",
        "CREATE TABLE sales.copy AS SELECT * FROM sales.orders",
    ] {
        // As the admin, who may write through the API: the page still refuses.
        let (status, page) = server.get(&sql_page(statement, ""));
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Not run"), "{statement}: {page}");
        assert!(page.contains("POST /api/v1/sql"), "{page}");
        assert!(!page.contains("class=\"list sql-result\""), "{page}");
        let (status, body) = server.get(&format!("/api/v1/sql?query={}", encode(statement)));
        assert_eq!(status, 400, "{body}");
    }
    let count = server.json(&["sql", "SELECT count(*) AS n FROM sales.orders"]);
    assert_eq!(count["rows"][0]["n"], 5, "{count}");
    let tables = server.json(&["catalog", "list"]);
    assert!(!tables.to_string().contains("\"copy\""), "{tables}");
}

#[test]
fn a_narrowed_credential_sees_and_queries_only_its_tables() {
    let project = Project::new();
    let server = lake_server(&project);
    let issued = create(&server, "viewer", "sales-only", &["--tables", "sales.*"]);
    let token = issued["token"].as_str().unwrap();
    let get = |path: &str| with_token(&server, token, "GET", path, "");

    let (status, catalog) = get("/ui/catalog");
    assert_eq!(status, 200, "{catalog}");
    assert!(catalog.contains("/ui/catalog/sales/orders"), "{catalog}");
    assert!(
        !catalog.contains("people") && !catalog.contains(">hr"),
        "{catalog}"
    );

    let (status, page) = get("/ui/catalog/hr/people");
    assert_eq!(status, 404, "{page}");
    assert!(!page.contains("salary"), "{page}");
    // The same answer as a table that does not exist: nothing tells it is there.
    assert_eq!(get("/ui/catalog/hr/nothing").0, 404);

    let (status, page) = get(&sql_page("SELECT * FROM hr.people", ""));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("not granted table"), "{page}");
    assert!(!page.contains("alice_secret"), "{page}");
    let (_, joined) = get(&sql_page(
        "SELECT o.id FROM sales.orders o JOIN hr.people p ON true",
        "",
    ));
    assert!(joined.contains("not granted table") && !joined.contains("sql-result"));

    // Its own tables it reads, and as a viewer it is offered no way to save a chart.
    let (_, own) = get(&sql_page("SELECT id FROM sales.orders", ""));
    assert_eq!(result_rows(&own), 5, "{own}");
    assert!(!own.contains("Save to dashboard"), "{own}");
    let (_, table) = get("/ui/catalog/sales/orders");
    assert_eq!(result_rows(&table), 5, "{table}");
}

/// The section of a dashboard page that is the card of chart `name`.
fn card<'a>(page: &'a str, name: &str) -> &'a str {
    let start = page
        .find(&format!("data-chart=\"{name}\""))
        .unwrap_or_else(|| panic!("no card {name}: {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

#[test]
fn a_saved_dashboard_renders_its_charts_and_a_failing_query_shows_its_error_in_its_card() {
    let project = Project::new();
    let server = lake_server(&project);
    let save = |name: &str, body: &str| {
        let path = format!("/api/v1/dashboards/sales_board/queries/{name}");
        let (status, answer) = server.request("PUT", &path, Some(body));
        assert_eq!(status, 200, "{name}: {answer}");
    };
    save(
        "by_country",
        r#"{"sql": "SELECT country, sum(amount) AS total FROM sales.orders GROUP BY country ORDER BY country", "chart": {"type": "bar", "x": "country", "y": ["total"]}, "position": 1}"#,
    );
    // Read-only and granted, so it is saved; it fails only when it runs.
    save(
        "broken",
        r#"{"sql": "SELECT CAST(country AS INT) AS n FROM sales.orders", "chart": {"type": "bar", "x": "n", "y": ["n"]}, "position": 2}"#,
    );
    save(
        "orders",
        r#"{"sql": "SELECT id, country FROM sales.orders ORDER BY id", "chart": {"type": "table"}, "position": 3}"#,
    );

    let (status, list) = server.get("/ui/dashboards");
    assert_eq!(status, 200, "{list}");
    assert!(
        list.contains("href=\"/ui/dashboards/sales_board\""),
        "{list}"
    );

    let (status, page) = server.get("/ui/dashboards/sales_board");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-refresh=\"60\""), "{page}");
    let chart = card(&page, "by_country");
    assert_eq!(bars(chart), 4, "a bar per country: {chart}");
    assert!(!page.contains(HOSTILE), "{page}");
    assert!(
        chart.contains("href=\"/ui/sql?q=SELECT%20country%2C%20sum%28amount%29")
            && chart.contains("&amp;chart=bar&amp;x=country&amp;y=total\""),
        "the card opens its query and settings on the SQL page: {chart}"
    );
    let broken = card(&page, "broken");
    assert!(broken.contains("The statement failed"), "{broken}");
    assert!(
        broken.contains("Cannot cast") || broken.contains("cast"),
        "{broken}"
    );
    assert_eq!(result_rows(card(&page, "orders")), 5, "{page}");
    // In the order of their positions; the admin may delete each chart and the dashboard.
    assert!(page.find("data-chart=\"by_country\"") < page.find("data-chart=\"orders\""));
    assert_eq!(page.matches("data-method=\"DELETE\"").count(), 4, "{page}");

    // The refresh comes from the URL, and is never faster than every 5 seconds.
    assert!(
        server
            .get("/ui/dashboards/sales_board?refresh=1")
            .1
            .contains("data-refresh=\"5\"")
    );
    assert!(
        server
            .get("/ui/dashboards/sales_board?refresh=30")
            .1
            .contains("data-refresh=\"30\"")
    );
    assert_eq!(server.get("/ui/dashboards/nothing").0, 404);

    // A viewer narrowed to other tables sees nothing of a dashboard whose queries read only
    // tables it may not read: not the page, not its name in the list, not its SQL.
    let issued = create(&server, "viewer", "hr-only", &["--tables", "hr.*"]);
    let token = issued["token"].as_str().unwrap();
    let (status, narrowed) = with_token(&server, token, "GET", "/ui/dashboards/sales_board", "");
    assert_eq!(status, 404, "{narrowed}");
    let (status, listed) = with_token(&server, token, "GET", "/ui/dashboards", "");
    assert_eq!(status, 200, "{listed}");
    assert!(!listed.contains("sales_board"), "{listed}");
    let (status, api) = with_token(&server, token, "GET", "/api/v1/dashboards/sales_board", "");
    assert_eq!(status, 404, "{api}");
    assert!(!api.contains("SELECT"), "{api}");
    // Nor may it delete the dashboard or one of its queries.
    let issued = create(&server, "operator", "hr-ops", &["--tables", "hr.*"]);
    let ops = issued["token"].as_str().unwrap();
    let (status, _) = with_token(&server, ops, "DELETE", "/api/v1/dashboards/sales_board", "");
    assert_eq!(status, 404);
    let (status, _) = with_token(
        &server,
        ops,
        "DELETE",
        "/api/v1/dashboards/sales_board/queries/orders",
        "",
    );
    assert_eq!(status, 404);

    // Deleting a chart through the API takes it off the page.
    let (status, answer) = server.request(
        "DELETE",
        "/api/v1/dashboards/sales_board/queries/broken",
        None,
    );
    assert_eq!(status, 200, "{answer}");
    let (_, page) = server.get("/ui/dashboards/sales_board");
    assert!(!page.contains("data-chart=\"broken\"") && page.contains("data-chart=\"orders\""));
}

/// In a real browser: a query typed and run, a chart chosen, the same chart from the shared URL
/// in a fresh page, the chart saved to a dashboard through the page's form, and the pages'
/// screenshots (`sql-catalog-table.png`, `sql-chart.png`, `sql-dashboard.png`).
#[test]
fn in_a_browser_a_typed_query_is_charted_shared_by_its_url_and_saved_to_a_dashboard() {
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let project = Project::new();
    let server = lake_server(&project);
    // Two charts saved through the API, so the dashboard has company.
    for (name, body) in [
        (
            "orders_per_day",
            r#"{"sql": "SELECT day, count(*) AS orders, sum(amount) AS amount FROM sales.orders GROUP BY day ORDER BY day", "chart": {"type": "bar", "x": "day", "y": ["orders", "amount"]}, "position": 1}"#,
        ),
        (
            "biggest_orders",
            r#"{"sql": "SELECT id, country, amount FROM sales.orders ORDER BY amount DESC LIMIT 3", "chart": {"type": "table"}, "position": 2}"#,
        ),
    ] {
        let path = format!("/api/v1/dashboards/team_board/queries/{name}");
        let (status, answer) = server.request("PUT", &path, Some(body));
        assert_eq!(status, 200, "{answer}");
    }
    browser.sign_in(&server.url, &server.token());

    browser.goto("/ui/catalog/sales/orders");
    browser.wait_for("table.sql-result tbody tr", WAIT);
    assert_eq!(browser.count("table.sql-result tbody tr"), 5);
    browser.screenshot("sql-catalog-table");

    browser.goto("/ui/sql");
    browser.fill(
        "textarea[name=q]",
        "SELECT country, sum(amount) AS total, count(*) AS n FROM sales.orders GROUP BY country ORDER BY total DESC",
    );
    // Ctrl+Enter runs it (the editor's shortcut, as the key event a keyboard sends).
    browser.eval(
        "const area = document.querySelector('textarea[name=q]'); \
         area.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', ctrlKey: true, bubbles: true}));",
        Vec::new(),
    );
    browser.wait_for("svg.chart-bar", WAIT);
    assert_eq!(browser.count("table.sql-result tbody tr"), 4);
    // Choosing another kind of chart shows it at once, and puts it in the URL.
    browser.click("select[name=chart] option[value=line]");
    browser.wait_for("svg.chart-line", WAIT);
    browser.click("input[name=y][value=n]");
    browser.wait_for("svg.chart-line .legend-item.series-1", WAIT);
    let shared = browser.path();
    assert!(
        shared.contains("chart=line") && shared.contains("y=total") && shared.contains("y=n"),
        "{shared}"
    );
    // A line per y column, each with its legend entry.
    assert_eq!(browser.count("svg.chart-line .legend-item"), 2);
    let lines = browser.count("svg.chart-line path.line");
    assert_eq!(lines, 4, "two lines and their two legend swatches");
    browser.screenshot("sql-chart");

    // The URL alone shows the same view.
    browser.goto("/");
    browser.goto(&shared);
    browser.wait_for("svg.chart-line", WAIT);
    assert_eq!(browser.count("svg.chart-line path.line"), lines);
    assert_eq!(browser.count("table.sql-result tbody tr"), 4);

    // Saved to a dashboard with the page's form (the API call weir.js makes), then shown there.
    browser.click("details.save-chart summary");
    browser.fill("input[name=dashboard]", "team_board");
    browser.fill("input[name=name]", "revenue");
    browser.click("details.save-chart button[type=submit]");
    browser.wait_for_path("/ui/dashboards/team_board", WAIT);
    browser.wait_for("[data-chart=revenue] svg.chart-line", WAIT);
    let (status, saved) = server.request("GET", "/api/v1/dashboards/team_board", None);
    assert_eq!(status, 200, "{saved}");
    assert!(saved.contains("\"y\":[\"total\",\"n\"]"), "{saved}");
    browser.screenshot("sql-dashboard");
    assert!(
        browser.console_errors().is_empty(),
        "{:?}",
        browser.console_errors()
    );
}
