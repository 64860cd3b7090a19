//! The service's ES256 signing key: generated on first start (or supplied by the operator as a
//! PKCS#8 PEM file, e.g. from `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`),
//! identified by its RFC 7638 JWK thumbprint, and published as a JWK.

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde_json::{Value, json};
use std::path::Path;

const PEM_LABEL: &str = "PRIVATE KEY";

/// A signing key could not be read, created or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Not a PKCS#8 PEM P-256 private key.
    #[error("{0}: not a PKCS#8 PEM-encoded P-256 (ES256) private key")]
    NotAnEs256Key(String),
    /// Key generation failed.
    #[error("cannot generate a key")]
    Generation,
}

/// An ES256 key pair.
#[derive(Clone)]
pub struct SigningKey {
    pkcs8: Vec<u8>,
    x: String,
    y: String,
    kid: String,
    encoding: EncodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Result<SigningKey, KeyError> {
        let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(|_| KeyError::Generation)?;
        SigningKey::from_pkcs8_der(document.as_ref()).ok_or(KeyError::Generation)
    }

    /// A key from PKCS#8 DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Option<SigningKey> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).ok()?;
        let point = pair.public_key().as_ref();
        // An uncompressed P-256 point: 0x04, then 32 bytes of x and 32 of y.
        if point.len() != 65 || point[0] != 4 {
            return None;
        }
        let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&point[33..]);
        // RFC 7638: the members in lexicographic order, no whitespace.
        let thumbprint_input = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, thumbprint_input.as_bytes()).as_ref());
        Some(SigningKey { pkcs8: der.to_vec(), x, y, kid, encoding: EncodingKey::from_ec_der(der) })
    }

    /// A key from PKCS#8 PEM text.
    pub fn from_pem(pem: &str) -> Option<SigningKey> {
        let begin = format!("-----BEGIN {PEM_LABEL}-----");
        let end = format!("-----END {PEM_LABEL}-----");
        let body = pem.split(&begin).nth(1)?.split(&end).next()?;
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        SigningKey::from_pkcs8_der(&STANDARD.decode(compact).ok()?)
    }

    /// The key as PKCS#8 PEM text.
    pub fn to_pem(&self) -> String {
        let encoded = STANDARD.encode(&self.pkcs8);
        let mut pem = format!("-----BEGIN {PEM_LABEL}-----\n");
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str(&format!("-----END {PEM_LABEL}-----\n"));
        pem
    }

    /// Reads the key at `path`, or generates one and writes it there (owner-readable only).
    pub fn load_or_create(path: &Path) -> Result<SigningKey, KeyError> {
        let io = |source| KeyError::Io { path: path.display().to_string(), source };
        match std::fs::read_to_string(path) {
            Ok(pem) => SigningKey::from_pem(&pem).ok_or_else(|| KeyError::NotAnEs256Key(path.display().to_string())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = SigningKey::generate()?;
                if let Some(parent) = path.parent() {
                    identity::create_private_folder(parent).map_err(io)?;
                }
                identity::write_private(path, key.to_pem().as_bytes()).map_err(io)?;
                Ok(key)
            }
            Err(error) => Err(io(error)),
        }
    }

    /// The private key as PKCS#8 DER (to be sealed before it is stored anywhere).
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key id: its RFC 7638 thumbprint.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (for a JWKS document).
    pub fn public_jwk(&self) -> Value {
        json!({"kty": "EC", "crv": "P-256", "x": self.x, "y": self.y, "kid": self.kid, "use": "sig", "alg": "ES256"})
    }

    /// The key for signing with jsonwebtoken.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    pub(crate) fn decoding_key(&self) -> DecodingKey {
        // x and y are base64url of 32 bytes each, made above: always decodable.
        DecodingKey::from_ec_components(&self.x, &self.y).unwrap_or_else(|_| DecodingKey::from_ec_der(&[]))
    }
}
