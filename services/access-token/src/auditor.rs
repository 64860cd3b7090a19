//! Access tokens of auditors: the client-credentials tokens that open the usage reports and the
//! access log. They share the format and key of the PGOs' tokens but not their claims: no person,
//! no provider, a `role` of `auditor` and the audit API as audience. A PGO's token lacks the role
//! and an auditor's token lacks the person, so neither opens the other's door.

use crate::{TOKEN_TYPE, TokenError, TokenIssuer, TokenVerifier, unix_now};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The role an auditor's token carries.
pub const AUDITOR_ROLE: &str = "auditor";

/// The claims of an auditor's token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditorClaims {
    /// The issuing service.
    pub iss: String,
    /// The auditor's client id.
    pub sub: String,
    /// The audit API.
    pub aud: Vec<String>,
    /// Always `auditor`.
    pub role: String,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Not before (seconds since the epoch), if the token has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Expires at (seconds since the epoch).
    pub exp: u64,
    /// Unique token id.
    pub jti: String,
}

impl TokenIssuer {
    /// A token for auditor `auditor_id` at `audience` (the audit API's base URL).
    pub fn issue_auditor(&self, auditor_id: &str, audience: &str) -> Result<(String, AuditorClaims), TokenError> {
        let now = unix_now();
        let claims = AuditorClaims {
            iss: self.issuer.clone(),
            sub: auditor_id.to_owned(),
            aud: vec![audience.to_owned()],
            role: AUDITOR_ROLE.to_owned(),
            iat: now,
            nbf: None,
            exp: now + self.lifetime_seconds,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let keys = self.keys.keys();
        let key = keys.signing().ok_or_else(|| TokenError::Signing("no signing key".to_owned()))?;
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(TOKEN_TYPE.to_owned());
        header.kid = Some(key.kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, key.encoding_key())
            .map_err(|error| TokenError::Signing(error.to_string()))?;
        Ok((token, claims))
    }
}

impl TokenVerifier {
    /// Verifies an auditor's `token` for `audience`: signature, type, issuer, expiry, audience and
    /// role.
    pub fn verify_auditor(&self, token: &str, audience: &str) -> Result<AuditorClaims, TokenError> {
        let keys = self.keys.keys();
        let key = crate::key_for(&keys, token)?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.leeway = 0;
        validation.set_audience(&[audience]);
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.required_spec_claims =
            ["exp", "iss", "sub", "aud"].iter().map(|claim| (*claim).to_owned()).collect::<HashSet<_>>();
        let claims = jsonwebtoken::decode::<AuditorClaims>(token, key, &validation).map_err(crate::token_error)?.claims;
        self.check_times(claims.iat, claims.nbf, claims.exp)?;
        if claims.role != AUDITOR_ROLE {
            return Err(TokenError::Malformed("not an auditor's token".to_owned()));
        }
        Ok(claims)
    }
}
