//! `deliveries/NAME.yaml` into a [`Draft`], then checked; every problem at `file:line:column`.
//!
//! ```yaml
//! source: { stream: clicks, start: trim_horizon }   # leave out for direct puts
//! buffering: { size: 5MiB, interval: 60s }
//! format: parquet                                   # json (default) or parquet
//! compression: snappy
//! table: web.clicks
//! prefix: "day=!{timestamp:yyyy-MM-dd}/"
//! error_prefix: "errors/clicks/!{firehose:error-output-type}/"
//! partition_keys: { customer: .customer.id }
//! transform: enrich
//! ```

use std::collections::HashMap;

use super::query::{is_key_name, parse_path};
use super::{
    Buffering, Compression, DeliverySpec, Draft, Format, SchemaSource, Setting, Source, Start,
    Transform,
};
use crate::pipeline::fields::{Ctx, unknown_key};
use crate::pipeline::yaml::{self, Node};
use crate::problem::{Pos, Problem, did_you_mean};
use crate::size::{ByteSize, parse_size};
use crate::sql_tables::TableName;

pub const DELIVERY_KEYS: [&str; 11] = [
    "description",
    "source",
    "buffering",
    "format",
    "compression",
    "schema",
    "table",
    "prefix",
    "error_prefix",
    "partition_keys",
    "transform",
];

/// Parses and checks the delivery `name` from `text`; `file` is the path problems show.
pub fn parse_delivery(file: &str, name: &str, text: &str) -> Result<DeliverySpec, Vec<Problem>> {
    let mut ctx = Ctx {
        file,
        source: text,
        problems: Vec::new(),
    };
    let loaded = yaml::load(text);
    for (pos, message) in loaded.problems {
        ctx.problem(pos, message);
    }
    let mut positions: HashMap<Setting, Pos> = HashMap::new();
    let draft = match &loaded.root {
        Some(root) if root.as_map().is_some() => read(&mut ctx, name, root, &mut positions),
        Some(root) => {
            let message = format!(
                "a delivery file must be a mapping of keys such as `table` and `buffering`, not {}",
                root.describe()
            );
            ctx.problem(root.pos, message);
            None
        }
        None if ctx.problems.is_empty() => Some(Draft {
            name: name.to_string(),
            ..Draft::default()
        }),
        None => None,
    };
    if let Some(draft) = draft {
        match draft.check() {
            Ok(spec) if ctx.problems.is_empty() => return Ok(spec),
            Ok(_) => {}
            Err(found) => {
                for (setting, message) in found {
                    let pos = positions.get(&setting).copied().unwrap_or(Pos::START);
                    ctx.problem(pos, message);
                }
            }
        }
    }
    let mut problems = ctx.problems;
    if problems.is_empty() {
        problems.push(Problem::new(
            file,
            Pos::START,
            "the delivery could not be read",
        ));
    }
    problems.sort_by_key(|p| (p.line, p.column));
    Err(problems)
}

fn read(
    ctx: &mut Ctx<'_>,
    name: &str,
    root: &Node,
    positions: &mut HashMap<Setting, Pos>,
) -> Option<Draft> {
    let mut draft = Draft {
        name: name.to_string(),
        ..Draft::default()
    };
    positions.insert(Setting::Name, Pos::START);
    for e in root.as_map()? {
        let node = &e.value;
        match e.key.as_str() {
            "description" => draft.description = ctx.string("description", node),
            "source" => draft.source = source(ctx, node),
            "buffering" => {
                positions.insert(Setting::Buffering, node.pos);
                draft.buffering = buffering(ctx, node);
            }
            "format" => {
                positions.insert(Setting::Format, node.pos);
                draft.format = one_of(
                    ctx,
                    "format",
                    node,
                    &[("json", Format::JsonLines), ("parquet", Format::Parquet)],
                );
            }
            "compression" => {
                positions.insert(Setting::Compression, node.pos);
                if let Some(text) = ctx.string("compression", node) {
                    draft.compression = Compression::parse(&text);
                    if draft.compression.is_none() {
                        let hint = did_you_mean(&text, Compression::NAMES);
                        ctx.problem(
                            node.pos,
                            format!(
                                "unknown compression `{text}`{hint} (one of {})",
                                Compression::NAMES.join(", ")
                            ),
                        );
                    }
                }
            }
            "schema" => {
                positions.insert(Setting::Schema, node.pos);
                draft.schema = one_of(
                    ctx,
                    "schema",
                    node,
                    &[
                        ("infer", SchemaSource::Infer),
                        ("table", SchemaSource::Table),
                    ],
                );
            }
            "table" => {
                positions.insert(Setting::Table, node.pos);
                draft.table = table(ctx, node);
            }
            "prefix" => {
                positions.insert(Setting::Prefix, node.pos);
                draft.prefix = ctx.string("prefix", node);
            }
            "error_prefix" => {
                positions.insert(Setting::ErrorPrefix, node.pos);
                draft.error_prefix = ctx.string("error_prefix", node);
            }
            "partition_keys" => {
                positions.insert(Setting::PartitionKeys, node.pos);
                draft.partition_keys = partition_keys(ctx, node);
            }
            "transform" => draft.transform = transform(ctx, node),
            other => {
                unknown_key(
                    ctx,
                    other,
                    e.key_pos,
                    &format!("delivery `{name}`"),
                    &DELIVERY_KEYS,
                );
            }
        }
    }
    Some(draft)
}

fn one_of<T: Copy>(ctx: &mut Ctx<'_>, key: &str, node: &Node, choices: &[(&str, T)]) -> Option<T> {
    let text = ctx.string(key, node)?;
    if let Some((_, value)) = choices.iter().find(|(name, _)| *name == text) {
        return Some(*value);
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    let hint = did_you_mean(&text, names.iter().copied());
    ctx.problem(
        node.pos,
        format!("unknown {key} `{text}`{hint} (one of {})", names.join(", ")),
    );
    None
}

/// `source: { stream: NAME, start: trim_horizon|latest }` or `source: NAME`.
fn source(ctx: &mut Ctx<'_>, node: &Node) -> Option<Source> {
    if node.is_null() {
        return None;
    }
    if let yaml::Value::Str(name) = &node.value {
        return Some(Source::Stream {
            name: name.clone(),
            start: Start::TrimHorizon,
        });
    }
    let Some(entries) = node.as_map() else {
        ctx.problem(
            node.pos,
            format!(
                "`source` must be a stream's name or `{{ stream: NAME, start: trim_horizon }}`, not {}",
                node.describe()
            ),
        );
        return None;
    };
    let mut stream = None;
    let mut start = Start::TrimHorizon;
    for e in entries {
        match e.key.as_str() {
            "stream" => stream = ctx.string("source.stream", &e.value),
            "start" => {
                if let Some(s) = one_of(
                    ctx,
                    "start",
                    &e.value,
                    &[
                        ("trim_horizon", Start::TrimHorizon),
                        ("latest", Start::Latest),
                    ],
                ) {
                    start = s;
                }
            }
            other => {
                unknown_key(ctx, other, e.key_pos, "`source`", &["stream", "start"]);
            }
        }
    }
    match stream {
        Some(name) if !name.trim().is_empty() => Some(Source::Stream { name, start }),
        _ => {
            ctx.problem(
                node.pos,
                "`source` needs `stream`: the weir stream to deliver",
            );
            None
        }
    }
}

fn buffering(ctx: &mut Ctx<'_>, node: &Node) -> Buffering {
    let mut buffering = Buffering::default();
    if node.is_null() {
        return buffering;
    }
    let Some(entries) = node.as_map() else {
        ctx.problem(
            node.pos,
            format!(
                "`buffering` must be a mapping such as {{ size: 5MiB, interval: 300s }}, not {}",
                node.describe()
            ),
        );
        return buffering;
    };
    for e in entries {
        match e.key.as_str() {
            "size" => {
                let text = match &e.value.value {
                    yaml::Value::Str(s) => Some(s.clone()),
                    yaml::Value::Int(_) => Some(e.value.text.clone()),
                    _ => None,
                };
                match text.map(|t| parse_size(&t)) {
                    Some(Ok(ByteSize::Bytes(bytes))) => buffering.size_bytes = bytes,
                    Some(Ok(ByteSize::PercentOfMemory(_))) | None => ctx.problem(
                        e.value.pos,
                        "`buffering.size` must be a size such as 5MiB or 64MiB",
                    ),
                    Some(Err(message)) => ctx.problem(e.value.pos, message),
                }
            }
            "interval" => {
                if let Some(d) = ctx.duration("buffering.interval", &e.value) {
                    buffering.interval = d;
                }
            }
            other => {
                unknown_key(ctx, other, e.key_pos, "`buffering`", &["size", "interval"]);
            }
        }
    }
    buffering
}

/// `database.table`.
fn table(ctx: &mut Ctx<'_>, node: &Node) -> Option<TableName> {
    let text = ctx.string("table", node)?;
    let identifier = |s: &str| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    match text.split_once('.') {
        Some((database, name)) if identifier(database) && identifier(name) => {
            Some(TableName::new(database, name))
        }
        _ => {
            ctx.problem(
                node.pos,
                format!("`table` must be `database.table` (plain identifiers), not `{text}`"),
            );
            None
        }
    }
}

fn partition_keys(ctx: &mut Ctx<'_>, node: &Node) -> Vec<(String, super::FieldPath)> {
    let mut keys = Vec::new();
    if node.is_null() {
        return keys;
    }
    let Some(entries) = node.as_map() else {
        ctx.problem(
            node.pos,
            format!(
                "`partition_keys` must map key names to paths such as .customer.id, not {}",
                node.describe()
            ),
        );
        return keys;
    };
    for e in entries {
        if !is_key_name(&e.key) {
            ctx.problem(
                e.key_pos,
                format!("partition key `{}` must be letters, digits and `_`", e.key),
            );
            continue;
        }
        let Some(text) = ctx.string(&format!("partition_keys.{}", e.key), &e.value) else {
            continue;
        };
        match parse_path(&text) {
            Ok(path) => keys.push((e.key.clone(), path)),
            Err(message) => ctx.problem(e.value.pos, message),
        }
    }
    keys
}

/// `transform: NAME` or `transform: { function: NAME }`.
fn transform(ctx: &mut Ctx<'_>, node: &Node) -> Option<Transform> {
    let function = match node.as_map() {
        Some(entries) => {
            let mut function = None;
            for e in entries {
                match e.key.as_str() {
                    "function" => function = ctx.string("transform.function", &e.value),
                    other => {
                        unknown_key(ctx, other, e.key_pos, "`transform`", &["function"]);
                    }
                }
            }
            function
        }
        None => ctx.string("transform", node),
    }?;
    if !crate::function::is_function_name(&function) {
        ctx.problem(
            node.pos,
            format!("`transform` names `{function}`, which is not a function name"),
        );
        return None;
    }
    Some(Transform { function })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn messages(text: &str) -> Vec<String> {
        parse_delivery("deliveries/d.yaml", "d", text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn reads_every_key() {
        let text = "description: Clicks\nsource: { stream: clicks, start: latest }\nbuffering: { size: 8MiB, interval: 60s }\nformat: parquet\ncompression: zstd\ntable: web.clicks\nprefix: \"c=!{partitionKeyFromQuery:customer}/\"\nerror_prefix: \"errors/!{firehose:error-output-type}/\"\npartition_keys: { customer: .customer.id }\ntransform: enrich\n";
        let spec = parse_delivery("deliveries/d.yaml", "d", text).unwrap();
        assert_eq!(
            spec.source,
            Source::Stream {
                name: "clicks".into(),
                start: Start::Latest
            }
        );
        assert_eq!(spec.buffering.size_bytes, 8 << 20);
        assert_eq!(spec.buffering.interval, Duration::from_secs(60));
        assert_eq!(spec.format, Format::Parquet);
        assert_eq!(spec.compression, Compression::Zstd);
        assert_eq!(spec.table, Some(TableName::new("web", "clicks")));
        assert_eq!(spec.partition_columns, ["c"]);
        assert_eq!(spec.partition_keys[0].0, "customer");
        assert_eq!(spec.transform.as_ref().unwrap().function, "enrich");
        assert_eq!(spec.stream(), "clicks");
    }

    #[test]
    fn an_empty_file_is_a_direct_put_delivery_with_defaults() {
        let spec = parse_delivery("deliveries/d.yaml", "d", "").unwrap();
        assert_eq!(spec.source, Source::Direct);
        assert_eq!(spec.stream(), "__delivery-d");
    }

    #[test]
    fn problems_have_positions() {
        assert_eq!(
            messages("formt: json\n"),
            vec![
                "deliveries/d.yaml:1:1: unknown key `formt` in delivery `d`; did you mean `format`?"
            ]
        );
        assert_eq!(
            messages("buffering: { size: 200MiB, interval: 1h }\n"),
            vec![
                "deliveries/d.yaml:1:12: the buffer size must be from 1 MiB to 128 MiB (Firehose's bounds; the default is 5 MiB)",
                "deliveries/d.yaml:1:12: the buffer interval must be from 0 to 900 seconds (the default is 300)",
            ]
        );
        assert_eq!(
            messages("prefix: \"x/!{timestamp:yyyy}/\"\ncompression: lz4\n"),
            vec![
                "deliveries/d.yaml:1:9: a prefix with expressions needs an error prefix (`error_prefix`) as well",
                "deliveries/d.yaml:2:14: unknown compression `lz4` (one of none, gzip, snappy, zstd)",
            ]
        );
        assert_eq!(
            messages("table: nodot\npartition_keys: { k: customer }\n"),
            vec![
                "deliveries/d.yaml:1:8: `table` must be `database.table` (plain identifiers), not `nodot`",
                "deliveries/d.yaml:2:22: invalid query `customer`: a path starts with `.` (weir reads paths such as `.customer_id` or `.device.type`)",
            ]
        );
    }
}
