//! The signing keys as one instance holds them: the one that signs, and every one that still
//! verifies (during a rotation, the retired key, until the tokens it signed have expired). The set
//! is replaced as a whole when the deployment's keys change, so a reader always sees one
//! consistent set, and a token signed by any instance verifies at every other.

use crate::SigningKey;
use jsonwebtoken::DecodingKey;
use serde_json::{Value, json};
use std::sync::{Arc, RwLock};

/// The keys of this instance, shared by its issuer, verifiers and JWKS.
#[derive(Clone)]
pub struct KeyRing {
    set: Arc<RwLock<Arc<KeySet>>>,
}

/// One consistent set of keys.
pub struct KeySet {
    signing: Option<SigningKey>,
    verifying: Vec<(String, DecodingKey)>,
    public: Vec<Value>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self.keys();
        f.debug_struct("KeyRing")
            .field("signing", &set.signing.as_ref().map(SigningKey::kid))
            .field("verifying", &set.verifying.iter().map(|(kid, _)| kid).collect::<Vec<_>>())
            .finish()
    }
}

impl KeyRing {
    /// Signs with `signing`; verifies what it and each of `verifying` signed.
    pub fn new(signing: SigningKey, verifying: &[SigningKey]) -> KeyRing {
        KeyRing { set: Arc::new(RwLock::new(Arc::new(KeySet::of(Some(signing), verifying)))) }
    }

    /// Verifies what any of `keys` signed; signs nothing.
    pub fn verifying_only(keys: &[SigningKey]) -> KeyRing {
        KeyRing { set: Arc::new(RwLock::new(Arc::new(KeySet::of(None, keys)))) }
    }

    /// From now on signs with `signing` and verifies what it and `verifying` signed.
    pub fn replace(&self, signing: SigningKey, verifying: &[SigningKey]) {
        let set = Arc::new(KeySet::of(Some(signing), verifying));
        match self.set.write() {
            Ok(mut current) => *current = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
    }

    /// The current set.
    pub fn keys(&self) -> Arc<KeySet> {
        match self.set.read() {
            Ok(set) => set.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl From<SigningKey> for KeyRing {
    fn from(key: SigningKey) -> KeyRing {
        KeyRing::new(key, &[])
    }
}

impl KeySet {
    fn of(signing: Option<SigningKey>, verifying: &[SigningKey]) -> KeySet {
        let mut all: Vec<&SigningKey> = signing.iter().collect();
        for key in verifying {
            if !all.iter().any(|known| known.kid() == key.kid()) {
                all.push(key);
            }
        }
        KeySet {
            verifying: all.iter().map(|key| (key.kid().to_owned(), key.decoding_key())).collect(),
            public: all.iter().map(|key| key.public_jwk()).collect(),
            signing,
        }
    }

    /// The key that signs, if this instance signs.
    pub fn signing(&self) -> Option<&SigningKey> {
        self.signing.as_ref()
    }

    /// The key with id `kid`, if it verifies.
    pub(crate) fn decoding(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.iter().find(|(known, _)| known == kid).map(|(_, key)| key)
    }

    /// The JWKS document of every verifying key, the signing one first.
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.public })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_set_signs_with_the_new_key_and_still_verifies_the_old() {
        let old = SigningKey::generate().expect("key");
        let new = SigningKey::generate().expect("key");
        let ring = KeyRing::from(old.clone());
        let before = ring.keys();
        ring.replace(new.clone(), std::slice::from_ref(&old));
        let after = ring.keys();
        assert_eq!(after.signing().map(SigningKey::kid), Some(new.kid()));
        assert!(after.decoding(old.kid()).is_some() && after.decoding(new.kid()).is_some());
        assert_eq!(after.jwks()["keys"].as_array().map(Vec::len), Some(2));
        assert_eq!(after.jwks()["keys"][0]["kid"], new.kid(), "the signing key first");
        assert!(before.decoding(new.kid()).is_none(), "a set taken before stays as it was");
    }
}
