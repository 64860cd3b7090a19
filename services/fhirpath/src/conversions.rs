//! Functions on a single value: string functions, type conversions (`toInteger()`, `toString()`...)
//! and math. Each takes a singleton input; empty input gives empty output.

use regex::Regex;

use crate::compare::as_decimal;
use crate::decimal::Decimal;
use crate::error::{EvalError, EvalErrorKind};
use crate::operators::{integer_singleton, singleton};
use crate::temporal::{Date, DateTime, Time};
use crate::value::{CALENDAR_UNITS, Collection, Item, Quantity};

/// Calls one of the value functions. `arg(i)` evaluates the i-th argument (empty when absent).
pub(crate) fn call<'a>(
    name: &str,
    input: Collection<'a>,
    arg: &dyn Fn(usize) -> Result<Collection<'a>, EvalError>,
    op: &str,
) -> Result<Collection<'a>, EvalError> {
    let Some(item) = singleton(&input, op)? else {
        return Ok(Vec::new());
    };
    let item = item.to_system();
    if let Some(converted) = conversion(name, &item, arg, op)? {
        return Ok(converted);
    }
    if let Some(result) = math(name, &item, arg, op)? {
        return Ok(result);
    }
    let Item::String(text) = &item else {
        return Err(EvalError::type_error(op, format!("expected a String, got {}", item.type_description())));
    };
    string_function(name, text, arg, op)
}

fn one<'a>(item: Item<'a>) -> Collection<'a> {
    vec![item]
}

/// A String argument; `None` when the argument is empty.
fn string_arg<'a>(
    arg: &dyn Fn(usize) -> Result<Collection<'a>, EvalError>,
    index: usize,
    op: &str,
) -> Result<Option<String>, EvalError> {
    let values = arg(index)?;
    match singleton(&values, op)? {
        None => Ok(None),
        Some(item) => match item.as_str() {
            Some(text) => Ok(Some(text.to_owned())),
            None => Err(EvalError::type_error(op, format!("expected a String argument, got {item}"))),
        },
    }
}

fn string_function<'a>(
    name: &str,
    text: &str,
    arg: &dyn Fn(usize) -> Result<Collection<'a>, EvalError>,
    op: &str,
) -> Result<Collection<'a>, EvalError> {
    let chars: Vec<char> = text.chars().collect();
    let char_count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    // Functions with one String argument give empty when the argument is empty.
    let with_string_arg = |f: &dyn Fn(&str) -> Item<'a>| -> Result<Collection<'a>, EvalError> {
        Ok(string_arg(arg, 0, op)?.map(|s| f(&s)).into_iter().collect())
    };
    match name {
        "startsWith" => with_string_arg(&|prefix| Item::Boolean(text.starts_with(prefix))),
        "endsWith" => with_string_arg(&|suffix| Item::Boolean(text.ends_with(suffix))),
        "contains" => with_string_arg(&|part| Item::Boolean(text.contains(part))),
        "indexOf" => with_string_arg(&|part| {
            let index = text.find(part).map_or(-1, |byte| char_count(text[..byte].chars().count()));
            Item::Integer(index)
        }),
        "matches" => {
            let Some(pattern) = string_arg(arg, 0, op)? else {
                return Ok(Vec::new());
            };
            Ok(one(Item::Boolean(compile(&pattern)?.is_match(text))))
        }
        "replaceMatches" => {
            let (Some(pattern), Some(substitution)) = (string_arg(arg, 0, op)?, string_arg(arg, 1, op)?) else {
                return Ok(Vec::new());
            };
            let substitution = braced_group_references(&substitution);
            Ok(one(Item::String(compile(&pattern)?.replace_all(text, substitution.as_str()).into_owned())))
        }
        "replace" => {
            let (Some(pattern), Some(substitution)) = (string_arg(arg, 0, op)?, string_arg(arg, 1, op)?) else {
                return Ok(Vec::new());
            };
            Ok(one(Item::String(text.replace(&pattern, &substitution))))
        }
        "substring" => {
            let Some(start) = integer_singleton(&arg(0)?, op)? else {
                return Ok(Vec::new());
            };
            let length = integer_singleton(&arg(1)?, op)?;
            let (Ok(start), true) = (usize::try_from(start), start < char_count(chars.len())) else {
                return Ok(Vec::new());
            };
            let length = length.map_or(usize::MAX, |l| usize::try_from(l.max(0)).unwrap_or(usize::MAX));
            Ok(one(Item::String(chars.iter().skip(start).take(length).collect())))
        }
        "upper" => Ok(one(Item::String(text.to_uppercase()))),
        "lower" => Ok(one(Item::String(text.to_lowercase()))),
        "length" => Ok(one(Item::Integer(char_count(chars.len())))),
        "toChars" => Ok(chars.iter().map(|c| Item::String(c.to_string())).collect()),
        _ => Err(EvalError::unsupported(format!("function {name}()"))),
    }
}

/// `$1` becomes `${1}`: the regex crate would read `$1x` as a group named `1x`, FHIRPath means group 1.
fn braced_group_references(substitution: &str) -> String {
    let mut output = String::with_capacity(substitution.len());
    let mut chars = substitution.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            output.push_str("${");
            while let Some(digit) = chars.next_if(char::is_ascii_digit) {
                output.push(digit);
            }
            output.push('}');
        } else {
            output.push(c);
        }
    }
    output
}

/// Regexes per the spec: case-sensitive, `.` matching newlines, Unicode.
fn compile(pattern: &str) -> Result<Regex, EvalError> {
    Regex::new(&format!("(?s){pattern}"))
        .map_err(|error| EvalErrorKind::InvalidRegex { pattern: pattern.to_owned(), message: error.to_string() }.into())
}

/// `toX()` and `convertsToX()`; `None` when `name` is not a conversion.
fn conversion<'a>(
    name: &str,
    item: &Item<'a>,
    arg: &dyn Fn(usize) -> Result<Collection<'a>, EvalError>,
    op: &str,
) -> Result<Option<Collection<'a>>, EvalError> {
    let (target, checks_only) = match (name.strip_prefix("to"), name.strip_prefix("convertsTo")) {
        (_, Some(target)) => (target, true),
        (Some(target), None) if target != "Chars" => (target, false),
        _ => return Ok(None),
    };
    let converted = match target {
        "Boolean" => to_boolean(item),
        "Integer" => to_integer(item),
        "Decimal" => to_decimal(item),
        "String" => to_string(item).map(Item::String),
        "Date" => match item {
            Item::Date(_) => Some(item.clone()),
            Item::DateTime(d) => Some(Item::Date(d.date())),
            Item::String(s) => Date::parse(s).map(Item::Date),
            _ => None,
        },
        "DateTime" => match item {
            Item::DateTime(_) => Some(item.clone()),
            Item::Date(d) => Some(Item::DateTime(d.to_date_time())),
            Item::String(s) => DateTime::parse(s).map(Item::DateTime),
            _ => None,
        },
        "Time" => match item {
            Item::Time(_) => Some(item.clone()),
            Item::String(s) => Time::parse(s).map(Item::Time),
            _ => None,
        },
        "Quantity" => to_quantity(item, string_arg(arg, 0, op)?.as_deref())?,
        _ => return Ok(None),
    };
    Ok(Some(if checks_only { one(Item::Boolean(converted.is_some())) } else { converted.into_iter().collect() }))
}

fn to_boolean<'a>(item: &Item) -> Option<Item<'a>> {
    let value = match item {
        Item::Boolean(b) => *b,
        Item::Integer(1) => true,
        Item::Integer(0) => false,
        Item::Decimal(d) if *d == Decimal::from_integer(1) => true,
        Item::Decimal(d) if d.is_zero() => false,
        Item::String(s) => match s.to_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" | "1.0" => true,
            "false" | "f" | "no" | "n" | "0" | "0.0" => false,
            _ => return None,
        },
        _ => return None,
    };
    Some(Item::Boolean(value))
}

fn to_integer<'a>(item: &Item) -> Option<Item<'a>> {
    match item {
        Item::Integer(i) => Some(Item::Integer(*i)),
        Item::Boolean(b) => Some(Item::Integer(i64::from(*b))),
        Item::String(s) => {
            let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
            let valid = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
            valid.then(|| s.parse().ok()).flatten().map(Item::Integer)
        }
        _ => None,
    }
}

fn to_decimal<'a>(item: &Item) -> Option<Item<'a>> {
    match item {
        Item::Integer(_) | Item::Decimal(_) => as_decimal(item).map(Item::Decimal),
        Item::Boolean(b) => Some(Item::Decimal(Decimal::new(if *b { 10 } else { 0 }, 1))),
        // Decimal::parse also takes exponents, which FHIRPath decimal strings do not allow.
        Item::String(s) if !s.contains(['e', 'E']) => Decimal::parse(s).map(Item::Decimal),
        _ => None,
    }
}

fn to_string(item: &Item) -> Option<String> {
    Some(match item {
        Item::String(s) => s.clone(),
        Item::Boolean(b) => b.to_string(),
        Item::Integer(i) => i.to_string(),
        Item::Decimal(d) => d.to_string(),
        Item::Date(d) => d.to_string(),
        Item::DateTime(d) => d.to_string(),
        Item::Time(t) => t.to_string(),
        Item::Quantity(q) => q.to_string(),
        Item::Node(_) => return None,
    })
}

/// A quantity from a number (unit `'1'`), a quantity, or a string such as `4 'mg'` or `2 days`.
/// Converting to another unit needs UCUM and is unsupported.
fn to_quantity<'a>(item: &Item, unit: Option<&str>) -> Result<Option<Item<'a>>, EvalError> {
    let quantity = match item {
        Item::Integer(_) | Item::Decimal(_) => as_decimal(item).map(|value| Quantity { value, unit: "1".into() }),
        Item::Boolean(b) => Some(Quantity { value: Decimal::new(if *b { 10 } else { 0 }, 1), unit: "1".into() }),
        Item::String(s) => parse_quantity(s),
        Item::Node(_) | Item::Quantity(_) => item.as_quantity(),
        _ => None,
    };
    match (quantity, unit) {
        (Some(q), Some(unit)) if q.unit != unit => {
            Err(EvalError::unsupported(format!("toQuantity('{unit}') from '{}' needs UCUM unit conversion", q.unit)))
        }
        (quantity, _) => Ok(quantity.map(Item::Quantity)),
    }
}

fn parse_quantity(text: &str) -> Option<Quantity> {
    let text = text.trim();
    let (number, unit) = text.split_once(' ').unwrap_or((text, ""));
    let value = Decimal::parse(number).filter(|_| !number.contains(['e', 'E']))?;
    let unit = unit.trim();
    let unit = if unit.is_empty() {
        "1"
    } else if let Some(quoted) = unit.strip_prefix('\'').and_then(|u| u.strip_suffix('\'')) {
        quoted
    } else if CALENDAR_UNITS.contains(&unit) {
        unit
    } else {
        return None;
    };
    Some(Quantity { value, unit: unit.to_owned() })
}

/// `abs`, `ceiling`, `floor`, `round`, `truncate`; `None` when `name` is not one of them.
fn math<'a>(
    name: &str,
    item: &Item<'a>,
    arg: &dyn Fn(usize) -> Result<Collection<'a>, EvalError>,
    op: &str,
) -> Result<Option<Collection<'a>>, EvalError> {
    if !matches!(name, "abs" | "ceiling" | "floor" | "round" | "truncate") {
        return Ok(None);
    }
    let overflow = || EvalError::overflow(op);
    let integer = |value: Option<i128>| -> Result<Option<Collection<'a>>, EvalError> {
        let value = value.and_then(|v| i64::try_from(v).ok()).ok_or_else(overflow)?;
        Ok(Some(one(Item::Integer(value))))
    };
    match (name, item) {
        ("abs", Item::Integer(i)) => Ok(Some(one(Item::Integer(i.checked_abs().ok_or_else(overflow)?)))),
        ("abs", Item::Decimal(d)) => Ok(Some(one(Item::Decimal(d.abs().ok_or_else(overflow)?)))),
        ("abs", Item::Quantity(q)) => {
            let value = q.value.abs().ok_or_else(overflow)?;
            Ok(Some(one(Item::Quantity(Quantity { value, unit: q.unit.clone() }))))
        }
        (_, Item::Integer(i)) if name != "round" => Ok(Some(one(Item::Integer(*i)))),
        ("ceiling", Item::Decimal(d)) => integer(d.negate().and_then(|n| n.floor()).and_then(i128::checked_neg)),
        ("floor", Item::Decimal(d)) => integer(d.floor()),
        ("truncate", Item::Decimal(d)) => integer(d.truncate()),
        ("round", Item::Integer(_) | Item::Decimal(_)) => {
            let precision = integer_singleton(&arg(0)?, op)?.unwrap_or(0);
            let precision =
                u32::try_from(precision).map_err(|_| EvalError::type_error(op, "precision must not be negative"))?;
            let value = as_decimal(item).ok_or_else(overflow)?;
            Ok(Some(one(Item::Decimal(value.round(precision)))))
        }
        _ => Err(EvalError::type_error(op, format!("expected a number, got {}", item.type_description()))),
    }
}
