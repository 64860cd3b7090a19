//! Reporting periods: months, quarters and years of the calendar, in the service's zone (a month
//! of the fee is a Dutch month: it starts at midnight in Amsterdam, not in UTC).

use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Tz;
use std::fmt;

/// How long a reporting period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    /// A calendar month.
    Month,
    /// A quarter: January-March, April-June, ...
    Quarter,
    /// A calendar year.
    Year,
}

impl Granularity {
    /// `month`, `quarter` or `year`.
    pub fn from_name(name: &str) -> Option<Granularity> {
        match name {
            "month" => Some(Granularity::Month),
            "quarter" => Some(Granularity::Quarter),
            "year" => Some(Granularity::Year),
            _ => None,
        }
    }

    /// Months in a period of this length.
    fn months(self) -> u32 {
        match self {
            Granularity::Month => 1,
            Granularity::Quarter => 3,
            Granularity::Year => 12,
        }
    }
}

/// A reporting period: written `2026-03`, `2026-Q1` or `2026`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    /// The calendar year.
    pub year: i32,
    /// The first month (1-12).
    first_month: u32,
    /// Months it spans (1, 3 or 12).
    months: u32,
}

/// A period that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a period: write a month (2026-03), a quarter (2026-Q1) or a year (2026)")]
pub struct PeriodError(pub String);

impl std::str::FromStr for Period {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<Period, PeriodError> {
        let error = || PeriodError(text.to_owned());
        let year_of = |digits: &str| -> Result<i32, PeriodError> {
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(error());
            }
            digits.parse().map_err(|_| error())
        };
        match text.split_once('-') {
            None => Ok(Period { year: year_of(text)?, first_month: 1, months: 12 }),
            Some((year, quarter)) if quarter.starts_with('Q') => {
                let number: u32 = match quarter[1..].parse() {
                    Ok(number @ 1..=4) if quarter.len() == 2 => number,
                    _ => return Err(error()),
                };
                Ok(Period { year: year_of(year)?, first_month: 3 * (number - 1) + 1, months: 3 })
            }
            Some((year, month)) => {
                let month: u32 = match month.parse() {
                    Ok(month @ 1..=12) if month_text_ok(text) => month,
                    _ => return Err(error()),
                };
                Ok(Period { year: year_of(year)?, first_month: month, months: 1 })
            }
        }
    }
}

/// `YYYY-MM` with two digits for the month.
fn month_text_ok(text: &str) -> bool {
    text.len() == 7 && text.as_bytes()[5..].iter().all(u8::is_ascii_digit)
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.months {
            12 => write!(f, "{:04}", self.year),
            3 => write!(f, "{:04}-Q{}", self.year, (self.first_month - 1) / 3 + 1),
            _ => write!(f, "{:04}-{:02}", self.year, self.first_month),
        }
    }
}

impl Period {
    /// The period of `granularity` holding the instant `millis`, in `zone`.
    pub fn containing(granularity: Granularity, millis: i64, zone: Tz) -> Period {
        let date = local_date(millis, zone);
        let months = granularity.months();
        let first_month = (date.month() - 1) / months * months + 1;
        Period { year: date.year(), first_month, months }
    }

    /// The periods of `granularity` that make up `year`, in order.
    pub fn of_year(granularity: Granularity, year: i32) -> Vec<Period> {
        let months = granularity.months();
        (0..12 / months).map(|index| Period { year, first_month: index * months + 1, months }).collect()
    }

    /// How long the period is.
    pub fn granularity(&self) -> Granularity {
        match self.months {
            12 => Granularity::Year,
            3 => Granularity::Quarter,
            _ => Granularity::Month,
        }
    }

    /// Its first month as `YYYY-MM`.
    pub fn first_month(&self) -> String {
        format!("{:04}-{:02}", self.year, self.first_month)
    }

    /// `[start, end)` in ms since the epoch: from midnight of its first day in `zone` to
    /// midnight of the day after its last.
    pub fn bounds(&self, zone: Tz) -> (i64, i64) {
        let start = month_start(self.year, self.first_month, zone);
        let after = self.first_month + self.months;
        let end = if after > 12 { month_start(self.year + 1, 1, zone) } else { month_start(self.year, after, zone) };
        (start, end)
    }

    /// Whether the instant `millis` falls in it.
    pub fn contains(&self, millis: i64, zone: Tz) -> bool {
        let (start, end) = self.bounds(zone);
        (start..end).contains(&millis)
    }
}

/// The calendar year of the instant `millis` in `zone`.
pub fn year_of(millis: i64, zone: Tz) -> i32 {
    local_date(millis, zone).year()
}

fn local_date(millis: i64, zone: Tz) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default().with_timezone(&zone).date_naive()
}

/// Midnight at the start of a month in `zone` (Dutch midnights always exist: clocks change at
/// 02:00 and 03:00).
pub(crate) fn month_start(year: i32, month: u32, zone: Tz) -> i64 {
    let midnight = NaiveDate::from_ymd_opt(year, month, 1).and_then(|date| date.and_hms_opt(0, 0, 0));
    midnight
        .and_then(|midnight| zone.from_local_datetime(&midnight).earliest())
        .map(|start| start.timestamp_millis())
        .unwrap_or_default()
}

/// An instant as RFC 3339 in UTC with milliseconds.
pub fn format_instant(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AMSTERDAM: Tz = chrono_tz::Europe::Amsterdam;

    #[test]
    fn periods_read_and_write_back() {
        for text in ["2026-03", "2026-12", "2026-Q1", "2026-Q4", "2026"] {
            assert_eq!(text.parse::<Period>().expect(text).to_string(), text);
        }
        for bad in ["2026-13", "2026-00", "2026-3", "2026-Q5", "2026-Q", "26", "2026-03-01", "", "abcd"] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_month_starts_at_midnight_in_amsterdam() {
        let (start, end) = "2026-03".parse::<Period>().expect("period").bounds(AMSTERDAM);
        // 1 March 00:00 CET is 28 February 23:00 UTC; 1 April 00:00 CEST is 31 March 22:00 UTC.
        assert_eq!(format_instant(start), "2026-02-28T23:00:00.000Z");
        assert_eq!(format_instant(end), "2026-03-31T22:00:00.000Z");
        let (year_start, year_end) = "2026".parse::<Period>().expect("period").bounds(AMSTERDAM);
        assert_eq!(format_instant(year_start), "2025-12-31T23:00:00.000Z");
        assert_eq!(format_instant(year_end), "2026-12-31T23:00:00.000Z");
    }

    #[test]
    fn an_instant_belongs_to_the_local_period() {
        // 31 December 2025 23:30 UTC is already 1 January 2026 in Amsterdam.
        let instant = chrono::DateTime::parse_from_rfc3339("2025-12-31T23:30:00Z").expect("time").timestamp_millis();
        assert_eq!(year_of(instant, AMSTERDAM), 2026);
        assert_eq!(Period::containing(Granularity::Month, instant, AMSTERDAM).to_string(), "2026-01");
        assert_eq!(Period::containing(Granularity::Quarter, instant, AMSTERDAM).to_string(), "2026-Q1");
        assert_eq!(Period::containing(Granularity::Year, instant, AMSTERDAM).to_string(), "2026");
        assert!("2026-01".parse::<Period>().expect("period").contains(instant, AMSTERDAM));
    }

    #[test]
    fn the_periods_of_a_year_cover_it_without_gaps() {
        for granularity in [Granularity::Month, Granularity::Quarter, Granularity::Year] {
            let periods = Period::of_year(granularity, 2026);
            assert_eq!(periods.len(), 12 / granularity.months() as usize);
            let year = "2026".parse::<Period>().expect("period").bounds(AMSTERDAM);
            assert_eq!(periods.first().map(|p| p.bounds(AMSTERDAM).0), Some(year.0));
            assert_eq!(periods.last().map(|p| p.bounds(AMSTERDAM).1), Some(year.1));
            for pair in periods.windows(2) {
                assert_eq!(pair[0].bounds(AMSTERDAM).1, pair[1].bounds(AMSTERDAM).0);
            }
        }
    }
}
