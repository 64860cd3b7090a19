//! Sealing a person's pseudonym into an access token. The resource server must know whom it
//! meters (the pseudonym, computed at login), but the token is handed to the PGO, which must not
//! learn a value that links the person across providers. So the token carries the pseudonym
//! encrypted (AES-256-GCM under a key derived from the deployment secret, a fresh random nonce
//! each time): only the service can open it, and two tokens of one person look unrelated.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// What the sealed text is bound to, so that it cannot be reused for anything else.
const CONTEXT: &[u8] = b"pgo-exchange pseudonym in an access token";

/// Seals and opens pseudonyms.
pub struct PseudonymSeal {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for PseudonymSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymSeal(***)")
    }
}

/// A sealed pseudonym that does not open: not made by this deployment, or altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed pseudonym does not open")]
pub struct SealError;

impl PseudonymSeal {
    /// A seal with the 32-byte `key`.
    pub(crate) fn new(key: &[u8]) -> Result<PseudonymSeal, SealError> {
        let key = UnboundKey::new(&AES_256_GCM, key).map_err(|_| SealError)?;
        Ok(PseudonymSeal { key: LessSafeKey::new(key), random: SystemRandom::new() })
    }

    /// `pseudonym` encrypted, as URL-safe base64 of nonce, ciphertext and tag.
    pub fn seal(&self, pseudonym: &str) -> Result<String, SealError> {
        let mut nonce = [0_u8; NONCE_LEN];
        self.random.fill(&mut nonce).map_err(|_| SealError)?;
        let mut sealed = pseudonym.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(CONTEXT), &mut sealed)
            .map_err(|_| SealError)?;
        let mut text = nonce.to_vec();
        text.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(text))
    }

    /// The pseudonym inside `sealed`.
    pub fn open(&self, sealed: &str) -> Result<String, SealError> {
        let mut bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| SealError)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError);
        }
        let mut rest = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| SealError)?;
        let plain = self.key.open_in_place(nonce, Aad::from(CONTEXT), &mut rest).map_err(|_| SealError)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(byte: u8) -> PseudonymSeal {
        PseudonymSeal::new(&[byte; 32]).expect("seal")
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
