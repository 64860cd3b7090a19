//! The token endpoint (RFC 6749 §4.1.3 and §5, RFC 7636 §4.5-4.6, OpenID Connect Core §3.1.3)
//! and the ID token it issues (OpenID Connect Core §2), where a configured [`Fault`] is applied.

use crate::client_auth::{self, TokenError};
use crate::codes::{ACCESS_TOKEN_LIFETIME, AccessGrant, IssuedCode, random_id};
use crate::params::Params;
use crate::{Fault, Simulator};
use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, web};
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;

/// How long an ID token is valid.
const ID_TOKEN_LIFETIME_SECONDS: u64 = 300;

/// The claims of an ID token.
#[derive(Debug, Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    sub: String,
    aud: &'a str,
    exp: u64,
    iat: u64,
    auth_time: u64,
    nonce: &'a str,
    acr: &'a str,
    /// OIDC Core §3.1.3.6: the left half of the SHA-256 of the access token.
    at_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    bsn: Option<&'a str>,
}

/// The successful answer (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    id_token: String,
}

/// `POST /token`: 200 with the tokens; 400 with `invalid_request`, `unsupported_grant_type` or
/// `invalid_grant`; 401 with `invalid_client`; 503 when no token can be stored.
pub(crate) async fn exchange(sim: web::Data<Simulator>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    match answer(&sim, &request, &body) {
        Ok(tokens) => HttpResponse::Ok()
            .insert_header((CACHE_CONTROL, "no-store"))
            .insert_header((PRAGMA, "no-cache"))
            .json(tokens),
        Err(error) => {
            tracing::info!(error = error.code(), description = error.description(), "token request refused");
            error.response()
        }
    }
}

fn answer(sim: &Simulator, request: &HttpRequest, body: &[u8]) -> Result<TokenResponse, TokenError> {
    let form = Params::parse(body);
    if let Some(name) = form.repeated() {
        return Err(TokenError::InvalidRequest(format!("parameter {name} is repeated")));
    }
    let client = client_auth::authenticate(sim, request, &form)?;
    match form.get("grant_type") {
        None => return Err(TokenError::InvalidRequest("grant_type is missing".into())),
        Some("authorization_code") => {}
        Some(_) => return Err(TokenError::UnsupportedGrantType),
    }
    let code = form.get("code").ok_or_else(|| TokenError::InvalidRequest("code is missing".into()))?;
    let (issued, access_token) = redeem(sim, code)?;
    if issued.client_id != client.client_id {
        return Err(TokenError::InvalidGrant("the code was issued to another client"));
    }
    if form.get("redirect_uri") != Some(issued.redirect_uri.as_str()) {
        return Err(TokenError::InvalidGrant("redirect_uri differs from the authorization request"));
    }
    let verifier = form.get("code_verifier").ok_or(TokenError::InvalidGrant("code_verifier is missing"))?;
    if !verifier_matches(verifier, &issued.code_challenge) {
        return Err(TokenError::InvalidGrant("code_verifier does not match the code_challenge"));
    }
    sim.store
        .tokens
        .insert_as(access_token.clone(), AccessGrant { login: issued.login.clone() })
        .map_err(|_| TokenError::Unavailable)?;
    let id_token = id_token(sim, &issued, &access_token)?;
    Ok(TokenResponse { access_token, token_type: "Bearer", expires_in: ACCESS_TOKEN_LIFETIME.as_secs(), id_token })
}

/// Marks the code used and returns it with the access token it will be exchanged for. A code
/// that comes back a second time is refused, and the token issued for it is revoked (RFC 6749
/// §4.1.2). Any attempt uses the code up, so a stolen code cannot be tried against verifiers.
fn redeem(sim: &Simulator, code: &str) -> Result<(IssuedCode, String), TokenError> {
    let access_token = random_id().map_err(|_| TokenError::Unavailable)?;
    let outcome = sim.store.codes.update(code, |issued| {
        if issued.used {
            Err(issued.access_token.clone())
        } else {
            issued.used = true;
            issued.access_token = Some(access_token.clone());
            Ok(issued.clone())
        }
    });
    match outcome {
        None => Err(TokenError::InvalidGrant("the code is unknown or expired")),
        Some(Ok(issued)) => Ok((issued, access_token)),
        Some(Err(earlier_token)) => {
            if let Some(token) = earlier_token {
                sim.store.tokens.remove(&token);
            }
            Err(TokenError::InvalidGrant("the code was already used"))
        }
    }
}

/// RFC 7636 §4.6: BASE64URL(SHA256(verifier)) equals the challenge; §4.1: the verifier is 43 to
/// 128 unreserved characters.
fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    let computed = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref());
    well_formed && aws_lc_rs::constant_time::verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes()).is_ok()
}

/// The signed ID token for `issued`, broken as the configured fault says.
fn id_token(sim: &Simulator, issued: &IssuedCode, access_token: &str) -> Result<String, TokenError> {
    let now = unix_now();
    let login = &issued.login;
    let wrong_nonce;
    let mut claims = IdTokenClaims {
        iss: sim.issuer(),
        sub: sim.subject(&login.bsn),
        aud: &issued.client_id,
        exp: now + ID_TOKEN_LIFETIME_SECONDS,
        iat: now,
        auth_time: login.auth_time,
        nonce: &issued.nonce,
        acr: login.loa,
        at_hash: at_hash(access_token),
        bsn: sim.config.bsn_in_id_token.then_some(login.bsn.as_str()),
    };
    let mut signer = &sim.key;
    match sim.config.fault {
        None => {}
        Some(Fault::BadSignature) => signer = sim.rogue_key.as_ref().unwrap_or(&sim.key),
        Some(Fault::WrongAudience) => claims.aud = WRONG_AUDIENCE,
        Some(Fault::WrongNonce) => {
            wrong_nonce = random_id().map_err(|_| TokenError::Unavailable)?;
            claims.nonce = &wrong_nonce;
        }
        Some(Fault::WrongIssuer) => claims.iss = WRONG_ISSUER,
        Some(Fault::Expired) => {
            claims.iat = now.saturating_sub(2 * ID_TOKEN_LIFETIME_SECONDS);
            claims.auth_time = claims.iat;
            claims.exp = now.saturating_sub(ID_TOKEN_LIFETIME_SECONDS);
        }
    }
    let mut header = Header::new(Algorithm::ES256);
    // Always the published key id, so that a bad signature is found by verifying, not by lookup.
    header.kid = Some(sim.key.kid().to_owned());
    jsonwebtoken::encode(&header, &claims, signer.encoding_key()).map_err(|error| {
        tracing::error!(%error, "cannot sign an ID token");
        TokenError::Unavailable
    })
}

/// The audience under [`Fault::WrongAudience`].
const WRONG_AUDIENCE: &str = "another-client.invalid";
/// The issuer under [`Fault::WrongIssuer`].
const WRONG_ISSUER: &str = "https://wrong-issuer.invalid";

/// OIDC Core §3.1.3.6: base64url of the left-most half of the SHA-256 of the access token.
fn at_hash(access_token: &str) -> String {
    let digest = digest::digest(&digest::SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_verifier_matches_its_challenge() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(verifier_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!verifier_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        assert!(!verifier_matches("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    #[test]
    fn at_hash_is_half_a_sha256() {
        // OIDC Core Appendix A.3 (access token jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y).
        assert_eq!(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
    }
}
