//! The same exchanges, metered into SQLite and into PostgreSQL, give the same reports, and both
//! give the fee rules' answer for every month, quarter and the year.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use metering::{
    Exchange, ExchangeKind, Granularity, Meter, Period, ReportRequest, ReportSettings, Tariffs, UsageReport,
};
use std::collections::{BTreeMap, BTreeSet};
use store::Store;
use test_support::{Backend, TestDatabase};

const ZONE: chrono_tz::Tz = chrono_tz::Europe::Amsterdam;

/// A fixed, varied year of exchanges: 5 PGOs, 40 persons, collects and shares, some at the edges
/// of months (in Amsterdam, not UTC), some repeated, one in the next January.
fn exchanges() -> Vec<Exchange> {
    let start = Period::containing(Granularity::Year, 1_767_225_600_000, ZONE).bounds(ZONE).0; // 2026
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut exchanges: Vec<Exchange> = (0..400)
        .map(|index| {
            let at = start + i64::try_from(next() % (365 * 86_400_000)).unwrap();
            Exchange {
                client_id: format!("pgo-{}.example", next() % 5),
                pseudonym: format!("person-{:02}", next() % 40),
                at,
                request_id: format!("req-{index}"),
                provider: ["umcx", "umcy"][usize::try_from(next() % 2).unwrap()].to_owned(),
                data_service: "48".to_owned(),
                kind: if next() % 4 == 0 { ExchangeKind::Share } else { ExchangeKind::Collect },
            }
        })
        .collect();
    // The first instant of March in Amsterdam, and the last of February.
    let march = "2026-03".parse::<Period>().unwrap().bounds(ZONE).0;
    for (at, person) in [(march, "edge-1"), (march - 1, "edge-2")] {
        exchanges.push(Exchange {
            at,
            pseudonym: person.to_owned(),
            request_id: format!("req-{person}"),
            ..exchanges[0].clone()
        });
    }
    let next_year = "2027-01".parse::<Period>().unwrap().bounds(ZONE).0 + 5_000;
    exchanges.push(Exchange { at: next_year, request_id: "req-2027".to_owned(), ..exchanges[1].clone() });
    exchanges
}

async fn metered(database: &TestDatabase, exchanges: &[Exchange]) -> Store {
    let store = Store::connect(&database.url, 4).await.unwrap();
    store.migrate().await.unwrap();
    let meter = Meter::new(store.clone(), ZONE, 10_000);
    for exchange in exchanges {
        meter.record(exchange).await.unwrap();
    }
    store
}

fn settings() -> ReportSettings {
    ReportSettings {
        issuer: "https://pgx.example".into(),
        zone: ZONE,
        tariffs: Tariffs::new([("2020-01".to_owned(), 750), ("2026-07".to_owned(), 800)]),
    }
}

fn periods() -> Vec<Period> {
    let mut periods = Period::of_year(Granularity::Month, 2026);
    periods.extend(Period::of_year(Granularity::Quarter, 2026));
    periods.extend(Period::of_year(Granularity::Year, 2026));
    periods.push("2027-01".parse().unwrap());
    periods
}

async fn reports(store: &Store) -> Vec<UsageReport> {
    let mut reports = Vec::new();
    for period in periods() {
        reports.push(
            metering::report::build(store, &settings(), &ReportRequest { period, client_id: None }, 0).await.unwrap(),
        );
    }
    reports
}

fn as_rule(report: &UsageReport) -> BTreeMap<String, BTreeSet<String>> {
    report
        .clients
        .iter()
        .map(|usage| (usage.client_id.clone(), usage.evidence.iter().map(|e| e.pseudonym.clone()).collect()))
        .collect()
}

/// The reports SQLite makes, checked against the fee rules written plainly.
async fn sqlite_reports_following_the_rules(exchanges: &[Exchange]) -> Vec<UsageReport> {
    let sqlite = TestDatabase::create(Backend::Sqlite).await;
    let sqlite_reports = reports(&metered(&sqlite, exchanges).await).await;
    let mut total_users = 0;
    for (period, report) in periods().into_iter().zip(&sqlite_reports) {
        assert_eq!(as_rule(report), metering::rules::new_users_by_rule(exchanges, period, ZONE), "{period}");
        assert_eq!(
            report.totals.new_users,
            report.clients.iter().map(|usage| usage.evidence.len() as u64).sum::<u64>()
        );
        if period.granularity() == Granularity::Month && period.year == 2026 {
            total_users += report.totals.new_users;
        }
    }
    let year = &sqlite_reports[12 + 4];
    assert_eq!(year.period.id, "2026");
    assert_eq!(year.totals.new_users, total_users, "the months add up to the year");
    assert!(year.totals.new_users > 50, "the sample is not trivial");
    let march = &sqlite_reports[2];
    assert!(march.clients.iter().flat_map(|usage| &usage.evidence).any(|e| e.pseudonym == "edge-1"));
    assert!(!march.clients.iter().flat_map(|usage| &usage.evidence).any(|e| e.pseudonym == "edge-2"));
    sqlite_reports
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_follow_the_rules_on_sqlite() {
    sqlite_reports_following_the_rules(&exchanges()).await;
}

test_support::postgres_test! {
async fn reports_are_the_same_on_sqlite_and_postgres() {
    let exchanges = exchanges();
    let sqlite_reports = sqlite_reports_following_the_rules(&exchanges).await;
    let postgres = TestDatabase::create(Backend::Postgres).await;
    let postgres_reports = reports(&metered(&postgres, &exchanges).await).await;
    assert_eq!(postgres_reports, sqlite_reports, "the backends disagree");
    for (sqlite, postgres) in sqlite_reports.iter().zip(&postgres_reports) {
        assert_eq!(sqlite.to_csv(), postgres.to_csv());
    }
}
}
