//! Why a client was not authenticated, and why a configuration was refused.

use std::net::IpAddr;
use std::path::PathBuf;

/// Why a call to the token endpoint was not authenticated.
///
/// Every variant maps to the same OAuth answer, `invalid_client` with status 401 (RFC 6749
/// §5.2); the variants exist so that the log says what went wrong. Never show them to the caller:
/// telling a prober *which* check failed helps it.
#[derive(Debug, thiserror::Error)]
pub enum ClientAuthError {
    /// The connection (mutual TLS) or the proxy's header (trusted proxy) carries no certificate.
    #[error("no client certificate was presented")]
    NoCertificate,
    /// The presented certificate is not a parseable X.509 certificate.
    #[error("the client certificate is malformed: {0}")]
    MalformedCertificate(String),
    /// The certificate does not chain to a trusted CA, has expired, or may not be used for
    /// client authentication.
    #[error("the client certificate is not trusted: {0}")]
    UntrustedChain(String),
    /// None of the certificate's subjectAltName DNS names is the `client_id`.
    #[error("the client certificate is for {names:?}, not for client_id {client_id:?}")]
    NameMismatch {
        /// The `client_id` the caller claimed.
        client_id: String,
        /// The DNS names in the certificate's subjectAltName.
        names: Vec<String>,
    },
    /// The `client_id` is not a DNS host name, so no certificate can be for it.
    #[error("client_id {0:?} is not a DNS host name")]
    InvalidClientId(String),
    /// Trusted-proxy mode: the TCP peer is not one of the configured proxies, so its certificate
    /// header (if any) cannot be believed.
    #[error("request from {0}, which is not a trusted proxy")]
    UntrustedProxy(IpAddr),
    /// Development mode: the TCP peer is not on loopback.
    #[error("development mode accepts loopback peers only, not {0}")]
    NotLoopback(IpAddr),
    /// The TCP peer's address is unknown (e.g. a Unix socket), so no peer check can pass.
    #[error("the TCP peer address is unknown")]
    NoPeerAddress,
    /// Trusted-proxy mode: the certificate header is present but cannot be decoded.
    #[error("the client certificate header is malformed: {0}")]
    MalformedHeader(String),
    /// The configuration cannot be used (at start-up, not per request).
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Why a client-authentication or TLS configuration was refused at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A configured file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A PEM input that must hold certificates holds none, or holds a broken one.
    #[error("{what}: {message}")]
    Certificates {
        /// Which input (e.g. "trusted CA bundle").
        what: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The private key PEM holds no usable key.
    #[error("private key: {0}")]
    PrivateKey(String),
    /// rustls refused the server configuration (e.g. the key does not match the certificate).
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// A trusted-proxy entry is neither an IP address nor a CIDR.
    #[error("trusted proxy {0:?} is neither an IP address nor a CIDR such as 10.0.0.0/8")]
    InvalidProxy(String),
    /// Trusted-proxy mode without proxies would refuse every request.
    #[error("trusted_proxy mode needs at least one proxy address")]
    NoProxies,
    /// The certificate header name is not a valid HTTP header name.
    #[error("{0:?} is not a valid HTTP header name")]
    InvalidHeaderName(String),
    /// Trusted-proxy mode is to verify the forwarded chain, but no CA bundle is configured.
    #[error(
        "trusted_proxy mode verifies forwarded certificates but trusted_cas is not set (set it, or verify_chain = false)"
    )]
    MissingTrustedCas,
}
