//! Mutual-TLS mode (RFC 8705 §2.1): the service terminates TLS and reads the client certificate
//! from its own handshake.

use crate::pki::{Leaf, Pki};
use crate::server::{TestServer, call};
use client_auth::{ClientAuthMode, TrustedCas, server_config, thumbprint};

fn spawn(pki: &Pki) -> TestServer {
    let pgo_cas = pki.pgo_ca.pem();
    let tls = server_config(pki.server.pem.as_bytes(), pki.server.key_pem.as_bytes(), pgo_cas.as_bytes()).unwrap();
    let mode = ClientAuthMode::MutualTls { trusted_cas: TrustedCas::from_pem(pgo_cas.as_bytes()).unwrap() };
    TestServer::spawn(mode, Some(tls))
}

/// A client that trusts the test server and presents `identity`, if any.
fn client(pki: &Pki, identity: Option<&Leaf>) -> reqwest::Client {
    let server_ca = reqwest::Certificate::from_pem(pki.server_ca.pem().as_bytes()).unwrap();
    let mut builder = reqwest::Client::builder().tls_certs_only([server_ca]);
    if let Some(leaf) = identity {
        builder = builder.identity(leaf.identity());
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn a_certificate_for_the_client_id_authenticates() {
    let pki = Pki::new();
    let server = spawn(&pki);
    let pgo = pki.pgo_ca.client(&["pgo.example.nl"]);

    let (status, body) = call(&client(&pki, Some(&pgo)), &server.token_url("pgo.example.nl")).await;

    assert_eq!((status, body), (200, format!("mutual_tls {}", thumbprint(&pgo.der))));
}

#[tokio::test]
async fn the_name_is_compared_without_regard_to_ascii_case() {
    let pki = Pki::new();
    let server = spawn(&pki);
    let pgo = pki.pgo_ca.client(&["PGO.Example.nl"]);

    let (status, _) = call(&client(&pki, Some(&pgo)), &server.token_url("pgo.example.NL")).await;

    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_certificate_for_another_host_is_refused() {
    let pki = Pki::new();
    let server = spawn(&pki);
    let other = pki.pgo_ca.client(&["other-pgo.example.nl"]);

    let (status, body) = call(&client(&pki, Some(&other)), &server.token_url("pgo.example.nl")).await;

    assert_eq!(status, 401);
    assert!(body.starts_with("NameMismatch"), "{body}");
    assert!(body.contains("other-pgo.example.nl"), "{body}");
}

#[tokio::test]
async fn a_wildcard_certificate_does_not_stand_for_a_host() {
    let pki = Pki::new();
    let server = spawn(&pki);
    let wildcard = pki.pgo_ca.client(&["*.example.nl"]);

    let (status, body) = call(&client(&pki, Some(&wildcard)), &server.token_url("pgo.example.nl")).await;

    assert_eq!(status, 401);
    assert!(body.starts_with("NameMismatch"), "{body}");
}

#[tokio::test]
async fn a_connection_without_a_certificate_reaches_the_server_but_is_not_authenticated() {
    let pki = Pki::new();
    let server = spawn(&pki);

    let (status, body) = call(&client(&pki, None), &server.token_url("pgo.example.nl")).await;

    assert_eq!((status, body.as_str()), (401, "NoCertificate"));
}

/// A certificate rustls cannot verify fails the TLS handshake itself: the server sends the TLS
/// alert `expected_alert` and the request never reaches the handler. (In TLS 1.3 the client has
/// already sent its request when the alert arrives, so reqwest reports it as a request error.)
/// The same server answers a client without a certificate, so the failure is the certificate's.
async fn assert_handshake_refused(pki: &Pki, leaf: &Leaf, expected_alert: &str) {
    let server = spawn(pki);

    let refused = client(pki, Some(leaf)).get(server.token_url("pgo.example.nl")).send().await;
    let anonymous = client(pki, None).get(server.token_url("pgo.example.nl")).send().await.unwrap();

    let error = refused.expect_err("the handshake must fail");
    assert!(format!("{error:?}").contains(&format!("AlertReceived({expected_alert})")), "{error:?}");
    assert_eq!(anonymous.status().as_u16(), 401);
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_fails_the_handshake() {
    let pki = Pki::new();
    let rogue = pki.rogue_ca.client(&["pgo.example.nl"]);
    assert_handshake_refused(&pki, &rogue, "UnknownCA").await;
}

#[tokio::test]
async fn an_expired_certificate_fails_the_handshake() {
    let pki = Pki::new();
    let expired = pki.pgo_ca.expired_client(&["pgo.example.nl"]);
    assert_handshake_refused(&pki, &expired, "CertificateExpired").await;
}

#[tokio::test]
async fn a_certificate_for_servers_only_fails_the_handshake() {
    let pki = Pki::new();
    let server_only = pki.pgo_ca.server(&["pgo.example.nl"]);
    assert_handshake_refused(&pki, &server_only, "UnsupportedCertificate").await;
}

#[tokio::test]
async fn the_server_config_refuses_a_key_that_does_not_match_the_certificate() {
    let pki = Pki::new();
    let other = pki.server_ca.server(&["127.0.0.1"]);

    let result = server_config(pki.server.pem.as_bytes(), other.key_pem.as_bytes(), pki.pgo_ca.pem().as_bytes());

    assert!(matches!(result, Err(client_auth::ClientAuthError::Config(_))), "{result:?}");
}
