//! The demo flow by clicking the real pages: the demo PGO -> the service's landing page -> the
//! DigiD simulator -> the consent page -> back at the demo PGO, which shows the data it collected
//! with the code it was given.

use crate::person::Person;
use crate::steps::{DEMO_PGO, DEMO_PROVIDER, log_in, query, start_at_demo_pgo, to_simulator};
use crate::{BSNS, backend_of};
use e2e::{ANNA, TestApp};
use test_support::on_both_backends;

on_both_backends!(a_person_gives_consent_and_the_demo_pgo_shows_the_collected_data, |database| {
    let backend = backend_of(&database);
    let app = TestApp::start_authorization(database, &[]).await;
    let Some(person) = Person::start(&app).await else { return };

    start_at_demo_pgo(&app, &person).await;
    let landing = person.text().await;
    assert!(landing.contains(DEMO_PGO) && landing.contains(DEMO_PROVIDER), "{landing}");
    assert!(landing.contains("Inloggen met DigiD"), "Dutch by default: {landing}");
    assert_eq!(person.html_lang().await.as_deref(), Some("nl"));
    // The stylesheet is a file of the service's own origin, the one source its CSP allows.
    assert_eq!(person.style_of("login", "background-color").await, "rgba(21, 66, 115, 1)", "the stylesheet applies");
    person.check_widths(&format!("landing-page-{backend}")).await;

    to_simulator(&app, &person, "/oauth/login/callback").await;
    let consent = log_in(&person, ANNA, "/oauth/consent").await;
    assert_eq!(consent.query(), None);
    let page = person.text().await;
    for expected in [DEMO_PGO, demo::pgo_client::HOSTNAME, DEMO_PROVIDER, "Basisgegevens zorg (BgZ) 3.0"] {
        assert!(page.contains(expected), "the consent page names {expected:?}: {page}");
    }
    assert!(person.has("allow").await && person.has("deny").await);
    person.check_widths(&format!("consent-page-{backend}")).await;
    person.screenshot(&format!("consent-page-{backend}")).await;
    if backend == "sqlite" {
        // The CI artifact; only one of the two tests running at once writes it.
        person.screenshot("consent-page").await;
    }

    let back = person.click("allow", "/demo-pgo/callback").await;
    assert!(query(&back, "code").is_some_and(|code| !code.is_empty()), "{back}");
    assert!(query(&back, "state").is_some() && query(&back, "error").is_none(), "{back}");
    let result = person.text().await;
    assert!(result.contains("Opgehaalde gegevens"), "{result}");
    assert!(result.contains("Patient/demo-patient-anna"), "the demo PGO retrieved Anna's record: {result}");
    assert!(result.contains("refresh token (ontvangen)"), "{result}");

    let trail = person.trail();
    assert_eq!(trail.len(), 5, "the pages seen: {trail:#?}");
    person.assert_no_bsn(&BSNS);
    person.close().await;
});
