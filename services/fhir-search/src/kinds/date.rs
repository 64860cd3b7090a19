//! Date parameters (FHIR R4 §3.1.1.4.2 "date", the same in STU3): a value is a date, dateTime or
//! instant of any precision, which stands for the period it covers, with the prefixes `eq`
//! (default), `gt`, `lt`, `ge` and `le` (`ne`, `sa`, `eb` and `ap` are refused); no modifier.
//! Dates without a zone are read in the service's zone. Indexed from date, dateTime, instant and
//! Period (an open end unbounded), each as a range of milliseconds.

use super::prefix::{self, Prefix};
use super::{
    CellType, Comparison, Condition, IndexTable, IndexValue, Kind, Rows, Scalar, Value, invalid, no_modifier, unescape,
};
use crate::request::SearchError;
use chrono_tz::Tz;
use data_services::SearchParam;
use fhir_core::date::{self, DateRange};

/// The date index: the first and last millisecond a value covers.
pub const TABLE: IndexTable = IndexTable {
    name: "search_date",
    alias: "d",
    columns: &["low", "high"],
    cells: &[CellType::Integer, CellType::Integer],
};

/// A date a resource is indexed under, as a range of milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateEntry {
    /// First millisecond (`i64::MIN` for an open start).
    pub low: i64,
    /// Last millisecond (`i64::MAX` for an open end).
    pub high: i64,
}

impl DateEntry {
    pub(crate) fn cells(&self) -> Vec<Scalar> {
        vec![self.low.into(), self.high.into()]
    }
}

/// The comparison prefixes supported on dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePrefix {
    /// Within the period (the default).
    Eq,
    /// After the period.
    Gt,
    /// Before the period.
    Lt,
    /// At or after the start of the period.
    Ge,
    /// At or before the end of the period.
    Le,
}

/// A date search value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateValue {
    /// The comparison.
    pub prefix: DatePrefix,
    /// The period the value stands for.
    pub range: DateRange,
}

impl DateValue {
    /// What a date row must hold.
    pub fn condition(&self) -> Condition {
        self.condition_on("low", "high")
    }

    /// The FHIR date comparisons between a stored range [`low`, `high`] and this value's range.
    pub(crate) fn condition_on(&self, low: &'static str, high: &'static str) -> Condition {
        let range = &self.range;
        match self.prefix {
            DatePrefix::Eq => Condition::All(vec![
                Condition::compare(low, Comparison::Ge, range.low),
                Condition::compare(high, Comparison::Le, range.high),
            ]),
            DatePrefix::Ge => Condition::compare(high, Comparison::Ge, range.low),
            DatePrefix::Le => Condition::compare(low, Comparison::Le, range.high),
            DatePrefix::Gt => Condition::compare(high, Comparison::Gt, range.high),
            DatePrefix::Lt => Condition::compare(low, Comparison::Lt, range.low),
        }
    }
}

/// Reads a date value with its prefix (also `_lastUpdated`'s).
pub(crate) fn date_value(name: &str, text: &str, zone: Tz) -> Result<DateValue, SearchError> {
    let (prefix, rest) = prefix::split(text).map_err(|message| invalid(name, &message))?;
    let prefix = match prefix {
        Prefix::Eq => DatePrefix::Eq,
        Prefix::Gt => DatePrefix::Gt,
        Prefix::Lt => DatePrefix::Lt,
        Prefix::Ge => DatePrefix::Ge,
        Prefix::Le => DatePrefix::Le,
        Prefix::Ne | Prefix::Sa | Prefix::Eb | Prefix::Ap => {
            return Err(invalid(name, &format!("the prefix '{prefix}' is not supported (use eq, gt, lt, ge or le)")));
        }
    };
    let range = date::parse_range(&unescape(rest), zone).map_err(|error| invalid(name, &error.to_string()))?;
    Ok(DateValue { prefix, range })
}

/// The date kind.
pub(crate) struct Date;

impl Kind for Date {
    const ROWS: Rows = Rows::Index(&TABLE);
    type Modifier = ();

    fn modifier(param: &SearchParam, modifier: Option<&str>) -> Result<(), SearchError> {
        no_modifier(param, modifier)
    }

    fn parse(name: &str, _: &(), text: &str, zone: Tz) -> Result<Value, SearchError> {
        date_value(name, text, zone).map(Value::Date)
    }

    fn extract(_: &SearchParam, element: &serde_json::Value, zone: Tz) -> Vec<IndexValue> {
        date_range(element, zone).map(|(low, high)| IndexValue::Date(DateEntry { low, high })).into_iter().collect()
    }
}

/// The range of a date, dateTime, instant or Period element; open Period ends are unbounded.
fn date_range(value: &serde_json::Value, zone: Tz) -> Option<(i64, i64)> {
    use serde_json::Value as Json;
    match value {
        Json::String(text) => date::parse_range(text, zone).ok().map(|range| (range.low, range.high)),
        Json::Object(period) => {
            let bound = |name: &str| {
                period.get(name).and_then(Json::as_str).and_then(|text| date::parse_range(text, zone).ok())
            };
            let (start, end) = (bound("start"), bound("end"));
            if start.is_none() && end.is_none() {
                return None;
            }
            Some((start.map_or(i64::MIN, |range| range.low), end.map_or(i64::MAX, |range| range.high)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ZONE: Tz = chrono_tz::Europe::Amsterdam;

    #[test]
    fn the_unsupported_prefixes_are_named_and_unknown_ones_refused() {
        let refused = date_value("date", "ne2013", ZONE).expect_err("refused");
        assert_eq!(
            refused.to_string(),
            "invalid value for 'date': the prefix 'ne' is not supported (use eq, gt, lt, ge or le)"
        );
        let unknown = date_value("date", "xx2013", ZONE).expect_err("refused");
        assert_eq!(unknown.to_string(), "invalid value for 'date': unknown prefix 'xx'");
        assert_eq!(date_value("date", "ge2013", ZONE).map(|value| value.prefix), Ok(DatePrefix::Ge));
    }

    #[test]
    fn periods_with_an_open_end_are_unbounded() {
        let param = SearchParam {
            name: "date".into(),
            kind: data_services::ParamKind::Date,
            paths: vec!["period".into()],
            targets: vec![],
        };
        let entries = Date::extract(&param, &json!({"start": "2020-01-01"}), ZONE);
        let [IndexValue::Date(entry)] = entries.as_slice() else { panic!("one date") };
        assert_eq!(entry.high, i64::MAX);
        assert!(date_range(&json!({"text": "no dates"}), ZONE).is_none());
    }
}
