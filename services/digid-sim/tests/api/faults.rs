//! Every configured fault produces the broken ID token it promises, and `openidconnect`'s
//! verifier rejects it for that reason.

use crate::helpers::{self, CLIENT_ID, NONCE, ReqwestClient, SECRET, TestSim};
use digid_sim::Fault;
use openidconnect::core::{CoreClient, CoreIdToken, CoreProviderMetadata};
use openidconnect::{ClaimsVerificationError, ClientId, ClientSecret, IssuerUrl, Nonce};
use serde_json::Value;
use std::collections::HashSet;

/// Whether the token's signature verifies against the published JWK Set.
async fn signature_verifies(sim: &TestSim, token: &str) -> bool {
    let jwks: Value = sim.http.get(sim.url("/jwks")).send().await.unwrap().json().await.unwrap();
    let key = &jwks["keys"][0];
    let decoding =
        jsonwebtoken::DecodingKey::from_ec_components(key["x"].as_str().unwrap(), key["y"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    jsonwebtoken::decode::<Value>(token, &decoding, &validation).is_ok()
}

/// What `openidconnect` says about the token, as the service's relying party would check it.
async fn verify_with_openidconnect(sim: &TestSim, token: &str) -> Result<(), ClaimsVerificationError> {
    let http = ReqwestClient(sim.http.clone());
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(sim.issuer.clone()).unwrap(), &http).await.unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(CLIENT_ID.into()),
        Some(ClientSecret::new(SECRET.into())),
    );
    let id_token: CoreIdToken = token.parse().unwrap();
    id_token.claims(&client.id_token_verifier(), &Nonce::new(NONCE.into())).map(|_| ())
}

/// Logs in at a simulator with `fault` and returns it with the ID token and its claims.
async fn broken_token(fault: Option<Fault>) -> (TestSim, String, Value) {
    let sim = helpers::spawn(false, fault).await;
    let tokens = sim.tokens().await;
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let claims = helpers::jwt_part(&id_token, 1);
    (sim, id_token, claims)
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn without_a_fault_the_token_passes_every_check() {
    let (sim, token, claims) = broken_token(None).await;
    assert!(signature_verifies(&sim, &token).await);
    assert_eq!((claims["iss"].as_str(), claims["aud"].as_str()), (Some(sim.issuer.as_str()), Some(CLIENT_ID)));
    assert_eq!(claims["nonce"], NONCE);
    assert!(claims["exp"].as_u64().unwrap() > now());
    verify_with_openidconnect(&sim, &token).await.unwrap();
}

#[tokio::test]
async fn bad_signature_names_the_published_key_but_does_not_verify() {
    let (sim, token, claims) = broken_token(Some(Fault::BadSignature)).await;
    assert_eq!(helpers::jwt_part(&token, 0)["kid"], sim.simulator.kid());
    assert!(!signature_verifies(&sim, &token).await);
    assert_eq!(claims["aud"], CLIENT_ID, "only the signature is wrong");
    let error = verify_with_openidconnect(&sim, &token).await.unwrap_err();
    assert!(matches!(error, ClaimsVerificationError::SignatureVerification(_)), "{error:?}");
}

#[tokio::test]
async fn wrong_audience_names_another_client() {
    let (sim, token, claims) = broken_token(Some(Fault::WrongAudience)).await;
    assert!(signature_verifies(&sim, &token).await);
    assert_ne!(claims["aud"], CLIENT_ID);
    let error = verify_with_openidconnect(&sim, &token).await.unwrap_err();
    assert!(matches!(error, ClaimsVerificationError::InvalidAudience(_)), "{error:?}");
}

#[tokio::test]
async fn wrong_nonce_carries_another_nonce() {
    let (sim, token, claims) = broken_token(Some(Fault::WrongNonce)).await;
    assert!(signature_verifies(&sim, &token).await);
    assert!(claims["nonce"].as_str().is_some_and(|nonce| nonce != NONCE));
    let error = verify_with_openidconnect(&sim, &token).await.unwrap_err();
    assert!(matches!(error, ClaimsVerificationError::InvalidNonce(_)), "{error:?}");
}

#[tokio::test]
async fn wrong_issuer_names_another_issuer() {
    let (sim, token, claims) = broken_token(Some(Fault::WrongIssuer)).await;
    assert!(signature_verifies(&sim, &token).await);
    assert_ne!(claims["iss"], sim.issuer.as_str());
    let error = verify_with_openidconnect(&sim, &token).await.unwrap_err();
    assert!(matches!(error, ClaimsVerificationError::InvalidIssuer(_)), "{error:?}");
}

#[tokio::test]
async fn expired_has_passed_its_expiry() {
    let (sim, token, claims) = broken_token(Some(Fault::Expired)).await;
    assert!(signature_verifies(&sim, &token).await);
    assert!(claims["exp"].as_u64().unwrap() < now());
    assert!(claims["iat"].as_u64().unwrap() < claims["exp"].as_u64().unwrap());
    let error = verify_with_openidconnect(&sim, &token).await.unwrap_err();
    assert!(matches!(error, ClaimsVerificationError::Expired(_)), "{error:?}");
}
