//! Trusted-proxy mode: a TLS-terminating proxy forwards the client certificate in a header, which
//! is believed only from the configured proxy addresses.

use crate::pki::{Leaf, Pki};
use crate::server::{TestServer, call};
use client_auth::{ClientAuthMode, TrustedCas, TrustedProxies, parse_header_name, thumbprint};

fn mode(pki: &Pki, header: &str, proxies: &[&str], verify_chain: bool) -> ClientAuthMode {
    ClientAuthMode::TrustedProxy {
        header: parse_header_name(header).unwrap(),
        proxies: TrustedProxies::parse(proxies).unwrap(),
        trusted_cas: verify_chain.then(|| TrustedCas::from_pem(pki.pgo_ca.pem().as_bytes()).unwrap()),
    }
}

/// Calls the loopback server as the proxy would, with `header: value`.
async fn forward(server: &TestServer, client_id: &str, header: &str, value: &str) -> (u16, String) {
    let response = reqwest::Client::new().get(server.token_url(client_id)).header(header, value).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn spawn_from_loopback(pki: &Pki) -> TestServer {
    TestServer::spawn(mode(pki, "X-Client-Cert", &["127.0.0.1"], true), None)
}

#[tokio::test]
async fn an_escaped_pem_header_from_a_trusted_proxy_authenticates() {
    let pki = Pki::new();
    let server = spawn_from_loopback(&pki);
    let pgo = pki.pgo_ca.client(&["pgo.example.nl"]);

    let (status, body) = forward(&server, "pgo.example.nl", "X-Client-Cert", &pgo.escaped_pem()).await;

    assert_eq!((status, body), (200, format!("trusted_proxy {}", thumbprint(&pgo.der))));
}

#[tokio::test]
async fn an_rfc_9440_client_cert_header_authenticates() {
    let pki = Pki::new();
    let server = TestServer::spawn(mode(&pki, "Client-Cert", &["127.0.0.0/8"], true), None);
    let pgo = pki.pgo_ca.client(&["pgo.example.nl"]);

    let (status, _) = forward(&server, "pgo.example.nl", "Client-Cert", &pgo.rfc9440()).await;

    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_same_header_from_a_peer_that_is_not_a_proxy_is_refused() {
    let pki = Pki::new();
    let server = TestServer::spawn(mode(&pki, "X-Client-Cert", &["10.0.0.1", "192.0.2.0/24"], true), None);
    let pgo = pki.pgo_ca.client(&["pgo.example.nl"]);

    let (status, body) = forward(&server, "pgo.example.nl", "X-Client-Cert", &pgo.escaped_pem()).await;

    assert_eq!((status, body.as_str()), (401, "UntrustedProxy(127.0.0.1)"));
}

#[tokio::test]
async fn a_request_from_a_non_proxy_without_the_header_is_refused_too() {
    let pki = Pki::new();
    let server = TestServer::spawn(mode(&pki, "X-Client-Cert", &["10.0.0.1"], true), None);

    let (status, body) = call(&reqwest::Client::new(), &server.token_url("pgo.example.nl")).await;

    assert_eq!((status, body.as_str()), (401, "UntrustedProxy(127.0.0.1)"));
}

#[tokio::test]
async fn a_trusted_proxy_without_the_header_means_no_certificate() {
    let pki = Pki::new();
    let server = spawn_from_loopback(&pki);

    let (status, body) = call(&reqwest::Client::new(), &server.token_url("pgo.example.nl")).await;

    assert_eq!((status, body.as_str()), (401, "NoCertificate"));
}

async fn assert_refused(pki: &Pki, leaf: &Leaf, expected_variant: &str, expected_detail: &str) {
    let server = spawn_from_loopback(pki);

    let (status, body) = forward(&server, "pgo.example.nl", "X-Client-Cert", &leaf.escaped_pem()).await;

    assert_eq!(status, 401);
    assert!(body.starts_with(expected_variant), "{body}");
    assert!(body.contains(expected_detail), "{body}");
}

#[tokio::test]
async fn a_forwarded_certificate_from_an_untrusted_ca_is_refused_by_the_service_itself() {
    let pki = Pki::new();
    let rogue = pki.rogue_ca.client(&["pgo.example.nl"]);
    assert_refused(&pki, &rogue, "UntrustedChain", "UnknownIssuer").await;
}

#[tokio::test]
async fn a_forwarded_expired_certificate_is_refused() {
    let pki = Pki::new();
    let expired = pki.pgo_ca.expired_client(&["pgo.example.nl"]);
    assert_refused(&pki, &expired, "UntrustedChain", "CertExpired").await;
}

#[tokio::test]
async fn a_forwarded_server_only_certificate_is_refused() {
    let pki = Pki::new();
    let server_only = pki.pgo_ca.server(&["pgo.example.nl"]);
    assert_refused(&pki, &server_only, "UntrustedChain", "RequiredEkuNotFound").await;
}

#[tokio::test]
async fn a_forwarded_certificate_for_another_host_is_refused() {
    let pki = Pki::new();
    let other = pki.pgo_ca.client(&["other-pgo.example.nl"]);
    assert_refused(&pki, &other, "NameMismatch", "other-pgo.example.nl").await;
}

#[tokio::test]
async fn without_chain_verification_only_the_proxy_vouches_for_the_ca() {
    let pki = Pki::new();
    let server = TestServer::spawn(mode(&pki, "X-Client-Cert", &["127.0.0.1"], false), None);
    let rogue = pki.rogue_ca.client(&["pgo.example.nl"]);
    let rogue_other_host = pki.rogue_ca.client(&["other-pgo.example.nl"]);

    let (accepted, _) = forward(&server, "pgo.example.nl", "X-Client-Cert", &rogue.escaped_pem()).await;
    let (refused, body) = forward(&server, "pgo.example.nl", "X-Client-Cert", &rogue_other_host.escaped_pem()).await;

    assert_eq!(accepted, 200);
    assert_eq!(refused, 401);
    assert!(body.starts_with("NameMismatch"), "{body}");
}

#[tokio::test]
async fn a_malformed_header_is_refused_as_malformed() {
    let pki = Pki::new();
    let server = spawn_from_loopback(&pki);

    let (status, body) = forward(&server, "pgo.example.nl", "X-Client-Cert", "not-a-certificate").await;

    assert_eq!(status, 401);
    assert!(body.starts_with("MalformedHeader"), "{body}");
}

#[tokio::test]
async fn a_repeated_header_is_refused() {
    let pki = Pki::new();
    let server = spawn_from_loopback(&pki);
    let pgo = pki.pgo_ca.client(&["pgo.example.nl"]);

    let response = reqwest::Client::new()
        .get(server.token_url("pgo.example.nl"))
        .header("X-Client-Cert", pgo.escaped_pem())
        .header("X-Client-Cert", pgo.escaped_pem())
        .send()
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 401);
    assert!(response.text().await.unwrap().starts_with("MalformedHeader"));
}

#[tokio::test]
async fn a_client_id_that_is_not_a_host_name_is_refused() {
    let pki = Pki::new();
    let server = spawn_from_loopback(&pki);
    let by_address = pki.pgo_ca.client(&["192.0.2.5"]);

    let (status, body) = forward(&server, "192.0.2.5", "X-Client-Cert", &by_address.escaped_pem()).await;

    assert_eq!((status, body.as_str()), (401, "InvalidClientId(\"192.0.2.5\")"));
}
