//! A test PGO and the person's browser, both as plain HTTP clients: the PGO builds authorization
//! requests and calls the token endpoint; the browser (a client with a cookie jar that does not
//! follow redirects by itself) walks the service's and the DigiD simulator's pages and posts
//! their forms. Every answer the service gives is kept, so that a test can check that none of
//! them carries a BSN.

use crate::TestApp;
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use std::sync::Mutex;

/// The PGO the tests act as (on the test OAuth Client List).
pub const PGO: &str = "pgo.example.nl";
/// Another PGO on the list.
pub const OTHER_PGO: &str = "other-pgo.example.nl";
/// A PGO the list allows data service 63 only.
pub const LIMITED_PGO: &str = "limited-pgo.example.nl";
/// The test PGO's redirect URI (loopback http: the tests run in development mode).
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/pgo/callback";
/// An RFC 7636 verifier and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// The S256 challenge of `verifier`.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
}

/// The test OAuth Client List (the newer shape, which lists each client's data services): three
/// PGOs (one limited to data service 63) and the demo PGO.
pub fn client_list(volgnummer: u64) -> String {
    use medmij_lists::{ListHeader, ListShape, OAuthClient, OAuthClientList, write_oauth_client_list};
    let client = |hostname: &str, name: &str, services: Option<Vec<&str>>| OAuthClient {
        hostname: hostname.into(),
        organisation_name: name.into(),
        data_services: services.map(|ids| ids.into_iter().map(str::to_owned).collect()),
    };
    let list = OAuthClientList {
        header: ListHeader { tijdstempel: "2026-11-01T10:00:00Z".into(), volgnummer },
        clients: vec![
            client(PGO, "Voorbeeld PGO B.V.", Some(vec!["48", "51", "52", "63"])),
            client(OTHER_PGO, "Andere PGO B.V.", Some(vec!["48", "49", "51", "52", "63"])),
            client(LIMITED_PGO, "Beperkte PGO B.V.", Some(vec!["63"])),
            client(demo::pgo_client::HOSTNAME, demo::pgo_client::ORGANISATION, Some(vec!["48", "63"])),
        ],
    };
    write_oauth_client_list(&list, ListShape::Newer)
}

/// What the person does on the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Person<'a> {
    /// Logs in with this BSN at this level of assurance and answers the consent page.
    LogsIn {
        /// The BSN typed.
        bsn: &'a str,
        /// `low`, `substantial` or `high`.
        loa: &'a str,
        /// `allow` or `deny`.
        decision: &'a str,
    },
    /// Cancels at the login page.
    CancelsLogin,
}

/// The person's browser.
pub struct Browser {
    http: reqwest::Client,
    seen: Mutex<Vec<String>>,
    address: String,
}

impl Browser {
    /// A browser with an empty cookie jar.
    pub fn new(app: &TestApp) -> Browser {
        Browser::at(&app.address)
    }

    /// A browser with an empty cookie jar, for the service at `address`.
    pub fn at(address: &str) -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Browser { http, seen: Mutex::new(Vec::new()), address: address.to_owned() }
    }

    /// GET `url`; the status, the Location (absolute) and the body.
    pub async fn get(&self, url: &str) -> (u16, Option<String>, String) {
        let response = self.http.get(url).send().await.expect("GET");
        self.keep(url, response).await
    }

    /// POST a form to `url`.
    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> (u16, Option<String>, String) {
        let response = self.http.post(url).form(form).send().await.expect("POST");
        self.keep(url, response).await
    }

    async fn keep(&self, url: &str, response: reqwest::Response) -> (u16, Option<String>, String) {
        let status = response.status().as_u16();
        let headers = format!("{:?}", response.headers());
        let location =
            response.headers().get("location").and_then(|value| value.to_str().ok()).map(|location| {
                url::Url::parse(url).and_then(|base| base.join(location)).expect("location").to_string()
            });
        let body = response.text().await.expect("body");
        // The simulator's own pages are the person's business with DigiD, not the service's.
        if url.starts_with(&self.address) && !url.contains("/digid-sim/") {
            self.seen.lock().expect("lock").push(format!("{url}\n{headers}\n{body}"));
        }
        (status, location, body)
    }

    /// Runs the person's part of a flow from the authorization request `url` to the redirect back
    /// to the PGO; returns that redirect (or panics with where it stopped).
    pub async fn authorize(&self, url: &str, person: Person<'_>) -> url::Url {
        let (status, location, body) = self.get(url).await;
        if let Some(back) = location.as_deref().filter(|location| location.starts_with(REDIRECT_URI)) {
            return url::Url::parse(back).expect("redirect");
        }
        assert_eq!(status, 303, "authorize: {body}");
        let (status, _, landing) = self.get(&location.expect("to the landing page")).await;
        assert_eq!(status, 200);
        assert!(landing.contains("id=\"login\""), "landing page: {landing}");
        let (_, to_login, _) = self.get(&format!("{}/oauth/login", self.address)).await;
        let to_login = to_login.expect("to the OpenID Provider");
        if let Some(back) = to_login.strip_prefix(REDIRECT_URI) {
            return url::Url::parse(&format!("{REDIRECT_URI}{back}")).expect("redirect");
        }
        let (status, _, page) = self.get(&to_login).await;
        assert_eq!(status, 200, "simulator page: {page}");
        let request = hidden(&page, "request").expect("the simulator's pending request");
        let simulator_form = to_login.split('?').next().expect("simulator URL").to_owned();
        let answer = match person {
            Person::LogsIn { bsn, loa, .. } => {
                let loa = format!("http://eidas.europa.eu/LoA/{loa}");
                self.post(&simulator_form, &[("request", &request), ("bsn", bsn), ("loa", &loa), ("action", "login")])
                    .await
            }
            Person::CancelsLogin => self.post(&simulator_form, &[("request", &request), ("action", "cancel")]).await,
        };
        let callback = answer.1.expect("back from the simulator");
        let (_, next, body) = self.get(&callback).await;
        let next = next.unwrap_or_else(|| panic!("callback answered {body}"));
        if next.starts_with(REDIRECT_URI) {
            return url::Url::parse(&next).expect("redirect");
        }
        let (status, _, consent) = self.get(&next).await;
        assert_eq!(status, 200);
        let csrf = hidden(&consent, "csrf").expect("a CSRF token on the consent page");
        let decision = match person {
            Person::LogsIn { decision, .. } => decision,
            Person::CancelsLogin => "deny",
        };
        let (status, back, body) =
            self.post(&format!("{}/oauth/decision", self.address), &[("csrf", &csrf), ("decision", decision)]).await;
        assert_eq!(status, 303, "decision: {body}");
        url::Url::parse(&back.expect("back to the PGO")).expect("redirect")
    }

    /// The consent page of the last flow, as HTML (for tests of its content).
    pub fn pages(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }

    /// Panics if any answer of the service seen so far contains one of `bsns`.
    pub fn assert_no_bsn(&self, bsns: &[&str]) {
        for answer in self.seen.lock().expect("lock").iter() {
            for bsn in bsns {
                assert!(!answer.contains(bsn), "a BSN reached the browser: {answer}");
            }
        }
    }
}

/// The value of the hidden input `name` of a page.
pub fn hidden(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')?;
    Some(page[start..start + end].to_owned())
}

/// A parameter of a redirect.
pub fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

/// The authorization request URL of `app` for `client_id`, with `pairs` (name, value).
pub fn authorize_url(app: &TestApp, pairs: &[(&str, &str)]) -> String {
    authorize_url_at(&app.address, pairs)
}

/// The authorization request URL of the service at `address`, with `pairs` (name, value).
pub fn authorize_url_at(address: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{address}/oauth/authorize")).expect("url");
    for (name, value) in pairs {
        url.query_pairs_mut().append_pair(name, value);
    }
    url.to_string()
}

/// A valid authorization request's parameters for `scope`, state `state`.
pub fn request<'a>(client_id: &'a str, scope: &'a str, state: &'a str, challenge: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT_URI),
        ("scope", scope),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("MedMij-Request-ID", "7b1c2a5e-0000-4000-8000-000000000001"),
    ]
}

/// The PGO's server: calls the token endpoint.
pub struct PgoServer {
    http: reqwest::Client,
    token_url: String,
    /// Every token answer, for the BSN check.
    pub seen: Mutex<Vec<String>>,
}

impl PgoServer {
    /// The PGO server of the tests.
    pub fn new(app: &TestApp) -> PgoServer {
        PgoServer::at(&app.address)
    }

    /// The PGO server of the tests, calling the instance at `address`.
    pub fn at(address: &str) -> PgoServer {
        PgoServer {
            http: reqwest::Client::new(),
            token_url: format!("{address}/oauth/token"),
            seen: Mutex::new(Vec::new()),
        }
    }

    /// POSTs `form` to the token endpoint: the status and the JSON answer.
    pub async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self.http.post(&self.token_url).form(form).send().await.expect("token request");
        let status = response.status().as_u16();
        assert_eq!(response.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
        let body = response.text().await.expect("body");
        let mut kept = body.clone();
        let json: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("token answer is JSON: {body}"));
        if let Some(token) = json["access_token"].as_str() {
            // The claims too: a BSN must not hide in base64.
            for part in token.split('.').take(2) {
                kept.push_str(&String::from_utf8_lossy(&URL_SAFE_NO_PAD.decode(part).unwrap_or_default()));
            }
        }
        self.seen.lock().expect("lock").push(kept);
        (status, json)
    }

    /// Exchanges `code` as `client_id` with `verifier`.
    pub async fn exchange(&self, client_id: &str, code: &str, verifier: Option<&str>) -> (u16, Value) {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", client_id),
        ];
        if let Some(verifier) = verifier {
            form.push(("code_verifier", verifier));
        }
        self.token(&form).await
    }

    /// Revokes `token` as `client_id` (RFC 7009) with an optional `token_type_hint`: the status
    /// and the body.
    pub async fn revoke(&self, client_id: &str, token: &str, hint: Option<&str>) -> (u16, String) {
        let mut form = vec![("token", token), ("client_id", client_id)];
        if let Some(hint) = hint {
            form.push(("token_type_hint", hint));
        }
        let url = self.token_url.replace("/oauth/token", "/oauth/revoke");
        let response = self.http.post(url).form(&form).send().await.expect("revocation request");
        let status = response.status().as_u16();
        assert_eq!(response.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
        (status, response.text().await.expect("body"))
    }

    /// Refreshes with `refresh_token` as `client_id`.
    pub async fn refresh(&self, client_id: &str, refresh_token: &str) -> (u16, Value) {
        self.token(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", client_id)]).await
    }

    /// Panics if any token answer contains one of `bsns`.
    pub fn assert_no_bsn(&self, bsns: &[&str]) {
        for answer in self.seen.lock().expect("lock").iter() {
            for bsn in bsns {
                assert!(!answer.contains(bsn), "a BSN reached the PGO: {answer}");
            }
        }
    }
}
