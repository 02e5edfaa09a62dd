//! `weir lake …`, `weir catalog …`, `weir crawl`, `weir sql`: client commands over the REST API.

use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};

use crate::args::{CatalogCommand, ClientArgs, LakeCommand};
use crate::client::{Client, segment};
use crate::output::{
    count, micros_as_time, millis, print_json, seconds_field, table, table_with_headers_as_given,
    text,
};

fn key_path(key: &str) -> String {
    key.split('/').map(segment).collect::<Vec<_>>().join("/")
}

pub async fn lake(args: &ClientArgs, command: LakeCommand) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    match command {
        LakeCommand::Ls { prefix } => {
            let body = client
                .get(&format!(
                    "/api/v1/lake/objects?prefix={}",
                    segment(prefix.as_deref().unwrap_or(""))
                ))
                .await?;
            if args.json {
                print_json(&body);
            } else {
                let rows: Vec<Vec<String>> = body["objects"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| {
                        vec![
                            text(o, "key"),
                            text(o, "size"),
                            micros_as_time(o, "last_modified"),
                        ]
                    })
                    .collect();
                table(&["key", "size", "last modified"], &rows);
            }
        }
        LakeCommand::Put { file, key } => {
            let body = client
                .put_file(&format!("/api/v1/lake/objects/{}", key_path(&key)), &file)
                .await?;
            if args.json {
                print_json(&body)
            } else {
                outln!("{}  {} bytes", text(&body, "key"), text(&body, "size"))
            }
        }
        LakeCommand::Get { key, file } => {
            let path = format!("/api/v1/lake/objects/{}", key_path(&key));
            match file {
                Some(target) => download_to(&client, &path, &target).await?,
                None => {
                    // A closed pipe (`weir lake get KEY | head`) ends the command quietly.
                    crate::output::stdout_result(
                        client.download(&path, &mut std::io::stdout().lock()).await,
                    )?;
                }
            }
        }
        LakeCommand::Profile { table: name } => {
            let Some((database, table_name)) = name.split_once('.') else {
                bail!("name the table as database.table");
            };
            let body = client
                .get(&format!(
                    "/api/v1/catalog/tables/{}/{}/profile",
                    segment(database),
                    segment(table_name)
                ))
                .await?;
            if args.json {
                print_json(&body);
            } else {
                print_profile(&body);
            }
        }
        LakeCommand::Rm { key } => {
            let body = client
                .delete(&format!("/api/v1/lake/objects/{}", key_path(&key)))
                .await?;
            if args.json {
                print_json(&body)
            } else {
                outln!("deleted {key}")
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Downloads to `target` through a file beside it, renamed into place once complete, so a
/// broken download leaves no partial file under the name asked for.
async fn download_to(client: &Client, path: &str, target: &std::path::Path) -> anyhow::Result<()> {
    let mut partial = target.as_os_str().to_os_string();
    partial.push(".weir-partial");
    let partial = std::path::PathBuf::from(partial);
    let mut file = std::fs::File::create(&partial)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    let written = client.download(path, &mut file).await;
    if let Err(error) = written.and_then(|_| {
        std::fs::rename(&partial, target)
            .with_context(|| format!("cannot write {}", target.display()))
    }) {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    Ok(())
}

fn split_name(name: &str) -> (String, Option<String>) {
    match name.split_once('.') {
        Some((db, table)) => (db.to_string(), Some(table.to_string())),
        None => (name.to_string(), None),
    }
}

fn columns(specs: &[String], what: &str) -> anyhow::Result<Vec<Value>> {
    specs
        .iter()
        .map(|spec| match spec.split_once(':') {
            Some((name, ty)) if !name.is_empty() && !ty.is_empty() => {
                Ok(json!({ "name": name, "data_type": ty, "nullable": true }))
            }
            _ => bail!("--{what} takes NAME:TYPE, got `{spec}`"),
        })
        .collect()
}

pub async fn catalog(args: &ClientArgs, command: CatalogCommand) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    match command {
        CatalogCommand::List {
            database,
            databases,
        } => {
            if databases {
                let body = client.get("/api/v1/catalog/databases").await?;
                if args.json {
                    print_json(&body);
                } else {
                    let rows: Vec<Vec<String>> = body["databases"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|d| vec![text(d, "name"), text(d, "description")])
                        .collect();
                    table(&["database", "description"], &rows);
                }
                return Ok(ExitCode::SUCCESS);
            }
            let filter = database
                .map(|d| format!("?database={}", segment(&d)))
                .unwrap_or_default();
            let body = client
                .get(&format!("/api/v1/catalog/tables{filter}"))
                .await?;
            if args.json {
                print_json(&body);
            } else {
                let rows: Vec<Vec<String>> = body["tables"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| {
                        vec![
                            format!("{}.{}", text(t, "database"), text(t, "name")),
                            text(t, "format"),
                            text(t, "location"),
                            text(&t["stats"], "row_count"),
                            text(&t["stats"], "file_count"),
                            text(&t["stats"], "size_bytes"),
                        ]
                    })
                    .collect();
                table(
                    &["table", "format", "location", "rows", "files", "bytes"],
                    &rows,
                );
            }
        }
        CatalogCommand::Show { table: name } => {
            let (db, Some(name)) = split_name(&name) else {
                bail!("name the table as DB.TABLE")
            };
            let body = client
                .get(&format!(
                    "/api/v1/catalog/tables/{}/{}",
                    segment(&db),
                    segment(&name)
                ))
                .await?;
            if args.json {
                print_json(&body);
            } else {
                let t = &body["table"];
                outln!("table     {}.{}", text(t, "database"), text(t, "name"));
                outln!("location  {}", text(t, "location"));
                outln!("format    {}", text(t, "format"));
                outln!(
                    "rows      {}   files {}   bytes {}",
                    text(&t["stats"], "row_count"),
                    text(&t["stats"], "file_count"),
                    text(&t["stats"], "size_bytes")
                );
                let mut rows: Vec<Vec<String>> = t["columns"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| vec![text(c, "name"), text(c, "data_type"), String::new()])
                    .collect();
                for c in t["partitioning"]["columns"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    rows.push(vec![
                        text(c, "name"),
                        text(c, "data_type"),
                        "partition".into(),
                    ]);
                }
                table(&["column", "type", ""], &rows);
            }
        }
        CatalogCommand::Create {
            name,
            location,
            format,
            columns: cols,
            partitions,
            pattern,
        } => {
            let (db, table_name) = split_name(&name);
            let body = match table_name {
                None => {
                    client
                        .post("/api/v1/catalog/databases", &json!({ "name": db }))
                        .await?
                }
                Some(table_name) => {
                    let location = location.unwrap_or_else(|| format!("{db}/{table_name}"));
                    let format = format
                        .context("--format is required for a table (parquet, csv or json)")?;
                    let part_columns = columns(&partitions, "partition")?;
                    let partitioning = match (&pattern, part_columns.is_empty()) {
                        (Some(pattern), _) => {
                            json!({ "style": "pattern", "pattern": pattern, "columns": part_columns })
                        }
                        (None, false) => json!({ "style": "hive", "columns": part_columns }),
                        (None, true) => json!({ "style": "none" }),
                    };
                    let mut spec = Map::new();
                    spec.insert("database".into(), json!(db));
                    spec.insert("name".into(), json!(table_name));
                    spec.insert("location".into(), json!(location));
                    spec.insert("format".into(), json!(format));
                    spec.insert("columns".into(), Value::Array(columns(&cols, "column")?));
                    spec.insert("partitioning".into(), partitioning);
                    client
                        .post("/api/v1/catalog/tables", &Value::Object(spec))
                        .await?
                }
            };
            if args.json {
                print_json(&body)
            } else {
                outln!("created {name}")
            }
        }
        CatalogCommand::Drop { name, cascade } => {
            let (db, table_name) = split_name(&name);
            let body = match table_name {
                Some(t) => {
                    client
                        .delete(&format!(
                            "/api/v1/catalog/tables/{}/{}",
                            segment(&db),
                            segment(&t)
                        ))
                        .await?
                }
                None => {
                    client
                        .delete(&format!(
                            "/api/v1/catalog/databases/{}?cascade={cascade}",
                            segment(&db)
                        ))
                        .await?
                }
            };
            if args.json {
                print_json(&body)
            } else {
                outln!("dropped {name}")
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn crawl(
    args: &ClientArgs,
    prefix: &str,
    database: Option<String>,
    table_name: Option<String>,
) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    let report = client
        .post(
            "/api/v1/crawl",
            &json!({ "prefix": prefix, "database": database, "table": table_name }),
        )
        .await?;
    if args.json {
        print_json(&report);
    } else {
        let rows: Vec<Vec<String>> = report["tables"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                vec![
                    text(t, "name"),
                    text(t, "status"),
                    text(t, "files_read"),
                    text(t, "files_skipped"),
                    t["conflicts"]
                        .as_array()
                        .map(|c| c.len())
                        .unwrap_or(0)
                        .to_string(),
                ]
            })
            .collect();
        table(
            &["table", "status", "files read", "unchanged", "conflicts"],
            &rows,
        );
        for t in report["tables"].as_array().into_iter().flatten() {
            for conflict in t["conflicts"].as_array().into_iter().flatten() {
                eprintln!(
                    "conflict in {}: {}",
                    text(t, "name"),
                    conflict
                        .as_str()
                        .map(String::from)
                        .unwrap_or_else(|| conflict.to_string())
                );
            }
        }
        // Files that belong to no table, and why (the report lists the first ones, counts all).
        let ignored: Vec<&str> = report["ignored"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for entry in &ignored {
            eprintln!("ignored {entry}");
        }
        let count = report["ignored_count"].as_u64().unwrap_or(0);
        if count > ignored.len() as u64 {
            eprintln!(
                "ignored {} more",
                crate::output::count(count - ignored.len() as u64, "file", "files")
            );
        }
        eprintln!("crawled in {} s", seconds_field(&report, "seconds"));
    }
    Ok(ExitCode::SUCCESS)
}

/// Rows the table and JSON formats show when `--max-rows` is not given (the server's default).
const INTERACTIVE_ROWS: usize = 10_000;

pub async fn sql(
    args: &ClientArgs,
    query: &str,
    format: &str,
    max_rows: Option<usize>,
) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    let format = if args.json { "json" } else { format };
    if matches!(format, "csv" | "jsonl" | "arrow") {
        // Streamed: complete unless --max-rows says otherwise.
        let request = json!({ "query": query, "format": format, "max_rows": max_rows });
        let end = crate::output::stdout_result(
            client
                .export("/api/v1/sql", &request, &mut std::io::stdout().lock())
                .await,
        )?;
        if let Some(end) = end.filter(|end| end.truncated) {
            eprintln!(
                "the result was cut at {} {} by --max-rows (0 for every row)",
                end.rows,
                if end.rows == 1 { "row" } else { "rows" }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let result = client
        .post(
            "/api/v1/sql",
            &json!({ "query": query, "max_rows": max_rows.unwrap_or(INTERACTIVE_ROWS) }),
        )
        .await?;
    if format == "json" {
        print_json(&result);
    } else {
        print_table(&result);
    }
    if result["truncated"] == Value::Bool(true) {
        eprintln!(
            "showing {} of {} rows: --max-rows N (0 for all) shows more, --format csv|jsonl|arrow \
             exports every row",
            result["rows"].as_array().map_or(0, Vec::len),
            text(&result, "row_count")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The rows of a JSON answer as a text table, and the count and time on stderr.
fn print_table(result: &Value) {
    print_rows(result);
    eprintln!(
        "{} in {}",
        count(text(result, "row_count"), "row", "rows"),
        result["elapsed_ms"]
            .as_f64()
            .map_or_else(|| "-".into(), millis)
    );
}

/// `rows` (JSON objects) under `columns` (`[{name, …}]`) as a text table.
pub(crate) fn print_rows(result: &Value) {
    let columns: Vec<String> = result["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            c["name"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| c.to_string())
        })
        .collect();
    let cell = |row: &Map<String, Value>, column: &str| match row.get(column) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let body: Vec<Vec<String>> = result["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|row| columns.iter().map(|c| cell(row, c)).collect())
        .collect();
    let headers: Vec<&str> = columns.iter().map(String::as_str).collect();
    if !headers.is_empty() {
        table_with_headers_as_given(&headers, &body);
    }
}

/// A table's profile: one line per column.
fn print_profile(profile: &Value) {
    outln!(
        "{}.{}: {}",
        text(profile, "database"),
        text(profile, "table"),
        count(text(profile, "rows"), "row", "rows")
    );
    let (rows, sampled) = (&profile["rows"], &profile["top_values_rows"]);
    if let (Some(rows), Some(sampled)) = (rows.as_u64(), sampled.as_u64())
        && sampled < rows
    {
        outln!("top values from the first {sampled} rows");
    }
    let value = |v: &Value| match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let rows: Vec<Vec<String>> = profile["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let top: Vec<String> = c["top"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| format!("{} ({})", value(&t["value"]), text(t, "count")))
                .collect();
            vec![
                text(c, "name"),
                text(c, "data_type"),
                text(c, "nulls"),
                text(c, "distinct_approx"),
                value(&c["min"]),
                value(&c["max"]),
                top.join(", "),
            ]
        })
        .collect();
    table(
        &[
            "column",
            "type",
            "nulls",
            "distinct (approx)",
            "min",
            "max",
            "top values",
        ],
        &rows,
    );
}
