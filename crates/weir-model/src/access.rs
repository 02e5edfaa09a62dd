//! Who may do what: roles, and the grants that narrow a credential to some pipelines, state
//! machines, tables and lake prefixes. Pure: the server decides with these, the store keeps them.
//!
//! Roles are ordered: each includes the one before it. Grants are Airflow's DAG-level access
//! (globs on pipeline and state machine names) and Lake Formation's table and data-location
//! grants (globs on `DATABASE.TABLE`, prefixes of lake keys). An empty list grants everything of
//! its kind, so a credential without grants sees what its role allows.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A credential's role. `Viewer < Operator < Admin`: each role may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads definitions, runs, executions, logs and the catalog.
    Viewer,
    /// A viewer that also triggers, backfills, retries, cancels and marks runs, starts and stops
    /// executions, invokes functions, and puts events and records.
    Operator,
    /// Everything: credentials, definitions and machines through the API, lake writes, catalog
    /// changes, SQL that writes, secrets, the audit log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// The role just below this one, if any: the largest role that may not do what this one may.
    pub fn below(self) -> Option<Role> {
        match self {
            Role::Viewer => None,
            Role::Operator => Some(Role::Viewer),
            Role::Admin => Some(Role::Operator),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Role, String> {
        match text {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role `{other}`: expected viewer, operator or admin"
            )),
        }
    }
}

/// What a credential is narrowed to. Each empty list grants everything of its kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Grants {
    /// Globs on pipeline and state machine names (`*` any characters, `?` one).
    pub pipelines: Vec<String>,
    /// Globs on `DATABASE.TABLE` (`sales.*`, `*.events`).
    pub tables: Vec<String>,
    /// Lake key prefixes (`raw/`, `exports/team-a/`).
    pub prefixes: Vec<String>,
}

impl Grants {
    /// Whether nothing is narrowed.
    pub fn is_everything(&self) -> bool {
        self.pipelines.is_empty() && self.tables.is_empty() && self.prefixes.is_empty()
    }

    /// Whether a pipeline or state machine (by name) is granted.
    pub fn pipeline(&self, name: &str) -> bool {
        self.pipelines.is_empty() || self.pipelines.iter().any(|glob| glob_matches(glob, name))
    }

    /// Whether a catalog table is granted.
    pub fn table(&self, database: &str, table: &str) -> bool {
        self.tables.is_empty()
            || self.tables.iter().any(|glob| match glob.split_once('.') {
                Some((db_glob, table_glob)) => {
                    glob_matches(db_glob, database) && glob_matches(table_glob, table)
                }
                None => false,
            })
    }

    /// Whether every table of a database may be granted: the database itself shows in listings
    /// when some of its tables are granted.
    pub fn database(&self, database: &str) -> bool {
        self.tables.is_empty()
            || self.tables.iter().any(|glob| match glob.split_once('.') {
                Some((db_glob, _)) => glob_matches(db_glob, database),
                None => false,
            })
    }

    /// Whether every table of a database is granted, those not made yet included (`sales.*`):
    /// what making tables whose names are not known beforehand (a crawl) needs.
    pub fn every_table_of(&self, database: &str) -> bool {
        self.tables.is_empty()
            || self.tables.iter().any(|glob| match glob.split_once('.') {
                Some((db_glob, table_glob)) => {
                    glob_matches(db_glob, database) && table_glob.chars().all(|c| c == '*')
                }
                None => false,
            })
    }

    /// Whether a lake key (an object, or a prefix being listed) is inside a granted prefix.
    pub fn key(&self, key: &str) -> bool {
        self.prefixes.is_empty() || self.prefixes.iter().any(|prefix| key.starts_with(prefix))
    }

    /// Whether listing under `prefix` may show something: it is inside a granted prefix, or a
    /// granted prefix is inside it (listing `raw/` with a grant on `raw/team-a/`).
    pub fn listing(&self, prefix: &str) -> bool {
        self.prefixes.is_empty()
            || self
                .prefixes
                .iter()
                .any(|granted| prefix.starts_with(granted) || granted.starts_with(prefix))
    }

    /// The first problem with the grants as written, if any: table globs need a `.`.
    pub fn problem(&self) -> Option<String> {
        if let Some(glob) = self.tables.iter().find(|glob| !glob.contains('.')) {
            return Some(format!(
                "table grant `{glob}` must be DATABASE.TABLE (globs allowed, e.g. `sales.*`)"
            ));
        }
        let empty = |list: &[String]| list.iter().any(|entry| entry.is_empty());
        if empty(&self.pipelines) || empty(&self.tables) || empty(&self.prefixes) {
            return Some("a grant must not be empty".into());
        }
        None
    }
}

/// Shell-style glob: `*` matches any run of characters (`/` included), `?` exactly one; every
/// other character matches itself. Iterative with one backtrack point, so linear in practice and
/// never exponential whatever the pattern.
pub fn glob_matches(glob: &str, text: &str) -> bool {
    let glob: Vec<char> = glob.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut g, mut t) = (0, 0);
    // Where the last `*` was, and the text position it has consumed up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match glob.get(g) {
            Some('*') => {
                star = Some((g, t));
                g += 1;
            }
            Some('?') => {
                g += 1;
                t += 1;
            }
            Some(&c) if c == text[t] => {
                g += 1;
                t += 1;
            }
            _ => match star {
                Some((star_g, star_t)) => {
                    g = star_g + 1;
                    t = star_t + 1;
                    star = Some((star_g, star_t + 1));
                }
                None => return false,
            },
        }
    }
    glob[g..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn roles_are_ordered_and_parse() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
        assert_eq!("operator".parse::<Role>(), Ok(Role::Operator));
        assert!("root".parse::<Role>().unwrap_err().contains("viewer"));
        assert_eq!(Role::Admin.below(), Some(Role::Operator));
        assert_eq!(Role::Viewer.below(), None);
    }

    #[test]
    fn globs() {
        assert!(glob_matches("*", ""));
        assert!(glob_matches("etl_*", "etl_daily"));
        assert!(!glob_matches("etl_*", "ml_daily"));
        assert!(glob_matches("*_daily", "etl_daily"));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("a?c", "ac"));
        assert!(glob_matches("a*b*c", "a_b_b_c"));
        assert!(!glob_matches("a*b*c", "a_b_b_d"));
        assert!(glob_matches("exact", "exact"));
        assert!(!glob_matches("exact", "exactly"));
    }

    #[test]
    fn empty_grants_grant_everything() {
        let all = Grants::default();
        assert!(all.is_everything());
        assert!(all.pipeline("x") && all.table("d", "t") && all.key("any/key"));
    }

    #[test]
    fn grants_narrow_each_kind() {
        let grants = Grants {
            pipelines: vec!["etl_*".into()],
            tables: vec!["sales.*".into(), "*.events".into()],
            prefixes: vec!["raw/team-a/".into()],
        };
        assert!(grants.pipeline("etl_daily") && !grants.pipeline("ml_daily"));
        assert!(grants.table("sales", "orders") && grants.table("web", "events"));
        assert!(!grants.table("web", "clicks"));
        assert!(grants.database("sales") && grants.database("web"));
        assert!(grants.every_table_of("sales") && !grants.every_table_of("web"));
        assert!(grants.key("raw/team-a/x.csv") && !grants.key("raw/team-b/x.csv"));
        assert!(grants.listing("raw/") && grants.listing("raw/team-a/2024/"));
        assert!(!grants.listing("exports/"));
    }

    #[test]
    fn grant_problems() {
        let bad = Grants {
            tables: vec!["orders".into()],
            ..Grants::default()
        };
        assert!(bad.problem().unwrap().contains("DATABASE.TABLE"));
        assert_eq!(Grants::default().problem(), None);
    }

    proptest! {
        #[test]
        fn globs_never_panic_and_star_matches_all(glob in "[a-c*?]{0,12}", text in "[a-c]{0,12}") {
            let _ = glob_matches(&glob, &text);
            prop_assert!(glob_matches("*", &text));
            prop_assert!(glob_matches(&text, &text));
        }
    }
}
