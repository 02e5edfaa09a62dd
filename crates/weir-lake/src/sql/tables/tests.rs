//! Each kind of statement, CTE scopes, quoting, several statements, and, for queries, the tables
//! the engine's own planner scans compared with what `sql_tables` says it reads.

use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::LogicalPlan;
use datafusion::object_store::memory::InMemory;

use super::*;
use crate::catalog::{Column, Format, Partitioning, Table, TableStats};
use crate::sql::{CatalogAccess, LakeTable, MemoryCatalog, SqlEngine};

fn tables(sql: &str) -> SqlTables {
    sql_tables(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn shown(names: &[TableName]) -> Vec<String> {
    names.iter().map(TableName::to_string).collect()
}

/// Reads, writes, read-only, lists the catalog.
fn summary(sql: &str) -> (Vec<String>, Vec<String>, bool, bool) {
    let found = tables(sql);
    (
        shown(&found.reads),
        shown(&found.writes),
        found.read_only,
        found.lists_catalog,
    )
}

fn reads(sql: &str) -> Vec<String> {
    let (reads, writes, read_only, _) = summary(sql);
    assert!(writes.is_empty() && read_only, "{sql} writes {writes:?}");
    reads
}

#[test]
fn queries_read_their_tables_resolved_against_the_default_database() {
    assert_eq!(reads("SELECT * FROM orders"), ["default.orders"]);
    assert_eq!(reads("select * from sales.orders"), ["sales.orders"]);
    assert_eq!(reads("SELECT * FROM weir.sales.orders"), ["sales.orders"]);
    assert_eq!(
        reads("SELECT * FROM weir.default.orders"),
        ["default.orders"]
    );
    // Another catalog has no tables: the statement reads nothing (and fails to plan).
    assert!(reads("SELECT * FROM elsewhere.sales.orders").is_empty());
    assert_eq!(
        reads(
            "SELECT o.id, c.name FROM sales.orders o JOIN sales.customers c ON o.customer = c.id \
             LEFT JOIN regions r ON r.id = c.region CROSS JOIN default.calendar"
        ),
        [
            "default.calendar",
            "default.regions",
            "sales.customers",
            "sales.orders"
        ]
    );
    assert!(reads("SELECT 1 + 1").is_empty());
    assert!(reads("VALUES (1, 'a'), (2, 'b')").is_empty());
}

#[test]
fn subqueries_anywhere_are_read() {
    assert_eq!(
        reads(
            "SELECT (SELECT max(amount) FROM facts.payments) AS top, x.id \
             FROM (SELECT id FROM orders) AS x \
             WHERE x.id IN (SELECT order_id FROM returns) \
               AND EXISTS (SELECT 1 FROM audit.flags f WHERE f.id = x.id) \
             GROUP BY x.id HAVING count(*) > (SELECT count(*) FROM limits) \
             UNION ALL SELECT 0, id FROM archive.orders"
        ),
        [
            "archive.orders",
            "audit.flags",
            "default.limits",
            "default.orders",
            "default.returns",
            "facts.payments"
        ]
    );
}

#[test]
fn a_cte_is_no_table_but_what_it_reads_is() {
    assert_eq!(
        reads("WITH recent AS (SELECT * FROM sales.orders) SELECT * FROM recent"),
        ["sales.orders"]
    );
    assert!(reads("WITH t AS (SELECT 1 AS id) SELECT * FROM t").is_empty());
    // The CTE shadows the table only where it is in scope: not in its own body…
    assert_eq!(
        reads("WITH orders AS (SELECT * FROM orders WHERE ok) SELECT * FROM orders"),
        ["default.orders"]
    );
    // …not under a qualified name…
    assert_eq!(
        reads("WITH t AS (SELECT 1 AS id) SELECT * FROM t JOIN default.t USING (id)"),
        ["default.t"]
    );
    // …and not in the other branch of a UNION.
    assert_eq!(
        reads("(WITH t AS (SELECT 1 AS id) SELECT id FROM t) UNION ALL (SELECT id FROM t)"),
        ["default.t"]
    );
    // Nested: the inner CTE is in scope only inside the outer one's body.
    assert_eq!(
        reads(
            "WITH a AS (WITH b AS (SELECT 1 AS id) SELECT * FROM b) SELECT * FROM a JOIN b USING (id)"
        ),
        ["default.b"]
    );
    assert_eq!(
        reads(
            "WITH RECURSIVE n AS (SELECT 1 AS i UNION ALL SELECT i + 1 FROM n WHERE i < 3) \
             SELECT * FROM n JOIN numbers USING (i)"
        ),
        ["default.numbers"]
    );
}

#[test]
fn quoted_identifiers_keep_their_case_and_unquoted_ones_fold() {
    assert_eq!(reads(r#"SELECT * FROM "Sales"."Orders""#), ["Sales.Orders"]);
    assert_eq!(reads("SELECT * FROM Sales.Orders"), ["sales.orders"]);
    assert_eq!(reads(r#"SELECT * FROM "my table""#), ["default.my table"]);
    // A quoted name with a dot is one name, not a database and a table.
    assert_eq!(
        reads(r#"SELECT * FROM "sales.orders""#),
        ["default.sales.orders"]
    );
    assert_eq!(
        reads(r#"WITH "Recent" AS (SELECT * FROM x) SELECT * FROM "Recent", recent"#),
        ["default.recent", "default.x"]
    );
}

#[test]
fn table_functions_are_no_tables() {
    assert!(reads("SELECT * FROM generate_series(1, 3)").is_empty());
    assert_eq!(
        reads("SELECT * FROM range(3) AS r JOIN range USING (value)"),
        ["default.range"]
    );
    assert_eq!(
        reads("SELECT * FROM generate_series(1, (SELECT max(n) FROM sizes))"),
        ["default.sizes"]
    );
}

#[test]
fn create_table_as_writes_its_table_and_reads_its_query() {
    let (reads, writes, read_only, _) = summary(
        "CREATE TABLE sales.daily AS SELECT day, sum(amount) FROM sales.orders GROUP BY day",
    );
    assert_eq!(
        (reads, writes, read_only),
        (
            vec!["sales.orders".to_string()],
            vec!["sales.daily".to_string()],
            false
        )
    );
    assert_eq!(
        summary(
            "create or replace table daily partitioned by (day) as with o as (select * from orders) select * from o"
        ),
        (
            vec!["default.orders".into()],
            vec!["default.daily".into()],
            false,
            false
        )
    );
    assert_eq!(
        summary("CREATE OR REPLACE TABLE t AS SELECT * FROM t"),
        (
            vec!["default.t".into()],
            vec!["default.t".into()],
            false,
            false
        )
    );
    assert_eq!(
        summary("CREATE TABLE IF NOT EXISTS \"Shop\".items (id BIGINT, name VARCHAR)"),
        (vec![], vec!["Shop.items".into()], false, false)
    );
}

#[test]
fn insert_writes_its_table_and_reads_its_source() {
    assert_eq!(
        summary(
            "INSERT INTO sales.orders SELECT * FROM staging.orders WHERE id NOT IN (SELECT id FROM sales.orders)"
        ),
        (
            vec!["sales.orders".into(), "staging.orders".into()],
            vec!["sales.orders".into()],
            false,
            false
        )
    );
    assert_eq!(
        summary("INSERT INTO orders (id, amount) VALUES (1, 2.5), (2, 3.0)"),
        (vec![], vec!["default.orders".into()], false, false)
    );
    assert_eq!(
        summary("INSERT OVERWRITE TABLE sales.daily SELECT * FROM sales.orders"),
        (
            vec!["sales.orders".into()],
            vec!["sales.daily".into()],
            false,
            false
        )
    );
}

#[test]
fn drop_writes_every_table_it_names() {
    assert_eq!(
        summary("DROP TABLE IF EXISTS old, sales.older, \"Shop\".\"Items\""),
        (
            vec![],
            vec![
                "Shop.Items".into(),
                "default.old".into(),
                "sales.older".into()
            ],
            false,
            false
        )
    );
}

#[test]
fn writes_to_names_the_engine_refuses_fail_as_the_engine_does() {
    for (sql, message) in [
        (
            "INSERT INTO elsewhere.db.t SELECT 1",
            "unknown catalog `elsewhere`: tables are database.table",
        ),
        (
            "CREATE TABLE \"bad-name\" AS SELECT 1",
            "`bad-name` is not a valid name",
        ),
        ("DROP TABLE \"\"", "`` is not a valid name"),
    ] {
        let error = sql_tables(sql).unwrap_err();
        assert!(error.message.starts_with(message), "{sql}: {error}");
        assert_eq!(error.line, Some(1), "placed in the statement: {error}");
    }
}

#[test]
fn describe_and_show_read_the_table_they_name() {
    assert_eq!(
        summary("DESCRIBE sales.orders"),
        (vec!["sales.orders".into()], vec![], true, false)
    );
    assert_eq!(
        summary("DESC orders"),
        (vec!["default.orders".into()], vec![], true, false)
    );
    assert_eq!(
        summary("SHOW CREATE TABLE sales.orders"),
        (vec!["sales.orders".into()], vec![], true, false)
    );
    assert_eq!(
        summary("SHOW COLUMNS FROM sales.orders"),
        (vec!["sales.orders".into()], vec![], true, false)
    );
    assert_eq!(
        summary("DESCRIBE SELECT * FROM sales.orders"),
        (vec!["sales.orders".into()], vec![], true, false)
    );
}

#[test]
fn listings_of_the_catalog_are_flagged() {
    assert_eq!(summary("SHOW TABLES"), (vec![], vec![], true, true));
    assert_eq!(
        summary("SELECT table_name FROM information_schema.tables WHERE table_schema = 'sales'"),
        (vec![], vec![], true, true)
    );
    assert_eq!(
        summary("SELECT * FROM weir.information_schema.COLUMNS JOIN orders ON true"),
        (vec!["default.orders".into()], vec![], true, true)
    );
    assert!(tables("SELECT * FROM information_schema.schemata").lists_catalog);
    // A bare name: DataFusion lists that table's columns in every database.
    assert_eq!(
        summary("SHOW COLUMNS FROM orders"),
        (vec!["default.orders".into()], vec![], true, true)
    );
    // Settings and functions name no table.
    for sql in [
        "SHOW ALL",
        "SHOW datafusion.execution.batch_size",
        "SHOW FUNCTIONS",
        "SELECT * FROM information_schema.df_settings",
        "SELECT * FROM information_schema.routines",
    ] {
        assert_eq!(summary(sql), (vec![], vec![], true, false), "{sql}");
    }
}

#[test]
fn explain_is_about_the_statement_it_explains() {
    assert_eq!(
        summary("EXPLAIN SELECT * FROM sales.orders JOIN sales.customers USING (id)"),
        (
            vec!["sales.customers".into(), "sales.orders".into()],
            vec![],
            true,
            false
        )
    );
    assert_eq!(
        summary("EXPLAIN ANALYZE SELECT count(*) FROM orders"),
        (vec!["default.orders".into()], vec![], true, false)
    );
    // The engine refuses to explain a write; it is reported as the write it is.
    assert_eq!(
        summary("EXPLAIN CREATE TABLE t AS SELECT * FROM orders"),
        (
            vec!["default.orders".into()],
            vec!["default.t".into()],
            false,
            false
        )
    );
}

#[test]
fn statements_the_engine_refuses_are_not_read_only_and_write_what_they_name() {
    for (sql, writes) in [
        ("UPDATE sales.orders SET amount = 0", vec!["sales.orders"]),
        ("DELETE FROM orders WHERE id = 1", vec!["default.orders"]),
        ("SELECT * INTO copy FROM orders", vec!["default.copy"]),
        // (The view's name is no relation to DataFusion; weir has no views.)
        (
            "CREATE VIEW v AS SELECT * FROM orders",
            vec!["default.orders"],
        ),
        ("COPY orders TO '/tmp/out.csv'", vec!["default.orders"]),
        (
            "CREATE EXTERNAL TABLE ext STORED AS CSV LOCATION '/etc'",
            vec!["default.ext"],
        ),
        ("TRUNCATE TABLE orders", vec!["default.orders"]),
        ("SET datafusion.catalog.default_schema = 'sales'", vec![]),
        ("CREATE SCHEMA secret", vec![]),
        ("DROP VIEW v", vec![]),
    ] {
        let found = tables(sql);
        assert!(!found.read_only, "{sql} is not read-only");
        assert_eq!(shown(&found.writes), writes, "{sql}");
    }
    // SELECT … INTO still reads its source.
    assert_eq!(
        tables("SELECT * INTO copy FROM orders").reads,
        [TableName::new("default", "orders")]
    );
}

#[test]
fn several_statements_add_up() {
    let found = tables(
        "SELECT * FROM a; CREATE TABLE b AS SELECT * FROM c;\nDROP TABLE d; SELECT * FROM A; SHOW TABLES",
    );
    assert_eq!(shown(&found.reads), ["default.a", "default.c"]);
    assert_eq!(shown(&found.writes), ["default.b", "default.d"]);
    assert!(!found.read_only);
    assert!(found.lists_catalog);
    // A CTE of one statement is no CTE in the next.
    assert_eq!(
        reads("WITH t AS (SELECT 1) SELECT * FROM t; SELECT * FROM t"),
        ["default.t"]
    );
}

#[test]
fn text_that_does_not_run_fails_as_the_engine_says() {
    let error = sql_tables("SELECT *\nFROM t WHERE )").unwrap_err();
    assert_eq!((error.line, error.column), (Some(2), Some(14)), "{error}");
    assert!(sql_tables("SELEC 1").is_err());
    assert_eq!(
        sql_tables("  ;  ").unwrap_err().message,
        "no SQL statement given"
    );
    assert_eq!(
        sql_tables("").unwrap_err().message,
        "no SQL statement given"
    );
    let error = sql_tables("SELECT * FROM a.b.c.d").unwrap_err();
    assert!(error.message.contains("a.b.c.d"), "{error}");
}

#[test]
fn the_longest_chains_the_engine_takes_are_walked_without_overflowing() {
    let links = crate::sql::guard::MAX_LINKS;
    let unions = vec!["SELECT id FROM t"; links].join(" UNION ALL ");
    assert_eq!(reads(&unions), ["default.t"]);
    let sum = format!("SELECT {} FROM t", vec!["id"; links].join(" + "));
    assert_eq!(reads(&sum), ["default.t"]);
    let nested = format!(
        "SELECT * FROM {}t{}",
        "(SELECT * FROM ".repeat(30),
        ")".repeat(30)
    );
    assert_eq!(reads(&nested), ["default.t"]);
}

proptest::proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(sql in "\\PC{0,200}") {
        let _ = sql_tables(&sql);
    }

    #[test]
    fn never_panics_on_sql_like_text(
        words in proptest::collection::vec(
            proptest::sample::select(vec![
                "SELECT", "*", "FROM", "WITH", "AS", "(", ")", "JOIN", "ON", "t", "\"T\"", "db.t",
                "weir.db.t", "x.y.z.w", "information_schema.tables", ",", ";", "INSERT", "INTO",
                "CREATE", "OR", "REPLACE", "TABLE", "DROP", "VALUES", "1", "UNION", "ALL", "WHERE",
                "IN", "EXISTS", "DESCRIBE", "SHOW", "TABLES", "COLUMNS", "EXPLAIN", "RECURSIVE",
                "generate_series(1,2)", "OVERWRITE", "PARTITIONED", "BY", "UPDATE", "SET", "=",
            ]),
            0..40,
        )
    ) {
        let _ = sql_tables(&words.join(" "));
    }
}

/// An engine over an empty in-memory lake whose catalog holds `tables` (no files).
async fn engine_with(tables: &[(&str, &str)]) -> SqlEngine {
    let catalog = Arc::new(MemoryCatalog::new());
    for (database, name) in tables {
        let table = Table {
            database: database.to_string(),
            name: name.to_string(),
            location: format!("{database}/{name}"),
            format: Format::Parquet,
            columns: vec![Column {
                name: "id".into(),
                data_type: "Int64".into(),
                nullable: true,
            }],
            partitioning: Partitioning::None,
            stats: TableStats::default(),
            created_at: 0,
            updated_at: 0,
        };
        catalog.create_table(table, Vec::new()).await.unwrap();
    }
    SqlEngine::new(
        Arc::new(InMemory::new()),
        "",
        catalog as Arc<dyn CatalogAccess>,
    )
    .unwrap()
}

/// The catalog tables DataFusion's plan of `sql` scans, as the catalog spells them.
async fn scanned(engine: &SqlEngine, sql: &str) -> Vec<String> {
    let statement = parse(sql).unwrap().pop_front().unwrap();
    let (_, plan) = engine
        .plan_read(statement, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut found = BTreeSet::new();
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Ok(provider) = source_as_provider(&scan.source)
            && let Some(table) = provider.downcast_ref::<LakeTable>()
        {
            found.insert(format!("{}.{}", table.table().database, table.table().name));
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .unwrap();
    found.into_iter().collect()
}

#[tokio::test]
async fn what_a_query_reads_is_what_the_engine_scans() {
    let engine = engine_with(&[
        ("default", "orders"),
        ("default", "t"),
        ("default", "b"),
        ("sales", "orders"),
        ("sales", "customers"),
        ("Shop", "Items"),
    ])
    .await;
    for sql in [
        "SELECT * FROM orders",
        "SELECT o.id FROM sales.orders o JOIN sales.customers c ON o.id = c.id",
        "SELECT * FROM weir.sales.orders",
        "WITH orders AS (SELECT * FROM sales.orders) SELECT * FROM orders",
        "WITH orders AS (SELECT * FROM orders) SELECT * FROM orders",
        "WITH t AS (SELECT 1 AS id) SELECT * FROM t JOIN default.t USING (id)",
        "(WITH t AS (SELECT 1 AS id) SELECT id FROM t) UNION ALL (SELECT id FROM t)",
        "WITH a AS (WITH b AS (SELECT 1 AS id) SELECT * FROM b) SELECT * FROM a JOIN b USING (id)",
        "SELECT * FROM orders WHERE id IN (SELECT id FROM sales.customers) \
         AND EXISTS (SELECT 1 FROM sales.orders)",
        "SELECT (SELECT max(id) FROM sales.orders) AS m FROM (SELECT * FROM t) AS x",
        "WITH RECURSIVE n AS (SELECT 1 AS id UNION ALL SELECT id + 1 FROM n WHERE id < 3) \
         SELECT * FROM n JOIN orders USING (id)",
        r#"SELECT * FROM "Shop"."Items""#,
        "SELECT * FROM shop.items",
        "SELECT * FROM orders, generate_series(1, 2)",
    ] {
        let reported: Vec<String> = tables(sql)
            .reads
            .iter()
            .map(|t| t.to_string().to_ascii_lowercase())
            .collect();
        let scanned: Vec<String> = scanned(&engine, sql)
            .await
            .iter()
            .map(|t| t.to_ascii_lowercase())
            .collect();
        assert_eq!(reported, scanned, "{sql}");
    }
}
