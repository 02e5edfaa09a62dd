//! `GET /ui/queues`: the queues the caller may see, with their type, depth (visible, in flight,
//! delayed), the age of the oldest message, and dead letters: each queue's dead-letter queue
//! with its depth, and dead-letter queues holding messages marked. `GET /ui/queues/{name}`: one
//! queue's attributes and counts. Messages are never shown: receiving one (the only way to read
//! it) would change its visibility. Operators may purge (`AmazonSQS.PurgeQueue`).

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::extract::Path;
use weir_engine::queues::{QueueDepth, Queues};

use super::html::{self, Action, action_button, attr, badge, esc, url};
use super::{Ctx, Page, PageError, PageResult, Section};

/// Queues listed at most (by name).
const MAX_LISTED: usize = 1000;

/// What the pages show of one queue.
struct QueueView {
    name: String,
    url: String,
    fifo: bool,
    depth: QueueDepth,
    oldest_ms: Option<i64>,
    attributes: BTreeMap<String, String>,
    /// The dead-letter queue its redrive policy names, with the most receives before a message
    /// moves there.
    redrive: Option<(String, u64)>,
    /// Queues the caller may see whose redrive policy names this one (it is their dead-letter
    /// queue), as ListDeadLetterSourceQueues lists them.
    sources: Vec<String>,
}

fn queues(ctx: &Ctx) -> Result<&Queues, PageError> {
    ctx.state
        .queues
        .as_ref()
        .ok_or_else(|| PageError::not_found("queues are not running on this server"))
}

fn view(queues: &Queues, name: &str) -> Option<QueueView> {
    let attributes = queues.attributes(name, &["All".to_string()]).ok()?;
    let depth = queues.depth(name).ok()?;
    let redrive = attributes.get("RedrivePolicy").and_then(|text| {
        let policy: serde_json::Value = serde_json::from_str(text).ok()?;
        let target = policy.get("deadLetterTargetArn")?.as_str()?;
        let name = target.rsplit(':').next()?.to_string();
        let most = match policy.get("maxReceiveCount")? {
            serde_json::Value::Number(n) => n.as_u64()?,
            serde_json::Value::String(s) => s.parse().ok()?,
            _ => return None,
        };
        Some((name, most))
    });
    Some(QueueView {
        name: name.to_string(),
        url: queues.get_queue_url(name).unwrap_or_default(),
        fifo: attributes.get("FifoQueue").is_some_and(|v| v == "true"),
        depth,
        oldest_ms: queues.oldest_message_ms(name).ok().flatten(),
        attributes,
        redrive,
        sources: Vec::new(),
    })
}

pub(crate) async fn page(ctx: Ctx) -> PageResult {
    let queues = queues(&ctx)?;
    let grants = ctx.identity.grants();
    let names: Vec<String> = queues
        .queue_names()
        .into_iter()
        .filter(|name| grants.pipeline(name))
        .collect();
    let total = names.len();
    let mut body = String::from("<div id=\"queues\" data-live-region>");
    if names.is_empty() {
        body.push_str(&html::empty(
            "No queues this credential may see: create one with SQS' CreateQueue.",
        ));
    } else {
        body.push_str(
            "<div class=\"scroll\"><table class=\"list\"><caption class=\"sr-only\">Queues</caption><thead><tr>\
             <th scope=\"col\">Queue</th><th scope=\"col\">Type</th><th scope=\"col\" class=\"num\">Visible</th>\
             <th scope=\"col\" class=\"num\">In flight</th><th scope=\"col\" class=\"num\">Delayed</th>\
             <th scope=\"col\">Oldest message</th><th scope=\"col\">Dead letters</th></tr></thead><tbody>",
        );
        let now_ms = weir_engine::time::now_us() / 1000;
        let mut views: Vec<QueueView> = names
            .iter()
            .take(MAX_LISTED)
            .filter_map(|name| view(queues, name))
            .collect();
        // Which listed queues are dead-letter queues, and of which: from the redrive policies
        // already read (no look at every queue for each one).
        let mut sources: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for queue in &views {
            if let Some((dlq, _)) = &queue.redrive {
                sources
                    .entry(dlq.clone())
                    .or_default()
                    .push(queue.name.clone());
            }
        }
        for queue in &mut views {
            queue.sources = sources.remove(&queue.name).unwrap_or_default();
        }
        for queue in &views {
            let dead_letters = dead_letters(&ctx, queues, queue);
            let holds_dead_letters = !queue.sources.is_empty() && queue.depth.visible > 0;
            let _ = write!(
                body,
                "<tr data-queue=\"{name_attr}\"{class}><th scope=\"row\"><a href=\"/ui/queues/{href}\">{name}</a></th>\
                 <td>{kind}</td><td class=\"num\" data-visible=\"{visible}\">{visible}</td>\
                 <td class=\"num\">{in_flight}</td><td class=\"num\">{delayed}</td><td>{oldest}</td>\
                 <td>{dead_letters}</td></tr>",
                name_attr = attr(&queue.name),
                class = if holds_dead_letters {
                    " class=\"dead-letters\""
                } else {
                    ""
                },
                href = attr(&url(&queue.name)),
                name = esc(&queue.name),
                kind = if queue.fifo { "FIFO" } else { "standard" },
                visible = queue.depth.visible,
                in_flight = queue.depth.in_flight,
                delayed = queue.depth.delayed,
                oldest = oldest(queue.oldest_ms, now_ms),
            );
        }
        body.push_str("</tbody></table></div>");
        if total > MAX_LISTED {
            let _ = write!(
                body,
                "<p class=\"muted\">Showing the first {MAX_LISTED} of {total} queues by name.</p>"
            );
        }
    }
    body.push_str("</div>");
    Ok(Page::new("Queues", Section::Events)
        .crumb("Rules & queues", Some("/ui/rules"))
        .refresh(5)
        .body(body)
        .render(&ctx))
}

/// How old the oldest message is.
fn oldest(oldest_ms: Option<i64>, now_ms: i64) -> String {
    match oldest_ms {
        Some(ms) => format!(
            "<span title=\"sent {}\">{}</span>",
            attr(&weir_engine::time::format_us(ms.saturating_mul(1000))),
            html::duration_us((now_ms - ms).saturating_mul(1000))
        ),
        None => "<span class=\"muted\">empty</span>".to_string(),
    }
}

/// Where the queue's dead letters go (with that queue's depth, when the caller may see it), or
/// that it is a dead-letter queue itself, marked when it holds messages.
fn dead_letters(ctx: &Ctx, queues: &Queues, queue: &QueueView) -> String {
    let mut html = String::new();
    if let Some((dlq, most)) = &queue.redrive {
        let depth = if ctx.identity.grants().pipeline(dlq) {
            queues.depth(dlq).ok()
        } else {
            None
        };
        let link = if depth.is_some() {
            format!(
                "<a href=\"/ui/queues/{}\">{}</a>",
                attr(&url(dlq)),
                esc(dlq)
            )
        } else {
            esc(dlq)
        };
        let held = match depth {
            Some(depth) if depth.visible + depth.in_flight > 0 => format!(
                " {}",
                badge(
                    "failed",
                    &format!("{} dead letters", depth.visible + depth.in_flight)
                )
            ),
            Some(_) => " <span class=\"muted\">(empty)</span>".to_string(),
            None => String::new(),
        };
        let _ = write!(
            html,
            "<div>→ {link}{held} <span class=\"muted\">after {most} receive{}</span></div>",
            if *most == 1 { "" } else { "s" }
        );
    }
    if !queue.sources.is_empty() {
        let marker = if queue.depth.visible + queue.depth.in_flight > 0 {
            badge(
                "failed",
                &format!(
                    "holds {} dead letters",
                    queue.depth.visible + queue.depth.in_flight
                ),
            )
        } else {
            badge("success", "dead-letter queue, empty")
        };
        let _ = write!(
            html,
            "<div>{marker} <span class=\"muted\">of {}</span></div>",
            esc(&queue.sources.join(", "))
        );
    }
    if html.is_empty() {
        html.push_str("<span class=\"muted\">—</span>");
    }
    html
}

/// `GET /ui/queues/{name}`: one queue's attributes and counts (no messages), and Purge.
pub(crate) async fn queue_page(ctx: Ctx, Path(name): Path<String>) -> PageResult {
    let queues = queues(&ctx)?;
    let missing = || PageError::not_found(format!("no queue `{name}`"));
    // SQS grants queues by name; one outside the grants is not found.
    if !ctx.identity.grants().pipeline(&name) {
        return Err(missing());
    }
    let mut queue = view(queues, &name).ok_or_else(missing)?;
    let grants = ctx.identity.grants();
    queue.sources = queues
        .list_dead_letter_source_queues(&name, Some(1000), None)
        .map(|(urls, _)| {
            urls.iter()
                .filter_map(|u| u.rsplit('/').next())
                .filter(|source| grants.pipeline(source))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let now_ms = weir_engine::time::now_us() / 1000;
    let purge_body = serde_json::json!({ "QueueUrl": queue.url }).to_string();
    let question = format!(
        "Purge queue {}? Every message in it is deleted, and SQS allows one purge a minute.",
        queue.name
    );
    let purge = action_button(
        &ctx,
        &Action {
            label: "Purge",
            method: "POST",
            url: "/",
            body: Some(&purge_body),
            confirm: Some(&question),
            aws_target: Some("AmazonSQS.PurgeQueue"),
            class: "danger",
            ..Action::default()
        },
    );
    let mut body = format!(
        "<div id=\"queue\" data-live-region><dl class=\"facts\"><dt>URL</dt><dd><code>{url}</code></dd>\
         <dt>Type</dt><dd>{kind}</dd><dt>Visible</dt><dd data-visible=\"{visible}\">{visible}</dd>\
         <dt>In flight</dt><dd>{in_flight}</dd><dt>Delayed</dt><dd>{delayed}</dd>\
         <dt>Oldest message</dt><dd>{oldest}</dd><dt>Dead letters</dt><dd>{dead_letters}</dd></dl>\
         <p class=\"muted\">Messages are not shown: reading one means receiving it, which hides it from the queue's consumers.</p>\
         <div class=\"row\">{purge}</div>",
        url = esc(&queue.url),
        kind = if queue.fifo { "FIFO" } else { "standard" },
        visible = queue.depth.visible,
        in_flight = queue.depth.in_flight,
        delayed = queue.depth.delayed,
        oldest = oldest(queue.oldest_ms, now_ms),
        dead_letters = dead_letters(&ctx, queues, &queue),
    );
    body.push_str("<h2 id=\"attributes-heading\">Attributes</h2><div class=\"scroll\"><table class=\"list\" aria-labelledby=\"attributes-heading\"><tbody>");
    for (key, value) in &queue.attributes {
        let shown = if key == "RedrivePolicy" || key == "RedriveAllowPolicy" || key == "Policy" {
            serde_json::from_str::<serde_json::Value>(value)
                .map(|json| html::json_block(&json))
                .unwrap_or_else(|_| format!("<code>{}</code>", esc(value)))
        } else {
            format!("<code>{}</code>", esc(value))
        };
        let _ = write!(
            body,
            "<tr><th scope=\"row\">{}</th><td>{shown}</td></tr>",
            esc(key)
        );
    }
    body.push_str("</tbody></table></div></div>");
    Ok(Page::new(name.clone(), Section::Events)
        .crumb("Rules & queues", Some("/ui/rules"))
        .crumb("Queues", Some("/ui/queues"))
        .refresh(5)
        .body(body)
        .render(&ctx))
}
