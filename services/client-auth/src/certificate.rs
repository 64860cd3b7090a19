//! Checks a client's certificate chain: that it chains to a trusted CA for client
//! authentication, and that it names exactly the `client_id`.

use crate::error::ClientAuthError;
use crate::mode::TrustedCas;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use webpki::{EndEntityCert, KeyUsage};

/// Verifies `chain` (end entity first, then intermediates) for `client_id` and returns the
/// certificate's RFC 8705 §3.1 thumbprint.
///
/// With `trusted_cas` the chain must lead to one of them, be valid at `now`, and allow client
/// authentication (an extended key usage, when present, must include clientAuth). Without
/// (a trusted proxy that verified the chain itself) only the name is checked.
pub(crate) fn verify_client_certificate(
    chain: &[CertificateDer<'_>],
    trusted_cas: Option<&TrustedCas>,
    client_id: &str,
    now: UnixTime,
) -> Result<String, ClientAuthError> {
    let (end_entity, intermediates) = chain.split_first().ok_or(ClientAuthError::NoCertificate)?;
    let certificate = EndEntityCert::try_from(end_entity)
        .map_err(|error| ClientAuthError::MalformedCertificate(error.to_string()))?;

    if let Some(trusted_cas) = trusted_cas {
        certificate
            .verify_for_usage(
                crate::tls::provider().signature_verification_algorithms.all,
                trusted_cas.anchors(),
                intermediates,
                now,
                KeyUsage::client_auth(),
                None,
                None,
            )
            .map_err(|error| ClientAuthError::UntrustedChain(error.to_string()))?;
    }

    check_name(&certificate, client_id)?;
    Ok(thumbprint(end_entity))
}

/// The client is the certificate's subject when a subjectAltName DNS name equals `client_id`,
/// ignoring ASCII case.
///
/// Wildcards do not count. A `client_id` names one PGO in the OAuth Client List, and what the
/// person consents to is "this PGO"; a `*.vendor.example` certificate would let one server speak
/// for every sibling host name, and sibling hosts can be different entries in the list (even
/// different organisations on a shared platform). webpki's own matcher is run first (it applies
/// the RFC 6125 rules and ignores the subject's common name), then the exact match is required.
fn check_name(certificate: &EndEntityCert<'_>, client_id: &str) -> Result<(), ClientAuthError> {
    let Ok(ServerName::DnsName(name)) = ServerName::try_from(client_id) else {
        return Err(ClientAuthError::InvalidClientId(client_id.to_owned()));
    };
    let names: Vec<&str> = certificate.valid_dns_names().collect();
    let exact = names.iter().any(|presented| presented.eq_ignore_ascii_case(client_id));
    if exact && certificate.verify_is_valid_for_subject_name(&ServerName::DnsName(name)).is_ok() {
        return Ok(());
    }
    Err(ClientAuthError::NameMismatch {
        client_id: client_id.to_owned(),
        names: names.into_iter().map(str::to_owned).collect(),
    })
}

/// The base64url SHA-256 of the DER certificate: what RFC 8705 §3.1 puts in an access token's
/// `cnf.x5t#S256` to bind it to this certificate, and a compact identifier for audit logs.
pub fn thumbprint(certificate: &CertificateDer<'_>) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, certificate).as_ref())
}
