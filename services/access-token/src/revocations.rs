//! The consents revoked while access tokens given under them may still be valid: a replayed
//! code or refresh token, the person's withdrawal, a PGO's revocation (RFC 7009). The resource
//! server refuses a token whose `sid` is here, so the very next request after a revocation is
//! refused, not only the next refresh.
//!
//! An entry is needed only as long as a token issued before the revocation can live: it is kept
//! for the token lifetime and a margin, then forgotten (a revoked consent issues no new tokens).
//! A check is a lookup in memory; the instance that revokes adds the consent at once, and every
//! instance learns the others' revocations from the database (`authorization`'s watch).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// How much longer than a token's lifetime a revocation is remembered: room for clocks that
/// differ between instances and for a revocation seen late.
const MARGIN: Duration = Duration::from_secs(120);

/// Revoked consents, by the handle tokens carry in `sid`, with when each was noted.
///
/// A map behind a read-write lock rather than a cache crate: it is read by every PGO request and
/// written once per revocation, and a moka lookup here was 1.6% of the service's processor time
/// under the BgZ benchmark. Lapsed entries are dropped when the next revocation is noted.
#[derive(Debug, Clone)]
pub struct Revocations {
    revoked: Arc<RwLock<HashMap<String, Instant>>>,
    /// How long an entry is kept.
    keep: Duration,
}

impl Revocations {
    /// A list for tokens that live `token_lifetime`.
    pub fn new(token_lifetime: Duration) -> Revocations {
        Revocations::keeping(token_lifetime + MARGIN)
    }

    fn keeping(keep: Duration) -> Revocations {
        Revocations { revoked: Arc::new(RwLock::new(HashMap::new())), keep }
    }

    /// Notes that the consent with handle `consent` is revoked.
    pub fn revoke(&self, consent: &str) {
        // A poisoned lock still holds a whole map: a revocation is never dropped for it.
        let mut revoked = self.revoked.write().unwrap_or_else(PoisonError::into_inner);
        revoked.retain(|_, noted| noted.elapsed() < self.keep);
        revoked.insert(consent.to_owned(), Instant::now());
    }

    /// Whether the consent with handle `consent` is revoked.
    pub fn is_revoked(&self, consent: &str) -> bool {
        let revoked = self.revoked.read().unwrap_or_else(PoisonError::into_inner);
        revoked.get(consent).is_some_and(|noted| noted.elapsed() < self.keep)
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

    #[test]
    fn a_revocation_is_forgotten_once_no_token_of_it_can_live() {
        let revocations = Revocations::keeping(Duration::ZERO);
        revocations.revoke("consent-a");
        assert!(!revocations.is_revoked("consent-a"));
        // And dropped from memory when the next is noted.
        revocations.revoke("consent-b");
        assert_eq!(revocations.revoked.read().unwrap_or_else(PoisonError::into_inner).len(), 1);
    }

    #[test]
    fn clones_share_one_list() {
        let revocations = Revocations::new(Duration::from_secs(900));
        let clone = revocations.clone();
        clone.revoke("consent-a");
        assert!(revocations.is_revoked("consent-a"));
    }
}
