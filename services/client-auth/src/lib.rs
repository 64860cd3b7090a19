//! Authenticates the PGO server that calls the token endpoint (RFC 8705, "OAuth 2.0 Mutual-TLS
//! Client Authentication", §2.1 the PKI method).
//!
//! A PGO's `client_id` is its host name. It has authenticated when it holds the private key of a
//! certificate that (a) chains to a CA the service trusts for PGO clients, (b) may be used for
//! client authentication and has not expired, and (c) names the `client_id` exactly as a
//! subjectAltName DNS name (ASCII case ignored, wildcards not accepted: see below).
//!
//! # Which mode when
//!
//! | mode | use when | who checks the certificate |
//! |---|---|---|
//! | [`ClientAuthMode::MutualTls`] | the service is reachable directly, or behind a TCP (layer 4) load balancer that does not decrypt | rustls in the handshake, then [`authenticate`] again |
//! | [`ClientAuthMode::TrustedProxy`] | an HTTP proxy (nginx, HAProxy, an ingress) terminates TLS and requests the client certificate | the proxy, then [`authenticate`] again (unless switched off) |
//! | [`ClientAuthMode::Development`] | a developer's machine and tests: no TLS, caller on loopback | nobody |
//!
//! Every mode answers failures with [`ClientAuthError`]; the token endpoint maps them all to
//! OAuth `invalid_client` (401) and logs the variant.
//!
//! # Security reasoning
//!
//! - **Mutual TLS.** Only the TLS handshake proves possession of the private key, so the service
//!   sees the certificate first-hand. The certificate is optional at the TLS layer (browsers
//!   reaching the consent pages and the FHIR API have none), so the handshake alone does not
//!   authenticate anyone; the token endpoint must call [`authenticate`], which refuses a
//!   connection without one. A presented certificate that does not verify fails the handshake.
//!   [`authenticate`] verifies the chain once more against the mode's CA list, so the mode and the
//!   listener cannot silently disagree about which CAs are trusted.
//! - **Trusted proxy.** The header is just text: anyone who can reach the service directly can
//!   write one. It is believed only from the configured proxy addresses, and a request from
//!   anywhere else is refused outright (never treated as "no certificate"), so a misrouted or
//!   direct request shows up in the logs. The service still verifies the forwarded chain against
//!   its own CA list by default (defence in depth): a proxy set to `ssl_verify_client
//!   optional_no_ca`, or one shared with other sites that trust other CAs, forwards certificates
//!   it did not check, and the service cannot tell. Switching this off (`verify_chain = false`) is
//!   for a proxy that verifies against exactly the PGO CAs and is under the same control. The
//!   proxy must also overwrite (never pass through) a client-sent header of the same name.
//! - **Development.** Whoever says `client_id` is believed, so it is limited to loopback peers,
//!   where the caller is already on the machine. Never configure it where a reverse proxy on the
//!   same host forwards outside traffic: that traffic arrives from loopback too.
//! - **Exact names, no wildcards.** A `client_id` names one PGO in the OAuth Client List and the
//!   person consents to that PGO. A `*.vendor.example` certificate would authenticate every
//!   sibling host, and siblings can be different list entries; PGO certificates name their host.
//! - **Not checked here:** revocation (CRL/OCSP) and the MedMij whitelist; the caller checks the
//!   whitelist with the returned client's host name.
//! - **Where a request comes from** ([`source_address`], for throttling): the socket's peer, or
//!   behind a trusted proxy the address it forwards, for the same reason as the certificate
//!   header: from anyone else a forwarded address is just text.
//!
//! # Wiring
//!
//! ```ignore
//! let mode = settings.client_auth.mode()?;
//! let server = HttpServer::new(app).on_connect(client_auth::on_connect);
//! let server = match settings.client_auth.server_config()? {
//!     Some(tls) => server.listen_rustls_0_23(listener, tls)?,
//!     None => server.listen(listener)?,
//! };
//! // in the token handler:
//! let client = client_auth::authenticate(&mode, &request, &form.client_id)?;
//! ```

mod certificate;
mod config;
mod error;
mod forwarded;
mod mode;
mod source;
mod tls;

pub use certificate::thumbprint;
pub use config::ClientAuthConfig;
pub use error::{ClientAuthError, ConfigError};
pub use mode::{ClientAuthMode, DEFAULT_CERTIFICATE_HEADER, TrustedCas, TrustedProxies, parse_header_name};
pub use source::source_address;
pub use tls::{PeerCertificates, on_connect, peer_certificate, server_config};

use actix_web::HttpRequest;
use rustls::pki_types::UnixTime;
use std::net::IpAddr;

/// How a client was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A certificate presented to the service in its own TLS handshake.
    MutualTls,
    /// A certificate forwarded by a trusted proxy.
    TrustedProxy,
    /// A loopback caller in development mode, without a certificate.
    Development,
}

/// A client that has authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedClient {
    /// The PGO's host name, as its `client_id` said and (outside development) its certificate
    /// confirmed.
    pub client_id: String,
    /// How it was authenticated.
    pub method: AuthMethod,
    /// The RFC 8705 §3.1 `x5t#S256` thumbprint of its certificate (none in development).
    pub certificate_thumbprint: Option<String>,
}

/// Authenticates the caller of `request` as `client_id` according to `mode`. Install
/// [`on_connect`] on the server for mutual-TLS mode.
pub fn authenticate(
    mode: &ClientAuthMode,
    request: &HttpRequest,
    client_id: &str,
) -> Result<AuthenticatedClient, ClientAuthError> {
    let now = UnixTime::now();
    match mode {
        ClientAuthMode::MutualTls { trusted_cas } => {
            let chain = peer_certificate(request).ok_or(ClientAuthError::NoCertificate)?;
            let thumbprint = certificate::verify_client_certificate(chain.chain(), Some(trusted_cas), client_id, now)?;
            Ok(authenticated(client_id, AuthMethod::MutualTls, Some(thumbprint)))
        }
        ClientAuthMode::TrustedProxy { header, proxies, trusted_cas } => {
            let peer = peer_ip(request)?;
            if !proxies.contains(peer) {
                return Err(ClientAuthError::UntrustedProxy(peer));
            }
            let mut values = request.headers().get_all(header);
            let value = values.next().ok_or(ClientAuthError::NoCertificate)?;
            if values.next().is_some() {
                // Two certificates: one may have come from the client; believe neither.
                return Err(ClientAuthError::MalformedHeader(format!("{header} appears more than once")));
            }
            let chain = forwarded::decode_certificate_header(value.as_bytes())?;
            let thumbprint = certificate::verify_client_certificate(&chain, trusted_cas.as_ref(), client_id, now)?;
            Ok(authenticated(client_id, AuthMethod::TrustedProxy, Some(thumbprint)))
        }
        ClientAuthMode::Development => {
            let peer = peer_ip(request)?;
            if !peer.is_loopback() {
                return Err(ClientAuthError::NotLoopback(peer));
            }
            Ok(authenticated(client_id, AuthMethod::Development, None))
        }
    }
}

/// The TCP peer's address: the socket's, never a forwarded-for header.
fn peer_ip(request: &HttpRequest) -> Result<IpAddr, ClientAuthError> {
    let address = request.peer_addr().ok_or(ClientAuthError::NoPeerAddress)?;
    Ok(address.ip().to_canonical())
}

fn authenticated(client_id: &str, method: AuthMethod, certificate_thumbprint: Option<String>) -> AuthenticatedClient {
    AuthenticatedClient { client_id: client_id.to_owned(), method, certificate_thumbprint }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn from(peer: &str) -> TestRequest {
        TestRequest::default().peer_addr(peer.parse().unwrap())
    }

    #[test]
    fn development_mode_refuses_a_peer_off_loopback() {
        let request = from("192.0.2.10:40000").to_http_request();
        let result = authenticate(&ClientAuthMode::Development, &request, "pgo.example.nl");
        assert!(matches!(result, Err(ClientAuthError::NotLoopback(ip)) if ip.to_string() == "192.0.2.10"));
    }

    #[test]
    fn development_mode_accepts_ipv6_loopback() {
        let request = from("[::1]:40000").to_http_request();
        let client = authenticate(&ClientAuthMode::Development, &request, "pgo.example.nl").unwrap();
        assert_eq!(client.method, AuthMethod::Development);
    }

    #[test]
    fn a_request_without_a_peer_address_is_refused() {
        let request = TestRequest::default().to_http_request();
        let result = authenticate(&ClientAuthMode::Development, &request, "pgo.example.nl");
        assert!(matches!(result, Err(ClientAuthError::NoPeerAddress)));
    }

    #[test]
    fn a_forwarded_for_header_does_not_make_a_peer_a_proxy() {
        let mode = ClientAuthMode::TrustedProxy {
            header: parse_header_name(DEFAULT_CERTIFICATE_HEADER).unwrap(),
            proxies: TrustedProxies::parse(&["10.0.0.1"]).unwrap(),
            trusted_cas: None,
        };
        let request = from("192.0.2.10:40000")
            .insert_header(("X-Forwarded-For", "10.0.0.1"))
            .insert_header(("Forwarded", "for=10.0.0.1"))
            .to_http_request();
        let result = authenticate(&mode, &request, "pgo.example.nl");
        assert!(matches!(result, Err(ClientAuthError::UntrustedProxy(_))));
    }
}
