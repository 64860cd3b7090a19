//! What an index row must hold to match a search value, said without SQL: comparisons of a row's
//! columns with values, combined with AND and OR. The store writes it as SQL for either backend
//! (`store/src/criterion.rs`), so a kind states its matching once.

/// A value a column holds or is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A whole number.
    Int(i64),
    /// A decimal, as a double.
    Real(f64),
    /// Text.
    Text(String),
    /// No value.
    Null,
}

impl From<i64> for Scalar {
    fn from(value: i64) -> Scalar {
        Scalar::Int(value)
    }
}

impl From<f64> for Scalar {
    fn from(value: f64) -> Scalar {
        Scalar::Real(value)
    }
}

impl From<String> for Scalar {
    fn from(value: String) -> Scalar {
        Scalar::Text(value)
    }
}

impl From<Option<String>> for Scalar {
    fn from(value: Option<String>) -> Scalar {
        value.map_or(Scalar::Null, Scalar::Text)
    }
}

/// How a column is compared with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// Equal.
    Eq,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
}

impl Comparison {
    /// The operator in SQL (the same on every backend).
    pub fn operator(self) -> &'static str {
        match self {
            Comparison::Eq => "=",
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
        }
    }
}

/// A condition on the columns of one row (a kind's index row, or the resource row). Columns are
/// named as in the kind's table.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Every row.
    True,
    /// No row.
    False,
    /// The column compared with a value.
    Compare(&'static str, Comparison, Scalar),
    /// The column holds no value.
    IsNull(&'static str),
    /// The column matches a LIKE pattern whose escape character is `\` (only on columns that
    /// hold lowercase text: SQLite's LIKE ignores the case of ASCII letters, PostgreSQL's does
    /// not).
    Like(&'static str, String),
    /// The column's text starts with this text, letter case included.
    StartsWith(&'static str, String),
    /// All of them (none: every row).
    All(Vec<Condition>),
    /// Any of them (none: no row).
    Any(Vec<Condition>),
}

impl Condition {
    /// `column = value`.
    pub fn equals(column: &'static str, value: impl Into<Scalar>) -> Condition {
        Condition::Compare(column, Comparison::Eq, value.into())
    }

    /// `column <comparison> value`.
    pub fn compare(column: &'static str, comparison: Comparison, value: impl Into<Scalar>) -> Condition {
        Condition::Compare(column, comparison, value.into())
    }
}
