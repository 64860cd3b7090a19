//! The MedMij "Delen" authorization, as a PGO and a person's browser do it: a request for one
//! data service that receives is confirmed (not consented to), gives one access token for that
//! data service alone and no refresh token, and stands beside the person's collecting consent
//! without merging into it either way. The PGO is the one the test lists allow 52.

use super::BSNS;
use super::flow::manage_login;
use e2e::pgo::{Browser, OTHER_PGO as PGO, Person, PgoServer, VERIFIER, authorize_url, challenge, param, request};
use e2e::{ANNA, TestApp};
use serde_json::{Value, json};
use store::{NewProvider, Write};
use test_support::on_both_backends;

const PROVIDER: &str = "vitaal";

/// A provider offering 48 and 52 that holds Anna.
async fn vitaal(app: &TestApp) {
    let new = NewProvider {
        name: PROVIDER.into(),
        display_name: "Vitaal".into(),
        data_services: vec!["48".into(), "52".into()],
    };
    let provider = app.context.store.create_provider(&new, None).await.expect("provider");
    let anna = json!({"resourceType": "Patient", "id": "anna",
        "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]},
        "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": ANNA}]});
    let prepared =
        app.context.ingestor.prepare_by_id(&provider, fhir_core::Release::Stu3, anna, None).expect("a Patient");
    app.context.store.write(provider.id, vec![Write::Put(Box::new(prepared.write))]).await.expect("stored");
}

/// Runs the flow for `scope` with Anna allowing; the token answer and the page she answered.
async fn flow(app: &TestApp, browser: &Browser, pgo: &PgoServer, scope: &str, state: &str) -> (Value, String) {
    let url = authorize_url(app, &request(PGO, scope, state, &challenge(VERIFIER)));
    let back = browser.authorize(&url, Person::LogsIn { bsn: ANNA, loa: "substantial", decision: "allow" }).await;
    let code = param(&back, "code").unwrap_or_else(|| panic!("no code: {back}"));
    let page = browser.pages().into_iter().rev().find(|page| page.contains("id=\"allow\"")).expect("the page answered");
    let (status, tokens) = pgo.exchange(PGO, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tokens}");
    (tokens, page)
}

fn weighing() -> Value {
    let patient = "urn:uuid:0d1e0000-0000-4000-8000-000000000001";
    json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"fullUrl": patient, "resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Observation",
            "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-BodyWeight"]},
            "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "subject": {"reference": patient}, "effectiveDateTime": "2026-12-01",
            "valueQuantity": {"value": 64.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}},
         "request": {"method": "POST", "url": "Observation"}}]})
}

on_both_backends!(a_share_is_confirmed_once_and_stands_beside_the_collecting_consent, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    vitaal(&app).await;
    let browser = Browser::new(&app);
    let pgo = PgoServer::new(&app);

    // Collecting 48 and 52: the consent page, a refresh token.
    let collecting = format!("{PROVIDER}~48 {PROVIDER}~52");
    let (tokens, page) = flow(&app, &browser, &pgo, &collecting, "collect").await;
    assert!(page.contains("manage-link"), "a consent names where it is managed");
    assert!(tokens["refresh_token"].is_string());
    let collector = tokens["access_token"].as_str().expect("token").to_owned();

    // Sharing with 52: the confirmation page, one token for 52 alone, no refresh token.
    let sharing = format!("{PROVIDER}~52");
    let (tokens, page) = flow(&app, &browser, &pgo, &sharing, "share").await;
    assert!(page.contains("Gegevens delen bevestigen") && page.contains("Ja, delen"), "{page}");
    assert!(!page.contains("manage-link"), "a share is not a lasting consent");
    assert_eq!(tokens["scope"], sharing.as_str(), "not merged into the collecting consent");
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    let sharer = tokens["access_token"].as_str().expect("token").to_owned();

    let post = |token: String| {
        app.client
            .post(app.base(PROVIDER, "52"))
            .bearer_auth(token)
            .header("Content-Type", "application/fhir+json")
            .body(weighing().to_string())
            .send()
    };
    let shared = post(sharer.clone()).await.expect("sent");
    assert_eq!(shared.status(), 200);
    let answer: Value = shared.json().await.expect("json");
    assert_eq!(answer["entry"][1]["response"]["status"], "201 Created", "{answer}");
    // The collecting token grants two data services: it does not share.
    assert_eq!(post(collector.clone()).await.expect("sent").status(), 403);

    // Collecting again later: the collecting consent is renewed, the share's stays its own.
    let (tokens, _) = flow(&app, &browser, &pgo, &format!("{PROVIDER}~48"), "again").await;
    assert_eq!(tokens["scope"], collecting.as_str(), "renewed with its own scope, not the share's");
    let provider = app.context.store.provider(PROVIDER).await.expect("read").expect("provider");
    let pseudonym = app.context.secret.pseudonym(ANNA);
    let consents =
        app.context.store.grants().active_consents(&pseudonym, fhir_core::date::now_millis()).await.expect("consents");
    let ours: Vec<&str> = consents
        .iter()
        .filter(|consent| consent.provider == provider.id)
        .map(|consent| consent.scope.as_str())
        .collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert!(ours.contains(&collecting.as_str()) && ours.contains(&sharing.as_str()), "{ours:?}");

    // The person's page: one lasting consent at Vitaal (the share's is not one), and the history
    // telling the share as what the app sent.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, to_login, _) = browser.post(&format!("{}/oauth/consents/login", app.address), &[("lang", "nl")]).await;
    let list = manage_login(&browser, &to_login.expect("to the OpenID Provider"), ANNA).await;
    let (consents, history) = list.split_once("Wie heeft uw gegevens opgehaald").expect("the history");
    assert_eq!(consents.matches("id=\"revoke-").count(), 1, "{consents}");
    assert!(history.contains("deelde") && history.contains("met Vitaal"), "{history}");

    browser.assert_no_bsn(&BSNS);
    pgo.assert_no_bsn(&BSNS);
});
