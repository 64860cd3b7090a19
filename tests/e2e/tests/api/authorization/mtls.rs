//! Client authentication at the token endpoint by mutual TLS (RFC 8705 §2.1): the service speaks
//! TLS itself; the PGO's certificate must chain to a trusted CA and name the PGO's hostname.
//! Certificates are made in the test.

use e2e::TestApp;
use e2e::pgo::{OTHER_PGO, PGO};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use store::{NewCode, NewConsent};
use test_support::on_both_backends;

struct Ca(CertifiedIssuer<'static, KeyPair>);

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        Ca(CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap())
    }

    /// A certificate and key (PEM) for `name`, for `usage`.
    fn issue(&self, name: &str, usage: ExtendedKeyUsagePurpose) -> (String, String) {
        let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let certificate = params.signed_by(&key, &self.0).unwrap();
        (certificate.pem(), key.serialize_pem())
    }
}

fn client(server_ca: &Ca, identity: Option<&(String, String)>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(server_ca.0.pem().as_bytes()).unwrap()]);
    if let Some((cert, key)) = identity {
        builder = builder.identity(reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

on_both_backends!(the_token_endpoint_authenticates_pgos_by_their_certificate, |database| {
    let (server_ca, pgo_ca, rogue_ca) = (Ca::new("Server CA"), Ca::new("PGO CA"), Ca::new("Rogue CA"));
    let dir = database.dir.path().to_owned();
    let (server_cert, server_key) = server_ca.issue("127.0.0.1", ExtendedKeyUsagePurpose::ServerAuth);
    let files = [("server.pem", server_cert), ("server-key.pem", server_key), ("pgo-ca.pem", pgo_ca.0.pem())];
    for (name, content) in &files {
        std::fs::write(dir.join(name), content).unwrap();
    }
    let path = |name: &str| dir.join(name).display().to_string();
    let (certificate, key, ca) = (path("server.pem"), path("server-key.pem"), path("pgo-ca.pem"));
    let settings = [
        ("PGO_EXCHANGE__AUTHORIZATION__CLIENT_AUTHENTICATION", "mtls"),
        ("PGO_EXCHANGE__TLS__CERTIFICATE_FILE", certificate.as_str()),
        ("PGO_EXCHANGE__TLS__KEY_FILE", key.as_str()),
        ("PGO_EXCHANGE__TLS__CLIENT_CA_FILE", ca.as_str()),
    ];
    let app = TestApp::start_with(database, &settings).await;
    authorization::import(&app.context.store, e2e::pgo::client_list(2).as_bytes()).await.unwrap();
    assert!(app.address.starts_with("https://"));

    // A code as the consent page would give it (the browser part needs no TLS client certificate).
    let provider = app.context.store.provider(e2e::PROVIDER).await.unwrap().unwrap();
    let code = "a-code-for-the-mtls-test-0123456789abcdefghijk";
    let now = fhir_core::date::now_millis();
    let grant = |code: &str| {
        let consent = NewConsent {
            provider: provider.id,
            client_id: PGO.into(),
            person_key: app.context.secret.person_key(e2e::PROVIDER, e2e::ANNA),
            pseudonym: app.context.secret.pseudonym(e2e::ANNA),
            scope: format!("{}~48", e2e::PROVIDER),
            expires_at: now + 3_600_000,
            sharing: false,
        };
        let code = NewCode {
            code_hash: stored_hash(code),
            redirect_uri: "https://pgo.example.nl/callback".into(),
            code_challenge: None,
            expires_at: now + 60_000,
        };
        (consent, code)
    };
    let (consent, new_code) = grant(code);
    app.context.store.grants().grant_consent(&consent, &new_code, now).await.unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", "https://pgo.example.nl/callback"),
        ("client_id", PGO),
    ];
    let token_url = format!("{}/oauth/token", app.address);
    let post = |client: reqwest::Client| {
        let token_url = token_url.clone();
        async move { client.post(token_url).form(&form).send().await }
    };

    // Without a certificate, with a certificate for another PGO: 401, and the code is untouched.
    let anonymous = post(client(&server_ca, None)).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let json: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(json["error"], "invalid_client");
    let other = pgo_ca.issue(OTHER_PGO, ExtendedKeyUsagePurpose::ClientAuth);
    assert_eq!(post(client(&server_ca, Some(&other))).await.unwrap().status(), 401, "another PGO's certificate");
    // A certificate from a CA the service does not trust ends the handshake.
    let rogue = rogue_ca.issue(PGO, ExtendedKeyUsagePurpose::ClientAuth);
    assert!(post(client(&server_ca, Some(&rogue))).await.is_err(), "an untrusted CA");

    let own = pgo_ca.issue(PGO, ExtendedKeyUsagePurpose::ClientAuth);
    let answer = post(client(&server_ca, Some(&own))).await.unwrap();
    assert_eq!(answer.status(), 200, "{:?}", answer.text().await);

    // Pages need no certificate.
    let metadata = client(&server_ca, None)
        .get(format!("{}/.well-known/oauth-authorization-server", app.address))
        .send()
        .await
        .unwrap();
    let metadata: serde_json::Value = metadata.json().await.unwrap();
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        serde_json::json!(["tls_client_auth", "client_secret_basic", "client_secret_post"])
    );

    // Over TLS too, a head the HTTP layer refuses itself is answered with a body.
    let (status, body) =
        raw_tls(&app, &server_ca, &format!("GET /oauth/authorize?state={} HTTP/1.1", "s".repeat(300_000))).await;
    assert_eq!(status, 431);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|error| panic!("{error}: {body}"));
    assert_eq!(body["error"], "invalid_request");
});

/// Sends `head` over a TLS connection of its own (no client certificate): the status and body.
async fn raw_tls(app: &TestApp, server_ca: &Ca, head: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("https://").to_owned();
    let mut roots = rustls::RootCertStore::empty();
    let der = rustls::pki_types::CertificateDer::from(server_ca.0.der().to_vec());
    roots.add(der).unwrap();
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(&address).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut stream = connector.connect(name, tcp).await.unwrap();
    let request = format!("{head}\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    (status, answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default())
}

fn stored_hash(secret: &str) -> String {
    use base64::Engine;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}
