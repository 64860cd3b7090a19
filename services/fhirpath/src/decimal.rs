//! Exact decimal numbers for FHIRPath `Decimal`: an `i128` count of units at a given scale.
//!
//! Why not `f64`: FHIR decimals carry their precision (`1.50` is not `1.5` for `~` and `toString()`)
//! and comparisons like `0.1 + 0.2 = 0.3` must be true. An `i128` holds 38 significant digits, far
//! beyond FHIR's 18, so overflow is reported as an error rather than silently rounded.

use std::cmp::Ordering;
use std::fmt;

/// The most fractional digits kept; results with more are rounded (FHIRPath requires at least 8).
const MAX_SCALE: u32 = 28;
/// Fractional digits of a quotient before trailing zeros are trimmed.
const DIVISION_SCALE: u32 = 8;

/// A FHIRPath Decimal: `units / 10^scale`, keeping the scale it was written with.
#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    units: i128,
    scale: u32,
}

impl Decimal {
    pub(crate) fn new(units: i128, scale: u32) -> Self {
        Self { units, scale }
    }

    /// The integer as a decimal with no fractional digits.
    pub fn from_integer(value: i64) -> Self {
        Self { units: i128::from(value), scale: 0 }
    }

    /// Parses decimal text: an optional sign, digits, an optional fraction and an optional exponent
    /// (JSON allows `1e3`). Returns `None` for anything else or for values beyond the representation.
    pub fn parse(text: &str) -> Option<Self> {
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
            None => (text, 0),
        };
        let (negative, digits) = match mantissa.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let valid = |part: &str| part.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !valid(whole) || !valid(fraction) || (digits.contains('.') && fraction.is_empty()) {
            return None;
        }
        let mut units: i128 = format!("{whole}{fraction}").parse().ok()?;
        let mut scale = i64::try_from(fraction.len()).ok()? - i64::from(exponent);
        if scale < 0 {
            units = units.checked_mul(10i128.checked_pow(u32::try_from(-scale).ok()?)?)?;
            scale = 0;
        }
        let scale = u32::try_from(scale).ok()?;
        let value = Self { units: if negative { -units } else { units }, scale };
        Some(if scale > MAX_SCALE { value.round(MAX_SCALE) } else { value })
    }

    /// Number of fractional digits as written or computed.
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// True when there is no fractional part (whatever the scale).
    pub fn is_integral(&self) -> bool {
        self.units % pow10(self.scale).unwrap_or(1) == 0
    }

    /// The value as an `i64` when it is integral and fits.
    pub fn to_i64(&self) -> Option<i64> {
        if !self.is_integral() {
            return None;
        }
        i64::try_from(self.units / pow10(self.scale)?).ok()
    }

    /// Lossy conversion, for callers that need a float.
    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.units == 0
    }

    pub(crate) fn negate(&self) -> Option<Self> {
        Some(Self { units: self.units.checked_neg()?, scale: self.scale })
    }

    pub(crate) fn abs(&self) -> Option<Self> {
        Some(Self { units: self.units.checked_abs()?, scale: self.scale })
    }

    /// Both values at the larger scale, or `None` on overflow.
    fn aligned(&self, other: &Self) -> Option<(i128, i128, u32)> {
        let scale = self.scale.max(other.scale);
        let left = self.units.checked_mul(pow10(scale - self.scale)?)?;
        let right = other.units.checked_mul(pow10(scale - other.scale)?)?;
        Some((left, right, scale))
    }

    pub(crate) fn checked_add(&self, other: &Self) -> Option<Self> {
        let (left, right, scale) = self.aligned(other)?;
        Some(Self { units: left.checked_add(right)?, scale })
    }

    pub(crate) fn checked_sub(&self, other: &Self) -> Option<Self> {
        let (left, right, scale) = self.aligned(other)?;
        Some(Self { units: left.checked_sub(right)?, scale })
    }

    pub(crate) fn checked_mul(&self, other: &Self) -> Option<Self> {
        let product = Self { units: self.units.checked_mul(other.units)?, scale: self.scale + other.scale };
        Some(if product.scale > MAX_SCALE { product.round(MAX_SCALE) } else { product })
    }

    /// Quotient rounded half away from zero to 8 fractional digits, then trimmed of trailing zeros
    /// (keeping one, so the result still reads as a decimal). `None` on division by zero or overflow.
    pub(crate) fn checked_div(&self, other: &Self) -> Option<Self> {
        if other.units == 0 {
            return None;
        }
        // units_q / 10^S = (a / 10^sa) / (b / 10^sb)  =>  units_q = a * 10^(S + sb - sa) / b
        let shift = i64::from(DIVISION_SCALE) + 1 + i64::from(other.scale) - i64::from(self.scale);
        let (numerator, denominator) = if shift >= 0 {
            (self.units.checked_mul(pow10(u32::try_from(shift).ok()?)?)?, other.units)
        } else {
            (self.units, other.units.checked_mul(pow10(u32::try_from(-shift).ok()?)?)?)
        };
        // One extra digit, then round it away.
        let extended = Self { units: numerator / denominator, scale: DIVISION_SCALE + 1 };
        Some(extended.round(DIVISION_SCALE).trimmed(1))
    }

    /// Integer part of the quotient (FHIRPath `div`), `None` on division by zero or overflow.
    pub(crate) fn checked_div_trunc(&self, other: &Self) -> Option<i128> {
        let (left, right, _) = self.aligned(other)?;
        left.checked_div(right)
    }

    /// Remainder with the sign of the dividend (FHIRPath `mod`), `None` on division by zero.
    pub(crate) fn checked_rem(&self, other: &Self) -> Option<Self> {
        let (left, right, scale) = self.aligned(other)?;
        Some(Self { units: left.checked_rem(right)?, scale })
    }

    /// Rounded half away from zero to `scale` fractional digits (never adds digits).
    pub(crate) fn round(&self, scale: u32) -> Self {
        if scale >= self.scale {
            return *self;
        }
        let Some(divisor) = pow10(self.scale - scale) else {
            return Self { units: 0, scale };
        };
        let quotient = self.units / divisor;
        let remainder = self.units % divisor;
        let away = remainder.abs() * 2 >= divisor;
        let units = if away { quotient + self.units.signum() } else { quotient };
        Self { units, scale }
    }

    /// Rounded down to an integer (towards negative infinity).
    pub(crate) fn floor(&self) -> Option<i128> {
        let divisor = pow10(self.scale)?;
        Some(self.units.div_euclid(divisor))
    }

    /// Integer part (towards zero).
    pub(crate) fn truncate(&self) -> Option<i128> {
        Some(self.units / pow10(self.scale)?)
    }

    /// Trailing fractional zeros removed, keeping at least `min_scale` digits.
    pub(crate) fn trimmed(&self, min_scale: u32) -> Self {
        let mut value = *self;
        while value.scale > min_scale && value.units % 10 == 0 {
            value.units /= 10;
            value.scale -= 1;
        }
        value
    }
}

/// Equal by value, like the ordering: `1.0 == 1.00`.
impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Decimal {}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders by value: `1.0 == 1.00` compare equal even though their scales differ.
impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        match self.aligned(other) {
            Some((left, right, _)) => left.cmp(&right),
            // Only reachable near the i128 limit; a float comparison is then accurate enough.
            None => self.to_f64().total_cmp(&other.to_f64()),
        }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.units.unsigned_abs().to_string();
        let sign = if self.units < 0 { "-" } else { "" };
        let scale = usize::try_from(self.scale).unwrap_or(usize::MAX);
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (whole, fraction) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{whole}.{fraction}")
    }
}

fn pow10(exponent: u32) -> Option<i128> {
    10i128.checked_pow(exponent)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    #[test]
    fn parses_and_prints_with_original_precision() {
        for text in ["0", "1.50", "-0.05", "123456789.123456789"] {
            assert_eq!(d(text).to_string(), text);
        }
        assert_eq!(d("1e3").to_string(), "1000");
        assert_eq!(d("15E-1").to_string(), "1.5");
        for bad in ["", "-", "1.", ".5", "1.2.3", "abc", "1e"] {
            assert!(Decimal::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn arithmetic_is_exact() {
        assert_eq!(d("0.1").checked_add(&d("0.2")).unwrap(), d("0.3"));
        assert_eq!(d("1.2").checked_mul(&d("1.5")).unwrap().to_string(), "1.80");
        assert_eq!(d("1").checked_div(&d("3")).unwrap().to_string(), "0.33333333");
        assert_eq!(d("2").checked_div(&d("3")).unwrap().to_string(), "0.66666667");
        assert_eq!(d("10").checked_div(&d("4")).unwrap().to_string(), "2.5");
        assert_eq!(d("10").checked_div(&d("2")).unwrap().to_string(), "5.0");
        assert!(d("1").checked_div(&d("0")).is_none());
        assert_eq!(d("5.5").checked_div_trunc(&d("0.7")).unwrap(), 7);
        assert_eq!(d("5.5").checked_rem(&d("0.7")).unwrap(), d("0.6"));
    }

    #[test]
    fn compares_by_value_and_rounds_half_away_from_zero() {
        assert_eq!(d("1.0").cmp(&d("1.00")), Ordering::Equal);
        assert!(d("-1.5") < d("-1.49"));
        assert_eq!(d("1.25").round(1), d("1.3"));
        assert_eq!(d("-1.25").round(1), d("-1.3"));
        assert_eq!(d("-1.5").floor().unwrap(), -2);
        assert_eq!(d("-1.5").truncate().unwrap(), -1);
    }
}
