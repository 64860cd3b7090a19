//! The simulator's ES256 (P-256) signing key: the key type the service signs its own access
//! tokens with (`access_token::SigningKey`: RFC 7638 thumbprint as `kid`, JWK export), generated
//! at start-up or read from a PKCS#8 PEM file.

pub(crate) use access_token::SigningKey;

/// The signing key could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The PEM text is not a PKCS#8 P-256 private key.
    #[error("not a PKCS#8 PEM-encoded P-256 (ES256) private key")]
    NotAnEs256Key,
    /// The random number generator failed.
    #[error("cannot generate a key")]
    Generation,
}

/// A new random key.
pub(crate) fn generate() -> Result<SigningKey, KeyError> {
    SigningKey::generate().map_err(|_| KeyError::Generation)
}

/// A key from PKCS#8 PEM text (`-----BEGIN PRIVATE KEY-----`).
pub(crate) fn from_pem(pem: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pem(pem).ok_or(KeyError::NotAnEs256Key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_key_round_trips_to_the_same_kid() {
        let key = generate().unwrap();
        let again = from_pem(&key.to_pem()).unwrap();
        assert_eq!(again.kid(), key.kid());
        assert_eq!(again.public_jwk(), key.public_jwk());
        assert_ne!(generate().unwrap().kid(), key.kid());
    }

    #[test]
    fn garbage_is_not_a_key() {
        assert!(matches!(from_pem("nonsense"), Err(KeyError::NotAnEs256Key)));
        let not_der = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
        assert!(matches!(from_pem(not_der), Err(KeyError::NotAnEs256Key)));
    }
}
