//! The assert operators (`equals` ... `eval`) over what was found (zero or more values, as text)
//! and the expected value. The positive operators (`equals`, `in`, `greaterThan`, `lessThan`,
//! `contains`) hold when something was found and every value satisfies them; their negations
//! (`notEquals`, `notIn`, `notContains`) hold when no value satisfies the positive form, so an
//! absent header does "not equal" anything. `greaterThan`/`lessThan` compare as numbers when both
//! sides are numbers, else as text (which orders FHIR dates of equal precision correctly).

use std::cmp::Ordering;

/// An assert operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    Equals,
    NotEquals,
    In,
    NotIn,
    GreaterThan,
    LessThan,
    Empty,
    NotEmpty,
    Contains,
    NotContains,
    Eval,
}

impl Operator {
    /// The operator `code` names; `default` when absent.
    pub fn parse(code: Option<&str>, default: Operator) -> Result<Operator, String> {
        Ok(match code {
            None => default,
            Some("equals") => Operator::Equals,
            Some("notEquals") => Operator::NotEquals,
            Some("in") => Operator::In,
            Some("notIn") => Operator::NotIn,
            Some("greaterThan") => Operator::GreaterThan,
            Some("lessThan") => Operator::LessThan,
            Some("empty") => Operator::Empty,
            Some("notEmpty") => Operator::NotEmpty,
            Some("contains") => Operator::Contains,
            Some("notContains") => Operator::NotContains,
            Some("eval") => Operator::Eval,
            Some(other) => return Err(format!("the operator {other:?} is not a TestScript operator")),
        })
    }

    /// How the operator reads in a check's text.
    pub fn words(self) -> &'static str {
        match self {
            Operator::Equals => "equals",
            Operator::NotEquals => "does not equal",
            Operator::In => "is one of",
            Operator::NotIn => "is none of",
            Operator::GreaterThan => "is greater than",
            Operator::LessThan => "is less than",
            Operator::Empty => "is empty",
            Operator::NotEmpty => "is not empty",
            Operator::Contains => "contains",
            Operator::NotContains => "does not contain",
            Operator::Eval => "is true",
        }
    }

    /// Whether the operator takes no value.
    pub fn unary(self) -> bool {
        matches!(self, Operator::Empty | Operator::NotEmpty | Operator::Eval)
    }

    /// Whether `found` satisfies the operator against `expected` (`eval` is decided elsewhere and
    /// never holds here).
    pub fn holds(self, found: &[String], expected: &str) -> bool {
        let all = |test: &dyn Fn(&str) -> bool| !found.is_empty() && found.iter().all(|value| test(value));
        let none = |test: &dyn Fn(&str) -> bool| !found.iter().any(|value| test(value));
        let listed = |value: &str| expected.split(',').any(|item| item.trim() == value);
        match self {
            Operator::Equals => all(&|value| equal(value, expected)),
            Operator::NotEquals => none(&|value| equal(value, expected)),
            Operator::In => all(&listed),
            Operator::NotIn => none(&listed),
            Operator::GreaterThan => all(&|value| order(value, expected) == Ordering::Greater),
            Operator::LessThan => all(&|value| order(value, expected) == Ordering::Less),
            Operator::Empty => found.is_empty(),
            Operator::NotEmpty => !found.is_empty(),
            Operator::Contains => all(&|value| value.contains(expected)),
            Operator::NotContains => none(&|value| value.contains(expected)),
            Operator::Eval => false,
        }
    }
}

/// Equal as text, or as numbers (`2.0` equals `2`).
fn equal(found: &str, expected: &str) -> bool {
    found == expected || matches!((number(found), number(expected)), (Some(a), Some(b)) if a == b)
}

fn order(found: &str, expected: &str) -> Ordering {
    match (number(found), number(expected)) {
        (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        _ => found.cmp(expected),
    }
}

fn number(text: &str) -> Option<f64> {
    let text = text.trim();
    let numeric = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'));
    if numeric { text.parse().ok() } else { None }
}

/// What was found, for a check's text: `"a", "b"` or `nothing`.
pub(crate) fn shown(found: &[String]) -> String {
    if found.is_empty() {
        return "nothing".into();
    }
    let mut shown: Vec<String> = found.iter().take(5).map(|value| format!("{value:?}")).collect();
    if found.len() > 5 {
        shown.push(format!("and {} more", found.len() - 5));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| (*value).to_owned()).collect()
    }

    #[test]
    fn positive_operators_need_a_value_and_every_value_to_satisfy_them() {
        assert!(Operator::Equals.holds(&found(&["200"]), "200"));
        assert!(Operator::Equals.holds(&found(&["2.0"]), "2"));
        assert!(!Operator::Equals.holds(&found(&[]), "200"));
        assert!(!Operator::Equals.holds(&found(&["a", "b"]), "a"));
        assert!(Operator::In.holds(&found(&["201"]), "200, 201"));
        assert!(!Operator::In.holds(&found(&["404"]), "200,201"));
        assert!(Operator::GreaterThan.holds(&found(&["10"]), "9"));
        assert!(!Operator::GreaterThan.holds(&found(&["10"]), "10"));
        assert!(Operator::LessThan.holds(&found(&["2020-01-01"]), "2021-01-01"));
        assert!(Operator::Contains.holds(&found(&["application/fhir+json"]), "json"));
        assert!(!Operator::Contains.holds(&found(&[]), "json"));
    }

    #[test]
    fn negations_hold_when_no_value_satisfies_the_positive_form() {
        assert!(Operator::NotEquals.holds(&found(&[]), "x"));
        assert!(Operator::NotEquals.holds(&found(&["y", "z"]), "x"));
        assert!(!Operator::NotEquals.holds(&found(&["y", "x"]), "x"));
        assert!(Operator::NotIn.holds(&found(&["404"]), "200,201"));
        assert!(Operator::NotContains.holds(&found(&["abc"]), "x"));
        assert!(!Operator::NotContains.holds(&found(&["abc"]), "b"));
    }

    #[test]
    fn empty_and_not_empty_count_values() {
        assert!(Operator::Empty.holds(&found(&[]), ""));
        assert!(!Operator::Empty.holds(&found(&["x"]), ""));
        assert!(Operator::NotEmpty.holds(&found(&["x"]), ""));
    }

    #[test]
    fn operator_codes_parse_and_unknown_ones_do_not() {
        assert_eq!(Operator::parse(None, Operator::Equals), Ok(Operator::Equals));
        assert_eq!(Operator::parse(Some("notContains"), Operator::Equals), Ok(Operator::NotContains));
        assert!(Operator::parse(Some("matches"), Operator::Equals).is_err());
    }
}
