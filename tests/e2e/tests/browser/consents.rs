//! Consent management: after a granted flow the person opens "Mijn toestemmingen" from the demo
//! PGO, logs in with DigiD again, finds the demo PGO listed and revokes its consent.

use crate::person::Person;
use crate::steps::{DEMO_PGO, DEMO_PROVIDER, log_in, query, start_at_demo_pgo, to_simulator};
use crate::{BSNS, backend_of};
use e2e::{ANNA, TestApp};
use std::time::{SystemTime, UNIX_EPOCH};
use test_support::on_both_backends;

/// The consents of Anna the store still holds as active.
async fn active_consents(app: &TestApp) -> usize {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_millis();
    let now = i64::try_from(now).expect("milliseconds fit");
    let pseudonym = app.context.secret.pseudonym(ANNA);
    app.context.store.grants().active_consents(&pseudonym, now).await.expect("consents").len()
}

on_both_backends!(a_person_revokes_the_demo_pgos_consent_on_the_consent_page, |database| {
    let backend = backend_of(&database);
    let app = TestApp::start_authorization(database, &[]).await;
    let Some(person) = Person::start(&app).await else { return };
    start_at_demo_pgo(&app, &person).await;
    to_simulator(&app, &person, "/oauth/login/callback").await;
    log_in(&person, ANNA, "/oauth/consent").await;
    // The consent page points at the management page, as a link that leaves the flow open.
    assert!(person.has("manage-link").await, "{}", person.text().await);
    assert!(person.text_of("manage-link").await.contains("Mijn toestemmingen"));
    person.click("allow", "/demo-pgo/callback").await;
    assert_eq!(active_consents(&app).await, 1);
    // The demo PGO asks again (a person collecting a second time): the consent is renewed, not
    // doubled, so the page will show one line with one revoke button.
    start_at_demo_pgo(&app, &person).await;
    to_simulator(&app, &person, "/oauth/login/callback").await;
    log_in(&person, ANNA, "/oauth/consent").await;
    person.click("allow", "/demo-pgo/callback").await;
    assert_eq!(active_consents(&app).await, 1, "one consent per app and provider");

    let manage = person.follow("Mijn toestemmingen beheren", "/oauth/consents").await;
    assert_eq!(manage.query(), None);
    assert!(person.text().await.contains("Log in met DigiD om uw toestemmingen te zien."));
    person.check_widths(&format!("consent-management-login-{backend}")).await;
    to_simulator(&app, &person, "/oauth/consents/callback").await;
    let list = log_in(&person, ANNA, "/oauth/consents").await;
    assert_eq!(list.query(), None);
    let page = person.text().await;
    assert!(page.contains(DEMO_PGO) && page.contains(DEMO_PROVIDER), "the demo PGO is listed: {page}");
    // The demo PGO fetched Anna's BgZ and Vaccinaties twice within a minute (dozens of requests):
    // the page says who collected what, one line per data service collected in that burst, in
    // words a person knows.
    assert!(page.contains("Wie heeft uw gegevens opgehaald"), "{page}");
    let history = person.text_of("history").await;
    assert!(history.contains(DEMO_PROVIDER), "the collection is listed: {history}");
    let collections = person.ids_of("#history > li").await.len();
    assert_eq!(collections, 2, "a line per collection of a data service, not per request: {history}");
    assert!(history.contains("Basisgegevens zorg") && history.contains("onderdelen"), "{history}");
    for fhir in ["DeviceUseStatement", "AllergyIntolerance", "MedicationStatement", "Observation", " gegevens)"] {
        assert!(!page.contains(fhir), "{fhir} on the page: {page}");
    }
    // The kinds of data are there on demand.
    person.click_in_place("#history > li:first-child summary").await;
    let opened = person.text_of("history").await;
    assert!(opened.contains("Welke gegevens:"), "{opened}");
    assert!(
        ["Vaccinaties:", "Allergieën:", "Medicatiegebruik:"].iter().any(|kind| opened.contains(kind)),
        "the kinds by name: {opened}"
    );
    let revoke = person.ids_of("button[id^='revoke-']").await;
    assert_eq!(revoke.len(), 1, "one consent, one revoke button: {revoke:?}");
    person.check_widths(&format!("consent-management-{backend}")).await;
    person.screenshot(&format!("consent-management-{backend}")).await;
    if backend == "sqlite" {
        person.screenshot("consent-management").await;
    }

    let after = person.click(&revoke[0], "/oauth/consents").await;
    assert_eq!(query(&after, "revoked").as_deref(), Some("1"));
    let page = person.text().await;
    assert!(page.contains("De toestemming is ingetrokken."), "the revoked notice: {page}");
    assert!(page.contains("Er zijn geen apps met een doorlopende toestemming."), "{page}");
    // Gone from the consents; still named in the history of retrievals below them.
    let consents = page.split("Wie heeft uw gegevens opgehaald").next().unwrap_or_default();
    assert!(!consents.contains(DEMO_PGO), "the demo PGO is gone from the list: {page}");
    assert!(person.text_of("history").await.contains(DEMO_PROVIDER));
    assert!(person.ids_of("button[id^='revoke-']").await.is_empty());
    assert_eq!(active_consents(&app).await, 0, "revoked in the store, not only on the page");

    person.assert_no_bsn(&BSNS);
    person.close().await;
});
