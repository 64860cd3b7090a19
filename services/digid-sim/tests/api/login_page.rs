//! The authorization endpoint and its page as a browser meets them: refusals that must not
//! redirect, refusals that must, the BSN check and the cancel button, the page's language, whom
//! it names and the scopes it lists.

use crate::helpers::{self, AuthRequest, BSN, OTHER_REDIRECT_URI, REDIRECT_URI, STATE};

#[tokio::test]
async fn the_page_is_a_marked_test_login_that_cannot_be_framed() {
    let sim = helpers::spawn(false, None).await;
    let page = sim.authorize(&AuthRequest::new(&helpers::pkce().challenge)).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(!policy.contains("script-src"), "{policy}");
    assert!(policy.contains("form-action 'self' https://pgo-exchange.example"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<html lang="nl">"#));
    assert!(html.contains("DigiD simulator") && html.contains("Testomgeving"));
    for id in [r#"id="bsn""#, r#"id="loa""#, r#"id="login""#, r#"id="cancel""#] {
        assert!(html.contains(id), "{id}");
    }
    assert!(html.contains(r#"<option value="http://eidas.europa.eu/LoA/substantial" selected>"#));
    assert!(!html.to_lowercase().contains("<script"), "no JavaScript");
    assert!(!html.contains("src=") && !html.contains("<link"), "no external resources");
}

#[tokio::test]
async fn an_invalid_bsn_is_refused_on_the_page() {
    let sim = helpers::spawn(false, None).await;
    let page = sim.authorize(&AuthRequest::new(&helpers::pkce().challenge)).await;
    let request_id = helpers::request_id(&page.text().await.unwrap());

    let answer = sim
        .submit(&[("request", &request_id), ("bsn", "999911121"), ("loa", digid_sim::LOA_HIGH), ("action", "login")])
        .await;
    assert_eq!(answer.status(), 200, "the page again, no redirect");
    let html = answer.text().await.unwrap();
    assert!(html.contains("elfproef"));
    assert!(html.contains(r#"value="999911121" aria-invalid="true" aria-describedby="bsn-error bsn-hint""#));
    assert!(html.contains(r#"id="bsn-error""#));
    assert!(html.contains(r#"<option value="http://eidas.europa.eu/LoA/high" selected>"#), "the pick is kept");

    // The request stays open: the corrected BSN logs in.
    let answer =
        sim.submit(&[("request", &request_id), ("bsn", BSN), ("loa", digid_sim::LOA_HIGH), ("action", "login")]).await;
    assert_eq!(answer.status(), 303);
    assert!(helpers::redirect(&answer).1.contains_key("code"));
}

#[tokio::test]
async fn cancel_sends_access_denied_with_the_state() {
    let sim = helpers::spawn(false, None).await;
    let page = sim.authorize(&AuthRequest::new(&helpers::pkce().challenge)).await;
    let request_id = helpers::request_id(&page.text().await.unwrap());

    let answer = sim.submit(&[("request", &request_id), ("bsn", ""), ("action", "cancel")]).await;
    assert_eq!(answer.status(), 303);
    let (target, params) = helpers::redirect(&answer);
    assert_eq!(target, REDIRECT_URI);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], STATE);
    assert!(!params.contains_key("code"));

    let again = sim.submit(&[("request", &request_id), ("bsn", BSN), ("action", "login")]).await;
    assert_eq!(again.status(), 400, "a cancelled request is gone");
}

#[tokio::test]
async fn an_unknown_client_or_redirect_uri_gets_a_page_and_no_redirect() {
    let sim = helpers::spawn(false, None).await;
    let challenge = helpers::pkce().challenge;
    let cases = [
        AuthRequest::new(&challenge).set("client_id", "evil.example"),
        AuthRequest::new(&challenge).without("client_id"),
        AuthRequest::new(&challenge).set("redirect_uri", "https://evil.example/callback"),
        AuthRequest::new(&challenge).set("redirect_uri", &format!("{REDIRECT_URI}/")),
        AuthRequest::new(&challenge).set("redirect_uri", OTHER_REDIRECT_URI),
        AuthRequest::new(&challenge).without("redirect_uri"),
    ];
    for request in &cases {
        let answer = sim.authorize(request).await;
        assert_eq!(answer.status(), 400);
        assert!(answer.headers().get("location").is_none());
        assert!(answer.text().await.unwrap().contains("ongeldig"));
    }
}

#[tokio::test]
async fn broken_requests_go_back_as_oauth_errors_with_the_state() {
    let sim = helpers::spawn(false, None).await;
    let challenge = helpers::pkce().challenge;
    let cases = [
        (AuthRequest::new(&challenge).set("code_challenge_method", "plain"), "invalid_request"),
        (AuthRequest::new(&challenge).without("code_challenge_method"), "invalid_request"),
        (AuthRequest::new(&challenge).without("code_challenge"), "invalid_request"),
        (AuthRequest::new(&challenge).set("code_challenge", "too-short"), "invalid_request"),
        (AuthRequest::new(&challenge).without("nonce"), "invalid_request"),
        (AuthRequest::new(&challenge).set("response_type", "token"), "unsupported_response_type"),
        (AuthRequest::new(&challenge).set("scope", "profile"), "invalid_scope"),
        (AuthRequest::new(&challenge).set("prompt", "none"), "login_required"),
    ];
    for (request, error) in &cases {
        let answer = sim.authorize(request).await;
        assert_eq!(answer.status(), 302);
        let (target, params) = helpers::redirect(&answer);
        assert_eq!(target, REDIRECT_URI);
        assert_eq!(&params["error"], error);
        assert_eq!(params["state"], STATE);
        assert!(params.contains_key("error_description"));
    }

    let no_state = sim.authorize(&AuthRequest::new(&challenge).without("state")).await;
    assert_eq!(helpers::redirect(&no_state).1["error"], "invalid_request");
}

#[tokio::test]
async fn an_unknown_or_finished_request_is_not_logged_in() {
    let sim = helpers::spawn(false, None).await;
    let answer =
        sim.submit(&[("request", "made-up"), ("bsn", BSN), ("loa", digid_sim::LOA_LOW), ("action", "login")]).await;
    assert_eq!(answer.status(), 400);
    assert!(answer.headers().get("location").is_none());

    let page = sim.authorize(&AuthRequest::new(&helpers::pkce().challenge)).await;
    let request_id = helpers::request_id(&page.text().await.unwrap());
    let login = [("request", request_id.as_str()), ("bsn", BSN), ("loa", digid_sim::LOA_LOW), ("action", "login")];
    assert_eq!(sim.submit(&login).await.status(), 303);
    assert_eq!(sim.submit(&login).await.status(), 400, "a form submitted twice gives one code");
}

#[tokio::test]
async fn an_authorization_request_may_come_by_post() {
    let sim = helpers::spawn(false, None).await;
    let request = AuthRequest::new(&helpers::pkce().challenge).set("acr_values", digid_sim::LOA_LOW);
    let page = sim.post_form("/authorize", &request.pairs(), None).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<option value="http://eidas.europa.eu/LoA/low" selected>"#));
    let request_id = helpers::request_id(&html);
    let answer =
        sim.submit(&[("request", &request_id), ("bsn", BSN), ("loa", digid_sim::LOA_LOW), ("action", "login")]).await;
    assert_eq!(answer.status(), 303);
    assert_eq!(helpers::redirect(&answer).1["state"], STATE);
}

#[tokio::test]
async fn the_page_is_in_the_language_of_ui_locales_and_dutch_by_default() {
    let sim = helpers::spawn(false, None).await;
    let challenge = helpers::pkce().challenge;
    let dutch = sim.authorize(&AuthRequest::new(&challenge)).await.text().await.unwrap();
    assert!(dutch.contains(r#"<html lang="nl">"#) && dutch.contains(">Inloggen</button>"), "{dutch}");

    let english = sim.authorize(&AuthRequest::new(&challenge).set("ui_locales", "en-GB nl")).await;
    let html = english.text().await.unwrap();
    assert!(html.contains(r#"<html lang="en">"#), "{html}");
    for expected in ["Test environment", "Log in for", ">Log in</button>", ">Cancel</button>", "Level of assurance"] {
        assert!(html.contains(expected), "{expected:?}: {html}");
    }
    assert!(!html.contains("Inloggen") && !html.contains("Annuleren"), "no Dutch left: {html}");

    // The language holds for the page shown again after a wrong BSN.
    let request_id = helpers::request_id(&html);
    let wrong = [("request", request_id.as_str()), ("bsn", "123"), ("loa", digid_sim::LOA_LOW), ("action", "login")];
    let html = sim.submit(&wrong).await.text().await.unwrap();
    assert!(html.contains(r#"<html lang="en">"#) && html.contains("A BSN has nine digits."), "{html}");

    let unknown = sim.authorize(&AuthRequest::new(&challenge).set("ui_locales", "de")).await;
    assert!(unknown.text().await.unwrap().contains(r#"<html lang="nl">"#), "Dutch when no language fits");
}

#[tokio::test]
async fn the_page_names_whom_the_person_logs_in_for() {
    let sim = helpers::spawn(false, None).await;
    let challenge = helpers::pkce().challenge;
    let named = AuthRequest::new(&challenge).set(digid_sim::ON_BEHALF_OF, "Demo <Ziekenhuis>");
    let html = sim.authorize(&named).await.text().await.unwrap();
    assert!(html.contains("Inloggen voor <strong>Demo &lt;Ziekenhuis&gt;</strong>"), "{html}");
    assert!(!html.contains(helpers::CLIENT_ID), "the name stands in for the client id: {html}");

    let unnamed = sim.authorize(&AuthRequest::new(&challenge)).await.text().await.unwrap();
    let client = helpers::CLIENT_ID;
    assert!(unnamed.contains(&format!("Inloggen voor <strong>{client}</strong>")), "the client id otherwise");
}

#[tokio::test]
async fn the_page_lists_each_scope_once() {
    let sim = helpers::spawn(false, None).await;
    let request = AuthRequest::new(&helpers::pkce().challenge).set("scope", "openid openid profile openid");
    let html = sim.authorize(&request).await.text().await.unwrap();
    assert!(html.contains("<code>openid profile</code>"), "{html}");
    assert_eq!(html.matches("openid").count(), 1, "{html}");
}
