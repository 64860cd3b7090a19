//! Delen (sharing) clicked through: a PGO asks for one data service that receives data (52,
//! Meetwaarden vitale functies), and after DigiD the person sees a confirmation page, not a
//! consent page: the sharing title (in Dutch, and in English after the switch), the PGO, the
//! provider and the data service, and no link to manage consents, since a share is one act and
//! leaves no consent to revoke. A request that collects (`~48 ~52`) still gets the consent page
//! with that link. Confirmed, the code gives one access token and no refresh token, and that token
//! shares a measurement; declined, the PGO is sent back `access_denied`.
//!
//! The demo provider does not offer 52, nor does the test OAuth Client List allow it the demo PGO,
//! so each test sets up a provider of its own offering 48 and 52 that holds one Patient (Lotte, of
//! the vital-signs fixtures in `tests/e2e/fixtures/vitalsigns/`), and the PGO is the test list's
//! `OTHER_PGO` (allowed 52) with the test PGO's redirect URI. Nothing listens there: the browser
//! shows its own error page at that address, whose query holds what the PGO would receive.

use crate::person::Person;
use crate::steps::{log_in, query, to_simulator};
use crate::{BSNS, backend_of};
use e2e::TestApp;
use e2e::pgo::{OTHER_PGO, PgoServer, REDIRECT_URI, VERIFIER, authorize_url, challenge, request};
use fhir_core::Release;
use ingest::LoadOptions;
use serde_json::{Value, json};
use std::path::PathBuf;
use store::NewProvider;
use test_support::on_both_backends;
use url::Url;

/// The provider shared with, by its MedMij name and its display name.
const PROVIDER: &str = "vitaal";
const PROVIDER_NAME: &str = "Vitaal Ziekenhuis";
/// `OTHER_PGO`'s organisation name on the test OAuth Client List.
const PGO_NAME: &str = "Andere PGO B.V.";
/// Lotte van Meeteren's BSN (`Patient-vs-lotte.json`).
const LOTTE: &str = "999955019";
/// Data service 52 by its name on the data-service name list.
const VITAL_SIGNS: &str = "Meetwaarden vitale functies 2.0";
/// The fullUrl of the shared Bundle's Patient entry.
const PATIENT_URN: &str = "urn:uuid:5ba1c0de-0000-4000-8000-00000000b10e";

/// The tests' vital-signs fixtures.
fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/vitalsigns")
}

/// A provider offering 48 and 52, holding Lotte's Patient and nothing else.
async fn vitaal(app: &TestApp) {
    let new = NewProvider {
        name: PROVIDER.into(),
        display_name: PROVIDER_NAME.into(),
        data_services: vec!["48".into(), "52".into()],
    };
    let provider = app.context.store.create_provider(&new, None).await.expect("provider");
    let files = [fixtures().join("Patient-vs-lotte.json")];
    let options = LoadOptions { release: Some(Release::Stu3), batch_size: 50 };
    let summary =
        app.context.ingestor.load(&app.context.store, &provider, &files, options, |_| {}).await.expect("loads");
    assert_eq!((summary.created, summary.rejected.len()), (1, 0), "{summary:#?}");
}

/// The PGO sends the person with a request for `services` at the provider and `state`; the person
/// logs in at the simulator as Lotte. Ends on the page after the login; returns the scope.
async fn ask_and_log_in(app: &TestApp, person: &Person, services: &[&str], state: &str) -> String {
    let scope = services.iter().map(|service| format!("{PROVIDER}~{service}")).collect::<Vec<_>>().join(" ");
    let url = authorize_url(app, &request(OTHER_PGO, &scope, state, &challenge(VERIFIER)));
    let landing = person.open(url.strip_prefix(&app.address).expect("the service's address")).await;
    assert_eq!(landing.path(), "/oauth/start", "{landing}");
    to_simulator(app, person, "/oauth/login/callback").await;
    let page = log_in(person, LOTTE, "/oauth/consent").await;
    assert_eq!(page.query(), None, "{page}");
    scope
}

/// Checks that `back` is the PGO's redirect URI with `state`; returns its other parameters'
/// `code` and `error`.
fn at_the_pgo(back: &Url, state: &str) -> (Option<String>, Option<String>) {
    assert!(back.as_str().starts_with(REDIRECT_URI), "back at the PGO's redirect URI: {back}");
    assert_eq!(query(back, "state").as_deref(), Some(state), "{back}");
    (query(back, "code"), query(back, "error"))
}

/// A batch as a PGO shares a measurement: the person (a Patient entry without a BSN) and a body
/// weight (from `Observation-vs-lotte-weight-2026-03.json`) whose subject and performer are that
/// entry.
fn shared_weight() -> Value {
    let text = std::fs::read_to_string(fixtures().join("Observation-vs-lotte-weight-2026-03.json")).expect("fixture");
    let mut weight: Value = serde_json::from_str(&text).expect("JSON");
    let fields = weight.as_object_mut().expect("an object");
    fields.remove("id");
    fields.insert("subject".into(), json!({"reference": PATIENT_URN}));
    fields.insert("performer".into(), json!([{"reference": PATIENT_URN}]));
    json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"fullUrl": PATIENT_URN,
            "resource": {"resourceType": "Patient",
                "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]},
                "identifier": [{"system": "http://example.org/pgo/patient-id", "value": "p-1"}]},
            "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": "urn:uuid:5ba1c0de-0000-4000-8000-00000000b10f",
            "resource": weight,
            "request": {"method": "POST", "url": "Observation"}},
    ]})
}

/// `POST [base 52]` of `bundle` with `token`: the status and the answer (checked for BSNs).
async fn share(app: &TestApp, token: &str, bundle: &Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.base(PROVIDER, "52"))
        .bearer_auth(token)
        .header("Content-Type", "application/fhir+json")
        .body(bundle.to_string())
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("body");
    e2e::assert_no_bsn("the share's answer", &body);
    assert!(!String::from_utf8_lossy(&body).contains(LOTTE), "Lotte's BSN in the share's answer");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

on_both_backends!(a_share_is_confirmed_on_its_own_page_and_its_token_has_no_refresh_token, |database| {
    let backend = backend_of(&database);
    let app = TestApp::start_authorization(database, &[]).await;
    vitaal(&app).await;
    let Some(person) = Person::start(&app).await else { return };

    let scope = ask_and_log_in(&app, &person, &["52"], "share-1").await;
    assert_eq!(person.html_lang().await.as_deref(), Some("nl"), "Dutch by default");
    let (heading, title) = person.heading_and_title().await;
    assert_eq!(heading, "Gegevens delen bevestigen");
    assert!(title.starts_with("Gegevens delen bevestigen"), "{title}");
    let page = person.text().await;
    for expected in [PGO_NAME, OTHER_PGO, PROVIDER_NAME, VITAL_SIGNS, "Wilt u dat deze app uw gegevens deelt met"] {
        assert!(page.contains(expected), "the confirmation page names {expected:?}: {page}");
    }
    for collecting in ["Toestemming geven", "ophaalt", "zes maanden", "Mijn toestemmingen"] {
        assert!(!page.contains(collecting), "a share is one act, not an ongoing consent ({collecting:?}): {page}");
    }
    assert_eq!(person.text_of("allow").await, "Ja, delen");
    assert_eq!(person.text_of("deny").await, "Nee");
    assert!(!person.has("manage-link").await, "no consent to manage: {page}");
    person.check_widths(&format!("share-page-{backend}")).await;
    person.screenshot(&format!("share-page-{backend}")).await;
    if backend == "sqlite" {
        // The CI artifact; only one of the two tests running at once writes it.
        person.screenshot("share-page").await;
    }

    let english = person.follow("English", "/oauth/consent").await;
    assert_eq!(english.query(), Some("lang=en"));
    assert_eq!(person.html_lang().await.as_deref(), Some("en"));
    let (heading, title) = person.heading_and_title().await;
    assert_eq!(heading, "Confirm sharing");
    assert!(title.starts_with("Confirm sharing"), "{title}");
    let page = person.text().await;
    for expected in [PGO_NAME, PROVIDER_NAME, VITAL_SIGNS, "Do you want this app to share your data with"] {
        assert!(page.contains(expected), "the English confirmation page names {expected:?}: {page}");
    }
    assert!(!page.contains("Gegevens delen bevestigen") && !page.contains("My consents"), "{page}");
    assert_eq!(person.text_of("allow").await, "Yes, share");
    assert_eq!(person.text_of("deny").await, "No");
    assert!(!person.has("manage-link").await, "no consent to manage in English either");
    person.check_widths(&format!("share-page-en-{backend}")).await;

    let back = person.click("allow", "/pgo/callback").await;
    let (code, error) = at_the_pgo(&back, "share-1");
    assert_eq!(error, None, "{back}");
    let code = code.expect("a code");
    let pgo = PgoServer::new(&app);
    let (status, tokens) = pgo.exchange(OTHER_PGO, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], scope.as_str(), "exactly the one data service confirmed");
    assert!(tokens.get("refresh_token").is_none(), "a share gets no refresh token: {tokens}");
    let access = tokens["access_token"].as_str().expect("an access token");

    // The one access token is what the share is done with.
    let (status, answered) = share(&app, access, &shared_weight()).await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(answered["type"], "batch-response", "{answered}");
    let statuses: Vec<&str> = answered["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| entry["response"]["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(statuses, ["200 OK", "201 Created"], "the person, then the measurement stored: {answered}");
    assert_eq!(answered["entry"][0]["response"]["location"], "Patient/vs-lotte", "the token's person");
    assert_eq!(answered["entry"][1]["resource"]["subject"]["reference"], "Patient/vs-lotte", "{answered}");

    person.assert_no_bsn(&[BSNS.as_slice(), &[LOTTE]].concat());
    pgo.assert_no_bsn(&[LOTTE]);
    person.close().await;
});

on_both_backends!(a_request_that_also_collects_asks_consent_with_the_manage_link, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    vitaal(&app).await;
    let Some(person) = Person::start(&app).await else { return };

    // 52 beside 48: the PGO collects both; not a share.
    let scope = ask_and_log_in(&app, &person, &["48", "52"], "collect-1").await;
    let (heading, _) = person.heading_and_title().await;
    assert_eq!(heading, "Toestemming geven");
    let page = person.text().await;
    for expected in [PGO_NAME, PROVIDER_NAME, VITAL_SIGNS, "Basisgegevens zorg (BgZ) 3.0", "zes maanden"] {
        assert!(page.contains(expected), "the consent page names {expected:?}: {page}");
    }
    assert!(!page.contains("Gegevens delen bevestigen"), "{page}");
    assert!(person.has("manage-link").await, "an ongoing consent can be managed: {page}");
    assert!(person.text_of("manage-link").await.contains("Mijn toestemmingen"));
    assert_eq!(person.text_of("allow").await, "Ja, ik geef toestemming");

    let back = person.click("allow", "/pgo/callback").await;
    let (code, _) = at_the_pgo(&back, "collect-1");
    let pgo = PgoServer::new(&app);
    let (status, tokens) = pgo.exchange(OTHER_PGO, &code.expect("a code"), Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], scope.as_str());
    assert!(tokens["refresh_token"].as_str().is_some_and(|token| !token.is_empty()), "collecting goes on: {tokens}");

    person.assert_no_bsn(&[BSNS.as_slice(), &[LOTTE]].concat());
    pgo.assert_no_bsn(&[LOTTE]);
    person.close().await;
});

on_both_backends!(a_person_who_declines_a_share_is_sent_back_with_access_denied, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    vitaal(&app).await;
    let Some(person) = Person::start(&app).await else { return };

    ask_and_log_in(&app, &person, &["52"], "share-2").await;
    assert_eq!(person.heading_and_title().await.0, "Gegevens delen bevestigen");
    let back = person.click("deny", "/pgo/callback").await;
    let (code, error) = at_the_pgo(&back, "share-2");
    assert_eq!(code, None, "no code: {back}");
    assert_eq!(error.as_deref(), Some("access_denied"), "{back}");
    assert_eq!(query(&back, "error_description").as_deref(), Some("no authorization was given"), "{back}");

    person.assert_no_bsn(&[BSNS.as_slice(), &[LOTTE]].concat());
    person.close().await;
});
