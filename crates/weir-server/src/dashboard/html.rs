//! The small pieces every page is made of: escaping, links, state badges, times and the action
//! buttons `weir.js` sends to the API. Everything a page writes from data goes through `esc`,
//! `attr` or `url` here.

use std::fmt::Write;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::Ctx;

/// Text made safe to put into HTML (element content).
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text made safe for a quoted attribute value (the same escapes; named apart so a reader sees
/// where a value lands).
pub(crate) fn attr(text: &str) -> String {
    esc(text)
}

/// What a path segment or query value keeps as it is: RFC 3986's unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A path segment or query value, percent-encoded (escape the whole URL with `attr` after).
pub(crate) fn url(component: &str) -> String {
    utf8_percent_encode(component, COMPONENT).to_string()
}

/// A link whose text is escaped and whose address is escaped for the attribute.
pub(crate) fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", attr(href), esc(text))
}

/// How a state looks: a glyph (so colour is never the only signal) and the CSS class that colours
/// it. Pipeline task and run states and Step Functions statuses alike.
pub(crate) fn state_glyph(state: &str) -> (&'static str, &'static str) {
    match state.to_ascii_lowercase().as_str() {
        "success" | "succeeded" => ("✓", "st-success"),
        "failed" => ("✗", "st-failed"),
        "running" => ("▶", "st-running"),
        "queued" | "scheduled" | "pending" | "pending_redrive" => ("◷", "st-queued"),
        "up_for_retry" | "retrying" => ("↻", "st-retry"),
        "upstream_failed" => ("⚠", "st-upstream"),
        "skipped" => ("⤼", "st-skipped"),
        "cancelled" | "canceled" | "aborted" => ("⊘", "st-cancelled"),
        "timed_out" => ("⏱", "st-timeout"),
        "paused" => ("⏸", "st-paused"),
        _ => ("•", "st-none"),
    }
}

/// A state as a badge: glyph, colour and the state's name.
pub(crate) fn state_badge(state: &str) -> String {
    badge(state, &state.replace('_', " ").to_lowercase())
}

/// A badge with the glyph and colour of `state` and words of its own.
pub(crate) fn badge(state: &str, text: &str) -> String {
    let (glyph, class) = state_glyph(state);
    format!(
        "<span class=\"badge {class}\"><span aria-hidden=\"true\">{glyph}</span> {}</span>",
        esc(text)
    )
}

/// How bad a state is, to put failures first and to sum up several (a group, a mapped task).
pub(crate) fn severity(state: &str) -> u8 {
    match state_glyph(state).1 {
        "st-failed" | "st-timeout" => 9,
        "st-upstream" => 8,
        "st-retry" => 7,
        "st-running" => 6,
        "st-queued" => 5,
        "st-cancelled" => 4,
        "st-skipped" => 2,
        "st-success" => 1,
        _ => 0,
    }
}

/// A moment (microseconds since the epoch) as `<time>`: UTC in the attribute and the title,
/// shortened in the text; `weir.js` rewrites the text as "3 min ago".
pub(crate) fn time(us: i64) -> String {
    let at = weir_engine::time::format_us(us);
    let short = at.get(..19).unwrap_or(&at).replace('T', " ");
    format!(
        "<time datetime=\"{at}\" title=\"{at}\">{short}</time>",
        at = attr(&at),
        short = esc(&short)
    )
}

/// A moment in milliseconds since the epoch (the streams' and the bus's clock) as `<time>`.
pub(crate) fn time_ms(ms: i64) -> String {
    time(ms.saturating_mul(1000))
}

/// A moment given as RFC 3339 text (the API's next-run times) as `<time>`.
pub(crate) fn time_rfc3339(at: &str) -> String {
    let short = at.get(..19).unwrap_or(at).replace('T', " ");
    format!(
        "<time datetime=\"{at}\" title=\"{at}\">{short}</time>",
        at = attr(at),
        short = esc(&short)
    )
}

/// A span of time in microseconds, as people say it: `850 ms`, `12.4 s`, `3 min 5 s`, `2 h 4 min`.
pub(crate) fn duration_us(us: i64) -> String {
    let us = us.max(0);
    let ms = us / 1000;
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let seconds = us as f64 / 1e6;
    if seconds < 60.0 {
        return format!("{seconds:.1} s");
    }
    let total = us / 1_000_000;
    let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60);
    if hours == 0 {
        format!("{minutes} min {secs} s")
    } else if hours < 48 {
        format!("{hours} h {minutes} min")
    } else {
        format!("{} d {} h", hours / 24, hours % 24)
    }
}

/// A button or form `weir.js` sends to the API (see the contract in `assets/weir.js`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Action<'a> {
    pub label: &'a str,
    /// `POST`, `PUT`, `DELETE`.
    pub method: &'a str,
    pub url: &'a str,
    /// The JSON body, as text.
    pub body: Option<&'a str>,
    /// Asked in a dialog before sending; the action is sent at once without it.
    pub confirm: Option<&'a str>,
    /// Where to go after it succeeded (`{field}` filled from the answer); the page's live regions
    /// are refreshed otherwise.
    pub then: Option<&'a str>,
    /// An AWS JSON operation (`AWSStepFunctions.StopExecution`) sent to `POST /`.
    pub aws_target: Option<&'a str>,
    /// `danger` for a button that destroys or stops something.
    pub class: &'a str,
}

/// The action as a button, or nothing for a caller who may not act (a viewer sees no buttons).
pub(crate) fn action_button(ctx: &Ctx, action: &Action) -> String {
    if !ctx.can_operate() {
        return String::new();
    }
    let mut html = format!(
        "<button type=\"button\" class=\"btn {}\" data-action data-method=\"{}\" data-url=\"{}\"",
        attr(action.class),
        attr(action.method),
        attr(action.url)
    );
    let optional = [
        ("data-body", action.body),
        ("data-confirm", action.confirm),
        ("data-then", action.then),
        ("data-aws-target", action.aws_target),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            let _ = write!(html, " {name}=\"{}\"", attr(value));
        }
    }
    let _ = write!(html, ">{}</button>", esc(action.label));
    html
}

/// A quiet line saying there is nothing to show.
pub(crate) fn empty(text: &str) -> String {
    format!("<p class=\"empty\">{}</p>", esc(text))
}

/// A JSON value, pretty-printed and escaped, in a `<pre>` (inputs, outputs, params).
pub(crate) fn json_block(value: &serde_json::Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    format!("<pre class=\"json\">{}</pre>", esc(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_in_text_and_attributes() {
        assert_eq!(
            esc("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(
            link("/ui/runs/a\"b", "<b>"),
            "<a href=\"/ui/runs/a&quot;b\">&lt;b&gt;</a>"
        );
    }

    #[test]
    fn url_components_keep_only_unreserved_characters() {
        assert_eq!(url("a b/c?d&e=é"), "a%20b%2Fc%3Fd%26e%3D%C3%A9");
        assert_eq!(url("run-1_2.3~"), "run-1_2.3~");
    }

    #[test]
    fn every_state_has_a_glyph_besides_its_colour() {
        for state in [
            "success",
            "failed",
            "running",
            "queued",
            "scheduled",
            "up_for_retry",
            "upstream_failed",
            "skipped",
            "cancelled",
            "SUCCEEDED",
            "FAILED",
            "RUNNING",
            "ABORTED",
            "TIMED_OUT",
        ] {
            let (glyph, class) = state_glyph(state);
            assert_ne!(glyph, "•", "{state}");
            assert_ne!(class, "st-none", "{state}");
            assert!(state_badge(state).contains(glyph));
        }
        assert_eq!(state_glyph("whatever").1, "st-none");
    }

    #[test]
    fn failures_sort_before_successes() {
        assert!(severity("failed") > severity("running"));
        assert!(severity("running") > severity("success"));
        assert!(severity("upstream_failed") > severity("skipped"));
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration_us(850_000), "850 ms");
        assert_eq!(duration_us(12_400_000), "12.4 s");
        assert_eq!(duration_us(185_000_000), "3 min 5 s");
        assert_eq!(duration_us(7_440_000_000), "2 h 4 min");
        assert_eq!(duration_us(-5), "0 ms");
    }
}
