use serde_json::json;

use super::*;

const FILE: &str = "transforms/t.yaml";

/// The design's example: every step kind once.
const FULL: &str = r#"# transforms/clean_orders.yaml
description: Clean raw orders into the curated table
source:
  table: Raw.Orders
bookmark:
  column: updated_at
steps:
  - filter: "amount > 0 AND status <> 'test'"
  - select: [id, customer, email, amount, country, updated_at, day]
  - drop: [internal_note]
  - drop_null_fields: true
  - rename: { customer: customer_id }
  - cast: { amount: "DECIMAL(12,2)", day: DATE }
  - derive: { amount_eur: "amount * 0.92", year: "date_part('year', day)" }
  - mask:
      email: { hash: { salt: email_salt } }
      phone: { partial: { keep_last: 4 } }
      ssn: full
      card: hash
  - truncate: { comment: 200 }
  - split: { column: name, separator: " ", into: [first_name, last_name] }
  - combine: { columns: [first_name, last_name], separator: " ", into: full_name, keep: true }
  - validate:
      rules:
        - { column: id, not_null: true }
        - { column: amount, range: { min: 0, max: 100000 } }
        - { column: email, regex: "^[^@]+@[^@]+$" }
        - { column: country, allowed: [DE, FR, US] }
        - { column: id, unique: true }
        - { column: day, range: { min: "2020-01-01" } }
      on_failure: { quarantine: curated.orders_quarantine }
  - dedupe: { keys: [id], order_by: updated_at, keep: latest }
  - join: { table: curated.customers, on: { customer_id: id }, type: left, columns: [segment] }
  - union: { table: raw.orders_backfill }
  - pivot: { index: [id], column: metric, values: value, agg: sum, columns: [clicks, views] }
  - unpivot: { columns: [clicks, views], name: metric, value: value }
sink:
  table: curated.orders
  mode: append
  partition_by: [day]
  compression: zstd
"#;

fn recipe(text: &str) -> Recipe {
    match parse_transform(FILE, "t", text) {
        Ok(recipe) => recipe,
        Err(problems) => panic!("{problems:#?}"),
    }
}

fn problems(text: &str) -> Vec<String> {
    parse_transform(FILE, "t", text)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// A transform from a table to a table with these steps.
fn with_steps(steps: &str) -> String {
    format!("source: {{ table: raw.orders }}\nsteps:\n{steps}sink: {{ table: curated.orders }}\n")
}

fn one_step(step: &str) -> StepKind {
    let recipe = recipe(&with_steps(&format!("  - {step}\n")));
    assert_eq!(recipe.steps.len(), 1, "{:?}", recipe.steps);
    recipe.steps.into_iter().next().unwrap().kind
}

/// The problems of a transform with one step (written after `  - `, on line 3).
fn step_problems(step: &str) -> Vec<String> {
    problems(&with_steps(&format!("  - {step}\n")))
}

fn names(columns: &[At<String>]) -> Vec<&str> {
    columns.iter().map(|c| c.value.as_str()).collect()
}

#[test]
fn transform_reads_the_design_example() {
    let r = recipe(FULL);
    assert_eq!(r.name, "t");
    assert_eq!(r.file, FILE);
    assert_eq!(
        r.description.as_deref(),
        Some("Clean raw orders into the curated table")
    );
    // Table names are lower-cased as SQL reads unquoted names.
    let Source::Table(table) = &r.source else {
        panic!("{:?}", r.source)
    };
    assert_eq!(table.value, TableName::new("raw", "orders"));
    assert_eq!(table.pos, Pos::new(4, 10));
    let Some(Bookmark::Column(column)) = &r.bookmark else {
        panic!("{:?}", r.bookmark)
    };
    assert_eq!(column.value, "updated_at");
    let kinds: Vec<&str> = r.steps.iter().map(Step::name).collect();
    assert_eq!(
        kinds,
        [
            "filter",
            "select",
            "drop",
            "drop_null_fields",
            "rename",
            "cast",
            "derive",
            "mask",
            "truncate",
            "split",
            "combine",
            "validate",
            "dedupe",
            "join",
            "union",
            "pivot",
            "unpivot"
        ]
    );
    assert_eq!(r.steps[0].pos, Pos::new(8, 5));
    let Sink::Table(sink) = &r.sink else {
        panic!("{:?}", r.sink)
    };
    assert_eq!(sink.table.value, TableName::new("curated", "orders"));
    assert_eq!(sink.mode, WriteMode::Append);
    assert_eq!(names(&sink.partition_by), ["day"]);
    assert_eq!(sink.compression, Compression::Zstd);
}

#[test]
fn transform_steps_read_their_settings() {
    let r = recipe(FULL);
    let step = |name: &str| {
        r.steps
            .iter()
            .find(|s| s.name() == name)
            .map(|s| &s.kind)
            .unwrap()
    };
    let StepKind::Filter(filter) = step("filter") else {
        panic!()
    };
    assert_eq!(filter.text, "amount > 0 AND status <> 'test'");
    // Quoted without escapes: the text starts one column after the quote.
    assert_eq!(filter.line_starts, vec![Pos::new(8, 14)]);
    assert_eq!(filter.pos_at(11), Pos::new(8, 25));
    let StepKind::Select(columns) = step("select") else {
        panic!()
    };
    assert_eq!(columns.len(), 7);
    assert_eq!(columns[1].pos, Pos::new(9, 18));
    let StepKind::Rename(renames) = step("rename") else {
        panic!()
    };
    assert_eq!(renames[0].0.value, "customer");
    assert_eq!(renames[0].1.value, "customer_id");
    let StepKind::Cast(casts) = step("cast") else {
        panic!()
    };
    assert_eq!(casts[1].0.value, "day");
    assert_eq!(casts[1].1.value, "DATE");
    let StepKind::Derive(derives) = step("derive") else {
        panic!()
    };
    assert_eq!(derives[1].0.value, "year");
    assert_eq!(derives[1].1.text, "date_part('year', day)");
    let StepKind::Mask(masks) = step("mask") else {
        panic!()
    };
    let methods: Vec<_> = masks
        .iter()
        .map(|m| (m.column.value.as_str(), m.method.clone()))
        .collect();
    assert_eq!(
        methods[1].1,
        MaskMethod::Partial {
            keep_first: 0,
            keep_last: 4
        }
    );
    assert_eq!(methods[2].1, MaskMethod::Full);
    assert_eq!(methods[3].1, MaskMethod::Hash { salt_secret: None });
    let MaskMethod::Hash {
        salt_secret: Some(salt),
    } = &methods[0].1
    else {
        panic!("{methods:?}")
    };
    assert_eq!(salt.value, "email_salt");
    assert_eq!(
        step("truncate"),
        &StepKind::Truncate(vec![(
            At {
                value: "comment".into(),
                pos: Pos::new(20, 17)
            },
            200
        )])
    );
    let StepKind::Split {
        column,
        separator,
        into,
        keep,
    } = step("split")
    else {
        panic!()
    };
    assert_eq!(
        (
            column.value.as_str(),
            separator.as_str(),
            names(into),
            *keep
        ),
        ("name", " ", vec!["first_name", "last_name"], false)
    );
    let StepKind::Combine {
        columns,
        separator,
        into,
        keep,
    } = step("combine")
    else {
        panic!()
    };
    assert_eq!(
        (
            names(columns),
            separator.as_str(),
            into.value.as_str(),
            *keep
        ),
        (vec!["first_name", "last_name"], " ", "full_name", true)
    );
    let StepKind::Validate(validate) = step("validate") else {
        panic!()
    };
    let labels: Vec<String> = validate.rules.iter().map(Rule::label).collect();
    assert_eq!(
        labels,
        [
            "id not_null",
            "amount range [0, 100000]",
            "email regex ^[^@]+@[^@]+$",
            "country allowed [DE, FR, US]",
            "id unique",
            "day range ['2020-01-01', inf]",
        ]
    );
    assert_eq!(validate.rules[1].pos, Pos::new(26, 11));
    let OnFailure::Quarantine(quarantine) = &validate.on_failure else {
        panic!()
    };
    assert_eq!(
        quarantine.value,
        TableName::new("curated", "orders_quarantine")
    );
    let StepKind::Dedupe {
        keys,
        order_by,
        latest,
    } = step("dedupe")
    else {
        panic!()
    };
    assert_eq!(names(keys), ["id"]);
    assert_eq!(order_by.as_ref().unwrap().value, "updated_at");
    assert!(*latest);
    let StepKind::Join(join) = step("join") else {
        panic!()
    };
    assert_eq!(join.kind, JoinKind::Left);
    assert_eq!(join.on[0].0.value, "customer_id");
    assert_eq!(join.on[0].1.value, "id");
    assert_eq!(names(join.columns.as_ref().unwrap()), ["segment"]);
    let StepKind::Union(union) = step("union") else {
        panic!()
    };
    assert_eq!(union.value, TableName::new("raw", "orders_backfill"));
    let StepKind::Pivot {
        index,
        column,
        values,
        agg,
        columns,
    } = step("pivot")
    else {
        panic!()
    };
    assert_eq!(
        (
            names(index),
            column.value.as_str(),
            values.value.as_str(),
            agg.value,
            names(columns)
        ),
        (
            vec!["id"],
            "metric",
            "value",
            Aggregate::Sum,
            vec!["clicks", "views"]
        )
    );
    let StepKind::Unpivot {
        columns,
        name,
        value,
    } = step("unpivot")
    else {
        panic!()
    };
    assert_eq!(
        (names(columns), name.value.as_str(), value.value.as_str()),
        (vec!["clicks", "views"], "metric", "value")
    );
}

#[test]
fn transform_steps_have_defaults() {
    assert_eq!(one_step("drop_null_fields"), StepKind::DropNullFields);
    assert_eq!(one_step("drop_null_fields:"), StepKind::DropNullFields);
    let StepKind::Dedupe {
        order_by, latest, ..
    } = one_step("dedupe: { keys: id }")
    else {
        panic!()
    };
    assert!(order_by.is_none() && !latest);
    let StepKind::Validate(v) = one_step("validate: { rules: [{ column: a, not_null: true }] }")
    else {
        panic!()
    };
    assert_eq!(v.on_failure, OnFailure::Fail);
    let StepKind::Validate(v) = one_step(
        "validate: { rules: [{ column: a, not_null: true, unique: true }], on_failure: drop }",
    ) else {
        panic!()
    };
    assert_eq!(v.on_failure, OnFailure::Drop);
    // One rule per check, in the order written.
    assert_eq!(v.rules.len(), 2);
    assert_eq!(v.rules[1].check, Check::Unique);
    let StepKind::Join(join) = one_step("join: { table: d.c, on: { a: b } }") else {
        panic!()
    };
    assert_eq!((join.kind, join.columns), (JoinKind::Inner, None));
    let StepKind::Union(t) = one_step("union: d.other") else {
        panic!()
    };
    assert_eq!(t.value, TableName::new("d", "other"));
    let StepKind::Unpivot { name, value, .. } = one_step("unpivot: { columns: [a, b] }") else {
        panic!()
    };
    assert_eq!(
        (name.value.as_str(), value.value.as_str()),
        ("name", "value")
    );
    let StepKind::Combine { separator, .. } = one_step("combine: { columns: [a, b], into: c }")
    else {
        panic!()
    };
    assert_eq!(separator, "");
    let StepKind::Mask(masks) =
        one_step("mask: { p: { partial: { keep_first: 1, keep_last: 2 } } }")
    else {
        panic!()
    };
    assert_eq!(
        masks[0].method,
        MaskMethod::Partial {
            keep_first: 1,
            keep_last: 2
        }
    );
    let StepKind::Select(columns) = one_step("select: id") else {
        panic!()
    };
    assert_eq!(names(&columns), ["id"]);
    let StepKind::Derive(derives) = one_step("derive: { one: 1 }") else {
        panic!()
    };
    assert_eq!(derives[0].1.text, "1");
}

#[test]
fn transform_sql_lines_map_to_the_file() {
    let text = "source:\n  query: |\n    SELECT id,\n      amount\n    FROM raw.orders\nsink: { table: a.b }\n";
    let r = recipe(text);
    let Source::Query(query) = &r.source else {
        panic!()
    };
    assert_eq!(query.text, "SELECT id,\n  amount\nFROM raw.orders\n");
    assert_eq!(
        query.line_starts[..3],
        [Pos::new(3, 5), Pos::new(4, 5), Pos::new(5, 5)]
    );
    // "amount" is at byte 13, line 2 column 3 of the text.
    assert_eq!(query.pos_at(13), Pos::new(4, 7));
    assert_eq!(query.pos_at_line_column(3, 6), Pos::new(5, 10));
    // Plain on one line: the node's position.
    let StepKind::Filter(f) = one_step("filter: amount > 0") else {
        panic!()
    };
    assert_eq!(f.line_starts, vec![Pos::new(3, 13)]);
    // Escapes or folding: the text does not read as written, every offset maps to the node.
    for step in [
        r#"filter: "a = '\t'""#,
        "filter: >\n      a > 0\n      AND b < 1",
    ] {
        let StepKind::Filter(f) = one_step(step) else {
            panic!()
        };
        assert!(f.line_starts.is_empty(), "{step}: {:?}", f.line_starts);
        assert_eq!(f.pos_at(3), f.pos);
    }
}

#[test]
fn transform_sources_and_bookmarks() {
    let source = |s: &str| recipe(&format!("{s}\nsink: {{ table: a.b }}\n"));
    let r = source("source: { prefix: raw/orders/, format: csv }\nbookmark: true");
    assert_eq!(r.bookmark, Some(Bookmark::Default));
    let Source::Prefix { prefix, format } = &r.source else {
        panic!()
    };
    assert_eq!(
        (prefix.value.as_str(), *format),
        ("raw/orders/", Some(FileFormat::Csv))
    );
    let r = source("source: { prefix: raw/ }\nbookmark: objects");
    assert_eq!(r.bookmark, Some(Bookmark::Objects));
    assert!(matches!(r.source, Source::Prefix { format: None, .. }));
    let r = source("source: { stream: orders }\nbookmark: true");
    assert!(matches!(&r.source, Source::Stream(s) if s.value == "orders"));
    let r = source("source: { query: \"SELECT * FROM raw.a\" }\nbookmark: { column: id }");
    assert!(matches!(r.source, Source::Query(_)));
    assert!(matches!(r.bookmark, Some(Bookmark::Column(_))));
    let r = source("source: { table: a.b }\nbookmark: false");
    assert_eq!(r.bookmark, None);
}

#[test]
fn transform_sinks() {
    let sink = |s: &str| recipe(&format!("source: {{ table: a.b }}\nsink: {s}\n")).sink;
    assert_eq!(
        sink("{ table: c.d }"),
        Sink::Table(TableSink {
            table: At {
                value: TableName::new("c", "d"),
                pos: Pos::new(2, 16)
            },
            mode: WriteMode::Append,
            partition_by: Vec::new(),
            compression: Compression::Snappy,
        })
    );
    let Sink::Prefix {
        format,
        compression,
        partition_by,
        ..
    } = sink("{ prefix: out/, format: json, compression: gzip, partition_by: [day] }")
    else {
        panic!()
    };
    assert_eq!(
        (format, compression, names(&partition_by)),
        (FileFormat::JsonLines, Compression::Gzip, vec!["day"])
    );
    let Sink::Prefix {
        format,
        compression,
        ..
    } = sink("{ prefix: out/ }")
    else {
        panic!()
    };
    assert_eq!(
        (format, compression),
        (FileFormat::Parquet, Compression::Snappy)
    );
    let Sink::Prefix { compression, .. } = sink("{ prefix: out/, format: csv }") else {
        panic!()
    };
    assert_eq!(compression, Compression::None);
    let Sink::Stream {
        stream,
        partition_key,
    } = sink("{ stream: orders_clean, partition_key: id }")
    else {
        panic!()
    };
    assert_eq!(
        (stream.value.as_str(), partition_key.unwrap().value.as_str()),
        ("orders_clean", "id")
    );
    let Sink::Table(t) = sink("{ table: c.d, mode: overwrite }") else {
        panic!()
    };
    assert_eq!(t.mode, WriteMode::Overwrite);
    let Sink::Table(t) = sink("{ table: c.d, mode: overwrite_partitions }") else {
        panic!()
    };
    assert_eq!(t.mode, WriteMode::OverwritePartitions);
}

/// A bookmarked run reads only what is new, so a mode that replaces the sink's rows would lose
/// earlier runs' rows: refused where the mode is written, for every kind of bookmark.
#[test]
fn transform_bookmark_refuses_overwrite_modes() {
    let with = |source: &str, mode: &str| {
        problems(&format!(
            "source: {source}\nbookmark: true\nsink: {{ table: c.d, mode: {mode} }}\n"
        ))
    };
    let why = |mode: &str| {
        format!(
            "`mode: {mode}` with a bookmark would lose data: a bookmarked run reads only what is new since the last run, so it would replace earlier runs' rows with only the new ones; use `mode: append` (or drop the bookmark to rebuild from all rows)"
        )
    };
    assert_eq!(
        with("{ prefix: raw/ }", "overwrite_partitions"),
        [format!(
            "transforms/t.yaml:3:27: {}",
            why("overwrite_partitions")
        )]
    );
    assert_eq!(
        with("{ stream: s }", "overwrite"),
        [format!("transforms/t.yaml:3:27: {}", why("overwrite"))]
    );
    assert_eq!(
        problems(
            "source: { table: a.b }\nbookmark: { column: id }\nsink:\n  table: c.d\n  mode: overwrite\n"
        ),
        [format!("transforms/t.yaml:5:9: {}", why("overwrite"))]
    );
    let r = recipe(
        "source: { table: a.b }\nbookmark: { column: id }\nsink: { table: c.d, mode: append }\n",
    );
    assert!(matches!(&r.sink, Sink::Table(t) if t.mode == WriteMode::Append));
    let r = recipe("source: { table: a.b }\nsink: { table: c.d, mode: overwrite }\n");
    assert!(matches!(&r.sink, Sink::Table(t) if t.mode == WriteMode::Overwrite));
}

#[test]
fn transform_file_problems() {
    assert_eq!(
        problems(""),
        [
            "transforms/t.yaml:1:1: the file is empty: a transform needs at least `source` and `sink`"
        ]
    );
    assert_eq!(
        problems("[1]"),
        [
            "transforms/t.yaml:1:1: a transform file must be a mapping of keys such as `source`, `steps` and `sink`, not a list"
        ]
    );
    assert_eq!(
        problems("description: x\n"),
        [
            "transforms/t.yaml:1:1: the transform has no `source`: add one of `table`, `prefix`, `stream` or `query`, such as `source: { table: raw.orders }`",
            "transforms/t.yaml:1:1: the transform has no `sink`: say where rows go, such as `sink: { table: curated.orders }`",
        ]
    );
    assert_eq!(
        problems("source: { table: a.b }\nsink: { table: c.d }\nstep: []\nsink: { table: e.f }\n"),
        [
            "transforms/t.yaml:3:1: unknown key `step` in transform `t`; did you mean `steps`?",
            "transforms/t.yaml:4:1: duplicate key `sink` (first set on line 2)",
        ]
    );
    assert!(problems("source: [")[0].starts_with("transforms/t.yaml:"));
    let bad_name = parse_transform(
        "transforms/a b.yaml",
        "a b",
        "source: { table: a.b }\nsink: { table: c.d }\n",
    )
    .unwrap_err();
    assert!(
        bad_name[0].message.contains("is not a transform name"),
        "{bad_name:?}"
    );
}

#[test]
fn transform_source_and_bookmark_problems() {
    let with = |source: &str, bookmark: &str| {
        problems(&format!(
            "source: {source}\nbookmark: {bookmark}\nsink: {{ table: c.d }}\n"
        ))
    };
    assert_eq!(
        with("{ table: a.b }", "true"),
        [
            "transforms/t.yaml:2:11: a table source's bookmark is a column whose values only grow: name it, as in `bookmark: { column: updated_at }`"
        ]
    );
    assert_eq!(
        with("{ query: SELECT 1 }", "objects"),
        [
            "transforms/t.yaml:2:11: a query source's bookmark is a column whose values only grow: name it, as in `bookmark: { column: updated_at }`"
        ]
    );
    assert_eq!(
        with("{ prefix: p/ }", "{ column: id }"),
        [
            "transforms/t.yaml:2:11: a prefix source's bookmark is the objects already read (by key and etag): write `bookmark: true`"
        ]
    );
    assert_eq!(
        with("{ stream: s }", "{ column: id }"),
        [
            "transforms/t.yaml:2:11: a stream source's bookmark is its shards' positions: write `bookmark: true`"
        ]
    );
    assert_eq!(with("{ table: a.b }", "{ colum: id }"), [
        "transforms/t.yaml:2:13: unknown key `colum` in `bookmark`; did you mean `column`?",
        "transforms/t.yaml:2:11: `bookmark` needs `column`: a column whose values only grow, such as `{ column: updated_at }`",
    ]
    .into_iter()
    .rev()
    .collect::<Vec<_>>());
    assert_eq!(
        with("{ table: a.b }", "3"),
        [
            "transforms/t.yaml:2:11: `bookmark` must be true, `objects`, or `{ column: NAME }` (a column whose values only grow), not a number"
        ]
    );
    assert_eq!(
        with("{ table: a.b, prefix: p/ }", "false"),
        [
            "transforms/t.yaml:1:23: `source` takes one of `table`, `prefix`, `stream`, `query`: `table` is set already"
        ]
    );
    assert_eq!(
        with("{ }", "false"),
        ["transforms/t.yaml:1:9: `source` needs one of `table`, `prefix`, `stream`, `query`"]
    );
    assert_eq!(
        with("{ table: orders }", "false"),
        [
            "transforms/t.yaml:1:18: `source.table` must be `database.table` (letters, digits and `_`), not `orders`"
        ]
    );
    assert_eq!(
        with("{ table: a.b, format: csv }", "false"),
        [
            "transforms/t.yaml:1:31: `format` belongs to a `prefix` source (a `table` source has its own)"
        ]
    );
    assert_eq!(
        with("{ prefix: p/, format: avro }", "false"),
        ["transforms/t.yaml:1:31: unknown format `avro` (one of csv, json, parquet)"]
    );
    assert_eq!(
        with("{ stream: 'a b' }", "false"),
        [
            "transforms/t.yaml:1:19: `source.stream` must be a stream name: 1 to 128 letters, digits, `.`, `-` or `_`"
        ]
    );
    assert_eq!(
        with("{ query: '  ' }", "false"),
        ["transforms/t.yaml:1:18: `source.query` is an empty SQL expression"]
    );
    assert_eq!(
        with("table", "false"),
        [
            "transforms/t.yaml:1:9: `source` must be a mapping such as `{ table: raw.orders }`, not a string"
        ]
    );
}

#[test]
fn transform_sink_problems() {
    let sink = |s: &str| problems(&format!("source: {{ table: a.b }}\nsink: {s}\n"));
    assert_eq!(
        sink("{ prefix: out/, mode: overwrite }"),
        [
            "transforms/t.yaml:2:29: `mode` belongs to a `table` sink (the overwrite modes replace a table's files; a prefix sink adds objects)"
        ]
    );
    assert_eq!(
        sink("{ stream: s, mode: overwrite_partitions, compression: gzip }"),
        [
            "transforms/t.yaml:2:26: `mode` belongs to a `table` sink (the overwrite modes replace a table's files; a stream sink appends records)",
            "transforms/t.yaml:2:61: `compression` belongs to a `table` or `prefix` sink",
        ]
    );
    assert_eq!(
        sink("{ table: c.d, format: csv, partition_key: id }"),
        [
            "transforms/t.yaml:2:29: a table sink writes Parquet: leave `format` out",
            "transforms/t.yaml:2:49: `partition_key` belongs to a `stream` sink (a table is partitioned by `partition_by`)",
        ]
    );
    assert_eq!(
        sink("{ table: c.d, mode: overwrite_partition }"),
        [
            "transforms/t.yaml:2:27: unknown mode `overwrite_partition`; did you mean `overwrite_partitions`? (one of append, overwrite_partitions, overwrite)"
        ]
    );
    assert_eq!(
        sink("{ prefix: out/, format: csv, compression: snappy }"),
        [
            "transforms/t.yaml:2:49: snappy compresses Parquet only: CSV and JSON lines take gzip, zstd or none"
        ]
    );
    assert_eq!(
        sink("{ table: c.d, compression: lz4 }"),
        ["transforms/t.yaml:2:34: unknown compression `lz4` (one of none, snappy, gzip, zstd)"]
    );
    assert_eq!(
        sink("{ table: c.d, partition_by: [day, day] }"),
        ["transforms/t.yaml:2:41: `partition_by` names `day` twice (first on line 2)"]
    );
    assert_eq!(
        sink("{ tabel: c.d }"),
        [
            "transforms/t.yaml:2:7: `sink` needs one of `table`, `prefix`, `stream`",
            "transforms/t.yaml:2:9: unknown key `tabel` in `sink`; did you mean `table`?",
        ]
    );
}

#[test]
fn transform_step_problems() {
    let cases: &[(&str, &str)] = &[
        (
            "fliter: a > 0",
            "3:5: unknown step `fliter`; did you mean `filter`? (steps: select, drop, drop_null_fields, filter, rename, cast, derive, mask, truncate, split, combine, validate, dedupe, join, union, pivot, unpivot)",
        ),
        (
            "filter: a > 0\n    select: [a]",
            "4:5: a step has one key, and this one already has `filter`: start a new item (`- select: …`) for this step",
        ),
        (
            "filter:",
            "3:11: `filter` must be a SQL expression (a string), not null",
        ),
        (
            "filter: [a]",
            "3:13: `filter` must be a SQL expression (a string), not a list",
        ),
        ("select: []", "3:13: `select` needs at least one column"),
        ("select: [a, '']", "3:17: `select` has an empty column name"),
        (
            "drop: [a, a]",
            "3:15: `drop` names `a` twice (first on line 3)",
        ),
        (
            "drop_null_fields: false",
            "3:23: `drop_null_fields: false` does nothing: leave the step out",
        ),
        (
            "drop_null_fields: 1",
            "3:23: `drop_null_fields` takes `true`, not a number",
        ),
        (
            "rename: [a]",
            "3:13: `rename` must map old column names to new ones, not a list",
        ),
        (
            "rename: {}",
            "3:13: `rename` must map old column names to new ones, not an empty mapping",
        ),
        (
            "rename: { a: c, b: c }",
            "3:24: `rename` makes `c` twice (first on line 3)",
        ),
        (
            "rename: { a: [b] }",
            "3:18: `rename.a` must be a column name, not a list",
        ),
        ("cast: { a: '' }", "3:16: `cast.a` is empty"),
        (
            "derive: { x: '' }",
            "3:18: `derive.x` is an empty SQL expression",
        ),
        (
            "mask: { a: blur }",
            "3:16: unknown mask method `blur` (full, partial, hash)",
        ),
        (
            "mask: { a: { partial: {} } }",
            "3:27: `partial` needs `keep_first` or `keep_last` above 0 (to hide every character, use `full`)",
        ),
        (
            "mask: { a: partial }",
            "3:16: `partial` needs `keep_first` or `keep_last`: the characters left as they are, such as `{ partial: { keep_last: 4 } }`",
        ),
        (
            "mask: { a: { partial: { keep_last: 0 } } }",
            "3:27: `partial` keeps no character: give `keep_first` or `keep_last` above 0, or use `full`",
        ),
        (
            "mask: { a: { hash: { salt: 'my salt' } } }",
            "3:32: `salt` names a secret: `my salt` is not one (a secret name is letters, digits and `_`, not starting with a digit, at most 128 characters)",
        ),
        (
            "mask: { a: { hash: { salts: s } } }",
            "3:26: unknown key `salts` in `hash`; did you mean `salt`?",
        ),
        ("mask: { a: { full: 1 } }", "3:24: `full` takes no settings"),
        (
            "mask: { a: { hash: {}, full: true } }",
            "3:16: `mask.a` must be `full`, `hash`, `{ hash: { salt: SECRET } }` or `{ partial: { keep_last: 4 } }`, not a mapping of several methods",
        ),
        (
            "truncate: { a: 0 }",
            "3:20: `truncate.a` must be a whole number ≥ 1",
        ),
        (
            "split: { column: a, separator: '', into: [b, c] }",
            "3:36: `split.separator` is empty",
        ),
        (
            "split: { column: a, separator: ' ', into: [b] }",
            "3:47: `split.into` needs at least 2 columns",
        ),
        (
            "split: { separator: ' ', into: [b, c] }",
            "3:12: `split` needs `column`: the column to split",
        ),
        (
            "combine: { columns: [a], into: b }",
            "3:25: `combine.columns` needs at least 2 columns",
        ),
        (
            "combine: { columns: [a, b] }",
            "3:14: `combine` needs `into`: the new column",
        ),
        (
            "validate: { rules: [] }",
            "3:24: `rules` needs at least one rule",
        ),
        (
            "validate: { on_failure: drop }",
            "3:15: `validate` needs `rules`: a list such as [{ column: id, not_null: true }]",
        ),
        (
            "validate: { rules: [{ column: a }] }",
            "3:25: a rule needs a check: one of not_null, range, regex, allowed, unique",
        ),
        (
            "validate: { rules: [{ not_null: true }] }",
            "3:25: a rule needs `column`: the column it checks",
        ),
        (
            "validate: { rules: [{ column: a, not_nul: true }] }",
            "3:38: unknown key `not_nul` in a rule; did you mean `not_null`?",
        ),
        (
            "validate: { rules: [{ column: a, unique: false }] }",
            "3:46: `unique: false` checks nothing: leave it out",
        ),
        (
            "validate: { rules: [{ column: a, range: {} }] }",
            "3:45: `range` needs `min`, `max` or both",
        ),
        (
            "validate: { rules: [{ column: a, range: { min: 5, max: 1 } }] }",
            "3:45: `range` has `min` above `max`: no value passes",
        ),
        (
            "validate: { rules: [{ column: a, range: { min: [1] } }] }",
            "3:52: `range.min` must be a number, or a date or time as a string, not a list",
        ),
        (
            "validate: { rules: [{ column: a, regex: '(' }] }",
            "3:45: invalid `regex` `(`: error: unclosed group",
        ),
        (
            "validate: { rules: [{ column: a, allowed: [] }] }",
            "3:47: `allowed` needs at least one value",
        ),
        (
            "validate: { rules: [{ column: a, allowed: [[1]] }] }",
            "3:48: `allowed` values must be strings or numbers, not a list",
        ),
        (
            "validate: { rules: [{ column: a, unique: true }], on_failure: quarantine }",
            "3:67: a quarantine needs a table for the failing rows: `on_failure: { quarantine: database.table }`",
        ),
        (
            "validate: { rules: [{ column: a, unique: true }], on_failure: { quarantine: } }",
            "3:79: `quarantine` needs a table, such as `database.table`",
        ),
        (
            "validate: { rules: [{ column: a, unique: true }], on_failure: skip }",
            "3:67: unknown on_failure `skip` (one of drop, fail)",
        ),
        (
            "dedupe: { order_by: t }",
            "3:13: `dedupe` needs `keys`: the columns that identify a row",
        ),
        (
            "dedupe: { keys: [id], keep: latest }",
            "3:33: `keep` needs `order_by`: the column that says which row is the latest",
        ),
        (
            "dedupe: { keys: [id], order_by: t, keep: last }",
            "3:46: unknown keep `last`; did you mean `latest`? (one of latest, earliest)",
        ),
        (
            "join: { table: a.b, on: {} }",
            "3:29: `on` must map this side's columns to the table's, not an empty mapping",
        ),
        (
            "join: { table: a.b, on: { x: y }, type: outer }",
            "3:45: unknown join type `outer` (one of inner, left, right, full, semi, anti)",
        ),
        (
            "join: { table: a.b, on: { x: y }, type: semi, columns: [z] }",
            "3:60: a semi or anti join keeps this side's columns only: leave `columns` out",
        ),
        (
            "join: { on: { x: y } }",
            "3:11: `join` needs `table`: the table to join with",
        ),
        (
            "union: {}",
            "3:12: `union` needs `table`: the table whose rows to append",
        ),
        ("union: 3", "3:12: `union` must be a string, not a number"),
        (
            "pivot: { index: [id], column: m, values: v, agg: sum }",
            "3:12: `pivot` needs `columns`: the values of `column` that become columns (a plan's columns must be known before it runs)",
        ),
        (
            "pivot: { index: [id], column: m, values: v, agg: sum, columns: [] }",
            "3:68: `columns` needs at least one column",
        ),
        (
            "pivot: { index: [id], column: m, values: v, agg: median, columns: [a] }",
            "3:54: unknown agg `median` (one of sum, count, min, max, avg, first)",
        ),
        (
            "unpivot: { columns: [a], name: x, value: x }",
            "3:46: `name` and `value` are both `x`: name two columns",
        ),
        (
            "unpivot: { name: x }",
            "3:14: `unpivot` needs `columns`: the columns that become rows",
        ),
        (
            "7",
            "3:5: a step must be a mapping with one step key, such as `- filter: \"amount > 0\"`, not a number",
        ),
        (
            "{}",
            "3:5: this step is empty: give one of select, drop, drop_null_fields, filter, rename, cast, derive, mask, truncate, split, combine, validate, dedupe, join, union, pivot, unpivot",
        ),
    ];
    let mut failures = Vec::new();
    for (step, expected) in cases {
        let found = step_problems(step);
        let expected = format!("{FILE}:{expected}");
        if found != [expected.clone()] {
            failures.push(format!(
                "{step}\n  expected {expected}\n  found    {found:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn transform_checks_across_steps() {
    let text = with_steps(
        "  - validate: { rules: [{ column: a, not_null: true }], on_failure: { quarantine: q.one } }\n  - validate: { rules: [{ column: b, not_null: true }], on_failure: { quarantine: curated.orders } }\n",
    );
    assert_eq!(
        problems(&text),
        [
            "transforms/t.yaml:4:83: a recipe has at most one validate step with a quarantine (the first is on line 3): merge their rules",
            "transforms/t.yaml:4:83: the quarantine table `curated.orders` is the sink's table: failing rows need a table of their own",
        ]
    );
}

#[test]
fn transform_reports_every_problem_at_once() {
    let text = "source: { table: orders }\nbookmark: true\nsteps:\n  - fliter: x\n  - select: []\nsink: { prefix: out/, mode: overwrite }\nextra: 1\n";
    let found = problems(text);
    assert_eq!(found.len(), 5, "{found:#?}");
    let lines: Vec<&str> = found.iter().map(|p| p.split(':').nth(1).unwrap()).collect();
    assert_eq!(lines, ["1", "4", "5", "6", "7"]);
}

const FLOW: &str = r#"description: Orders from the shop every hour
source: { table: raw.orders }
mapping:
  customer_id: customer
  total: "amount * 1.2"
filter: "total > 0"
mask: { email: hash }
validate:
  rules: [{ column: customer_id, not_null: true }]
  on_failure: drop
destination: { table: curated.orders }
trigger: { schedule: "0 * * * *", timezone: Europe/Paris }
"#;

#[test]
fn flow_reads_appflow_keys() {
    let flow = parse_flow("flows/f.yaml", "f", FLOW).unwrap();
    let kinds: Vec<&str> = flow.recipe.steps.iter().map(Step::name).collect();
    assert_eq!(kinds, ["derive", "rename", "filter", "mask", "validate"]);
    let StepKind::Derive(derives) = &flow.recipe.steps[0].kind else {
        panic!()
    };
    assert_eq!(derives[0].0.value, "total");
    assert_eq!(derives[0].1.text, "amount * 1.2");
    let StepKind::Rename(renames) = &flow.recipe.steps[1].kind else {
        panic!()
    };
    assert_eq!(
        (renames[0].0.value.as_str(), renames[0].1.value.as_str()),
        ("customer", "customer_id")
    );
    assert!(matches!(flow.recipe.sink, Sink::Table(_)));
    let FlowTrigger::Schedule { cron, timezone } = &flow.trigger else {
        panic!("{:?}", flow.trigger)
    };
    assert_eq!(cron.value, "0 * * * *");
    assert_eq!(timezone.as_deref(), Some("Europe/Paris"));
}

#[test]
fn flow_triggers() {
    let trigger = |t: &str| {
        let text = format!("source: {{ table: a.b }}\nsink: {{ table: c.d }}\n{t}");
        parse_flow("flows/f.yaml", "f", &text).map(|f| f.trigger)
    };
    assert_eq!(trigger(""), Ok(FlowTrigger::OnDemand));
    assert_eq!(trigger("trigger: on_demand\n"), Ok(FlowTrigger::OnDemand));
    let Ok(FlowTrigger::Event { pattern }) = trigger("trigger: { event: { source: [shop] } }\n")
    else {
        panic!()
    };
    assert_eq!(pattern.value, json!({"source": ["shop"]}));
    let messages = |t: &str| -> Vec<String> {
        trigger(t)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(
        messages("trigger: ondemand\n"),
        [
            "flows/f.yaml:3:10: unknown trigger `ondemand`; did you mean `on_demand`? (on_demand, { schedule: CRON } or { event: PATTERN })"
        ]
    );
    assert_eq!(
        messages("trigger: '0 * * * *'\n"),
        [
            "flows/f.yaml:3:10: unknown trigger `0 * * * *`; for a schedule write `trigger: { schedule: \"0 * * * *\" }` (on_demand, { schedule: CRON } or { event: PATTERN })"
        ]
    );
    assert!(
        messages("trigger: { schedule: 'every hour' }\n")[0].starts_with("flows/f.yaml:3:22: ")
    );
    assert_eq!(
        messages("trigger: { schedule: '@daily', timezone: Mars/Base }\n"),
        [
            "flows/f.yaml:3:42: unknown timezone `Mars/Base` (use an IANA name such as Europe/Paris, or UTC)"
        ]
    );
    assert_eq!(
        messages("trigger: { schedule: '@daily', event: { source: [a] } }\n"),
        [
            "flows/f.yaml:3:39: a flow has one trigger: a `schedule` or an `event`, not both (make a pipeline for more)"
        ]
    );
    assert_eq!(
        messages("trigger: {}\n"),
        [
            "flows/f.yaml:3:10: `trigger` needs a `schedule` or an `event` (or write `trigger: on_demand`)"
        ]
    );
    assert_eq!(
        messages("trigger: { event: [a] }\n"),
        [
            "flows/f.yaml:3:19: `event` must be an event pattern (a mapping such as `{source: [weir.lake]}`), not a list"
        ]
    );
}

#[test]
fn flow_problems() {
    let flow = |text: &str| -> Vec<String> {
        parse_flow("flows/f.yaml", "f", text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(
        flow("source: { table: a.b }\n"),
        [
            "flows/f.yaml:1:1: the flow has no `destination`: say where rows go, such as `destination: { table: curated.orders }`"
        ]
    );
    assert_eq!(
        flow("source: { table: a.b }\nsink: { table: c.d }\ndestination: { table: e.f }\n"),
        [
            "flows/f.yaml:3:1: `destination` and `sink` both say where rows go (a flow's destination is its sink): keep one"
        ]
    );
    assert_eq!(
        flow("source: { table: a.b }\nmapping: { b: a, a: 'x + 1' }\nsink: { table: c.d }\n"),
        [
            "flows/f.yaml:2:18: `a` is both computed here and renamed (on line 2): the expression would replace the column before it is renamed"
        ]
    );
    assert_eq!(
        flow("source: { table: a.b }\ntriger: on_demand\nsink: { table: c.d }\n"),
        ["flows/f.yaml:2:1: unknown key `triger` in flow `f`; did you mean `trigger`?"]
    );
    assert_eq!(
        flow("source: { table: a.b }\nselect: [a]\nsink: { table: c.d }\n"),
        [
            "flows/f.yaml:2:1: unknown key `select` in flow `f`: steps go in a list under `steps:`, as in `steps: [{ select: … }]`"
        ]
    );
    // A transform file has no trigger and no AppFlow words.
    assert_eq!(
        problems(
            "source: { table: a.b }\nsink: { table: c.d }\ntrigger: on_demand\ndestination: { table: e.f }\n"
        ),
        [
            "transforms/t.yaml:3:1: unknown key `trigger` in transform `t`",
            "transforms/t.yaml:4:1: unknown key `destination` in transform `t`: a transform says `sink` (`destination` is a flow's word for it)",
        ]
    );
    assert_eq!(
        problems("source: { table: a.b }\nsink: { table: c.d }\nfilter: a > 0\n"),
        [
            "transforms/t.yaml:3:1: unknown key `filter` in transform `t`: steps go in a list under `steps:`, as in `steps: [{ filter: … }]`"
        ]
    );
}

#[test]
fn flow_becomes_a_one_task_pipeline() {
    let pipeline = flow_pipeline("flows/orders.yaml", "orders", FLOW).unwrap();
    assert_eq!(pipeline.name, "orders");
    assert_eq!(pipeline.file, "flows/orders.yaml");
    assert_eq!(
        pipeline.description.as_deref(),
        Some("Orders from the shop every hour")
    );
    assert!(pipeline.schedule.is_some());
    assert_eq!(pipeline.timezone, chrono_tz::Europe::Paris);
    assert_eq!(pipeline.tasks.len(), 1);
    let task = &pipeline.tasks[FLOW_TASK];
    assert_eq!(task.action.kind, "transform");
    assert_eq!(task.action.config["transform"], json!("orders"));
    // The stored version is pipeline text that reads back the same.
    let again =
        crate::pipeline::parse_pipeline(&pipeline.file, "orders", &pipeline.source).unwrap();
    assert_eq!(again.version, pipeline.version);
    // The version follows the flow's file.
    let edited = FLOW.replace("total > 0", "total > 1");
    let other = flow_pipeline("flows/orders.yaml", "orders", &edited).unwrap();
    assert_ne!(other.version, pipeline.version);

    let text = "source: { stream: orders }\nbookmark: true\ndestination: { table: c.d }\ntrigger: { event: { source: [\"shop\"], detail-type: [\"Order \\\"Placed\\\"\"] } }\n";
    let pipeline = flow_pipeline("flows/ev.yaml", "ev", text).unwrap();
    assert!(pipeline.schedule.is_none());
    assert_eq!(pipeline.triggers.len(), 1);
    assert_eq!(
        pipeline.triggers[0].pattern,
        json!({"source": ["shop"], "detail-type": ["Order \"Placed\""]})
    );
    let on_demand = flow_pipeline(
        "flows/d.yaml",
        "d",
        "source: { table: a.b }\nsink: { table: c.d }\n",
    )
    .unwrap();
    assert!(on_demand.schedule.is_none() && on_demand.triggers.is_empty());
    // A bad flow is the flow's problems.
    let problems = flow_pipeline("flows/d.yaml", "d", "source: {}\n").unwrap_err();
    assert!(problems.iter().all(|p| p.file == "flows/d.yaml"));
}
