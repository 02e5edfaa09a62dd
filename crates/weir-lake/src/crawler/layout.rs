//! Partition layouts, read from the folders between a table's location and its files: Hive's
//! `key=value/` folders, or date folders such as `2024/01/31/23` (`yyyy/MM/dd/HH`). A layout is
//! only recognised when every file of the table follows it, the same keys in the same order;
//! otherwise the table is unpartitioned (its files are found at any depth) and the crawler says
//! why when the folders looked like partitions.

use std::collections::BTreeSet;

use crate::catalog::{Column, Partitioning};

/// Hive's folder name for a null partition value.
const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

/// Date layouts by depth, with their column names.
const DATE_PATTERNS: [(&str, &[usize], &[&str]); 4] = [
    ("yyyy", &[4], &["year"]),
    ("yyyy/MM", &[4, 2], &["year", "month"]),
    ("yyyy/MM/dd", &[4, 2, 2], &["year", "month", "day"]),
    (
        "yyyy/MM/dd/HH",
        &[4, 2, 2, 2],
        &["year", "month", "day", "hour"],
    ),
];

/// The layout found, and a note when folders looked like partitions but disagreed.
pub(crate) struct Detected {
    pub partitioning: Partitioning,
    pub problem: Option<String>,
}

/// Finds the layout of a table whose files sit under the folders `dirs` (one list per file,
/// relative to the table's location).
pub(crate) fn detect(dirs: &[Vec<&str>]) -> Detected {
    let unpartitioned = |problem| Detected {
        partitioning: Partitioning::None,
        problem,
    };
    if dirs.is_empty() || dirs.iter().all(|d| d.is_empty()) {
        return unpartitioned(None);
    }
    let hive_like = dirs
        .iter()
        .any(|d| d.iter().any(|s| hive_pair(s).is_some()));
    if hive_like {
        return match hive(dirs) {
            Ok(partitioning) => Detected {
                partitioning,
                problem: None,
            },
            Err(problem) => unpartitioned(Some(problem)),
        };
    }
    let date_like = dirs.iter().any(|d| d.first().is_some_and(|s| digits(s, 4)));
    if date_like {
        return match date(dirs) {
            Ok(partitioning) => Detected {
                partitioning,
                problem: None,
            },
            Err(problem) => unpartitioned(Some(problem)),
        };
    }
    unpartitioned(None)
}

/// The partition values of a file under the folders `dirs`, in the order of the layout's
/// columns, as text (Hive's null, `__HIVE_DEFAULT_PARTITION__`, is kept: SQL reads it as NULL).
pub(crate) fn values(partitioning: &Partitioning, dirs: &[&str]) -> Vec<String> {
    match partitioning {
        Partitioning::None => Vec::new(),
        Partitioning::Hive { .. } => dirs
            .iter()
            .filter_map(|d| hive_pair(d))
            .map(|(_, v)| v.to_string())
            .collect(),
        Partitioning::Pattern { .. } => dirs.iter().map(|d| d.to_string()).collect(),
    }
}

fn hive(dirs: &[Vec<&str>]) -> Result<Partitioning, String> {
    let mut keys: Option<Vec<&str>> = None;
    let mut values: Vec<Vec<&str>> = Vec::new();
    for file_dirs in dirs {
        let mut these = Vec::with_capacity(file_dirs.len());
        let mut vals = Vec::with_capacity(file_dirs.len());
        for dir in file_dirs {
            let Some((key, value)) = hive_pair(dir) else {
                return Err(format!(
                    "folder `{dir}` is not `key=value` among Hive partition folders: the table is not partitioned"
                ));
            };
            these.push(key);
            vals.push(value);
        }
        match &keys {
            None => keys = Some(these),
            Some(first) if *first != these => {
                return Err(format!(
                    "partition folders disagree (`{}` and `{}`): the table is not partitioned",
                    first.join("/"),
                    these.join("/")
                ));
            }
            Some(_) => {}
        }
        values.push(vals);
    }
    let keys = keys.unwrap_or_default();
    let mut seen = BTreeSet::new();
    if let Some(duplicate) = keys.iter().find(|k| !seen.insert(**k)) {
        return Err(format!(
            "partition key `{duplicate}` appears twice in one path: the table is not partitioned"
        ));
    }
    let columns = keys
        .iter()
        .enumerate()
        .map(|(i, key)| typed_column(key, values.iter().map(|v| v[i])))
        .collect();
    Ok(Partitioning::Hive { columns })
}

fn date(dirs: &[Vec<&str>]) -> Result<Partitioning, String> {
    let depth = dirs[0].len();
    let Some((pattern, widths, names)) = DATE_PATTERNS.iter().find(|(_, w, _)| w.len() == depth)
    else {
        return Err(format!(
            "date folders {} deep: expected yyyy[/MM[/dd[/HH]]]; the table is not partitioned",
            depth
        ));
    };
    for file_dirs in dirs {
        let fits = file_dirs.len() == depth
            && file_dirs
                .iter()
                .zip(widths.iter())
                .all(|(d, w)| digits(d, *w));
        if !fits {
            return Err(format!(
                "folders `{}` do not follow the date layout {pattern} of the other files: the table is not partitioned",
                file_dirs.join("/")
            ));
        }
    }
    let columns = names
        .iter()
        .enumerate()
        .map(|(i, name)| typed_column(name, dirs.iter().map(|d| d[i])))
        .collect();
    Ok(Partitioning::Pattern {
        pattern: pattern.to_string(),
        columns,
    })
}

/// A partition column typed from its values: `Int64` when every (non-null) value is an integer,
/// `Utf8` otherwise.
fn typed_column<'a>(name: &str, values: impl Iterator<Item = &'a str>) -> Column {
    let mut nullable = false;
    let mut integers = true;
    let mut any = false;
    for value in values {
        if value == HIVE_NULL || value.is_empty() {
            nullable = true;
            continue;
        }
        any = true;
        integers &= is_integer(value);
    }
    Column {
        name: name.to_string(),
        data_type: if any && integers { "Int64" } else { "Utf8" }.to_string(),
        nullable,
    }
}

fn is_integer(value: &str) -> bool {
    let unsigned = value.strip_prefix('-').unwrap_or(value);
    !unsigned.is_empty() && unsigned.len() <= 18 && unsigned.bytes().all(|b| b.is_ascii_digit())
}

fn hive_pair(dir: &str) -> Option<(&str, &str)> {
    dir.split_once('=').filter(|(k, _)| !k.is_empty())
}

fn digits(s: &str, width: usize) -> bool {
    s.len() == width && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(paths: &[&'static str]) -> Vec<Vec<&'static str>> {
        paths
            .iter()
            .map(|p| {
                if p.is_empty() {
                    vec![]
                } else {
                    p.split('/').collect()
                }
            })
            .collect()
    }

    fn column(name: &str, data_type: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            nullable,
        }
    }

    #[test]
    fn hive_folders_become_typed_columns() {
        let found = detect(&split(&["day=2024-01-01/hour=0", "day=2024-01-02/hour=23"]));
        assert_eq!(
            found.partitioning,
            Partitioning::Hive {
                columns: vec![column("day", "Utf8", false), column("hour", "Int64", false)]
            }
        );
        assert_eq!(
            values(&found.partitioning, &["day=2024-01-01", "hour=0"]),
            ["2024-01-01", "0"]
        );
        let nulls = detect(&split(&["n=__HIVE_DEFAULT_PARTITION__", "n=7"]));
        assert_eq!(
            nulls.partitioning,
            Partitioning::Hive {
                columns: vec![column("n", "Int64", true)]
            }
        );
        assert_eq!(
            values(&nulls.partitioning, &["n=__HIVE_DEFAULT_PARTITION__"]),
            [HIVE_NULL]
        );
    }

    #[test]
    fn date_folders_become_a_pattern() {
        let found = detect(&split(&["2024/01/31/23", "2024/02/01/00"]));
        assert_eq!(
            found.partitioning,
            Partitioning::Pattern {
                pattern: "yyyy/MM/dd/HH".into(),
                columns: vec![
                    column("year", "Int64", false),
                    column("month", "Int64", false),
                    column("day", "Int64", false),
                    column("hour", "Int64", false),
                ]
            }
        );
        assert_eq!(
            values(&found.partitioning, &["2024", "01", "31", "23"]),
            ["2024", "01", "31", "23"]
        );
        let days = detect(&split(&["2024/01/31"]));
        assert!(
            matches!(days.partitioning, Partitioning::Pattern { pattern, .. } if pattern == "yyyy/MM/dd")
        );
    }

    #[test]
    fn disagreeing_folders_leave_the_table_unpartitioned_with_a_reason() {
        for paths in [
            &["a=1/b=2", "a=1"][..],
            &["a=1", "b=1"],
            &["a=1", ""],
            &["a=1/x", "a=2/y"],
            &["2024/01", "2024/01/02"],
            &["2024/1"],
        ] {
            let found = detect(&split(paths));
            assert_eq!(found.partitioning, Partitioning::None, "{paths:?}");
            assert!(found.problem.is_some(), "{paths:?}");
        }
        for paths in [&[""][..], &["raw", "raw/more"], &[]] {
            let found = detect(&split(paths));
            assert_eq!(found.partitioning, Partitioning::None, "{paths:?}");
            assert!(found.problem.is_none(), "{paths:?}");
        }
    }
}
