//! `GET /ui/streams`: the streams the caller may see (never weir's own `__…` ones) with their
//! status, shards, retention, mode, incoming records and bytes per second over the last minute
//! and their worst consumer lag; then the deliveries, with status and the last object written.
//! Also the small formatting helpers the stream, delivery and queue pages share.

use std::fmt::Write;
use std::time::Duration;

use weir_model::delivery::{DeliveryInfo, Source};

use super::html::{self, attr, badge, esc, time_ms, url};
use super::samples::{self, Samples};
use super::{Ctx, Page, PageError, PageResult, Section};

/// Streams listed at most (by name).
const MAX_LISTED: usize = 500;
/// The window the list's rates are averaged over.
const RATE_WINDOW: Duration = Duration::from_secs(60);

pub(crate) async fn page(ctx: Ctx) -> PageResult {
    let streams = ctx
        .state
        .streams
        .as_ref()
        .ok_or_else(|| PageError::not_found("this server runs without streams"))?;
    let samples = Samples::shared(&ctx.state);
    let mut listed: Vec<_> = streams
        .list()
        .into_iter()
        .filter(|s| ctx.identity.may_see_stream(&s.name))
        .collect();
    let total = listed.len();
    listed.truncate(MAX_LISTED);

    let mut body = String::from("<div id=\"streams\" data-live-region>");
    if listed.is_empty() {
        body.push_str(&html::empty(
            "No streams yet: create one with `weir streams create`, the REST API or Kinesis' CreateStream.",
        ));
    } else {
        body.push_str(
            "<div class=\"scroll\"><table class=\"list\"><caption class=\"sr-only\">Streams</caption><thead><tr>\
             <th scope=\"col\">Stream</th><th scope=\"col\">Status</th><th scope=\"col\" class=\"num\">Open shards</th>\
             <th scope=\"col\" class=\"hide-narrow\">Mode</th><th scope=\"col\" class=\"hide-narrow num\">Retention</th>\
             <th scope=\"col\" class=\"num\">Records/s</th><th scope=\"col\" class=\"num\">Bytes/s</th>\
             <th scope=\"col\">Worst consumer lag</th></tr></thead><tbody>",
        );
        for summary in &listed {
            let Ok(description) = streams.describe(&summary.name) else {
                continue;
            };
            let (records, bytes) = match samples.recent_rate(&summary.name, RATE_WINDOW) {
                Some((records, bytes)) => (rate(records), format!("{}/s", size(bytes))),
                None => measuring(),
            };
            let lag = samples::worst_lag(streams, &summary.name)
                .into_iter()
                .max_by_key(|(_, millis, _)| *millis)
                .map_or_else(
                    || "<span class=\"muted\">no consumers here</span>".to_string(),
                    |(group, millis, records)| {
                        format!(
                            "{} <span class=\"muted\">({} records, {})</span>",
                            lag_text(millis),
                            records,
                            esc(&group)
                        )
                    },
                );
            let _ = write!(
                body,
                "<tr data-stream=\"{name_attr}\"><th scope=\"row\"><a href=\"/ui/streams/{href}\">{name}</a></th>\
                 <td>{status}</td><td class=\"num\">{open}</td><td class=\"hide-narrow\">{mode}</td>\
                 <td class=\"hide-narrow num\">{retention} h</td><td class=\"num\">{records}</td>\
                 <td class=\"num\">{bytes}</td><td>{lag}</td></tr>",
                name_attr = attr(&summary.name),
                href = attr(&url(&summary.name)),
                name = esc(&summary.name),
                status = status_badge(&description.status),
                open = description.open_shard_count,
                mode = esc(description.mode.as_str()),
                retention = description.retention_hours,
            );
        }
        body.push_str("</tbody></table></div>");
        if total > listed.len() {
            let _ = write!(
                body,
                "<p class=\"muted\">Showing the first {} of {total} streams by name; the REST API lists them all (<code>GET /api/v1/streams</code>).</p>",
                listed.len()
            );
        }
        body.push_str(
            "<p class=\"muted\">Rates are averaged over the last minute, read every 5 s while the dashboard is open.</p>",
        );
    }
    body.push_str("</div>");
    body.push_str(&deliveries_section(&ctx).await);
    Ok(Page::new("Streams", Section::Streams)
        .live("streams")
        .refresh(5)
        .body(body)
        .render(&ctx))
}

/// The deliveries the caller may see, with status and the last object each wrote.
async fn deliveries_section(ctx: &Ctx) -> String {
    let Some(deliveries) = &ctx.state.deliveries else {
        return String::new();
    };
    let grants = ctx.identity.grants();
    let mut listed: Vec<DeliveryInfo> = deliveries
        .list()
        .await
        .into_iter()
        .filter(|d| grants.pipeline(&d.spec.name))
        .collect();
    let total = listed.len();
    listed.truncate(MAX_LISTED);
    let mut html = String::from(
        "<h2 id=\"deliveries-heading\">Deliveries</h2><div id=\"deliveries\" data-live-region>",
    );
    if listed.is_empty() {
        html.push_str(&html::empty(
            "No deliveries: define one in deliveries/*.yaml or with Firehose' CreateDeliveryStream.",
        ));
        html.push_str("</div>");
        return html;
    }
    html.push_str(
        "<div class=\"scroll\"><table class=\"list\" aria-labelledby=\"deliveries-heading\"><thead><tr>\
         <th scope=\"col\">Delivery</th><th scope=\"col\">Status</th><th scope=\"col\">Source</th>\
         <th scope=\"col\" class=\"hide-narrow\">Destination</th><th scope=\"col\" class=\"num\">Records delivered</th>\
         <th scope=\"col\">Last object written</th></tr></thead><tbody>",
    );
    for info in &listed {
        let activity = deliveries.activity(&info.spec.name).await;
        let (status, delivered, last) = match &activity {
            Some(activity) => (
                delivery_status(activity),
                activity.delivered_records.to_string(),
                activity.recent_objects.front().map_or_else(
                    || "<span class=\"muted\">none yet</span>".to_string(),
                    |object| {
                        format!(
                            "<code>{}</code> {}",
                            esc(&object.key),
                            time_ms(object.at_ms)
                        )
                    },
                ),
            ),
            None => (status_badge("ACTIVE"), "—".into(), "—".into()),
        };
        let _ = write!(
            html,
            "<tr data-delivery=\"{name_attr}\"><th scope=\"row\"><a href=\"/ui/deliveries/{href}\">{name}</a></th>\
             <td>{status}</td><td>{source}</td><td class=\"hide-narrow\">{destination}</td>\
             <td class=\"num\">{delivered}</td><td>{last}</td></tr>",
            name_attr = attr(&info.spec.name),
            href = attr(&url(&info.spec.name)),
            name = esc(&info.spec.name),
            source = source_html(ctx, info),
            destination = destination_text(info),
        );
    }
    html.push_str("</tbody></table></div>");
    if total > listed.len() {
        let _ = write!(
            html,
            "<p class=\"muted\">Showing the first {} of {total} deliveries by name.</p>",
            listed.len()
        );
    }
    html.push_str("</div>");
    html
}

/// Where a delivery reads: its stream (a link when the caller may see it) or direct puts.
pub(super) fn source_html(ctx: &Ctx, info: &DeliveryInfo) -> String {
    match &info.spec.source {
        Source::Direct => "direct puts".to_string(),
        Source::Stream { name, .. } if ctx.identity.grants().pipeline(name) => format!(
            "stream <a href=\"/ui/streams/{}\">{}</a>",
            attr(&url(name)),
            esc(name)
        ),
        Source::Stream { name, .. } => format!("stream {}", esc(name)),
    }
}

/// Where a delivery writes: its table and prefix, escaped.
pub(super) fn destination_text(info: &DeliveryInfo) -> String {
    let prefix = &info.spec.prefix.text;
    match &info.spec.table {
        Some(table) => format!(
            "table <code>{}</code>{}",
            esc(&table.to_string()),
            if prefix.is_empty() {
                String::new()
            } else {
                format!(", prefix <code>{}</code>", esc(prefix))
            }
        ),
        None => format!("prefix <code>{}</code>", esc(prefix)),
    }
}

/// A delivery's status: active, or failing while its latest batch is being retried.
pub(super) fn delivery_status(activity: &weir_model::delivery::DeliveryActivity) -> String {
    if activity.failing() {
        badge("failed", "failing, retrying")
    } else {
        status_badge("ACTIVE")
    }
}

/// A stream's (or delivery's) status as a badge: `ACTIVE` reads as a success, the changing
/// states as queued.
pub(super) fn status_badge(status: &str) -> String {
    let state = match status {
        "ACTIVE" => "success",
        "CREATING" | "UPDATING" => "queued",
        "DELETING" => "cancelled",
        _ => "none",
    };
    badge(state, &status.to_lowercase())
}

/// A rate of records, as people read it.
pub(super) fn rate(per_second: f64) -> String {
    if per_second >= 100.0 {
        format!("{per_second:.0}")
    } else {
        format!("{per_second:.1}")
    }
}

/// The cells of a rate not known yet.
fn measuring() -> (String, String) {
    let cell = "<span class=\"muted\" title=\"the first reading is 5 s after the dashboard is opened\">measuring…</span>";
    (cell.to_string(), cell.to_string())
}

/// A size in bytes, as people read it (1,000-based: the units AWS's quotas use).
pub(super) fn size(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes.max(0.0);
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// How far behind a consumer is, as a duration (or "caught up").
pub(super) fn lag_text(millis: i64) -> String {
    if millis <= 0 {
        "caught up".to_string()
    } else {
        format!("{} behind", html::duration_us(millis.saturating_mul(1000)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_rates_and_lag_read_as_people_say_them() {
        assert_eq!(size(999.0), "999 B");
        assert_eq!(size(1_500.0), "1.5 KB");
        assert_eq!(size(2_000_000.0), "2.0 MB");
        assert_eq!(rate(3.25), "3.2");
        assert_eq!(rate(1234.4), "1234");
        assert_eq!(lag_text(0), "caught up");
        assert_eq!(lag_text(1500), "1.5 s behind");
        assert!(status_badge("ACTIVE").contains("st-success"));
        assert!(status_badge("<x>").contains("&lt;x&gt;"));
    }
}
