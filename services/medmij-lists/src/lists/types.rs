//! The simple types of the MedMij list schemas, checked as an XML Schema 1.0 validator checks
//! them: `DatumTijd` (xs:dateTime, at least 20 characters), `Positiefnummer`
//! (xs:positiveInteger), `Hostname` (xs:string with the lists' pattern) and strings with length
//! bounds. Each check returns what is wrong, for the caller to place at an element path.

/// The text of an element whose type collapses whitespace (xs:dateTime, xs:positiveInteger):
/// a validator strips leading and trailing whitespace before it checks the value.
pub(crate) fn collapsed(text: &str) -> &str {
    text.trim_matches(|character| matches!(character, ' ' | '\t' | '\r' | '\n'))
}

/// `DatumTijd`: an xs:dateTime, restricted by the pattern `.{20,}` (so seconds and a time zone,
/// or a fraction of a second, must be written).
pub(crate) fn check_datum_tijd(text: &str) -> Result<(), String> {
    check_datetime(text).map_err(|why| format!("'{text}' is not an xs:dateTime: {why}"))?;
    if text.chars().count() < 20 {
        return Err(format!("'{text}' is shorter than 20 characters (write the seconds and the time zone)"));
    }
    Ok(())
}

/// The lexical space of xs:dateTime (XML Schema 1.0, part 2, 3.2.7):
/// `-?yyyy-mm-ddThh:mm:ss(.s+)?(Z|(+|-)hh:mm)?`.
fn check_datetime(text: &str) -> Result<(), &'static str> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let year_digits = unsigned.bytes().take_while(u8::is_ascii_digit).count();
    let (year, rest) = unsigned.split_at(year_digits);
    if year.len() < 4 {
        return Err("the year has fewer than four digits");
    }
    if year.len() > 4 && year.starts_with('0') {
        return Err("a year of more than four digits has a leading zero");
    }
    if year.bytes().all(|digit| digit == b'0') {
        return Err("there is no year 0000");
    }
    let rest = rest.as_bytes();
    if rest.len() < 15 || rest[0] != b'-' || rest[3] != b'-' || rest[6] != b'T' || rest[9] != b':' || rest[12] != b':' {
        return Err("the date and time are not written as -mm-ddThh:mm:ss");
    }
    let (month, day) = (two_digits(&rest[1..3])?, two_digits(&rest[4..6])?);
    let (hour, minute, second) = (two_digits(&rest[7..9])?, two_digits(&rest[10..12])?, two_digits(&rest[13..15])?);
    if !(1..=12).contains(&month) {
        return Err("the month is not 01 to 12");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("the month has no such day");
    }
    let mut rest = &rest[15..];
    let mut fraction_is_zero = true;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|byte| byte.is_ascii_digit()).count();
        if digits == 0 {
            return Err("the fraction of a second has no digits");
        }
        fraction_is_zero = fraction[..digits].iter().all(|&digit| digit == b'0');
        rest = &fraction[digits..];
    }
    let end_of_day = hour == 24 && minute == 0 && second == 0 && fraction_is_zero;
    if (hour > 23 && !end_of_day) || minute > 59 || second > 59 {
        return Err("the time of day is out of range");
    }
    check_zone(rest)
}

/// The optional time zone: `Z` or `(+|-)hh:mm`, at most 14:00 either way.
fn check_zone(zone: &[u8]) -> Result<(), &'static str> {
    match zone {
        [] | [b'Z'] => Ok(()),
        [b'+' | b'-', hours @ .., b':', m1, m2] if hours.len() == 2 => {
            let (hours, minutes) = (two_digits(hours)?, two_digits(&[*m1, *m2])?);
            if hours > 14 || minutes > 59 || (hours == 14 && minutes > 0) {
                return Err("the time zone is out of range");
            }
            Ok(())
        }
        _ => Err("the time zone is not Z or (+|-)hh:mm"),
    }
}

fn two_digits(bytes: &[u8]) -> Result<u32, &'static str> {
    match bytes {
        [tens @ b'0'..=b'9', ones @ b'0'..=b'9'] => Ok(u32::from(tens - b'0') * 10 + u32::from(ones - b'0')),
        _ => Err("a field of two digits is not two digits"),
    }
}

/// The days of a month in the proleptic Gregorian calendar; only the year's last four digits matter.
fn days_in_month(year: &str, month: u32) -> u32 {
    let last_four = year.get(year.len().saturating_sub(4)..).unwrap_or(year);
    let year = last_four.parse::<u32>().unwrap_or(0);
    // A whole century (…00) is a leap year only when the full year divides by 400. With only
    // the last four digits known that is decided by them, since 10000 divides by 400.
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `Positiefnummer`: an xs:positiveInteger that fits in 64 bits.
pub(crate) fn check_positive_integer(text: &str) -> Result<u64, String> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("'{text}' is not a positive integer"));
    }
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Err(format!("'{text}' is not a positive integer: it is zero"));
    }
    significant.parse::<u64>().map_err(|_| format!("'{text}' is larger than this service accepts ({})", u64::MAX))
}

/// `Hostname`: the pattern `(([a-z0-9])([a-z0-9-])*(\.))+([a-z0-9])([a-z0-9-])*([a-z0-9])`, that
/// is two or more dot-separated labels of lower-case letters, digits and hyphens, each starting
/// with a letter or digit, the last one at least two characters long and not ending in a hyphen.
pub(crate) fn check_hostname(text: &str) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("'{text}' is not a host name as the list's schema has it: {why}"));
    let labels: Vec<&str> = text.split('.').collect();
    let Some((last, first)) = labels.split_last() else {
        return refuse("it is empty");
    };
    if first.is_empty() {
        return refuse("it has no dot");
    }
    let allowed = |byte: u8| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-';
    let starts_well = |label: &str| label.bytes().next().is_some_and(|byte| byte != b'-' && allowed(byte));
    for label in labels.iter() {
        if !label.bytes().all(allowed) {
            return refuse("only a-z, 0-9, '-' and '.' are allowed");
        }
        if !starts_well(label) {
            return refuse("a label is empty or starts with '-'");
        }
    }
    if last.len() < 2 || last.ends_with('-') {
        return refuse("the last label is shorter than two characters or ends with '-'");
    }
    Ok(())
}

/// `GegevensdienstId`: a string of 1 to 30 characters (in practice a number such as `48`).
pub(crate) fn check_data_service_id(text: &str) -> Result<(), String> {
    check_length(text, 1, 30)
}

/// A string with length bounds, counted in characters as XML Schema counts them.
pub(crate) fn check_length(text: &str, min: usize, max: usize) -> Result<(), String> {
    let length = text.chars().count();
    if length < min || length > max {
        return Err(format!("'{text}' has {length} characters; {min} to {max} are allowed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datum_tijd_follows_xs_datetime_and_the_length_pattern() {
        for valid in [
            "2018-04-16T11:41:59Z",
            "2018-07-19T10:43:41+01:00",
            "2024-02-29T23:59:59.123-14:00",
            "2023-12-31T24:00:00Z",
            "12024-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z",
            "2000-02-29T00:00:00.5",
        ] {
            assert_eq!(check_datum_tijd(valid), Ok(()), "{valid}");
        }
        for (invalid, why) in [
            ("2018-04-16T11:41:59", "shorter than 20"),
            ("2018-04-16 11:41:59Z", "not written as"),
            ("2018-13-16T11:41:59Z", "month is not"),
            ("2023-02-29T11:41:59Z", "no such day"),
            ("1900-02-29T11:41:59Z", "no such day"),
            ("2018-04-31T11:41:59Z", "no such day"),
            ("2018-04-16T24:00:01Z", "out of range"),
            ("2018-04-16T11:60:59Z", "out of range"),
            ("2018-04-16T11:41:60Z", "out of range"),
            ("2018-04-16T11:41:59+14:30", "time zone is out of range"),
            ("2018-04-16T11:41:59+0100", "time zone is not"),
            ("2018-04-16T11:41:59.Z", "fraction"),
            ("0000-01-01T00:00:00Z", "no year 0000"),
            ("018-04-16T11:41:59Z", "fewer than four"),
            ("02018-04-16T11:41:59Z", "leading zero"),
            ("2018-04-16", "not written as"),
            ("", "fewer than four"),
        ] {
            let error = check_datum_tijd(invalid).unwrap_err();
            assert!(error.contains(why), "{invalid}: {error}");
        }
    }

    #[test]
    fn positive_integers_are_one_or_more() {
        assert_eq!(check_positive_integer("1"), Ok(1));
        assert_eq!(check_positive_integer("+007"), Ok(7));
        assert_eq!(check_positive_integer("18446744073709551615"), Ok(u64::MAX));
        for invalid in ["0", "000", "-1", "-0", "", "+", "1.0", "1e3", " 1", "18446744073709551616"] {
            assert!(check_positive_integer(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn host_names_follow_the_schema_pattern() {
        for valid in ["pgo.example.nl", "a.bc", "78834.umcharderwijk.nl", "x-.example.nl", "my-pgo.example.nl"] {
            assert_eq!(check_hostname(valid), Ok(()), "{valid}");
        }
        for invalid in [
            "localhost",
            "PGO.example.nl",
            "pgo.example.n",
            "pgo.example.nl-",
            "-pgo.example.nl",
            "pgo..nl",
            ".pgo.nl",
            "pgo.nl.",
            "pgo_1.example.nl",
            "pgo.example.nl:443",
            " pgo.example.nl",
            "",
        ] {
            assert!(check_hostname(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn lengths_count_characters() {
        assert_eq!(check_length("één", 3, 50), Ok(()));
        assert!(check_length("ab", 3, 50).is_err());
        assert!(check_length(&"x".repeat(51), 3, 50).is_err());
    }
}
