//! How the dashboard writes numbers, amounts, counted things and reporting periods in each of its
//! languages: `1.234` and `€ 7,50` in Dutch, `1,234` and `€7.50` in English (CLDR's patterns),
//! `1 user` but `2 users`, `mrt 2026` or `Mar 2026`.

use super::texts::{Lang, Words};
use metering::{Granularity, Period};

/// The two forms of a counted noun. Dutch and English both use the singular for exactly one and
/// the plural for everything else, zero included (CLDR's plural rules for `nl` and `en`, for
/// whole numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plural {
    pub(crate) one: &'static str,
    pub(crate) other: &'static str,
}

impl Plural {
    /// The form that goes with `count`.
    pub(crate) fn form(&self, count: i64) -> &'static str {
        if count == 1 { self.one } else { self.other }
    }
}

/// The euro sign: CLDR's Dutch pattern puts a no-break space after it, so the amount never
/// wraps away from it; English writes it against the digits.
const EURO_NL: &str = "€\u{a0}";
const EURO_EN: &str = "€";

/// How a language writes the dashboard's numbers, amounts, counts and periods.
pub(crate) trait Locale {
    /// A whole number with its digits grouped by three.
    fn number(self, value: i64) -> String;
    /// Euro cents as an amount: `€ 1.234,50` or `€1,234.50`.
    fn euros(self, cents: i64) -> String;
    /// `count` with the noun in the form that goes with it: `1 nieuwe unieke gebruiker`.
    fn count(self, count: i64, noun: &Plural) -> String;
    /// A period within its year, short: `mrt`, `K1`; a year as itself. The chart's axis and the
    /// table's columns, under a heading that names the year.
    fn period_short(self, period: &Period) -> String;
    /// A period on its own: `maart 2026`, `K1 2026`, `2026`.
    fn period_long(self, period: &Period) -> String;
}

impl Locale for Lang {
    fn number(self, value: i64) -> String {
        let digits = value.unsigned_abs().to_string();
        let separator = self.texts().group_separator;
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if value < 0 {
            grouped.push('-');
        }
        for (index, digit) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index).is_multiple_of(3) {
                grouped.push(separator);
            }
            grouped.push(digit);
        }
        grouped
    }

    fn euros(self, cents: i64) -> String {
        let whole = self.number((cents / 100).abs());
        let amount = format!("{whole}{}{:02}", self.texts().decimal_separator, (cents % 100).abs());
        let sign = if cents < 0 { "-" } else { "" };
        match self {
            Lang::Nl => format!("{EURO_NL}{sign}{amount}"),
            Lang::En => format!("{sign}{EURO_EN}{amount}"),
        }
    }

    fn count(self, count: i64, noun: &Plural) -> String {
        format!("{} {}", self.number(count), noun.form(count))
    }

    fn period_short(self, period: &Period) -> String {
        let texts = self.texts();
        match period.granularity() {
            Granularity::Month => {
                month_index(period).map_or_else(|| period.to_string(), |m| texts.months_short[m].to_owned())
            }
            Granularity::Quarter => format!("{}{}", texts.quarter_letter, quarter_number(period)),
            Granularity::Year => period.year.to_string(),
        }
    }

    fn period_long(self, period: &Period) -> String {
        match period.granularity() {
            Granularity::Month => {
                month_index(period).map_or_else(|| period.to_string(), |m| format!("{} {}", self.month(m), period.year))
            }
            Granularity::Quarter => format!("{} {}", self.period_short(period), period.year),
            Granularity::Year => period.year.to_string(),
        }
    }
}

/// The period's first month, from 0 for January.
fn month_index(period: &Period) -> Option<usize> {
    let first = period.first_month();
    first
        .get(5..)
        .and_then(|month| month.parse::<usize>().ok())
        .and_then(|month| month.checked_sub(1))
        .filter(|m| *m < 12)
}

/// Which quarter of its year a quarter is, from 1.
fn quarter_number(period: &Period) -> usize {
    month_index(period).unwrap_or(0) / 3 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(text: &str) -> Period {
        text.parse().unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn one_takes_the_singular_and_every_other_count_the_plural() {
        for lang in [Lang::Nl, Lang::En] {
            let noun = &lang.texts().new_users;
            assert_eq!(noun.form(1), noun.one);
            for count in [0, 2, 11, 21, 101, 1_000_001, -1] {
                assert_eq!(noun.form(count), noun.other, "{count} in {lang:?}");
            }
        }
        assert_eq!(Lang::Nl.count(1, &Lang::Nl.texts().new_users), "1 nieuwe unieke gebruiker");
        assert_eq!(Lang::Nl.count(2, &Lang::Nl.texts().new_users), "2 nieuwe unieke gebruikers");
        assert_eq!(Lang::Nl.count(0, &Lang::Nl.texts().new_users), "0 nieuwe unieke gebruikers");
        assert_eq!(Lang::En.count(1, &Lang::En.texts().new_users), "1 new unique user");
        assert_eq!(Lang::En.count(2, &Lang::En.texts().new_users), "2 new unique users");
        assert_eq!(Lang::En.count(0, &Lang::En.texts().new_users), "0 new unique users");
    }

    #[test]
    fn large_counts_are_grouped_by_three_in_each_language() {
        assert_eq!(Lang::Nl.count(1234, &Lang::Nl.texts().new_users), "1.234 nieuwe unieke gebruikers");
        assert_eq!(Lang::En.count(1234, &Lang::En.texts().new_users), "1,234 new unique users");
        assert_eq!(Lang::Nl.number(999), "999");
        assert_eq!(Lang::Nl.number(1_000_000), "1.000.000");
        assert_eq!(Lang::En.number(12_345_678), "12,345,678");
        assert_eq!(Lang::En.number(-4200), "-4,200");
        assert_eq!(Lang::Nl.number(0), "0");
    }

    #[test]
    fn amounts_are_written_as_each_language_writes_euros() {
        assert_eq!(Lang::Nl.euros(750), "€\u{a0}7,50");
        assert_eq!(Lang::En.euros(750), "€7.50");
        assert_eq!(Lang::Nl.euros(123_456_705), "€\u{a0}1.234.567,05");
        assert_eq!(Lang::En.euros(123_456_705), "€1,234,567.05");
        assert_eq!(Lang::Nl.euros(0), "€\u{a0}0,00");
        assert_eq!(Lang::En.euros(5), "€0.05");
        assert_eq!(Lang::Nl.euros(-750), "€\u{a0}-7,50");
        assert_eq!(Lang::En.euros(-750), "-€7.50");
    }

    #[test]
    fn periods_are_named_in_each_language() {
        assert_eq!(Lang::Nl.period_short(&period("2026-03")), "mrt");
        assert_eq!(Lang::En.period_short(&period("2026-03")), "Mar");
        assert_eq!(Lang::Nl.period_long(&period("2026-05")), "mei 2026");
        assert_eq!(Lang::En.period_long(&period("2026-12")), "December 2026");
        assert_eq!(Lang::Nl.period_short(&period("2026-Q4")), "K4");
        assert_eq!(Lang::En.period_long(&period("2026-Q2")), "Q2 2026");
        assert_eq!(Lang::Nl.period_long(&period("2026")), "2026");
        let months: Vec<String> =
            Period::of_year(Granularity::Month, 2026).iter().map(|month| Lang::En.period_short(month)).collect();
        assert_eq!(months.first().map(String::as_str), Some("Jan"));
        assert_eq!(months.last().map(String::as_str), Some("Dec"));
    }
}
