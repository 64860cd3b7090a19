//! A small builder for dynamic SQL with numbered `$N` placeholders, which both SQLite and
//! PostgreSQL understand (sqlx's `QueryBuilder` writes `?` for the `Any` driver, which
//! PostgreSQL refuses). The arguments are kept backend-neutral, so that one statement can run on
//! sqlx (PostgreSQL, and all writes) or on rusqlite (SQLite reads, see `reader.rs`).

use crate::Backend;
use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, AssertSqlSafe};
use std::fmt::Write as _;

/// Parameters per multi-row INSERT on SQLite. sqlx's SQLite driver asks SQLite for the name of
/// every parameter it binds, and SQLite finds a name by walking the statement's list of
/// parameters, so binding a statement costs the square of its parameter count: 5,200 parameters
/// took a quarter of the service's CPU (BENCHMARKS.md, "Metering"); 256 cost next to nothing.
const SQLITE_PARAMETERS_PER_STATEMENT: usize = 256;
/// Parameters per multi-row INSERT on PostgreSQL, which binds by position: a large statement
/// saves round trips and stays far below the protocol's limit of 65,535.
const POSTGRES_PARAMETERS_PER_STATEMENT: usize = 4_096;

/// How many rows of `columns` bound columns one INSERT statement takes on `backend`.
pub(crate) fn rows_per_insert(backend: Backend, columns: usize) -> usize {
    let parameters = match backend {
        Backend::Sqlite => SQLITE_PARAMETERS_PER_STATEMENT,
        Backend::Postgres => POSTGRES_PARAMETERS_PER_STATEMENT,
    };
    (parameters / columns.max(1)).max(1)
}

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Int(i64),
    Real(f64),
    Text(String),
    Null,
}

impl From<fhir_search::Scalar> for Arg {
    fn from(value: fhir_search::Scalar) -> Arg {
        match value {
            fhir_search::Scalar::Int(value) => Arg::Int(value),
            fhir_search::Scalar::Real(value) => Arg::Real(value),
            fhir_search::Scalar::Text(value) => Arg::Text(value),
            fhir_search::Scalar::Null => Arg::Null,
        }
    }
}

impl From<i64> for Arg {
    fn from(value: i64) -> Arg {
        Arg::Int(value)
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Arg {
        Arg::Text(value)
    }
}

impl From<Option<String>> for Arg {
    fn from(value: Option<String>) -> Arg {
        value.map_or(Arg::Null, Arg::Text)
    }
}

/// SQL text with its arguments. Every `$N` appears once, in order, so that `$N` is also the
/// N-th parameter for SQLite's positional binding.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Sql {
        Sql { text: text.to_owned(), args: Vec::new() }
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Arg>) -> &mut Sql {
        self.args.push(value.into());
        let _ = write!(self.text, "${}", self.args.len());
        self
    }

    /// Appends `($a, $b, ...)` bound to `values`; an empty list becomes `(NULL)`, which matches
    /// nothing.
    pub(crate) fn bind_list<T: Into<Arg>>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Sql {
        self.push("(");
        let mut first = true;
        for value in values {
            if !first {
                self.push(", ");
            }
            first = false;
            self.bind(value);
        }
        if first {
            self.push("NULL");
        }
        self.push(")")
    }

    /// The SQL text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The arguments, in placeholder order.
    pub(crate) fn args(&self) -> &[Arg] {
        &self.args
    }

    /// The query for sqlx.
    pub(crate) fn build(self) -> sqlx::query::Query<'static, Any, AnyArguments> {
        let mut arguments = AnyArguments::default();
        for arg in self.args {
            // Encoding a plain value into `AnyArguments` cannot fail.
            let _ = match arg {
                Arg::Int(value) => arguments.add(value),
                Arg::Real(value) => arguments.add(value),
                Arg::Text(value) => arguments.add(value),
                Arg::Null => arguments.add(Option::<String>::None),
            };
        }
        sqlx::query_with(AssertSqlSafe(self.text), arguments)
    }

    /// The query for sqlx, not kept prepared on its connection: for statements whose text
    /// changes with the number of rows (a multi-row INSERT, an IN list of a batch). sqlx keeps up
    /// to 100 prepared statements per connection, each holding its parameters' types in the
    /// service and its plan in the database; the access log's batches (1 to 315 rows, so as
    /// many texts of up to 4,095 parameters) held 45 MB of the service's memory over 16
    /// connections, growing for minutes under load.
    pub(crate) fn build_unprepared(self) -> sqlx::query::Query<'static, Any, AnyArguments> {
        self.build().persistent(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_in_order() {
        let mut sql = Sql::new("SELECT 1 WHERE a = ");
        sql.bind(1_i64)
            .push(" AND b IN ")
            .bind_list(["x".to_owned(), "y".to_owned()])
            .push(" AND c IN ")
            .bind_list(Vec::<i64>::new());
        assert_eq!(sql.text(), "SELECT 1 WHERE a = $1 AND b IN ($2, $3) AND c IN (NULL)");
        assert_eq!(sql.args(), [Arg::Int(1), Arg::Text("x".into()), Arg::Text("y".into())]);
    }

    #[test]
    fn sqlite_statements_stay_small() {
        assert_eq!(rows_per_insert(Backend::Sqlite, 13), 19);
        assert_eq!(rows_per_insert(Backend::Postgres, 8), 512);
        assert_eq!(rows_per_insert(Backend::Sqlite, 1_000), 1);
    }
}
