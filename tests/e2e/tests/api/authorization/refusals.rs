//! Each way an authorization request or a token request must fail, on its own: what the person
//! sees, what the PGO gets back, and that nothing was granted.

use super::{BSNS, bgz_patient};
use e2e::pgo::{
    Browser, LIMITED_PGO, OTHER_PGO, PGO, Person, PgoServer, REDIRECT_URI, VERIFIER, authorize_url, challenge, param,
    request,
};
use e2e::{ANNA, BRAM, OTHER_PROVIDER, PROVIDER, TestApp};
use test_support::on_both_backends;

const ALLOW: &str = "allow";

fn scope_48() -> String {
    format!("{PROVIDER}~48")
}

/// Runs a flow for `person` and returns the redirect back to the PGO.
async fn flow(app: &TestApp, client_id: &str, scope: &str, person: Person<'_>) -> url::Url {
    let browser = Browser::new(app);
    let challenge = challenge(VERIFIER);
    let back = browser.authorize(&authorize_url(app, &request(client_id, scope, "st", &challenge)), person).await;
    browser.assert_no_bsn(&BSNS);
    back
}

/// A code for Anna at the demo provider, data service 48, given to `client_id`.
async fn code_for(app: &TestApp, client_id: &str, bsn: &str) -> String {
    let back = flow(app, client_id, &scope_48(), Person::LogsIn { bsn, loa: "substantial", decision: ALLOW }).await;
    param(&back, "code").unwrap_or_else(|| panic!("a code: {back}"))
}

fn error_of(back: &url::Url) -> (Option<String>, Option<String>, Option<String>) {
    (param(back, "error"), param(back, "error_description"), param(back, "state"))
}

async fn get_authorize(app: &TestApp, pairs: &[(&str, &str)]) -> (u16, Option<String>, String) {
    Browser::new(app).get(&authorize_url(app, pairs)).await
}

on_both_backends!(an_unknown_client_or_a_foreign_redirect_uri_is_shown_never_redirected, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    let challenge = challenge(VERIFIER);
    let mut unknown = request("unknown.example.nl", "demoziekenhuis~48", "st", &challenge);
    let (status, location, page) = get_authorize(&app, &unknown).await;
    assert_eq!((status, location), (400, None));
    assert!(page.contains("niet bekend"), "{page}");
    unknown[1] = ("client_id", PGO);
    unknown[2] = ("redirect_uri", "https://evil.example.com/callback");
    let (status, location, _) = get_authorize(&app, &unknown).await;
    assert_eq!((status, location), (400, None), "a redirect URI off the client's hostname");
    unknown[2] = ("redirect_uri", "https://pgo.example.nl/callback?next=evil");
    let (status, location, _) = get_authorize(&app, &unknown).await;
    assert_eq!((status, location), (400, None), "a redirect URI with a query");
});

on_both_backends!(request_errors_go_back_to_the_pgo_with_fixed_descriptions, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    let challenge = challenge(VERIFIER);
    let two_providers = format!("{PROVIDER}~48 {OTHER_PROVIDER}~48");
    let not_offered = format!("{PROVIDER}~51");
    let cases: Vec<(Pairs, &str, &str)> = vec![
        (without(request(PGO, "demoziekenhuis~48", "st", &challenge), "state"), "invalid_request", "state is missing"),
        (
            with(request(PGO, "demoziekenhuis~48", "st", &challenge), "code_challenge_method", "plain"),
            "invalid_request",
            "PKCE: code_challenge_method plain is not supported, use S256",
        ),
        (request(PGO, &two_providers, "st", &challenge), "invalid_scope", "scope names more than one provider"),
        (
            request(OTHER_PGO, &not_offered, "st", &challenge),
            "invalid_scope",
            "scope names a provider or data service that is not offered here",
        ),
        (
            request(LIMITED_PGO, "demoziekenhuis~48", "st", &challenge),
            "invalid_scope",
            "scope names a data service this client may not use",
        ),
        (
            with(request(PGO, "demoziekenhuis~48", "st", &challenge), "response_type", "token"),
            "unsupported_response_type",
            "response_type must be code",
        ),
    ];
    for (pairs, error, description) in cases {
        let (status, location, body) = get_authorize(&app, &pairs).await;
        assert_eq!(status, 303, "{pairs:?}: {body}");
        let back = url::Url::parse(&location.expect("redirect")).expect("url");
        assert!(back.as_str().starts_with(REDIRECT_URI), "{back}");
        let state = if pairs.iter().any(|(name, _)| *name == "state") { Some("st".to_owned()) } else { None };
        assert_eq!(error_of(&back), (Some(error.into()), Some(description.into()), state), "{pairs:?}");
    }
});

/// Query parameters of an authorization request.
type Pairs<'a> = Vec<(&'a str, &'a str)>;

fn without<'a>(mut pairs: Vec<(&'a str, &'a str)>, name: &str) -> Vec<(&'a str, &'a str)> {
    pairs.retain(|(key, _)| *key != name);
    pairs
}

fn with<'a>(pairs: Vec<(&'a str, &'a str)>, name: &'a str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut pairs = without(pairs, name);
    pairs.push((name, value));
    pairs
}

on_both_backends!(the_person_cancels_or_logs_in_too_weakly_or_declines, |database| {
    let app = TestApp::start_authorization(database, &[("PGO_EXCHANGE__AUTHORIZATION__LOA__63", "high")]).await;
    let scope = scope_48();
    let cancelled = flow(&app, PGO, &scope, Person::CancelsLogin).await;
    assert_eq!(
        error_of(&cancelled),
        (Some("access_denied".into()), Some("the person cancelled the login".into()), Some("st".into()))
    );
    let scope_63 = format!("{PROVIDER}~63");
    let weak = flow(&app, PGO, &scope_63, Person::LogsIn { bsn: ANNA, loa: "substantial", decision: ALLOW }).await;
    assert_eq!(
        error_of(&weak).1.as_deref(),
        Some("the login's level of assurance is too low for this data service"),
        "63 asks for high here"
    );
    let low = flow(&app, PGO, &scope, Person::LogsIn { bsn: ANNA, loa: "low", decision: ALLOW }).await;
    assert_eq!(error_of(&low).0.as_deref(), Some("access_denied"), "48 asks for substantial by default");
    let strong = flow(&app, PGO, &scope_63, Person::LogsIn { bsn: ANNA, loa: "high", decision: ALLOW }).await;
    assert!(param(&strong, "code").is_some(), "high is enough: {strong}");

    let declined = flow(&app, PGO, &scope, Person::LogsIn { bsn: ANNA, loa: "substantial", decision: "deny" }).await;
    // A person the provider has no record of: the very same answer as a refusal.
    let unknown =
        flow(&app, PGO, &scope, Person::LogsIn { bsn: "999911120", loa: "substantial", decision: ALLOW }).await;
    assert_eq!(error_of(&declined), error_of(&unknown));
    assert_eq!(error_of(&unknown).1.as_deref(), Some("no authorization was given"));
});

on_both_backends!(a_code_works_once_and_a_replay_revokes_what_it_gave, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    let pgo = PgoServer::new(&app);
    let code = code_for(&app, PGO, ANNA).await;
    let (status, first) = pgo.exchange(PGO, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200);
    let access = first["access_token"].as_str().expect("access token");
    let patients = format!("{}/Patient", app.base(PROVIDER, "48"));
    assert_eq!(app.get(&patients, access).await.status(), 200);
    let (status, replay) = pgo.exchange(PGO, &code, Some(VERIFIER)).await;
    assert_eq!((status, replay["error"].as_str()), (400, Some("invalid_grant")));
    let (status, _) = pgo.refresh(PGO, first["refresh_token"].as_str().expect("refresh")).await;
    assert_eq!(status, 400, "the replay revoked the consent the code gave");
    assert_eq!(app.get(&patients, access).await.status(), 401, "and the access token it gave, at once");
    pgo.assert_no_bsn(&BSNS);
});

on_both_backends!(a_code_is_bound_to_its_client_redirect_uri_verifier_and_time, |database| {
    let app =
        TestApp::start_authorization(database, &[("PGO_EXCHANGE__AUTHORIZATION__CODE_LIFETIME_SECONDS", "1")]).await;
    let pgo = PgoServer::new(&app);
    let invalid_grant = |(status, answer): (u16, serde_json::Value)| {
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_grant")), "{answer}");
    };
    let code = code_for(&app, PGO, ANNA).await;
    invalid_grant(pgo.exchange(OTHER_PGO, &code, Some(VERIFIER)).await);

    let code = code_for(&app, PGO, ANNA).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://127.0.0.1:9/pgo/other"),
        ("client_id", PGO),
        ("code_verifier", VERIFIER),
    ];
    invalid_grant(pgo.token(&form).await);

    let code = code_for(&app, PGO, ANNA).await;
    invalid_grant(pgo.exchange(PGO, &code, None).await);
    let code = code_for(&app, PGO, ANNA).await;
    invalid_grant(pgo.exchange(PGO, &code, Some("wrong-verifier-wrong-verifier-wrong-verifier-x")).await);

    let code = code_for(&app, PGO, ANNA).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    invalid_grant(pgo.exchange(PGO, &code, Some(VERIFIER)).await);

    let (status, answer) = pgo.token(&[("grant_type", "password"), ("client_id", PGO)]).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("unsupported_grant_type")));
    let (status, answer) = pgo.exchange("unknown.example.nl", "x", None).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("invalid_client")));
});

on_both_backends!(a_reused_refresh_token_revokes_its_family, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    let pgo = PgoServer::new(&app);
    let code = code_for(&app, PGO, ANNA).await;
    let (_, first) = pgo.exchange(PGO, &code, Some(VERIFIER)).await;
    let old = first["refresh_token"].as_str().expect("refresh").to_owned();
    let (status, second) = pgo.refresh(PGO, &old).await;
    assert_eq!(status, 200);
    let newest = second["refresh_token"].as_str().expect("rotated").to_owned();
    let (status, _) = pgo.refresh(OTHER_PGO, &newest).await;
    assert_eq!(status, 400, "another client cannot use it");

    let code = code_for(&app, PGO, ANNA).await;
    let (_, first) = pgo.exchange(PGO, &code, Some(VERIFIER)).await;
    let old = first["refresh_token"].as_str().expect("refresh").to_owned();
    let (_, second) = pgo.refresh(PGO, &old).await;
    let newest = second["refresh_token"].as_str().expect("rotated").to_owned();
    let patients = format!("{}/Patient", app.base(PROVIDER, "48"));
    let access = second["access_token"].as_str().expect("access token");
    assert_eq!(app.get(&patients, access).await.status(), 200);
    let (status, reuse) = pgo.refresh(PGO, &old).await;
    assert_eq!((status, reuse["error"].as_str()), (400, Some("invalid_grant")));
    let (status, _) = pgo.refresh(PGO, &newest).await;
    assert_eq!(status, 400, "the reuse revoked the newest token of the family too");
    assert_eq!(app.get(&patients, access).await.status(), 401, "and every access token of it, at once");
});

on_both_backends!(a_token_reaches_only_its_own_persons_data, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    let pgo = PgoServer::new(&app);
    let code = code_for(&app, PGO, BRAM).await;
    let (_, tokens) = pgo.exchange(PGO, &code, Some(VERIFIER)).await;
    let bram = tokens["access_token"].as_str().expect("token");
    let base = app.base(PROVIDER, "48");
    let patients = app.get_json(&format!("{base}/Patient"), bram).await;
    assert_eq!(bgz_patient(&patients), "Patient/demo-patient-bram");
    assert_eq!(app.get(&format!("{base}/Patient/demo-patient-anna"), bram).await.status(), 404);
    assert_eq!(app.get(&format!("{base}/Patient?_id=demo-patient-anna"), bram).await.status(), 200);
    let by_id = app.get_json(&format!("{base}/Patient?_id=demo-patient-anna"), bram).await;
    assert_eq!(by_id["total"], 0, "{by_id}");
    // Nor another provider's, nor a data service it was not granted.
    let other = app.get(&format!("{}/Patient", app.base(OTHER_PROVIDER, "48")), bram).await;
    assert_eq!(other.status(), 401);
    let r4 = app.get(&format!("{}/Patient", app.base(PROVIDER, "63")), bram).await;
    assert_eq!(r4.status(), 403);
});

on_both_backends!(pages_refuse_framing_and_forms_without_the_session_token, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    let browser = Browser::new(&app);
    let challenge = challenge(VERIFIER);
    let (_, landing, _) = browser.get(&authorize_url(&app, &request(PGO, &scope_48(), "st", &challenge))).await;
    let response = app.client.get(landing.expect("landing")).send().await.unwrap();
    // Without the cookie (another browser): no session, nothing shown.
    assert_eq!(response.status(), 400);
    let headers = response.headers();
    assert_eq!(headers.get("x-frame-options").and_then(|v| v.to_str().ok()), Some("DENY"));
    let csp = headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{csp}");

    // A decision posted with a wrong CSRF token, or from another origin, is refused.
    let decision = format!("{}/oauth/decision", app.address);
    let (status, location, _) = browser.post(&decision, &[("csrf", "forged"), ("decision", "allow")]).await;
    assert_eq!((status, location), (403, None));
    let (_, _, page) = browser.get(&format!("{}/oauth/start", app.address)).await;
    let csrf = e2e::pgo::hidden(&page, "csrf").expect("csrf");
    let cross_site = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = cross_site
        .post(&decision)
        .header("Origin", "https://evil.example.com")
        .form(&[("csrf", csrf.as_str()), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "no session cookie from another site (SameSite), so nothing happens");
});

on_both_backends!(a_pgo_not_on_the_whitelist_gets_no_tokens, |database| {
    use medmij_lists::{ListHeader, ListShape, Whitelist, write_whitelist};
    let app = TestApp::start_authorization(database, &[]).await;
    let code = code_for(&app, PGO, ANNA).await;
    let whitelist = Whitelist {
        header: ListHeader { tijdstempel: "2026-11-01T10:00:00Z".into(), volgnummer: 1 },
        hosts: vec![OTHER_PGO.into()],
    };
    authorization::import(&app.context.store, write_whitelist(&whitelist, ListShape::Newer).as_bytes()).await.unwrap();
    // The lists are read again within seconds; wait for that.
    tokio::time::sleep(std::time::Duration::from_millis(10_500)).await;
    let (status, answer) = PgoServer::new(&app).exchange(PGO, &code, Some(VERIFIER)).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("invalid_client")), "{answer}");
});
