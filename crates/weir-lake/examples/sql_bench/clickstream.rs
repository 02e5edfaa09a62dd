//! Generated clickstream data for the query benchmark: a fact table of events, Hive-partitioned
//! by day into Parquet, and a small dimension table of countries. The skew is what real
//! clickstreams show: a few pages, countries and users account for most events.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;

use weir_lake::sql::writer_properties;

pub const FIRST_DAY: (i32, u32, u32) = (2024, 1, 1);
/// Rows per generated batch (and so per data page group handed to the writer).
const BATCH_ROWS: usize = 65_536;
const USERS: usize = 1_000_000;
const PAGES: usize = 5_000;

/// Countries: code, name, region. The first ones get most of the traffic.
pub const COUNTRIES: [(&str, &str, &str); 40] = [
    ("US", "United States", "Americas"),
    ("GB", "United Kingdom", "Europe"),
    ("DE", "Germany", "Europe"),
    ("FR", "France", "Europe"),
    ("IN", "India", "Asia"),
    ("BR", "Brazil", "Americas"),
    ("CA", "Canada", "Americas"),
    ("JP", "Japan", "Asia"),
    ("ES", "Spain", "Europe"),
    ("IT", "Italy", "Europe"),
    ("MX", "Mexico", "Americas"),
    ("NL", "Netherlands", "Europe"),
    ("AU", "Australia", "Oceania"),
    ("PL", "Poland", "Europe"),
    ("SE", "Sweden", "Europe"),
    ("KR", "South Korea", "Asia"),
    ("ID", "Indonesia", "Asia"),
    ("TR", "Turkey", "Europe"),
    ("AR", "Argentina", "Americas"),
    ("ZA", "South Africa", "Africa"),
    ("NG", "Nigeria", "Africa"),
    ("EG", "Egypt", "Africa"),
    ("BE", "Belgium", "Europe"),
    ("CH", "Switzerland", "Europe"),
    ("AT", "Austria", "Europe"),
    ("NO", "Norway", "Europe"),
    ("DK", "Denmark", "Europe"),
    ("FI", "Finland", "Europe"),
    ("IE", "Ireland", "Europe"),
    ("PT", "Portugal", "Europe"),
    ("CL", "Chile", "Americas"),
    ("CO", "Colombia", "Americas"),
    ("PE", "Peru", "Americas"),
    ("NZ", "New Zealand", "Oceania"),
    ("SG", "Singapore", "Asia"),
    ("TH", "Thailand", "Asia"),
    ("VN", "Vietnam", "Asia"),
    ("PH", "Philippines", "Asia"),
    ("KE", "Kenya", "Africa"),
    ("MA", "Morocco", "Africa"),
];

const REFERRERS: [(&str, u32); 8] = [
    ("", 35), // direct: NULL
    ("google.com", 30),
    ("facebook.com", 8),
    ("newsletter", 5),
    ("bing.com", 5),
    ("t.co", 4),
    ("reddit.com", 3),
    ("other", 10), // one of many small sites
];
const DEVICES: [(&str, u32); 3] = [("mobile", 55), ("desktop", 38), ("tablet", 7)];
const EVENTS: [(&str, u32); 5] = [
    ("page_view", 70),
    ("click", 18),
    ("search", 5),
    ("add_to_cart", 5),
    ("purchase", 2),
];

pub fn clicks_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Int64, false),
        Field::new("session_id", DataType::Int64, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("url", DataType::Utf8, false),
        Field::new("referrer", DataType::Utf8, true),
        Field::new("country", DataType::Utf8, false),
        Field::new("device", DataType::Utf8, false),
        Field::new("event_type", DataType::Utf8, false),
        Field::new("duration_ms", DataType::Int32, false),
        Field::new("revenue", DataType::Float64, true),
    ]))
}

pub fn countries_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("code", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("region", DataType::Utf8, false),
    ]))
}

/// Samples an index in `0..n` with probability proportional to 1/(i+1)^s.
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut total = 0.0;
        for i in 0..n {
            total += 1.0 / ((i + 1) as f64).powf(s);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Zipf { cdf }
    }

    fn sample(&self, rng: &mut fastrand::Rng) -> usize {
        let u = rng.f64();
        self.cdf
            .partition_point(|&c| c < u)
            .min(self.cdf.len().saturating_sub(1))
    }
}

fn weighted<'a>(choices: &[(&'a str, u32)], rng: &mut fastrand::Rng) -> &'a str {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut pick = rng.u32(0..total.max(1));
    for (value, weight) in choices {
        if pick < *weight {
            return value;
        }
        pick -= weight;
    }
    choices.last().map(|(v, _)| *v).unwrap_or("")
}

fn page_url(i: usize) -> String {
    match i {
        0 => "/".to_string(),
        1 => "/cart".to_string(),
        2 => "/checkout".to_string(),
        3 => "/search".to_string(),
        i if i % 3 == 0 => format!("/category/{i}"),
        i => format!("/product/{i}"),
    }
}

/// Midnight of day `day` (0-based from [`FIRST_DAY`]) in µs since the epoch, and its date text.
pub fn day_start(day: usize) -> (i64, String) {
    let (y, m, d) = FIRST_DAY;
    let first = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let date = first + chrono::Duration::days(day as i64);
    let micros = date
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_micros())
        .unwrap_or_default();
    (micros, date.format("%Y-%m-%d").to_string())
}

/// Writes one day of `rows` events to `path` (one Parquet file), events in time order.
pub fn write_day(path: &Path, day: usize, rows: usize, seed: u64) -> Result<(), String> {
    let mut rng = fastrand::Rng::with_seed(seed ^ (day as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let users = Zipf::new(USERS, 0.9);
    let pages = Zipf::new(PAGES, 1.05);
    let countries = Zipf::new(COUNTRIES.len(), 1.1);
    let urls: Vec<String> = (0..PAGES).map(page_url).collect();
    let (midnight, _) = day_start(day);

    // Event times through the day, in order, busier in the evening.
    let mut offsets: Vec<i64> = (0..rows)
        .map(|_| {
            let u = rng.f64();
            let skewed = (u + 0.35 * (u * std::f64::consts::PI).sin()).clamp(0.0, 0.999_999);
            (skewed * 86_400_000_000.0) as i64
        })
        .collect();
    offsets.sort_unstable();

    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let schema = clicks_schema();
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(writer_properties(&schema)))
        .map_err(|e| e.to_string())?;
    for chunk in offsets.chunks(BATCH_ROWS) {
        let n = chunk.len();
        let mut user_id = Int64Builder::with_capacity(n);
        let mut session_id = Int64Builder::with_capacity(n);
        let mut ts = TimestampMicrosecondBuilder::with_capacity(n);
        let mut url = StringBuilder::with_capacity(n, n * 14);
        let mut referrer = StringBuilder::with_capacity(n, n * 10);
        let mut country = StringBuilder::with_capacity(n, n * 2);
        let mut device = StringBuilder::with_capacity(n, n * 7);
        let mut event = StringBuilder::with_capacity(n, n * 9);
        let mut duration = Int32Builder::with_capacity(n);
        let mut revenue = Float64Builder::with_capacity(n);
        for &offset in chunk {
            let user = users.sample(&mut rng) as i64 + 1;
            user_id.append_value(user);
            // A session: one user's events within a three-hour window of one day.
            let window = offset / (3 * 3_600_000_000);
            session_id.append_value(user * 1000 + (day as i64) * 8 + window);
            ts.append_value(midnight + offset);
            let kind = weighted(&EVENTS, &mut rng);
            let page = match kind {
                "purchase" => 2,
                "add_to_cart" => 1,
                "search" => 3,
                _ => pages.sample(&mut rng),
            };
            url.append_value(&urls[page]);
            match weighted(&REFERRERS, &mut rng) {
                "" => referrer.append_null(),
                "other" => referrer.append_value(format!("site{}.example", rng.u32(0..500))),
                r => referrer.append_value(r),
            }
            country.append_value(COUNTRIES[countries.sample(&mut rng)].0);
            device.append_value(weighted(&DEVICES, &mut rng));
            event.append_value(kind);
            let ms = (-(1.0 - rng.f64()).ln() * 3000.0).min(600_000.0);
            duration.append_value(ms as i32);
            if kind == "purchase" {
                let amount = 5.0 + (-(1.0 - rng.f64()).ln() * 60.0);
                revenue.append_value((amount * 100.0).round() / 100.0);
            } else {
                revenue.append_null();
            }
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(user_id.finish()),
            Arc::new(session_id.finish()),
            Arc::new(ts.finish()),
            Arc::new(url.finish()),
            Arc::new(referrer.finish()),
            Arc::new(country.finish()),
            Arc::new(device.finish()),
            Arc::new(event.finish()),
            Arc::new(duration.finish()),
            Arc::new(revenue.finish()),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())?;
        writer.write(&batch).map_err(|e| e.to_string())?;
    }
    writer.close().map_err(|e| e.to_string())?;
    Ok(())
}

/// Writes the countries dimension table to `path`.
pub fn write_countries(path: &Path) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut code = StringBuilder::new();
    let mut name = StringBuilder::new();
    let mut region = StringBuilder::new();
    for (c, n, r) in COUNTRIES {
        code.append_value(c);
        name.append_value(n);
        region.append_value(r);
    }
    let schema = countries_schema();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(code.finish()),
            Arc::new(name.finish()),
            Arc::new(region.finish()),
        ],
    )
    .map_err(|e| e.to_string())?;
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(writer_properties(&schema)))
        .map_err(|e| e.to_string())?;
    writer.write(&batch).map_err(|e| e.to_string())?;
    writer.close().map_err(|e| e.to_string())?;
    Ok(())
}
