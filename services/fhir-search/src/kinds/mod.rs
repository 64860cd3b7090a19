//! Each kind of search parameter as one unit: a module per kind reads a request's value (with
//! the kind's modifiers and prefixes), takes the kind's index entries from a resource, and says
//! what an index row must hold to match (a [`Condition`] on the kind's [`IndexTable`]). The store
//! writes the rows and renders the conditions as SQL for either backend, knowing no kind.
//!
//! Adding a kind is: its module implementing [`Kind`], its variant in [`Value`] and
//! [`IndexValue`] and its arm in each `match` below, its code in `data_services::ParamKind`, a
//! migration creating its table, and parameters of it in `profiles/fhir/*.toml`.

mod builtin;
mod condition;
pub mod date;
pub mod decimal;
mod escape;
pub mod number;
pub mod prefix;
pub mod quantity;
pub mod reference;
pub mod string;
pub mod token;
pub mod uri;

pub use condition::{Comparison, Condition, Scalar};
pub(crate) use escape::{split_unescaped, unescape};

pub(crate) use crate::request::invalid;
use crate::request::{SearchError, unsupported_modifier};
use chrono_tz::Tz;
use data_services::{ParamKind, SearchParam};

/// A kind's index table: one row per value, keyed by the resource's row (`rid`) and the
/// parameter (`param`), with the kind's own columns after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexTable {
    /// The table's name.
    pub name: &'static str,
    /// The alias its rows go by in a statement (one letter, unique among the kinds).
    pub alias: &'static str,
    /// The kind's columns after `rid` and `param`, in the order of [`IndexValue::cells`].
    pub columns: &'static [&'static str],
    /// What each of [`IndexTable::columns`] holds (as the migrations declare it).
    pub cells: &'static [CellType],
}

/// What an index column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellType {
    /// `TEXT`.
    Text,
    /// `BIGINT`.
    Integer,
    /// `REAL` on SQLite, `DOUBLE PRECISION` on PostgreSQL.
    Real,
}

/// The index table of every kind that has one, so that a store can clear and fill them all.
pub const INDEX_TABLES: [&IndexTable; 7] =
    [&token::TABLE, &date::TABLE, &reference::TABLE, &string::TABLE, &quantity::TABLE, &number::TABLE, &uri::TABLE];

/// Where the values a kind compares are: its index table, or (for the built-ins) columns of the
/// resource row itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Rows of this table, of the resource and parameter.
    Index(&'static IndexTable),
    /// The resource row (`id`, `last_updated`).
    Resource,
}

/// What a kind of search parameter is; one implementation per module.
pub(crate) trait Kind {
    /// Where its values are compared.
    const ROWS: Rows;
    /// A request's modifier, as this kind reads it.
    type Modifier: 'static;

    /// Reads the modifier written after the parameter's name (`name:exact`), refusing one the
    /// kind does not support.
    fn modifier(param: &SearchParam, modifier: Option<&str>) -> Result<Self::Modifier, SearchError>;

    /// Reads one value of the request (one of its comma-separated alternatives, still escaped).
    fn parse(name: &str, modifier: &Self::Modifier, text: &str, zone: Tz) -> Result<Value, SearchError>;

    /// The index values of one element the parameter's path selected; none where the element
    /// cannot be read as this kind.
    fn extract(param: &SearchParam, element: &serde_json::Value, zone: Tz) -> Vec<IndexValue>;
}

/// Reads the values of one occurrence of a parameter: the modifier first (so that an unsupported
/// one is refused before anything else about the occurrence), then each value.
pub(crate) type ValueParser<'a> = Box<dyn Fn(&str) -> Result<Value, SearchError> + 'a>;

/// The reader of `param`'s values under `modifier`, or why the modifier is refused.
pub(crate) fn value_parser<'a>(
    param: &'a SearchParam,
    modifier: Option<&str>,
    zone: Tz,
) -> Result<ValueParser<'a>, SearchError> {
    match param.kind {
        ParamKind::Token => parser::<token::Token>(param, modifier, zone),
        ParamKind::Date => parser::<date::Date>(param, modifier, zone),
        ParamKind::Reference => parser::<reference::Reference>(param, modifier, zone),
        ParamKind::String => parser::<string::Text>(param, modifier, zone),
        ParamKind::Quantity => parser::<quantity::Quantity>(param, modifier, zone),
        ParamKind::Number => parser::<number::Number>(param, modifier, zone),
        ParamKind::Uri => parser::<uri::Uri>(param, modifier, zone),
        ParamKind::Id => parser::<builtin::Id>(param, modifier, zone),
        ParamKind::LastUpdated => parser::<builtin::LastUpdated>(param, modifier, zone),
    }
}

fn parser<'a, K: Kind>(
    param: &'a SearchParam,
    modifier: Option<&str>,
    zone: Tz,
) -> Result<ValueParser<'a>, SearchError> {
    let modifier = K::modifier(param, modifier)?;
    Ok(Box::new(move |text| K::parse(&param.name, &modifier, text, zone)))
}

/// The index values of one element selected by `param`'s path.
pub(crate) fn extract(param: &SearchParam, element: &serde_json::Value, zone: Tz) -> Vec<IndexValue> {
    match param.kind {
        ParamKind::Token => token::Token::extract(param, element, zone),
        ParamKind::Date => date::Date::extract(param, element, zone),
        ParamKind::Reference => reference::Reference::extract(param, element, zone),
        ParamKind::String => string::Text::extract(param, element, zone),
        ParamKind::Quantity => quantity::Quantity::extract(param, element, zone),
        ParamKind::Number => number::Number::extract(param, element, zone),
        ParamKind::Uri => uri::Uri::extract(param, element, zone),
        ParamKind::Id => builtin::Id::extract(param, element, zone),
        ParamKind::LastUpdated => builtin::LastUpdated::extract(param, element, zone),
    }
}

/// Where the values of a parameter of `kind` are compared.
pub fn rows(kind: ParamKind) -> Rows {
    match kind {
        ParamKind::Token => token::Token::ROWS,
        ParamKind::Date => date::Date::ROWS,
        ParamKind::Reference => reference::Reference::ROWS,
        ParamKind::String => string::Text::ROWS,
        ParamKind::Quantity => quantity::Quantity::ROWS,
        ParamKind::Number => number::Number::ROWS,
        ParamKind::Uri => uri::Uri::ROWS,
        ParamKind::Id => builtin::Id::ROWS,
        ParamKind::LastUpdated => builtin::LastUpdated::ROWS,
    }
}

/// One value of a search request, as its kind read it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A token: `system|code`, `|code`, `code` or `system|`.
    Token(token::TokenValue),
    /// A date with its comparison.
    Date(date::DateValue),
    /// A reference: `Type/id` or `id`.
    Reference(reference::ReferenceValue),
    /// Text, matched as the modifier says.
    String(string::StringValue),
    /// A quantity with its comparison and unit.
    Quantity(quantity::QuantityValue),
    /// A number with its comparison.
    Number(number::NumberValue),
    /// A URI, whole or as a prefix.
    Uri(uri::UriValue),
    /// A logical id (`_id`).
    Id(String),
    /// When the resource was last stored (`_lastUpdated`).
    LastUpdated(date::DateValue),
}

impl Value {
    /// What a row (of the kind's index table, or the resource row) must hold to match.
    pub fn condition(&self) -> Condition {
        match self {
            Value::Token(value) => value.condition(),
            Value::Date(value) => value.condition(),
            Value::Reference(value) => value.condition(),
            Value::String(value) => value.condition(),
            Value::Quantity(value) => value.condition(),
            Value::Number(value) => value.condition(),
            Value::Uri(value) => value.condition(),
            Value::Id(id) => builtin::id_condition(id),
            Value::LastUpdated(value) => builtin::last_updated_condition(value),
        }
    }
}

/// One value a resource is indexed under, of its parameter's kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum IndexValue {
    /// A code (system and code).
    Token(token::TokenEntry),
    /// A date's range.
    Date(date::DateEntry),
    /// A reference's target.
    Reference(reference::ReferenceEntry),
    /// A text, as written and normalised.
    String(string::StringEntry),
    /// A quantity's value and unit.
    Quantity(quantity::QuantityEntry),
    /// A number.
    Number(number::NumberEntry),
    /// A URI.
    Uri(uri::UriEntry),
}

impl IndexValue {
    /// The table it is stored in.
    pub fn table(&self) -> &'static IndexTable {
        match self {
            IndexValue::Token(_) => &token::TABLE,
            IndexValue::Date(_) => &date::TABLE,
            IndexValue::Reference(_) => &reference::TABLE,
            IndexValue::String(_) => &string::TABLE,
            IndexValue::Quantity(_) => &quantity::TABLE,
            IndexValue::Number(_) => &number::TABLE,
            IndexValue::Uri(_) => &uri::TABLE,
        }
    }

    /// Its cells, in the order of its table's `columns`.
    pub fn cells(&self) -> Vec<Scalar> {
        match self {
            IndexValue::Token(entry) => entry.cells(),
            IndexValue::Date(entry) => entry.cells(),
            IndexValue::Reference(entry) => entry.cells(),
            IndexValue::String(entry) => entry.cells(),
            IndexValue::Quantity(entry) => entry.cells(),
            IndexValue::Number(entry) => entry.cells(),
            IndexValue::Uri(entry) => entry.cells(),
        }
    }
}

/// Refuses any modifier: for the kinds that take none.
pub(crate) fn no_modifier(param: &SearchParam, modifier: Option<&str>) -> Result<(), SearchError> {
    match modifier {
        None => Ok(()),
        Some(modifier) => Err(unsupported_modifier(&param.name, modifier)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_and_alias_is_its_own() {
        let mut names: Vec<&str> = INDEX_TABLES.iter().map(|table| table.name).collect();
        let mut aliases: Vec<&str> = INDEX_TABLES.iter().map(|table| table.alias).collect();
        names.sort_unstable();
        names.dedup();
        aliases.sort_unstable();
        aliases.dedup();
        assert_eq!((names.len(), aliases.len()), (INDEX_TABLES.len(), INDEX_TABLES.len()));
        // `r` is the resource row's alias in every statement.
        assert!(!aliases.contains(&"r"));
    }
}
