//! The interoperability proof: a relying party built on `openidconnect` 4.1 discovers the
//! simulator, logs a person in with PKCE S256 and a nonce, validates the ID token (signature,
//! issuer, audience, nonce, expiry, at_hash, acr) and reads the BSN from userinfo.

use crate::helpers::{self, BSN, CLIENT_ID, REDIRECT_URI, ReqwestClient, SECRET, STATE};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdTokenVerifier, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};

/// The userinfo claims beyond the standard ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DigidClaims {
    bsn: String,
    acr: String,
}

impl AdditionalClaims for DigidClaims {}

#[tokio::test]
async fn a_relying_party_on_openidconnect_logs_in_and_gets_the_bsn() {
    let sim = helpers::spawn(false, None).await;
    let http = ReqwestClient(sim.http.clone());

    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(sim.issuer.clone()).unwrap(), &http)
        .await
        .expect("discovery is accepted");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(CLIENT_ID.into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_auth_context_value(AuthenticationContextClass::new(digid_sim::LOA_HIGH.into()))
        .set_pkce_challenge(challenge)
        .url();

    // The browser: the login page preselects the requested level; the person logs in.
    let page = sim.http.get(url.as_str()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<option value="http://eidas.europa.eu/LoA/high" selected>"#));
    let request_id = helpers::request_id(&html);
    let answer =
        sim.submit(&[("request", &request_id), ("bsn", BSN), ("loa", digid_sim::LOA_HIGH), ("action", "login")]).await;
    assert_eq!(answer.status(), 303);
    let (target, params) = helpers::redirect(&answer);
    assert_eq!(target, REDIRECT_URI);
    assert_eq!(&params["state"], csrf.secret());
    assert_ne!(params["state"], STATE);

    // The relying party's back channel (client_secret_basic, openidconnect's default).
    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("the code is exchanged");
    let id_token = tokens.id_token().expect("an ID token");
    let id_token_verifier: CoreIdTokenVerifier<'_> = client.id_token_verifier();
    let claims = id_token.claims(&id_token_verifier, &nonce).expect("the ID token verifies");
    assert_eq!(claims.issuer().as_str(), sim.issuer);
    assert_eq!(claims.audiences().iter().map(|aud| aud.as_str()).collect::<Vec<_>>(), [CLIENT_ID]);
    assert_eq!(claims.auth_context_ref().map(|acr| acr.as_str()), Some(digid_sim::LOA_HIGH));
    assert_eq!(claims.subject().as_str(), sim.simulator.subject(BSN));
    assert_ne!(claims.subject().as_str(), BSN);
    assert!(claims.auth_time().is_some());
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_token_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    assert!(helpers::jwt_part(&id_token.to_string(), 1).get("bsn").is_none(), "no bsn unless configured");

    let userinfo: UserInfoClaims<DigidClaims, CoreGenderClaim> = client
        .user_info(tokens.access_token().clone(), Some(claims.subject().clone()))
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo answers");
    assert_eq!(userinfo.additional_claims().bsn, BSN);
    assert_eq!(userinfo.additional_claims().acr, digid_sim::LOA_HIGH);
}

#[tokio::test]
async fn the_bsn_is_in_the_id_token_when_configured() {
    let sim = helpers::spawn(true, None).await;
    let tokens = sim.tokens().await;
    let claims = helpers::jwt_part(tokens["id_token"].as_str().unwrap(), 1);
    assert_eq!(claims["bsn"], BSN);
    assert_eq!(claims["acr"], digid_sim::LOA_SUBSTANTIAL);
}

#[tokio::test]
async fn discovery_and_jwks_carry_what_a_relying_party_needs() {
    let sim = helpers::spawn(false, None).await;
    let document: serde_json::Value =
        sim.http.get(sim.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(document["issuer"], sim.issuer);
    assert_eq!(document["token_endpoint"], sim.url("/token"));
    assert_eq!(document["id_token_signing_alg_values_supported"], serde_json::json!(["ES256"]));
    assert_eq!(document["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(document["acr_values_supported"].as_array().unwrap().len(), 3);
    assert!(document["claims_supported"].as_array().unwrap().contains(&"bsn".into()));
    assert_eq!(document["ui_locales_supported"], serde_json::json!(["nl", "en"]));
    assert_eq!(document["on_behalf_of_supported"], true, "the page shows whom the person logs in for");

    let jwks: serde_json::Value = sim.http.get(sim.url("/jwks")).send().await.unwrap().json().await.unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str()),
        (Some("EC"), Some("P-256"), Some("ES256"))
    );
    assert_eq!(key["use"], "sig");
    assert_eq!(key["kid"], sim.simulator.kid());
    assert!(key.get("d").is_none(), "no private part");
}
