//! The three ways of authenticating a client, and the trust material each one needs.

use crate::error::ConfigError;
use actix_web::http::header::HeaderName;
use ipnet::IpNet;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, TrustAnchor};
use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;

/// The header a TLS-terminating proxy uses by default to pass the client certificate
/// (nginx: `proxy_set_header X-Client-Cert $ssl_client_escaped_cert;`).
pub const DEFAULT_CERTIFICATE_HEADER: &str = "X-Client-Cert";

/// How the token endpoint authenticates the PGO server calling it. See the crate documentation
/// for when to use which.
#[derive(Debug, Clone)]
pub enum ClientAuthMode {
    /// The service terminates TLS itself and asks for a client certificate (RFC 8705 §2.1).
    MutualTls {
        /// The CAs a client certificate must chain to.
        trusted_cas: TrustedCas,
    },
    /// A proxy in front of the service terminates TLS and passes the client certificate in a
    /// header; only the listed proxies are believed.
    TrustedProxy {
        /// The header carrying the certificate (URL-encoded PEM, or RFC 9440 `:base64-DER:`).
        header: HeaderName,
        /// The addresses the proxy connects from.
        proxies: TrustedProxies,
        /// The CAs the forwarded certificate must chain to; `None` trusts the proxy's own
        /// verification alone (only when it is known to verify against the same CAs).
        trusted_cas: Option<TrustedCas>,
    },
    /// No TLS: a loopback caller is whoever its `client_id` says. For a developer's machine and
    /// tests only.
    Development,
}

/// A bundle of trusted CA certificates (roots, and intermediates one wants to anchor on).
#[derive(Debug, Clone)]
pub struct TrustedCas {
    certificates: Vec<CertificateDer<'static>>,
    anchors: Vec<TrustAnchor<'static>>,
}

impl TrustedCas {
    /// Reads a PEM bundle of CA certificates. An empty bundle is refused: it would trust nobody,
    /// which is never what a configuration means.
    pub fn from_pem(pem: &[u8]) -> Result<TrustedCas, ConfigError> {
        const WHAT: &str = "trusted CA bundle";
        let certificates = read_certificates(pem, WHAT)?;
        let anchors = certificates
            .iter()
            .map(|certificate| {
                webpki::anchor_from_trusted_cert(certificate)
                    .map(|anchor| anchor.to_owned())
                    .map_err(|error| ConfigError::Certificates { what: WHAT, message: error.to_string() })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedCas { certificates, anchors })
    }

    /// Reads a PEM bundle of CA certificates from a file.
    pub fn from_file(path: &Path) -> Result<TrustedCas, ConfigError> {
        TrustedCas::from_pem(&read_file(path)?)
    }

    /// The CA certificates, as read.
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certificates
    }

    pub(crate) fn anchors(&self) -> &[TrustAnchor<'static>] {
        &self.anchors
    }
}

/// The addresses and networks a trusted proxy connects from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses entries that are each an IP address (`127.0.0.1`, `::1`) or a CIDR
    /// (`10.0.0.0/8`). An empty list is refused: it would refuse every request.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, ConfigError> {
        if entries.is_empty() {
            return Err(ConfigError::NoProxies);
        }
        let networks = entries
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map_err(|_| ConfigError::InvalidProxy(entry.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies(networks))
    }

    /// Whether `address` is one of the proxies. An IPv4 address seen as IPv6 (`::ffff:10.0.0.1`,
    /// as a dual-stack socket reports it) counts as the IPv4 address.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The configured networks.
    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }
}

/// Parses a certificate header name from configuration.
pub fn parse_header_name(name: &str) -> Result<HeaderName, ConfigError> {
    HeaderName::from_str(name.trim()).map_err(|_| ConfigError::InvalidHeaderName(name.to_owned()))
}

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })
}

pub(crate) fn read_certificates(pem: &[u8], what: &'static str) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| ConfigError::Certificates { what, message: error.to_string() })?;
    if certificates.is_empty() {
        return Err(ConfigError::Certificates { what, message: "no PEM certificate found".to_owned() });
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_accept_addresses_and_networks_of_both_families() {
        let proxies = TrustedProxies::parse(&["127.0.0.1", "10.1.0.0/16", "::1", "fd00::/8"]).unwrap();
        assert!(proxies.contains("127.0.0.1".parse().unwrap()));
        assert!(proxies.contains("10.1.200.3".parse().unwrap()));
        assert!(proxies.contains("::1".parse().unwrap()));
        assert!(proxies.contains("fd12::5".parse().unwrap()));
        assert!(!proxies.contains("127.0.0.2".parse().unwrap()));
        assert!(!proxies.contains("10.2.0.1".parse().unwrap()));
        assert!(!proxies.contains("fe80::1".parse().unwrap()));
    }

    #[test]
    fn an_ipv4_peer_seen_through_a_dual_stack_socket_is_matched_as_ipv4() {
        let proxies = TrustedProxies::parse(&["192.0.2.7"]).unwrap();
        assert!(proxies.contains("::ffff:192.0.2.7".parse().unwrap()));
    }

    #[test]
    fn proxy_lists_that_are_empty_or_unparseable_are_refused() {
        assert!(matches!(TrustedProxies::parse::<&str>(&[]), Err(ConfigError::NoProxies)));
        assert!(matches!(TrustedProxies::parse(&["proxy.local"]), Err(ConfigError::InvalidProxy(_))));
        assert!(matches!(TrustedProxies::parse(&["10.0.0.0/33"]), Err(ConfigError::InvalidProxy(_))));
    }

    #[test]
    fn a_ca_bundle_without_certificates_is_refused() {
        assert!(matches!(TrustedCas::from_pem(b""), Err(ConfigError::Certificates { .. })));
        assert!(matches!(TrustedCas::from_pem(b"not pem at all"), Err(ConfigError::Certificates { .. })));
    }

    #[test]
    fn header_names_are_checked() {
        assert_eq!(parse_header_name("X-Client-Cert").unwrap().as_str(), "x-client-cert");
        assert!(matches!(parse_header_name("bad header"), Err(ConfigError::InvalidHeaderName(_))));
    }
}
