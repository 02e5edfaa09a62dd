//! `GET /ui/streams/{name}`: one stream: its facts, shards (hash range, open or closed, the
//! sequence numbers and offsets each holds), charts of its throughput and of its consumers' lag
//! over the last hour (`samples.rs`), its newest records across shards, and its consumers with
//! each shard's checkpoint and lag. Live on `stream:NAME` and every 5 s.

use std::fmt::Write;

use base64::Engine as _;
use weir_stream::{Record, ShardExtent, ShardId, StreamDescription, Streams};

use super::chart::{self, Chart, ChartKind, Series, XValues};
use super::html::{self, attr, badge, esc, time_ms, url};
use super::samples::{Point, Samples};
use super::streams::{lag_text, rate, size, status_badge};
use super::{Ctx, Page, PageError, PageResult, Section};

/// Newest records shown, across shards.
const RECENT_RECORDS: usize = 50;
/// Shards read for the newest records at most (those with the newest arrivals).
const RECENT_SHARDS: usize = 16;
/// Bytes one shard's read of its newest records takes at most (past its first record): the
/// page reads at most about 1 MiB each time it is drawn.
const RECENT_BYTES: usize = 64 << 10;
/// Characters of a record's data shown.
const PREVIEW_CHARS: usize = 160;
/// Bytes of binary data shown (as hex).
const PREVIEW_BYTES: usize = 48;
/// Shards listed at most.
const MAX_SHARDS: usize = 200;

pub(crate) async fn page(
    ctx: Ctx,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> PageResult {
    let streams = ctx
        .state
        .streams
        .as_ref()
        .ok_or_else(|| PageError::not_found("this server runs without streams"))?;
    // What the REST API would refuse is not found here (never revealing that it exists).
    if !ctx.identity.may_see_stream(&name) {
        return Err(PageError::not_found(format!("no stream `{name}`")));
    }
    let description = streams.describe(&name).map_err(crate::ApiError::from)?;
    let activity = streams.activity(&name).map_err(crate::ApiError::from)?;
    let samples = Samples::shared(&ctx.state);
    let points = samples.points(&name);

    let mut body = format!(
        "<div id=\"stream-facts\" data-live-region>{}</div>",
        facts(&description)
    );
    body.push_str("<h2 id=\"charts-heading\">Throughput and lag</h2><div id=\"stream-charts\" data-live-region>");
    body.push_str(&charts(&points));
    body.push_str("</div>");
    body.push_str(
        "<h2 id=\"consumers-heading\">Consumers</h2><div id=\"stream-consumers\" data-live-region>",
    );
    body.push_str(&consumers(streams, &name).await);
    body.push_str("</div>");
    body.push_str("<h2 id=\"records-heading\">Newest records</h2><div id=\"stream-records\" data-live-region>");
    body.push_str(&recent_records(streams, &name, &activity.shards));
    body.push_str("</div>");
    body.push_str(
        "<h2 id=\"shards-heading\">Shards</h2><div id=\"stream-shards\" data-live-region>",
    );
    body.push_str(&shards(&description, &activity.shards));
    body.push_str("</div>");
    Ok(Page::new(name.clone(), Section::Streams)
        .crumb("Streams", Some("/ui/streams"))
        .live(format!("stream:{name}"))
        .refresh(5)
        .body(body)
        .render(&ctx))
}

fn facts(description: &StreamDescription) -> String {
    let tags = if description.tags.is_empty() {
        "—".to_string()
    } else {
        description
            .tags
            .iter()
            .map(|(k, v)| format!("<code>{}={}</code>", esc(k), esc(v)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "<dl class=\"facts\"><dt>Status</dt><dd>{status}</dd><dt>ARN</dt><dd><code>{arn}</code></dd>\
         <dt>Mode</dt><dd>{mode}</dd><dt>Open shards</dt><dd>{open} of {all}</dd>\
         <dt>Retention</dt><dd>{retention} h</dd><dt>Created</dt><dd>{created}</dd>\
         <dt>Enhanced fan-out consumers</dt><dd>{efo}</dd><dt>Tags</dt><dd>{tags}</dd></dl>",
        status = status_badge(&description.status),
        arn = esc(&description.arn),
        mode = esc(description.mode.as_str()),
        open = description.open_shard_count,
        all = description.shards.len(),
        retention = description.retention_hours,
        created = time_ms(description.created_ms),
        efo = description.consumer_count,
    )
}

/// The throughput and lag charts of the sampled points.
fn charts(points: &[Point]) -> String {
    if points.is_empty() {
        return format!(
            "<div class=\"card\">{}</div>",
            html::empty(
                "Measuring: the first reading comes 5 s after the dashboard first looks at the stream; the charts cover the last hour."
            )
        );
    }
    let times: Vec<i64> = points.iter().map(|p| p.at_ms).collect();
    let latest = points
        .last()
        .map(|p| format!("{} at {}", rate_text(p), time_ms(p.at_ms)))
        .unwrap_or_default();
    let one = |title: &str, y_label: &str, series: Vec<Series>| {
        let chart = Chart {
            // Areas stand on zero: a rate or a lag read against nothing.
            kind: ChartKind::Area,
            title: title.to_string(),
            x_label: "time".into(),
            y_label: y_label.to_string(),
            x: XValues::Times(times.clone()),
            series,
            width: 560,
            height: 220,
            notes: Vec::new(),
        };
        format!("<div class=\"card\">{}</div>", chart::render_svg(&chart))
    };
    let mut html = format!(
        "<p id=\"latest-rate\">Latest reading: {latest} <span class=\"muted\">({} reading{}, every 5 s, the last hour kept)</span></p><div class=\"charts\">",
        points.len(),
        if points.len() == 1 { "" } else { "s" }
    );
    html.push_str(&one(
        "Incoming records per second",
        "records/s",
        vec![Series {
            name: "records/s".into(),
            values: points.iter().map(|p| Some(p.records_per_s)).collect(),
        }],
    ));
    html.push_str(&one(
        "Incoming bytes per second",
        "bytes/s",
        vec![Series {
            name: "bytes/s".into(),
            values: points.iter().map(|p| Some(p.bytes_per_s)).collect(),
        }],
    ));
    // One series per consumer seen in the hour, a gap where it was not running.
    let mut groups: Vec<&str> = points
        .iter()
        .flat_map(|p| p.lag.iter().map(|(group, _, _)| &**group))
        .collect();
    groups.sort_unstable();
    groups.dedup();
    if groups.is_empty() {
        html.push_str(&format!(
            "<div class=\"card\">{}</div></div>",
            html::empty("No consumer group reads this stream on this server: no lag to chart.")
        ));
        return html;
    }
    let lag_series = |value: fn(&(std::sync::Arc<str>, i64, u64)) -> f64| -> Vec<Series> {
        groups
            .iter()
            .map(|group| Series {
                name: (*group).to_string(),
                values: points
                    .iter()
                    .map(|p| p.lag.iter().find(|(g, _, _)| &**g == *group).map(value))
                    .collect(),
            })
            .collect()
    };
    html.push_str(&one(
        "Consumer lag (milliseconds behind)",
        "ms behind",
        lag_series(|(_, millis, _)| *millis as f64),
    ));
    html.push_str(&one(
        "Consumer lag (records behind)",
        "records behind",
        lag_series(|(_, _, records)| *records as f64),
    ));
    html.push_str("</div>");
    html
}

/// The consumer groups reading the stream here, per shard, and the enhanced fan-out consumers.
async fn consumers(streams: &Streams, name: &str) -> String {
    let mut html = String::new();
    let groups = streams.consumer_groups(name);
    if groups.is_empty() {
        html.push_str(&html::empty(
            "No consumer group reads this stream on this server (deliveries, event source mappings and buses run theirs here).",
        ));
    } else {
        html.push_str(
            "<div class=\"scroll\"><table class=\"list\" aria-labelledby=\"consumers-heading\"><thead><tr>\
             <th scope=\"col\">Consumer</th><th scope=\"col\">Shard</th><th scope=\"col\">Status</th>\
             <th scope=\"col\">Checkpoint</th><th scope=\"col\" class=\"num\">Records behind</th>\
             <th scope=\"col\">Lag</th></tr></thead><tbody>",
        );
        for group in &groups {
            let who = format!(
                "{} <div class=\"muted\">{}</div>",
                esc(&group.group),
                esc(&group.description)
            );
            if group.shards.is_empty() {
                let _ = write!(
                    html,
                    "<tr data-consumer=\"{}\"><th scope=\"row\">{who}</th><td colspan=\"5\" class=\"muted\">holds no shard yet</td></tr>",
                    attr(&group.group)
                );
            }
            for lag in &group.shards {
                let status = if lag.finished {
                    badge("success", "finished")
                } else if lag.records_behind == 0 {
                    badge("success", "caught up")
                } else {
                    badge("running", "reading")
                };
                let _ = write!(
                    html,
                    "<tr data-consumer=\"{group_attr}\"><th scope=\"row\">{who}</th><td><code>{shard}</code></td>\
                     <td>{status}</td><td><code>{checkpoint}</code></td><td class=\"num\">{behind}</td>\
                     <td data-lag-ms=\"{millis}\">{lag}</td></tr>",
                    group_attr = attr(&group.group),
                    shard = lag.shard,
                    checkpoint = esc(lag.checkpoint.as_deref().unwrap_or("none yet")),
                    behind = lag.records_behind,
                    millis = lag.millis_behind,
                    lag = lag_text(lag.millis_behind),
                );
            }
        }
        html.push_str("</tbody></table></div>");
    }
    if let Ok(efo) = streams.list_consumers(name).await
        && !efo.is_empty()
    {
        html.push_str(
            "<h3>Enhanced fan-out consumers</h3><div class=\"scroll\"><table class=\"list\"><thead><tr>\
             <th scope=\"col\">Name</th><th scope=\"col\">Status</th><th scope=\"col\">Registered</th></tr></thead><tbody>",
        );
        for consumer in efo.iter().take(MAX_SHARDS) {
            let _ = write!(
                html,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>",
                esc(&consumer.name),
                status_badge(&consumer.status),
                time_ms(consumer.created_ms)
            );
        }
        html.push_str("</tbody></table></div>");
    }
    html
}

/// The newest records across the shards with the newest arrivals, newest first.
fn recent_records(streams: &Streams, name: &str, extents: &[ShardExtent]) -> String {
    let mut with_records: Vec<&ShardExtent> = extents
        .iter()
        .filter(|e| e.end_offset > e.first_offset)
        .collect();
    with_records.sort_by_key(|e| std::cmp::Reverse(e.last_arrival_ms));
    let mut records: Vec<(ShardId, Record)> = Vec::new();
    for extent in with_records.into_iter().take(RECENT_SHARDS) {
        let from = extent
            .end_offset
            .saturating_sub(RECENT_RECORDS as u64)
            .max(extent.first_offset);
        if let Ok(batch) = streams.read(name, extent.shard, from, RECENT_RECORDS, RECENT_BYTES) {
            records.extend(batch.records.into_iter().map(|r| (extent.shard, r)));
        }
    }
    if records.is_empty() {
        return html::empty("No records yet.");
    }
    records.sort_by(|(_, a), (_, b)| {
        b.arrival_ms
            .cmp(&a.arrival_ms)
            .then_with(|| b.sequence.cmp(&a.sequence))
    });
    records.truncate(RECENT_RECORDS);
    let mut html = format!(
        "<p class=\"muted\">The newest {} records across shards, newest first; read the rest with \
         <code>GET /api/v1/streams/{}/shards/SHARD/records</code>.</p>\
         <div class=\"scroll\"><table class=\"list\" aria-labelledby=\"records-heading\"><thead><tr>\
         <th scope=\"col\">Arrived</th><th scope=\"col\">Partition key</th><th scope=\"col\">Shard</th>\
         <th scope=\"col\" class=\"hide-narrow\">Sequence number</th><th scope=\"col\">Data</th></tr></thead><tbody>",
        records.len(),
        esc(&url(name))
    );
    for (shard, record) in &records {
        let _ = write!(
            html,
            "<tr class=\"record\"><td>{arrived}</td><th scope=\"row\"><code>{key}</code></th><td><code>{shard}</code></td>\
             <td class=\"hide-narrow\"><code>{sequence}</code></td><td>{data}</td></tr>",
            arrived = time_ms(record.arrival_ms),
            key = esc(&record.partition_key),
            sequence = record.sequence,
            data = preview(&record.data),
        );
    }
    html.push_str("</tbody></table></div>");
    html
}

/// A record's data as a person reads it: its text when it is UTF-8, hex (with its base64 in the
/// title) when it is binary; shortened either way, and escaped.
pub(super) fn preview(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) => {
            let shown: String = text.chars().take(PREVIEW_CHARS).collect();
            let more = if shown.len() < text.len() {
                format!(" <span class=\"muted\">… ({} bytes)</span>", data.len())
            } else {
                String::new()
            };
            format!("<code class=\"data\">{}</code>{more}", esc(&shown))
        }
        Err(_) => {
            let hex: String = data
                .iter()
                .take(PREVIEW_BYTES)
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ");
            let base64 = base64::engine::general_purpose::STANDARD
                .encode(&data[..data.len().min(PREVIEW_BYTES * 4)]);
            format!(
                "<span class=\"muted\">binary, {} bytes:</span> <code class=\"data\" title=\"base64: {}\">{}{}</code>",
                data.len(),
                attr(&base64),
                esc(&hex),
                if data.len() > PREVIEW_BYTES {
                    " …"
                } else {
                    ""
                }
            )
        }
    }
}

/// The shards: hash range, open or closed, the sequence numbers they start (and end) at, and
/// the offsets their logs still hold.
fn shards(description: &StreamDescription, extents: &[ShardExtent]) -> String {
    let mut html = String::from(
        "<div class=\"scroll\"><table class=\"list\" aria-labelledby=\"shards-heading\"><thead><tr>\
         <th scope=\"col\">Shard</th><th scope=\"col\">State</th><th scope=\"col\">Hash key range</th>\
         <th scope=\"col\" class=\"hide-narrow\">Sequence numbers</th><th scope=\"col\" class=\"num\">Records kept</th>\
         <th scope=\"col\">Newest record</th><th scope=\"col\" class=\"hide-narrow\">Parents</th></tr></thead><tbody>",
    );
    for shard in description.shards.iter().take(MAX_SHARDS) {
        let extent = extents.iter().find(|e| e.shard == shard.id);
        let state = if shard.is_open() {
            badge("running", "open")
        } else {
            badge("cancelled", "closed")
        };
        let share = (shard.hash_end - shard.hash_start) as f64 / u128::MAX as f64 * 100.0;
        let sequences = format!(
            "<code>{}</code> – {}",
            shard.starting_sequence,
            shard
                .ending_sequence
                .map_or_else(|| "open".to_string(), |end| format!("<code>{end}</code>"))
        );
        let (kept, newest) = match extent {
            Some(extent) => (
                format!(
                    "{} <span class=\"muted\">(offsets {}–{})</span>",
                    extent.end_offset - extent.first_offset,
                    extent.first_offset,
                    extent.end_offset
                ),
                extent
                    .last_arrival_ms
                    .map_or_else(|| "—".to_string(), time_ms),
            ),
            None => (
                "<span class=\"muted\">expired</span>".to_string(),
                "—".to_string(),
            ),
        };
        let parents = [shard.parent, shard.adjacent_parent]
            .iter()
            .flatten()
            .map(|p| format!("<code>{p}</code>"))
            .collect::<Vec<_>>()
            .join(" ");
        let _ = write!(
            html,
            "<tr data-shard=\"{id}\"><th scope=\"row\"><code>{id}</code></th><td>{state}</td>\
             <td><span title=\"{start} – {end}\">{share:.1}% of the key space</span></td>\
             <td class=\"hide-narrow\">{sequences}</td><td class=\"num\">{kept}</td><td>{newest}</td>\
             <td class=\"hide-narrow\">{parents}</td></tr>",
            id = shard.id,
            start = shard.hash_start,
            end = shard.hash_end,
            parents = if parents.is_empty() {
                "—".to_string()
            } else {
                parents
            },
        );
    }
    html.push_str("</tbody></table></div>");
    if description.shards.len() > MAX_SHARDS {
        let _ = write!(
            html,
            "<p class=\"muted\">Showing the first {MAX_SHARDS} of {} shards; <code>GET /api/v1/streams/NAME</code> lists them all.</p>",
            description.shards.len()
        );
    }
    html
}

/// How a reading reads: records and bytes per second.
fn rate_text(point: &Point) -> String {
    format!(
        "{} records/s, {}/s",
        rate(point.records_per_s),
        size(point.bytes_per_s)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_escape_text_and_show_binary_as_hex() {
        assert_eq!(
            preview(b"<script>x</script>"),
            "<code class=\"data\">&lt;script&gt;x&lt;/script&gt;</code>"
        );
        let long = "é".repeat(500);
        assert!(preview(long.as_bytes()).contains("(1000 bytes)"));
        let binary = preview(&[0xff, 0x00, 0x10]);
        assert!(binary.contains("binary, 3 bytes"));
        assert!(binary.contains("ff 00 10"));
        assert!(binary.contains("base64: /wAQ"));
    }
}
