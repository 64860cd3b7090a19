//! Sealing what the service hands out or keeps but must not be read by others: a person's
//! pseudonym inside an access token, and the signing keys in the database. The resource server
//! must know whom it meters (the pseudonym, computed at login), but the token is handed to the
//! PGO, which must not learn a value that links the person across providers; the signing keys are
//! shared by the instances through the database, which alone must not give them away. So both are
//! encrypted (AES-256-GCM under a key derived from the deployment secret, a fresh random nonce
//! each time, bound to what is sealed): only the deployment can open them, and two tokens of one
//! person look unrelated.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// What a sealed pseudonym is bound to, so that it cannot be reused for anything else.
pub(crate) const PSEUDONYM_IN_TOKEN: &[u8] = b"pgo-exchange pseudonym in an access token";

/// What a sealed signing key is bound to.
pub(crate) const SIGNING_KEY_AT_REST: &[u8] = b"pgo-exchange signing key at rest";

/// Seals and opens values of one kind.
pub struct Seal {
    key: LessSafeKey,
    random: SystemRandom,
    context: &'static [u8],
}

/// The seal of pseudonyms in access tokens.
pub type PseudonymSeal = Seal;

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seal(***)")
    }
}

/// A sealed value that does not open: not made by this deployment, or altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed value does not open")]
pub struct SealError;

impl Seal {
    /// A seal with the 32-byte `key` for values bound to `context`.
    pub(crate) fn new(key: &[u8], context: &'static [u8]) -> Result<Seal, SealError> {
        let key = UnboundKey::new(&AES_256_GCM, key).map_err(|_| SealError)?;
        Ok(Seal { key: LessSafeKey::new(key), random: SystemRandom::new(), context })
    }

    /// `plain` encrypted: nonce, ciphertext and tag.
    pub fn seal_bytes(&self, plain: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0_u8; NONCE_LEN];
        self.random.fill(&mut nonce).map_err(|_| SealError)?;
        let mut sealed = plain.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(self.context), &mut sealed)
            .map_err(|_| SealError)?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(bytes)
    }

    /// What `sealed` (from [`Seal::seal_bytes`]) holds.
    pub fn open_bytes(&self, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError);
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError)?;
        let mut rest = rest.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(self.context), &mut rest).map_err(|_| SealError)?;
        Ok(plain.to_vec())
    }

    /// `pseudonym` encrypted, as URL-safe base64 of nonce, ciphertext and tag.
    pub fn seal(&self, pseudonym: &str) -> Result<String, SealError> {
        Ok(URL_SAFE_NO_PAD.encode(self.seal_bytes(pseudonym.as_bytes())?))
    }

    /// The pseudonym inside `sealed`.
    pub fn open(&self, sealed: &str) -> Result<String, SealError> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| SealError)?;
        String::from_utf8(self.open_bytes(&bytes)?).map_err(|_| SealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(byte: u8) -> PseudonymSeal {
        Seal::new(&[byte; 32], PSEUDONYM_IN_TOKEN).expect("seal")
    }

    #[test]
    fn a_value_sealed_for_one_purpose_does_not_open_for_another() {
        let keys = Seal::new(&[3; 32], SIGNING_KEY_AT_REST).expect("seal");
        let sealed = keys.seal_bytes(b"private key").expect("sealed");
        assert_eq!(keys.open_bytes(&sealed).expect("opens"), b"private key");
        assert_eq!(seal(3).open_bytes(&sealed), Err(SealError), "same key, other purpose");
    }

    #[test]
    fn a_sealed_pseudonym_opens_to_itself_and_looks_different_each_time() {
        let seal = seal(3);
        let first = seal.seal("pseudonym-1").expect("sealed");
        let second = seal.seal("pseudonym-1").expect("sealed");
        assert_ne!(first, second);
        assert!(!first.contains("pseudonym"));
        assert_eq!(seal.open(&first).expect("opens"), "pseudonym-1");
        assert_eq!(seal.open(&second).expect("opens"), "pseudonym-1");
    }

    #[test]
    fn another_key_or_an_altered_text_does_not_open() {
        let sealed = seal(3).seal("pseudonym-1").expect("sealed");
        assert_eq!(seal(4).open(&sealed), Err(SealError));
        let mut altered = sealed.into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).expect("text");
        assert_eq!(seal(3).open(&altered), Err(SealError));
        assert_eq!(seal(3).open("short"), Err(SealError));
        assert_eq!(seal(3).open("not base64 !"), Err(SealError));
    }
}
