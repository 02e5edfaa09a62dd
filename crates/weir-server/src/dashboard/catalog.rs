//! `GET /ui/catalog?q=…`: the catalog's databases and their tables, as the API lists them for
//! the caller (its table grants applied), filtered by part of a name.

use std::fmt::Write;

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use serde::Deserialize;
use serde_json::Value;

use super::html::{self, attr, esc, url};
use super::{Ctx, Page, PageResult, Section};
use crate::lake;

/// Most tables listed on the page; a search narrows the rest.
const SHOWN_TABLES: usize = 500;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CatalogQuery {
    /// Part of a database's or table's name (any case).
    #[serde(default)]
    q: String,
}

pub(crate) async fn page(
    ctx: Ctx,
    query: Result<Query<CatalogQuery>, QueryRejection>,
) -> PageResult {
    let Query(query) = query?;
    let databases = lake::granted_databases(&ctx.state, &ctx.identity).await?;
    let tables = lake::granted_tables(&ctx.state, &ctx.identity, None).await?;
    let needle = query.q.trim().to_lowercase();
    let matches = |text: &str| needle.is_empty() || text.to_lowercase().contains(&needle);
    let list = |value: &Value, field: &str| value[field].as_array().cloned().unwrap_or_default();

    let mut body = format!(
        "<form class=\"filters\" method=\"get\" action=\"/ui/catalog\" role=\"search\">\
         <label>Name <input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"database or table\"></label>\
         <button class=\"btn\">Search</button> <a href=\"/ui/sql\">Query with SQL</a></form>",
        attr(&query.q)
    );
    body.push_str("<div id=\"catalog\" data-live-region>");
    let mut shown = 0usize;
    let mut any = false;
    for database in list(&databases, "databases") {
        let name = database["name"].as_str().unwrap_or_default();
        let all: Vec<Value> = list(&tables, "tables")
            .into_iter()
            .filter(|t| t["database"].as_str() == Some(name))
            .collect();
        let database_matches = matches(name);
        let kept: Vec<&Value> = all
            .iter()
            .filter(|t| database_matches || matches(t["name"].as_str().unwrap_or_default()))
            .collect();
        if !database_matches && kept.is_empty() {
            continue;
        }
        any = true;
        let _ = write!(
            body,
            "<section class=\"database\" aria-labelledby=\"db-{id}\"><h2 id=\"db-{id}\">{name} \
             <span class=\"muted\">{count}</span></h2>",
            id = attr(&url(name)),
            name = esc(name),
            count = plural(all.len(), "table"),
        );
        if let Some(description) = database["description"].as_str() {
            let _ = write!(body, "<p class=\"muted\">{}</p>", esc(description));
        }
        if kept.is_empty() {
            body.push_str(&html::empty("No tables."));
        } else {
            body.push_str(
                "<div class=\"scroll\"><table class=\"list\"><thead><tr><th scope=\"col\">Table</th>\
                 <th scope=\"col\">Format</th><th scope=\"col\">Columns</th>\
                 <th scope=\"col\">Partitioned by</th><th scope=\"col\" class=\"num\">Rows</th>\
                 <th scope=\"col\" class=\"num\">Size</th><th scope=\"col\" class=\"hide-narrow\">Location</th>\
                 <th scope=\"col\" class=\"hide-narrow\">Updated</th></tr></thead><tbody>",
            );
            for table in kept {
                if shown == SHOWN_TABLES {
                    break;
                }
                shown += 1;
                body.push_str(&table_row(table));
            }
            body.push_str("</tbody></table></div>");
        }
        body.push_str("</section>");
        if shown == SHOWN_TABLES {
            let _ = write!(
                body,
                "<p class=\"muted\">Showing the first {SHOWN_TABLES} tables: search to narrow the list.</p>"
            );
            break;
        }
    }
    if !any {
        body.push_str(&html::empty(if needle.is_empty() {
            "No databases to show: crawl files into tables (weir crawl) or create one with SQL."
        } else {
            "No database or table matches."
        }));
    }
    body.push_str("</div>");
    Ok(Page::new("Catalog", Section::Catalog)
        .body(body)
        .render(&ctx))
}

fn table_row(table: &Value) -> String {
    let text = |field: &str| table[field].as_str().unwrap_or_default();
    let (database, name) = (text("database"), text("name"));
    let partitions: Vec<&str> = table["partitioning"]["columns"]
        .as_array()
        .map(|columns| columns.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    let stats = &table["stats"];
    format!(
        "<tr><th scope=\"row\"><a href=\"{href}\">{name}</a></th><td>{format}</td>\
         <td class=\"num\">{columns}</td><td>{partitions}</td><td class=\"num\">{rows}</td>\
         <td class=\"num\">{size}</td><td class=\"hide-narrow\"><code>{location}</code></td>\
         <td class=\"hide-narrow\">{updated}</td></tr>",
        href = attr(&table_href(database, name)),
        name = esc(name),
        format = esc(text("format")),
        columns = table["columns"].as_array().map_or(0, Vec::len),
        partitions = if partitions.is_empty() {
            "—".to_string()
        } else {
            esc(&partitions.join(", "))
        },
        rows = stats["row_count"]
            .as_u64()
            .map_or_else(|| "—".to_string(), super::sql::group_digits),
        size = stats["size_bytes"].as_u64().map_or_else(String::new, bytes),
        location = esc(text("location")),
        updated = stats["last_modified"]
            .as_i64()
            .or_else(|| table["updated_at"].as_i64())
            .filter(|&us| us > 0)
            .map_or_else(|| "—".to_string(), html::time),
    )
}

/// The page of a table.
pub(super) fn table_href(database: &str, name: &str) -> String {
    format!("/ui/catalog/{}/{}", url(database), url(name))
}

/// "3 tables", "1 table".
pub(super) fn plural(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{} {thing}s", super::sql::group_digits(n as u64))
    }
}

/// A size as people read it: 512 B, 1.5 KiB, 20.0 MiB.
pub(super) fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(20 * 1024 * 1024), "20.0 MiB");
        assert_eq!(plural(1, "table"), "1 table");
        assert_eq!(plural(1200, "table"), "1,200 tables");
    }

    #[test]
    fn table_rows_escape_names_and_link_by_encoded_segments() {
        let row = table_row(&serde_json::json!({
            "database": "d<b>", "name": "t/x", "format": "csv", "location": "raw/<t>",
            "columns": [{"name": "a"}], "partitioning": {"style": "none"},
            "stats": {"row_count": 1234, "size_bytes": 2048, "file_count": 1},
        }));
        assert!(row.contains("href=\"/ui/catalog/d%3Cb%3E/t%2Fx\""), "{row}");
        assert!(row.contains("raw/&lt;t&gt;") && row.contains("1,234") && row.contains("2.0 KiB"));
    }
}
