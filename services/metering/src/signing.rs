//! Signed reports: a JWS (RFC 7515) in the flattened JSON serialization with an unencoded payload
//! (RFC 7797, `"b64": false`), so that one file holds the report exactly as made (JSON or CSV
//! text, readable in the `payload` member) and its ES256 signature by the service's key, which
//! the service publishes in its JWKS. Anyone holding that JWKS can check a saved report offline:
//! a changed character of the report, of the header or of the signature fails.

use access_token::SigningKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::{Deserialize, Serialize};

/// The `typ` of a signed report.
pub const SIGNED_REPORT_TYPE: &str = "pgx-usage-report+jws";

/// A signed report as stored: the three members of the flattened JWS JSON serialization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedReport {
    /// Base64url of the protected header.
    pub protected: String,
    /// The report text itself (not base64: `b64` is false).
    pub payload: String,
    /// Base64url of the ES256 signature.
    pub signature: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct ProtectedHeader {
    alg: String,
    kid: String,
    typ: String,
    cty: String,
    b64: bool,
    crit: Vec<String>,
}

/// A report that could not be signed or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Not a signed report at all.
    #[error("not a signed report (a JWS in the flattened JSON serialization): {0}")]
    Malformed(String),
    /// A header this verifier does not accept (algorithm, critical parameters, type).
    #[error("unsupported signature header: {0}")]
    Unsupported(String),
    /// Signed with a key not in the key set.
    #[error("signed with key '{0}', which is not in the key set")]
    UnknownKey(String),
    /// The signature does not match the report.
    #[error("the signature does not match: the report or its header was changed, or another key signed it")]
    Mismatch,
    /// Signing failed.
    #[error("cannot sign: {0}")]
    Signing(String),
}

/// A verified report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReport {
    /// The report text.
    pub payload: String,
    /// Its media type (`application/json` or `text/csv`).
    pub content_type: String,
    /// The key that signed it.
    pub kid: String,
}

/// Signs `payload` (of media type `content_type`) with `key`; returns the JSON text to serve or
/// save.
pub fn sign(payload: &str, content_type: &str, key: &SigningKey) -> Result<String, SignatureError> {
    let header = ProtectedHeader {
        alg: "ES256".to_owned(),
        kid: key.kid().to_owned(),
        typ: SIGNED_REPORT_TYPE.to_owned(),
        cty: content_type.to_owned(),
        b64: false,
        crit: vec!["b64".to_owned()],
    };
    let header_json = serde_json::to_string(&header).map_err(|error| SignatureError::Signing(error.to_string()))?;
    let protected = URL_SAFE_NO_PAD.encode(header_json);
    let signature =
        jsonwebtoken::crypto::sign(&signing_input(&protected, payload), key.encoding_key(), Algorithm::ES256)
            .map_err(|error| SignatureError::Signing(error.to_string()))?;
    // Written from borrowed parts: a year's report is half a gigabyte, not to be copied again.
    let signed = SignedReportParts { protected: &protected, payload, signature: &signature };
    // Sized for the escaped payload at once (a JSON report escapes its quotes: about a tenth more).
    let mut out = Vec::with_capacity(payload.len() + payload.len() / 8 + 1_024);
    serde_json::to_writer_pretty(&mut out, &signed).map_err(|error| SignatureError::Signing(error.to_string()))?;
    String::from_utf8(out).map_err(|error| SignatureError::Signing(error.to_string()))
}

/// [`SignedReport`] as written, borrowing its parts.
#[derive(Serialize)]
struct SignedReportParts<'a> {
    protected: &'a str,
    payload: &'a str,
    signature: &'a str,
}

/// Verifies the signed report `document` against the keys of `jwks` (a JWK Set).
pub fn verify(document: &str, jwks: &serde_json::Value) -> Result<VerifiedReport, SignatureError> {
    let signed: SignedReport =
        serde_json::from_str(document).map_err(|error| SignatureError::Malformed(error.to_string()))?;
    let header_bytes =
        URL_SAFE_NO_PAD.decode(&signed.protected).map_err(|error| SignatureError::Malformed(error.to_string()))?;
    let header: ProtectedHeader =
        serde_json::from_slice(&header_bytes).map_err(|error| SignatureError::Malformed(error.to_string()))?;
    if header.alg != "ES256" {
        return Err(SignatureError::Unsupported(format!("algorithm {}", header.alg)));
    }
    if header.b64 || header.crit != ["b64"] {
        return Err(SignatureError::Unsupported("expected b64 false, critical".to_owned()));
    }
    if header.typ != SIGNED_REPORT_TYPE {
        return Err(SignatureError::Unsupported(format!("type {}", header.typ)));
    }
    let key = decoding_key(jwks, &header.kid)?;
    let matches = jsonwebtoken::crypto::verify(
        &signed.signature,
        &signing_input(&signed.protected, &signed.payload),
        &key,
        Algorithm::ES256,
    )
    .map_err(|_| SignatureError::Mismatch)?;
    if !matches {
        return Err(SignatureError::Mismatch);
    }
    Ok(VerifiedReport { payload: signed.payload, content_type: header.cty, kid: header.kid })
}

/// RFC 7797 §3: the protected header in base64url, a dot, and the payload's bytes as they are.
fn signing_input(protected: &str, payload: &str) -> Vec<u8> {
    let mut input = Vec::with_capacity(protected.len() + 1 + payload.len());
    input.extend_from_slice(protected.as_bytes());
    input.push(b'.');
    input.extend_from_slice(payload.as_bytes());
    input
}

fn decoding_key(jwks: &serde_json::Value, kid: &str) -> Result<DecodingKey, SignatureError> {
    let set: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(jwks.clone()).map_err(|error| SignatureError::Malformed(format!("key set: {error}")))?;
    let jwk = set.find(kid).ok_or_else(|| SignatureError::UnknownKey(kid.to_owned()))?;
    DecodingKey::from_jwk(jwk).map_err(|error| SignatureError::Malformed(format!("key {kid}: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwks(key: &SigningKey) -> serde_json::Value {
        serde_json::json!({ "keys": [key.public_jwk()] })
    }

    #[test]
    fn a_signed_report_verifies_and_keeps_its_text() {
        let key = SigningKey::generate().expect("key");
        let report = "record,client_id\r\nclient,\"a,b\"\r\n";
        let signed = sign(report, "text/csv", &key).expect("signed");
        let verified = verify(&signed, &jwks(&key)).expect("verifies");
        assert_eq!(verified.payload, report);
        assert_eq!(verified.content_type, "text/csv");
        // Re-indenting the JSON around the members changes nothing.
        let value: serde_json::Value = serde_json::from_str(&signed).expect("json");
        assert!(verify(&value.to_string(), &jwks(&key)).is_ok());
    }

    #[test]
    fn any_change_fails() {
        let key = SigningKey::generate().expect("key");
        let signed: SignedReport =
            serde_json::from_str(&sign("{\"new_users\": 2}", "application/json", &key).expect("signed")).expect("json");
        let tampered = SignedReport { payload: "{\"new_users\": 3}".into(), ..signed.clone() };
        let check = |report: &SignedReport| verify(&serde_json::to_string(report).expect("json"), &jwks(&key));
        assert_eq!(check(&tampered), Err(SignatureError::Mismatch));
        let mut bytes = URL_SAFE_NO_PAD.decode(&signed.signature).expect("b64");
        bytes[10] ^= 1;
        let bad_signature = SignedReport { signature: URL_SAFE_NO_PAD.encode(bytes), ..signed.clone() };
        assert_eq!(check(&bad_signature), Err(SignatureError::Mismatch));
        let other = SigningKey::generate().expect("key");
        let elsewhere = verify(&sign("{}", "application/json", &other).expect("signed"), &jwks(&key));
        assert!(matches!(elsewhere, Err(SignatureError::UnknownKey(_))));
        assert!(matches!(verify("not json", &jwks(&key)), Err(SignatureError::Malformed(_))));
        assert!(check(&signed).is_ok());
    }
}
