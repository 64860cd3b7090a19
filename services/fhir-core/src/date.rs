//! FHIR `date`, `dateTime` and `instant` values as ranges of time.
//!
//! FHIR compares dates by the period they stand for: `2013` is the whole year, `2013-02-01T08:53`
//! a whole minute (FHIR R4 §3.1.1.4.2, "date"). A value is turned into the first and the last
//! millisecond of that period, in milliseconds since the Unix epoch. A value without a zone is
//! read in the server's zone (for a Dutch service, Europe/Amsterdam), as the specification asks.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A period of time, both ends inclusive, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    /// The first millisecond of the period.
    pub low: i64,
    /// The last millisecond of the period.
    pub high: i64,
}

impl DateRange {
    /// Whether the two ranges share at least one millisecond.
    pub fn overlaps(&self, other: &DateRange) -> bool {
        self.low <= other.high && other.low <= self.high
    }
}

/// The text is not a FHIR date, dateTime or instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a valid FHIR date or dateTime (expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss[.fff]][Z|+hh:mm])"
)]
pub struct InvalidDate(pub String);

/// Reads a FHIR date, dateTime or instant as the range of time it stands for. Values without a
/// zone are read in `zone`. Minutes without seconds (`T08:53`) are accepted, as search values
/// may be written that way.
pub fn parse_range(text: &str, zone: Tz) -> Result<DateRange, InvalidDate> {
    parse(text, zone).ok_or_else(|| InvalidDate(text.to_owned()))
}

fn parse(text: &str, zone: Tz) -> Option<DateRange> {
    let (date_part, time_part) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let (date, precision) = parse_date(date_part)?;
    let Some(time_part) = time_part else {
        let start = date;
        let next = match precision {
            DatePrecision::Year => NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)?,
            DatePrecision::Month => date.checked_add_months(chrono::Months::new(1))?,
            DatePrecision::Day => date.succ_opt()?,
        };
        let low = local_millis(start.and_time(NaiveTime::MIN), zone)?;
        let high = local_millis(next.and_time(NaiveTime::MIN), zone)? - 1;
        return Some(DateRange { low, high });
    };
    if precision != DatePrecision::Day {
        return None;
    }
    let (clock, offset) = split_zone(time_part)?;
    let (time, span_millis) = parse_time(clock)?;
    let naive = date.and_time(time);
    let low = match offset {
        Some(offset_seconds) => {
            let utc = naive - Duration::seconds(i64::from(offset_seconds));
            utc.and_utc().timestamp_millis()
        }
        None => local_millis(naive, zone)?,
    };
    Some(DateRange { low, high: low + span_millis })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DatePrecision {
    Year,
    Month,
    Day,
}

fn parse_date(text: &str) -> Option<(NaiveDate, DatePrecision)> {
    let parts: Vec<&str> = text.split('-').collect();
    let number = |part: &str, width: usize| -> Option<u32> {
        (part.len() == width && part.bytes().all(|b| b.is_ascii_digit())).then(|| part.parse().ok())?
    };
    let year = i32::try_from(number(parts.first()?, 4)?).ok()?;
    match parts.as_slice() {
        [_] => Some((NaiveDate::from_ymd_opt(year, 1, 1)?, DatePrecision::Year)),
        [_, month] => Some((NaiveDate::from_ymd_opt(year, number(month, 2)?, 1)?, DatePrecision::Month)),
        [_, month, day] => {
            Some((NaiveDate::from_ymd_opt(year, number(month, 2)?, number(day, 2)?)?, DatePrecision::Day))
        }
        _ => None,
    }
}

/// Splits `08:53:00+01:00` into the clock and the zone offset in seconds (`None`: no zone).
fn split_zone(time: &str) -> Option<(&str, Option<i32>)> {
    if let Some(clock) = time.strip_suffix('Z') {
        return Some((clock, Some(0)));
    }
    match time.rfind(['+', '-']) {
        Some(at) => {
            let (clock, zone) = time.split_at(at);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (hours, minutes) = zone[1..].split_once(':')?;
            if hours.len() != 2 || minutes.len() != 2 {
                return None;
            }
            let hours: i32 = hours.parse().ok()?;
            let minutes: i32 = minutes.parse().ok()?;
            if hours > 14 || minutes > 59 {
                return None;
            }
            Some((clock, Some(sign * (hours * 3600 + minutes * 60))))
        }
        None => Some((time, None)),
    }
}

/// Parses `hh:mm`, `hh:mm:ss` or `hh:mm:ss.f...`; returns the time and how many milliseconds
/// after it the period it stands for ends.
fn parse_time(clock: &str) -> Option<(NaiveTime, i64)> {
    let two_digits = |part: &str| -> Option<u32> {
        (part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit())).then(|| part.parse().ok())?
    };
    let parts: Vec<&str> = clock.split(':').collect();
    match parts.as_slice() {
        [hours, minutes] => Some((NaiveTime::from_hms_opt(two_digits(hours)?, two_digits(minutes)?, 0)?, 59_999)),
        [hours, minutes, seconds] => {
            let (whole, fraction) = match seconds.split_once('.') {
                Some((whole, fraction)) => (whole, Some(fraction)),
                None => (*seconds, None),
            };
            let (millis, span) = match fraction {
                None => (0, 999),
                Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                    let kept = &digits[..digits.len().min(3)];
                    let scale = 10_u32.pow(3 - u32::try_from(kept.len()).ok()?);
                    let millis = kept.parse::<u32>().ok()? * scale;
                    (millis, i64::from(scale) - 1)
                }
                Some(_) => return None,
            };
            let time =
                NaiveTime::from_hms_milli_opt(two_digits(hours)?, two_digits(minutes)?, two_digits(whole)?, millis)?;
            Some((time, span))
        }
        _ => None,
    }
}

/// The instant a wall-clock time in `zone` stands for. In the autumn overlap the earlier
/// instant is taken; a time in the spring gap is read as one hour later.
fn local_millis(naive: NaiveDateTime, zone: Tz) -> Option<i64> {
    let resolved = match zone.from_local_datetime(&naive) {
        LocalResult::Single(time) | LocalResult::Ambiguous(time, _) => time,
        LocalResult::None => zone.from_local_datetime(&(naive + Duration::hours(1))).earliest()?,
    };
    Some(resolved.timestamp_millis())
}

/// Formats milliseconds since the epoch as a FHIR instant in UTC, e.g. `2026-11-23T19:01:02.123Z`.
pub fn format_instant(millis: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(millis) {
        // Not `format("...")`, which parses its pattern on every call: a search answer's
        // `meta.lastUpdated` is formatted once per request.
        Some(time) => time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}

/// The current time in milliseconds since the epoch.
pub fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const AMSTERDAM: Tz = chrono_tz::Europe::Amsterdam;

    fn millis(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text).map(|t| t.timestamp_millis()).unwrap_or(i64::MIN)
    }

    #[test]
    fn a_year_is_the_whole_local_year() {
        let range = parse_range("2013", AMSTERDAM);
        assert_eq!(
            range,
            Ok(DateRange { low: millis("2013-01-01T00:00:00+01:00"), high: millis("2014-01-01T00:00:00+01:00") - 1 })
        );
    }

    #[test]
    fn a_day_follows_summer_time() {
        let range = parse_range("2013-07-01", AMSTERDAM);
        assert_eq!(
            range,
            Ok(DateRange { low: millis("2013-07-01T00:00:00+02:00"), high: millis("2013-07-02T00:00:00+02:00") - 1 })
        );
    }

    #[test]
    fn a_date_time_with_zone_is_one_second() {
        let low = millis("2013-02-01T07:53:00Z");
        assert_eq!(parse_range("2013-02-01T08:53:00+01:00", AMSTERDAM), Ok(DateRange { low, high: low + 999 }));
    }

    #[test]
    fn fractions_and_minutes_set_the_precision() {
        let low = millis("2013-02-01T08:53:00.120Z");
        assert_eq!(parse_range("2013-02-01T08:53:00.12Z", AMSTERDAM), Ok(DateRange { low, high: low + 9 }));
        assert_eq!(parse_range("2013-02-01T08:53:00.123456Z", AMSTERDAM).map(|r| r.high - r.low), Ok(0));
        let minute = millis("2013-02-01T08:53:00Z");
        assert_eq!(parse_range("2013-02-01T08:53Z", AMSTERDAM), Ok(DateRange { low: minute, high: minute + 59_999 }));
    }

    #[test]
    fn rejects_what_is_not_a_date() {
        for text in [
            "",
            "13",
            "2013-2",
            "2013-02-30",
            "2013-02-01T25:00:00Z",
            "2013-02-01T08:53:00+1:00",
            "2013-02T10:00",
            "yesterday",
            "2013-02-01T08:53:00.",
        ] {
            assert!(parse_range(text, AMSTERDAM).is_err(), "{text} should be rejected");
        }
    }

    #[test]
    fn formats_instants_in_utc() {
        assert_eq!(format_instant(millis("2013-02-01T08:53:00.120+01:00")), "2013-02-01T07:53:00.120Z");
    }

    proptest! {
        #[test]
        fn every_day_contains_its_seconds(year in 1900i32..2100, day in 0u32..365, second in 0u32..86_400) {
            let date = NaiveDate::from_yo_opt(year, day + 1).unwrap_or(NaiveDate::MIN);
            let time = NaiveTime::from_num_seconds_from_midnight_opt(second, 0).unwrap_or(NaiveTime::MIN);
            let day_range = parse_range(&date.format("%Y-%m-%d").to_string(), AMSTERDAM);
            let instant = parse_range(&format!("{}T{}Z", date.format("%Y-%m-%d"), time.format("%H:%M:%S")), AMSTERDAM);
            prop_assert!(day_range.is_ok() && instant.is_ok());
            let (day_range, instant) = (day_range.unwrap_or(DateRange { low: 0, high: 0 }), instant.unwrap_or(DateRange { low: 0, high: 0 }));
            prop_assert!(day_range.low <= day_range.high);
            prop_assert_eq!(instant.high - instant.low, 999);
            // The UTC second lies within a day or two of the local day.
            prop_assert!((instant.low - day_range.low).abs() < 2 * 86_400_000);
        }

        #[test]
        fn never_panics_on_any_text(text in ".{0,40}") {
            let _ = parse_range(&text, AMSTERDAM);
        }
    }
}
