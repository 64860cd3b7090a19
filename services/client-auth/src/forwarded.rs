//! Decodes the client certificate a TLS-terminating proxy forwards in a request header.
//!
//! Two encodings are in use, and the form tells them apart:
//! - nginx's `$ssl_client_escaped_cert`: the PEM text, percent-encoded (so `-----BEGIN` becomes
//!   `-----BEGIN%20CERTIFICATE-----%0A...`); several PEM blocks are read as end entity, then
//!   intermediates;
//! - RFC 9440 `Client-Cert`: a structured-field byte sequence, `:` base64(DER) `:`.

use crate::error::ClientAuthError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Decodes a certificate header value into a chain, end entity first. An empty value (what a
/// proxy sends when the client presented no certificate) is [`ClientAuthError::NoCertificate`].
pub(crate) fn decode_certificate_header(value: &[u8]) -> Result<Vec<CertificateDer<'static>>, ClientAuthError> {
    let value = value.trim_ascii();
    if value.is_empty() {
        return Err(ClientAuthError::NoCertificate);
    }
    if let Some(encoded) = value.strip_prefix(b":").and_then(|rest| rest.strip_suffix(b":")) {
        let der = STANDARD
            .decode(encoded)
            .map_err(|error| ClientAuthError::MalformedHeader(format!("RFC 9440 byte sequence: {error}")))?;
        return Ok(vec![CertificateDer::from(der)]);
    }
    let pem: Vec<u8> = percent_encoding::percent_decode(value).collect();
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| ClientAuthError::MalformedHeader(format!("escaped PEM: {error}")))?;
    if chain.is_empty() {
        return Err(ClientAuthError::MalformedHeader(
            "neither an escaped PEM certificate nor an RFC 9440 :base64: value".to_owned(),
        ));
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DER: &[u8] = b"\x30\x03\x02\x01\x05";

    fn pem(der: &[u8]) -> String {
        format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", STANDARD.encode(der))
    }

    fn escape(text: &str) -> String {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    }

    #[test]
    fn nginx_escaped_pem_is_decoded() {
        let chain = decode_certificate_header(escape(&pem(DER)).as_bytes()).unwrap();
        assert_eq!(chain, vec![CertificateDer::from(DER.to_vec())]);
    }

    #[test]
    fn several_pem_blocks_are_the_end_entity_then_intermediates() {
        let header = escape(&format!("{}{}", pem(DER), pem(b"\x30\x00")));
        let chain = decode_certificate_header(header.as_bytes()).unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].as_ref(), DER);
    }

    #[test]
    fn rfc_9440_byte_sequence_is_decoded() {
        let header = format!(":{}:", STANDARD.encode(DER));
        assert_eq!(decode_certificate_header(header.as_bytes()).unwrap(), vec![CertificateDer::from(DER.to_vec())]);
    }

    #[test]
    fn an_empty_header_means_no_certificate() {
        assert!(matches!(decode_certificate_header(b"  "), Err(ClientAuthError::NoCertificate)));
    }

    #[test]
    fn garbage_is_malformed_not_absent() {
        for value in [&b"hello"[..], b":not base64!:", b"-----BEGIN%20CERTIFICATE-----%0AAAA"] {
            assert!(
                matches!(decode_certificate_header(value), Err(ClientAuthError::MalformedHeader(_))),
                "{}",
                String::from_utf8_lossy(value)
            );
        }
    }
}
