//! Decimal search values (FHIR R4 §3.1.1.4.1 "number", the same in STU3) and how the prefixes
//! compare them with a stored number: a value stands for the range its written precision implies
//! (`5.4` for [5.35, 5.45), `100` for [99.5, 100.5), `1e2` for [50, 150): one significant
//! figure), which `eq`, `ne`, `sa` and `eb` use; `gt`, `lt`, `ge` and `le` compare with the value
//! itself; `ap` takes 10% of the value either side (or the precision's range, when wider).
//!
//! Stored numbers are points, kept as doubles. The bounds are computed exactly in decimal and
//! only then turned into doubles, so a stored `5.35` (the double nearest 5.35) is at the range's
//! low bound, and `5.45` just outside it, as in decimal.

use super::condition::{Comparison, Condition};
use super::prefix::Prefix;
use std::cmp::Ordering;

/// A number as a search value: its value and the range its precision implies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decimal {
    /// The value.
    pub value: f64,
    /// The start of its range (included).
    pub low: f64,
    /// The end of its range (excluded).
    pub high: f64,
}

/// The most significant digits read; a longer number is refused rather than rounded.
const MAX_DIGITS: usize = 30;

impl Decimal {
    /// Reads FHIR's decimal (`-12.50`, `1e2`, `0.5E-3`), or says why not.
    pub fn parse(text: &str) -> Result<Decimal, String> {
        let not_a_number = || format!("'{text}' is not a number");
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(at) => {
                let exponent = &text[at + 1..];
                let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
                if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(not_a_number());
                }
                (&text[..at], exponent.parse::<i32>().map_err(|_| not_a_number())?)
            }
            None => (text, 0),
        };
        let (negative, unsigned) = match mantissa.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, mantissa),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let well_formed = !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && fraction.bytes().all(|b| b.is_ascii_digit())
            && !(unsigned.contains('.') && fraction.is_empty());
        if !well_formed {
            return Err(not_a_number());
        }
        let digits = format!("{whole}{fraction}");
        let significant = digits.trim_start_matches('0');
        if significant.len() > MAX_DIGITS {
            return Err(format!("'{text}' has more than {MAX_DIGITS} significant digits"));
        }
        let mut units: i128 = significant.parse().unwrap_or(0);
        if negative {
            units = -units;
        }
        // value = units × 10^scale; half a unit of the last digit = 5 × 10^(scale - 1).
        let fraction_digits = i32::try_from(fraction.len()).map_err(|_| not_a_number())?;
        let scale = exponent - fraction_digits;
        let as_double = |tenths: i128| -> Result<f64, String> {
            let double = format!("{tenths}e{}", scale - 1).parse::<f64>().map_err(|_| not_a_number())?;
            if double.is_finite() { Ok(double) } else { Err(format!("'{text}' is out of range")) }
        };
        Ok(Decimal { value: as_double(units * 10)?, low: as_double(units * 10 - 5)?, high: as_double(units * 10 + 5)? })
    }

    /// What a stored number in `column` must be to match this value under `prefix`.
    pub(crate) fn condition(&self, prefix: Prefix, column: &'static str) -> Condition {
        let at = Condition::compare;
        match prefix {
            Prefix::Eq => {
                Condition::All(vec![at(column, Comparison::Ge, self.low), at(column, Comparison::Lt, self.high)])
            }
            Prefix::Ne => {
                Condition::Any(vec![at(column, Comparison::Lt, self.low), at(column, Comparison::Ge, self.high)])
            }
            Prefix::Gt => at(column, Comparison::Gt, self.value),
            Prefix::Lt => at(column, Comparison::Lt, self.value),
            Prefix::Ge => at(column, Comparison::Ge, self.value),
            Prefix::Le => at(column, Comparison::Le, self.value),
            Prefix::Sa => at(column, Comparison::Ge, self.high),
            Prefix::Eb => at(column, Comparison::Lt, self.low),
            Prefix::Ap => {
                let margin = self.value.abs() / 10.0;
                let low = self.low.min(self.value - margin);
                let high = self.high.max(self.value + margin);
                Condition::All(vec![at(column, Comparison::Ge, low), at(column, Comparison::Le, high)])
            }
        }
    }
}

/// A stored number: a double ordered totally, so that index entries can be sorted and deduplicated.
#[derive(Debug, Clone, Copy)]
pub struct Real(pub f64);

impl Real {
    /// Reads a JSON number as written (`72.50`), if it is one.
    pub(crate) fn of_json(value: &serde_json::Value) -> Option<Real> {
        let number = value.as_number()?;
        number.to_string().parse::<f64>().ok().filter(|value| value.is_finite()).map(Real)
    }
}

impl PartialEq for Real {
    fn eq(&self, other: &Real) -> bool {
        self.0.total_cmp(&other.0) == Ordering::Equal
    }
}

impl Eq for Real {}

impl PartialOrd for Real {
    fn partial_cmp(&self, other: &Real) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Real {
    fn cmp(&self, other: &Real) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> (f64, f64, f64) {
        let decimal = Decimal::parse(text).expect("a number");
        (decimal.low, decimal.value, decimal.high)
    }

    #[test]
    fn the_written_precision_gives_the_range() {
        assert_eq!(range("5.4"), (5.35, 5.4, 5.45));
        assert_eq!(range("100"), (99.5, 100.0, 100.5));
        assert_eq!(range("100.00"), (99.995, 100.0, 100.005));
        assert_eq!(range("-5.4"), (-5.45, -5.4, -5.35));
        assert_eq!(range("0"), (-0.5, 0.0, 0.5));
        assert_eq!(range("1e2"), (50.0, 100.0, 150.0));
        assert_eq!(range("2.5E-1"), (0.245, 0.25, 0.255));
        assert_eq!(range("0.0050"), (0.00495, 0.005, 0.00505));
    }

    #[test]
    fn what_is_no_number_is_refused() {
        for text in ["", "abc", "5.", ".5", "+5", "5,4", "1e", "1e+", "5.4.1", "1e99999", "--1", "0x10", "5 "] {
            assert!(Decimal::parse(text).is_err(), "{text}");
        }
        assert!(Decimal::parse("1234567890123456789012345678901").is_err());
        assert!(Decimal::parse("0.000000000000000000000000000001234").is_ok());
    }

    #[test]
    fn approximately_is_ten_percent_or_the_precision() {
        let Condition::All(bounds) = Decimal::parse("100").expect("number").condition(Prefix::Ap, "v") else {
            panic!("a range")
        };
        assert_eq!(
            bounds,
            [Condition::compare("v", Comparison::Ge, 90.0), Condition::compare("v", Comparison::Le, 110.0)]
        );
        let Condition::All(bounds) = Decimal::parse("0").expect("number").condition(Prefix::Ap, "v") else {
            panic!("a range")
        };
        assert_eq!(
            bounds,
            [Condition::compare("v", Comparison::Ge, -0.5), Condition::compare("v", Comparison::Le, 0.5)]
        );
    }
}
