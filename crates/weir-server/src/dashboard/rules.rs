//! `GET /ui/rules`: the event buses the caller may see, each with its rules (state, pattern,
//! schedule, targets and what the rule's events did lately: matches, deliveries, failures),
//! then the archives and replays of those buses; `GET /ui/rules/{bus}/{name}`: one rule with its
//! recent failures. Operators with an unnarrowed credential (what EventBridge asks to change a
//! rule) get Enable/Disable buttons, sent as `AWSEvents.EnableRule`/`DisableRule`, on the rules
//! made through the API (a rule of `rules/*.yaml` changes with its file).

use std::fmt::Write;

use axum::extract::Path;
use weir_engine::events::{Events, RuleInfo, RuleStats};

use super::html::{self, Action, action_button, attr, badge, esc, time_ms, url};
use super::{Ctx, Page, PageError, PageResult, Section};

/// Rules listed per bus at most (by name).
const MAX_RULES: usize = 200;
/// Buses, archives and replays listed at most.
const MAX_LISTED: usize = 100;

fn events(ctx: &Ctx) -> Result<&Events, PageError> {
    ctx.state
        .events
        .as_ref()
        .ok_or_else(|| PageError::not_found("the event bus is not running on this server"))
}

pub(crate) async fn page(ctx: Ctx) -> PageResult {
    let mut body = String::new();
    if let Some(events) = &ctx.state.events {
        body.push_str("<div id=\"buses\" data-live-region>");
        body.push_str(&buses(&ctx, events));
        body.push_str("</div>");
    } else {
        body.push_str(&html::empty("The event bus is not running on this server."));
    }
    if ctx.state.queues.is_some() {
        body.push_str(
            "<p>Queues (depth, dead letters, redrive policies): <a href=\"/ui/queues\">the queues page</a>.</p>",
        );
    }
    Ok(Page::new("Event buses and rules", Section::Events)
        .refresh(5)
        .body(body)
        .render(&ctx))
}

fn buses(ctx: &Ctx, events: &Events) -> String {
    let grants = ctx.identity.grants();
    let buses: Vec<_> = events
        .list_buses(None)
        .into_iter()
        .filter(|bus| grants.pipeline(&bus.name))
        .take(MAX_LISTED)
        .collect();
    if buses.is_empty() {
        return html::empty("No event buses this credential may see.");
    }
    let mut html = String::new();
    for bus in &buses {
        let rules = events.list_rules(&bus.name, None);
        let _ = write!(
            html,
            "<section class=\"bus\" data-bus=\"{name_attr}\" aria-labelledby=\"bus-{id}\"><h2 id=\"bus-{id}\">Bus {name}</h2>\
             <p class=\"muted\"><code>{arn}</code>{description}</p>",
            name_attr = attr(&bus.name),
            id = attr(&url(&bus.name)),
            name = esc(&bus.name),
            arn = esc(&bus.arn),
            description = bus
                .description
                .as_deref()
                .map(|d| format!(" — {}", esc(d)))
                .unwrap_or_default(),
        );
        if rules.is_empty() {
            html.push_str(&html::empty("No rules on this bus."));
        } else {
            html.push_str(
                "<div class=\"scroll\"><table class=\"list\"><thead><tr><th scope=\"col\">Rule</th>\
                 <th scope=\"col\">State</th><th scope=\"col\">Pattern or schedule</th><th scope=\"col\">Targets</th>\
                 <th scope=\"col\">Lately</th><th scope=\"col\"><span class=\"sr-only\">Actions</span></th></tr></thead><tbody>",
            );
            for rule in rules.iter().take(MAX_RULES) {
                html.push_str(&rule_row(ctx, events, rule));
            }
            html.push_str("</tbody></table></div>");
            if rules.len() > MAX_RULES {
                let _ = write!(
                    html,
                    "<p class=\"muted\">Showing the first {MAX_RULES} of {} rules by name; <code>GET /api/v1/rules</code> lists them all.</p>",
                    rules.len()
                );
            }
        }
        html.push_str(&archives(events, &bus.arn));
        html.push_str("</section>");
    }
    html
}

fn rule_row(ctx: &Ctx, events: &Events, rule: &RuleInfo) -> String {
    let stats = events.rule_stats(&rule.bus, &rule.name);
    let href = format!("/ui/rules/{}/{}", url(&rule.bus), url(&rule.name));
    format!(
        "<tr data-rule=\"{name_attr}\"><th scope=\"row\"><a href=\"{href}\">{name}</a>{managed}</th><td>{state}</td>\
         <td>{what}</td><td>{targets}</td><td>{lately}</td><td>{actions}</td></tr>",
        name_attr = attr(&rule.name),
        href = attr(&href),
        name = esc(&rule.name),
        managed = rule
            .file
            .as_deref()
            .map(|f| format!("<div class=\"muted\">from <code>{}</code></div>", esc(f)))
            .unwrap_or_default(),
        state = rule_state(rule),
        what = pattern_and_schedule(rule),
        targets = targets(events, rule),
        lately = lately(&stats),
        actions = toggle(ctx, rule),
    )
}

fn rule_state(rule: &RuleInfo) -> String {
    if rule.state == "ENABLED" {
        badge("success", "enabled")
    } else {
        badge("paused", "disabled")
    }
}

/// The rule's pattern (pretty JSON) and its schedule.
fn pattern_and_schedule(rule: &RuleInfo) -> String {
    let mut html = String::new();
    if let Some(schedule) = &rule.schedule_expression {
        let _ = write!(html, "<div>schedule <code>{}</code></div>", esc(schedule));
    }
    if let Some(pattern) = &rule.event_pattern {
        let pretty = serde_json::from_str::<serde_json::Value>(pattern)
            .ok()
            .and_then(|value| serde_json::to_string_pretty(&value).ok())
            .unwrap_or_else(|| pattern.clone());
        let _ = write!(html, "<pre class=\"json pattern\">{}</pre>", esc(&pretty));
    }
    if html.is_empty() {
        html.push('—');
    }
    html
}

fn targets(events: &Events, rule: &RuleInfo) -> String {
    let targets = events
        .list_targets(&rule.bus, &rule.name)
        .unwrap_or_default();
    if targets.is_empty() {
        return "<span class=\"muted\">none</span>".to_string();
    }
    let items: String = targets
        .iter()
        .map(|target| {
            let json = weir_engine::events::target_json(target);
            let id = json.get("Id").and_then(|v| v.as_str()).unwrap_or_default();
            let arn = json.get("Arn").and_then(|v| v.as_str()).unwrap_or_default();
            let dead_letter = json
                .pointer("/DeadLetterConfig/Arn")
                .and_then(|v| v.as_str())
                .map(|dlq| format!(" <span class=\"muted\">dead letters → <code>{}</code></span>", esc(dlq)))
                .unwrap_or_default();
            format!(
                "<li class=\"target\"><span class=\"muted\">{}</span> <code>{}</code>{dead_letter}</li>",
                esc(id),
                esc(arn)
            )
        })
        .collect();
    format!("<ul class=\"targets\">{items}</ul>")
}

/// What the rule's events did since the server started: matches, deliveries and failures.
fn lately(stats: &RuleStats) -> String {
    let last_match = stats
        .last_match_ms
        .map_or_else(|| "never".to_string(), time_ms);
    let mut html = format!(
        "<div data-matched=\"{matched}\">{matched} matched <span class=\"muted\">(last {last_match})</span></div>\
         <div>{delivered} delivered</div>",
        matched = stats.matched,
        delivered = stats.delivered,
    );
    let failures = stats.failed_deliveries + stats.dead_lettered + stats.dropped;
    if failures > 0 {
        let _ = write!(
            html,
            "<div>{}</div>",
            badge(
                "failed",
                &format!(
                    "{} failed, {} dead-lettered, {} dropped",
                    stats.failed_deliveries, stats.dead_lettered, stats.dropped
                )
            )
        );
        if let (Some(error), Some(at)) = (&stats.last_error, stats.last_failure_ms) {
            let _ = write!(
                html,
                "<div class=\"error\">{} <span class=\"muted\">{}</span></div>",
                esc(error),
                time_ms(at)
            );
        }
    }
    html
}

/// Enable or Disable, for an operator whose credential may shape rules (an unnarrowed one,
/// as EventBridge asks).
fn toggle(ctx: &Ctx, rule: &RuleInfo) -> String {
    if !ctx.identity.grants().is_everything() {
        return String::new();
    }
    // A rule of `rules/*.yaml` changes with its file; EventBridge's API refuses to change it.
    if rule.managed_by.is_some() {
        return if ctx.can_operate() {
            "<span class=\"muted\">change its file to enable or disable it</span>".to_string()
        } else {
            String::new()
        };
    }
    let body = serde_json::json!({ "Name": rule.name, "EventBusName": rule.bus }).to_string();
    let enabled = rule.state == "ENABLED";
    let question = format!(
        "{} rule {} on bus {}?{}",
        if enabled { "Disable" } else { "Enable" },
        rule.name,
        rule.bus,
        if enabled {
            " Events stop matching it until it is enabled again."
        } else {
            ""
        }
    );
    action_button(
        ctx,
        &Action {
            label: if enabled { "Disable" } else { "Enable" },
            method: "POST",
            url: "/",
            body: Some(&body),
            confirm: Some(&question),
            aws_target: Some(if enabled {
                "AWSEvents.DisableRule"
            } else {
                "AWSEvents.EnableRule"
            }),
            class: if enabled { "danger" } else { "" },
            ..Action::default()
        },
    )
}

/// The archives of a bus and the replays from them.
fn archives(events: &Events, bus_arn: &str) -> String {
    let archives = events.list_archives(None, Some(bus_arn), None);
    if archives.is_empty() {
        return String::new();
    }
    let mut html = String::from(
        "<h3>Archives</h3><div class=\"scroll\"><table class=\"list\"><thead><tr><th scope=\"col\">Archive</th>\
         <th scope=\"col\">State</th><th scope=\"col\" class=\"num\">Events</th><th scope=\"col\" class=\"num\">Size</th>\
         <th scope=\"col\">Retention</th><th scope=\"col\">Replays</th></tr></thead><tbody>",
    );
    for archive in archives.iter().take(MAX_LISTED) {
        let replays = events.list_replays(None, None, Some(&archive.arn));
        let replays = if replays.is_empty() {
            "—".to_string()
        } else {
            replays
                .iter()
                .take(MAX_LISTED)
                .map(|replay| {
                    let state = match replay.state.as_str() {
                        "COMPLETED" => "success",
                        "FAILED" => "failed",
                        "CANCELLED" | "CANCELLING" => "cancelled",
                        _ => "running",
                    };
                    format!(
                        "<div>{} {} <span class=\"muted\">{}</span></div>",
                        esc(&replay.name),
                        badge(state, &replay.state.to_lowercase()),
                        time_ms(replay.started_ms)
                    )
                })
                .collect()
        };
        let _ = write!(
            html,
            "<tr><th scope=\"row\">{name}</th><td>{state}</td><td class=\"num\">{events}</td>\
             <td class=\"num\">{size}</td><td>{retention}</td><td>{replays}</td></tr>",
            name = esc(&archive.name),
            state = badge(
                if archive.state == "ENABLED" {
                    "success"
                } else {
                    "paused"
                },
                &archive.state.to_lowercase()
            ),
            events = archive.event_count,
            size = super::streams::size(archive.size_bytes as f64),
            retention = if archive.retention_days == 0 {
                "for ever".to_string()
            } else {
                format!("{} days", archive.retention_days)
            },
        );
    }
    html.push_str("</tbody></table></div>");
    html
}

/// `GET /ui/rules/{bus}/{name}`: one rule, with its latest failed deliveries.
pub(crate) async fn rule_page(ctx: Ctx, Path((bus, name)): Path<(String, String)>) -> PageResult {
    let events = events(&ctx)?;
    let missing = || PageError::not_found(format!("no rule `{name}` on bus `{bus}`"));
    if !ctx.identity.grants().pipeline(&bus) {
        return Err(missing());
    }
    let rule = events.describe_rule(&bus, &name).map_err(|_| missing())?;
    let stats = events.rule_stats(&bus, &name);
    let mut body = format!(
        "<div id=\"rule\" data-live-region><dl class=\"facts\"><dt>State</dt><dd>{state} {toggle}</dd>\
         <dt>ARN</dt><dd><code>{arn}</code></dd><dt>Bus</dt><dd>{bus}</dd><dt>Description</dt><dd>{description}</dd>\
         <dt>Pattern or schedule</dt><dd>{what}</dd><dt>Targets</dt><dd>{targets}</dd><dt>Lately</dt><dd>{lately}</dd></dl>",
        state = rule_state(&rule),
        toggle = toggle(&ctx, &rule),
        arn = esc(&rule.arn),
        bus = esc(&rule.bus),
        description = esc(rule.description.as_deref().unwrap_or("—")),
        what = pattern_and_schedule(&rule),
        targets = targets(events, &rule),
        lately = lately(&stats),
    );
    body.push_str("<h2 id=\"failures-heading\">Latest failed deliveries</h2>");
    if stats.recent_failures.is_empty() {
        body.push_str(&html::empty(
            "No delivery of this rule failed since the server started.",
        ));
    } else {
        body.push_str(
            "<div class=\"scroll\"><table class=\"list\" aria-labelledby=\"failures-heading\"><thead><tr>\
             <th scope=\"col\">When</th><th scope=\"col\">Code</th><th scope=\"col\">Message</th></tr></thead><tbody>",
        );
        for failure in &stats.recent_failures {
            let _ = write!(
                body,
                "<tr><td>{}</td><td><code>{}</code></td><td class=\"error\">{}</td></tr>",
                time_ms(failure.at_ms),
                esc(&failure.code),
                esc(&failure.message)
            );
        }
        body.push_str("</tbody></table></div>");
    }
    body.push_str("</div>");
    Ok(Page::new(name.clone(), Section::Events)
        .crumb("Rules", Some("/ui/rules"))
        .crumb(&bus, None)
        .refresh(5)
        .body(body)
        .render(&ctx))
}
