//! What the authorization server keeps, as the rest of the service sees it: consents (each one the
//! family of the refresh tokens it gave out), one-time authorization codes, rotating refresh
//! tokens, and what using them did.

use crate::providers::ProviderId;

/// Why a consent ended before its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokedWhy {
    /// The person revoked it.
    Person,
    /// A refresh token of its family was used twice: it may have been stolen.
    RefreshTokenReuse,
    /// Its authorization code was presented twice.
    CodeReplay,
    /// The PGO revoked one of its tokens (RFC 7009).
    Client,
}

impl RevokedWhy {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RevokedWhy::Person => "person",
            RevokedWhy::RefreshTokenReuse => "refresh-token-reuse",
            RevokedWhy::CodeReplay => "code-replay",
            RevokedWhy::Client => "client",
        }
    }
}

/// A consent to give out, with the code that redeems it.
#[derive(Debug, Clone)]
pub struct NewConsent {
    /// The provider whose data it covers.
    pub provider: ProviderId,
    /// The PGO (its hostname).
    pub client_id: String,
    /// The person's key at the provider.
    pub person_key: String,
    /// The person's pseudonym.
    pub pseudonym: String,
    /// The granted scope (`umcx~48 umcx~49`).
    pub scope: String,
    /// When it lapses unless used (ms).
    pub expires_at: i64,
    /// A share (Delen) the person confirmed: a consent of its own, never merged with another
    /// (its token is for exactly its one data service), and never renewed by a later one.
    pub sharing: bool,
}

/// An authorization code to store with a new consent.
#[derive(Debug, Clone)]
pub struct NewCode {
    /// SHA-256 of the code.
    pub code_hash: String,
    /// The redirect URI of the authorization request (the token request must repeat it).
    pub redirect_uri: String,
    /// The PKCE S256 challenge, if the client sent one.
    pub code_challenge: Option<String>,
    /// When the code stops working (ms).
    pub expires_at: i64,
}

/// A consent as stored, with its provider's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// Its id.
    pub id: i64,
    /// The provider.
    pub provider: ProviderId,
    /// The provider's MedMij name.
    pub provider_name: String,
    /// The provider's display name.
    pub provider_display_name: String,
    /// The PGO.
    pub client_id: String,
    /// The person's key at the provider.
    pub person_key: String,
    /// The person's pseudonym.
    pub pseudonym: String,
    /// The granted scope.
    pub scope: String,
    /// Given at (ms).
    pub granted_at: i64,
    /// Last refresh (or grant) at (ms).
    pub last_used_at: i64,
    /// Lapses at (ms).
    pub expires_at: i64,
    /// Revoked at (ms), if it was.
    pub revoked_at: Option<i64>,
    /// The handle its access tokens carry (`sid`): random, so that it says nothing of other
    /// consents; what revocations are known by on every instance.
    pub handle: String,
}

impl Consent {
    /// Whether refresh tokens of this consent may still be used at `now`.
    pub fn is_active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// A redeemed authorization code: what the token endpoint checks before issuing tokens.
#[derive(Debug, Clone)]
pub struct RedeemedCode {
    /// The consent it was given with.
    pub consent: Consent,
    /// The client it was given to.
    pub client_id: String,
    /// The redirect URI of its authorization request.
    pub redirect_uri: String,
    /// The PKCE challenge.
    pub code_challenge: Option<String>,
    /// When it stopped or stops working (ms).
    pub expires_at: i64,
    /// Whether [`Grants::exchange_code`](crate::Grants::exchange_code) stored the refresh token with it (its checks held).
    pub refresh_token_stored: bool,
}

/// A token request's authorization code, with what the request claims about it and the refresh
/// token to store if those claims hold.
#[derive(Debug, Clone)]
pub struct CodeExchange<'a> {
    /// SHA-256 of the code.
    pub code_hash: &'a str,
    /// The time of the request (ms).
    pub now: i64,
    /// The client asking, exactly as the code was issued to it.
    pub client_id: &'a str,
    /// The redirect URI the request repeats.
    pub redirect_uri: &'a str,
    /// The S256 challenge of the request's (well-formed) PKCE verifier; `None` without one.
    pub verifier_challenge: Option<&'a str>,
    /// SHA-256 of the refresh token to store.
    pub refresh_hash: &'a str,
    /// When that refresh token lapses (ms).
    pub refresh_expires_at: i64,
}

impl CodeExchange<'_> {
    /// Whether the refresh token may be stored for `code` (spent just now): the same client, the
    /// same redirect URI, the same PKCE challenge (or none on both sides), the code unexpired and
    /// its consent active. The token endpoint checks the same and decides the answer; this is
    /// never looser, so a refresh token is never stored for a refused request.
    pub fn holds_for(&self, code: &RedeemedCode) -> bool {
        code.client_id == self.client_id
            && code.redirect_uri == self.redirect_uri
            && code.code_challenge.as_deref() == self.verifier_challenge
            && code.expires_at > self.now
            && code.consent.is_active(self.now)
    }
}

/// What presenting an authorization code did.
#[derive(Debug, Clone)]
pub enum CodeRedemption {
    /// First use: the code is now spent.
    Redeemed(Box<RedeemedCode>),
    /// It had been used before; the consent it gave (and every token from it) is now revoked
    /// (RFC 6749 §4.1.2).
    Replayed {
        /// The handle of the consent revoked.
        consent: String,
    },
    /// No such code.
    Unknown,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone)]
pub enum Rotation {
    /// Spent; its successor is stored. The consent, as it is now.
    Rotated(Box<Consent>),
    /// It had been rotated before: the whole family (the consent) is now revoked.
    Reused {
        /// The handle of the consent revoked.
        consent: String,
    },
    /// Its consent was revoked or has lapsed, or the token itself expired.
    Inactive,
    /// No such token.
    Unknown,
}
