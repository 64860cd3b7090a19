//! Number parameters (FHIR R4 §3.1.1.4.1 "number", the same in STU3): `[prefix]number`, with the
//! prefixes and the implicit range of [`super::decimal`]; no modifier. Indexed from integer and
//! decimal elements (a JSON number).

use super::decimal::{Decimal, Real};
use super::prefix::{self, Prefix};
use super::{CellType, Condition, IndexTable, IndexValue, Kind, Rows, Scalar, Value, invalid, no_modifier, unescape};
use crate::request::SearchError;
use chrono_tz::Tz;
use data_services::SearchParam;

/// The number index.
pub const TABLE: IndexTable =
    IndexTable { name: "search_number", alias: "n", columns: &["value"], cells: &[CellType::Real] };

/// A number a resource is indexed under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NumberEntry {
    /// The value.
    pub value: Real,
}

impl NumberEntry {
    pub(crate) fn cells(&self) -> Vec<Scalar> {
        vec![self.value.0.into()]
    }
}

/// A number search value.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberValue {
    /// The comparison.
    pub prefix: Prefix,
    /// The number.
    pub number: Decimal,
}

impl NumberValue {
    /// What a number row must hold.
    pub fn condition(&self) -> Condition {
        self.number.condition(self.prefix, "value")
    }
}

/// The number kind.
pub(crate) struct Number;

impl Kind for Number {
    const ROWS: Rows = Rows::Index(&TABLE);
    type Modifier = ();

    fn modifier(param: &SearchParam, modifier: Option<&str>) -> Result<(), SearchError> {
        no_modifier(param, modifier)
    }

    fn parse(name: &str, _: &(), text: &str, _: Tz) -> Result<Value, SearchError> {
        let (prefix, rest) = prefix::split(text).map_err(|message| invalid(name, &message))?;
        let number = Decimal::parse(&unescape(rest)).map_err(|message| invalid(name, &message))?;
        Ok(Value::Number(NumberValue { prefix, number }))
    }

    fn extract(_: &SearchParam, element: &serde_json::Value, _: Tz) -> Vec<IndexValue> {
        Real::of_json(element).map(|value| IndexValue::Number(NumberEntry { value })).into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_take_every_prefix_and_index_json_numbers_only() {
        let parsed = Number::parse("dose-number", &(), "sa2", chrono_tz::UTC).expect("parses");
        let Value::Number(value) = parsed else { panic!("a number") };
        assert_eq!((value.prefix, value.number.high), (Prefix::Sa, 2.5));
        assert!(Number::parse("dose-number", &(), "2|x|y", chrono_tz::UTC).is_err());
        let param = SearchParam {
            name: "dose-number".into(),
            kind: data_services::ParamKind::Number,
            paths: vec![],
            targets: vec![],
        };
        assert_eq!(Number::extract(&param, &json!(2), chrono_tz::UTC).len(), 1);
        assert!(Number::extract(&param, &json!("2"), chrono_tz::UTC).is_empty());
    }
}
