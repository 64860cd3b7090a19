//! A small builder for SQL, its placeholders written for the backend it runs on: numbered `$N`
//! for PostgreSQL, plain `?` for SQLite. The arguments are kept backend-neutral, so that one
//! statement written once runs on either backend (`db/`).
//!
//! Why not `$N` on SQLite too, which it understands: SQLite takes `$N` for a name, and looks up
//! each name among those before it, both when it parses the statement and when it is bound, so a
//! statement of n placeholders costs n² string comparisons twice. The access log's batches of 256
//! parameters spent 6% of the service's CPU in them under the BgZ load (BENCHMARKS.md); a plain
//! `?` is numbered by its place, at no cost.

use crate::Backend;
use std::borrow::Cow;
use std::fmt::Write as _;

/// Parameters per multi-row INSERT on SQLite. Chosen while placeholders were `$N` names, whose
/// cost grows with the square of their count (5,200 parameters took a quarter of the service's
/// CPU, docs/benchmarks/metering.md). With plain `?` (see the module) that cost is gone; a larger
/// batch has not been measured since, so the limit stays.
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
    Blob(Vec<u8>),
    Null,
    /// A PostgreSQL `bigint[]` (a column of rows for `unnest`); SQLite refuses it.
    Ints(Vec<i64>),
    /// A PostgreSQL `text[]`; SQLite refuses it.
    Texts(Vec<Option<String>>),
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

impl From<Vec<u8>> for Arg {
    fn from(value: Vec<u8>) -> Arg {
        Arg::Blob(value)
    }
}

impl From<&str> for Arg {
    fn from(value: &str) -> Arg {
        Arg::Text(value.to_owned())
    }
}

impl From<Option<i64>> for Arg {
    fn from(value: Option<i64>) -> Arg {
        value.map_or(Arg::Null, Arg::Int)
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

/// Whether `marker` (`$3`, say) appears again in `rest` as a whole placeholder (not `$31`).
fn ends_placeholder(rest: &str, marker: &str) -> bool {
    rest.match_indices(marker).any(|(at, _)| !rest[at + marker.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

/// SQL text with its arguments. Every `$N` appears once, in order, so that it can be written as
/// `?` for SQLite, whose plain `?` is the next parameter.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
    /// Where each placeholder starts in `text`, and where it ends.
    placeholders: Vec<(usize, usize)>,
    /// Prepared once and not kept on its connection (see [`Sql::once`]).
    once: bool,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Sql {
        Sql { text: text.to_owned(), args: Vec::new(), placeholders: Vec::new(), once: false }
    }

    /// `text` with `args` bound to its `$1`, `$2` ... in order (each appearing once, in order).
    pub(crate) fn with(text: &str, args: impl IntoIterator<Item = Arg>) -> Sql {
        let mut sql = Sql::new("");
        let mut rest = text;
        for arg in args {
            let marker = format!("${}", sql.args.len() + 1);
            let Some(at) = rest.find(&marker) else {
                // A statement with fewer placeholders than arguments is a mistake in the code
                // that wrote it; the database refuses the count.
                debug_assert!(false, "no {marker} in order in {text}");
                sql.args.push(arg);
                continue;
            };
            sql.push(&rest[..at]).bind(arg);
            rest = &rest[at + marker.len()..];
            debug_assert!(!ends_placeholder(rest, &marker), "{marker} appears twice in {text}");
        }
        sql.push(rest);
        sql
    }

    /// Marks the statement as one not to keep prepared on its connection: for statements whose
    /// text changes with the number of rows (a multi-row INSERT, an IN list of a batch). sqlx
    /// keeps up to 100 prepared statements per connection, each holding its parameters' types in
    /// the service and its plan in the database; the access log's batches (1 to 315 rows, so as
    /// many texts of up to 4,095 parameters) held 45 MB of the service's memory over 16
    /// connections, growing for minutes under load.
    pub(crate) fn once(mut self) -> Sql {
        self.once = true;
        self
    }

    /// Whether the statement is kept prepared on its connection.
    pub(crate) fn kept(&self) -> bool {
        !self.once
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Arg>) -> &mut Sql {
        self.args.push(value.into());
        let start = self.text.len();
        let _ = write!(self.text, "${}", self.args.len());
        self.placeholders.push((start, self.text.len()));
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

    /// The SQL text, with PostgreSQL's placeholders.
    #[cfg(test)]
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The SQL text, with the placeholders of `backend`.
    pub(crate) fn text_for(&self, backend: Backend) -> Cow<'_, str> {
        if backend == Backend::Postgres || self.placeholders.is_empty() {
            return Cow::Borrowed(&self.text);
        }
        let mut text = String::with_capacity(self.text.len());
        let mut written = 0;
        for &(start, end) in &self.placeholders {
            text.push_str(&self.text[written..start]);
            text.push('?');
            written = end;
        }
        text.push_str(&self.text[written..]);
        Cow::Owned(text)
    }

    /// The arguments, in placeholder order.
    pub(crate) fn args(&self) -> &[Arg] {
        &self.args
    }

    /// The text for `backend` and the arguments.
    pub(crate) fn into_parts(self, backend: Backend) -> (String, Vec<Arg>) {
        let text = self.text_for(backend).into_owned();
        (text, self.args)
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
        assert_eq!(sql.text_for(Backend::Postgres), sql.text());
        assert_eq!(sql.text_for(Backend::Sqlite), "SELECT 1 WHERE a = ? AND b IN (?, ?) AND c IN (NULL)");
    }

    #[test]
    fn only_placeholders_become_question_marks() {
        // A `$` the text itself holds (a JSON path, say) is left as written.
        let mut sql = Sql::new("SELECT '$.a' WHERE x = ");
        for value in 1..=12_i64 {
            sql.bind(value).push(", '$12' ");
        }
        let sqlite = sql.text_for(Backend::Sqlite);
        assert_eq!(sqlite.matches('?').count(), 12);
        assert_eq!(sqlite.matches("'$12'").count(), 12);
        assert!(sqlite.starts_with("SELECT '$.a' WHERE x = ?, '$12' ?, "), "{sqlite}");
    }

    #[test]
    fn a_fixed_statement_binds_its_arguments_in_order() {
        let sql = Sql::with("UPDATE t SET a = $1 WHERE b = $2 AND c = $3", [Arg::Int(1), "x".into(), Arg::Null]);
        assert_eq!(sql.text(), "UPDATE t SET a = $1 WHERE b = $2 AND c = $3");
        assert_eq!(sql.text_for(Backend::Sqlite), "UPDATE t SET a = ? WHERE b = ? AND c = ?");
        assert_eq!(sql.args(), [Arg::Int(1), Arg::Text("x".into()), Arg::Null]);
        assert!(sql.kept() && !Sql::new("x").once().kept());
    }

    #[test]
    fn sqlite_statements_stay_small() {
        assert_eq!(rows_per_insert(Backend::Sqlite, 13), 19);
        assert_eq!(rows_per_insert(Backend::Postgres, 8), 512);
        assert_eq!(rows_per_insert(Backend::Sqlite, 1_000), 1);
    }
}
