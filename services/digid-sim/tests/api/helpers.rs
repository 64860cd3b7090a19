//! A simulator on a free loopback port, a browser-like client that does not follow redirects, and
//! an `openidconnect` HTTP client over reqwest.

use actix_web::{App, HttpServer, web};
use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use digid_sim::{Fault, SimClient, Simulator, SimulatorConfig};
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

pub const CLIENT_ID: &str = "pgo-exchange.example";
pub const SECRET: &str = "s3cret+with/odd:chars";
pub const REDIRECT_URI: &str = "https://pgo-exchange.example/digid/callback";
pub const OTHER_CLIENT_ID: &str = "other.example";
pub const OTHER_SECRET: &str = "other-secret";
pub const OTHER_REDIRECT_URI: &str = "https://other.example/callback";
pub const BSN: &str = "999911120";
pub const STATE: &str = "state-123";
pub const NONCE: &str = "nonce-456";

/// A running simulator, mounted under `/digid-sim` as in the service's demo mode.
pub struct TestSim {
    pub issuer: String,
    pub simulator: web::Data<Simulator>,
    pub http: reqwest::Client,
}

/// Starts a simulator with two clients.
pub async fn spawn(bsn_in_id_token: bool, fault: Option<Fault>) -> TestSim {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let issuer = format!("http://127.0.0.1:{port}/digid-sim");
    let config = SimulatorConfig {
        issuer: issuer.clone(),
        clients: vec![
            SimClient {
                client_id: CLIENT_ID.to_owned(),
                client_secret: SECRET.to_owned(),
                redirect_uris: vec![REDIRECT_URI.to_owned()],
            },
            SimClient {
                client_id: OTHER_CLIENT_ID.to_owned(),
                client_secret: OTHER_SECRET.to_owned(),
                redirect_uris: vec![OTHER_REDIRECT_URI.to_owned()],
            },
        ],
        bsn_in_id_token,
        fault,
    };
    let simulator = web::Data::new(Simulator::new(config).unwrap());
    let data = simulator.clone();
    let server = HttpServer::new(move || {
        App::new().service(web::scope("/digid-sim").configure(digid_sim::configure(data.clone())))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    TestSim { issuer, simulator, http }
}

/// A PKCE verifier and its S256 challenge.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let mut bytes = [0_u8; 32];
    SystemRandom::new().fill(&mut bytes).unwrap();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref());
    Pkce { verifier, challenge }
}

/// The query of an authorization request, correct unless changed.
#[derive(Clone)]
pub struct AuthRequest(Vec<(String, String)>);

impl AuthRequest {
    pub fn new(challenge: &str) -> AuthRequest {
        AuthRequest(
            [
                ("client_id", CLIENT_ID),
                ("redirect_uri", REDIRECT_URI),
                ("response_type", "code"),
                ("scope", "openid"),
                ("state", STATE),
                ("nonce", NONCE),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
        )
    }

    pub fn set(mut self, name: &str, value: &str) -> AuthRequest {
        self = self.without(name);
        self.0.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn without(mut self, name: &str) -> AuthRequest {
        self.0.retain(|(known, _)| known != name);
        self
    }

    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect()
    }

    fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&self.0).finish()
    }
}

impl TestSim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The browser opens the authorization URL.
    pub async fn authorize(&self, request: &AuthRequest) -> reqwest::Response {
        self.http.get(format!("{}?{}", self.url("/authorize"), request.query())).send().await.unwrap()
    }

    /// The browser submits the login form.
    pub async fn submit(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_form("/authorize", form, None).await
    }

    /// Opens the login page for `request` and logs in; returns the code from the redirect.
    pub async fn login(&self, request: &AuthRequest, bsn: &str, loa: &str) -> String {
        let page = self.authorize(request).await;
        assert_eq!(page.status(), 200);
        let request_id = request_id(&page.text().await.unwrap());
        let answer = self.submit(&[("request", &request_id), ("bsn", bsn), ("loa", loa), ("action", "login")]).await;
        assert_eq!(answer.status(), 303);
        let (target, params) = redirect(&answer);
        assert_eq!(target, REDIRECT_URI);
        assert_eq!(params["state"], STATE);
        params["code"].clone()
    }

    /// A form POST to `path`, with Basic authentication if given.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut request =
            self.http.post(self.url(path)).header("content-type", "application/x-www-form-urlencoded").body(body);
        if let Some((id, secret)) = basic {
            let encode = |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
            request = request.basic_auth(encode(id), Some(encode(secret)));
        }
        request.send().await.unwrap()
    }

    /// Exchanges `code` at the token endpoint with `client_secret_post`.
    pub async fn exchange(&self, code: &str, verifier: &str) -> reqwest::Response {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
        ];
        self.post_form("/token", &form, None).await
    }

    /// A full login and code exchange; returns the token response.
    pub async fn tokens(&self) -> serde_json::Value {
        let pkce = pkce();
        let code = self.login(&AuthRequest::new(&pkce.challenge), BSN, digid_sim::LOA_SUBSTANTIAL).await;
        let answer = self.exchange(&code, &pkce.verifier).await;
        assert_eq!(answer.status(), 200);
        answer.json().await.unwrap()
    }
}

/// The pending-request id in a login page.
pub fn request_id(html: &str) -> String {
    let start = html.find(r#"name="request" value=""#).expect("a request field") + r#"name="request" value=""#.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The target (without query) and the query parameters of a redirect.
pub fn redirect(response: &reqwest::Response) -> (String, HashMap<String, String>) {
    let location = response.headers()["location"].to_str().unwrap();
    let url = url::Url::parse(location).unwrap();
    let params = url.query_pairs().map(|(name, value)| (name.into_owned(), value.into_owned())).collect();
    let mut target = url.clone();
    target.set_query(None);
    (target.to_string(), params)
}

/// The claims of a JWT, read without verifying it.
pub fn jwt_part(token: &str, index: usize) -> serde_json::Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// `openidconnect`'s HTTP client interface over reqwest (the crate's own reqwest support is for
/// another reqwest version).
pub struct ReqwestClient(pub reqwest::Client);

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Reqwest(#[from] reqwest::Error),
    #[error(transparent)]
    Http(#[from] openidconnect::http::Error),
}

impl<'c> AsyncHttpClient<'c> for ReqwestClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response =
                self.0.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send().await?;
            let mut answer = openidconnect::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            Ok(answer.body(response.bytes().await?.to_vec())?)
        })
    }
}
