//! The PGO's side of the MedMij flow: authorization requests (with PKCE S256 and the tracing
//! ids), the person's walk through the pages, and the token endpoint (code and refresh token).

use crate::http::{Answer, Http};
use crate::login::{self, Reached};
use crate::outcome::Exchange;
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A PKCE verifier (RFC 7636 §4.1) and its S256 challenge.
#[derive(Debug, Clone)]
pub struct Pkce {
    /// The verifier.
    pub verifier: String,
    /// `BASE64URL(SHA256(verifier))`.
    pub challenge: String,
}

impl Pkce {
    /// A fresh verifier: 64 hex digits of two random UUIDs (244 random bits).
    pub fn new() -> Pkce {
        let verifier = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        Pkce::of(&verifier)
    }

    /// The challenge of `verifier`.
    pub fn of(verifier: &str) -> Pkce {
        let challenge = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
        Pkce { verifier: verifier.to_owned(), challenge }
    }
}

impl Default for Pkce {
    fn default() -> Pkce {
        Pkce::new()
    }
}

/// The parameters of an authorization request, as a list (a scenario may drop, repeat or
/// change any of them).
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    /// Name and value, in order.
    pub params: Vec<(String, String)>,
    /// The PKCE pair the request carries (its challenge is among the params).
    pub pkce: Pkce,
    /// The `state` sent.
    pub state: String,
}

impl AuthorizationRequest {
    /// An ordinary request: `response_type=code`, the client, its redirect URI, `scope`, a fresh
    /// `state`, a PKCE S256 challenge, and the MedMij tracing ids.
    pub fn new(client_id: &str, redirect_uri: &str, scope: &str) -> AuthorizationRequest {
        let pkce = Pkce::new();
        let state = uuid::Uuid::new_v4().simple().to_string();
        let pair = |name: &str, value: &str| (name.to_owned(), value.to_owned());
        AuthorizationRequest {
            params: vec![
                pair("response_type", "code"),
                pair("client_id", client_id),
                pair("redirect_uri", redirect_uri),
                pair("scope", scope),
                pair("state", &state),
                pair("code_challenge", &pkce.challenge),
                pair("code_challenge_method", "S256"),
                pair("MedMij-Request-ID", &uuid::Uuid::new_v4().to_string()),
                pair("X-Correlation-ID", &uuid::Uuid::new_v4().to_string()),
            ],
            pkce,
            state,
        }
    }

    /// Without the parameter `name`.
    pub fn without(mut self, name: &str) -> AuthorizationRequest {
        self.params.retain(|(param, _)| param != name);
        self
    }

    /// With `name` set to `value` (replacing it, or added).
    pub fn with(mut self, name: &str, value: &str) -> AuthorizationRequest {
        match self.params.iter_mut().find(|(param, _)| param == name) {
            Some(param) => param.1 = value.to_owned(),
            None => self.params.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    /// The redirect URI the request names (empty if none).
    pub fn redirect_uri(&self) -> &str {
        self.params.iter().find(|(name, _)| name == "redirect_uri").map_or("", |(_, value)| value.as_str())
    }

    /// The request's URL at `endpoint` (which may carry a query of its own).
    pub fn url(&self, endpoint: &str) -> Result<url::Url, String> {
        let mut url =
            url::Url::parse(endpoint).map_err(|error| format!("authorization endpoint {endpoint}: {error}"))?;
        url.query_pairs_mut().extend_pairs(self.params.iter());
        Ok(url)
    }
}

/// What came back to the redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// The query parameters, in order.
    pub params: Vec<(String, String)>,
}

impl Callback {
    /// From the redirect.
    pub fn of(url: &url::Url) -> Callback {
        Callback { params: url.query_pairs().map(|(name, value)| (name.into_owned(), value.into_owned())).collect() }
    }

    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(param, _)| param == name).map(|(_, value)| value.as_str())
    }
}

/// A browser for one person: a fresh cookie jar, no redirects followed.
pub fn browser(masker: crate::mask::Masker, timeout: std::time::Duration) -> Result<Http, String> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|error| format!("a browser client: {error}"))?;
    Ok(Http::new(client, masker))
}

/// Sends the person with `answers` through the flow that `request` starts at `endpoint`; where
/// it ended. A fresh browser per call.
pub async fn authorize(
    browser: &Http,
    endpoint: &str,
    request: &AuthorizationRequest,
    redirect_uri: &str,
    answers: &[(String, String)],
    start_link: &str,
    records: &mut Vec<Exchange>,
) -> Result<Reached, String> {
    login::walk(browser, request.url(endpoint)?, redirect_uri, answers, start_link, records).await
}

/// A token request's form.
pub fn code_form<'a>(
    client_id: &'a str,
    code: &'a str,
    redirect_uri: &'a str,
    verifier: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("code_verifier", verifier),
    ]
}

/// A refresh request's form.
pub fn refresh_form<'a>(client_id: &'a str, refresh_token: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", client_id)]
}

/// A token request as a PGO server sends it: the form, and the tracing ids as headers.
pub fn token_request(http: &Http, endpoint: &str, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
    http.client()
        .post(endpoint)
        .header("MedMij-Request-ID", uuid::Uuid::new_v4().to_string())
        .header("X-Correlation-ID", uuid::Uuid::new_v4().to_string())
        .form(form)
}

/// The tokens of a 200 token answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The access token.
    pub access: String,
    /// The refresh token, if one came.
    pub refresh: Option<String>,
}

/// The tokens in `answer`, if it is a 200 with an access token.
pub fn tokens_of(answer: &Answer) -> Option<Tokens> {
    if answer.status != 200 {
        return None;
    }
    let json = answer.json()?;
    Some(Tokens {
        access: json["access_token"].as_str()?.to_owned(),
        refresh: json["refresh_token"].as_str().map(str::to_owned),
    })
}
