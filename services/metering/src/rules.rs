//! The fee rules, as pure functions over exchanges: the reference the stored counting is checked
//! against, and the tariffs.
//!
//! The rule: per PGO and reporting period, the **new unique users** are the persons with at least
//! one successful exchange (collect or share) in that period who were not already counted for
//! that PGO in an earlier period of the same calendar year. Because periods divide the calendar
//! year, a person is new in exactly the period holding their first exchange of the year: the
//! service therefore keeps only that first exchange per (PGO, person, year) and counts from it.

use crate::period::{Granularity, Period, year_of};
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet};

/// Collecting (Verzamelen) or sharing (Delen): both count alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExchangeKind {
    /// A PGO retrieved data.
    Collect,
    /// A PGO delivered data.
    Share,
}

impl ExchangeKind {
    /// `collect` or `share`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeKind::Collect => "collect",
            ExchangeKind::Share => "share",
        }
    }
}

/// A successful exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The PGO's client id.
    pub client_id: String,
    /// The person's pseudonym.
    pub pseudonym: String,
    /// When it was answered (ms since the epoch).
    pub at: i64,
    /// Its `MedMij-Request-ID`.
    pub request_id: String,
    /// The provider's MedMij name.
    pub provider: String,
    /// The data service.
    pub data_service: String,
    /// Collect or share.
    pub kind: ExchangeKind,
}

/// The new unique users of each PGO in `period`, by the rule as written: walking the periods of
/// the year in order, each period's active persons minus those counted before.
pub fn new_users_by_rule(exchanges: &[Exchange], period: Period, zone: Tz) -> BTreeMap<String, BTreeSet<String>> {
    let mut counted: BTreeSet<(String, String)> = BTreeSet::new();
    for current in Period::of_year(period.granularity(), period.year) {
        let active: BTreeSet<(String, String)> = exchanges
            .iter()
            .filter(|exchange| current.contains(exchange.at, zone))
            .map(|exchange| (exchange.client_id.clone(), exchange.pseudonym.clone()))
            .collect();
        let new: Vec<(String, String)> = active.difference(&counted).cloned().collect();
        if current == period {
            let mut by_client: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (client, person) in new {
                by_client.entry(client).or_default().insert(person);
            }
            return by_client;
        }
        counted.extend(new);
    }
    BTreeMap::new()
}

/// The first exchange of each (PGO, year, person): what the service stores.
pub fn first_exchanges(exchanges: &[Exchange], zone: Tz) -> BTreeMap<(String, i32, String), Exchange> {
    let mut firsts: BTreeMap<(String, i32, String), Exchange> = BTreeMap::new();
    for exchange in exchanges {
        let key = (exchange.client_id.clone(), year_of(exchange.at, zone), exchange.pseudonym.clone());
        match firsts.get(&key) {
            Some(held) if held.at <= exchange.at => {}
            _ => {
                firsts.insert(key, exchange.clone());
            }
        }
    }
    firsts
}

/// The new unique users of each PGO in `period`, from the first exchanges of the year.
pub fn new_users_from_firsts(exchanges: &[Exchange], period: Period, zone: Tz) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_client: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for ((client, year, person), first) in first_exchanges(exchanges, zone) {
        if year == period.year && period.contains(first.at, zone) {
            by_client.entry(client).or_default().insert(person);
        }
    }
    by_client
}

/// The fee per new unique user, changing from a month on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tariffs {
    /// (first month `YYYY-MM`, cents), sorted by month.
    steps: Vec<(String, i64)>,
}

impl Tariffs {
    /// Tariffs from (first month, cents) pairs; months as `YYYY-MM`.
    pub fn new(steps: impl IntoIterator<Item = (String, i64)>) -> Tariffs {
        let mut steps: Vec<(String, i64)> = steps.into_iter().collect();
        steps.sort();
        Tariffs { steps }
    }

    /// The MedMij user fee: EUR 7.50 throughout.
    pub fn standard() -> Tariffs {
        Tariffs::new([("2020-01".to_owned(), 750)])
    }

    /// Cents for a user whose first exchange of the year was at `millis`: the tariff of the latest
    /// step not after that month (none before the first step: 0).
    pub fn cents_at(&self, millis: i64, zone: Tz) -> i64 {
        let month = Period::containing(Granularity::Month, millis, zone).first_month();
        self.steps.iter().rev().find(|(from, _)| *from <= month).map(|(_, cents)| *cents).unwrap_or(0)
    }

    /// The same tariffs with each step's first instant in `zone`: pricing by comparing integers,
    /// for the millions of users of a year's report (working out each one's month in the zone
    /// took a second of such a report).
    pub fn schedule(&self, zone: Tz) -> TariffSchedule {
        let starts = self.steps.iter().filter_map(|(from, cents)| {
            let (year, month) = from.split_once('-')?;
            Some((crate::period::month_start(year.parse().ok()?, month.parse().ok()?, zone), *cents))
        });
        TariffSchedule { steps: starts.collect() }
    }
}

/// [`Tariffs`] in one zone: (first instant in ms, cents), sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TariffSchedule {
    steps: Vec<(i64, i64)>,
}

impl TariffSchedule {
    /// Cents for a user whose first exchange of the year was at `millis`, as
    /// [`Tariffs::cents_at`] says.
    pub fn cents_at(&self, millis: i64) -> i64 {
        self.steps.iter().rev().find(|(from, _)| *from <= millis).map(|(_, cents)| *cents).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests;
