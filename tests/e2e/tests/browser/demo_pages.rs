//! What a first-time user meets on the demo PGO's result page and the DigiD simulator's login
//! page: both fit a desktop's and a phone's window; the result page names the provider and the
//! data services as people know them; the simulator's page names the provider the person logs in
//! for, speaks the language the flow was started in, and lists each scope once.

use crate::person::Person;
use crate::steps::{DEMO_PROVIDER, log_in, query, start_at_demo_pgo, to_simulator};
use crate::{BSNS, backend_of};
use e2e::{ANNA, PROVIDER, TestApp};
use test_support::on_both_backends;

/// The names of the demo provider's data services (48 and 63), as on the data-service name list.
const SERVICE_NAMES: [&str; 2] = ["Basisgegevens zorg (BgZ) 3.0", "Vaccinaties 1.0"];

/// The scope values on the simulator's page, checked to be there once each.
fn assert_each_scope_once(scopes: &str) {
    let values: Vec<&str> = scopes.split_whitespace().skip_while(|word| !word.ends_with(':')).skip(1).collect();
    assert!(values.contains(&"openid"), "the scopes: {scopes:?}");
    for value in &values {
        assert_eq!(values.iter().filter(|other| other == &value).count(), 1, "{value} once: {scopes:?}");
    }
}

on_both_backends!(the_demo_pgos_result_page_fits_and_names_the_provider_and_data_services, |database| {
    let backend = backend_of(&database);
    let app = TestApp::start_authorization(database, &[]).await;
    let Some(person) = Person::start(&app).await else { return };

    // The start page already offers the data services by name.
    person.open(demo::pgo_client::PATH).await;
    person.check_widths(&format!("demo-pgo-start-{backend}")).await;
    let offered = person.text().await;
    for name in SERVICE_NAMES {
        assert!(offered.contains(name), "{name:?} offered by name: {offered}");
    }

    start_at_demo_pgo(&app, &person).await;
    to_simulator(&app, &person, "/oauth/login/callback").await;
    person.check_widths(&format!("simulator-login-{backend}")).await;
    log_in(&person, ANNA, "/oauth/consent").await;
    person.click("allow", "/demo-pgo/callback").await;
    person.check_widths(&format!("demo-pgo-result-{backend}")).await;

    let page = person.text().await;
    for name in SERVICE_NAMES {
        assert!(page.contains(name), "the data service {name:?} by its name: {page}");
    }
    assert!(!page.contains("Gegevensdienst 48"), "no bare number stands in for a name: {page}");
    let collected = person.text_of("collected").await;
    assert!(collected.contains(&format!("opgehaald bij {DEMO_PROVIDER}")), "{collected}");
    assert!(!page.contains(PROVIDER), "the technical name {PROVIDER:?} does not stand in for it: {page}");
    // Every column is still there at a phone's width: the status of each query can be read.
    assert!(page.contains("200 OK") && page.contains("Patient/demo-patient-anna"), "{page}");

    person.assert_no_bsn(&BSNS);
    person.close().await;
});

on_both_backends!(the_simulator_names_the_provider_in_dutch_by_default_and_each_scope_once, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    let Some(person) = Person::start(&app).await else { return };

    start_at_demo_pgo(&app, &person).await;
    let simulator = to_simulator(&app, &person, "/oauth/login/callback").await;
    assert_eq!(query(&simulator, "scope").as_deref(), Some("openid"), "asked once: {simulator}");
    assert_eq!(query(&simulator, "ui_locales").as_deref(), Some("nl"), "{simulator}");
    assert_eq!(query(&simulator, authorization::ON_BEHALF_OF_PARAMETER).as_deref(), Some(DEMO_PROVIDER));

    assert_eq!(person.html_lang().await.as_deref(), Some("nl"));
    assert_eq!(person.text_of("login-for").await, format!("Inloggen voor {DEMO_PROVIDER}."));
    assert_eq!(person.text_of("login").await, "Inloggen");
    assert_each_scope_once(&person.text_of("scopes").await);
    let page = person.text().await;
    assert!(!page.contains("pgo-exchange"), "the provider, not the service's client id: {page}");

    person.assert_no_bsn(&BSNS);
    person.close().await;
});

on_both_backends!(the_simulator_speaks_english_when_the_flow_was_started_in_english, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    let Some(person) = Person::start(&app).await else { return };

    // The demo PGO's own request, as a PGO that knows its user reads English would send it.
    let mut authorize = url::Url::parse(&format!("{}/oauth/authorize", app.address)).expect("address");
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", demo::pgo_client::HOSTNAME)
        .append_pair("redirect_uri", &format!("{}{}/callback", app.address, demo::pgo_client::PATH))
        .append_pair("scope", &format!("{PROVIDER}~48"))
        .append_pair("state", "english-flow")
        .append_pair("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        .append_pair("code_challenge_method", "S256")
        .append_pair("ui_locales", "en");
    let landing = person.open(&format!("/oauth/authorize?{}", authorize.query().unwrap_or_default())).await;
    assert_eq!(landing.path(), "/oauth/start", "{landing}");
    assert_eq!(person.html_lang().await.as_deref(), Some("en"));

    let simulator = to_simulator(&app, &person, "/oauth/login/callback").await;
    assert_eq!(query(&simulator, "ui_locales").as_deref(), Some("en"), "{simulator}");
    assert_eq!(person.html_lang().await.as_deref(), Some("en"));
    assert_eq!(person.text_of("login-for").await, format!("Log in for {DEMO_PROVIDER}."));
    assert_eq!(person.text_of("login").await, "Log in");
    assert_eq!(person.text_of("cancel").await, "Cancel");
    assert_each_scope_once(&person.text_of("scopes").await);
    let page = person.text().await;
    for dutch in ["Inloggen", "Annuleren", "Betrouwbaarheidsniveau", "Testomgeving"] {
        assert!(!page.contains(dutch), "no Dutch ({dutch:?}) left: {page}");
    }

    person.assert_no_bsn(&BSNS);
    person.close().await;
});
