//! Development mode: no TLS, loopback callers only.

use crate::server::{TestServer, call};
use client_auth::ClientAuthMode;

#[tokio::test]
async fn a_loopback_caller_is_whoever_its_client_id_says() {
    let server = TestServer::spawn(ClientAuthMode::Development, None);

    let (status, body) = call(&reqwest::Client::new(), &server.token_url("pgo.example.nl")).await;

    assert_eq!((status, body.as_str()), (200, "development "));
}
