//! The whole MedMij "Verzamelen" flow, as a PGO and a person's browser do it: authorize ->
//! DigiD (simulator) login -> consent -> code -> token -> BgZ searches -> refresh -> the person
//! revokes -> refresh fails. No BSN in anything the PGO or the browser receives from the service.

use super::{BSNS, bgz_patient};
use e2e::pgo::{Browser, PGO, Person, PgoServer, VERIFIER, authorize_url, challenge, param, request};
use e2e::{ANNA, PROVIDER, TestApp};
use test_support::on_both_backends;

on_both_backends!(a_pgo_collects_refreshes_and_loses_access_when_the_person_revokes, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    let browser = Browser::new(&app);
    let pgo = PgoServer::new(&app);
    let scope = format!("{PROVIDER}~48 {PROVIDER}~63");
    let challenge = challenge(VERIFIER);
    let url = authorize_url(&app, &request(PGO, &scope, "state-1", &challenge));

    let back = browser.authorize(&url, Person::LogsIn { bsn: ANNA, loa: "substantial", decision: "allow" }).await;
    assert_eq!(param(&back, "state").as_deref(), Some("state-1"), "the state comes back verbatim");
    let code = param(&back, "code").expect("a code");
    let consent_page = browser.pages().into_iter().find(|page| page.contains("id=\"allow\"")).expect("consent page");
    assert!(consent_page.contains("Voorbeeld PGO B.V."), "the PGO organisation from the OAuth Client List");
    assert!(consent_page.contains("Demo Ziekenhuis"), "the provider");
    assert!(consent_page.contains("Basisgegevens zorg (BgZ) 3.0"), "the data-service names");
    assert!(consent_page.contains("lang=\"nl\""));

    let (status, tokens) = pgo.exchange(PGO, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert_eq!(tokens["scope"], scope.as_str());
    let access = tokens["access_token"].as_str().expect("access token").to_owned();
    let refresh = tokens["refresh_token"].as_str().expect("refresh token").to_owned();

    // The token reaches Anna's data, every BgZ query, and the R4 data service too.
    let patients = app.get_json(&format!("{}/Patient", app.base(PROVIDER, "48")), &access).await;
    assert_eq!(bgz_patient(&patients), "Patient/demo-patient-anna");
    for query in demo::queries(fhir_core::Release::Stu3) {
        let answer = app.get(&format!("{}/{query}", app.base(PROVIDER, "48")), &access).await;
        assert_eq!(answer.status(), 200, "{query}");
    }
    let immunizations = app.get_json(&format!("{}/Immunization", app.base(PROVIDER, "63")), &access).await;
    assert!(immunizations["total"].as_u64().is_some_and(|total| total > 0));

    // Refresh: a new access token and a new refresh token; the old refresh token is spent.
    let (status, renewed) = pgo.refresh(PGO, &refresh).await;
    assert_eq!(status, 200, "{renewed}");
    let refresh_2 = renewed["refresh_token"].as_str().expect("rotated").to_owned();
    assert_ne!(refresh_2, refresh);
    let access_2 = renewed["access_token"].as_str().expect("access token");
    assert_eq!(app.get(&format!("{}/Condition", app.base(PROVIDER, "48")), access_2).await.status(), 200);

    // The person revokes at the consent-management page.
    let (_, to_login, _) = browser.post(&format!("{}/oauth/consents/login", app.address), &[("lang", "nl")]).await;
    let list = manage_login(&browser, &to_login.expect("to the OpenID Provider"), ANNA).await;
    assert!(list.contains("Voorbeeld PGO B.V.") && list.contains("Demo Ziekenhuis"), "{list}");
    let consent_ids = e2e::pgo::hidden(&list, "consents").expect("a revoke button");
    let csrf = e2e::pgo::hidden(&list, "csrf").expect("csrf");
    // A forged list is refused, and revokes nothing.
    for forged in ["", "1,x", &"1,".repeat(200)] {
        let (status, _, _) = browser
            .post(&format!("{}/oauth/consents/revoke", app.address), &[("csrf", &csrf), ("consents", forged)])
            .await;
        assert_eq!(status, 400, "{forged:?}");
    }
    let (status, _, _) = browser
        .post(&format!("{}/oauth/consents/revoke", app.address), &[("csrf", &csrf), ("consents", &consent_ids)])
        .await;
    assert_eq!(status, 303);
    let (_, _, after) = browser.get(&format!("{}/oauth/consents?revoked=1", app.address)).await;
    // Gone from the consents; still named in the history of what it retrieved, below them.
    let (consents, history) = after.split_once("Wie heeft uw gegevens opgehaald").expect("the history");
    assert!(!consents.contains("Voorbeeld PGO B.V."), "the consent is gone from the list: {after}");
    assert!(history.contains("Voorbeeld PGO B.V.") && history.contains("Demo Ziekenhuis"), "{history}");

    let (status, refused) = pgo.refresh(PGO, &refresh_2).await;
    assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_grant")), "{refused}");
    // The access tokens already given stop at once, not when they expire.
    for token in [access.as_str(), access_2] {
        let answer = app.get(&format!("{}/Condition", app.base(PROVIDER, "48")), token).await;
        assert_eq!(answer.status(), 401);
    }

    browser.assert_no_bsn(&BSNS);
    pgo.assert_no_bsn(&BSNS);
});

/// Logs in on the consent-management page; returns the list page.
pub(crate) async fn manage_login(browser: &Browser, to_login: &str, bsn: &str) -> String {
    let (_, _, page) = browser.get(to_login).await;
    let request = e2e::pgo::hidden(&page, "request").expect("simulator form");
    let form = to_login.split('?').next().expect("url").to_owned();
    let loa = "http://eidas.europa.eu/LoA/substantial";
    let (_, callback, _) =
        browser.post(&form, &[("request", &request), ("bsn", bsn), ("loa", loa), ("action", "login")]).await;
    let (status, list_url, body) = browser.get(&callback.expect("callback")).await;
    assert_eq!(status, 303, "{body}");
    let (status, _, list) = browser.get(&list_url.expect("the list")).await;
    assert_eq!(status, 200);
    list
}
