//! `transforms/NAME.yaml` and `flows/NAME.yaml` into a [`Recipe`] or [`Flow`], every problem at
//! `file:line:column`, all of a file's problems at once. What needs no data is checked here (names,
//! shapes, a bookmark that suits its source, a sink that suits its mode); columns and types are
//! checked when the recipe is compiled against its source's schema.

use super::MAX_NAME_LEN;
use super::read::{column, columns, fields, one_of_keys, pick, sql, stream_name, table_name, text};
use super::steps::{read_mapping, read_step};
use super::{
    Bookmark, Compression, FileFormat, Flow, FlowTrigger, OnFailure, Recipe, Sink, Source, Step,
    StepKind, TableSink, WriteMode, is_transform_name,
};
use crate::pipeline::fields::{Ctx, unknown_key};
use crate::pipeline::yaml::{self, Node, Value};
use crate::problem::{Pos, Problem, did_you_mean};

/// The keys a transform file may have at its top level.
pub const TRANSFORM_KEYS: [&str; 5] = ["description", "source", "bookmark", "steps", "sink"];

/// The keys a flow file may have: a transform's, its trigger, AppFlow's `destination` for `sink`,
/// and the steps AppFlow's flows have (`mapping`, `filter`, `mask`, `validate`) written at the top.
pub const FLOW_KEYS: [&str; 11] = [
    "description",
    "source",
    "bookmark",
    "steps",
    "sink",
    "destination",
    "trigger",
    "mapping",
    "filter",
    "mask",
    "validate",
];

/// Reads a transform file. `file` is how problems name it; `name` is its stem.
pub fn parse_transform(file: &str, name: &str, source: &str) -> Result<Recipe, Vec<Problem>> {
    read_file(file, name, source, Kind::Transform).map(|(recipe, _)| recipe)
}

/// Reads a flow file: a recipe and its trigger.
pub fn parse_flow(file: &str, name: &str, source: &str) -> Result<Flow, Vec<Problem>> {
    read_file(file, name, source, Kind::Flow).map(|(recipe, trigger)| Flow { recipe, trigger })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Transform,
    Flow,
}

impl Kind {
    fn what(self) -> &'static str {
        match self {
            Kind::Transform => "transform",
            Kind::Flow => "flow",
        }
    }
}

fn read_file(
    file: &str,
    name: &str,
    source: &str,
    kind: Kind,
) -> Result<(Recipe, FlowTrigger), Vec<Problem>> {
    let mut ctx = Ctx {
        file,
        source,
        problems: Vec::new(),
    };
    if !is_transform_name(name) {
        ctx.problem(
            Pos::START,
            format!(
                "`{name}` is not a {} name: name the file with letters, digits, `_` and `-` (at most {MAX_NAME_LEN})",
                kind.what()
            ),
        );
    }
    let loaded = yaml::load(source);
    for (pos, message) in loaded.problems {
        ctx.problem(pos, message);
    }
    let read = match &loaded.root {
        Some(root) => read_root(&mut ctx, name, root, kind),
        None => {
            if ctx.problems.is_empty() {
                ctx.problem(
                    Pos::START,
                    format!(
                        "the file is empty: a {} needs at least `source` and `sink`",
                        kind.what()
                    ),
                );
            }
            None
        }
    };
    let mut problems = ctx.problems;
    match read {
        Some(read) if problems.is_empty() => Ok(read),
        _ => {
            if problems.is_empty() {
                // Every path that yields nothing records why; this only guards that promise.
                problems.push(Problem::new(
                    file,
                    Pos::START,
                    format!("the {} could not be read", kind.what()),
                ));
            }
            problems.sort_by_key(|p| (p.line, p.column));
            let mut seen = std::collections::HashSet::new();
            problems.retain(|p| seen.insert(p.to_string()));
            Err(problems)
        }
    }
}

/// The bookmark as written, checked against the source once both are read.
struct BookmarkSetting {
    bookmark: Bookmark,
    pos: Pos,
}

fn read_root(
    ctx: &mut Ctx<'_>,
    name: &str,
    root: &Node,
    kind: Kind,
) -> Option<(Recipe, FlowTrigger)> {
    let Some(entries) = root.as_map() else {
        ctx.problem(
            root.pos,
            format!(
                "a {} file must be a mapping of keys such as `source`, `steps` and `sink`, not {}",
                kind.what(),
                root.describe()
            ),
        );
        return None;
    };
    let keys: &[&str] = match kind {
        Kind::Transform => &TRANSFORM_KEYS,
        Kind::Flow => &FLOW_KEYS,
    };
    let mut description = None;
    let mut source = None;
    let mut bookmark = None;
    let mut steps = Vec::new();
    let mut sink: Option<(Option<Sink>, &str)> = None;
    let mut mode_pos = None;
    let mut trigger = FlowTrigger::OnDemand;
    for e in entries {
        let node = &e.value;
        match e.key.as_str() {
            "description" => description = ctx.string("description", node),
            "source" => source = Some(read_source(ctx, node)),
            "bookmark" => bookmark = read_bookmark(ctx, node),
            "steps" => {
                let items = ctx.list("steps", "steps such as `- filter: \"amount > 0\"`", node);
                steps.extend(items.iter().filter_map(|item| step_item(ctx, item)));
            }
            key @ ("sink" | "destination") if kind == Kind::Flow || key == "sink" => {
                if let Some((_, first)) = &sink {
                    ctx.problem(
                        e.key_pos,
                        format!("`{key}` and `{first}` both say where rows go (a flow's destination is its sink): keep one"),
                    );
                    continue;
                }
                mode_pos = mode_position(node);
                sink = Some((read_sink(ctx, key, node), key));
            }
            "trigger" if kind == Kind::Flow => trigger = read_trigger(ctx, node),
            "mapping" if kind == Kind::Flow => {
                steps.extend(read_mapping(ctx, e.key_pos, node));
            }
            key @ ("filter" | "mask" | "validate") if kind == Kind::Flow => {
                steps.extend(read_step(ctx, key, e.key_pos, node));
            }
            "destination" => ctx.problem(
                e.key_pos,
                format!("unknown key `destination` in transform `{name}`: a transform says `sink` (`destination` is a flow's word for it)"),
            ),
            step if super::STEP_KEYS.contains(&step) => ctx.problem(
                e.key_pos,
                format!("unknown key `{step}` in {} `{name}`: steps go in a list under `steps:`, as in `steps: [{{ {step}: … }}]`", kind.what()),
            ),
            other => {
                let place = format!("{} `{name}`", kind.what());
                unknown_key(ctx, other, e.key_pos, &place, keys);
            }
        }
    }
    let what = kind.what();
    if source.is_none() {
        ctx.problem(
            root.pos,
            format!("the {what} has no `source`: add one of `table`, `prefix`, `stream` or `query`, such as `source: {{ table: raw.orders }}`"),
        );
    }
    if sink.is_none() {
        let key = if kind == Kind::Flow {
            "destination"
        } else {
            "sink"
        };
        ctx.problem(
            root.pos,
            format!("the {what} has no `{key}`: say where rows go, such as `{key}: {{ table: curated.orders }}`"),
        );
    }
    let source = source.flatten();
    let sink = sink.and_then(|(sink, _)| sink);
    let bookmark = match (&source, bookmark) {
        (Some(source), Some(setting)) => check_bookmark(ctx, source, setting),
        _ => None,
    };
    if let (Some(_), Some(Sink::Table(table)), Some(pos)) = (&bookmark, &sink, mode_pos) {
        check_bookmark_mode(ctx, table.mode, pos);
    }
    check_steps(ctx, &steps, sink.as_ref());
    let recipe = Recipe {
        name: name.to_string(),
        file: ctx.file.to_string(),
        description,
        source: source?,
        bookmark,
        steps,
        sink: sink?,
    };
    Some((recipe, trigger))
}

/// One item of `steps:`: a mapping with one step key.
fn step_item(ctx: &mut Ctx<'_>, item: &Node) -> Option<Step> {
    let entries = match &item.value {
        Value::Map(entries) => entries,
        // `- drop_null_fields` reads as the step with no value.
        Value::Str(key) if key == "drop_null_fields" => {
            return Some(Step {
                pos: item.pos,
                kind: StepKind::DropNullFields,
            });
        }
        _ => {
            ctx.problem(
                item.pos,
                format!(
                    "a step must be a mapping with one step key, such as `- filter: \"amount > 0\"`, not {}",
                    item.describe()
                ),
            );
            return None;
        }
    };
    let Some((first, rest)) = entries.split_first() else {
        ctx.problem(
            item.pos,
            format!(
                "this step is empty: give one of {}",
                super::STEP_KEYS.join(", ")
            ),
        );
        return None;
    };
    for extra in rest {
        ctx.problem(
            extra.key_pos,
            format!(
                "a step has one key, and this one already has `{}`: start a new item (`- {}: …`) for this step",
                first.key, extra.key
            ),
        );
    }
    read_step(ctx, &first.key, first.key_pos, &first.value)
}

/// `source: { table | prefix (with format) | stream | query }`.
fn read_source(ctx: &mut Ctx<'_>, node: &Node) -> Option<Source> {
    const KEYS: [&str; 5] = ["table", "prefix", "format", "stream", "query"];
    let fields = fields(ctx, "`source`", node, &KEYS, "{ table: raw.orders }")?;
    let kind = one_of_keys(
        ctx,
        "source",
        &fields,
        &["table", "prefix", "stream", "query"],
    )?;
    let format = fields.get("format");
    if let Some(format) = format
        && kind.key != "prefix"
    {
        ctx.problem(
            format.pos,
            format!(
                "`format` belongs to a `prefix` source (a `{}` source has its own)",
                kind.key
            ),
        );
    }
    let node = kind.node;
    match kind.key {
        "table" => table_name(ctx, "source.table", node).map(Source::Table),
        "prefix" => {
            let prefix = text(ctx, "source.prefix", node)?;
            let format = format.and_then(|f| file_format(ctx, "format", f));
            Some(Source::Prefix { prefix, format })
        }
        "stream" => stream_name(ctx, "source.stream", node).map(Source::Stream),
        _ => sql(ctx, "source.query", node).map(Source::Query),
    }
}

/// `bookmark: true`, `bookmark: objects` or `bookmark: { column: C }`; false or null: none.
fn read_bookmark(ctx: &mut Ctx<'_>, node: &Node) -> Option<BookmarkSetting> {
    let bookmark = match &node.value {
        Value::Null | Value::Bool(false) => return None,
        Value::Bool(true) => Bookmark::Default,
        Value::Str(s) if s == "objects" => Bookmark::Objects,
        Value::Map(_) => {
            let fields = fields(
                ctx,
                "`bookmark`",
                node,
                &["column"],
                "{ column: updated_at }",
            )?;
            let Some(column) = fields.get("column") else {
                ctx.problem(
                    node.pos,
                    "`bookmark` needs `column`: a column whose values only grow, such as `{ column: updated_at }`",
                );
                return None;
            };
            Bookmark::Column(self::column(ctx, "bookmark.column", column)?)
        }
        _ => {
            ctx.problem(
                node.pos,
                format!(
                    "`bookmark` must be true, `objects`, or `{{ column: NAME }}` (a column whose values only grow), not {}",
                    node.describe()
                ),
            );
            return None;
        }
    };
    Some(BookmarkSetting {
        bookmark,
        pos: node.pos,
    })
}

/// A bookmark must be one its source can keep.
fn check_bookmark(
    ctx: &mut Ctx<'_>,
    source: &Source,
    setting: BookmarkSetting,
) -> Option<Bookmark> {
    let problem = match (source, &setting.bookmark) {
        (Source::Table(_) | Source::Query(_), Bookmark::Default | Bookmark::Objects) => {
            let what = if matches!(source, Source::Table(_)) {
                "table"
            } else {
                "query"
            };
            Some(format!(
                "a {what} source's bookmark is a column whose values only grow: name it, as in `bookmark: {{ column: updated_at }}`"
            ))
        }
        (Source::Prefix { .. }, Bookmark::Column(_)) => Some(
            "a prefix source's bookmark is the objects already read (by key and etag): write `bookmark: true`".to_string(),
        ),
        (Source::Stream(_), Bookmark::Column(_) | Bookmark::Objects) => Some(
            "a stream source's bookmark is its shards' positions: write `bookmark: true`"
                .to_string(),
        ),
        _ => None,
    };
    match problem {
        Some(message) => {
            ctx.problem(setting.pos, message);
            None
        }
        None => Some(setting.bookmark),
    }
}

/// Checks across steps and the sink.
fn check_steps(ctx: &mut Ctx<'_>, steps: &[Step], sink: Option<&Sink>) {
    let sink_table = match sink {
        Some(Sink::Table(t)) => Some(&t.table.value),
        _ => None,
    };
    let mut quarantine_at: Option<Pos> = None;
    for step in steps {
        let StepKind::Validate(validate) = &step.kind else {
            continue;
        };
        let OnFailure::Quarantine(table) = &validate.on_failure else {
            continue;
        };
        if let Some(first) = quarantine_at {
            ctx.problem(
                table.pos,
                format!(
                    "a recipe has at most one validate step with a quarantine (the first is on line {}): merge their rules",
                    first.line
                ),
            );
        } else {
            quarantine_at = Some(step.pos);
        }
        if sink_table == Some(&table.value) {
            ctx.problem(
                table.pos,
                format!(
                    "the quarantine table `{}` is the sink's table: failing rows need a table of their own",
                    table.value
                ),
            );
        }
    }
}

/// Where a sink's `mode` is written, if it is.
fn mode_position(sink: &Node) -> Option<Pos> {
    match &sink.value {
        Value::Map(entries) => entries
            .iter()
            .find(|e| e.key == "mode")
            .map(|e| e.value.pos),
        _ => None,
    }
}

/// A bookmarked run reads only the rows (objects, records) that are new since the last run, so a
/// mode that replaces what the sink holds would replace earlier runs' rows with only the new ones.
fn check_bookmark_mode(ctx: &mut Ctx<'_>, mode: WriteMode, pos: Pos) {
    let name = match mode {
        WriteMode::Append => return,
        WriteMode::OverwritePartitions => "overwrite_partitions",
        WriteMode::Overwrite => "overwrite",
    };
    ctx.problem(
        pos,
        format!(
            "`mode: {name}` with a bookmark would lose data: a bookmarked run reads only what is new since the last run, so it would replace earlier runs' rows with only the new ones; use `mode: append` (or drop the bookmark to rebuild from all rows)"
        ),
    );
}

/// `sink:` (or a flow's `destination:`): `{ table | prefix | stream }` and its settings.
fn read_sink(ctx: &mut Ctx<'_>, key: &str, node: &Node) -> Option<Sink> {
    const KEYS: [&str; 8] = [
        "table",
        "prefix",
        "stream",
        "mode",
        "partition_by",
        "compression",
        "format",
        "partition_key",
    ];
    let place = format!("`{key}`");
    let fields = fields(ctx, &place, node, &KEYS, "{ table: curated.orders }")?;
    let kind = one_of_keys(ctx, key, &fields, &["table", "prefix", "stream"])?;
    // Settings that belong to other kinds of sink.
    let misplaced: &[(&str, &str)] = match kind.key {
        "table" => &[
            ("format", "a table sink writes Parquet: leave `format` out"),
            (
                "partition_key",
                "`partition_key` belongs to a `stream` sink (a table is partitioned by `partition_by`)",
            ),
        ],
        "prefix" => &[
            (
                "mode",
                "`mode` belongs to a `table` sink (the overwrite modes replace a table's files; a prefix sink adds objects)",
            ),
            (
                "partition_key",
                "`partition_key` belongs to a `stream` sink (objects are partitioned by `partition_by`)",
            ),
        ],
        _ => &[
            (
                "mode",
                "`mode` belongs to a `table` sink (the overwrite modes replace a table's files; a stream sink appends records)",
            ),
            (
                "partition_by",
                "`partition_by` belongs to a `table` or `prefix` sink (a stream's records are spread by `partition_key`)",
            ),
            (
                "compression",
                "`compression` belongs to a `table` or `prefix` sink",
            ),
            (
                "format",
                "a stream sink writes each row as a JSON record: leave `format` out",
            ),
        ],
    };
    for (setting, message) in misplaced {
        if let Some(node) = fields.get(setting) {
            ctx.problem(node.pos, *message);
        }
    }
    let partition_by = fields
        .get("partition_by")
        .map(|n| columns(ctx, "partition_by", n, 0))
        .unwrap_or_default();
    let compression = fields
        .get("compression")
        .and_then(|n| pick(ctx, "compression", n, &COMPRESSIONS).map(|c| (c, n.pos)));
    let node = kind.node;
    match kind.key {
        "table" => {
            let table = table_name(ctx, &format!("{key}.table"), node);
            let mode = match fields.get("mode") {
                Some(n) => pick(ctx, "mode", n, &MODES)?,
                None => WriteMode::Append,
            };
            Some(Sink::Table(TableSink {
                table: table?,
                mode,
                partition_by,
                compression: compression.map_or(Compression::Snappy, |(c, _)| c),
            }))
        }
        "prefix" => {
            let prefix = text(ctx, &format!("{key}.prefix"), node);
            let format = match fields.get("format") {
                Some(n) => file_format(ctx, "format", n)?,
                None => FileFormat::Parquet,
            };
            let compression = match (format, compression) {
                (FileFormat::Parquet, None) => Compression::Snappy,
                (_, None) => Compression::None,
                (FileFormat::Csv | FileFormat::JsonLines, Some((Compression::Snappy, pos))) => {
                    ctx.problem(
                        pos,
                        "snappy compresses Parquet only: CSV and JSON lines take gzip, zstd or none",
                    );
                    return None;
                }
                (_, Some((c, _))) => c,
            };
            Some(Sink::Prefix {
                prefix: prefix?,
                format,
                compression,
                partition_by,
            })
        }
        _ => {
            let stream = stream_name(ctx, &format!("{key}.stream"), node);
            let partition_key = fields
                .get("partition_key")
                .and_then(|n| column(ctx, "partition_key", n));
            Some(Sink::Stream {
                stream: stream?,
                partition_key,
            })
        }
    }
}

const COMPRESSIONS: [(&str, Compression); 4] = [
    ("none", Compression::None),
    ("snappy", Compression::Snappy),
    ("gzip", Compression::Gzip),
    ("zstd", Compression::Zstd),
];

const MODES: [(&str, WriteMode); 3] = [
    ("append", WriteMode::Append),
    ("overwrite_partitions", WriteMode::OverwritePartitions),
    ("overwrite", WriteMode::Overwrite),
];

fn file_format(ctx: &mut Ctx<'_>, key: &str, node: &Node) -> Option<FileFormat> {
    pick(
        ctx,
        key,
        node,
        &[
            ("csv", FileFormat::Csv),
            ("json", FileFormat::JsonLines),
            ("parquet", FileFormat::Parquet),
        ],
    )
}

/// `trigger: on_demand | { schedule: CRON, timezone: TZ } | { event: PATTERN }` (default on demand).
fn read_trigger(ctx: &mut Ctx<'_>, node: &Node) -> FlowTrigger {
    match &node.value {
        Value::Null => return FlowTrigger::OnDemand,
        Value::Str(s) if s == "on_demand" => return FlowTrigger::OnDemand,
        Value::Str(s) => {
            let hint = match did_you_mean(s, ["on_demand"]) {
                hint if hint.is_empty() && s.contains(' ') => {
                    format!("; for a schedule write `trigger: {{ schedule: \"{s}\" }}`")
                }
                hint => hint,
            };
            ctx.problem(
                node.pos,
                format!("unknown trigger `{s}`{hint} (on_demand, {{ schedule: CRON }} or {{ event: PATTERN }})"),
            );
            return FlowTrigger::OnDemand;
        }
        _ => {}
    }
    let Some(fields) = fields(
        ctx,
        "`trigger`",
        node,
        &["schedule", "timezone", "event"],
        "{ schedule: \"0 * * * *\" }",
    ) else {
        return FlowTrigger::OnDemand;
    };
    let schedule = fields.get("schedule");
    let timezone = fields.get("timezone");
    match (schedule, fields.get("event")) {
        (Some(_), Some(event)) => {
            ctx.problem(
                event.pos,
                "a flow has one trigger: a `schedule` or an `event`, not both (make a pipeline for more)",
            );
            FlowTrigger::OnDemand
        }
        (None, Some(event)) => {
            if let Some(tz) = timezone {
                ctx.problem(tz.pos, "`timezone` belongs to a `schedule`");
            }
            match crate::events::rule_file::read_pattern(ctx, "event", event) {
                Some(pattern) => FlowTrigger::Event {
                    pattern: super::At {
                        value: pattern,
                        pos: event.pos,
                    },
                },
                None => {
                    if event.is_null() {
                        ctx.problem(
                            event.pos,
                            "`event` needs a pattern, such as `{ source: [weir.lake] }`",
                        );
                    }
                    FlowTrigger::OnDemand
                }
            }
        }
        (Some(schedule), None) => {
            let cron = text(ctx, "trigger.schedule", schedule);
            if let Some(cron) = &cron
                && let Err(message) = crate::schedule::Schedule::parse(&cron.value)
            {
                ctx.problem(cron.pos, message);
            }
            let timezone = timezone.and_then(|node| {
                let name = ctx.string("timezone", node)?;
                if name.trim().parse::<chrono_tz::Tz>().is_ok() {
                    return Some(name.trim().to_string());
                }
                let hint = did_you_mean(&name, chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()));
                ctx.problem(
                    node.pos,
                    format!("unknown timezone `{name}`{hint} (use an IANA name such as Europe/Paris, or UTC)"),
                );
                None
            });
            match cron {
                Some(cron) => FlowTrigger::Schedule { cron, timezone },
                None => FlowTrigger::OnDemand,
            }
        }
        (None, None) => {
            ctx.problem(
                node.pos,
                "`trigger` needs a `schedule` or an `event` (or write `trigger: on_demand`)",
            );
            FlowTrigger::OnDemand
        }
    }
}
