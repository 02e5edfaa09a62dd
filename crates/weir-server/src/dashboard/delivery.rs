//! `GET /ui/deliveries/{name}`: one delivery: where it reads and writes, its buffering hints,
//! its status, the records it delivered since this server started it, the errors of the
//! batches it had to retry, and the last objects it wrote (each a link to the lake's object
//! API). Refreshed every 5 s.

use std::fmt::Write;

use axum::extract::Path;
use weir_model::delivery::{DeliveryActivity, DeliveryInfo, Format};

use super::html::{self, attr, esc, time_ms, url};
use super::streams::{delivery_status, destination_text, lag_text, size, source_html};
use super::{Ctx, Page, PageError, PageResult, Section};

pub(crate) async fn page(ctx: Ctx, Path(name): Path<String>) -> PageResult {
    let deliveries = ctx
        .state
        .deliveries
        .as_ref()
        .ok_or_else(|| PageError::not_found("this server runs without deliveries"))?;
    let missing = || PageError::not_found(format!("no delivery `{name}`"));
    // Firehose grants deliveries by name; one outside the grants is not found.
    if !ctx.identity.grants().pipeline(&name) {
        return Err(missing());
    }
    let info = deliveries.describe(&name).await.map_err(|_| missing())?;
    let activity = deliveries.activity(&name).await.unwrap_or_default();

    let mut body = format!(
        "<div id=\"delivery-facts\" data-live-region>{}</div>",
        facts(&ctx, &info, &activity)
    );
    body.push_str("<h2 id=\"objects-heading\">Last objects written</h2><div id=\"delivery-objects\" data-live-region>");
    body.push_str(&objects(&ctx, &activity));
    body.push_str("</div><h2 id=\"errors-heading\">Last errors</h2><div id=\"delivery-errors\" data-live-region>");
    body.push_str(&errors(&activity));
    body.push_str("</div>");
    Ok(Page::new(name.clone(), Section::Streams)
        .crumb("Streams", Some("/ui/streams"))
        .crumb("Deliveries", Some("/ui/streams#deliveries-heading"))
        .refresh(5)
        .body(body)
        .render(&ctx))
}

fn facts(ctx: &Ctx, info: &DeliveryInfo, activity: &DeliveryActivity) -> String {
    let spec = &info.spec;
    let format = match spec.format {
        Format::JsonLines => "JSON lines",
        Format::Parquet => "Parquet",
    };
    let partition_keys = if spec.partition_keys.is_empty() {
        "—".to_string()
    } else {
        spec.partition_keys
            .iter()
            .map(|(key, _)| format!("<code>{}</code>", esc(key)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // The delivery's consumer group (`delivery/NAME`), as the stream's page shows it.
    let lag = ctx.state.streams.as_ref().and_then(|streams| {
        super::samples::worst_lag(streams, &spec.stream())
            .into_iter()
            .find(|(group, _, _)| *group == format!("delivery/{}", spec.name))
    });
    let lag = lag.map_or_else(
        || "<span class=\"muted\">not reading on this server</span>".to_string(),
        |(_, millis, records)| format!("{} ({records} records)", lag_text(millis)),
    );
    let defined = match (&info.file, &info.request) {
        (Some(file), _) => format!("file <code>{}</code>", esc(file)),
        (None, Some(_)) => "the Firehose API".to_string(),
        (None, None) => "—".to_string(),
    };
    let last = activity.last_delivered_ms.map_or_else(
        || "<span class=\"muted\">nothing yet</span>".to_string(),
        time_ms,
    );
    format!(
        "<dl class=\"facts\"><dt>Status</dt><dd>{status}</dd><dt>ARN</dt><dd><code>{arn}</code></dd>\
         <dt>Source</dt><dd>{source}</dd><dt>Destination</dt><dd>{destination}</dd>\
         <dt>Error prefix</dt><dd><code>{error_prefix}</code></dd>\
         <dt>Format</dt><dd>{format}, compression {compression}</dd>\
         <dt>Buffering hints</dt><dd>{buffer} or {interval} s, whichever comes first</dd>\
         <dt>Partition keys</dt><dd>{partition_keys}</dd><dt>Transform</dt><dd>{transform}</dd>\
         <dt>Records delivered</dt><dd data-delivered=\"{delivered}\">{delivered} <span class=\"muted\">({failed} failed, {dropped} dropped by the transform, in {batches} batches since this server started it)</span></dd>\
         <dt>Last delivered</dt><dd>{last}</dd><dt>Consumer lag</dt><dd>{lag}</dd>\
         <dt>Defined by</dt><dd>{defined}</dd><dt>Created</dt><dd>{created}</dd></dl>",
        status = delivery_status(activity),
        arn = esc(&info.arn),
        source = source_html(ctx, info),
        destination = destination_text(info),
        error_prefix = esc(&spec.error_prefix.text),
        compression = esc(spec.compression.name()),
        buffer = mebibytes(spec.buffering.size_bytes),
        interval = spec.buffering.interval.as_secs(),
        transform = spec.transform.as_ref().map_or_else(
            || "—".to_string(),
            |t| format!("function <code>{}</code>", esc(&t.function))
        ),
        delivered = activity.delivered_records,
        failed = activity.failed_records,
        dropped = activity.dropped_records,
        batches = activity.batches,
        created = html::time(info.created_at),
    )
}

/// The newest objects, each a link to the lake object API when the caller's grants cover its key.
fn objects(ctx: &Ctx, activity: &DeliveryActivity) -> String {
    if activity.recent_objects.is_empty() {
        return html::empty("No objects written since this server started the delivery.");
    }
    let mut html = format!(
        "<p class=\"muted\">The newest {} objects (at most {}), newest first.</p>\
         <div class=\"scroll\"><table class=\"list\" aria-labelledby=\"objects-heading\"><thead><tr>\
         <th scope=\"col\">Key</th><th scope=\"col\" class=\"num\">Size</th><th scope=\"col\" class=\"num\">Rows</th>\
         <th scope=\"col\">Written</th></tr></thead><tbody>",
        activity.recent_objects.len(),
        weir_model::delivery::activity::RECENT_OBJECTS
    );
    for object in &activity.recent_objects {
        let key = if ctx.identity.grants().key(&object.key) {
            let href = format!(
                "/api/v1/lake/objects/{}",
                object.key.split('/').map(url).collect::<Vec<_>>().join("/")
            );
            format!(
                "<a href=\"{}\"><code>{}</code></a>",
                attr(&href),
                esc(&object.key)
            )
        } else {
            format!("<code>{}</code>", esc(&object.key))
        };
        let rows = object.rows.map_or_else(
            || html::badge("failed", "failed records"),
            |rows| rows.to_string(),
        );
        let _ = write!(
            html,
            "<tr class=\"object\"><th scope=\"row\">{key}</th><td class=\"num\">{size}</td>\
             <td class=\"num\">{rows}</td><td>{at}</td></tr>",
            size = size(object.size as f64),
            at = time_ms(object.at_ms),
        );
    }
    html.push_str("</tbody></table></div>");
    html
}

fn errors(activity: &DeliveryActivity) -> String {
    if activity.recent_errors.is_empty() {
        return html::empty("No batch failed since this server started the delivery.");
    }
    let mut html = String::from(
        "<div class=\"scroll\"><table class=\"list\" aria-labelledby=\"errors-heading\"><thead><tr>\
         <th scope=\"col\">When</th><th scope=\"col\">Error (the batch is tried again)</th></tr></thead><tbody>",
    );
    for error in &activity.recent_errors {
        let _ = write!(
            html,
            "<tr><td>{}</td><td class=\"error\">{}</td></tr>",
            time_ms(error.at_ms),
            esc(&error.message)
        );
    }
    html.push_str("</tbody></table></div>");
    html
}

/// A buffer size as Firehose gives it (`SizeInMBs`, in MiB), or in bytes when it is not whole.
fn mebibytes(bytes: u64) -> String {
    if bytes > 0 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}
