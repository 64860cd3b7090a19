//! The numbers FHIR JSON may carry here. FHIR's numeric types are `integer` (32-bit signed),
//! `unsignedInt` and `positiveInt` (0 or 1 to 2,147,483,647) and `decimal`, which must keep the
//! precision it was written with and for which "the limits documented in XML Schema apply": a
//! processor need support no more than 18 digits (XML Schema 1.0 part 2, §3.2.3 `decimal`,
//! minimally conforming: totalDigits 18). So, for every number in a resource:
//!
//! - **at most 18 digits** ([`MAX_DIGITS`]; every digit written counts, the zero of `0.5` before
//!   the point excepted, since trailing zeros carry precision): a 100,000-digit number, or any
//!   number beyond what a decimal of 18 digits holds, is refused;
//! - **no exponent**: R4's grammar allows `1.5e3`, but the service stores numbers exactly as
//!   sent, and its JSON layer rewrites an exponent (`1e5` becomes `1e+5`); such a number could not
//!   be kept as sent, and without an exponent the 18 digits bound its size too (`1e999999`).
//!
//! JSON's own grammar already excludes leading zeros, a leading `+`, `NaN` and infinities. The
//! ranges of `integer`, `unsignedInt` and `positiveInt` depend on the element's type and are
//! checked where the type is known (writing the resource as FHIR XML, `fhir-xml`).

use std::fmt;

/// The most digits a number may have.
pub const MAX_DIGITS: usize = 18;

/// Why a number is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberError {
    /// Written with an exponent.
    Exponent,
    /// More than [`MAX_DIGITS`] digits (the count is given).
    TooManyDigits(usize),
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberError::Exponent => f.write_str(
                "a number with an exponent is not accepted: numbers are kept exactly as written; \
                 write it out in plain decimal notation",
            ),
            NumberError::TooManyDigits(digits) => {
                write!(f, "a number of {digits} digits is not accepted: FHIR decimals hold at most {MAX_DIGITS}")
            }
        }
    }
}

/// Checks a JSON number's text (already valid JSON) against the bounds above.
pub fn check_number(text: &str) -> Result<(), NumberError> {
    if text.bytes().any(|byte| byte == b'e' || byte == b'E') {
        return Err(NumberError::Exponent);
    }
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = if whole == "0" { 0 } else { whole.len() } + fraction.len();
    if digits > MAX_DIGITS { Err(NumberError::TooManyDigits(digits)) } else { Ok(()) }
}

/// Whether a JSON number's text is an integer in `min..=max` (no fraction, no exponent).
pub fn is_integer_within(text: &str, min: i64, max: i64) -> bool {
    // Eighteen digits fit an i64; more are out of every range asked for here anyway.
    text.len() <= 20 && text.parse::<i64>().is_ok_and(|value| (min..=max).contains(&value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_numbers_of_up_to_eighteen_digits_pass() {
        for good in [
            "0",
            "-0",
            "72.50",
            "-2147483648",
            "123456789012345678",
            "0.000000000000000001",
            "1.00000000000000000",
            "52.0907374",
            "0.30000000000000004",
        ] {
            assert_eq!(check_number(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn exponents_and_long_numbers_are_refused() {
        for exponent in ["1e999999", "1e+999999", "1.5E3", "2e-5"] {
            assert_eq!(check_number(exponent), Err(NumberError::Exponent), "{exponent}");
        }
        assert_eq!(check_number("1234567890123456789"), Err(NumberError::TooManyDigits(19)));
        assert_eq!(check_number("0.0000000000000000001"), Err(NumberError::TooManyDigits(19)));
        assert_eq!(check_number(&"9".repeat(100_000)), Err(NumberError::TooManyDigits(100_000)));
    }

    #[test]
    fn integer_ranges() {
        assert!(is_integer_within("2147483647", 1, 2_147_483_647));
        assert!(!is_integer_within("2147483648", 1, 2_147_483_647));
        assert!(!is_integer_within("0", 1, 2_147_483_647));
        assert!(is_integer_within("0", 0, 2_147_483_647));
        assert!(!is_integer_within("1.0", 0, 2_147_483_647));
        assert!(is_integer_within("-2147483648", -2_147_483_648, 2_147_483_647));
        assert!(!is_integer_within(&"9".repeat(40), 0, 2_147_483_647));
    }
}
