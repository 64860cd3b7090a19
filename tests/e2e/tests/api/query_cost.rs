//! What one search may cost: repeated parameters, long value lists, `_include`s and paging are
//! bounded and refused with a 400 naming the limit, before any SQL runs; searches at the
//! largest limits the settings allow still answer, on both backends; values the database would
//! refuse (a NUL) are 400s; and no statement outlives the statement timeout.

use e2e::{ANNA, PROVIDER, TestApp};
use serde_json::Value;
use std::time::Duration;
use test_support::on_both_backends;

/// A request must answer well within this; it guards against a hang, it measures nothing.
const NO_HANG: Duration = Duration::from_secs(20);

/// `name=value` for each value, joined with `&`.
fn repeated(name: &str, values: impl IntoIterator<Item = String>) -> String {
    values.into_iter().map(|value| format!("{name}={value}")).collect::<Vec<_>>().join("&")
}

async fn get_within(app: &TestApp, url: &str, token: &str) -> (u16, Value) {
    let response = tokio::time::timeout(NO_HANG, app.get(url, token)).await.expect("answered, not hung");
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    (status, serde_json::from_str(&body).unwrap_or_else(|_| panic!("JSON: {body}")))
}

/// Asserts a 400 OperationOutcome whose diagnostics name `words`.
fn assert_refused(status: u16, outcome: &Value, code: &str, words: &str) {
    assert_eq!(status, 400, "{outcome}");
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["code"], code, "{outcome}");
    let diagnostics = outcome["issue"][0]["diagnostics"].as_str().unwrap_or_default();
    assert!(diagnostics.contains(words), "{diagnostics}");
}

on_both_backends!(a_thousand_repeated_codes_or_dates_are_refused_at_once, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    // Short values keep the request line within what any HTTP layer takes (some 10 KB).
    let codes = repeated("code", (0..1000).map(|n| format!("c{n}")));
    let (status, outcome) = get_within(&app, &format!("{base}/Observation?{codes}"), &token).await;
    assert_refused(status, &outcome, "too-costly", "search.max_repeats");
    let dates = repeated("date", (0..1000).map(|n| format!("{}", 1000 + n)));
    let (status, outcome) = get_within(&app, &format!("{base}/Observation?{dates}"), &token).await;
    assert_refused(status, &outcome, "too-costly", "search.max_repeats");
    let values = format!("code={}", (0..1000).map(|n| format!("c{n}")).collect::<Vec<_>>().join(","));
    let (status, outcome) = get_within(&app, &format!("{base}/Observation/$lastn?{values}"), &token).await;
    assert_refused(status, &outcome, "too-costly", "search.max_values");
    let includes = repeated("_include", (0..11).map(|_| "Patient:general-practitioner".to_owned()));
    let (status, outcome) = get_within(&app, &format!("{base}/Patient?{includes}"), &token).await;
    assert_refused(status, &outcome, "too-costly", "search.max_includes");
    // Nothing the service started is still running.
    if app.context.store.backend() == store::Backend::Postgres {
        assert_eq!(long_running_statements(&app).await, 0);
    }
});

/// Statements on the test's database, other than this query, running for more than a second.
async fn long_running_statements(app: &TestApp) -> i64 {
    use sqlx::{Connection, Row};
    let mut connection = sqlx::PgConnection::connect(&app.context.settings.database_url()).await.expect("connects");
    sqlx::query(
        "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
         AND pid <> pg_backend_pid() AND state = 'active' AND now() - query_start > interval '1 second'",
    )
    .fetch_one(&mut connection)
    .await
    .expect("pg_stat_activity")
    .get("n")
}

on_both_backends!(searches_at_the_largest_limits_the_settings_allow_still_answer, |database| {
    let app = TestApp::start_with(
        database,
        &[("PGO_EXCHANGE__SEARCH__MAX_REPEATS", "100"), ("PGO_EXCHANGE__SEARCH__MAX_VALUES", "200")],
    )
    .await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    // Anna has three blood pressures (LOINC 85354-9) measured since 2000.
    let codes = repeated("code", (0..99).map(|_| "http://loinc.org|85354-9".to_owned()));
    let dates = repeated("date", (0..100).map(|n| format!("ge{}-01-01", 1900 + n)));
    let (status, bundle) = get_within(&app, &format!("{base}/Observation?{codes}&code=85354-9&{dates}"), &token).await;
    assert_eq!(status, 200, "{bundle}");
    assert_eq!(bundle["total"], 3);
    let mut values: Vec<String> = (0..199).map(|n| format!("c{n}")).collect();
    values.push("http://loinc.org|85354-9".into());
    let alternatives = format!("{codes}&code={}", values.join(","));
    let (status, bundle) = get_within(&app, &format!("{base}/Observation?{alternatives}"), &token).await;
    assert_eq!(status, 200, "{bundle}");
    assert_eq!(bundle["total"], 3);
    let (status, bundle) = get_within(&app, &format!("{base}/Observation/$lastn?{alternatives}&max=2"), &token).await;
    assert_eq!(status, 200, "{bundle}");
    assert_eq!(bundle["total"], 2);
    // One more than allowed is refused.
    let too_many = repeated("code", (0..101).map(|_| "http://loinc.org|85354-9".to_owned()));
    let (status, outcome) = get_within(&app, &format!("{base}/Observation?{too_many}"), &token).await;
    assert_refused(status, &outcome, "too-costly", "at most 100");
});

on_both_backends!(repeated_parameters_still_mean_and, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let one = app.get_json(&format!("{base}/Observation?code=http://loinc.org|85354-9"), &token).await;
    let both = app
        .get_json(&format!("{base}/Observation?code=http://loinc.org|85354-9&code=http://loinc.org|85354-9"), &token)
        .await;
    assert_eq!(both["total"], one["total"]);
    // No observation carries both codes at once.
    let neither = app
        .get_json(&format!("{base}/Observation?code=http://loinc.org|85354-9&code=http://loinc.org|29463-7"), &token)
        .await;
    assert_eq!(neither["total"], 0);
    // A date range as two bounds: the blood pressures of 2025 only.
    let range = app
        .get_json(
            &format!("{base}/Observation?code=http://loinc.org|85354-9&date=ge2025-01-01&date=le2025-12-31"),
            &token,
        )
        .await;
    assert_eq!(range["total"], 1, "{range}");
});

on_both_backends!(paging_beyond_the_limits_is_refused_before_any_sql, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    for offset in ["9223372036854775808", "18446744073709551615", "100001"] {
        let (status, outcome) = get_within(&app, &format!("{base}/Observation?_offset={offset}"), &token).await;
        assert_refused(status, &outcome, "too-costly", "search.max_offset");
    }
    let (status, outcome) =
        get_within(&app, &format!("{base}/Observation?_offset=99999999999999999999999"), &token).await;
    assert_refused(status, &outcome, "invalid", "_offset");
    let (status, outcome) =
        get_within(&app, &format!("{base}/Observation?_count=99999999999999999999999"), &token).await;
    assert_refused(status, &outcome, "invalid", "_count");
    // The largest offset allowed is an ordinary, empty page.
    let (status, bundle) = get_within(&app, &format!("{base}/Observation?_offset=100000"), &token).await;
    assert_eq!(status, 200, "{bundle}");
    assert!(bundle["total"].as_u64().is_some_and(|total| total > 0));
    assert!(bundle.get("entry").is_none());
});

on_both_backends!(values_the_database_would_refuse_are_bad_requests, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    for query in ["code=%00", "code=http://loinc.org|8%00", "date=ge2020%00", "_id=a%00b", "category=%01x"] {
        let (status, outcome) = get_within(&app, &format!("{base}/Observation?{query}"), &token).await;
        assert_eq!(status, 400, "{query}: {outcome}");
        assert_eq!(outcome["resourceType"], "OperationOutcome");
    }
    let (status, outcome) = get_within(&app, &format!("{base}/Observation/a%00b"), &token).await;
    assert_eq!(status, 404, "{outcome}");
});
