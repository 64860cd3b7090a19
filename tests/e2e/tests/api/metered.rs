//! Metering and the access log over HTTP: a request answered 2xx is counted (once per person and
//! PGO a year), a refused one never; every request is logged; a success that cannot be metered
//! is not answered as a success.

use e2e::{ANNA, BRAM, PROVIDER, TestApp};
use test_support::on_both_backends;

const PGO: &str = "pgo.example.nl";

fn this_year() -> i64 {
    i64::from(metering::period::year_of(fhir_core::date::now_millis(), chrono_tz::Europe::Amsterdam))
}

/// A MedMij-Request-ID (a UUID) per person (`a`nna, `b`ram) and request.
fn id(person: char, index: usize) -> String {
    format!("0000000{person}-0000-4000-8000-{index:012}")
}

async fn get_with_id(app: &TestApp, url: &str, token: Option<&str>, request_id: &str) -> u16 {
    let mut request = app.client.get(url).header("MedMij-Request-ID", request_id);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().status().as_u16()
}

on_both_backends!(a_2xx_counts_once_and_a_refusal_never, |database| {
    let app = TestApp::start(database).await;
    let store = &app.context.store;
    let base = app.base(PROVIDER, "48");
    let anna = app.token(PROVIDER, ANNA, &["48"]);
    for round in 0..3 {
        assert_eq!(get_with_id(&app, &format!("{base}/Patient"), Some(&anna), &id('a', round)).await, 200);
    }
    assert_eq!(get_with_id(&app, &format!("{base}/Condition"), Some(&anna), &id('a', 3)).await, 200);
    // Bram is only ever refused.
    let bram_wrong_service = app.token(PROVIDER, BRAM, &["63"]);
    let bram = app.token(PROVIDER, BRAM, &["48"]);
    let refusals = [
        (format!("{base}/Patient"), None, 401),
        (format!("{base}/Patient"), Some("not-a-token".to_owned()), 401),
        (format!("{base}/Patient"), Some(bram_wrong_service), 403),
        (format!("{base}/Patient/does-not-exist"), Some(bram.clone()), 404),
        (format!("{base}/Observation?date=notadate"), Some(bram.clone()), 400),
        (format!("{base}/Basic"), Some(bram), 404),
    ];
    for (index, (url, token, status)) in refusals.iter().enumerate() {
        assert_eq!(get_with_id(&app, url, token.as_deref(), &id('b', index)).await, *status, "{url}");
    }
    let anna_pseudonym = app.context.secret.pseudonym(ANNA);
    let bram_pseudonym = app.context.secret.pseudonym(BRAM);
    assert!(store.usage().has_first_exchange(PGO, this_year(), &anna_pseudonym).await.unwrap());
    assert!(!store.usage().has_first_exchange(PGO, this_year(), &bram_pseudonym).await.unwrap(), "a refusal counted");
    let (start, end) = (fhir_core::date::now_millis() - 3_600_000, fhir_core::date::now_millis() + 60_000);
    let firsts = store.usage().first_exchanges(this_year(), start, end, None).await.unwrap();
    assert_eq!(firsts.len(), 1, "four exchanges of one person through one PGO count once");
    assert_eq!((firsts[0].request_id.as_str(), firsts[0].provider.as_str()), (id('a', 0).as_str(), PROVIDER));

    let entries = app.access_log(4 + refusals.len()).await;
    assert_eq!(entries.len(), 10);
    let by_id = |wanted: String| entries.iter().find(|entry| entry.request_id == wanted).unwrap().clone();
    let success = by_id(id('a', 0));
    assert_eq!((success.status, success.outcome.as_str()), (200, "success"));
    assert_eq!(success.client_id.as_deref(), Some(PGO));
    assert_eq!(success.pseudonym.as_deref(), Some(anna_pseudonym.as_str()));
    assert!(success.returned.iter().any(|item| item.starts_with("Patient/")), "{:?}", success.returned);
    let anonymous = by_id(id('b', 0));
    assert_eq!((anonymous.status, anonymous.outcome.as_str(), anonymous.client_id), (401, "refused", None));
    let not_found = by_id(id('b', 3));
    assert_eq!((not_found.status, not_found.pseudonym.as_deref()), (404, Some(bram_pseudonym.as_str())));
    assert!(not_found.returned.is_empty());
    assert_eq!(not_found.peer.as_deref(), Some("127.0.0.1"));
    for entry in &entries {
        assert!(!format!("{entry:?}").contains(ANNA) && !format!("{entry:?}").contains(BRAM), "a BSN in the log");
    }
});

on_both_backends!(a_success_that_cannot_be_metered_is_not_answered_as_one, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    // The meter's table is gone: the first exchange of a person cannot be recorded.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.context.settings.database_url()).await.unwrap();
    sqlx::query("DROP TABLE exchange_firsts").execute(&pool).await.unwrap();
    let response =
        app.client.get(format!("{base}/Patient")).bearer_auth(app.token(PROVIDER, ANNA, &["48"])).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 503);
    let outcome: serde_json::Value = response.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert!(!outcome.to_string().contains("exchange_firsts"), "no SQL reaches the client: {outcome}");
    let entries = app.access_log(1).await;
    assert_eq!((entries[0].status, entries[0].outcome.as_str()), (503, "failed"));
});
