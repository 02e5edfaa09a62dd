//! `weir lake …`, `weir catalog …`, `weir crawl`, `weir sql`: client commands over the REST API.

use std::io::Write;
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
    let client = Client::new(&args.server)?;
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
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let body = client
                .put_bytes(&format!("/api/v1/lake/objects/{}", key_path(&key)), bytes)
                .await?;
            if args.json {
                print_json(&body)
            } else {
                outln!("{}  {} bytes", text(&body, "key"), text(&body, "size"))
            }
        }
        LakeCommand::Get { key, file } => {
            let bytes = client
                .get_bytes(&format!("/api/v1/lake/objects/{}", key_path(&key)))
                .await?;
            match file {
                Some(path) => std::fs::write(&path, &bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => {
                    if let Err(e) = std::io::stdout().lock().write_all(&bytes) {
                        crate::output::exit_on_write_error(&e);
                    }
                }
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
    let client = Client::new(&args.server)?;
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
    let client = Client::new(&args.server)?;
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

pub async fn sql(
    args: &ClientArgs,
    query: &str,
    format: &str,
    max_rows: usize,
) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.server)?;
    let result = client
        .post(
            "/api/v1/sql",
            &json!({ "query": query, "max_rows": max_rows }),
        )
        .await?;
    let format = if args.json { "json" } else { format };
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
    let rows: Vec<&Map<String, Value>> = result["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .collect();
    let cell = |row: &Map<String, Value>, column: &str| match row.get(column) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    match format {
        "json" => print_json(&result),
        "csv" => {
            outln!(
                "{}",
                columns
                    .iter()
                    .map(|c| csv_field(c))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            for row in &rows {
                outln!(
                    "{}",
                    columns
                        .iter()
                        .map(|c| csv_field(&cell(row, c)))
                        .collect::<Vec<_>>()
                        .join(",")
                );
            }
        }
        _ => {
            let headers: Vec<&str> = columns.iter().map(String::as_str).collect();
            let body: Vec<Vec<String>> = rows
                .iter()
                .map(|row| columns.iter().map(|c| cell(row, c)).collect())
                .collect();
            if !headers.is_empty() {
                table_with_headers_as_given(&headers, &body);
            }
            eprintln!(
                "{} in {}",
                count(text(&result, "row_count"), "row", "rows"),
                result["elapsed_ms"]
                    .as_f64()
                    .map_or_else(|| "-".into(), millis)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}
