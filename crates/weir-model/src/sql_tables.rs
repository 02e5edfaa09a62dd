//! What SQL text does to the lake's catalog: the tables it reads and the tables it writes, named
//! as the SQL engine resolves them. weir-lake works this out from the parsed statements; the
//! server holds it against what a credential may do before it runs them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A catalog table, `database.name`, as a statement names it once resolved: an unqualified name
/// is in the `default` database, an unquoted identifier is lower-cased and a quoted one is kept
/// as written. The catalog finds tables ignoring ASCII case, so compare names that way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TableName {
    pub database: String,
    pub name: String,
}

impl TableName {
    pub fn new(database: impl Into<String>, name: impl Into<String>) -> TableName {
        TableName {
            database: database.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.database, self.name)
    }
}

/// The tables SQL text (one statement or several) touches, each list sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlTables {
    /// Tables whose rows, schema or statistics a statement reads: every table of a query, its
    /// joins, subqueries and CTE bodies (a CTE's own name is no table); the source of CTAS and
    /// INSERT; the table of DESCRIBE, SHOW COLUMNS and SHOW CREATE TABLE.
    pub reads: Vec<TableName>,
    /// Tables a statement creates, replaces, inserts into, overwrites or drops. For a statement
    /// the engine refuses to run (UPDATE, DELETE, SELECT … INTO, COPY, CREATE VIEW…), every
    /// relation DataFusion finds in it, so that nothing it could write goes unreported.
    pub writes: Vec<TableName>,
    /// Every statement only reads: queries, EXPLAIN of a query, DESCRIBE, SHOW. False for the
    /// writing statements and for anything the engine refuses to run (SET, CREATE SCHEMA…),
    /// even when it names no table.
    pub read_only: bool,
    /// A statement's result lists catalog tables beyond `reads`: SHOW TABLES, a query of
    /// `information_schema.tables`, `columns`, `views` or `schemata`, and SHOW COLUMNS of an
    /// unqualified name (it lists that table's columns in every database). A caller whose
    /// credential sees only some tables has to narrow what the statement sees.
    pub lists_catalog: bool,
}
