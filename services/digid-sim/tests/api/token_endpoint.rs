//! The token and userinfo endpoints refusing what RFC 6749, RFC 7636 and RFC 6750 say to refuse.

use crate::helpers::{self, AuthRequest, BSN, CLIENT_ID, OTHER_CLIENT_ID, OTHER_SECRET, REDIRECT_URI, SECRET};

async fn error_of(answer: reqwest::Response) -> (u16, String) {
    let status = answer.status().as_u16();
    assert_eq!(answer.headers()["cache-control"], "no-store");
    let body: serde_json::Value = answer.json().await.unwrap();
    (status, body["error"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_code_works_once_and_its_replay_revokes_the_token() {
    let sim = helpers::spawn(false, None).await;
    let pkce = helpers::pkce();
    let code = sim.login(&AuthRequest::new(&pkce.challenge), BSN, digid_sim::LOA_SUBSTANTIAL).await;
    let first = sim.exchange(&code, &pkce.verifier).await;
    assert_eq!(first.status(), 200);
    let tokens: serde_json::Value = first.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["expires_in"].as_u64().unwrap() > 0);
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    let userinfo = sim.http.get(sim.url("/userinfo")).bearer_auth(&access_token).send().await.unwrap();
    assert_eq!(userinfo.status(), 200);
    let claims: serde_json::Value = userinfo.json().await.unwrap();
    assert_eq!(claims["bsn"], BSN);
    assert_eq!(claims["sub"], sim.simulator.subject(BSN));

    assert_eq!(error_of(sim.exchange(&code, &pkce.verifier).await).await, (400, "invalid_grant".to_owned()));
    let revoked = sim.http.get(sim.url("/userinfo")).bearer_auth(&access_token).send().await.unwrap();
    assert_eq!(revoked.status(), 401);
    assert!(revoked.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
}

#[tokio::test]
async fn a_wrong_verifier_is_refused_and_uses_the_code_up() {
    let sim = helpers::spawn(false, None).await;
    let pkce = helpers::pkce();
    let code = sim.login(&AuthRequest::new(&pkce.challenge), BSN, digid_sim::LOA_SUBSTANTIAL).await;
    let wrong = helpers::pkce().verifier;
    assert_eq!(error_of(sim.exchange(&code, &wrong).await).await, (400, "invalid_grant".to_owned()));
    assert_eq!(error_of(sim.exchange(&code, &pkce.verifier).await).await, (400, "invalid_grant".to_owned()));
}

#[tokio::test]
async fn a_missing_verifier_or_other_redirect_uri_is_refused() {
    let sim = helpers::spawn(false, None).await;
    for change in ["no verifier", "other redirect_uri"] {
        let pkce = helpers::pkce();
        let code = sim.login(&AuthRequest::new(&pkce.challenge), BSN, digid_sim::LOA_SUBSTANTIAL).await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
        ];
        if change == "no verifier" {
            form.push(("redirect_uri", REDIRECT_URI));
        } else {
            form.push(("redirect_uri", "https://pgo-exchange.example/other"));
            form.push(("code_verifier", &pkce.verifier));
        }
        let answer = sim.post_form("/token", &form, None).await;
        assert_eq!(error_of(answer).await, (400, "invalid_grant".to_owned()), "{change}");
    }
}

#[tokio::test]
async fn a_wrong_secret_is_401() {
    let sim = helpers::spawn(false, None).await;
    let pkce = helpers::pkce();
    let code = sim.login(&AuthRequest::new(&pkce.challenge), BSN, digid_sim::LOA_SUBSTANTIAL).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    let basic = sim.post_form("/token", &form, Some((CLIENT_ID, "wrong"))).await;
    assert!(basic.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    assert_eq!(error_of(basic).await, (401, "invalid_client".to_owned()));
    let mut posted = form.to_vec();
    posted.extend([("client_id", CLIENT_ID), ("client_secret", "wrong")]);
    assert_eq!(error_of(sim.post_form("/token", &posted, None).await).await, (401, "invalid_client".to_owned()));
    assert_eq!(error_of(sim.post_form("/token", &form, None).await).await, (401, "invalid_client".to_owned()));

    // Refused authentication does not use the code up; the right secret (Basic) still works.
    assert_eq!(sim.post_form("/token", &form, Some((CLIENT_ID, SECRET))).await.status(), 200);
}

#[tokio::test]
async fn a_code_is_bound_to_its_client() {
    let sim = helpers::spawn(false, None).await;
    let pkce = helpers::pkce();
    let code = sim.login(&AuthRequest::new(&pkce.challenge), BSN, digid_sim::LOA_SUBSTANTIAL).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    let answer = sim.post_form("/token", &form, Some((OTHER_CLIENT_ID, OTHER_SECRET))).await;
    assert_eq!(error_of(answer).await, (400, "invalid_grant".to_owned()));
}

#[tokio::test]
async fn malformed_token_requests_are_refused() {
    let sim = helpers::spawn(false, None).await;
    let auth = [("client_id", CLIENT_ID), ("client_secret", SECRET)];
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("grant_type", "client_credentials")], "unsupported_grant_type"),
        (&[("code", "x")], "invalid_request"),
        (&[("grant_type", "authorization_code")], "invalid_request"),
        (&[("grant_type", "authorization_code"), ("code", "made-up")], "invalid_grant"),
    ];
    for (form, error) in cases {
        let mut full = form.to_vec();
        full.extend(auth);
        assert_eq!(error_of(sim.post_form("/token", &full, None).await).await, (400, error.to_owned()), "{form:?}");
    }
    let twice = [("grant_type", "authorization_code"), ("code", "a"), ("code", "b"), auth[0], auth[1]];
    assert_eq!(error_of(sim.post_form("/token", &twice, None).await).await, (400, "invalid_request".to_owned()));
    let both_methods = [("grant_type", "authorization_code"), ("code", "a"), ("client_secret", SECRET)];
    let answer = sim.post_form("/token", &both_methods, Some((CLIENT_ID, SECRET))).await;
    assert_eq!(error_of(answer).await, (400, "invalid_request".to_owned()));
}

#[tokio::test]
async fn userinfo_needs_a_bearer_token() {
    let sim = helpers::spawn(false, None).await;
    let none = sim.http.get(sim.url("/userinfo")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let unknown = sim.http.get(sim.url("/userinfo")).bearer_auth("made-up").send().await.unwrap();
    assert_eq!(unknown.status(), 401);
}
