//! A small builder for dynamic SQL with numbered `$N` placeholders, which both SQLite and
//! PostgreSQL understand (sqlx's `QueryBuilder` writes `?` for the `Any` driver, which
//! PostgreSQL refuses).

use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, AssertSqlSafe, Encode, Type};
use std::fmt::Write as _;

/// SQL text with its arguments.
#[derive(Default)]
pub(crate) struct Sql {
    text: String,
    arguments: AnyArguments,
    count: usize,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Sql {
        Sql { text: text.to_owned(), ..Sql::default() }
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Sql
    where
        T: for<'q> Encode<'q, Any> + Type<Any> + 'static,
    {
        self.count += 1;
        let _ = write!(self.text, "${}", self.count);
        // Encoding a plain value into `AnyArguments` cannot fail.
        let _ = self.arguments.add(value);
        self
    }

    /// Appends `($a, $b, ...)` bound to `values`; an empty list becomes `(NULL)`, which matches
    /// nothing.
    pub(crate) fn bind_list<T>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Sql
    where
        T: for<'q> Encode<'q, Any> + Type<Any> + 'static,
    {
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

    /// The query, ready to run.
    pub(crate) fn build(self) -> sqlx::query::Query<'static, Any, AnyArguments> {
        sqlx::query_with(AssertSqlSafe(self.text), self.arguments)
    }

    #[cfg(test)]
    pub(crate) fn text(&self) -> &str {
        &self.text
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
    }
}
