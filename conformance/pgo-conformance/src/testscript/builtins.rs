//! Built-in variables of the dialect the published qualification scripts are written in, usable
//! wherever a script variable is (`${...}` in parameters, URLs, headers, values, expressions,
//! other variables' `defaultValue`s and fixtures). Each is worked out from the run's [`Clock`]:
//!
//! - `${UUID}`: a fresh random UUID at every use; `${UUID-NODASH}` the same without dashes.
//!   `${UUID-ST}` and `${UUID-ST-NODASH}`: one UUID that stays the same for the whole script.
//! - `${CURRENTDATE}`: today, `yyyy-MM-dd`; `${CURRENTDATETIME}`: now, `yyyy-MM-ddTHH:mm:ss+hh:mm`;
//!   both in the runner's time zone. Pairs of a unit and a signed whole offset may follow:
//!   `${CURRENTDATE, y, -1, M, 2}` is a year back and two months on.
//! - `${DATE, T, D, -30}`: the date 30 days before the value of variable `T` (a date or a
//!   dateTime); `${DATETIME, T, h, 2}` the same as a dateTime. Several pairs may follow.
//!
//! Units: `y`/`Y` years, `M` months, `d`/`D` days, `H`/`h` hours, `m` minutes, `s`/`S` seconds
//! (`M` is months and `m` minutes, as in Java date patterns). Months and years that land past the
//! end of a month land on its last day (31 January plus a month is 28 or 29 February).

use super::state::Problem;
use chrono::{DateTime, Duration, FixedOffset, Months, NaiveDate, NaiveDateTime, NaiveTime};

/// The instant a run began, in the zone dates are written in. Every built-in of a run is worked
/// out from it, so `${CURRENTDATE}` is one day throughout a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    now: DateTime<FixedOffset>,
}

impl Clock {
    /// Now, in the machine's time zone.
    pub fn system() -> Clock {
        Clock { now: chrono::Local::now().fixed_offset() }
    }

    /// A fixed instant (tests).
    pub fn fixed(now: DateTime<FixedOffset>) -> Clock {
        Clock { now }
    }
}

/// A built-in, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Builtin {
    /// A fresh UUID; `dashes` false for the `-NODASH` forms.
    Uuid { dashes: bool },
    /// One UUID per script.
    ScriptUuid { dashes: bool },
    /// Today or now, with offsets.
    Current { with_time: bool, offsets: Vec<(Unit, i64)> },
    /// A variable's date or dateTime, with offsets.
    Relative { with_time: bool, variable: String, offsets: Vec<(Unit, i64)> },
}

/// A unit of an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Years,
    Months,
    Days,
    Hours,
    Minutes,
    Seconds,
}

impl Builtin {
    /// The built-in `text` (what stands between `${` and `}`) names; `None` when it names none,
    /// an error when it is one written wrongly.
    pub(crate) fn parse(text: &str) -> Option<Result<Builtin, Problem>> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let (head, rest) = parts.split_first()?;
        let wrong = |why: String| Some(Err(Problem::NotRun(format!("the built-in ${{{text}}}: {why}"))));
        let simple =
            |builtin: Builtin| if rest.is_empty() { Some(Ok(builtin)) } else { wrong("takes no arguments".into()) };
        match *head {
            "UUID" => simple(Builtin::Uuid { dashes: true }),
            "UUID-NODASH" => simple(Builtin::Uuid { dashes: false }),
            "UUID-ST" => simple(Builtin::ScriptUuid { dashes: true }),
            "UUID-ST-NODASH" => simple(Builtin::ScriptUuid { dashes: false }),
            "CURRENTDATE" | "CURRENTDATETIME" => match offsets(rest) {
                Ok(offsets) => Some(Ok(Builtin::Current { with_time: *head == "CURRENTDATETIME", offsets })),
                Err(why) => wrong(why),
            },
            "DATE" | "DATETIME" => {
                let Some((variable, rest)) = rest.split_first().filter(|(variable, _)| !variable.is_empty()) else {
                    return wrong("names no variable to count from".into());
                };
                match offsets(rest) {
                    Ok(offsets) => Some(Ok(Builtin::Relative {
                        with_time: *head == "DATETIME",
                        variable: (*variable).to_owned(),
                        offsets,
                    })),
                    Err(why) => wrong(why),
                }
            }
            _ => None,
        }
    }

    /// The value at `clock`; `variable` gives a script variable's value (for `DATE`/`DATETIME`),
    /// `script_uuid` the script's own UUID.
    pub(crate) fn value(
        &self,
        clock: &Clock,
        variable: &dyn Fn(&str) -> Result<String, Problem>,
        script_uuid: &dyn Fn() -> uuid::Uuid,
    ) -> Result<String, Problem> {
        let written = |uuid: uuid::Uuid, dashes: bool| {
            if dashes { uuid.hyphenated().to_string() } else { uuid.simple().to_string() }
        };
        match self {
            Builtin::Uuid { dashes } => Ok(written(uuid::Uuid::new_v4(), *dashes)),
            Builtin::ScriptUuid { dashes } => Ok(written(script_uuid(), *dashes)),
            Builtin::Current { with_time, offsets } => {
                let moved = shifted(clock.now.naive_local(), offsets)?;
                Ok(format_moment(moved, *clock.now.offset(), *with_time))
            }
            Builtin::Relative { with_time, variable: name, offsets } => {
                let base = variable(name)?;
                let (moment, zone) = moment(&base, *clock.now.offset()).ok_or_else(|| {
                    Problem::NotRun(format!("variable {name} is {base:?}, not a date or dateTime to count from"))
                })?;
                Ok(format_moment(shifted(moment, offsets)?, zone, *with_time))
            }
        }
    }
}

/// Pairs of unit and offset.
fn offsets(parts: &[&str]) -> Result<Vec<(Unit, i64)>, String> {
    if !parts.len().is_multiple_of(2) {
        return Err("offsets come in pairs of a unit and a number".into());
    }
    parts
        .chunks(2)
        .map(|pair| {
            let unit = match pair[0] {
                "y" | "Y" => Unit::Years,
                "M" => Unit::Months,
                "d" | "D" => Unit::Days,
                "H" | "h" => Unit::Hours,
                "m" => Unit::Minutes,
                "s" | "S" => Unit::Seconds,
                other => return Err(format!("{other:?} is not a unit (y, M, d, H, m or s)")),
            };
            let amount = pair[1].strip_prefix('+').unwrap_or(pair[1]);
            let amount = amount.parse::<i64>().map_err(|_| format!("{:?} is not a whole number", pair[1]))?;
            Ok((unit, amount))
        })
        .collect()
}

fn shifted(moment: NaiveDateTime, offsets: &[(Unit, i64)]) -> Result<NaiveDateTime, Problem> {
    offsets.iter().try_fold(moment, |moment, (unit, amount)| {
        let months = |count: i64| {
            let magnitude = Months::new(u32::try_from(count.unsigned_abs()).ok()?);
            if count < 0 { moment.checked_sub_months(magnitude) } else { moment.checked_add_months(magnitude) }
        };
        let duration = |make: fn(i64) -> Option<Duration>| make(*amount).and_then(|d| moment.checked_add_signed(d));
        let moved = match unit {
            Unit::Years => amount.checked_mul(12).and_then(months),
            Unit::Months => months(*amount),
            Unit::Days => duration(Duration::try_days),
            Unit::Hours => duration(Duration::try_hours),
            Unit::Minutes => duration(Duration::try_minutes),
            Unit::Seconds => duration(Duration::try_seconds),
        };
        moved.ok_or_else(|| Problem::NotRun(format!("an offset of {amount} {unit:?} leaves the calendar")))
    })
}

/// A date or dateTime value as a moment and the zone it was written in (a date, or a dateTime
/// without a zone, is taken in `zone`).
fn moment(text: &str, zone: FixedOffset) -> Option<(NaiveDateTime, FixedOffset)> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some((date.and_time(NaiveTime::MIN), zone));
    }
    if let Ok(moment) = DateTime::parse_from_rfc3339(text) {
        return Some((moment.naive_local(), *moment.offset()));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok().map(|moment| (moment, zone))
}

fn format_moment(moment: NaiveDateTime, zone: FixedOffset, with_time: bool) -> String {
    if with_time {
        format!("{}{zone}", moment.format("%Y-%m-%dT%H:%M:%S"))
    } else {
        moment.format("%Y-%m-%d").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> Clock {
        Clock::fixed(DateTime::parse_from_rfc3339("2026-03-31T10:15:30+02:00").unwrap())
    }

    fn value(text: &str) -> Result<String, Problem> {
        let variable = |name: &str| match name {
            "T" => Ok("2026-03-31".to_owned()),
            "Moment" => Ok("2024-02-29T23:30:00Z".to_owned()),
            "Text" => Ok("not a date".to_owned()),
            other => Err(Problem::NotRun(format!("no variable is named {other}"))),
        };
        let script = || uuid::Uuid::nil();
        Builtin::parse(text).expect("a built-in")?.value(&clock(), &variable, &script)
    }

    #[test]
    fn current_date_and_time_come_from_the_clock_in_its_zone() {
        assert_eq!(value("CURRENTDATE"), Ok("2026-03-31".into()));
        assert_eq!(value("CURRENTDATETIME"), Ok("2026-03-31T10:15:30+02:00".into()));
        assert_eq!(value("CURRENTDATE, d, 1"), Ok("2026-04-01".into()));
        assert_eq!(value("CURRENTDATE,y,-1,M,+2"), Ok("2025-05-31".into()));
        assert_eq!(value("CURRENTDATETIME, H, -11, m, 45, s, -30"), Ok("2026-03-31T00:00:00+02:00".into()));
    }

    #[test]
    fn dates_count_from_a_variable_with_month_ends_clamped() {
        assert_eq!(value("DATE, T, D, -30"), Ok("2026-03-01".into()));
        assert_eq!(value("DATE, T, Y, -17"), Ok("2009-03-31".into()));
        assert_eq!(value("DATE, T, M, -1"), Ok("2026-02-28".into()), "31 March less a month");
        assert_eq!(value("DATE, T, D,-21"), Ok("2026-03-10".into()), "spaces are optional");
        assert_eq!(value("DATETIME, T, h, 2"), Ok("2026-03-31T02:00:00+02:00".into()));
        assert_eq!(value("DATE, Moment, Y, 1"), Ok("2025-02-28".into()), "29 February a year on");
        assert_eq!(value("DATETIME, Moment, m, 45"), Ok("2024-03-01T00:15:00+00:00".into()), "the value's own zone");
        assert_eq!(value("DATE, T"), Ok("2026-03-31".into()), "no offset at all");
    }

    #[test]
    fn uuids_are_fresh_at_every_use_unless_they_are_the_scripts() {
        let first = value("UUID").unwrap();
        assert_ne!(first, value("UUID").unwrap());
        assert!(uuid::Uuid::parse_str(&first).is_ok() && first.contains('-'));
        assert_eq!(value("UUID-NODASH").unwrap().len(), 32);
        assert_eq!(value("UUID-ST"), Ok(uuid::Uuid::nil().to_string()));
        assert_eq!(value("UUID-ST-NODASH"), Ok("0".repeat(32)));
    }

    #[test]
    fn what_is_not_a_built_in_or_is_written_wrongly_says_so() {
        assert_eq!(Builtin::parse("patient-token-id"), None);
        assert_eq!(Builtin::parse("T"), None);
        for wrong in ["DATE, T, D", "DATE, T, Q, 1", "DATE, T, D, 1.5", "DATE", "UUID, 1", "CURRENTDATE, d, x"] {
            assert!(matches!(Builtin::parse(wrong), Some(Err(Problem::NotRun(_)))), "{wrong}");
        }
        assert!(matches!(value("DATE, Text, D, 1"), Err(Problem::NotRun(why)) if why.contains("not a date")));
        assert!(matches!(value("DATE, Missing, D, 1"), Err(Problem::NotRun(_))));
        assert!(matches!(value("CURRENTDATE, y, 99999999"), Err(Problem::NotRun(_))));
    }
}
