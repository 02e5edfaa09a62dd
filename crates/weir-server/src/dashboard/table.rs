//! `GET /ui/catalog/{database}/{table}`: a table's location, format and schema (partition keys
//! marked), its partitions (newest first, paged, with file, row and byte counts), and sample rows
//! read with SQL as the caller. A table outside the caller's grants is not found.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use serde::Deserialize;
use serde_json::Value;

use super::catalog::{bytes, plural, table_href};
use super::html::{self, attr, esc};
use super::sql::{View, group_digits, results_table, run_read_only};
use super::{Ctx, Page, PageError, PageResult, Section};

/// Partitions per page.
const PARTITIONS_PER_PAGE: usize = 50;
/// Rows of the sample.
const SAMPLE_ROWS: usize = 20;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TableQuery {
    /// The page of partitions, from 1.
    page: Option<usize>,
}

/// A partition's files summed up.
#[derive(Debug, Default)]
struct Partition {
    files: u64,
    bytes: u64,
    /// None when a file's count is unknown.
    rows: Option<u64>,
    last_modified: i64,
}

pub(crate) async fn page(
    ctx: Ctx,
    Path((database, name)): Path<(String, String)>,
    query: Result<Query<TableQuery>, QueryRejection>,
) -> PageResult {
    let Query(query) = query?;
    // What the API would refuse, the page does not show at all (not even that it exists).
    if !ctx.identity.grants().table(&database, &name) {
        return Err(not_found(&database, &name));
    }
    let Some(service) = ctx.state.lake.as_ref() else {
        return Err(not_found(&database, &name));
    };
    let answer = service
        .table(&database, &name)
        .await
        .map_err(crate::ApiError::from)?;
    let table = &answer["table"];
    let files = answer["files"].as_array().cloned().unwrap_or_default();
    let text = |field: &str| table[field].as_str().unwrap_or_default();
    let partition_columns: Vec<Value> = table["partitioning"]["columns"]
        .as_array()
        .cloned()
        .unwrap_or_default();

    let sql = format!(
        "SELECT * FROM {}.{} LIMIT {SAMPLE_ROWS}",
        ident(text("database")),
        ident(text("name"))
    );
    let explore = View {
        q: format!(
            "SELECT *\nFROM {}.{}\nLIMIT 100",
            ident(text("database")),
            ident(text("name"))
        ),
        ..View::default()
    };
    let mut body = format!(
        "<p class=\"row\"><a class=\"btn primary\" href=\"{}\">Query in SQL</a></p>",
        attr(&explore.href())
    );
    body.push_str(&facts(table, files.len()));
    body.push_str(&schema(table, &partition_columns));
    if !partition_columns.is_empty() {
        let keys: Vec<&str> = partition_columns
            .iter()
            .map(|c| text_of(&c["name"]))
            .collect();
        body.push_str(&partitions(
            (&database, &name),
            &keys,
            &files,
            query.page.unwrap_or(1).max(1),
        ));
    }
    let _ = write!(
        body,
        "<section aria-labelledby=\"sample\"><h2 id=\"sample\">Sample rows</h2>\
         <p class=\"muted\"><code>{}</code></p>",
        esc(&sql)
    );
    match run_read_only(&ctx, &sql, SAMPLE_ROWS).await {
        Ok(result) => body.push_str(&results_table(&result)),
        Err(error) => body.push_str(&error.render(&sql)),
    }
    body.push_str("</section>");
    let title = format!("{database}.{name}");
    Ok(Page::new(title, Section::Catalog)
        .crumb("Catalog", Some("/ui/catalog"))
        .crumb(
            &database,
            Some(&format!("/ui/catalog?q={}", html::url(&database))),
        )
        .body(body)
        .render(&ctx))
}

fn not_found(database: &str, name: &str) -> PageError {
    PageError::not_found(format!("table `{database}.{name}` does not exist"))
}

/// A name as a SQL identifier: as it is when plain lower-case, else double-quoted.
fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn facts(table: &Value, files: usize) -> String {
    let text = |field: &str| table[field].as_str().unwrap_or_default();
    let stats = &table["stats"];
    let partitioning = match text_of(&table["partitioning"]["style"]) {
        "hive" => "Hive folders (key=value/)".to_string(),
        "pattern" => format!(
            "date folders <code>{}</code>",
            esc(text_of(&table["partitioning"]["pattern"]))
        ),
        _ => "none".to_string(),
    };
    format!(
        "<dl class=\"facts card\"><dt>Location</dt><dd><code>{location}</code></dd>\
         <dt>Format</dt><dd>{format}</dd><dt>Partitioning</dt><dd>{partitioning}</dd>\
         <dt>Files</dt><dd>{files}</dd><dt>Rows</dt><dd>{rows}</dd><dt>Size</dt><dd>{size}</dd>\
         <dt>Updated</dt><dd>{updated}</dd></dl>",
        location = esc(text("location")),
        format = esc(text("format")),
        files = group_digits(files as u64),
        rows = stats["row_count"]
            .as_u64()
            .map_or_else(|| "unknown".to_string(), group_digits),
        size = bytes(stats["size_bytes"].as_u64().unwrap_or(0)),
        updated = stats["last_modified"]
            .as_i64()
            .or_else(|| table["updated_at"].as_i64())
            .filter(|&us| us > 0)
            .map_or_else(|| "—".to_string(), html::time),
    )
}

fn text_of(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn schema(table: &Value, partition_columns: &[Value]) -> String {
    let mut html = String::from(
        "<section aria-labelledby=\"schema\"><h2 id=\"schema\">Schema</h2><div class=\"scroll\">\
         <table class=\"list\"><thead><tr><th scope=\"col\">Column</th><th scope=\"col\">Type</th>\
         <th scope=\"col\">Nullable</th><th scope=\"col\">Partition key</th></tr></thead><tbody>",
    );
    let data = table["columns"].as_array().cloned().unwrap_or_default();
    let keyed = data
        .iter()
        .map(|c| (c, false))
        .chain(partition_columns.iter().map(|c| (c, true)));
    for (column, partition) in keyed {
        let _ = write!(
            html,
            "<tr><th scope=\"row\"><code>{}</code></th><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(text_of(&column["name"])),
            esc(text_of(&column["data_type"])),
            if column["nullable"].as_bool().unwrap_or(true) {
                "yes"
            } else {
                "no"
            },
            if partition {
                "<span class=\"badge st-running\"><span aria-hidden=\"true\">◆</span> partition key</span>"
            } else {
                ""
            },
        );
    }
    html.push_str("</tbody></table></div></section>");
    html
}

/// The table's partitions (`keys` are its partition columns), newest (greatest values) first,
/// a page at a time.
fn partitions(
    (database, name): (&str, &str),
    keys: &[&str],
    files: &[Value],
    page: usize,
) -> String {
    let mut by_values: BTreeMap<Vec<String>, Partition> = BTreeMap::new();
    for file in files {
        let values: Vec<String> = file["partition_values"]
            .as_array()
            .map(|v| v.iter().map(|s| text_of(s).to_string()).collect())
            .unwrap_or_default();
        let partition = by_values.entry(values).or_insert_with(|| Partition {
            rows: Some(0),
            ..Partition::default()
        });
        partition.files += 1;
        partition.bytes += file["size"].as_u64().unwrap_or(0);
        partition.rows = match (partition.rows, file["row_count"].as_u64()) {
            (Some(sum), Some(rows)) => Some(sum + rows),
            _ => None,
        };
        partition.last_modified = partition
            .last_modified
            .max(file["last_modified"].as_i64().unwrap_or(0));
    }
    let total = by_values.len();
    let pages = total.div_ceil(PARTITIONS_PER_PAGE).max(1);
    let page = page.min(pages);
    let mut html = format!(
        "<section aria-labelledby=\"partitions\"><h2 id=\"partitions\">Partitions \
         <span class=\"muted\">{}</span></h2>",
        plural(total, "partition")
    );
    if total == 0 {
        html.push_str(&html::empty("No files yet."));
        html.push_str("</section>");
        return html;
    }
    html.push_str(
        "<div class=\"scroll\"><table class=\"list\"><thead><tr><th scope=\"col\">Partition</th>\
         <th scope=\"col\" class=\"num\">Files</th><th scope=\"col\" class=\"num\">Rows</th>\
         <th scope=\"col\" class=\"num\">Size</th><th scope=\"col\">Last written</th></tr></thead><tbody>",
    );
    for (values, partition) in by_values
        .iter()
        .rev()
        .skip((page - 1) * PARTITIONS_PER_PAGE)
        .take(PARTITIONS_PER_PAGE)
    {
        let label: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, value)| match keys.get(i) {
                Some(key) => format!("{key}={value}"),
                None => value.clone(),
            })
            .collect();
        let _ = write!(
            html,
            "<tr><th scope=\"row\"><code>{}</code></th><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&label.join(", ")),
            group_digits(partition.files),
            partition
                .rows
                .map_or_else(|| "unknown".to_string(), group_digits),
            bytes(partition.bytes),
            if partition.last_modified > 0 {
                html::time(partition.last_modified)
            } else {
                "—".to_string()
            },
        );
    }
    html.push_str("</tbody></table></div>");
    if pages > 1 {
        let href = table_href(database, name);
        let _ = write!(
            html,
            "<nav class=\"row\" aria-label=\"Partition pages\"><span class=\"muted\">page {page} of {pages}, newest first</span>"
        );
        if page > 1 {
            let _ = write!(
                html,
                "<a href=\"{}\">← newer</a>",
                attr(&format!("{href}?page={}", page - 1))
            );
        }
        if page < pages {
            let _ = write!(
                html,
                "<a href=\"{}\">older →</a>",
                attr(&format!("{href}?page={}", page + 1))
            );
        }
        html.push_str("</nav>");
    }
    html.push_str("</section>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_unless_plain() {
        assert_eq!(ident("sales"), "sales");
        assert_eq!(ident("Sales"), "\"Sales\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(ident("1x"), "\"1x\"");
    }

    #[test]
    fn partitions_sum_their_files_newest_first_and_page() {
        let files: Vec<Value> = (0..120)
            .map(|i| {
                serde_json::json!({
                    "partition_values": [format!("2026-01-{:03}", i % 60)],
                    "size": 100, "row_count": if i == 0 { Value::Null } else { 2.into() },
                    "last_modified": 1_700_000_000_000_000i64,
                })
            })
            .collect();
        let first = partitions(("d", "t"), &["day"], &files, 1);
        assert!(first.contains("60 partitions"), "{first}");
        let newest = first.find("day=2026-01-059").unwrap();
        let older = first.find("2026-01-058").unwrap();
        assert!(newest < older);
        assert!(first.contains("older →") && !first.contains("2026-01-009"));
        let second = partitions(("d", "t"), &["day"], &files, 2);
        assert!(second.contains("2026-01-000") && second.contains("unknown"));
        assert!(second.contains("200 B"));
    }
}
