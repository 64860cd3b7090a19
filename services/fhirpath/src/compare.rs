//! Equality (`=`), equivalence (`~`) and ordering (`<` ...) of items and collections.
//!
//! JSON primitives compare as the System values they stand for. A JSON string compared with a date,
//! dateTime or time is parsed as one, because FHIR JSON has no date type of its own. Quantities
//! compare only when their units are the same (no UCUM conversion here): other units are reported
//! as unsupported rather than answered wrongly.

use std::cmp::Ordering;

use serde_json::Value;

use crate::decimal::Decimal;
use crate::error::EvalError;
use crate::temporal::{self, DateTime, Time, TimeUnit};
use crate::value::{Item, Quantity, number_item};

/// `=` on single items: `None` when the answer is unknown (dates of different precision).
pub(crate) fn items_equal(left: &Item, right: &Item) -> Result<Option<bool>, EvalError> {
    // Fast path for the common case (strings from JSON), without converting either side.
    if let (Some(l), Some(r)) = (left.as_str(), right.as_str()) {
        return Ok(Some(l == r));
    }
    let (left, right) = (left.to_system(), right.to_system());
    match temporal_pair(&left, &right) {
        Some(TemporalPair::DateTimes(l, r)) => return Ok(temporal::compare_date_times(&l, &r).map(Ordering::is_eq)),
        Some(TemporalPair::Times(l, r)) => return Ok(temporal::compare_times(&l, &r).map(Ordering::is_eq)),
        Some(TemporalPair::Unparsable) => return Ok(Some(false)),
        None => {}
    }
    Ok(Some(match (&left, &right) {
        (Item::Boolean(l), Item::Boolean(r)) => l == r,
        (Item::String(l), Item::String(r)) => l == r,
        (Item::Node(l), Item::Node(r)) => json_equal(l.value(), r.value(), false),
        _ => match numeric_or_quantity_order(&left, &right)? {
            Some(ordering) => ordering.is_eq(),
            None => false,
        },
    }))
}

/// `~` on single items: never unknown.
pub(crate) fn items_equivalent(left: &Item, right: &Item) -> Result<bool, EvalError> {
    let (left, right) = (left.to_system(), right.to_system());
    if let Some(pair) = temporal_pair(&left, &right) {
        return Ok(match pair {
            TemporalPair::DateTimes(l, r) => temporal::date_times_equivalent(&l, &r),
            TemporalPair::Times(l, r) => temporal::times_equivalent(&l, &r),
            TemporalPair::Unparsable => false,
        });
    }
    Ok(match (&left, &right) {
        (Item::Boolean(l), Item::Boolean(r)) => l == r,
        (Item::String(l), Item::String(r)) => normalize_for_equivalence(l) == normalize_for_equivalence(r),
        (Item::Node(l), Item::Node(r)) => json_equal(l.value(), r.value(), true),
        _ => match (as_decimal(&left), as_decimal(&right)) {
            (Some(l), Some(r)) => decimals_equivalent(&l, &r),
            _ => match (left.as_quantity(), right.as_quantity()) {
                (Some(l), Some(r)) => {
                    require_same_unit(&l, &r, "~")?;
                    decimals_equivalent(&l.value, &r.value)
                }
                _ => false,
            },
        },
    })
}

/// Ordering for `<`, `>`, `<=`, `>=`: `None` when unknown; a type error for values that have no order.
pub(crate) fn items_order(left: &Item, right: &Item, operator: &str) -> Result<Option<Ordering>, EvalError> {
    let (left, right) = (left.to_system(), right.to_system());
    match temporal_pair(&left, &right) {
        Some(TemporalPair::DateTimes(l, r)) => return Ok(temporal::compare_date_times(&l, &r)),
        Some(TemporalPair::Times(l, r)) => return Ok(temporal::compare_times(&l, &r)),
        Some(TemporalPair::Unparsable) => {
            return Err(EvalError::type_error(
                operator,
                format!("{left} and {right} are not both dates, dateTimes or times"),
            ));
        }
        None => {}
    }
    if let (Item::String(l), Item::String(r)) = (&left, &right) {
        return Ok(Some(l.cmp(r)));
    }
    match numeric_or_quantity_order(&left, &right)? {
        Some(ordering) => Ok(Some(ordering)),
        None => Err(EvalError::type_error(
            operator,
            format!("cannot order {} and {}", left.type_description(), right.type_description()),
        )),
    }
}

/// `=` on collections: empty when either side is empty, false for different sizes, else item by item.
pub(crate) fn collections_equal(left: &[Item], right: &[Item]) -> Result<Option<bool>, EvalError> {
    if left.is_empty() || right.is_empty() {
        return Ok(None);
    }
    if left.len() != right.len() {
        return Ok(Some(false));
    }
    let mut unknown = false;
    for (l, r) in left.iter().zip(right) {
        match items_equal(l, r)? {
            Some(false) => return Ok(Some(false)),
            Some(true) => {}
            None => unknown = true,
        }
    }
    Ok(if unknown { None } else { Some(true) })
}

/// `~` on collections: order does not matter, and two empty collections are equivalent.
pub(crate) fn collections_equivalent(left: &[Item], right: &[Item]) -> Result<bool, EvalError> {
    if left.len() != right.len() {
        return Ok(false);
    }
    let mut used = vec![false; right.len()];
    'outer: for l in left {
        for (index, r) in right.iter().enumerate() {
            if !used[index] && items_equivalent(l, r)? {
                used[index] = true;
                continue 'outer;
            }
        }
        return Ok(false);
    }
    Ok(true)
}

/// True when `collection` has an item equal to `item` (membership for `in`, `contains`, `distinct`).
pub(crate) fn collection_contains(collection: &[Item], item: &Item) -> Result<bool, EvalError> {
    for candidate in collection {
        if items_equal(candidate, item)? == Some(true) {
            return Ok(true);
        }
    }
    Ok(false)
}

enum TemporalPair {
    DateTimes(DateTime, DateTime),
    Times(Time, Time),
    /// One side is temporal and the other a string that does not parse as that kind of value.
    Unparsable,
}

/// Both sides as dateTimes or times when at least one is temporal and the other is the same kind
/// or a string to parse. `None` when the pair is not temporal.
fn temporal_pair(left: &Item, right: &Item) -> Option<TemporalPair> {
    fn as_date_time(item: &Item) -> Option<DateTime> {
        match item {
            Item::Date(d) => Some(d.to_date_time()),
            Item::DateTime(d) => Some(*d),
            _ => None,
        }
    }
    fn as_string<'i>(item: &'i Item) -> Option<&'i str> {
        match item {
            Item::String(s) => Some(s),
            _ => None,
        }
    }
    let (left_time, right_time) = match (left, right) {
        (Item::Time(l), Item::Time(r)) => (Some(*l), Some(*r)),
        (Item::Time(l), other) => (Some(*l), Time::parse(as_string(other)?)),
        (other, Item::Time(r)) => (Time::parse(as_string(other)?), Some(*r)),
        _ => (None, None),
    };
    if let (Some(l), Some(r)) = (left_time, right_time) {
        return Some(TemporalPair::Times(l, r));
    }
    if matches!(left, Item::Time(_)) || matches!(right, Item::Time(_)) {
        return Some(TemporalPair::Unparsable);
    }
    let (l, r) = match (as_date_time(left), as_date_time(right)) {
        (Some(l), Some(r)) => (Some(l), Some(r)),
        (Some(l), None) => (Some(l), DateTime::parse(as_string(right)?)),
        (None, Some(r)) => (DateTime::parse(as_string(left)?), Some(r)),
        (None, None) => return None,
    };
    Some(match (l, r) {
        (Some(l), Some(r)) => TemporalPair::DateTimes(l, r),
        _ => TemporalPair::Unparsable,
    })
}

/// Numbers compare as decimals; quantities (System or FHIR Quantity objects) compare when their
/// units are equal. `None` when the pair is neither numeric nor quantities.
fn numeric_or_quantity_order(left: &Item, right: &Item) -> Result<Option<Ordering>, EvalError> {
    if let (Some(l), Some(r)) = (as_decimal(left), as_decimal(right)) {
        return Ok(Some(l.cmp(&r)));
    }
    let quantity_involved = matches!(left, Item::Quantity(_)) || matches!(right, Item::Quantity(_));
    if !quantity_involved {
        return Ok(None);
    }
    // A plain number is a quantity with unit '1' (spec implicit conversion); it can only equal or be
    // ordered against a dimensionless quantity, whatever UCUM would say about the other unit.
    let as_quantity =
        |item: &Item| item.as_quantity().or_else(|| as_decimal(item).map(|value| Quantity { value, unit: "1".into() }));
    match (as_quantity(left), as_quantity(right)) {
        (Some(l), Some(r)) if as_decimal(left).is_some() || as_decimal(right).is_some() => {
            Ok((l.unit == r.unit).then(|| l.value.cmp(&r.value)))
        }
        (Some(l), Some(r)) => {
            require_same_unit(&l, &r, "quantity comparison")?;
            Ok(Some(l.value.cmp(&r.value)))
        }
        _ => Ok(None),
    }
}

/// Without UCUM, only identical units (or the same calendar/definite time unit, `day` = `'d'`) compare.
fn require_same_unit(left: &Quantity, right: &Quantity, operation: &str) -> Result<(), EvalError> {
    let (l, r) = (left.normalized_unit(), right.normalized_unit());
    let same_time_unit = TimeUnit::from_unit(l).is_some_and(|unit| unit >= TimeUnit::Week)
        && TimeUnit::from_unit(l) == TimeUnit::from_unit(r);
    if l == r || same_time_unit {
        return Ok(());
    }
    Err(EvalError::unsupported(format!(
        "{operation} of quantities with different units ('{}' and '{}') needs UCUM conversion",
        left.unit, right.unit
    )))
}

pub(crate) fn as_decimal(item: &Item) -> Option<Decimal> {
    match item {
        Item::Integer(i) => Some(Decimal::from_integer(*i)),
        Item::Decimal(d) => Some(*d),
        _ => None,
    }
}

/// Decimals are equivalent when equal after rounding to the precision of the less precise one.
fn decimals_equivalent(left: &Decimal, right: &Decimal) -> bool {
    let scale = left.scale().min(right.scale());
    left.round(scale) == right.round(scale)
}

/// Case-insensitive, with every run of whitespace counted as one space and the ends trimmed.
fn normalize_for_equivalence(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Deep equality of JSON elements; numbers by value, and with `equivalent` strings and decimals as `~`
/// compares them. Object member order does not matter.
fn json_equal(left: &Value, right: &Value, equivalent: bool) -> bool {
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => {
            l.len() == r.len()
                && l.iter().all(|(key, value)| r.get(key).is_some_and(|other| json_equal(value, other, equivalent)))
        }
        (Value::Array(l), Value::Array(r)) => {
            l.len() == r.len() && l.iter().zip(r).all(|(l, r)| json_equal(l, r, equivalent))
        }
        (Value::Number(l), Value::Number(r)) => {
            match (number_item(l).as_ref().and_then(as_decimal), number_item(r).as_ref().and_then(as_decimal)) {
                (Some(l), Some(r)) if equivalent => decimals_equivalent(&l, &r),
                (Some(l), Some(r)) => l == r,
                _ => l == r,
            }
        }
        (Value::String(l), Value::String(r)) if equivalent => {
            normalize_for_equivalence(l) == normalize_for_equivalence(r)
        }
        _ => left == right,
    }
}
