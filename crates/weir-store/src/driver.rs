//! What the store needs of a sqlx driver, said once: [`Driver`]. Both SQLite and PostgreSQL
//! provide it, and every subsystem's SQL code is generic over `DB: Driver` alone.
//!
//! sqlx states a driver's capabilities as bounds on other types (`i64: Encode<DB>`,
//! `&mut DB::Connection: Executor`), which Rust does not carry along with a type parameter: code
//! generic over the driver would have to repeat the whole list on every impl. Here the list is
//! written on one blanket impl, and what it allows is offered as methods of [`Driver`] and of the
//! supertraits [`Binds`] and [`Loads`], which generic code gets with the one bound.
//!
//! The items are `pub` inside this private module: they appear in the bounds of `SqlStore`'s
//! public impls, yet nothing outside the crate can name them.

use std::sync::Arc;

use sqlx::database::HasStatementCache;
use sqlx::{
    Arguments, ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row,
    SqlSafeStr, SqlStr, Type,
};

use crate::{Result, StoreError};

/// A sqlx driver the store runs on.
pub trait Driver:
    Database
    + HasStatementCache
    + for<'a> Binds<'a, Arc<str>>
    + for<'a> Binds<'a, Option<Arc<str>>>
    + for<'a> Binds<'a, &'a str>
    + for<'a> Binds<'a, Option<&'a str>>
    + for<'a> Binds<'a, i64>
    + for<'a> Binds<'a, Option<i64>>
    + for<'a> Binds<'a, i32>
    + for<'a> Binds<'a, Option<i32>>
    + for<'a> Binds<'a, bool>
    + Loads<String>
    + Loads<Option<String>>
    + Loads<i64>
    + Loads<Option<i64>>
    + Loads<i32>
    + Loads<Option<i32>>
    + Loads<bool>
{
    /// Runs a statement that returns no rows.
    fn execute<'c>(
        conn: &'c mut Self::Connection,
        statement: Statement<Self>,
    ) -> impl Future<Output = Result<()>> + Send + 'c;

    /// Runs a query on a connection (a batch's transaction) and returns its first row, if any:
    /// how a conditional update with `RETURNING` says whether it matched.
    fn fetch_optional_in<'c>(
        conn: &'c mut Self::Connection,
        statement: Statement<Self>,
    ) -> impl Future<Output = Result<Option<Self::Row>>> + Send + 'c;

    /// Runs a query and returns all its rows.
    fn fetch_all<'p>(
        pool: &'p Pool<Self>,
        statement: Statement<Self>,
    ) -> impl Future<Output = Result<Vec<Self::Row>>> + Send + 'p;

    /// Runs a query and returns its first row, if any.
    fn fetch_optional<'p>(
        pool: &'p Pool<Self>,
        statement: Statement<Self>,
    ) -> impl Future<Output = Result<Option<Self::Row>>> + Send + 'p;
}

/// Binds a `T` as a statement's next parameter (`'a`: the lifetime sqlx's `Encode` has, which a
/// borrowed value's must outlive).
pub trait Binds<'a, T>: Database {
    fn add(args: &mut Self::Arguments, value: T) -> Result<()>;
}

/// Reads a `T` from a row's column.
pub trait Loads<T>: Database {
    fn load(row: &Self::Row, column: &str) -> Result<T>;
}

impl<'a, DB: Database, T> Binds<'a, T> for DB
where
    T: Encode<'a, DB> + Type<DB>,
{
    fn add(args: &mut DB::Arguments, value: T) -> Result<()> {
        args.add(value)
            .map_err(|e| StoreError::Encode(e.to_string()))
    }
}

impl<DB: Database, T> Loads<T> for DB
where
    T: for<'r> Decode<'r, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
{
    fn load(row: &DB::Row, column: &str) -> Result<T> {
        Ok(row.try_get(column)?)
    }
}

// The driver capabilities the shared code uses; both drivers provide all of it.
impl<DB> Driver for DB
where
    DB: Database + HasStatementCache,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB>,
    for<'a> Arc<str>: Encode<'a, DB> + Type<DB>,
    for<'a> Option<Arc<str>>: Encode<'a, DB>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB>,
    for<'a> i32: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> Option<i32>: Encode<'a, DB>,
    for<'a> bool: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
{
    async fn execute(conn: &mut DB::Connection, statement: Statement<DB>) -> Result<()> {
        statement.query()?.execute(conn).await?;
        Ok(())
    }

    async fn fetch_optional_in(
        conn: &mut DB::Connection,
        statement: Statement<DB>,
    ) -> Result<Option<DB::Row>> {
        Ok(statement.query()?.fetch_optional(conn).await?)
    }

    async fn fetch_all(pool: &Pool<DB>, statement: Statement<DB>) -> Result<Vec<DB::Row>> {
        Ok(statement.query()?.fetch_all(pool).await?)
    }

    async fn fetch_optional(pool: &Pool<DB>, statement: Statement<DB>) -> Result<Option<DB::Row>> {
        Ok(statement.query()?.fetch_optional(pool).await?)
    }
}

/// A statement and its parameters, ready to run with [`Driver`]'s methods.
pub struct Statement<DB: Database> {
    sql: SqlStr,
    args: DB::Arguments,
    /// The first parameter that could not be encoded, reported when the statement runs.
    error: Option<StoreError>,
    persistent: bool,
}

impl<DB: Database> Statement<DB> {
    /// A statement of the store's own text, parameters to be bound.
    pub(crate) fn new(sql: &'static str) -> Self {
        Self::with(sql.into_sql_str(), DB::Arguments::default())
    }

    /// A statement whose parameters are already bound.
    pub(crate) fn with(sql: SqlStr, args: DB::Arguments) -> Self {
        Statement {
            sql,
            args,
            error: None,
            persistent: true,
        }
    }

    /// Binds the next parameter.
    pub(crate) fn bind<'a, T>(mut self, value: T) -> Self
    where
        DB: Binds<'a, T>,
    {
        if self.error.is_none()
            && let Err(error) = DB::add(&mut self.args, value)
        {
            self.error = Some(error);
        }
        self
    }

    /// Whether the driver keeps the statement prepared for the next run (it does by default).
    pub(crate) fn persistent(mut self, persistent: bool) -> Self {
        self.persistent = persistent;
        self
    }

    fn query(self) -> Result<sqlx::query::Query<'static, DB, DB::Arguments>>
    where
        DB: HasStatementCache,
        DB::Arguments: IntoArguments<DB>,
    {
        if let Some(error) = self.error {
            return Err(error);
        }
        Ok(sqlx::query_with(self.sql, self.args).persistent(self.persistent))
    }
}

/// A record stored as one row: its columns, how to bind it and how to read it back. Declared with
/// [`mapping!`].
pub trait Record: Sized {
    /// The columns, in the order [`Record::bind`] binds them. Column names are the field names.
    const COLUMNS: &'static [&'static str];

    /// Binds this record's values as one row's parameters. Text goes in as shared strings that
    /// the writer also keeps (see [`shared`]).
    fn bind<DB: Driver>(&self, args: &mut DB::Arguments, kept: &mut Vec<Arc<str>>) -> Result<()>;

    /// Reads a record from a row, by column name (so `SELECT *` stays correct as columns are
    /// added).
    fn decode<DB: Driver>(row: &DB::Row) -> Result<Self>;
}

/// `text` as a string the statement's arguments share with `kept`, which the writer drops once the
/// statement has run. SQLite's driver runs statements on its own thread: a string it received
/// by value would be freed there, and glibc's allocator is slow when one thread keeps freeing
/// what another allocates (a third of the writer's time went to it); a shared one is freed
/// where it was made.
pub(crate) fn shared(text: &str, kept: &mut Vec<Arc<str>>) -> Arc<str> {
    let text: Arc<str> = Arc::from(text);
    kept.push(Arc::clone(&text));
    text
}

/// Reads a column of JSON text.
pub(crate) fn load_json<DB: Driver, T: serde::de::DeserializeOwned>(
    row: &DB::Row,
    column: &str,
) -> Result<T> {
    let text: String = DB::load(row, column)?;
    Ok(serde_json::from_str(&text)?)
}

/// Reads a nullable column of JSON text.
pub(crate) fn load_opt_json<DB: Driver, T: serde::de::DeserializeOwned>(
    row: &DB::Row,
    column: &str,
) -> Result<Option<T>> {
    let text: Option<String> = DB::load(row, column)?;
    Ok(text.as_deref().map(serde_json::from_str).transpose()?)
}

/// How one record is stored, declared once: its fields in column order, each with its kind.
/// Implements [`Record`]: the column list, the binder that fills one
/// row's placeholders and the decoder of a row, so the three cannot drift apart.
///
/// Kinds: `text` (`String`), `opt_text` (`Option<String>`), `value` (integers, booleans and their
/// options, bound as they are), `json` (`serde_json::Value` stored as text), `opt_json`.
macro_rules! mapping {
    ($record:ident { $($field:ident: $kind:ident),+ $(,)? }) => {
        impl $crate::driver::Record for $record {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];

            fn bind<DB: $crate::driver::Driver>(
                &self,
                args: &mut DB::Arguments,
                kept: &mut Vec<std::sync::Arc<str>>,
            ) -> $crate::Result<()> {
                $(DB::add(args, $crate::driver::mapping!(@store $kind, self.$field, kept))?;)+
                Ok(())
            }

            fn decode<DB: $crate::driver::Driver>(row: &DB::Row) -> $crate::Result<Self> {
                Ok($record { $($field: $crate::driver::mapping!(@load $kind, DB, row, stringify!($field))),+ })
            }
        }
    };
    (@store text, $value:expr, $kept:ident) => { $crate::driver::shared(&$value, $kept) };
    (@store opt_text, $value:expr, $kept:ident) => {
        $value.as_deref().map(|text| $crate::driver::shared(text, $kept))
    };
    (@store value, $value:expr, $kept:ident) => { $value };
    (@store json, $value:expr, $kept:ident) => {
        $crate::driver::shared(&serde_json::to_string(&$value)?, $kept)
    };
    (@store opt_json, $value:expr, $kept:ident) => {
        $value
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?
            .map(|text| $crate::driver::shared(&text, $kept))
    };
    (@load json, $db:ident, $row:ident, $column:expr) => {
        $crate::driver::load_json::<$db, _>($row, $column)?
    };
    (@load opt_json, $db:ident, $row:ident, $column:expr) => {
        $crate::driver::load_opt_json::<$db, _>($row, $column)?
    };
    (@load $kind:ident, $db:ident, $row:ident, $column:expr) => { $db::load($row, $column)? };
}

pub(crate) use mapping;
