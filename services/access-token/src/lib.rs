//! The access tokens PGOs present to the resource server.
//!
//! Format (RFC 9068, "JWT Profile for OAuth 2.0 Access Tokens"): a JWT signed with ES256, header
//! `typ: at+jwt` and `kid` (the RFC 7638 thumbprint of the signing key); claims `iss` (the
//! service), `aud` (the resource endpoints of the granted data services), `sub` (the person's
//! opaque key at this provider: a keyed hash, never a BSN), `client_id` (the PGO's hostname),
//! `provider` (the provider's MedMij name), `scope` (`umcx~48 umcx~63`), `iat`, `exp` (15 minutes
//! later; a verifier refuses longer lifetimes and `iat` or `nbf` in the future), `jti`, `psn`: the
//! person's pseudonym sealed with a key only the service holds (for metering; see
//! `identity::PseudonymSeal`), and `sid`: the consent the token was given under, which revoking
//! ends every token of (`revocations.rs`).

mod auditor;
mod claims;
mod key_ring;
mod keys;
mod revocations;

pub use auditor::{AUDITOR_ROLE, AuditorClaims};
pub use claims::{AccessClaims, Grant, Scope, ScopeError};
pub use key_ring::{KeyRing, KeySet};
pub use keys::{KeyError, SigningKey};
pub use revocations::Revocations;

use identity::PseudonymSeal;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use std::collections::HashSet;
use std::sync::Arc;

/// The JWT `typ` of access tokens (RFC 9068 §2.1).
pub const TOKEN_TYPE: &str = "at+jwt";

/// The default lifetime of an access token (MedMij: 15 minutes).
pub const DEFAULT_LIFETIME_SECONDS: u64 = 900;

/// An issued token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The JWT.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// Its claims.
    pub claims: AccessClaims,
}

/// Why a token was refused. All map to one answer to the client (`invalid_token`); the variants
/// are for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, or claims missing or malformed.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// Not `typ: at+jwt` / ES256.
    #[error("wrong token type or algorithm")]
    WrongType,
    /// Signed with a key the service does not have.
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("invalid signature")]
    BadSignature,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `iat` or `nbf` lies in the future (beyond the allowed clock skew).
    #[error("token not yet valid")]
    NotYetValid,
    /// `exp - iat` is longer than the service issues tokens for (or negative).
    #[error("token lifetime longer than issued")]
    LifetimeTooLong,
    /// Issued by someone else.
    #[error("wrong issuer")]
    WrongIssuer,
    /// The consent it was given under is revoked.
    #[error("its consent is revoked")]
    Revoked,
    /// The token could not be signed.
    #[error("cannot sign: {0}")]
    Signing(String),
}

/// Issues access tokens.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    keys: KeyRing,
    issuer: String,
    lifetime_seconds: u64,
    seal: Arc<PseudonymSeal>,
}

impl TokenIssuer {
    /// An issuer signing with the signing key of `keys` (a ring, or one key), naming itself
    /// `issuer`, sealing pseudonyms with `seal`.
    pub fn new(
        keys: impl Into<KeyRing>,
        issuer: impl Into<String>,
        lifetime_seconds: u64,
        seal: Arc<PseudonymSeal>,
    ) -> TokenIssuer {
        TokenIssuer { keys: keys.into(), issuer: issuer.into(), lifetime_seconds, seal }
    }

    /// How long the tokens it issues live, in seconds.
    pub fn lifetime_seconds(&self) -> u64 {
        self.lifetime_seconds
    }

    /// Issues a token for `grant`, valid from now for the configured lifetime.
    pub fn issue(&self, grant: &Grant) -> Result<IssuedToken, TokenError> {
        let now = unix_now();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: grant.person_key.clone(),
            aud: grant.audience.clone(),
            client_id: grant.client_id.clone(),
            provider: grant.provider.clone(),
            scope: grant.scope.to_string(),
            iat: now,
            nbf: None,
            exp: now + self.lifetime_seconds,
            jti: uuid::Uuid::new_v4().to_string(),
            psn: self.seal.seal(&grant.pseudonym).map_err(|error| TokenError::Signing(error.to_string()))?,
            sid: grant.consent.clone(),
        };
        let keys = self.keys.keys();
        let key = keys.signing().ok_or_else(|| TokenError::Signing("no signing key".to_owned()))?;
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(TOKEN_TYPE.to_owned());
        header.kid = Some(key.kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, key.encoding_key())
            .map_err(|error| TokenError::Signing(error.to_string()))?;
        Ok(IssuedToken { token, expires_in: self.lifetime_seconds, claims })
    }

    /// A verifier of the tokens this issuer signs.
    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier::with_ring(self.keys.clone(), self.issuer.clone(), self.lifetime_seconds)
    }
}

/// How far a token's `iat` or `nbf` may lie in the future. Tokens are signed with the service's
/// own key, normally by this very process, so only the clocks of the instances of one deployment
/// can disagree, by a few seconds under NTP; a minute covers that with room to spare. `exp` gets
/// no leeway at all: a token is never used after the moment it names.
pub const CLOCK_SKEW_SECONDS: u64 = 60;

/// Verifies access tokens: signature with a known key, type, issuer, expiry and the time claims
/// (`iat` and `nbf` not in the future beyond [`CLOCK_SKEW_SECONDS`], `exp - iat` not longer than
/// the service issues tokens for: a token that claims otherwise was not made by the issuer's
/// code, whoever holds the key). The audience and scope are checked by the caller, which knows
/// the endpoint being called.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: KeyRing,
    issuer: String,
    max_lifetime_seconds: u64,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier accepting tokens of `issuer` signed by any of `keys` (several during a key
    /// rollover), living at most `max_lifetime_seconds` (the lifetime the service issues).
    pub fn new(keys: &[SigningKey], issuer: impl Into<String>, max_lifetime_seconds: u64) -> TokenVerifier {
        TokenVerifier::with_ring(KeyRing::verifying_only(keys), issuer, max_lifetime_seconds)
    }

    /// A verifier accepting tokens signed by the keys `keys` holds at the time of each check (the
    /// deployment's keys, which a rotation replaces).
    pub fn with_ring(keys: KeyRing, issuer: impl Into<String>, max_lifetime_seconds: u64) -> TokenVerifier {
        TokenVerifier { keys, issuer: issuer.into(), max_lifetime_seconds }
    }

    /// Checks the time claims against now; `exp` itself was checked when the token was decoded.
    pub(crate) fn check_times(&self, iat: u64, nbf: Option<u64>, exp: u64) -> Result<(), TokenError> {
        let latest = unix_now().saturating_add(CLOCK_SKEW_SECONDS);
        if iat > latest || nbf.is_some_and(|nbf| nbf > latest) {
            return Err(TokenError::NotYetValid);
        }
        match exp.checked_sub(iat) {
            Some(lifetime) if lifetime <= self.max_lifetime_seconds => Ok(()),
            _ => Err(TokenError::LifetimeTooLong),
        }
    }

    /// Verifies `token` and returns its claims.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let keys = self.keys.keys();
        let key = key_for(&keys, token)?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.required_spec_claims =
            ["exp", "iss", "sub", "aud"].iter().map(|claim| (*claim).to_owned()).collect::<HashSet<_>>();
        let claims = jsonwebtoken::decode::<AccessClaims>(token, key, &validation).map_err(token_error)?.claims;
        self.check_times(claims.iat, claims.nbf, claims.exp)?;
        Ok(claims)
    }
}

/// The key of `keys` that signed `token`, after checking its type and algorithm.
fn key_for<'a>(keys: &'a KeySet, token: &str) -> Result<&'a DecodingKey, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|error| TokenError::Malformed(error.to_string()))?;
    if header.alg != Algorithm::ES256 || header.typ.as_deref() != Some(TOKEN_TYPE) {
        return Err(TokenError::WrongType);
    }
    let kid = header.kid.ok_or(TokenError::UnknownKey)?;
    keys.decoding(&kid).ok_or(TokenError::UnknownKey)
}

/// The refusal a decoding error stands for.
fn token_error(error: jsonwebtoken::errors::Error) -> TokenError {
    match error.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
        jsonwebtoken::errors::ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        _ => TokenError::Malformed(error.to_string()),
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests;
