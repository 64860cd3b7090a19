//! Revocation at once: a PGO's RFC 7009 revocation, a replayed code or refresh token and the
//! person's withdrawal end every access token of the consent on the very next request, on the
//! instance that revoked and, within the poll interval, on every other instance of the same
//! database.

use e2e::pgo::{Browser, OTHER_PGO, PGO, Person, PgoServer, VERIFIER, authorize_url, challenge, param, request};
use e2e::{ANNA, PROVIDER, TestApp};
use serde_json::Value;
use std::time::{Duration, Instant};
use test_support::on_both_backends;

/// Tokens for Anna, data service 48, given to `client_id` through the whole flow at `app`.
async fn tokens(app: &TestApp, pgo: &PgoServer, client_id: &str) -> Value {
    let browser = Browser::new(app);
    let url = authorize_url(app, &request(client_id, &format!("{PROVIDER}~48"), "st", &challenge(VERIFIER)));
    let back = browser.authorize(&url, Person::LogsIn { bsn: ANNA, loa: "substantial", decision: "allow" }).await;
    let code = param(&back, "code").unwrap_or_else(|| panic!("a code: {back}"));
    let (status, tokens) = pgo.exchange(client_id, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

fn token<'a>(tokens: &'a Value, name: &str) -> &'a str {
    tokens[name].as_str().unwrap_or_else(|| panic!("{name} in {tokens}"))
}

/// The status of a search with `access` at the instance at `address`.
async fn status_at(app: &TestApp, address: &str, access: &str) -> u16 {
    let url = format!("{address}/{PROVIDER}/48/fhir/Condition");
    app.client.get(url).bearer_auth(access).send().await.expect("sent").status().as_u16()
}

on_both_backends!(revoking_a_refresh_token_ends_every_token_of_its_consent_at_once, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    let pgo = PgoServer::new(&app);
    let first = tokens(&app, &pgo, PGO).await;
    let (_, second) = pgo.refresh(PGO, token(&first, "refresh_token")).await;
    for access in [token(&first, "access_token"), token(&second, "access_token")] {
        assert_eq!(status_at(&app, &app.address, access).await, 200);
    }
    let (status, body) = pgo.revoke(PGO, token(&second, "refresh_token"), Some("refresh_token")).await;
    assert_eq!((status, body.as_str()), (200, ""));
    for access in [token(&first, "access_token"), token(&second, "access_token")] {
        assert_eq!(status_at(&app, &app.address, access).await, 401);
    }
    let (status, refused) = pgo.refresh(PGO, token(&second, "refresh_token")).await;
    assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_grant")));
    // Revoking again, or something that is no token, changes nothing and tells nothing.
    assert_eq!(pgo.revoke(PGO, token(&second, "refresh_token"), None).await.0, 200);
    assert_eq!(pgo.revoke(PGO, "no-such-token", Some("access_token")).await.0, 200);
});

on_both_backends!(revoking_an_access_token_ends_its_consent, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    let pgo = PgoServer::new(&app);
    let tokens = tokens(&app, &pgo, PGO).await;
    // The hint is only where to look first: without it the access token is still found.
    assert_eq!(pgo.revoke(PGO, token(&tokens, "access_token"), Some("refresh_token")).await.0, 200);
    assert_eq!(status_at(&app, &app.address, token(&tokens, "access_token")).await, 401);
    assert_eq!(pgo.refresh(PGO, token(&tokens, "refresh_token")).await.0, 400);
});

on_both_backends!(a_pgo_cannot_revoke_another_pgos_tokens_or_revoke_without_a_token, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    let pgo = PgoServer::new(&app);
    let tokens = tokens(&app, &pgo, PGO).await;
    let (status, body) = pgo.revoke(OTHER_PGO, token(&tokens, "refresh_token"), None).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid_grant"), "{body}");
    assert_eq!(status_at(&app, &app.address, token(&tokens, "access_token")).await, 200, "nothing was revoked");
    let (status, body) = pgo.revoke(PGO, "", None).await;
    assert_eq!(status, 400);
    assert!(body.contains("invalid_request"), "{body}");
    let (status, body) = pgo.revoke("unknown.example.nl", token(&tokens, "refresh_token"), None).await;
    assert_eq!(status, 401);
    assert!(body.contains("invalid_client"), "{body}");
    // The endpoint is published.
    let metadata: Value = app
        .client
        .get(format!("{}/.well-known/oauth-authorization-server", app.address))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(metadata["revocation_endpoint"], format!("{}/oauth/revoke", app.address));
});

/// How long another instance may take to refuse a revoked consent's token in this test: the
/// configured poll (200 ms) and then some; it guards against "never", it measures nothing.
const OTHER_INSTANCE_BOUND: Duration = Duration::from_secs(10);

/// Waits until the instance at `address` refuses `access`; panics after the bound.
async fn refused_within_bound(app: &TestApp, address: &str, access: &str) {
    let started = Instant::now();
    while status_at(app, address, access).await != 401 {
        assert!(started.elapsed() < OTHER_INSTANCE_BOUND, "{address} still accepts a revoked consent's token");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_backends!(every_instance_on_the_database_honours_a_revocation_made_on_another, |database| {
    let poll = [("PGO_EXCHANGE__TOKENS__REVOCATION_POLL_MS", "200")];
    let app = TestApp::start_authorization(database, &poll).await;
    let other = app.another_instance(&[]).await;
    let pgo = PgoServer::new(&app);
    // Revoked by the PGO on the first instance; the second learns it from the database.
    let tokens_a = tokens(&app, &pgo, PGO).await;
    let access_a = token(&tokens_a, "access_token");
    assert_eq!(status_at(&app, &other.address, access_a).await, 200);
    assert_eq!(pgo.revoke(PGO, token(&tokens_a, "refresh_token"), None).await.0, 200);
    assert_eq!(status_at(&app, &app.address, access_a).await, 401, "at once where it was revoked");
    refused_within_bound(&app, &other.address, access_a).await;
    // A replay on the second instance; the first learns it.
    let tokens_b = tokens(&app, &pgo, PGO).await;
    let access_b = token(&tokens_b, "access_token");
    let on_other = PgoServer::at(&other.address);
    assert_eq!(on_other.refresh(PGO, token(&tokens_b, "refresh_token")).await.0, 200);
    assert_eq!(status_at(&app, &app.address, access_b).await, 200);
    assert_eq!(on_other.refresh(PGO, token(&tokens_b, "refresh_token")).await.0, 400, "a reuse");
    assert_eq!(status_at(&app, &other.address, access_b).await, 401, "at once where it was revoked");
    refused_within_bound(&app, &app.address, access_b).await;
    // An instance started after a revocation knows it from its start.
    let late = app.another_instance(&[]).await;
    assert_eq!(status_at(&app, &late.address, access_a).await, 401);
    assert_eq!(status_at(&app, &late.address, access_b).await, 401);
});
