//! `weir streams …`: client commands over `/api/v1/streams`.
//!
//! `tail` follows every open shard at once, each with a long-polling read (the server waits on
//! the shard for new records, so nothing polls in a loop), and moves on to a shard's children
//! once it has read the shard to its end.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::bail;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::args::{ClientArgs, StreamsCommand};
use crate::client::{Client, segment};
use crate::output::{print_json, table, text};

/// How long one read of `tail` waits for new records before it asks again.
const TAIL_WAIT_MS: u64 = 10_000;
/// PutRecords' quota: records per request.
const PUT_BATCH: usize = 500;

pub async fn run(args: &ClientArgs, command: StreamsCommand) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    match command {
        StreamsCommand::Create {
            name,
            shards,
            on_demand,
        } => {
            let mut body = json!({ "name": name });
            if on_demand {
                body["mode"] = json!("ON_DEMAND");
            } else if let Some(shards) = shards {
                body["shards"] = json!(shards);
            }
            let created = client.post("/api/v1/streams", &body).await?;
            if args.json {
                print_json(&created);
            } else {
                outln!(
                    "created {} ({} shards, {})",
                    text(&created, "name"),
                    text(&created, "open_shard_count"),
                    text(&created, "mode")
                );
            }
        }
        StreamsCommand::List => {
            let body = client.get("/api/v1/streams").await?;
            if args.json {
                print_json(&body);
            } else {
                let rows: Vec<Vec<String>> = items(&body, "streams")
                    .map(|s| vec![text(s, "name"), text(s, "status"), text(s, "mode")])
                    .collect();
                table(&["name", "status", "mode"], &rows);
            }
        }
        StreamsCommand::Describe { name } => {
            let mut body = client.get(&stream_path(&name)).await?;
            let consumers = client
                .get(&format!("{}/consumers", stream_path(&name)))
                .await?;
            body["consumers"] = consumers["consumers"].clone();
            if args.json {
                print_json(&body);
            } else {
                print_description(&body);
            }
        }
        StreamsCommand::Put {
            name,
            partition_key,
            data,
        } => put(&client, args.json, &name, partition_key.as_deref(), data).await?,
        StreamsCommand::Read {
            name,
            shard,
            from,
            limit,
        } => read(&client, args.json, &name, shard, &from, limit).await?,
        StreamsCommand::Tail { name, from, count } => {
            tail(&client, args.json, &name, &from, count).await?
        }
        StreamsCommand::Delete { name } => {
            client.delete(&stream_path(&name)).await?;
            if !args.json {
                outln!("deleted {name}");
            } else {
                print_json(&json!({ "name": name, "deleted": true }));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn stream_path(name: &str) -> String {
    format!("/api/v1/streams/{}", segment(name))
}

fn items<'a>(body: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    body[field].as_array().into_iter().flatten()
}

fn print_description(body: &Value) {
    outln!("name       {}", text(body, "name"));
    outln!("arn        {}", text(body, "arn"));
    outln!("status     {}", text(body, "status"));
    outln!("mode       {}", text(body, "mode"));
    outln!("retention  {}h", text(body, "retention_hours"));
    outln!();
    let rows: Vec<Vec<String>> = items(body, "shards")
        .map(|s| {
            let range = &s["hash_key_range"];
            vec![
                text(s, "shard_id"),
                if s["open"].as_bool() == Some(true) {
                    "open".into()
                } else {
                    "closed".into()
                },
                text(s, "parent_shard_id"),
                format!("{}..{}", text(range, "starting"), text(range, "ending")),
            ]
        })
        .collect();
    table(&["shard", "state", "parent", "hash keys"], &rows);
    print_consumers(body);
}

/// The consumer groups reading the stream, a row per shard each holds: how far behind it is.
fn print_consumers(body: &Value) {
    let rows: Vec<Vec<String>> = items(body, "consumers")
        .flat_map(|group| {
            let reader = match text(group, "description") {
                description if description.is_empty() => text(group, "group"),
                description => description,
            };
            items(group, "shards").map(move |lag| {
                vec![
                    reader.clone(),
                    text(lag, "shard_id"),
                    text(lag, "records_behind"),
                    format!("{}ms", text(lag, "millis_behind")),
                    text(lag, "checkpoint"),
                ]
            })
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    outln!();
    table(
        &[
            "consumer",
            "shard",
            "records behind",
            "behind",
            "checkpoint",
        ],
        &rows,
    );
}

async fn put(
    client: &Client,
    json_out: bool,
    name: &str,
    partition_key: Option<&str>,
    data: Vec<String>,
) -> anyhow::Result<()> {
    let data: Vec<String> = if data.is_empty() {
        std::io::stdin()
            .lock()
            .lines()
            .collect::<Result<Vec<_>, _>>()?
    } else {
        data
    };
    if data.is_empty() {
        bail!("nothing to put: give records as arguments or as lines on standard input");
    }
    // A key per record unless one is given: records spread over the shards, as a producer
    // without a natural key does with random keys (here: their position, so runs repeat).
    let mut results = Vec::new();
    for (chunk_index, chunk) in data.chunks(PUT_BATCH).enumerate() {
        let records: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, data)| {
                let key = partition_key
                    .map(str::to_string)
                    .unwrap_or_else(|| (chunk_index * PUT_BATCH + i).to_string());
                json!({ "partition_key": key, "data": data })
            })
            .collect();
        let answer = client
            .post(
                &format!("{}/records", stream_path(name)),
                &json!({ "records": records }),
            )
            .await?;
        results.extend(items(&answer, "records").cloned());
    }
    let failed = results
        .iter()
        .filter(|r| r.get("error_code").is_some())
        .count();
    if json_out {
        print_json(&json!({ "records": results, "failed": failed }));
    } else {
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|r| match r.get("error_code") {
                Some(_) => vec![text(r, "error_code"), text(r, "error_message")],
                None => vec![text(r, "shard_id"), text(r, "sequence_number")],
            })
            .collect();
        table(&["shard", "sequence number"], &rows);
    }
    if failed > 0 {
        bail!("{failed} of {} records were not put", results.len());
    }
    Ok(())
}

/// The shards to read: the one named, or every shard the stream has.
async fn shards_of(
    client: &Client,
    name: &str,
    only: Option<String>,
) -> anyhow::Result<Vec<Value>> {
    let description = client.get(&stream_path(name)).await?;
    let shards: Vec<Value> = items(&description, "shards").cloned().collect();
    Ok(match only {
        None => shards,
        Some(wanted) => {
            let id = if wanted.starts_with("shardId-") {
                wanted.clone()
            } else {
                format!("shardId-{:0>12}", wanted)
            };
            let found: Vec<Value> = shards
                .into_iter()
                .filter(|s| s["shard_id"].as_str() == Some(&id))
                .collect();
            if found.is_empty() {
                bail!("stream {name} has no shard {wanted}");
            }
            found
        }
    })
}

fn read_path(name: &str, shard: &str, from: &str, limit: usize, wait_ms: u64) -> String {
    format!(
        "{}/shards/{}/records?from={}&limit={limit}&wait_ms={wait_ms}",
        stream_path(name),
        segment(shard),
        segment(from)
    )
}

fn print_record(json_out: bool, shard: &str, record: &Value) {
    if json_out {
        let mut line = record.clone();
        line["shard_id"] = json!(shard);
        outln!("{line}");
    } else {
        let data = record
            .get("data")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("base64:{}", text(record, "data_base64")));
        outln!(
            "{shard}  {}  {}  {data}",
            text(record, "sequence_number"),
            text(record, "partition_key")
        );
    }
}

async fn read(
    client: &Client,
    json_out: bool,
    name: &str,
    shard: Option<String>,
    from: &str,
    limit: usize,
) -> anyhow::Result<()> {
    for shard in shards_of(client, name, shard).await? {
        let id = text(&shard, "shard_id");
        let batch = client.get(&read_path(name, &id, from, limit, 0)).await?;
        for record in items(&batch, "records") {
            print_record(json_out, &id, record);
        }
    }
    Ok(())
}

/// Follows every shard that is open (or, from `trim_horizon`, every shard): one reader per
/// shard, each a loop of long-polling reads, all feeding one printer; a shard read to its end
/// starts readers for its children, once each.
async fn tail(
    client: &Client,
    json_out: bool,
    name: &str,
    from: &str,
    count: Option<usize>,
) -> anyhow::Result<()> {
    let from_start = from.eq_ignore_ascii_case("trim_horizon");
    let shards = shards_of(client, name, None).await?;
    let client = Arc::new(client.clone());
    let (found, mut incoming) = mpsc::channel::<anyhow::Result<Found>>(16);
    let mut known: BTreeSet<String> = BTreeSet::new();
    for shard in shards
        .iter()
        .filter(|s| from_start || s["open"].as_bool() == Some(true))
    {
        let id = text(shard, "shard_id");
        known.insert(id.clone());
        follow(client.clone(), name, id, from.to_string(), found.clone());
    }
    let mut printed = 0usize;
    while let Some(next) = incoming.recv().await {
        match next? {
            Found::Record(shard, record) => {
                print_record(json_out, &shard, &record);
                printed += 1;
                if count.is_some_and(|count| printed >= count) {
                    return Ok(());
                }
            }
            Found::Children(children) => {
                for child in children {
                    if known.insert(child.clone()) {
                        follow(
                            client.clone(),
                            name,
                            child,
                            "trim_horizon".into(),
                            found.clone(),
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// What a shard's reader hands the printer.
enum Found {
    Record(String, Value),
    /// The shard was read to its end; these replaced it.
    Children(Vec<String>),
}

/// Reads one shard from `position` until its end, waiting on the server for new records.
fn follow(
    client: Arc<Client>,
    name: &str,
    shard: String,
    mut position: String,
    found: mpsc::Sender<anyhow::Result<Found>>,
) {
    let name = name.to_string();
    tokio::spawn(async move {
        loop {
            let path = read_path(&name, &shard, &position, 1000, TAIL_WAIT_MS);
            let batch = match client.get(&path).await {
                Ok(batch) => batch,
                Err(error) => {
                    let _ = found.send(Err(error)).await;
                    return;
                }
            };
            for record in items(&batch, "records") {
                if found
                    .send(Ok(Found::Record(shard.clone(), record.clone())))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            if batch["at_shard_end"].as_bool() == Some(true) {
                let children = items(&batch, "child_shards")
                    .map(|child| text(child, "shard_id"))
                    .collect();
                let _ = found.send(Ok(Found::Children(children))).await;
                return;
            }
            position = format!("offset:{}", text(&batch, "next_offset"));
        }
    });
}
