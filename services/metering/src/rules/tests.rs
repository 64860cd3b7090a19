//! The fee rules, table-driven and as properties.

use super::*;
use proptest::prelude::*;

const AMSTERDAM: Tz = chrono_tz::Europe::Amsterdam;

/// Noon in Amsterdam on a day of `year-month`.
fn at(year: i32, month: u32, day: u32) -> i64 {
    use chrono::TimeZone;
    AMSTERDAM.with_ymd_and_hms(year, month, day, 12, 0, 0).single().map(|time| time.timestamp_millis()).unwrap_or(0)
}

fn exchange(client: &str, person: &str, millis: i64, kind: ExchangeKind) -> Exchange {
    Exchange {
        client_id: client.to_owned(),
        pseudonym: person.to_owned(),
        at: millis,
        request_id: format!("req-{millis}"),
        provider: "umcx".to_owned(),
        data_service: "48".to_owned(),
        kind,
    }
}

fn collect(client: &str, person: &str, millis: i64) -> Exchange {
    exchange(client, person, millis, ExchangeKind::Collect)
}

/// New users per client in `period`, by both the written rule and the stored form, which must
/// agree; as (client, count) pairs.
fn counts(exchanges: &[Exchange], period: &str) -> Vec<(String, usize)> {
    let period: Period = period.parse().expect("period");
    let by_rule = new_users_by_rule(exchanges, period, AMSTERDAM);
    assert_eq!(by_rule, new_users_from_firsts(exchanges, period, AMSTERDAM), "the two forms of the rule differ");
    by_rule.into_iter().map(|(client, persons)| (client, persons.len())).collect()
}

fn pairs(items: &[(&str, usize)]) -> Vec<(String, usize)> {
    items.iter().map(|(client, count)| ((*client).to_owned(), *count)).collect()
}

#[test]
fn the_rules_as_a_table() {
    let a = "pgo-a.example";
    let b = "pgo-b.example";
    struct Case {
        name: &'static str,
        exchanges: Vec<Exchange>,
        period: &'static str,
        expected: Vec<(String, usize)>,
    }
    let cases = vec![
        Case {
            name: "one user, many exchanges in a period, counts once",
            exchanges: (1..=20).map(|day| collect(a, "p1", at(2026, 3, day))).collect(),
            period: "2026-03",
            expected: pairs(&[(a, 1)]),
        },
        Case {
            name: "counted in March, active again in June: not new in June",
            exchanges: vec![collect(a, "p1", at(2026, 3, 5)), collect(a, "p1", at(2026, 6, 5))],
            period: "2026-06",
            expected: pairs(&[]),
        },
        Case {
            name: "counted in March, still counted in March",
            exchanges: vec![collect(a, "p1", at(2026, 3, 5)), collect(a, "p1", at(2026, 6, 5))],
            period: "2026-03",
            expected: pairs(&[(a, 1)]),
        },
        Case {
            name: "active again next January: new again",
            exchanges: vec![collect(a, "p1", at(2026, 3, 5)), collect(a, "p1", at(2027, 1, 5))],
            period: "2027-01",
            expected: pairs(&[(a, 1)]),
        },
        Case {
            name: "two PGOs: counted for each",
            exchanges: vec![collect(a, "p1", at(2026, 3, 5)), collect(b, "p1", at(2026, 3, 6))],
            period: "2026-03",
            expected: pairs(&[(a, 1), (b, 1)]),
        },
        Case {
            name: "counted by one PGO does not stop another counting later",
            exchanges: vec![collect(a, "p1", at(2026, 3, 5)), collect(b, "p1", at(2026, 6, 6))],
            period: "2026-06",
            expected: pairs(&[(b, 1)]),
        },
        Case {
            name: "share counts like collect",
            exchanges: vec![exchange(a, "p1", at(2026, 3, 5), ExchangeKind::Share)],
            period: "2026-03",
            expected: pairs(&[(a, 1)]),
        },
        Case {
            name: "share then collect in a later month: counted once, when sharing",
            exchanges: vec![exchange(a, "p1", at(2026, 2, 5), ExchangeKind::Share), collect(a, "p1", at(2026, 3, 5))],
            period: "2026-03",
            expected: pairs(&[]),
        },
        Case {
            name: "quarters: active in January and March is one user in Q1",
            exchanges: vec![collect(a, "p1", at(2026, 1, 5)), collect(a, "p1", at(2026, 3, 5))],
            period: "2026-Q1",
            expected: pairs(&[(a, 1)]),
        },
        Case {
            name: "a year: every user of the year once",
            exchanges: vec![
                collect(a, "p1", at(2026, 1, 5)),
                collect(a, "p1", at(2026, 11, 5)),
                collect(a, "p2", at(2026, 12, 5)),
            ],
            period: "2026",
            expected: pairs(&[(a, 2)]),
        },
        Case {
            name: "23:30 UTC on New Year's Eve is already January in Amsterdam",
            exchanges: vec![collect(a, "p1", at(2026, 12, 31) + 12 * 3_600_000 + 30 * 60_000)],
            period: "2027-01",
            expected: pairs(&[(a, 1)]),
        },
        Case {
            name: "nobody active: nobody new",
            exchanges: vec![collect(a, "p1", at(2026, 2, 5))],
            period: "2026-03",
            expected: pairs(&[]),
        },
    ];
    for case in cases {
        assert_eq!(counts(&case.exchanges, case.period), case.expected, "{}", case.name);
    }
}

#[test]
fn the_tariff_is_that_of_the_first_exchange_month() {
    let tariffs = Tariffs::new([("2020-01".to_owned(), 750), ("2026-07".to_owned(), 800)]);
    assert_eq!(tariffs.cents_at(at(2026, 6, 30), AMSTERDAM), 750);
    assert_eq!(tariffs.cents_at(at(2026, 7, 1), AMSTERDAM), 800);
    assert_eq!(Tariffs::new([("2026-01".to_owned(), 750)]).cents_at(at(2025, 12, 1), AMSTERDAM), 0);
    assert_eq!(Tariffs::standard().cents_at(at(2026, 3, 1), AMSTERDAM), 750);
}

/// The schedule prices like the tariffs, also right at the midnights where a step begins (in
/// Amsterdam, an hour or two before midnight UTC).
#[test]
fn the_schedule_prices_like_the_tariffs() {
    let tariffs = Tariffs::new([("2020-01".to_owned(), 750), ("2026-07".to_owned(), 800), ("2027-01".to_owned(), 0)]);
    let schedule = tariffs.schedule(AMSTERDAM);
    let step = crate::period::month_start(2026, 7, AMSTERDAM);
    for millis in [step - 1, step, step + 1, at(2019, 12, 31), at(2026, 3, 1), at(2027, 1, 1), at(2030, 1, 1)] {
        assert_eq!(schedule.cents_at(millis), tariffs.cents_at(millis, AMSTERDAM), "at {millis}");
    }
    assert_eq!(schedule.cents_at(step - 1), 750);
    assert_eq!(schedule.cents_at(step), 800);
}

fn arbitrary_exchanges() -> impl Strategy<Value = Vec<Exchange>> {
    let one =
        (0..3_usize, 0..6_usize, 0..(2 * 365 * 24_i64), any::<bool>()).prop_map(|(client, person, hour, share)| {
            let start = at(2026, 1, 1) - 12 * 3_600_000;
            let kind = if share { ExchangeKind::Share } else { ExchangeKind::Collect };
            exchange(&format!("pgo-{client}.example"), &format!("p{person}"), start + hour * 3_600_000, kind)
        });
    proptest::collection::vec(one, 0..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_schedule_agrees_with_the_tariffs_everywhere(millis in 1_500_000_000_000_i64..1_900_000_000_000) {
        let tariffs =
            Tariffs::new([("2020-01".to_owned(), 750), ("2026-07".to_owned(), 800), ("2028-03".to_owned(), 820)]);
        prop_assert_eq!(tariffs.schedule(AMSTERDAM).cents_at(millis), tariffs.cents_at(millis, AMSTERDAM));
    }

    /// The stored form (first exchange of the year) gives the written rule's answer for every
    /// period of every length.
    #[test]
    fn first_exchanges_give_the_rule(exchanges in arbitrary_exchanges()) {
        for year in [2026, 2027] {
            for granularity in [Granularity::Month, Granularity::Quarter, Granularity::Year] {
                for period in Period::of_year(granularity, year) {
                    prop_assert_eq!(
                        new_users_by_rule(&exchanges, period, AMSTERDAM),
                        new_users_from_firsts(&exchanges, period, AMSTERDAM)
                    );
                }
            }
        }
    }

    /// Over a year, each person active with a PGO is new exactly once, whatever the periods;
    /// and nobody is new in a period without an exchange in it.
    #[test]
    fn each_active_person_is_new_once_a_year(exchanges in arbitrary_exchanges()) {
        for granularity in [Granularity::Month, Granularity::Quarter] {
            let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
            for period in Period::of_year(granularity, 2026) {
                for (client, persons) in new_users_by_rule(&exchanges, period, AMSTERDAM) {
                    for person in persons {
                        let active = exchanges.iter().any(|e| {
                            e.client_id == client && e.pseudonym == person && period.contains(e.at, AMSTERDAM)
                        });
                        prop_assert!(active, "new without an exchange in the period");
                        prop_assert!(seen.insert((client.clone(), person)), "counted twice in a year");
                    }
                }
            }
            let year: Period = "2026".parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
            let active: BTreeSet<(String, String)> = exchanges
                .iter()
                .filter(|e| year.contains(e.at, AMSTERDAM))
                .map(|e| (e.client_id.clone(), e.pseudonym.clone()))
                .collect();
            prop_assert_eq!(seen, active);
        }
    }
}
