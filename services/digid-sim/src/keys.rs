//! The simulator's ES256 (P-256) signing key: generated at start-up or read from a PKCS#8 PEM
//! file, named by its RFC 7638 thumbprint, and published in the JWK Set.

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::EncodingKey;
use serde_json::{Value, json};

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

/// An ES256 key pair with its key id.
#[derive(Clone)]
pub(crate) struct SigningKey {
    x: String,
    y: String,
    kid: String,
    /// Kept to derive the subject key from it (see `Simulator::with_key_pem`).
    pkcs8: Vec<u8>,
    encoding: EncodingKey,
}

impl SigningKey {
    /// A new random key.
    pub(crate) fn generate() -> Result<SigningKey, KeyError> {
        let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(|_| KeyError::Generation)?;
        SigningKey::from_pkcs8_der(document.as_ref()).ok_or(KeyError::Generation)
    }

    /// A key from PKCS#8 PEM text (`-----BEGIN PRIVATE KEY-----`).
    pub(crate) fn from_pem(pem: &str) -> Result<SigningKey, KeyError> {
        let body = pem
            .split("-----BEGIN PRIVATE KEY-----")
            .nth(1)
            .and_then(|rest| rest.split("-----END PRIVATE KEY-----").next())
            .ok_or(KeyError::NotAnEs256Key)?;
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der = STANDARD.decode(compact).map_err(|_| KeyError::NotAnEs256Key)?;
        SigningKey::from_pkcs8_der(&der).ok_or(KeyError::NotAnEs256Key)
    }

    fn from_pkcs8_der(der: &[u8]) -> Option<SigningKey> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).ok()?;
        let point = pair.public_key().as_ref();
        // An uncompressed P-256 point: 0x04, the 32 bytes of x, the 32 bytes of y.
        if point.len() != 65 || point[0] != 4 {
            return None;
        }
        let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&point[33..]);
        // RFC 7638: the required members in lexicographic order, without whitespace.
        let thumbprint_input = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, thumbprint_input.as_bytes()).as_ref());
        Some(SigningKey { x, y, kid, pkcs8: der.to_vec(), encoding: EncodingKey::from_ec_der(der) })
    }

    /// The key id (the RFC 7638 thumbprint).
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half as a JWK.
    pub(crate) fn public_jwk(&self) -> Value {
        json!({"kty": "EC", "crv": "P-256", "x": self.x, "y": self.y, "kid": self.kid, "use": "sig", "alg": "ES256"})
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    pub(crate) fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_key_round_trips_to_the_same_kid() {
        let key = SigningKey::generate().unwrap();
        let encoded = STANDARD.encode(key.pkcs8());
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{encoded}\n-----END PRIVATE KEY-----\n");
        let again = SigningKey::from_pem(&pem).unwrap();
        assert_eq!(again.kid(), key.kid());
        assert_eq!(again.public_jwk(), key.public_jwk());
        assert_ne!(SigningKey::generate().unwrap().kid(), key.kid());
    }

    #[test]
    fn garbage_is_not_a_key() {
        assert!(matches!(SigningKey::from_pem("nonsense"), Err(KeyError::NotAnEs256Key)));
        let not_der = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
        assert!(matches!(SigningKey::from_pem(not_der), Err(KeyError::NotAnEs256Key)));
    }
}
