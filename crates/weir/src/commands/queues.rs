//! `weir queues …`: queues through the SQS protocol (`AmazonSQS.*` on the server), so the CLI
//! sees exactly what an AWS client sees.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::bail;
use serde_json::{Value, json};

use crate::args::{ClientArgs, QueuesCommand};
use crate::client::Client;
use crate::output::{print_json, table, text};

/// SendMessageBatch's quota: messages per request.
const SEND_BATCH: usize = 10;

pub async fn run(args: &ClientArgs, command: QueuesCommand) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    match command {
        QueuesCommand::Create { name, attributes } => {
            let mut map = serde_json::Map::new();
            if name.ends_with(".fifo") {
                map.insert("FifoQueue".into(), json!("true"));
            }
            for attribute in attributes {
                let Some((key, value)) = attribute.split_once('=') else {
                    bail!("--attribute {attribute}: give it as NAME=VALUE");
                };
                map.insert(key.to_string(), json!(value));
            }
            let answer = client
                .aws(
                    "AmazonSQS.CreateQueue",
                    &json!({ "QueueName": name, "Attributes": map }),
                )
                .await?;
            if args.json {
                print_json(&answer);
            } else {
                outln!("{}", text(&answer, "QueueUrl"));
            }
        }
        QueuesCommand::List => {
            let urls = queue_urls(&client).await?;
            let mut queues = Vec::new();
            for url in urls {
                let attributes = attributes(&client, &url).await?;
                queues.push(json!({ "QueueUrl": url, "Attributes": attributes }));
            }
            if args.json {
                print_json(&json!({ "queues": queues }));
            } else {
                let rows: Vec<Vec<String>> = queues
                    .iter()
                    .map(|q| {
                        let a = &q["Attributes"];
                        let url = text(q, "QueueUrl");
                        let name = url.rsplit('/').next().unwrap_or_default().to_string();
                        let kind = if a["FifoQueue"] == "true" {
                            "fifo"
                        } else {
                            "standard"
                        };
                        vec![
                            name,
                            kind.to_string(),
                            text(a, "ApproximateNumberOfMessages"),
                            text(a, "ApproximateNumberOfMessagesNotVisible"),
                            text(a, "ApproximateNumberOfMessagesDelayed"),
                        ]
                    })
                    .collect();
                table(&["name", "kind", "visible", "in flight", "delayed"], &rows);
            }
        }
        QueuesCommand::Describe { name } => {
            let url = queue_url(&client, &name).await?;
            let attributes = attributes(&client, &url).await?;
            let body = json!({ "QueueUrl": url, "Attributes": attributes });
            if args.json {
                print_json(&body);
            } else {
                outln!("url  {url}");
                let mut rows: Vec<Vec<String>> = attributes
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| vec![k.clone(), v.as_str().unwrap_or_default().to_string()])
                    .collect();
                rows.sort();
                table(&["attribute", "value"], &rows);
            }
        }
        QueuesCommand::Send {
            name,
            group,
            bodies,
        } => {
            let bodies: Vec<String> = if bodies.is_empty() {
                std::io::stdin()
                    .lock()
                    .lines()
                    .collect::<Result<Vec<_>, _>>()?
            } else {
                bodies
            };
            if bodies.is_empty() {
                bail!("nothing to send: give messages as arguments or as lines on standard input");
            }
            let url = queue_url(&client, &name).await?;
            let fifo = name.ends_with(".fifo");
            let mut sent = Vec::new();
            for (chunk_index, chunk) in bodies.chunks(SEND_BATCH).enumerate() {
                let entries: Vec<Value> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, body)| {
                        let mut entry =
                            json!({ "Id": format!("m{}", chunk_index * SEND_BATCH + i), "MessageBody": body });
                        if fifo {
                            entry["MessageGroupId"] = json!(group.as_deref().unwrap_or("default"));
                        }
                        entry
                    })
                    .collect();
                let answer = client
                    .aws(
                        "AmazonSQS.SendMessageBatch",
                        &json!({ "QueueUrl": url, "Entries": entries }),
                    )
                    .await?;
                if let Some(failure) = answer["Failed"].as_array().and_then(|f| f.first()) {
                    bail!("{}: {}", text(failure, "Code"), text(failure, "Message"));
                }
                sent.extend(answer["Successful"].as_array().cloned().unwrap_or_default());
            }
            if args.json {
                print_json(&json!({ "sent": sent }));
            } else {
                for message in &sent {
                    outln!("{}", text(message, "MessageId"));
                }
            }
        }
        QueuesCommand::Receive {
            name,
            max,
            wait,
            delete,
        } => {
            let url = queue_url(&client, &name).await?;
            let answer = client
                .aws(
                    "AmazonSQS.ReceiveMessage",
                    &json!({
                        "QueueUrl": url,
                        "MaxNumberOfMessages": max,
                        "WaitTimeSeconds": wait,
                        "MessageSystemAttributeNames": ["All"],
                        "MessageAttributeNames": ["All"],
                    }),
                )
                .await?;
            let messages = answer["Messages"].as_array().cloned().unwrap_or_default();
            if args.json {
                print_json(&json!({ "messages": messages }));
            } else {
                for message in &messages {
                    outln!("{}", text(message, "Body"));
                }
            }
            if delete && !messages.is_empty() {
                let entries: Vec<Value> = messages
                    .iter()
                    .enumerate()
                    .map(|(i, m)| json!({ "Id": format!("m{i}"), "ReceiptHandle": m["ReceiptHandle"] }))
                    .collect();
                client
                    .aws(
                        "AmazonSQS.DeleteMessageBatch",
                        &json!({ "QueueUrl": url, "Entries": entries }),
                    )
                    .await?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn queue_url(client: &Client, name: &str) -> anyhow::Result<String> {
    let answer = client
        .aws("AmazonSQS.GetQueueUrl", &json!({ "QueueName": name }))
        .await?;
    Ok(text(&answer, "QueueUrl"))
}

async fn queue_urls(client: &Client) -> anyhow::Result<Vec<String>> {
    let mut urls = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = json!({ "MaxResults": 1000 });
        if let Some(token) = &token {
            request["NextToken"] = json!(token);
        }
        let page = client.aws("AmazonSQS.ListQueues", &request).await?;
        urls.extend(
            page["QueueUrls"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|url| url.as_str().map(str::to_string)),
        );
        match page["NextToken"].as_str() {
            Some(next) => token = Some(next.to_string()),
            None => return Ok(urls),
        }
    }
}

async fn attributes(client: &Client, url: &str) -> anyhow::Result<Value> {
    let answer = client
        .aws(
            "AmazonSQS.GetQueueAttributes",
            &json!({ "QueueUrl": url, "AttributeNames": ["All"] }),
        )
        .await?;
    Ok(answer["Attributes"].clone())
}
