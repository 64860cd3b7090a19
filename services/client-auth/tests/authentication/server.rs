//! The server under test: one route that authenticates its caller, on `127.0.0.1:0`.

use actix_web::{HttpRequest, HttpResponse, HttpServer, web};
use client_auth::{AuthMethod, ClientAuthMode, authenticate};
use std::net::TcpListener;

/// A running server and the base URL to call it on.
pub struct TestServer {
    pub base_url: String,
}

impl TestServer {
    /// Starts the server; with `tls` it speaks HTTPS (mutual-TLS mode), else plain HTTP.
    pub fn spawn(mode: ClientAuthMode, tls: Option<rustls::ServerConfig>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = web::Data::new(mode);
        let server =
            HttpServer::new(move || actix_web::App::new().app_data(mode.clone()).route("/token", web::get().to(token)))
                .workers(1)
                .on_connect(client_auth::on_connect);
        let (server, scheme) = match tls {
            Some(tls) => (server.listen_rustls_0_23(listener, tls).unwrap(), "https"),
            None => (server.listen(listener).unwrap(), "http"),
        };
        tokio::spawn(server.run());
        TestServer { base_url: format!("{scheme}://127.0.0.1:{port}") }
    }

    pub fn token_url(&self, client_id: &str) -> String {
        format!("{}/token?client_id={client_id}", self.base_url)
    }
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    client_id: String,
}

/// 200 with `method thumbprint` when authenticated, else 401 with the error's variant (its
/// `Debug` form), so that the tests can tell which check refused.
async fn token(request: HttpRequest, query: web::Query<TokenQuery>, mode: web::Data<ClientAuthMode>) -> HttpResponse {
    match authenticate(&mode, &request, &query.client_id) {
        Ok(client) => {
            assert_eq!(client.client_id, query.client_id);
            let method = match client.method {
                AuthMethod::MutualTls => "mutual_tls",
                AuthMethod::TrustedProxy => "trusted_proxy",
                AuthMethod::Development => "development",
            };
            HttpResponse::Ok().body(format!("{method} {}", client.certificate_thumbprint.unwrap_or_default()))
        }
        Err(error) => HttpResponse::Unauthorized().body(format!("{error:?}")),
    }
}

/// Calls `url` and returns the status and body.
pub async fn call(client: &reqwest::Client, url: &str) -> (u16, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}
