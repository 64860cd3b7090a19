//! The consents revoked while access tokens given under them may still be valid: a replayed
//! code or refresh token, the person's withdrawal, a PGO's revocation (RFC 7009). The resource
//! server refuses a token whose `sid` is here, so the very next request after a revocation is
//! refused, not only the next refresh.
//!
//! An entry is needed only as long as a token issued before the revocation can live: it is kept
//! for the token lifetime and a margin, then forgotten (a revoked consent issues no new tokens).
//! A check is a lookup in memory; the instance that revokes adds the consent at once, and every
//! instance learns the others' revocations from the database (`authorization`'s watch).

use moka::sync::Cache;
use std::time::Duration;

/// How much longer than a token's lifetime a revocation is remembered: room for clocks that
/// differ between instances and for a revocation seen late.
const MARGIN: Duration = Duration::from_secs(120);

/// Revoked consents, by the handle tokens carry in `sid`.
#[derive(Debug, Clone)]
pub struct Revocations {
    revoked: Cache<String, ()>,
}

impl Revocations {
    /// A list for tokens that live `token_lifetime`.
    pub fn new(token_lifetime: Duration) -> Revocations {
        Revocations { revoked: Cache::builder().time_to_live(token_lifetime + MARGIN).build() }
    }

    /// Notes that the consent with handle `consent` is revoked.
    pub fn revoke(&self, consent: &str) {
        self.revoked.insert(consent.to_owned(), ());
    }

    /// Whether the consent with handle `consent` is revoked.
    pub fn is_revoked(&self, consent: &str) -> bool {
        self.revoked.contains_key(consent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_consent_is_known_and_others_are_not() {
        let revocations = Revocations::new(Duration::from_secs(900));
        revocations.revoke("consent-a");
        assert!(revocations.is_revoked("consent-a"));
        assert!(!revocations.is_revoked("consent-b"));
    }
}
