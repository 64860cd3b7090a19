//! Partial dates, dateTimes and times with their precision, compared and shifted as FHIRPath says.
//!
//! A value only has the components it was written with (`@2020` has no month). Comparing values of
//! different precision is decided by the components both have; when those are equal the answer is
//! unknown (empty). Seconds and fractions of a second count as one precision.

use std::cmp::Ordering;
use std::fmt;

use chrono::{Datelike, Duration, Local, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike};

/// A calendar date with year, optionally month, optionally day precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    year: i32,
    month: Option<u32>,
    day: Option<u32>,
}

/// A time of day with hour, minute or second (plus fraction) precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time {
    hour: u32,
    minute: Option<u32>,
    second: Option<u32>,
    nanos: u32,
    /// Digits of the fraction as written, so `10:00:00.100` prints back unchanged.
    fraction_digits: u32,
}

/// A date with an optional time of day and an optional timezone offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    date: Date,
    time: Option<Time>,
    /// Offset from UTC in minutes, when a timezone was given.
    offset_minutes: Option<i32>,
}

/// The units date/time arithmetic accepts (calendar durations and their definite UCUM forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TimeUnit {
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
}

impl TimeUnit {
    /// The unit for a calendar keyword (`year`, `days`) or a definite UCUM duration (`'d'`, `'min'`).
    /// UCUM `'a'` and `'mo'` are not calendar years/months, so they are not accepted.
    pub(crate) fn from_unit(unit: &str) -> Option<Self> {
        Some(match unit {
            "year" | "years" => Self::Year,
            "month" | "months" => Self::Month,
            "week" | "weeks" | "wk" => Self::Week,
            "day" | "days" | "d" => Self::Day,
            "hour" | "hours" | "h" => Self::Hour,
            "minute" | "minutes" | "min" => Self::Minute,
            "second" | "seconds" | "s" => Self::Second,
            "millisecond" | "milliseconds" | "ms" => Self::Millisecond,
            _ => return None,
        })
    }
}

impl Date {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, rejecting impossible months and days.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('-');
        let year = parse_fixed(parts.next()?, 4)?;
        let month = optional_two_digits(parts.next())?;
        let day = optional_two_digits(parts.next())?;
        if parts.next().is_some() {
            return None;
        }
        let date = Self { year: i32::try_from(year).ok()?, month, day };
        date.is_valid().then_some(date)
    }

    fn is_valid(&self) -> bool {
        match (self.month, self.day) {
            (None, None) => true,
            (Some(m), None) => (1..=12).contains(&m),
            (Some(m), Some(d)) => NaiveDate::from_ymd_opt(self.year, m, d).is_some(),
            (None, Some(_)) => false,
        }
    }

    /// A full date from chrono.
    pub(crate) fn from_naive(date: NaiveDate) -> Self {
        Self { year: date.year(), month: Some(date.month()), day: Some(date.day()) }
    }

    /// This date as a dateTime of the same (day or coarser) precision, for mixed comparisons.
    pub fn to_date_time(self) -> DateTime {
        DateTime { date: self, time: None, offset_minutes: None }
    }

    fn components(&self) -> [Option<i64>; 3] {
        [Some(i64::from(self.year)), self.month.map(i64::from), self.day.map(i64::from)]
    }

    /// Number of components present (1 = year .. 3 = day).
    fn precision(&self) -> usize {
        self.components().iter().flatten().count()
    }

    /// Shifted by a calendar quantity; finer units than the date has are applied and then truncated.
    pub(crate) fn add(&self, amount: i64, unit: TimeUnit) -> Option<Self> {
        let shifted = self.to_date_time().add(amount, unit)?;
        Some(Self { month: self.month.and(shifted.date.month), day: self.day.and(shifted.date.day), ..shifted.date })
    }
}

impl Time {
    /// Parses `HH`, `HH:mm`, `HH:mm:ss` or `HH:mm:ss.fff` (any number of fraction digits, nine kept).
    pub fn parse(text: &str) -> Option<Self> {
        let (clock, fraction) = match text.split_once('.') {
            Some((clock, fraction)) => (clock, Some(fraction)),
            None => (text, None),
        };
        let mut parts = clock.split(':');
        let hour = parse_fixed(parts.next()?, 2)?;
        let minute = optional_two_digits(parts.next())?;
        let second = optional_two_digits(parts.next())?;
        if parts.next().is_some() || hour > 23 || minute.is_some_and(|m| m > 59) || second.is_some_and(|s| s > 59) {
            return None;
        }
        let (nanos, fraction_digits) = match fraction {
            None => (0, 0),
            Some(digits) if second.is_some() && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) => {
                let kept: String = digits.chars().take(9).collect();
                let nanos = format!("{kept:0<9}").parse().ok()?;
                (nanos, u32::try_from(digits.len()).ok()?)
            }
            Some(_) => return None,
        };
        Some(Self { hour, minute, second, nanos, fraction_digits })
    }

    pub(crate) fn from_naive(time: NaiveTime) -> Self {
        let millis = time.nanosecond() / 1_000_000 % 1000;
        Self {
            hour: time.hour(),
            minute: Some(time.minute()),
            second: Some(time.second()),
            nanos: millis * 1_000_000,
            fraction_digits: 3,
        }
    }

    /// Hour, minute, and seconds-with-fraction (in nanoseconds) as far as present.
    fn components(&self) -> [Option<i64>; 3] {
        let second = self.second.map(|s| i64::from(s) * 1_000_000_000 + i64::from(self.nanos));
        [Some(i64::from(self.hour)), self.minute.map(i64::from), second]
    }

    fn precision(&self) -> usize {
        self.components().iter().flatten().count()
    }

    fn to_naive(self) -> Option<NaiveTime> {
        NaiveTime::from_hms_nano_opt(self.hour, self.minute.unwrap_or(0), self.second.unwrap_or(0), self.nanos)
    }

    /// Same precision as `self`, with the clock of `time`.
    fn with_clock(&self, time: NaiveTime) -> Self {
        let carries_fraction = self.second.is_some();
        Self {
            hour: time.hour(),
            minute: self.minute.map(|_| time.minute()),
            second: self.second.map(|_| time.second()),
            nanos: if carries_fraction { time.nanosecond() } else { 0 },
            fraction_digits: if carries_fraction && time.nanosecond() != 0 {
                self.fraction_digits.max(3)
            } else {
                self.fraction_digits
            },
        }
    }

    /// Shifted by a duration, wrapping around midnight as a clock does.
    pub(crate) fn add(&self, amount: i64, unit: TimeUnit) -> Option<Self> {
        let duration = match unit {
            TimeUnit::Hour => Duration::try_hours(amount)?,
            TimeUnit::Minute => Duration::try_minutes(amount)?,
            TimeUnit::Second => Duration::try_seconds(amount)?,
            TimeUnit::Millisecond => Duration::try_milliseconds(amount)?,
            _ => return None,
        };
        let (shifted, _) = self.to_naive()?.overflowing_add_signed(duration);
        Some(self.with_clock(shifted))
    }
}

impl DateTime {
    /// Parses a FHIRPath dateTime literal body or a FHIR dateTime/instant:
    /// a date, optionally `T`, a time and a timezone (`Z` or `+HH:mm`). `2015T` is a year-precision dateTime.
    pub fn parse(text: &str) -> Option<Self> {
        let Some((date_text, rest)) = text.split_once('T') else {
            return Some(Date::parse(text)?.to_date_time());
        };
        let date = Date::parse(date_text)?;
        if rest.is_empty() {
            return Some(date.to_date_time());
        }
        // A time needs a complete date; `2015T10:00` has no meaning.
        date.day?;
        let (clock, offset_minutes) = split_timezone(rest)?;
        Some(Self { date, time: Some(Time::parse(clock)?), offset_minutes })
    }

    pub(crate) fn from_local(now: chrono::DateTime<Local>) -> Self {
        Self {
            date: Date::from_naive(now.date_naive()),
            time: Some(Time::from_naive(now.time())),
            offset_minutes: Some(now.offset().fix().local_minus_utc() / 60),
        }
    }

    /// The date part.
    pub fn date(&self) -> Date {
        self.date
    }

    /// The time part, when the value has hour precision or finer.
    pub fn time(&self) -> Option<Time> {
        self.time
    }

    /// Year, month, day, hour, minute, seconds-with-fraction, as far as present.
    fn components(&self) -> [Option<i64>; 6] {
        let [year, month, day] = self.date.components();
        let [hour, minute, second] = self.time.map(|t| t.components()).unwrap_or_default();
        [year, month, day, hour, minute, second]
    }

    fn precision(&self) -> usize {
        self.date.precision() + self.time.map_or(0, |t| t.precision())
    }

    /// All components filled in (missing ones at their minimum), as chrono sees it.
    fn to_naive(self) -> Option<NaiveDateTime> {
        let date = NaiveDate::from_ymd_opt(self.date.year, self.date.month.unwrap_or(1), self.date.day.unwrap_or(1))?;
        let time = match self.time {
            Some(time) => time.to_naive()?,
            None => NaiveTime::MIN,
        };
        Some(date.and_time(time))
    }

    /// The same precision as `self`, with the values of `naive`.
    fn with_values(&self, naive: NaiveDateTime) -> Self {
        let date = Date {
            year: naive.year(),
            month: self.date.month.map(|_| naive.month()),
            day: self.date.day.map(|_| naive.day()),
        };
        Self { date, time: self.time.map(|t| t.with_clock(naive.time())), offset_minutes: self.offset_minutes }
    }

    /// The same instant expressed at another offset (only meaningful with a time part).
    fn at_offset(&self, target_minutes: i32) -> Option<Self> {
        let (Some(offset), Some(_)) = (self.offset_minutes, self.time) else {
            return Some(*self);
        };
        let shifted =
            self.to_naive()?.checked_add_signed(Duration::try_minutes(i64::from(target_minutes - offset))?)?;
        Some(Self { offset_minutes: Some(target_minutes), ..self.with_values(shifted) })
    }

    /// Brings two values to a common offset: UTC when both have one; when only one has a timezone,
    /// the other is read as local time (the evaluation environment's timezone), as the spec says.
    fn common_offset(&self, other: &Self) -> Option<(Self, Self)> {
        match (self.offset_minutes, other.offset_minutes) {
            (Some(_), Some(_)) => Some((self.at_offset(0)?, other.at_offset(0)?)),
            (Some(_), None) => Some((self.at_offset(other.local_offset()?)?, *other)),
            (None, Some(_)) => Some((*self, other.at_offset(self.local_offset()?)?)),
            (None, None) => Some((*self, *other)),
        }
    }

    fn local_offset(&self) -> Option<i32> {
        let naive = self.to_naive()?;
        Some(Local.offset_from_local_datetime(&naive).earliest()?.fix().local_minus_utc() / 60)
    }

    /// Shifted by a calendar quantity; the result keeps the precision of `self` (finer units are
    /// applied and then truncated away, e.g. `@2014 + 24 months` is `@2016`).
    pub(crate) fn add(&self, amount: i64, unit: TimeUnit) -> Option<Self> {
        let naive = self.to_naive()?;
        let shifted = match unit {
            TimeUnit::Year | TimeUnit::Month => {
                let months = if unit == TimeUnit::Year { amount.checked_mul(12)? } else { amount };
                let magnitude = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
                if months >= 0 { naive.checked_add_months(magnitude)? } else { naive.checked_sub_months(magnitude)? }
            }
            TimeUnit::Week => naive.checked_add_signed(Duration::try_weeks(amount)?)?,
            TimeUnit::Day => naive.checked_add_signed(Duration::try_days(amount)?)?,
            TimeUnit::Hour => naive.checked_add_signed(Duration::try_hours(amount)?)?,
            TimeUnit::Minute => naive.checked_add_signed(Duration::try_minutes(amount)?)?,
            TimeUnit::Second => naive.checked_add_signed(Duration::try_seconds(amount)?)?,
            TimeUnit::Millisecond => naive.checked_add_signed(Duration::try_milliseconds(amount)?)?,
        };
        Some(self.with_values(shifted))
    }
}

/// Splits `10:00:00+01:00` into the clock and the offset in minutes.
fn split_timezone(text: &str) -> Option<(&str, Option<i32>)> {
    if let Some(clock) = text.strip_suffix('Z') {
        return Some((clock, Some(0)));
    }
    let Some(at) = text.rfind(['+', '-']) else {
        return Some((text, None));
    };
    let (clock, zone) = text.split_at(at);
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let (hours, minutes) = zone[1..].split_once(':')?;
    let (hours, minutes) = (parse_fixed(hours, 2)?, parse_fixed(minutes, 2)?);
    if hours > 14 || minutes > 59 {
        return None;
    }
    Some((clock, Some(sign * i32::try_from(hours * 60 + minutes).ok()?)))
}

/// `Some(None)` when the part is absent, `None` when it is present but not two digits.
fn optional_two_digits(part: Option<&str>) -> Option<Option<u32>> {
    match part {
        None => Some(None),
        Some(text) => parse_fixed(text, 2).map(Some),
    }
}

/// Exactly `width` ASCII digits.
fn parse_fixed(text: &str, width: usize) -> Option<u32> {
    (text.len() == width && text.chars().all(|c| c.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

/// Compares component lists: decided by the first differing component both have; `None` when one
/// runs out of components before the other while all shared components are equal.
fn compare_components(left: &[Option<i64>], right: &[Option<i64>]) -> Option<Ordering> {
    for (l, r) in left.iter().zip(right) {
        match (l, r) {
            (Some(l), Some(r)) if l != r => return Some(l.cmp(r)),
            (Some(_), Some(_)) => {}
            (None, None) => return Some(Ordering::Equal),
            _ => return None,
        }
    }
    Some(Ordering::Equal)
}

/// Ordering of two dateTimes, `None` when precision makes it unknown.
pub(crate) fn compare_date_times(left: &DateTime, right: &DateTime) -> Option<Ordering> {
    let (left, right) = left.common_offset(right)?;
    compare_components(&left.components(), &right.components())
}

/// Ordering of two times, `None` when precision makes it unknown.
pub(crate) fn compare_times(left: &Time, right: &Time) -> Option<Ordering> {
    compare_components(&left.components(), &right.components())
}

/// Equivalence (`~`): same precision and equal; never unknown.
pub(crate) fn date_times_equivalent(left: &DateTime, right: &DateTime) -> bool {
    left.precision() == right.precision() && compare_date_times(left, right) == Some(Ordering::Equal)
}

pub(crate) fn times_equivalent(left: &Time, right: &Time) -> bool {
    left.precision() == right.precision() && compare_times(left, right) == Some(Ordering::Equal)
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(month) = self.month {
            write!(f, "-{month:02}")?;
        }
        if let Some(day) = self.day {
            write!(f, "-{day:02}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.hour)?;
        if let Some(minute) = self.minute {
            write!(f, ":{minute:02}")?;
        }
        if let Some(second) = self.second {
            write!(f, ":{second:02}")?;
            if self.fraction_digits > 0 {
                let digits = format!("{:09}", self.nanos);
                let shown = usize::try_from(self.fraction_digits.min(9)).unwrap_or(9);
                write!(f, ".{}", &digits[..shown])?;
            }
        }
        Ok(())
    }
}

/// ISO 8601 as FHIR writes it; a dateTime without a time prints like a date.
impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.date)?;
        if let Some(time) = self.time {
            write!(f, "T{time}")?;
            match self.offset_minutes {
                Some(0) => write!(f, "Z")?,
                Some(offset) => {
                    let sign = if offset < 0 { '-' } else { '+' };
                    write!(f, "{sign}{:02}:{:02}", offset.abs() / 60, offset.abs() % 60)?;
                }
                None => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn dt(text: &str) -> DateTime {
        DateTime::parse(text).unwrap()
    }

    #[test]
    fn parses_and_prints_partial_values() {
        for text in ["2020", "2020-02", "2020-02-29", "2020-01-01T10", "2020-01-01T10:00:00.120+01:00"] {
            assert_eq!(dt(text).to_string(), text);
        }
        assert_eq!(dt("2015T").to_string(), "2015");
        assert_eq!(Time::parse("23:59:59.5").unwrap().to_string(), "23:59:59.5");
        for bad in ["2019-02-29", "2020-13", "20", "2020-01-01T25:00", "2015T10:00", "2020-01-01T10:00+1"] {
            assert!(DateTime::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn precision_mismatch_is_unknown_unless_decided_earlier() {
        assert_eq!(compare_date_times(&dt("2012"), &dt("2012-01")), None);
        assert_eq!(compare_date_times(&dt("2011"), &dt("2012-01")), Some(Ordering::Less));
        assert_eq!(
            compare_date_times(&dt("2012-01-01T10:00:00"), &dt("2012-01-01T10:00:00.000")),
            Some(Ordering::Equal)
        );
    }

    #[test]
    fn timezones_are_normalised() {
        assert_eq!(
            compare_date_times(&dt("2017-11-05T01:30:00.0-04:00"), &dt("2017-11-05T05:30:00.0Z")),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare_date_times(&dt("2017-11-05T01:30:00+01:00"), &dt("2017-11-05T01:00:00Z")),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn arithmetic_keeps_precision_and_clamps_month_ends() {
        let date = Date::parse("2012-02-29").unwrap();
        assert_eq!(date.add(1, TimeUnit::Year).unwrap().to_string(), "2013-02-28");
        assert_eq!(Date::parse("2014").unwrap().add(24, TimeUnit::Month).unwrap().to_string(), "2016");
        assert_eq!(dt("2019-12-31T23:00:00Z").add(2, TimeUnit::Hour).unwrap().to_string(), "2020-01-01T01:00:00Z");
        assert_eq!(Time::parse("23:30").unwrap().add(1, TimeUnit::Hour).unwrap().to_string(), "00:30");
    }
}
