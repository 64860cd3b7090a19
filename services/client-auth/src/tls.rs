//! The service's own TLS endpoint for mutual-TLS mode: the rustls server configuration that asks
//! for (but does not demand) a client certificate, and the actix hook that keeps the certificate
//! the client presented so that a handler can read it.

use crate::error::{ClientAuthError, ConfigError};
use crate::mode::read_certificates;
use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::HttpRequest;
use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use std::any::Any;
use std::sync::Arc;

/// The crypto provider everything here uses: aws-lc-rs, the workspace's one crypto backend.
/// Passing it explicitly (instead of the process-wide default) means no start-up code has to
/// install a default, and a second backend pulled in by some dependency cannot make rustls guess.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Builds the server's TLS configuration for mutual-TLS mode.
///
/// - `cert_chain_pem`: the service's certificate, then its intermediates;
/// - `key_pem`: its private key;
/// - `client_ca_pem`: the CAs client certificates must chain to.
///
/// A client certificate is *optional* at the TLS layer, so browser pages and the FHIR API work
/// without one; a certificate that *is* presented must chain to `client_ca_pem` (with the
/// clientAuth usage, unexpired) or the handshake fails. The token endpoint then demands one through
/// [`authenticate`](crate::authenticate). ALPN offers `http/1.1` only: the workspace builds
/// actix-web without its `http2` feature, so offering `h2` would break clients that pick it.
pub fn server_config(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
    client_ca_pem: &[u8],
) -> Result<rustls::ServerConfig, ClientAuthError> {
    let provider = provider();
    let chain = read_certificates(cert_chain_pem, "server certificate chain")?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|error| ConfigError::PrivateKey(error.to_string()))?;

    let mut roots = RootCertStore::empty();
    for certificate in read_certificates(client_ca_pem, "client CA bundle")? {
        roots
            .add(certificate)
            .map_err(|error| ConfigError::Certificates { what: "client CA bundle", message: error.to_string() })?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|error| ConfigError::Tls(error.to_string()))?;

    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| ConfigError::Tls(error.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|error| ConfigError::Tls(error.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The certificate chain a client presented in the TLS handshake (end entity first), as the
/// connection's data. rustls has already verified it against the client CA bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertificates(Vec<CertificateDer<'static>>);

impl PeerCertificates {
    /// The chain, end-entity certificate first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.0
    }

    /// The client's own certificate.
    pub fn end_entity(&self) -> Option<&CertificateDer<'static>> {
        self.0.first()
    }
}

/// The `HttpServer::on_connect` hook: on a TLS connection with a client certificate, keeps the
/// chain in the connection's data; on other connections does nothing.
///
/// ```ignore
/// HttpServer::new(app).on_connect(client_auth::on_connect).listen_rustls_0_23(listener, tls)?
/// ```
pub fn on_connect(connection: &dyn Any, extensions: &mut Extensions) {
    let Some(tls) = connection.downcast_ref::<TlsStream<TcpStream>>() else { return };
    let (_, session) = tls.get_ref();
    if let Some(chain) = session.peer_certificates().filter(|chain| !chain.is_empty()) {
        extensions.insert(PeerCertificates(chain.to_vec()));
    }
}

/// The certificate chain the client presented on this request's connection, if
/// [`on_connect`] is installed and the client presented one.
pub fn peer_certificate(request: &HttpRequest) -> Option<&PeerCertificates> {
    request.conn_data::<PeerCertificates>()
}
