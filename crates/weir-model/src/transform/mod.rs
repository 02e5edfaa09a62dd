//! Transforms (weir's Glue ETL / DataBrew recipes): `transforms/NAME.yaml` says where rows come
//! from (a catalog table, a lake prefix, a stream's new records, or a query), the steps that
//! change them, and where they go (a catalog table, appended or with the partitions it touches
//! overwritten, a lake prefix in a format, or a stream). `flows/NAME.yaml` (AppFlow's flows) is
//! the same recipe with a trigger: a short form for a pipeline of one `transform` task.
//!
//! This module is the recipe as data, with the position of every step and expression, so that the
//! lake (which compiles a recipe into a DataFusion plan) reports a problem at the step, and inside
//! the expression, that causes it. See `docs/transforms.md`.

mod flow;
mod parse;
mod read;
mod steps;

pub use flow::{FLOW_TASK, flow_pipeline};
pub use parse::{FLOW_KEYS, TRANSFORM_KEYS, parse_flow, parse_transform};

use crate::problem::Pos;
use crate::sql_tables::TableName;

/// Longest transform (or flow) name: letters, digits, `_` and `-`.
pub const MAX_NAME_LEN: usize = 128;

/// Letters, digits, `_` and `-`, at most [`MAX_NAME_LEN`]: a transform's or flow's file stem.
pub fn is_transform_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

/// A checked recipe.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    /// The file stem: `transforms/NAME.yaml`.
    pub name: String,
    /// The file it came from, as problems name it.
    pub file: String,
    pub description: Option<String>,
    pub source: Source,
    /// Process only what arrived since the last successful run.
    pub bookmark: Option<Bookmark>,
    pub steps: Vec<Step>,
    pub sink: Sink,
}

/// The lake folders and streams a recipe reads or writes (its prefix and stream source and
/// sink): what a credential must be granted besides the tables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecipePlaces {
    pub prefixes: Vec<String>,
    pub streams: Vec<String>,
}

impl Recipe {
    pub fn places(&self) -> RecipePlaces {
        let mut places = RecipePlaces::default();
        match &self.source {
            Source::Prefix { prefix, .. } => places.prefixes.push(prefix.value.clone()),
            Source::Stream(stream) => places.streams.push(stream.value.clone()),
            Source::Table(_) | Source::Query(_) => {}
        }
        match &self.sink {
            Sink::Prefix { prefix, .. } => places.prefixes.push(prefix.value.clone()),
            Sink::Stream { stream, .. } => places.streams.push(stream.value.clone()),
            Sink::Table(_) => {}
        }
        places
    }
}

/// Something with the position of its node in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct At<T> {
    pub value: T,
    pub pos: Pos,
}

/// SQL expression text (`filter`, `derive`), with what is needed to place a byte offset of the
/// text (as a SQL parser reports it) in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlExpr {
    pub text: String,
    /// The expression's node.
    pub pos: Pos,
    /// For each line of `text`, where its first character is in the file, when the text is
    /// written as it reads (plain, quoted without escapes, or a `|` block); else empty, and every
    /// offset maps to `pos`.
    pub line_starts: Vec<Pos>,
}

impl SqlExpr {
    /// The file position of byte `offset` of the text.
    pub fn pos_at(&self, offset: usize) -> Pos {
        let Some(before) = self.text.get(..offset.min(self.text.len())) else {
            return self.pos;
        };
        let line = before.matches('\n').count();
        let Some(start) = self.line_starts.get(line) else {
            return self.pos;
        };
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count();
        Pos::new(
            start.line,
            start
                .column
                .saturating_add(u32::try_from(column).unwrap_or(u32::MAX)),
        )
    }

    /// The position of a 1-based line and column of the text (as DataFusion's spans say it).
    pub fn pos_at_line_column(&self, line: u64, column: u64) -> Pos {
        let Some(start) = usize::try_from(line)
            .ok()
            .and_then(|l| l.checked_sub(1))
            .and_then(|l| self.line_starts.get(l))
        else {
            return self.pos;
        };
        let column = u32::try_from(column.saturating_sub(1)).unwrap_or(u32::MAX);
        Pos::new(start.line, start.column.saturating_add(column))
    }
}

/// Where rows come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A catalog table (`database.table`).
    Table(At<TableName>),
    /// Objects under a lake prefix, in a format (inferred from the objects' names when not said).
    Prefix {
        prefix: At<String>,
        format: Option<FileFormat>,
    },
    /// A stream's records (each record's data a JSON object), from where the bookmark stands
    /// (or the stream's oldest record) to its end when the run starts.
    Stream(At<String>),
    /// A read-only SQL query over the catalog.
    Query(SqlExpr),
}

/// What a bookmark remembers.
#[derive(Debug, Clone, PartialEq)]
pub enum Bookmark {
    /// The highest value of a column that only grows (an id, a timestamp): the next run reads
    /// rows above it.
    Column(At<String>),
    /// The objects already read (by key and etag): prefix sources only. A stream source's
    /// bookmark is always its shards' positions and needs no setting (`bookmark: true`).
    Objects,
    /// `bookmark: true`: objects for a prefix, positions for a stream.
    Default,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    JsonLines,
    Parquet,
}

/// One step, with the position of its key.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub pos: Pos,
    pub kind: StepKind,
}

impl Step {
    /// The step's key as written (`filter`, `derive`, …), for messages and previews.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// Keep these columns, in this order.
    Select(Vec<At<String>>),
    /// Remove these columns.
    Drop(Vec<At<String>>),
    /// Remove the columns that are null in every row (Glue's DropNullFields).
    DropNullFields,
    /// Keep rows for which the SQL condition is true.
    Filter(SqlExpr),
    /// Rename columns: `(old, new)`.
    Rename(Vec<(At<String>, At<String>)>),
    /// Cast columns to SQL types: `(column, type as written)`.
    Cast(Vec<(At<String>, At<String>)>),
    /// Add (or replace) columns computed by SQL expressions: `(name, expression)`.
    Derive(Vec<(At<String>, SqlExpr)>),
    /// Hide values.
    Mask(Vec<Mask>),
    /// Cut strings to at most `length` characters: `(column, length)`.
    Truncate(Vec<(At<String>, usize)>),
    /// Split a string column on a separator into new columns (missing parts are null; the last
    /// column takes the rest).
    Split {
        column: At<String>,
        separator: String,
        into: Vec<At<String>>,
        /// Keep the original column (default: dropped).
        keep: bool,
    },
    /// Join columns' text with a separator into a new column (nulls are skipped).
    Combine {
        columns: Vec<At<String>>,
        separator: String,
        into: At<String>,
        keep: bool,
    },
    /// Check rules; what fails goes to the quarantine table (or is dropped, or fails the run).
    Validate(Validate),
    /// Keep one row per key: the first by `order_by` (descending when `latest`).
    Dedupe {
        keys: Vec<At<String>>,
        order_by: Option<At<String>>,
        /// Keep the row with the highest `order_by` (default: the lowest).
        latest: bool,
    },
    /// Join with another catalog table.
    Join(Join),
    /// Append another table's rows (columns matched by name; missing ones null).
    Union(At<TableName>),
    /// Long to wide: one row per `index` values, one column per listed value of `column`,
    /// holding `agg(values)`.
    Pivot {
        index: Vec<At<String>>,
        column: At<String>,
        values: At<String>,
        agg: At<Aggregate>,
        /// The values of `column` that become columns (a plan's schema must be known before it
        /// runs); each named `value` as written.
        columns: Vec<At<String>>,
    },
    /// Wide to long: the listed columns become rows of (`name`, `value`).
    Unpivot {
        columns: Vec<At<String>>,
        name: At<String>,
        value: At<String>,
    },
}

impl StepKind {
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Select(_) => "select",
            StepKind::Drop(_) => "drop",
            StepKind::DropNullFields => "drop_null_fields",
            StepKind::Filter(_) => "filter",
            StepKind::Rename(_) => "rename",
            StepKind::Cast(_) => "cast",
            StepKind::Derive(_) => "derive",
            StepKind::Mask(_) => "mask",
            StepKind::Truncate(_) => "truncate",
            StepKind::Split { .. } => "split",
            StepKind::Combine { .. } => "combine",
            StepKind::Validate(_) => "validate",
            StepKind::Dedupe { .. } => "dedupe",
            StepKind::Join(_) => "join",
            StepKind::Union(_) => "union",
            StepKind::Pivot { .. } => "pivot",
            StepKind::Unpivot { .. } => "unpivot",
        }
    }
}

/// Step keys in the order docs list them.
pub const STEP_KEYS: [&str; 17] = [
    "select",
    "drop",
    "drop_null_fields",
    "filter",
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
    "unpivot",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    pub column: At<String>,
    pub method: MaskMethod,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MaskMethod {
    /// Every character replaced by `*` (nulls stay null).
    Full,
    /// All but the first `keep_first` and last `keep_last` characters replaced by `*`.
    Partial { keep_first: usize, keep_last: usize },
    /// Hex SHA-256 of the salt followed by the value; the salt is the named secret's value.
    Hash { salt_secret: Option<At<String>> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Validate {
    pub rules: Vec<Rule>,
    pub on_failure: OnFailure,
}

/// One check on one column. A row fails with the first rule it breaks (in file order).
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub pos: Pos,
    pub column: At<String>,
    pub check: Check,
}

impl Rule {
    /// The rule as the quarantine table's `_rule` column names it: `column not_null`,
    /// `amount range [0, 100]`, …
    pub fn label(&self) -> String {
        let column = &self.column.value;
        match &self.check {
            Check::NotNull => format!("{column} not_null"),
            Check::Range { min, max } => format!(
                "{column} range [{}, {}]",
                min.as_deref().unwrap_or("-inf"),
                max.as_deref().unwrap_or("inf")
            ),
            Check::Regex(pattern) => format!("{column} regex {pattern}"),
            Check::Allowed(values) => format!("{column} allowed [{}]", values.join(", ")),
            Check::Unique => format!("{column} unique"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    NotNull,
    /// Inclusive bounds, as SQL literals (numbers, or dates/times quoted as written).
    Range {
        min: Option<String>,
        max: Option<String>,
    },
    /// A regular expression the whole value must match somewhere (`regexp_like`); null passes.
    Regex(String),
    /// The value is one of these (read as the column's type; as text for a text column); null
    /// passes.
    Allowed(Vec<String>),
    /// No other row in the run's input has this value; null passes.
    Unique,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OnFailure {
    /// Failing rows go to this table, with `_rule` (the rule's label) and `_failed_at`.
    Quarantine(At<TableName>),
    /// Failing rows are left out.
    Drop,
    /// Any failing row fails the run (nothing is written).
    Fail,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub table: At<TableName>,
    /// `(left column, right column)` pairs compared for equality.
    pub on: Vec<(At<String>, At<String>)>,
    pub kind: JoinKind,
    /// The right table's columns to bring (default: all but the join keys); a name already on
    /// the left gets the table's name as a prefix (`orders_id`).
    pub columns: Option<Vec<At<String>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
    /// Left rows with a match, left columns only.
    Semi,
    /// Left rows without a match, left columns only.
    Anti,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Count,
    Min,
    Max,
    Avg,
    First,
}

/// Where rows go.
#[derive(Debug, Clone, PartialEq)]
pub enum Sink {
    Table(TableSink),
    /// Objects under a lake prefix in a format (format conversion).
    Prefix {
        prefix: At<String>,
        format: FileFormat,
        compression: Compression,
        partition_by: Vec<At<String>>,
    },
    /// Each row as a JSON object record, partition key from a column (default: a hash of the row).
    /// At least once: a run that is killed after appending may append again.
    Stream {
        stream: At<String>,
        partition_key: Option<At<String>>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableSink {
    pub table: At<TableName>,
    pub mode: WriteMode,
    /// Columns whose values become Hive folders (the table's when it exists).
    pub partition_by: Vec<At<String>>,
    pub compression: Compression,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Add the new files to the table.
    Append,
    /// Replace the files of every partition the output touches, in the same commit; other
    /// partitions stay.
    OverwritePartitions,
    /// Replace the whole table's files.
    Overwrite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Snappy,
    Gzip,
    Zstd,
}

/// A flow: a recipe and when it runs, read from `flows/NAME.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub recipe: Recipe,
    pub trigger: FlowTrigger,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FlowTrigger {
    /// Only when asked (`weir pipelines trigger NAME`).
    OnDemand,
    /// A cron expression (with `timezone`), as pipelines' `schedule`.
    Schedule {
        cron: At<String>,
        timezone: Option<String>,
    },
    /// An EventBridge pattern on the default bus (as a pipeline's `triggers:`), as JSON text.
    Event { pattern: At<serde_json::Value> },
}

#[cfg(test)]
mod tests;
