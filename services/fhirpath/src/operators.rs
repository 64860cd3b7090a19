//! Operators on collections: three-valued logic, ordering, membership, union, string concatenation
//! and arithmetic on numbers, quantities and dates, with the empty-collection rules of the spec.

use std::cmp::Ordering;

use crate::ast::BinaryOp;
use crate::compare::{self, as_decimal};
use crate::decimal::Decimal;
use crate::error::EvalError;
use crate::temporal::{Date, DateTime, TimeUnit};
use crate::value::{Collection, Item, Quantity};

/// The only item of a collection, `None` when empty, an error when there are several.
pub(crate) fn singleton<'c, 'a>(
    collection: &'c [Item<'a>],
    operation: &str,
) -> Result<Option<&'c Item<'a>>, EvalError> {
    match collection {
        [] => Ok(None),
        [item] => Ok(Some(item)),
        items => Err(EvalError::not_singleton(operation, items.len())),
    }
}

/// Singleton evaluation where a Boolean is expected: empty is unknown, a Boolean is itself, and any
/// other single item counts as `true` (spec § Singleton Evaluation of Collections).
pub(crate) fn to_boolean(collection: &[Item], operation: &str) -> Result<Option<bool>, EvalError> {
    Ok(singleton(collection, operation)?.map(|item| match item.to_system() {
        Item::Boolean(value) => value,
        _ => true,
    }))
}

/// An Integer argument or operand; empty gives `None`.
pub(crate) fn integer_singleton(collection: &[Item], operation: &str) -> Result<Option<i64>, EvalError> {
    match singleton(collection, operation)?.map(Item::to_system) {
        None => Ok(None),
        Some(Item::Integer(value)) => Ok(Some(value)),
        Some(other) => Err(EvalError::type_error(operation, format!("expected an Integer, got {other}"))),
    }
}

/// `and`, `or`, `xor`, `implies` over true / false / unknown (`None`).
pub(crate) fn logic(op: BinaryOp, left: Option<bool>, right: Option<bool>) -> Option<bool> {
    match op {
        BinaryOp::And => match (left, right) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        BinaryOp::Or => match (left, right) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        BinaryOp::Xor => Some(left? != right?),
        BinaryOp::Implies => match (left, right) {
            (Some(false), _) | (_, Some(true)) => Some(true),
            (Some(true), Some(false)) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// `<`, `>`, `<=`, `>=`: unknown when a side is empty or precision does not decide.
pub(crate) fn ordering(op: BinaryOp, left: &[Item], right: &[Item]) -> Result<Option<bool>, EvalError> {
    let operator = op.symbol();
    let (Some(l), Some(r)) = (singleton(left, operator)?, singleton(right, operator)?) else {
        return Ok(None);
    };
    Ok(compare::items_order(l, r, operator)?.map(|ordering| match op {
        BinaryOp::Less => ordering == Ordering::Less,
        BinaryOp::Greater => ordering == Ordering::Greater,
        BinaryOp::LessOrEqual => ordering != Ordering::Greater,
        _ => ordering != Ordering::Less,
    }))
}

/// `element in collection`: unknown for an empty element, false for an empty collection.
pub(crate) fn membership(element: &[Item], collection: &[Item], operator: &str) -> Result<Option<bool>, EvalError> {
    let Some(element) = singleton(element, operator)? else {
        return Ok(None);
    };
    Ok(Some(compare::collection_contains(collection, element)?))
}

/// The items of `items` without those equal to an earlier one.
pub(crate) fn distinct<'a>(items: impl IntoIterator<Item = Item<'a>>) -> Result<Collection<'a>, EvalError> {
    let mut output: Collection<'a> = Vec::new();
    for item in items {
        if !compare::collection_contains(&output, &item)? {
            output.push(item);
        }
    }
    Ok(output)
}

/// `|`: both collections merged, duplicates (by `=`) removed.
pub(crate) fn union<'a>(left: Collection<'a>, right: Collection<'a>) -> Result<Collection<'a>, EvalError> {
    distinct(left.into_iter().chain(right))
}

/// `&`: string concatenation where an empty operand counts as `''`.
pub(crate) fn concatenate<'a>(left: &[Item], right: &[Item]) -> Result<Collection<'a>, EvalError> {
    let text = |side: &[Item]| -> Result<String, EvalError> {
        match singleton(side, "&")? {
            None => Ok(String::new()),
            Some(item) => item
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| EvalError::type_error("&", format!("expected a String, got {item}"))),
        }
    };
    Ok(vec![Item::String(text(left)? + &text(right)?)])
}

/// Unary `-` / `+` on a number or quantity.
pub(crate) fn polarity<'a>(negate: bool, operand: &[Item<'a>]) -> Result<Collection<'a>, EvalError> {
    let operation = if negate { "unary -" } else { "unary +" };
    let Some(item) = singleton(operand, operation)? else {
        return Ok(Vec::new());
    };
    let item = item.to_system();
    if !negate {
        return match item {
            Item::Integer(_) | Item::Decimal(_) | Item::Quantity(_) => Ok(vec![item]),
            other => Err(EvalError::type_error(operation, format!("expected a number, got {other}"))),
        };
    }
    let negated = match item {
        Item::Integer(value) => value.checked_neg().map(Item::Integer),
        Item::Decimal(value) => value.negate().map(Item::Decimal),
        Item::Quantity(q) => q.value.negate().map(|value| Item::Quantity(Quantity { value, unit: q.unit })),
        other => return Err(EvalError::type_error(operation, format!("expected a number, got {other}"))),
    };
    negated.map(|item| vec![item]).ok_or_else(|| EvalError::overflow(operation))
}

/// `+ - * / div mod` on singletons; empty when either side is empty or on division by zero.
pub(crate) fn arithmetic<'a>(op: BinaryOp, left: &[Item], right: &[Item]) -> Result<Collection<'a>, EvalError> {
    let operator = op.symbol();
    let (Some(l), Some(r)) = (singleton(left, operator)?, singleton(right, operator)?) else {
        return Ok(Vec::new());
    };
    let (l, r) = (l.to_system(), r.to_system());
    let result = match (&l, &r) {
        (Item::Integer(a), Item::Integer(b)) if op != BinaryOp::Divide => integer_arithmetic(op, *a, *b)?,
        (Item::String(a), Item::String(b)) if op == BinaryOp::Add => Some(Item::String(format!("{a}{b}"))),
        (Item::Date(_) | Item::DateTime(_) | Item::Time(_), Item::Quantity(q)) => temporal_arithmetic(op, &l, q)?,
        // FHIR JSON writes dates as strings: `birthDate + 18 years` parses the string first.
        (Item::String(text), Item::Quantity(q)) if matches!(op, BinaryOp::Add | BinaryOp::Subtract) => {
            let date = if text.contains('T') {
                DateTime::parse(text).map(Item::DateTime)
            } else {
                Date::parse(text).map(Item::Date)
            };
            let Some(date) = date else {
                return Err(EvalError::type_error(operator, format!("{l} is not a date, dateTime or quantity")));
            };
            temporal_arithmetic(op, &date, q)?
        }
        _ => match (as_decimal(&l), as_decimal(&r)) {
            (Some(a), Some(b)) => decimal_arithmetic(op, &a, &b)?,
            _ => quantity_arithmetic(op, &l, &r)?,
        },
    };
    Ok(result.into_iter().collect())
}

fn integer_arithmetic<'a>(op: BinaryOp, a: i64, b: i64) -> Result<Option<Item<'a>>, EvalError> {
    let result = match op {
        BinaryOp::Add => a.checked_add(b),
        BinaryOp::Subtract => a.checked_sub(b),
        BinaryOp::Multiply => a.checked_mul(b),
        // Division by zero gives empty, not an error.
        BinaryOp::IntegerDivide | BinaryOp::Modulo if b == 0 => return Ok(None),
        BinaryOp::IntegerDivide => a.checked_div(b),
        _ => a.checked_rem(b),
    };
    result.map(|value| Some(Item::Integer(value))).ok_or_else(|| EvalError::overflow(op.symbol()))
}

fn decimal_arithmetic<'a>(op: BinaryOp, a: &Decimal, b: &Decimal) -> Result<Option<Item<'a>>, EvalError> {
    let divides = matches!(op, BinaryOp::Divide | BinaryOp::IntegerDivide | BinaryOp::Modulo);
    if divides && b.is_zero() {
        return Ok(None);
    }
    let result = match op {
        BinaryOp::Add => a.checked_add(b).map(Item::Decimal),
        BinaryOp::Subtract => a.checked_sub(b).map(Item::Decimal),
        BinaryOp::Multiply => a.checked_mul(b).map(Item::Decimal),
        BinaryOp::Divide => a.checked_div(b).map(Item::Decimal),
        BinaryOp::IntegerDivide => a.checked_div_trunc(b).and_then(|q| i64::try_from(q).ok()).map(Item::Integer),
        _ => a.checked_rem(b).map(Item::Decimal),
    };
    result.map(Some).ok_or_else(|| EvalError::overflow(op.symbol()))
}

/// Quantities add and subtract when their units are equal; a quantity scales by a number.
fn quantity_arithmetic<'a>(op: BinaryOp, l: &Item, r: &Item) -> Result<Option<Item<'a>>, EvalError> {
    let operator = op.symbol();
    let type_error = || {
        EvalError::type_error(
            operator,
            format!("not defined for {} and {}", l.type_description(), r.type_description()),
        )
    };
    let quantity = |value: Option<Decimal>, unit: &str| {
        value
            .map(|value| Some(Item::Quantity(Quantity { value, unit: unit.to_owned() })))
            .ok_or_else(|| EvalError::overflow(operator))
    };
    match (l.as_quantity(), r.as_quantity(), as_decimal(l), as_decimal(r)) {
        (Some(a), Some(b), _, _) if matches!(op, BinaryOp::Add | BinaryOp::Subtract) => {
            if a.normalized_unit() != b.normalized_unit() {
                return Err(EvalError::unsupported(format!(
                    "'{operator}' on quantities with different units ('{}' and '{}') needs UCUM conversion",
                    a.unit, b.unit
                )));
            }
            let value = if op == BinaryOp::Add { a.value.checked_add(&b.value) } else { a.value.checked_sub(&b.value) };
            quantity(value, &a.unit)
        }
        (Some(_), Some(_), _, _) => {
            Err(EvalError::unsupported(format!("'{operator}' of two quantities needs UCUM unit algebra")))
        }
        (Some(a), None, _, Some(n)) if op == BinaryOp::Multiply => quantity(a.value.checked_mul(&n), &a.unit),
        (None, Some(b), Some(n), _) if op == BinaryOp::Multiply => quantity(b.value.checked_mul(&n), &b.unit),
        (Some(a), None, _, Some(n)) if op == BinaryOp::Divide => {
            if n.is_zero() {
                return Ok(None);
            }
            quantity(a.value.checked_div(&n), &a.unit)
        }
        _ => Err(type_error()),
    }
}

/// Date/time plus or minus a calendar duration (`@2020-01-31 + 1 month`).
fn temporal_arithmetic<'a>(op: BinaryOp, value: &Item, quantity: &Quantity) -> Result<Option<Item<'a>>, EvalError> {
    let operator = op.symbol();
    if !matches!(op, BinaryOp::Add | BinaryOp::Subtract) {
        return Err(EvalError::type_error(operator, "only + and - are defined for dates and times"));
    }
    let Some(unit) = TimeUnit::from_unit(&quantity.unit) else {
        return Err(EvalError::unsupported(format!(
            "date arithmetic with unit '{}' (use a calendar duration such as 1 year or 2 days)",
            quantity.unit
        )));
    };
    // Above seconds the fraction of the amount is ignored (calendar semantics); fractional seconds
    // are carried as milliseconds.
    let (amount, unit) = match unit {
        TimeUnit::Second if !quantity.value.is_integral() => {
            let millis = quantity.value.checked_mul(&Decimal::from_integer(1000)).and_then(|ms| ms.truncate());
            (millis, TimeUnit::Millisecond)
        }
        unit => (quantity.value.truncate(), unit),
    };
    let amount = amount.and_then(|a| i64::try_from(a).ok()).ok_or_else(|| EvalError::overflow(operator))?;
    let amount = if op == BinaryOp::Subtract {
        amount.checked_neg().ok_or_else(|| EvalError::overflow(operator))?
    } else {
        amount
    };
    let shifted = match value {
        Item::Date(date) => date.add(amount, unit).map(Item::Date),
        Item::DateTime(date_time) => date_time.add(amount, unit).map(Item::DateTime),
        Item::Time(time) if unit >= TimeUnit::Hour => time.add(amount, unit).map(Item::Time),
        Item::Time(_) => return Err(EvalError::type_error(operator, "a time can only be shifted by hours or less")),
        _ => None,
    };
    shifted.map(Some).ok_or_else(|| EvalError::overflow(operator))
}
