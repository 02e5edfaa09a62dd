//! Charts as inline SVG: bar, line, area and scatter charts of a SQL result, a saved
//! dashboard's queries and a stream's throughput and lag.
//!
//! Each chart is a `<figure class="chart-figure">` holding the `<svg role="img">` (its
//! `aria-label` says what it shows) and a visually hidden `<table class="sr-only">` of the data
//! for screen readers. Series are told apart by colour (a CSS class) AND by a dash pattern and
//! a marker shape, so colour is never the only signal.
//!
//! CSS classes for the stylesheet: `chart-figure`, `chart`, `chart-bar`/`chart-line`/
//! `chart-area`/`chart-scatter` on the `<svg>`; `chart-title`, `chart-note`, `chart-empty`;
//! `grid` (the tick lines), `axis`, `axis-x`, `axis-y`, `axis-line`, `tick`, `axis-label`;
//! `legend`, `legend-item`; per series `series-0` … `series-7` together with `line`, `area`,
//! `bar`, `marker`; `sr-only` on the table. A series' shapes are drawn in `currentColor`, so
//! the stylesheet themes a series by setting `color` on `.series-N` (series after the eighth
//! repeat the eight styles); the SVG stays legible with no stylesheet at all.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

use super::layout::{num, truncate, xml_escape};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChartKind {
    Bar,
    Line,
    Area,
    Scatter,
}

impl ChartKind {
    /// The kind a URL or a saved query names: `bar`, `line`, `area` or `scatter`.
    #[allow(dead_code)] // until the SQL page reads chart settings from its URL
    pub(crate) fn parse(name: &str) -> Option<ChartKind> {
        match name {
            "bar" => Some(ChartKind::Bar),
            "line" => Some(ChartKind::Line),
            "area" => Some(ChartKind::Area),
            "scatter" => Some(ChartKind::Scatter),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ChartKind::Bar => "bar",
            ChartKind::Line => "line",
            ChartKind::Area => "area",
            ChartKind::Scatter => "scatter",
        }
    }
}

/// The x value of each point.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum XValues {
    Numbers(Vec<f64>),
    /// Milliseconds since the epoch, labelled in UTC.
    Times(Vec<i64>),
    Categories(Vec<String>),
}

impl XValues {
    fn len(&self) -> usize {
        match self {
            XValues::Numbers(values) => values.len(),
            XValues::Times(values) => values.len(),
            XValues::Categories(values) => values.len(),
        }
    }

    /// The point's x as text, for tooltips and the data table.
    fn text(&self, index: usize) -> String {
        match self {
            XValues::Numbers(values) => values
                .get(index)
                .map_or_else(String::new, |v| format_value(*v)),
            XValues::Times(values) => values
                .get(index)
                .map_or_else(String::new, |ms| format_time(*ms)),
            XValues::Categories(values) => values.get(index).cloned().unwrap_or_default(),
        }
    }
}

/// One y series: a value per x (None where there is none).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chart {
    pub kind: ChartKind,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x: XValues,
    pub series: Vec<Series>,
    /// The SVG's size in pixels (it scales with its `viewBox`); kept within sane bounds.
    pub width: u32,
    pub height: u32,
    /// Said under the chart: columns left out and why, rows or categories not shown.
    pub notes: Vec<String>,
}

/// Most bars (x values of a bar chart) drawn; the rest are left out with a note.
const MAX_BARS: usize = 200;
/// Most points taken from a result.
const MAX_POINTS: usize = 10_000;
/// Above this many points a series gets no markers (and so no per-point tooltips): the line
/// alone reads better and the page stays small.
const MAX_MARKERS: usize = 500;
/// Rows of the hidden data table.
const MAX_TABLE_ROWS: usize = 500;
const SERIES_STYLES: usize = 8;
/// Dash patterns per series, so lines differ without colour.
const DASHES: [&str; SERIES_STYLES] = [
    "", "6 3", "2 3", "8 3 2 3", "12 4", "4 4 1 4", "1 3", "10 2 2 2",
];
const FONT_WIDTH: f64 = 6.5;

/// Builds a chart of a SQL result (rows of JSON values, as the SQL API returns them) with the
/// column `x` across and the columns `ys` up. The x column becomes numbers when every value is
/// a number or a numeric string, times when every value is an RFC 3339 timestamp, a
/// `YYYY-MM-DD HH:MM:SS` time (UTC) or a `YYYY-MM-DD` date, and categories otherwise; numeric
/// and time x values are sorted. A y column must hold numbers (or numeric strings; null is a
/// gap): one that does not is left out with a note saying why. An error when nothing can be
/// plotted, saying why.
#[allow(dead_code)] // until the SQL and dashboard pages chart their results
pub(crate) fn from_rows(
    kind: ChartKind,
    columns: &[String],
    rows: &[Vec<Value>],
    x: &str,
    ys: &[String],
) -> Result<Chart, String> {
    let x_index = columns
        .iter()
        .position(|column| column == x)
        .ok_or_else(|| format!("the result has no column `{x}` for the x axis"))?;
    if ys.is_empty() {
        return Err("choose at least one column for the y axis".into());
    }
    let mut notes = Vec::new();
    let mut rows: Vec<&Vec<Value>> = rows.iter().collect();
    if rows.len() > MAX_POINTS {
        notes.push(format!(
            "showing the first {MAX_POINTS} of {} rows",
            rows.len()
        ));
        rows.truncate(MAX_POINTS);
    }
    let mut y_indexes = Vec::new();
    for y in ys {
        let Some(index) = columns.iter().position(|column| column == y) else {
            notes.push(format!("`{y}` left out: the result has no such column"));
            continue;
        };
        let not_numeric = rows
            .iter()
            .filter_map(|row| row.get(index))
            .find(|value| !value.is_null() && as_number(value).is_none());
        match not_numeric {
            Some(value) => notes.push(format!(
                "`{y}` left out: not numeric (e.g. {})",
                truncate(&value_text(value), 30)
            )),
            None => y_indexes.push((y.clone(), index)),
        }
    }
    if y_indexes.is_empty() {
        return Err(format!("nothing to plot: {}", notes.join("; ")));
    }

    let x_cells: Vec<&Value> = rows
        .iter()
        .map(|row| row.get(x_index).unwrap_or(&Value::Null))
        .collect();
    let present = || x_cells.iter().filter(|value| !value.is_null());
    let numbers: Option<Vec<Option<f64>>> = present()
        .all(|value| as_number(value).is_some())
        .then(|| x_cells.iter().map(|value| as_number(value)).collect());
    let times: Option<Vec<Option<i64>>> = (numbers.is_none()
        && present().all(|value| as_time(value).is_some()))
    .then(|| x_cells.iter().map(|value| as_time(value)).collect());
    let has_any = present().next().is_some();

    // Numeric and time x: rows sorted by x, rows without an x dropped (a line needs its x).
    let sorted_rows = |keys: &[Option<f64>]| -> Vec<(usize, f64)> {
        let mut keyed: Vec<(usize, f64)> = keys
            .iter()
            .enumerate()
            .filter_map(|(row, key)| key.filter(|k| k.is_finite()).map(|k| (row, k)))
            .collect();
        keyed.sort_by(|a, b| a.1.total_cmp(&b.1));
        keyed
    };
    let (x_values, order): (XValues, Vec<usize>) = match (numbers, times) {
        (Some(numbers), _) if has_any => {
            let keyed = sorted_rows(&numbers);
            (
                XValues::Numbers(keyed.iter().map(|&(_, k)| k).collect()),
                keyed.iter().map(|&(row, _)| row).collect(),
            )
        }
        (_, Some(times)) if has_any => {
            let keys: Vec<Option<f64>> = times.iter().map(|t| t.map(|t| t as f64)).collect();
            let keyed = sorted_rows(&keys);
            let order: Vec<usize> = keyed.iter().map(|&(row, _)| row).collect();
            (
                XValues::Times(order.iter().filter_map(|&row| times[row]).collect()),
                order,
            )
        }
        _ => (
            XValues::Categories(x_cells.iter().map(|value| value_text(value)).collect()),
            (0..rows.len()).collect(),
        ),
    };
    if order.len() < rows.len() {
        notes.push(format!(
            "{} rows without a `{x}` left out",
            rows.len() - order.len()
        ));
    }
    let series = y_indexes
        .into_iter()
        .map(|(name, index)| Series {
            name,
            values: order
                .iter()
                .map(|&row| rows[row].get(index).and_then(as_number))
                .collect(),
        })
        .collect::<Vec<_>>();
    let y_label = if series.len() == 1 {
        series.first().map(|s| s.name.clone()).unwrap_or_default()
    } else {
        String::new()
    };
    Ok(Chart {
        kind,
        title: String::new(),
        x_label: x.to_string(),
        y_label,
        x: x_values,
        series,
        width: 720,
        height: 360,
        notes,
    })
}

/// A JSON number, or a string holding one (DECIMAL and 64-bit columns arrive as strings).
fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok().filter(|v| v.is_finite()),
        _ => None,
    }
}

/// A timestamp or a date as milliseconds since the epoch; times without a zone are UTC.
fn as_time(value: &Value) -> Option<i64> {
    let text = value.as_str()?.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.timestamp_millis());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Some(time.and_utc().timestamp_millis());
        }
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// A cell as text: strings as they are, null as "(null)", anything else as JSON.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "(null)".into(),
        other => other.to_string(),
    }
}

/// A value for a tooltip or the table: plain up to 15 digits, else in exponent form.
fn format_value(value: f64) -> String {
    let magnitude = value.abs();
    if value != 0.0 && !(1e-4..1e15).contains(&magnitude) {
        format!("{value:e}")
    } else {
        let rounded = (value * 1e6).round() / 1e6;
        format!("{rounded}")
    }
}

fn format_time(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(time) if ms % 1000 != 0 => time.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string(),
        Some(time) if ms % 86_400_000 == 0 => time.format("%Y-%m-%d").to_string(),
        Some(time) => time.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => ms.to_string(),
    }
}

/// Ticks of a linear axis: steps of 1, 2 or 5 times a power of ten, about `target` of them,
/// and the domain they span (which contains `low..=high`). Equal ends are widened so a single
/// point or a flat series still gets an axis.
fn nice_ticks(low: f64, high: f64, target: usize) -> (f64, f64, Vec<f64>) {
    // Far beyond any chart's values, and small enough that the span stays finite.
    const LIMIT: f64 = 1e300;
    let (mut low, mut high) = (low.clamp(-LIMIT, LIMIT), high.clamp(-LIMIT, LIMIT));
    if !low.is_finite() || !high.is_finite() || low > high {
        (low, high) = (0.0, 1.0);
    }
    if low == high {
        // A tenth either side; a fixed 1 around values too small for a tenth to count.
        let pad = if low.abs() < 1e-200 {
            1.0
        } else {
            low.abs() / 10.0
        };
        (low, high) = (low - pad, high + pad);
    }
    let raw_step = (high - low) / target.max(1) as f64;
    let power = 10f64.powf(raw_step.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|factor| factor * power)
        .find(|step| *step >= raw_step)
        .unwrap_or(10.0 * power);
    if !step.is_finite() || step <= 0.0 {
        return (low, high, vec![low, high]);
    }
    let start = (low / step).floor() * step;
    let end = (high / step).ceil() * step;
    let count = ((end - start) / step).round().clamp(1.0, 100.0) as usize;
    let ticks = (0..=count).map(|i| start + i as f64 * step).collect();
    (start, end, ticks)
}

/// A tick label: as many decimals as the step needs, thousands as k, M, G, T.
fn format_tick(value: f64, step: f64) -> String {
    let magnitude = value.abs().max(step.abs());
    if magnitude >= 1e15 || (magnitude < 1e-6 && value != 0.0) {
        return format!("{value:.1e}");
    }
    let (scale, suffix) = match magnitude {
        m if m >= 1e12 => (1e12, "T"),
        m if m >= 1e9 => (1e9, "G"),
        m if m >= 1e6 => (1e6, "M"),
        m if m >= 1e4 => (1e3, "k"),
        _ => (1.0, ""),
    };
    let scaled_step = (step / scale).abs();
    let decimals = if scaled_step > 0.0 && scaled_step < 1.0 {
        (-scaled_step.log10().floor()).clamp(0.0, 10.0) as usize
    } else {
        0
    };
    let scaled = value / scale;
    // Avoid "-0".
    let scaled = if scaled.abs() < scaled_step / 2.0 {
        0.0
    } else {
        scaled
    };
    format!("{scaled:.decimals$}{suffix}")
}

/// A unit of time ticks: a fixed number of milliseconds, or calendar months.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TimeStep {
    Millis(i64),
    Months(i64),
}

/// Ticks of a time axis at a sensible unit (seconds, minutes, hours, days, weeks, months,
/// years), about `target` of them within `low..=high`, labelled in UTC.
fn time_ticks(low: i64, high: i64, target: usize) -> Vec<(i64, String)> {
    const SECOND: i64 = 1000;
    const MINUTE: i64 = 60 * SECOND;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    let steps = [
        TimeStep::Millis(SECOND),
        TimeStep::Millis(2 * SECOND),
        TimeStep::Millis(5 * SECOND),
        TimeStep::Millis(10 * SECOND),
        TimeStep::Millis(15 * SECOND),
        TimeStep::Millis(30 * SECOND),
        TimeStep::Millis(MINUTE),
        TimeStep::Millis(2 * MINUTE),
        TimeStep::Millis(5 * MINUTE),
        TimeStep::Millis(10 * MINUTE),
        TimeStep::Millis(15 * MINUTE),
        TimeStep::Millis(30 * MINUTE),
        TimeStep::Millis(HOUR),
        TimeStep::Millis(2 * HOUR),
        TimeStep::Millis(3 * HOUR),
        TimeStep::Millis(6 * HOUR),
        TimeStep::Millis(12 * HOUR),
        TimeStep::Millis(DAY),
        TimeStep::Millis(2 * DAY),
        TimeStep::Millis(7 * DAY),
        TimeStep::Months(1),
        TimeStep::Months(3),
        TimeStep::Months(6),
        TimeStep::Months(12),
        TimeStep::Months(24),
        TimeStep::Months(60),
        TimeStep::Months(120),
        TimeStep::Months(600),
        TimeStep::Months(1200),
        TimeStep::Months(6000),
    ];
    let span = high.saturating_sub(low).max(1);
    let target = target.max(1) as i64;
    let step = steps
        .iter()
        .copied()
        .find(|step| match step {
            TimeStep::Millis(ms) => span / ms <= target,
            TimeStep::Months(months) => span / (months * 30 * DAY) <= target,
        })
        .unwrap_or(TimeStep::Months(6000));
    let spans_days = span > DAY || low.div_euclid(DAY) != high.div_euclid(DAY);
    let label = |ms: i64| -> String {
        let Some(time) = Utc.timestamp_millis_opt(ms).single() else {
            return ms.to_string();
        };
        let format = match step {
            TimeStep::Millis(unit) if unit < MINUTE => "%H:%M:%S",
            TimeStep::Millis(unit) if unit < DAY && spans_days => "%m-%d %H:%M",
            TimeStep::Millis(unit) if unit < DAY => "%H:%M",
            TimeStep::Millis(_) => "%Y-%m-%d",
            TimeStep::Months(months) if months < 12 => "%Y-%m",
            TimeStep::Months(_) => "%Y",
        };
        time.format(format).to_string()
    };
    let mut ticks = Vec::new();
    match step {
        TimeStep::Millis(unit) => {
            let mut at = low.div_euclid(unit).saturating_mul(unit);
            if at < low {
                at = at.saturating_add(unit);
            }
            while at <= high && ticks.len() < 100 {
                ticks.push((at, label(at)));
                at = at.saturating_add(unit);
            }
        }
        TimeStep::Months(months) => {
            let Some(start) = Utc.timestamp_millis_opt(low).single() else {
                return ticks;
            };
            // Month starts that are multiples of the step (January for years).
            let mut month_index = i64::from(start.year()) * 12 + i64::from(start.month0());
            month_index = month_index.div_euclid(months) * months;
            while ticks.len() < 100 {
                let year = month_index.div_euclid(12);
                let month0 = month_index.rem_euclid(12);
                let Some(at) = i32::try_from(year)
                    .ok()
                    .and_then(|year| {
                        Utc.with_ymd_and_hms(year, month0 as u32 + 1, 1, 0, 0, 0)
                            .single()
                    })
                    .map(|time| time.timestamp_millis())
                else {
                    break;
                };
                if at > high {
                    break;
                }
                if at >= low {
                    ticks.push((at, label(at)));
                }
                month_index += months;
            }
        }
    }
    ticks
}

/// The marker of a series at (x, y): a shape per series, so points differ without colour.
fn marker_path(style: usize, x: f64, y: f64) -> String {
    let r = 3.5;
    let (x, y) = (num(x), num(y));
    match style % SERIES_STYLES {
        0 => format!(
            "M{x},{y} m-{r},0 a{r},{r} 0 1,0 {d},0 a{r},{r} 0 1,0 -{d},0",
            d = 2.0 * r
        ),
        1 => format!("M{x},{y} m-{r},-{r} h7 v7 h-7 z"),
        2 => format!("M{x},{y} m0,-4 l4,7 h-8 z"),
        3 => format!("M{x},{y} m0,-4.5 l4.5,4.5 l-4.5,4.5 l-4.5,-4.5 z"),
        4 => format!("M{x},{y} m0,4 l4,-7 h-8 z"),
        5 => format!("M{x},{y} m-3.5,-3.5 l7,7 m0,-7 l-7,7"),
        6 => format!("M{x},{y} m-4,0 h8 m-4,-4 v8"),
        _ => format!("M{x},{y} m-3,-3 h6 v6 h-6 z m3,-1.5 v9 m-4.5,-4.5 h9"),
    }
}

/// Where the data goes on the page.
struct Plot {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    y_low: f64,
    y_high: f64,
    x_low: f64,
    x_high: f64,
}

impl Plot {
    fn y(&self, value: f64) -> f64 {
        let fraction = (value - self.y_low) / (self.y_high - self.y_low);
        self.top + self.height * (1.0 - fraction.clamp(-0.05, 1.05))
    }

    fn x(&self, value: f64) -> f64 {
        let span = self.x_high - self.x_low;
        let fraction = if span > 0.0 {
            (value - self.x_low) / span
        } else {
            0.5
        };
        self.left + self.width * fraction.clamp(0.0, 1.0)
    }
}

/// Renders the chart as a `<figure>` holding the SVG and its hidden data table; without any
/// finite value, a "no rows to chart" message instead.
#[allow(dead_code)] // until the SQL, dashboard and stream pages draw charts
pub(crate) fn render_svg(chart: &Chart) -> String {
    let width = f64::from(chart.width.clamp(240, 4000));
    let height = f64::from(chart.height.clamp(160, 3000));
    let kind = chart.kind.name();
    let point_count = chart.x.len().min(
        chart
            .series
            .iter()
            .map(|s| s.values.len())
            .max()
            .unwrap_or(0),
    );
    let finite: Vec<f64> = chart
        .series
        .iter()
        .flat_map(|series| series.values.iter().take(point_count).flatten())
        .copied()
        .filter(|value| value.is_finite())
        .collect();
    let title = if chart.title.is_empty() {
        format!("{} chart", capitalised(kind))
    } else {
        chart.title.clone()
    };
    let mut out = String::new();
    let _ = write!(out, r#"<figure class="chart-figure">"#);
    if finite.is_empty() {
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" aria-label="{}: no rows to chart" viewBox="0 0 {w} 80" width="{w}" height="80"><text class="chart-empty" x="{}" y="44" text-anchor="middle">No rows to chart</text>"#,
            xml_escape(&title),
            num(width / 2.0),
            w = num(width),
        );
        push_notes(&mut out, &chart.notes, 70.0, 16.0);
        out.push_str("</svg></figure>");
        return out;
    }

    // Bars: at most MAX_BARS x values.
    let shown = if chart.kind == ChartKind::Bar {
        point_count.min(MAX_BARS)
    } else {
        point_count
    };
    let mut notes = chart.notes.clone();
    if shown < point_count {
        notes.push(format!("showing the first {shown} of {point_count} bars"));
    }
    let (y_min, y_max) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| {
            (low.min(*v), high.max(*v))
        });
    // Bars and areas stand on zero.
    let (y_min, y_max) = if matches!(chart.kind, ChartKind::Bar | ChartKind::Area) {
        (y_min.min(0.0), y_max.max(0.0))
    } else {
        (y_min, y_max)
    };
    let (y_low, y_high, y_ticks) = nice_ticks(y_min, y_max, 5);
    let y_step = y_ticks
        .get(1)
        .zip(y_ticks.first())
        .map_or(1.0, |(b, a)| b - a);

    // Legend rows, packed by the names' estimated widths.
    let legend_items: Vec<(usize, String, f64)> = chart
        .series
        .iter()
        .enumerate()
        .map(|(index, series)| {
            let name = truncate(&series.name, 30);
            let item_width = 34.0 + FONT_WIDTH * name.chars().count() as f64 + 16.0;
            (index, name, item_width)
        })
        .collect();
    let mut legend_rows: Vec<Vec<(usize, String, f64)>> = Vec::new();
    let mut row_width = 0.0;
    for item in legend_items {
        if legend_rows.is_empty() || row_width + item.2 > width - 80.0 {
            legend_rows.push(Vec::new());
            row_width = 0.0;
        }
        row_width += item.2;
        if let Some(row) = legend_rows.last_mut() {
            row.push(item);
        }
    }
    // One series named by the y axis needs no legend.
    let show_legend = chart.series.len() > 1 || chart.y_label.is_empty();
    let legend_rows: Vec<_> = legend_rows
        .into_iter()
        .take(if show_legend { 4 } else { 0 })
        .collect();
    let title_height = if chart.title.is_empty() { 8.0 } else { 28.0 };
    let legend_top = title_height;
    let top = legend_top + legend_rows.len() as f64 * 18.0 + 10.0;

    // X ticks and labels.
    enum XTicks {
        Linear(Vec<(f64, String)>),
        Bands {
            labels: Vec<String>,
            rotated: bool,
            every: usize,
        },
    }
    let is_bands = matches!(chart.x, XValues::Categories(_)) || chart.kind == ChartKind::Bar;
    // Room for the y tick labels (and the y label), and for rotated x labels leaning left.
    let left =
        if is_bands { 80.0 } else { 64.0 } + if chart.y_label.is_empty() { 0.0 } else { 16.0 };
    let plot_width = (width - left - 24.0).max(40.0);
    let (x_low, x_high, x_ticks) = match &chart.x {
        _ if is_bands => {
            let band = plot_width / shown.max(1) as f64;
            let labels: Vec<String> = (0..shown).map(|index| chart.x.text(index)).collect();
            let longest = labels
                .iter()
                .map(|l| l.chars().count().min(16))
                .max()
                .unwrap_or(0) as f64;
            let rotated = longest * FONT_WIDTH > band - 4.0;
            // Rotated labels still need about 12 px each.
            let every = if rotated {
                (12.0 / band).ceil().max(1.0) as usize
            } else {
                1
            };
            (
                0.0,
                shown as f64,
                XTicks::Bands {
                    labels,
                    rotated,
                    every,
                },
            )
        }
        XValues::Numbers(values) => {
            let finite_x = values.iter().take(shown).copied().filter(|v| v.is_finite());
            let (low, high) = finite_x.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(v), h.max(v))
            });
            let (low, high, ticks) = nice_ticks(low, high, (plot_width / 90.0).max(2.0) as usize);
            let step = ticks.get(1).zip(ticks.first()).map_or(1.0, |(b, a)| b - a);
            let labelled = ticks.iter().map(|&t| (t, format_tick(t, step))).collect();
            (low, high, XTicks::Linear(labelled))
        }
        XValues::Times(values) => {
            let shown_values = values.iter().take(shown);
            let low = shown_values.clone().min().copied().unwrap_or(0);
            let high = shown_values.max().copied().unwrap_or(0);
            // One point: an hour either side.
            let (low, high) = if low == high {
                (
                    low.saturating_sub(3_600_000),
                    high.saturating_add(3_600_000),
                )
            } else {
                (low, high)
            };
            let ticks = time_ticks(low, high, (plot_width / 110.0).max(2.0) as usize);
            let labelled = ticks
                .into_iter()
                .map(|(t, label)| (t as f64, label))
                .collect();
            (low as f64, high as f64, XTicks::Linear(labelled))
        }
        XValues::Categories(_) => (0.0, shown as f64, XTicks::Linear(Vec::new())),
    };
    let rotated_room = match &x_ticks {
        XTicks::Bands { rotated: true, .. } => 80.0,
        _ => 0.0,
    };
    let x_label_room = if chart.x_label.is_empty() { 0.0 } else { 18.0 };
    let bottom = 28.0 + rotated_room + x_label_room + notes.len().min(4) as f64 * 15.0;
    let plot = Plot {
        left,
        top,
        width: plot_width,
        height: (height - top - bottom).max(40.0),
        y_low,
        y_high,
        x_low,
        x_high,
    };
    let height = plot.top + plot.height + bottom;

    let x_description = match &chart.x {
        XValues::Times(_) => format!("{} (UTC)", chart.x_label),
        _ => chart.x_label.clone(),
    };
    let series_names: Vec<&str> = chart.series.iter().map(|s| s.name.as_str()).collect();
    let summary = format!(
        "{title}: {kind} chart of {} by {}, {shown} points, values from {} to {}",
        series_names.join(", "),
        if x_description.is_empty() {
            "x"
        } else {
            x_description.as_str()
        },
        format_value(y_min),
        format_value(y_max),
    );
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" aria-label="{}" viewBox="0 0 {w} {h}" width="{w}" height="{h}">"#,
        xml_escape(&summary),
        w = num(width),
        h = num(height),
    );
    if !chart.title.is_empty() {
        let _ = write!(
            out,
            r#"<text class="chart-title" x="{}" y="18">{}</text>"#,
            num(left),
            xml_escape(&truncate(&chart.title, 100))
        );
    }

    // Legend: a short line with the series' dash pattern and marker, then its name.
    if show_legend {
        out.push_str(r#"<g class="legend">"#);
        for (row_index, row) in legend_rows.iter().enumerate() {
            let y = legend_top + row_index as f64 * 18.0 + 10.0;
            let mut x = left;
            for (index, name, item_width) in row {
                let style = index % SERIES_STYLES;
                let _ = write!(out, r#"<g class="legend-item series-{style}">"#);
                if chart.kind == ChartKind::Bar {
                    let _ = write!(
                        out,
                        r#"<rect class="bar series-{style}" fill="currentColor" x="{}" y="{}" width="22" height="10"/>"#,
                        num(x),
                        num(y - 5.0)
                    );
                } else {
                    let _ = write!(
                        out,
                        r#"<path class="line series-{style}" fill="none" stroke="currentColor" stroke-width="2" d="M{},{} h22"{}/>"#,
                        num(x),
                        num(y),
                        dash_attribute(style)
                    );
                }
                let _ = write!(
                    out,
                    r#"<path class="marker series-{style}" fill="none" stroke="currentColor" d="{}"/><text x="{}" y="{}" fill="currentColor">{}</text></g>"#,
                    marker_path(style, x + 11.0, y),
                    num(x + 28.0),
                    num(y + 4.0),
                    xml_escape(name)
                );
                x += item_width;
            }
        }
        out.push_str("</g>");
    }

    // Grid and y axis.
    out.push_str(r#"<g class="axis axis-y">"#);
    for &tick in &y_ticks {
        let y = plot.y(tick);
        let _ = write!(
            out,
            r#"<line class="grid" stroke="currentColor" stroke-opacity="0.15" x1="{}" x2="{}" y1="{y}" y2="{y}"/><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"#,
            num(plot.left),
            num(plot.left + plot.width),
            num(plot.left - 6.0),
            num(y + 4.0),
            xml_escape(&format_tick(tick, y_step)),
            y = num(y),
        );
    }
    let _ = write!(
        out,
        r#"<line class="axis-line" stroke="currentColor" x1="{x}" x2="{x}" y1="{}" y2="{}"/>"#,
        num(plot.top),
        num(plot.top + plot.height),
        x = num(plot.left)
    );
    if !chart.y_label.is_empty() {
        let (x, y) = (14.0, plot.top + plot.height / 2.0);
        let _ = write!(
            out,
            r#"<text class="axis-label" x="{x}" y="{y}" text-anchor="middle" transform="rotate(-90 {x} {y})">{}</text>"#,
            xml_escape(&truncate(&chart.y_label, 40)),
            x = num(x),
            y = num(y)
        );
    }
    out.push_str("</g>");

    // X axis.
    let baseline = plot.top + plot.height;
    let band = plot.width / shown.max(1) as f64;
    let x_of = |index: usize| -> f64 {
        match &chart.x {
            _ if is_bands => plot.left + band * (index as f64 + 0.5),
            XValues::Numbers(values) => values.get(index).map_or(plot.left, |v| plot.x(*v)),
            XValues::Times(values) => values.get(index).map_or(plot.left, |v| plot.x(*v as f64)),
            XValues::Categories(_) => plot.left + band * (index as f64 + 0.5),
        }
    };
    out.push_str(r#"<g class="axis axis-x">"#);
    let _ = write!(
        out,
        r#"<line class="axis-line" stroke="currentColor" x1="{}" x2="{}" y1="{y}" y2="{y}"/>"#,
        num(plot.left),
        num(plot.left + plot.width),
        y = num(baseline)
    );
    match &x_ticks {
        XTicks::Linear(ticks) => {
            for (value, label) in ticks {
                let x = plot.x(*value);
                let _ = write!(
                    out,
                    r#"<line class="grid" stroke="currentColor" stroke-opacity="0.15" x1="{x}" x2="{x}" y1="{}" y2="{}"/><text class="tick" x="{x}" y="{}" text-anchor="middle">{}</text>"#,
                    num(plot.top),
                    num(baseline),
                    num(baseline + 16.0),
                    xml_escape(label),
                    x = num(x),
                );
            }
        }
        XTicks::Bands {
            labels,
            rotated,
            every,
        } => {
            for (index, label) in labels.iter().enumerate().step_by((*every).max(1)) {
                let x = x_of(index);
                let text = xml_escape(&truncate(label, if *rotated { 16 } else { 24 }));
                let full = xml_escape(label);
                if *rotated {
                    let y = baseline + 10.0;
                    let _ = write!(
                        out,
                        r#"<text class="tick" x="{x}" y="{y}" text-anchor="end" transform="rotate(-45 {x} {y})"><title>{full}</title>{text}</text>"#,
                        x = num(x),
                        y = num(y)
                    );
                } else {
                    let _ = write!(
                        out,
                        r#"<text class="tick" x="{}" y="{}" text-anchor="middle"><title>{full}</title>{text}</text>"#,
                        num(x),
                        num(baseline + 16.0)
                    );
                }
            }
        }
    }
    if !x_description.is_empty() {
        let _ = write!(
            out,
            r#"<text class="axis-label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            num(plot.left + plot.width / 2.0),
            num(baseline + 24.0 + rotated_room + 8.0),
            xml_escape(&truncate(&x_description, 60))
        );
    }
    out.push_str("</g>");

    // The series.
    // A point whose numeric x is not finite has nowhere to go.
    let x_is_finite = |at: usize| match &chart.x {
        XValues::Numbers(values) if !is_bands => values.get(at).is_some_and(|v| v.is_finite()),
        _ => true,
    };
    out.push_str(r#"<g class="plot">"#);
    let series_count = chart.series.len().max(1);
    let zero = plot.y(0.0f64.clamp(y_low, y_high));
    for (index, series) in chart.series.iter().enumerate() {
        let style = index % SERIES_STYLES;
        let name = xml_escape(&series.name);
        let points: Vec<Option<(usize, f64)>> = (0..shown)
            .map(|at| {
                series
                    .values
                    .get(at)
                    .copied()
                    .flatten()
                    .filter(|v| v.is_finite() && x_is_finite(at))
                    .map(|v| (at, v))
            })
            .collect();
        let tooltip = |at: usize, value: f64| {
            format!(
                "{}: {name} = {}",
                xml_escape(&chart.x.text(at)),
                format_value(value)
            )
        };
        let _ = write!(out, r#"<g class="series series-{style}">"#);
        match chart.kind {
            ChartKind::Bar => {
                let slot = band * 0.8 / series_count as f64;
                for &(at, value) in points.iter().flatten() {
                    let x = plot.left + band * at as f64 + band * 0.1 + slot * index as f64;
                    let y = plot.y(value);
                    let _ = write!(
                        out,
                        r#"<rect class="bar series-{style}" fill="currentColor" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>"#,
                        num(x),
                        num(y.min(zero)),
                        num((slot - 1.0).max(0.5)),
                        num((y - zero).abs()),
                        tooltip(at, value)
                    );
                }
            }
            ChartKind::Line | ChartKind::Area | ChartKind::Scatter => {
                // Runs of consecutive points: a missing value breaks the line.
                let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
                let mut current: Vec<(f64, f64)> = Vec::new();
                for point in &points {
                    match point {
                        Some((at, value)) => current.push((x_of(*at), plot.y(*value))),
                        None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
                        None => {}
                    }
                }
                if !current.is_empty() {
                    runs.push(current);
                }
                if chart.kind != ChartKind::Scatter {
                    for run in &runs {
                        let line: Vec<String> = run
                            .iter()
                            .map(|(x, y)| format!("{},{}", num(*x), num(*y)))
                            .collect();
                        if let (ChartKind::Area, Some(first), Some(last)) =
                            (chart.kind, run.first(), run.last())
                        {
                            let _ = write!(
                                out,
                                r#"<path class="area series-{style}" fill="currentColor" fill-opacity="0.2" d="M{},{} L{} L{},{} z"/>"#,
                                num(first.0),
                                num(zero),
                                line.join(" "),
                                num(last.0),
                                num(zero)
                            );
                        }
                        let _ = write!(
                            out,
                            r#"<path class="line series-{style}" fill="none" stroke="currentColor" stroke-width="2" d="M{}"{}/>"#,
                            line.join(" L"),
                            dash_attribute(style)
                        );
                    }
                }
                let marked = points.iter().flatten().count();
                if chart.kind == ChartKind::Scatter || marked <= MAX_MARKERS {
                    for &(at, value) in points.iter().flatten() {
                        let _ = write!(
                            out,
                            r#"<path class="marker series-{style}" fill="none" stroke="currentColor" d="{}"><title>{}</title></path>"#,
                            marker_path(style, x_of(at), plot.y(value)),
                            tooltip(at, value)
                        );
                    }
                }
            }
        }
        out.push_str("</g>");
    }
    out.push_str("</g>");
    push_notes(
        &mut out,
        &notes,
        height - notes.len().min(4) as f64 * 15.0 + 10.0,
        plot.left,
    );
    out.push_str("</svg>");
    data_table(&mut out, chart, &title, shown);
    out.push_str("</figure>");
    out
}

/// The series' dash pattern as an attribute: structure, not colour, so it stays out of CSS.
fn dash_attribute(style: usize) -> String {
    match DASHES.get(style) {
        Some(dashes) if !dashes.is_empty() => format!(r#" stroke-dasharray="{dashes}""#),
        _ => String::new(),
    }
}

fn push_notes(out: &mut String, notes: &[String], top: f64, left: f64) {
    for (index, note) in notes.iter().take(4).enumerate() {
        let _ = write!(
            out,
            r#"<text class="chart-note" x="{}" y="{}">{}</text>"#,
            num(left),
            num(top + index as f64 * 15.0),
            xml_escape(&truncate(note, 120))
        );
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The data as a table for screen readers, at most MAX_TABLE_ROWS rows.
fn data_table(out: &mut String, chart: &Chart, title: &str, shown: usize) {
    let _ = write!(
        out,
        r#"<table class="sr-only"><caption>{}</caption><thead><tr><th scope="col">{}</th>"#,
        xml_escape(title),
        xml_escape(if chart.x_label.is_empty() {
            "x"
        } else {
            &chart.x_label
        })
    );
    for series in &chart.series {
        let _ = write!(out, r#"<th scope="col">{}</th>"#, xml_escape(&series.name));
    }
    out.push_str("</tr></thead><tbody>");
    for at in 0..shown.min(MAX_TABLE_ROWS) {
        let _ = write!(
            out,
            r#"<tr><th scope="row">{}</th>"#,
            xml_escape(&chart.x.text(at))
        );
        for series in &chart.series {
            let cell = series
                .values
                .get(at)
                .copied()
                .flatten()
                .filter(|v| v.is_finite())
                .map(format_value)
                .unwrap_or_default();
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    if shown > MAX_TABLE_ROWS {
        let _ = write!(
            out,
            r#"<p class="sr-only">The table shows the first {MAX_TABLE_ROWS} of {shown} points.</p>"#
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::layout::tests::assert_well_formed;
    use proptest::prelude::*;
    use serde_json::json;

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    fn line_chart(x: XValues, series: Vec<Series>) -> Chart {
        Chart {
            kind: ChartKind::Line,
            title: "Orders".into(),
            x_label: "day".into(),
            y_label: String::new(),
            x,
            series,
            width: 720,
            height: 360,
            notes: Vec::new(),
        }
    }

    fn series(name: &str, values: &[Option<f64>]) -> Series {
        Series {
            name: name.into(),
            values: values.to_vec(),
        }
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    #[test]
    fn ticks_step_by_one_two_or_five() {
        assert_eq!(
            nice_ticks(0.0, 97.0, 5),
            (0.0, 100.0, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0])
        );
        let (low, high, ticks) = nice_ticks(0.13, 0.92, 5);
        assert_eq!((low, high, ticks.len()), (0.0, 1.0, 6));
        let (low, high, ticks) = nice_ticks(-3.0, 1234.0, 5);
        assert_eq!((low, high), (-500.0, 1500.0));
        assert_eq!(ticks[1] - ticks[0], 500.0);
        // A single value or all-equal values still get an axis around them.
        let (low, high, ticks) = nice_ticks(42.0, 42.0, 5);
        assert!(
            low < 42.0 && high > 42.0 && ticks.len() >= 2,
            "{low} {high} {ticks:?}"
        );
        let (low, high, _) = nice_ticks(5e-324, 5e-324, 5);
        assert!(low < 0.0 && high > 0.0);
        let (low, high, _) = nice_ticks(0.0, 0.0, 5);
        assert!(low < 0.0 && high > 0.0);
        // Nonsense and extremes do not panic and give a finite axis.
        for (a, b) in [
            (f64::NAN, 1.0),
            (f64::NEG_INFINITY, f64::INFINITY),
            (-f64::MAX, f64::MAX),
            (5.0, 1.0),
            (1e-300, 2e-300),
        ] {
            let (low, high, ticks) = nice_ticks(a, b, 5);
            assert!(
                low.is_finite()
                    && high.is_finite()
                    && low < high
                    && !ticks.is_empty()
                    && ticks.len() <= 101
            );
        }
    }

    #[test]
    fn tick_labels_use_the_step_precision_and_suffixes() {
        assert_eq!(format_tick(0.25, 0.05), "0.25");
        assert_eq!(format_tick(40.0, 20.0), "40");
        assert_eq!(format_tick(1_500_000.0, 500_000.0), "1.5M");
        assert_eq!(format_tick(20_000.0, 5_000.0), "20k");
        assert_eq!(format_tick(3e9, 1e9), "3G");
        assert_eq!(format_tick(-1e-17, 0.2), "0.0");
        assert_eq!(format_tick(2e20, 1e20), "2.0e20");
        assert_eq!(format_value(1.0 / 3.0), "0.333333");
        assert_eq!(format_value(12.0), "12");
    }

    #[test]
    fn time_ticks_fall_on_sensible_utc_units() {
        let day = |text: &str| as_time(&json!(text)).unwrap_or_default();
        let start = day("2024-03-01T00:00:00Z");
        let ticks = time_ticks(start, start + 86_400_000, 6);
        let labels: Vec<&str> = ticks.iter().map(|(_, label)| label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "03-01 00:00",
                "03-01 06:00",
                "03-01 12:00",
                "03-01 18:00",
                "03-02 00:00"
            ]
        );
        // Minutes within an hour: no date.
        let ticks = time_ticks(start + 60_000, start + 50 * 60_000, 5);
        assert_eq!(ticks.first().map(|(_, l)| l.as_str()), Some("00:10"));
        // Seconds.
        let ticks = time_ticks(start + 1_500, start + 9_000, 4);
        assert_eq!(ticks.first().map(|(_, l)| l.as_str()), Some("00:00:02"));
        // Months start on the first of the month; years on January the first.
        let ticks = time_ticks(day("2023-11-17"), day("2024-04-02"), 6);
        let labels: Vec<&str> = ticks.iter().map(|(_, label)| label.as_str()).collect();
        assert_eq!(
            labels,
            ["2023-12", "2024-01", "2024-02", "2024-03", "2024-04"]
        );
        assert_eq!(ticks[1].0, day("2024-01-01"));
        let ticks = time_ticks(day("2001-05-05"), day("2024-01-01"), 6);
        assert!(ticks.iter().all(|(_, label)| label.len() == 4), "{ticks:?}");
        // Extremes do not panic.
        assert!(time_ticks(i64::MIN, i64::MAX, 6).len() <= 100);
        assert!(time_ticks(5, 5, 0).len() <= 100);
    }

    #[test]
    fn rows_become_numbers_times_or_categories() {
        let names = columns(&["n", "when", "city", "total", "label"]);
        let rows = vec![
            vec![
                json!(3),
                json!("2024-01-03"),
                json!("Oslo"),
                json!("12.5"),
                json!("a"),
            ],
            vec![
                json!("1"),
                json!("2024-01-01T10:00:00Z"),
                json!("Rome"),
                json!(7),
                json!("b"),
            ],
            vec![
                json!(2.5),
                json!("2024-01-02 08:30:00"),
                json!("Lima"),
                json!(null),
                json!(1),
            ],
        ];
        let by_number = from_rows(ChartKind::Line, &names, &rows, "n", &columns(&["total"]));
        let chart = by_number.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(chart.x, XValues::Numbers(vec![1.0, 2.5, 3.0]));
        assert_eq!(
            chart.series,
            vec![series("total", &[Some(7.0), None, Some(12.5)])]
        );
        assert_eq!(chart.y_label, "total");

        let by_time = from_rows(
            ChartKind::Bar,
            &names,
            &rows,
            "when",
            &columns(&["total", "n"]),
        );
        let chart = by_time.unwrap_or_else(|e| panic!("{e}"));
        let XValues::Times(times) = &chart.x else {
            panic!("{:?}", chart.x)
        };
        assert_eq!(times.len(), 3);
        assert!(times.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(format_time(times[0]), "2024-01-01 10:00:00 UTC");
        assert_eq!(format_time(times[2]), "2024-01-03");
        assert_eq!(
            chart.series[1].values,
            vec![Some(1.0), Some(2.5), Some(3.0)]
        );

        let by_city = from_rows(
            ChartKind::Bar,
            &names,
            &rows,
            "city",
            &columns(&["total", "label", "nope"]),
        );
        let chart = by_city.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            chart.x,
            XValues::Categories(columns(&["Oslo", "Rome", "Lima"]))
        );
        assert_eq!(chart.series.len(), 1);
        assert_eq!(
            chart.notes,
            [
                "`label` left out: not numeric (e.g. a)",
                "`nope` left out: the result has no such column"
            ]
        );
    }

    #[test]
    fn rows_that_cannot_be_charted_say_why() {
        let names = columns(&["a", "b"]);
        let rows = vec![vec![json!("x"), json!("y")]];
        let missing_x = from_rows(ChartKind::Bar, &names, &rows, "c", &columns(&["b"]));
        assert_eq!(
            missing_x,
            Err("the result has no column `c` for the x axis".into())
        );
        let no_y = from_rows(ChartKind::Bar, &names, &rows, "a", &[]);
        assert_eq!(
            no_y,
            Err("choose at least one column for the y axis".into())
        );
        let text_y = from_rows(ChartKind::Bar, &names, &rows, "a", &columns(&["b"]));
        assert_eq!(
            text_y,
            Err("nothing to plot: `b` left out: not numeric (e.g. y)".into())
        );
        // Rows without an x are dropped from a numeric axis, with a note.
        let rows = vec![vec![json!(1), json!(2)], vec![json!(null), json!(3)]];
        let chart = from_rows(ChartKind::Line, &names, &rows, "a", &columns(&["b"]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(chart.x, XValues::Numbers(vec![1.0]));
        assert_eq!(chart.notes, ["1 rows without a `a` left out"]);
    }

    #[test]
    fn empty_data_says_there_is_nothing_to_chart() {
        for chart in [
            line_chart(XValues::Numbers(Vec::new()), Vec::new()),
            line_chart(
                XValues::Numbers(vec![1.0, 2.0]),
                vec![series("s", &[None, Some(f64::NAN)])],
            ),
            from_rows(
                ChartKind::Bar,
                &columns(&["x", "y"]),
                &[],
                "x",
                &columns(&["y"]),
            )
            .unwrap_or_else(|e| panic!("{e}")),
        ] {
            let svg = render_svg(&chart);
            assert!(
                svg.contains("No rows to chart") && svg.contains("no rows to chart"),
                "{svg}"
            );
            assert_well_formed(&svg);
        }
    }

    #[test]
    fn a_line_chart_has_axes_markers_tooltips_a_legend_and_a_table() {
        let chart = line_chart(
            XValues::Numbers(vec![1.0, 2.0, 3.0, 4.0]),
            vec![
                series(
                    "orders",
                    &[Some(10.0), Some(f64::INFINITY), Some(30.0), Some(25.0)],
                ),
                series("returns", &[Some(1.0), Some(2.0), None, Some(f64::NAN)]),
            ],
        );
        let svg = render_svg(&chart);
        assert_well_formed(&svg);
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-label="Orders: line chart of orders, returns by day, 4 points, values from 1 to 30""#), "{svg}");
        // Non-finite values are gaps: orders has two runs, returns one.
        assert_eq!(count(&svg, r#"<path class="line series-0" fill"#), 2 + 1);
        assert_eq!(count(&svg, r#"<path class="line series-1" fill"#), 1 + 1);
        assert!(svg.contains(r#"stroke-dasharray="6 3""#));
        assert!(svg.contains("<title>3: orders = 30</title>"));
        assert_eq!(
            count(
                &svg,
                r#"<path class="marker series-0" fill="none" stroke="currentColor" d"#
            ),
            3 + 1
        );
        assert!(svg.contains(r#"<g class="legend">"#));
        assert!(svg.contains(r#"<table class="sr-only"><caption>Orders</caption>"#));
        assert!(
            svg.contains(r#"<tr><th scope="row">2</th><td></td><td>2</td></tr>"#),
            "{svg}"
        );
        for tick in [">0<", ">10<", ">20<", ">30<"] {
            assert!(svg.contains(tick), "tick {tick}");
        }
    }

    #[test]
    fn grouped_bars_and_many_categories() {
        let mut chart = line_chart(
            XValues::Categories(columns(&["a", "b", "c"])),
            vec![
                series("x", &[Some(1.0), Some(-2.0), Some(3.0)]),
                series("y", &[Some(4.0), Some(5.0), Some(6.0)]),
            ],
        );
        chart.kind = ChartKind::Bar;
        let svg = render_svg(&chart);
        assert_well_formed(&svg);
        assert_eq!(
            count(&svg, r#"<rect class="bar series-0" fill="currentColor" x"#),
            3 + 1
        );
        assert_eq!(
            count(&svg, r#"<rect class="bar series-1" fill="currentColor" x"#),
            3 + 1
        );
        assert!(svg.contains("<title>b: x = -2</title>"));

        let labels: Vec<String> = (0..300).map(|i| format!("category number {i}")).collect();
        let values: Vec<Option<f64>> = (0..300).map(|i| Some(f64::from(i))).collect();
        chart.x = XValues::Categories(labels);
        chart.series = vec![series("count", &values)];
        chart.y_label = "count".into();
        let svg = render_svg(&chart);
        assert_well_formed(&svg);
        assert_eq!(
            count(&svg, r#"<rect class="bar series-0" fill="currentColor" x"#),
            200
        );
        assert!(svg.contains("showing the first 200 of 300 bars"));
        assert!(svg.contains("rotate(-45"));
        assert!(svg.contains("category number…"));
        assert!(!svg.contains(r#"<g class="legend">"#));
    }

    #[test]
    fn single_points_and_time_series_get_sane_axes() {
        let one = line_chart(
            XValues::Times(vec![1_700_000_000_000]),
            vec![series("lag", &[Some(5.0)])],
        );
        let svg = render_svg(&one);
        assert_well_formed(&svg);
        assert!(svg.contains("day (UTC)"));
        assert!(
            svg.contains("<title>2023-11-14 22:13:20 UTC: lag = 5</title>"),
            "{svg}"
        );
        let mut scatter = line_chart(
            XValues::Numbers(vec![2.0, 2.0]),
            vec![series("s", &[Some(1.0), Some(1.0)])],
        );
        scatter.kind = ChartKind::Scatter;
        let svg = render_svg(&scatter);
        assert_well_formed(&svg);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert_eq!(
            count(
                &svg,
                r#"<path class="marker series-0" fill="none" stroke="currentColor" d"#
            ),
            2 + 1
        );
        // A point without a finite x is left out, not drawn at the axis.
        scatter.x = XValues::Numbers(vec![f64::NAN, 3.0]);
        let svg = render_svg(&scatter);
        assert_eq!(
            count(
                &svg,
                r#"<path class="marker series-0" fill="none" stroke="currentColor" d"#
            ),
            1 + 1
        );
    }

    #[test]
    fn areas_stand_on_zero_and_text_is_escaped() {
        let mut chart = line_chart(
            XValues::Categories(columns(&["<script>x</script>", "b"])),
            vec![series("<b>&", &[Some(3.0), Some(4.0)])],
        );
        chart.kind = ChartKind::Area;
        chart.title = "<script>alert(1)</script>".into();
        let svg = render_svg(&chart);
        assert_well_formed(&svg);
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(svg.contains("&lt;b&gt;&amp;"));
        assert_eq!(count(&svg, r#"<path class="area series-0" fill"#), 1);
        assert!(svg.contains(">0<"), "the axis reaches zero");
        assert_eq!(ChartKind::parse("area"), Some(ChartKind::Area));
        assert_eq!(ChartKind::parse("pie"), None);
    }

    fn arbitrary_value() -> impl Strategy<Value = Option<f64>> {
        prop_oneof![
            Just(None),
            Just(Some(f64::NAN)),
            Just(Some(f64::INFINITY)),
            Just(Some(f64::MAX)),
            Just(Some(-f64::MAX)),
            Just(Some(0.0)),
            any::<f64>().prop_map(Some),
            (-1e6f64..1e6).prop_map(Some),
        ]
    }

    fn arbitrary_chart() -> impl Strategy<Value = Chart> {
        let x = prop_oneof![
            prop::collection::vec(any::<f64>(), 0..40).prop_map(XValues::Numbers),
            prop::collection::vec(any::<i64>(), 0..40).prop_map(XValues::Times),
            prop::collection::vec(-1_000_000_000_000i64..4_000_000_000_000, 0..40)
                .prop_map(XValues::Times),
            prop::collection::vec(".{0,20}", 0..260).prop_map(XValues::Categories),
        ];
        let one_series = (".{0,12}", prop::collection::vec(arbitrary_value(), 0..50))
            .prop_map(|(name, values)| Series { name, values });
        let kind = prop::sample::select(vec![
            ChartKind::Bar,
            ChartKind::Line,
            ChartKind::Area,
            ChartKind::Scatter,
        ]);
        (
            kind,
            ".{0,20}",
            ".{0,10}",
            ".{0,10}",
            x,
            prop::collection::vec(one_series, 0..10),
            any::<u32>(),
            any::<u32>(),
        )
            .prop_map(
                |(kind, title, x_label, y_label, x, series, width, height)| Chart {
                    kind,
                    title,
                    x_label,
                    y_label,
                    x,
                    series,
                    width,
                    height,
                    notes: vec!["a <note> & more".into()],
                },
            )
    }

    fn arbitrary_json() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::from),
            prop::sample::select(vec![
                "2024-01-01",
                "2024-02-30",
                "1e400",
                "-0",
                "2024-01-01T00:00:00+14:00",
                " 3 "
            ])
            .prop_map(Value::from),
        ]
    }

    proptest! {
        #[test]
        fn any_chart_renders_well_formed_svg(chart in arbitrary_chart()) {
            let svg = render_svg(&chart);
            assert_well_formed(&svg);
            prop_assert!(!svg.contains("NaN") && !svg.contains("inf\""));
        }

        #[test]
        fn any_rows_chart_or_say_why(
            rows in prop::collection::vec(prop::collection::vec(arbitrary_json(), 0..4), 0..30),
            kind in prop::sample::select(vec![ChartKind::Bar, ChartKind::Line, ChartKind::Area, ChartKind::Scatter]),
        ) {
            let names = columns(&["a", "b", "c"]);
            match from_rows(kind, &names, &rows, "a", &columns(&["b", "c"])) {
                Ok(chart) => assert_well_formed(&render_svg(&chart)),
                Err(reason) => prop_assert!(reason.starts_with("nothing to plot")),
            }
        }
    }
}
