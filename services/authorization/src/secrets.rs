//! Random secrets (session ids, codes, refresh tokens, CSRF tokens), their stored hashes, and the
//! PKCE S256 check.

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// No randomness was available (the system generator failed).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RandomError;

/// A new secret: 32 random bytes, base64url without padding (43 characters).
pub fn new_secret() -> Result<String, RandomError> {
    let mut bytes = [0_u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(|_| RandomError)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored in place of a secret: its SHA-256, base64url. Secrets are random and long, so a
/// plain hash cannot be reversed by trying candidates.
pub fn stored_hash(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, secret.as_bytes()))
}

/// Whether `verifier` answers the S256 `challenge` (RFC 7636 §4.6), compared in constant time.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    well_formed_verifier(verifier) && equal(&stored_hash(verifier), challenge)
}

/// Whether `verifier` has the form RFC 7636 §4.1 gives it: 43 to 128 unreserved characters.
pub fn well_formed_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Compares two strings in time independent of where they differ.
pub fn equal(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_verifies() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        assert!(!pkce_matches("short", &stored_hash("short")), "a verifier shorter than 43 is malformed");
    }

    #[test]
    fn secrets_are_fresh_and_long() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_ne!(stored_hash(&a), a);
    }
}
