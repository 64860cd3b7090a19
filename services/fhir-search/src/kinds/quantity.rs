//! Quantity parameters (FHIR R4 §3.1.1.4.8 "quantity", the same in STU3): a value is
//! `[prefix]number|system|code` (that system and code), `[prefix]number||code` (that code or
//! unit, in any system) or `[prefix]number` (any unit), with the prefixes and the implicit range
//! of numbers ([`super::decimal`]); no modifier. Units are compared as written: no conversion
//! between units (UCUM canonical forms) is made.
//!
//! Indexed from Quantity and the types built on it (SimpleQuantity, Age, Duration, Distance,
//! Count, Money with its currency as an ISO 4217 code): any element with a number `value`, so a
//! `value[x]` path indexes the choices that are quantities and nothing else. A stored quantity is
//! a point: its `comparator` (`<`, `>=`) is not taken into account.

use super::decimal::{Decimal, Real};
use super::prefix::{self, Prefix};
use super::{
    CellType, Condition, IndexTable, IndexValue, Kind, Rows, Scalar, Value, invalid, no_modifier, split_unescaped,
};
use crate::request::SearchError;
use chrono_tz::Tz;
use data_services::SearchParam;

/// The quantity index: the value, and its unit as system, code and human-readable unit.
pub const TABLE: IndexTable = IndexTable {
    name: "search_quantity",
    alias: "q",
    columns: &["value", "system", "code", "unit"],
    cells: &[CellType::Real, CellType::Text, CellType::Text, CellType::Text],
};

/// The system of Money's currency codes.
const CURRENCIES: &str = "urn:iso:std:iso:4217";

/// A quantity a resource is indexed under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct QuantityEntry {
    /// The value.
    pub value: Real,
    /// The unit's code system.
    pub system: Option<String>,
    /// The unit's code.
    pub code: Option<String>,
    /// The unit as written for people.
    pub unit: Option<String>,
}

impl QuantityEntry {
    pub(crate) fn cells(&self) -> Vec<Scalar> {
        vec![self.value.0.into(), self.system.clone().into(), self.code.clone().into(), self.unit.clone().into()]
    }
}

/// Which units a quantity value matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuantityUnit {
    /// Any (`number`).
    Any,
    /// This code, or this unit, in any system (`number||code`).
    Code(String),
    /// This code of this system (`number|system|code`).
    SystemCode(String, String),
}

/// A quantity search value.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantityValue {
    /// The comparison.
    pub prefix: Prefix,
    /// The number.
    pub number: Decimal,
    /// The units it matches.
    pub unit: QuantityUnit,
}

impl QuantityValue {
    /// What a quantity row must hold.
    pub fn condition(&self) -> Condition {
        let value = self.number.condition(self.prefix, "value");
        match &self.unit {
            QuantityUnit::Any => value,
            QuantityUnit::Code(code) => Condition::All(vec![
                value,
                Condition::Any(vec![Condition::equals("code", code.clone()), Condition::equals("unit", code.clone())]),
            ]),
            QuantityUnit::SystemCode(system, code) => Condition::All(vec![
                value,
                Condition::equals("system", system.clone()),
                Condition::equals("code", code.clone()),
            ]),
        }
    }
}

/// The quantity kind.
pub(crate) struct Quantity;

impl Kind for Quantity {
    const ROWS: Rows = Rows::Index(&TABLE);
    type Modifier = ();

    fn modifier(param: &SearchParam, modifier: Option<&str>) -> Result<(), SearchError> {
        no_modifier(param, modifier)
    }

    fn parse(name: &str, _: &(), text: &str, _: Tz) -> Result<Value, SearchError> {
        let (prefix, rest) = prefix::split(text).map_err(|message| invalid(name, &message))?;
        let parts = split_unescaped(rest, '|');
        let (number, unit) = match parts.as_slice() {
            [number] => (number, QuantityUnit::Any),
            [_, _, code] if code.is_empty() => {
                return Err(invalid(name, "a quantity's unit needs a code: number|system|code or number||code"));
            }
            [number, system, code] if system.is_empty() => (number, QuantityUnit::Code(code.clone())),
            [number, system, code] => (number, QuantityUnit::SystemCode(system.clone(), code.clone())),
            _ => return Err(invalid(name, "expected number, number|system|code or number||code")),
        };
        let number = Decimal::parse(number).map_err(|message| invalid(name, &message))?;
        Ok(Value::Quantity(QuantityValue { prefix, number, unit }))
    }

    fn extract(_: &SearchParam, element: &serde_json::Value, _: Tz) -> Vec<IndexValue> {
        let Some(value) = element.get("value").and_then(Real::of_json) else { return Vec::new() };
        let text = |name: &str| element.get(name).and_then(serde_json::Value::as_str).map(str::to_owned);
        let (mut system, mut code) = (text("system"), text("code"));
        if code.is_none()
            && let Some(currency) = text("currency")
        {
            (system, code) = (Some(CURRENCIES.to_owned()), Some(currency));
        }
        vec![IndexValue::Quantity(QuantityEntry { value, system, code, unit: text("unit") })]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<QuantityValue, SearchError> {
        match Quantity::parse("value-quantity", &(), text, chrono_tz::UTC)? {
            Value::Quantity(value) => Ok(value),
            other => panic!("not a quantity: {other:?}"),
        }
    }

    fn extract(element: serde_json::Value) -> Vec<QuantityEntry> {
        let param = SearchParam {
            name: "value-quantity".into(),
            kind: data_services::ParamKind::Quantity,
            paths: vec!["value[x]".into()],
            targets: vec![],
        };
        Quantity::extract(&param, &element, chrono_tz::UTC)
            .into_iter()
            .filter_map(|entry| match entry {
                IndexValue::Quantity(entry) => Some(entry),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_three_forms_with_prefixes() {
        let full = parse("le5.4|http://unitsofmeasure.org|mg").expect("parses");
        assert_eq!(full.prefix, Prefix::Le);
        assert_eq!(full.unit, QuantityUnit::SystemCode("http://unitsofmeasure.org".into(), "mg".into()));
        assert_eq!((full.number.low, full.number.value, full.number.high), (5.35, 5.4, 5.45));
        assert_eq!(
            parse("5.4||mg").map(|value| (value.prefix, value.unit)),
            Ok((Prefix::Eq, QuantityUnit::Code("mg".into())))
        );
        assert_eq!(parse("ap100").map(|value| (value.prefix, value.unit)), Ok((Prefix::Ap, QuantityUnit::Any)));
        assert_eq!(parse(r"5|s\|t|c").map(|value| value.unit), Ok(QuantityUnit::SystemCode("s|t".into(), "c".into())));
    }

    #[test]
    fn what_is_no_quantity_is_refused_with_the_reason() {
        let message = |text: &str| parse(text).expect_err("refused").to_string();
        assert_eq!(message("abc"), "invalid value for 'value-quantity': unknown prefix 'ab'");
        assert_eq!(message("xy5"), "invalid value for 'value-quantity': unknown prefix 'xy'");
        assert_eq!(message("ge"), "invalid value for 'value-quantity': '' is not a number");
        assert_eq!(
            message("5.4|mg"),
            "invalid value for 'value-quantity': expected number, number|system|code or number||code"
        );
        assert_eq!(
            message("5.4|http://unitsofmeasure.org|"),
            "invalid value for 'value-quantity': a quantity's unit needs a code: number|system|code or number||code"
        );
        assert_eq!(message("5,4"), "invalid value for 'value-quantity': '5,4' is not a number");
    }

    #[test]
    fn the_unit_decides_which_rows_match() {
        let with = |text: &str| parse(text).expect("parses").condition();
        let Condition::All(parts) = with("5||mg") else { panic!("value and unit") };
        assert_eq!(
            parts[1],
            Condition::Any(vec![
                Condition::equals("code", "mg".to_owned()),
                Condition::equals("unit", "mg".to_owned())
            ])
        );
        let Condition::All(parts) = with("5|http://unitsofmeasure.org|mg") else { panic!("value and unit") };
        assert_eq!(
            parts[1..],
            [
                Condition::equals("system", "http://unitsofmeasure.org".to_owned()),
                Condition::equals("code", "mg".to_owned())
            ]
        );
        assert_eq!(with("gt5"), Condition::compare("value", super::super::Comparison::Gt, 5.0));
    }

    #[test]
    fn quantities_and_their_kin_are_indexed_as_written() {
        let weight =
            extract(json!({"value": 72.50, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}));
        assert_eq!(
            weight,
            [QuantityEntry {
                value: Real(72.5),
                system: Some("http://unitsofmeasure.org".into()),
                code: Some("kg".into()),
                unit: Some("kg".into())
            }]
        );
        let age = extract(json!({"value": 5, "comparator": "<", "unit": "a"}));
        assert_eq!((age[0].value, age[0].code.as_deref(), age[0].unit.as_deref()), (Real(5.0), None, Some("a")));
        let money = extract(json!({"value": 12.5, "currency": "EUR"}));
        assert_eq!((money[0].system.as_deref(), money[0].code.as_deref()), (Some(CURRENCIES), Some("EUR")));
        // Not quantities: a string, a Range, a value that is no number.
        assert!(extract(json!("5 mg")).is_empty());
        assert!(extract(json!({"low": {"value": 1}, "high": {"value": 2}})).is_empty());
        assert!(extract(json!({"value": "5"})).is_empty());
    }
}
