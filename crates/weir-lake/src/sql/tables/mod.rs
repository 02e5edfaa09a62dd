//! Which catalog tables SQL text reads and writes, worked out before anything runs: the text is
//! parsed as the engine parses it, each statement is taken the way the engine's dispatch takes
//! it (weir's writing statements name their target and read the query they run; everything else
//! runs as a read-only query or is refused), and the names a query reads come from DataFusion's
//! own resolution (`resolve_table_references`: CTE scopes, identifier normalisation), resolved
//! against the default database as the engine's session does.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use datafusion::common::TableReference;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::planner::object_name_to_table_reference;
use datafusion::sql::resolve::resolve_table_references;
use datafusion::sql::sqlparser::ast::{
    ObjectName, ObjectType, Query, SetExpr, ShowStatementIn, Statement, TableFactor, TableObject,
    Visit, Visitor,
};
use weir_model::sql_tables::{SqlTables, TableName};

use super::SqlError;
use super::ddl::table_name;
use super::engine::parse;
use super::session::{CATALOG, DEFAULT_DATABASE};

/// The schema DataFusion answers itself (whatever the catalog part says), listing the catalog.
const INFORMATION_SCHEMA: &str = "information_schema";

/// The information_schema tables whose rows name catalog tables or databases (the others hold
/// settings and functions).
const CATALOG_LISTINGS: [&str; 4] = ["tables", "columns", "views", "schemata"];

/// Identifiers are normalised (unquoted ones lower-cased), as in the engine's sessions and DDL.
const NORMALISE_IDENTIFIERS: bool = true;

/// The tables `sql` reads and writes; fails as the engine would on text that does not parse, on
/// no statement at all, and on a writing statement whose target is no valid table name.
pub fn sql_tables(sql: &str) -> Result<SqlTables, SqlError> {
    let statements = parse(sql)?;
    if statements.is_empty() {
        return Err(SqlError::new("no SQL statement given"));
    }
    let mut found = Found {
        reads: BTreeSet::new(),
        writes: BTreeSet::new(),
        read_only: true,
        lists_catalog: false,
    };
    for statement in statements {
        found.statement(statement, sql)?;
    }
    Ok(SqlTables {
        reads: found.reads.into_iter().collect(),
        writes: found.writes.into_iter().collect(),
        read_only: found.read_only,
        lists_catalog: found.lists_catalog,
    })
}

struct Found {
    reads: BTreeSet<TableName>,
    writes: BTreeSet<TableName>,
    read_only: bool,
    lists_catalog: bool,
}

/// Whether a table a statement names is read or written.
#[derive(Clone, Copy)]
enum Access {
    Read,
    Write,
}

impl Found {
    // Statements are taken by value: a query moves into the statement that is resolved rather
    // than being cloned (a deep clone of the longest statements the engine takes overflows a
    // thread's stack).
    fn statement(&mut self, statement: DFStatement, sql: &str) -> Result<(), SqlError> {
        match statement {
            DFStatement::Statement(inner) => self.sql_statement(*inner, sql),
            DFStatement::Explain(explain) => self.statement(*explain.statement, sql),
            refused @ (DFStatement::CreateExternalTable(_)
            | DFStatement::CopyTo(_)
            | DFStatement::Reset(_)) => self.refused(&refused, sql),
        }
    }

    fn sql_statement(&mut self, statement: Statement, sql: &str) -> Result<(), SqlError> {
        match statement {
            Statement::Query(query) => self.query(query, sql),
            Statement::CreateTable(create) => {
                self.target(&create.name, sql)?;
                match create.query {
                    Some(query) => self.query(query, sql),
                    None => Ok(()),
                }
            }
            Statement::Insert(insert) => {
                let TableObject::TableName(name) = &insert.table else {
                    return Err(SqlError::new(
                        "INSERT INTO a table function is not supported",
                    ));
                };
                self.target(name, sql)?;
                match insert.source {
                    Some(source) => self.query(source, sql),
                    None => Ok(()),
                }
            }
            Statement::Drop {
                object_type: ObjectType::Table,
                names,
                ..
            } => names.iter().try_for_each(|name| self.target(name, sql)),
            // DESCRIBE t, SHOW CREATE TABLE t: the table's schema (and existence).
            Statement::ExplainTable { table_name, .. }
            | Statement::ShowCreate {
                obj_name: table_name,
                ..
            } => self.name(&table_name, Access::Read, sql),
            // DESCRIBE SELECT …, EXPLAIN inside DataFusion's own statement.
            Statement::Explain { statement, .. } => self.sql_statement(*statement, sql),
            Statement::ShowTables { .. } => {
                self.lists_catalog = true;
                Ok(())
            }
            Statement::ShowColumns { show_options, .. } => {
                let Some(ShowStatementIn {
                    parent_name: Some(table),
                    ..
                }) = &show_options.show_in
                else {
                    return Ok(());
                };
                // DataFusion filters information_schema.columns on the parts the name has: a
                // bare `t` lists the columns of every database's `t`.
                if table.0.len() == 1 {
                    self.lists_catalog = true;
                }
                self.name(table, Access::Read, sql)
            }
            Statement::ShowVariable { .. }
            | Statement::ShowVariables { .. }
            | Statement::ShowStatus { .. }
            | Statement::ShowFunctions { .. }
            | Statement::ShowCollation { .. } => Ok(()),
            other => self.refused(&DFStatement::Statement(Box::new(other)), sql),
        }
    }

    /// What a query reads: every relation DataFusion resolves in it (CTE names in scope are not
    /// tables) except table function calls. A `SELECT … INTO t` makes it a write the engine
    /// refuses.
    fn query(&mut self, query: Box<Query>, sql: &str) -> Result<(), SqlError> {
        let query = Statement::Query(query);
        let shape = Shape::of(&query);
        let statement = DFStatement::Statement(Box::new(query));
        for target in &shape.select_into {
            self.read_only = false;
            self.name(target, Access::Write, sql)?;
        }
        let (references, _ctes) = resolve_table_references(&statement, NORMALISE_IDENTIFIERS)
            .map_err(|e| SqlError::from_datafusion(&e, sql))?;
        for reference in references {
            if !shape.only_called(&reference) {
                self.reference(reference, Access::Read);
            }
        }
        Ok(())
    }

    /// The table a writing statement creates, fills or drops, with the engine's own checks of
    /// the name (a database and table of the catalog's characters, no other catalog).
    fn target(&mut self, name: &ObjectName, sql: &str) -> Result<(), SqlError> {
        self.read_only = false;
        let (database, table) = table_name(name, sql)?;
        self.writes.insert(TableName::new(database, table));
        Ok(())
    }

    /// A statement the engine does not run (it says so): not read-only, and every relation
    /// DataFusion resolves in it counts as written.
    fn refused(&mut self, statement: &DFStatement, sql: &str) -> Result<(), SqlError> {
        self.read_only = false;
        let (references, _ctes) = resolve_table_references(statement, NORMALISE_IDENTIFIERS)
            .map_err(|e| SqlError::from_datafusion(&e, sql))?;
        for reference in references {
            self.reference(reference, Access::Write);
        }
        Ok(())
    }

    fn name(&mut self, name: &ObjectName, access: Access, sql: &str) -> Result<(), SqlError> {
        let reference = object_name_to_table_reference(name.clone(), NORMALISE_IDENTIFIERS)
            .map_err(|e| SqlError::from_datafusion(&e, sql))?;
        self.reference(reference, access);
        Ok(())
    }

    /// A resolved name as the engine's session resolves it: information_schema is DataFusion's
    /// (in any catalog), a name in another catalog than weir's is no table, an unqualified name
    /// is in the default database.
    fn reference(&mut self, reference: TableReference, access: Access) {
        if reference.schema() == Some(INFORMATION_SCHEMA) {
            let table = reference.table().to_ascii_lowercase();
            if CATALOG_LISTINGS.contains(&table.as_str()) {
                self.lists_catalog = true;
            }
            return;
        }
        if reference
            .catalog()
            .is_some_and(|catalog| catalog != CATALOG)
        {
            return;
        }
        let table = TableName::new(
            reference.schema().unwrap_or(DEFAULT_DATABASE),
            reference.table(),
        );
        match access {
            Access::Read => self.reads.insert(table),
            Access::Write => self.writes.insert(table),
        };
    }
}

/// What DataFusion's resolution does not tell apart: relations called as table functions
/// (`FROM generate_series(1, 3)`, planned as functions, never as tables) and `SELECT … INTO`.
#[derive(Default)]
struct Shape {
    called: BTreeSet<TableReference>,
    tables: BTreeSet<TableReference>,
    select_into: Vec<ObjectName>,
}

impl Shape {
    fn of(statement: &Statement) -> Shape {
        let mut shape = Shape::default();
        let _ = statement.visit(&mut shape);
        shape
    }

    /// Whether `reference` is named only as a table function, never as a table.
    fn only_called(&self, reference: &TableReference) -> bool {
        self.called.contains(reference) && !self.tables.contains(reference)
    }
}

impl Visitor for Shape {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, args, .. } = factor
            && let Ok(reference) =
                object_name_to_table_reference(name.clone(), NORMALISE_IDENTIFIERS)
        {
            if args.is_some() {
                self.called.insert(reference);
            } else {
                self.tables.insert(reference);
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        // Nested queries are visited on their own; this looks at this one's SELECTs.
        let mut bodies = vec![query.body.as_ref()];
        while let Some(body) = bodies.pop() {
            match body {
                SetExpr::Select(select) => {
                    if let Some(into) = &select.into {
                        self.select_into.push(into.name.clone());
                    }
                }
                SetExpr::SetOperation { left, right, .. } => {
                    bodies.push(left);
                    bodies.push(right);
                }
                _ => {}
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests;
