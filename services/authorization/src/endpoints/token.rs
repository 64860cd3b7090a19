//! `POST /oauth/token` (RFC 6749 §3.2, §4.1.3, §6; MedMij flow step 5): a PGO's server exchanges
//! an authorization code, or a refresh token, for an access token (15 minutes) and a new refresh
//! token (6 months; the old one is spent).
//!
//! Client authentication comes first (mutual TLS, RFC 8705, or what the deployment configured),
//! and the client must be on the OAuth Client List and, when one is held, the Whitelist.
//! Auditors use `grant_type=client_credentials` (RFC 6749 §4.4) with their id and secret (HTTP
//! Basic, or `client_id`/`client_secret` in the form) and get an auditor's access token for the
//! audit API, without a refresh token.
//!
//! Failed attempts (client authentication, codes, refresh tokens, auditors' secrets) are counted
//! per source address and, once the client or auditor is known, per client (`throttle`); past the
//! limit the answer is 429 with `Retry-After`, whatever the request.
//!
//! Answers: 200 with the tokens; 400 `invalid_request`, `invalid_grant`, `invalid_scope`,
//! `unsupported_grant_type`; 401 `invalid_client`; 413 and 429 `invalid_request`; 500
//! `server_error`. Never cached.

use super::person::millis;
use crate::secrets;
use crate::server::{AuthorizationServer, now_millis};
use access_token::{Grant, Scope};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use std::collections::HashMap;
use store::{CodeExchange, CodeRedemption, Consent, Rotation};
use throttle::{Door, Key, Throttled};

/// An RFC 6749 §5.2 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenError {
    InvalidRequest(&'static str),
    InvalidClient(&'static str),
    InvalidGrant(&'static str),
    InvalidScope(&'static str),
    UnsupportedGrantType,
    ServerError,
    /// A body larger than [`MAX_BODY_BYTES`].
    TooLarge,
    /// Too many failed attempts from this address or for this client: retry after so many
    /// seconds.
    Throttled(u64),
}

/// The largest token request read: its parameters are a few hundred bytes.
const MAX_BODY_BYTES: usize = 16 * 1024;

impl TokenError {
    pub(super) fn response(self) -> HttpResponse {
        let (status, error, description) = self.parts();
        let mut response = super::oauth_error(status, error, description);
        if let TokenError::Throttled(seconds) = self {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }

    fn throttled(refusal: Throttled) -> TokenError {
        TokenError::Throttled(refusal.retry_after_seconds)
    }

    fn parts(self) -> (StatusCode, &'static str, &'static str) {
        match self {
            TokenError::InvalidRequest(why) => (StatusCode::BAD_REQUEST, "invalid_request", why),
            TokenError::InvalidClient(why) => (StatusCode::UNAUTHORIZED, "invalid_client", why),
            TokenError::InvalidGrant(why) => (StatusCode::BAD_REQUEST, "invalid_grant", why),
            TokenError::InvalidScope(why) => (StatusCode::BAD_REQUEST, "invalid_scope", why),
            TokenError::UnsupportedGrantType => (
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be authorization_code, refresh_token or client_credentials",
            ),
            TokenError::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "server_error", "try again later"),
            // RFC 6749 §5.2 has no code for "too many attempts", and a client must not take
            // this for invalid_client (its credentials are wrong) or invalid_grant (its refresh
            // token is dead): invalid_request, the code for a request refused as sent, with 429
            // and Retry-After (RFC 6585 §4) saying when to try again. (`slow_down` belongs to
            // the device flow's polling, `temporarily_unavailable` to the authorization endpoint.)
            TokenError::Throttled(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "invalid_request",
                "too many failed attempts; try again after the time in Retry-After",
            ),
            TokenError::TooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", "the request body is larger than a token request is")
            }
        }
    }
}

/// The form parameters of a token (or revocation) request.
#[derive(Debug, Default)]
pub(super) struct Params(HashMap<String, String>);

impl Params {
    /// A parameter's value; an empty one counts as missing (RFC 6749 §3.1).
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|value| !value.is_empty())
    }
}

pub(super) fn no_store(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder.insert_header(("Cache-Control", "no-store")).insert_header(("Pragma", "no-cache"));
    builder
}

/// The body of a token or revocation request, read here rather than by actix's `Bytes`
/// extractor, whose refusals are plain text.
pub(super) async fn body(payload: web::Payload) -> Result<web::Bytes, TokenError> {
    match payload.to_bytes_limited(MAX_BODY_BYTES).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(_)) => Err(TokenError::InvalidRequest("the request body could not be read")),
        Err(_) => Err(TokenError::TooLarge),
    }
}

pub(crate) async fn token(
    request: HttpRequest,
    payload: web::Payload,
    server: web::Data<AuthorizationServer>,
) -> HttpResponse {
    let body = match body(payload).await {
        Ok(body) => body,
        Err(error) => return error.response(),
    };
    match exchange(&request, &body, &server).await {
        Ok(response) => response,
        Err(error) => {
            tracing::info!(error = ?error, "token request refused");
            error.response()
        }
    }
}

async fn exchange(
    request: &HttpRequest,
    body: &[u8],
    server: &AuthorizationServer,
) -> Result<HttpResponse, TokenError> {
    let params = form(request, body)?;
    let param = |name: &str| params.get(name);
    if param("grant_type") == Some("client_credentials") {
        return auditor_token(request, server, &params);
    }
    let (client_id, keys) = authenticated_pgo(request, server, &params).await?;
    let outcome = grant(server, client_id, &params).await;
    if let Err(TokenError::InvalidGrant(_)) = outcome {
        server.throttle.failed(&keys);
    }
    outcome
}

/// The grant of an authenticated client's request: a code or a refresh token exchanged.
async fn grant(server: &AuthorizationServer, client_id: &str, params: &Params) -> Result<HttpResponse, TokenError> {
    let param = |name: &str| params.get(name);
    let now = now_millis();
    match param("grant_type") {
        Some("authorization_code") => {
            let refresh_token = secrets::new_secret().map_err(|_| TokenError::ServerError)?;
            let hash = secrets::stored_hash(&refresh_token);
            let expires_at = now + millis(server.config.refresh_lifetime_seconds);
            let (consent, stored) = redeem_code(server, client_id, params, now, &hash, expires_at).await?;
            // The store keeps the refresh token with the code when its own checks held; they are
            // never looser than the ones above, and only stricter where a client id differs in
            // case: then it is stored now.
            if !stored {
                server.store.grants().add_refresh_token(consent.id, &hash, now, expires_at).await.map_err(|error| {
                    tracing::error!(error = %error, "refresh token could not be stored");
                    TokenError::ServerError
                })?;
            }
            // A share (Delen) gets its one access token and no refresh token: MedMij gives refresh
            // tokens to collecting. The one stored with the code is never given out, so it is
            // never presented.
            let sharing = consent.scope.parse::<Scope>().is_ok_and(|scope| server.is_sharing(&scope.data_services));
            issue(server, &consent, &consent.scope, (!sharing).then_some(refresh_token))
        }
        Some("refresh_token") => {
            let (consent, scope, refresh_token) = refresh(server, client_id, params, now).await?;
            issue(server, &consent, &scope, Some(refresh_token))
        }
        Some(_) => Err(TokenError::UnsupportedGrantType),
        None => Err(TokenError::InvalidRequest("grant_type is missing")),
    }
}

/// The parameters of an `application/x-www-form-urlencoded` body, none repeated (RFC 6749 §3.2).
pub(super) fn form(request: &HttpRequest, body: &[u8]) -> Result<Params, TokenError> {
    let form_type =
        request.headers().get(CONTENT_TYPE).and_then(|value: &HeaderValue| value.to_str().ok()).is_some_and(|value| {
            value.split(';').next().is_some_and(|mime| mime.trim() == "application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(TokenError::InvalidRequest("the body must be application/x-www-form-urlencoded"));
    }
    let mut params = Params::default();
    for (name, value) in url::form_urlencoded::parse(body) {
        if params.0.insert(name.into_owned(), value.into_owned()).is_some() {
            return Err(TokenError::InvalidRequest("a parameter is repeated"));
        }
    }
    Ok(params)
}

/// The PGO calling, by its `client_id`: on the OAuth Client List and, when held, the Whitelist,
/// and authenticated as the deployment configured (mutual TLS, a trusted proxy, development).
/// With it come the throttle's keys its failures from here on count against: the source address
/// and the client.
///
/// A failed client authentication counts against the address only: the client id of a request
/// that did not authenticate is a claim, and counting it would let anyone lock a PGO out (a PGO's
/// credential is a certificate, which is not guessed). What a client fails after authenticating
/// (codes, refresh tokens) counts against it too.
pub(super) async fn authenticated_pgo<'p>(
    request: &HttpRequest,
    server: &AuthorizationServer,
    params: &'p Params,
) -> Result<(&'p str, Vec<Key>), TokenError> {
    let client_id = params.get("client_id").ok_or(TokenError::InvalidRequest("client_id is missing"))?;
    let throttle = &server.throttle;
    let mut keys: Vec<Key> = throttle.address_key(Door::Token, request).into_iter().collect();
    throttle.check(&keys).map_err(TokenError::throttled)?;
    // The list first, so that only a listed client's id reaches the log: anything else is
    // whatever the caller wrote in the body.
    let directory = server.directory().await;
    if directory.client(client_id).is_none() || !directory.may_call_back_channel(client_id) {
        tracing::warn!("a request for a client not on the OAuth Client List or the Whitelist");
        throttle.failed(&keys);
        return Err(TokenError::InvalidClient("client authentication failed"));
    }
    if let Err(why) = (server.authenticate_client)(request, client_id) {
        tracing::warn!(client = client_id, reason = %why, "client authentication failed");
        throttle.failed(&keys);
        return Err(TokenError::InvalidClient("client authentication failed"));
    }
    let client = Key::Name(Door::Token, client_id.to_ascii_lowercase());
    throttle.check([&client]).map_err(TokenError::throttled)?;
    keys.push(client);
    Ok((client_id, keys))
}

/// Where auditors' tokens are valid: the audit API.
pub fn audit_audience(public_url: &str) -> String {
    format!("{}/audit", public_url.trim_end_matches('/'))
}

/// `grant_type=client_credentials`: an auditor's token.
fn auditor_token(
    request: &HttpRequest,
    server: &AuthorizationServer,
    params: &Params,
) -> Result<HttpResponse, TokenError> {
    let basic = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(metering::basic_credentials);
    let (id, secret) = match (basic, params.get("client_id"), params.get("client_secret")) {
        (Some(_), _, Some(_)) => return Err(TokenError::InvalidRequest("use one way of client authentication")),
        (Some(credentials), _, None) => credentials,
        (None, Some(id), Some(secret)) => (id.to_owned(), secret.to_owned()),
        _ => return Err(TokenError::InvalidClient("client authentication failed")),
    };
    // The same counts as the dashboard's sign-in form: one auditor, one budget of guesses.
    let throttle = &server.throttle;
    let keys: Vec<Key> = throttle
        .address_key(Door::Auditor, request)
        .into_iter()
        .chain(server.config.auditors.get(&id).map(|auditor| Key::Name(Door::Auditor, auditor.id.clone())))
        .collect();
    throttle.check(&keys).map_err(TokenError::throttled)?;
    let Some(auditor) = server.config.auditors.authenticate(&id, &secret) else {
        throttle.failed(&keys);
        // A configured auditor's id is named; any other id is whatever the caller wrote.
        match server.config.auditors.get(&id) {
            Some(auditor) => tracing::warn!(auditor = %auditor.id, "auditor authentication failed"),
            None => tracing::warn!("auditor authentication failed for an id that is not configured"),
        }
        return Err(TokenError::InvalidClient("client authentication failed"));
    };
    if params.get("scope").is_some_and(|scope| scope != access_token::AUDITOR_ROLE) {
        return Err(TokenError::InvalidScope("an auditor's scope is auditor"));
    }
    let audience = audit_audience(&server.config.public_url);
    let (token, claims) = server.issuer.issue_auditor(&auditor.id, &audience).map_err(|error| {
        tracing::error!(error = %error, "auditor token could not be signed");
        TokenError::ServerError
    })?;
    tracing::info!(auditor = %auditor.id, "auditor token issued");
    Ok(no_store(HttpResponse::Ok()).json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": claims.exp.saturating_sub(claims.iat),
        "scope": access_token::AUDITOR_ROLE,
    })))
}

/// `grant_type=authorization_code`: the code must be unspent, unexpired, this client's, for this
/// redirect URI (character for character) and, when the request had a PKCE challenge, this
/// verifier's. A failed check still spends the code. The code is spent in the store together with
/// storing the refresh token `refresh_hash` when the store's checks (`CodeExchange::holds_for`)
/// hold; the consent, and whether the refresh token was stored, come back.
async fn redeem_code(
    server: &AuthorizationServer,
    client_id: &str,
    params: &Params,
    now: i64,
    refresh_hash: &str,
    refresh_expires_at: i64,
) -> Result<(Consent, bool), TokenError> {
    let param = |name: &str| params.get(name);
    let code = param("code").ok_or(TokenError::InvalidRequest("code is missing"))?;
    let redirect_uri = param("redirect_uri").ok_or(TokenError::InvalidRequest("redirect_uri is missing"))?;
    let verifier = param("code_verifier");
    // A malformed verifier matches no stored challenge (challenges are base64url).
    let verifier_challenge = verifier.map(|verifier| {
        if secrets::well_formed_verifier(verifier) { secrets::stored_hash(verifier) } else { "!".to_owned() }
    });
    let code_hash = secrets::stored_hash(code);
    let exchange = CodeExchange {
        code_hash: &code_hash,
        now,
        client_id,
        redirect_uri,
        verifier_challenge: verifier_challenge.as_deref(),
        refresh_hash,
        refresh_expires_at,
    };
    let redeemed = match server.store.grants().exchange_code(&exchange).await {
        Ok(CodeRedemption::Redeemed(redeemed)) => redeemed,
        Ok(CodeRedemption::Replayed { consent }) => {
            server.revoked(&consent);
            tracing::warn!(client = client_id, "authorization code replayed: its consent is revoked");
            return Err(TokenError::InvalidGrant("the code is invalid, expired or used"));
        }
        Ok(CodeRedemption::Unknown) => return Err(TokenError::InvalidGrant("the code is invalid, expired or used")),
        Err(error) => {
            tracing::error!(error = %error, "code redemption failed");
            return Err(TokenError::ServerError);
        }
    };
    if !redeemed.client_id.eq_ignore_ascii_case(client_id) {
        return Err(TokenError::InvalidGrant("the code was issued to another client"));
    }
    if redeemed.expires_at <= now {
        return Err(TokenError::InvalidGrant("the code is invalid, expired or used"));
    }
    if redeemed.redirect_uri != redirect_uri {
        return Err(TokenError::InvalidGrant("redirect_uri differs from the authorization request"));
    }
    match (&redeemed.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) if secrets::pkce_matches(verifier, challenge) => {}
        (Some(_), Some(_)) => return Err(TokenError::InvalidGrant("code_verifier does not match the code_challenge")),
        (Some(_), None) => return Err(TokenError::InvalidGrant("code_verifier is missing")),
        (None, Some(_)) => return Err(TokenError::InvalidGrant("the authorization request had no code_challenge")),
        (None, None) => {}
    }
    if !redeemed.consent.is_active(now) {
        return Err(TokenError::InvalidGrant("the code is invalid, expired or used"));
    }
    Ok((redeemed.consent, redeemed.refresh_token_stored))
}

/// `grant_type=refresh_token`: rotates the token; a spent token presented again revokes the
/// whole consent (every refresh token of it).
async fn refresh(
    server: &AuthorizationServer,
    client_id: &str,
    params: &Params,
    now: i64,
) -> Result<(Consent, String, String), TokenError> {
    let param = |name: &str| params.get(name);
    let token = param("refresh_token").ok_or(TokenError::InvalidRequest("refresh_token is missing"))?;
    let successor = secrets::new_secret().map_err(|_| TokenError::ServerError)?;
    let expires_at = now + millis(server.config.refresh_lifetime_seconds);
    // The successor is stored under its hash now and handed out below.
    let rotation = server
        .store
        .grants()
        .rotate_refresh_token(&secrets::stored_hash(token), &secrets::stored_hash(&successor), now, expires_at)
        .await
        .map_err(|error| {
            tracing::error!(error = %error, "refresh token rotation failed");
            TokenError::ServerError
        })?;
    let consent = match rotation {
        Rotation::Rotated(consent) => *consent,
        Rotation::Reused { consent } => {
            server.revoked(&consent);
            tracing::warn!(client = client_id, "refresh token reused: its consent is revoked");
            return Err(TokenError::InvalidGrant("the refresh token is invalid, expired or revoked"));
        }
        Rotation::Inactive | Rotation::Unknown => {
            return Err(TokenError::InvalidGrant("the refresh token is invalid, expired or revoked"));
        }
    };
    // Another client holding this refresh token has stolen it: the token is spent and its
    // successor never handed out, so the owner's next use counts as a reuse and ends the family.
    if !consent.client_id.eq_ignore_ascii_case(client_id) {
        return Err(TokenError::InvalidGrant("the refresh token was issued to another client"));
    }
    // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
    let scope = match param("scope") {
        None => consent.scope.clone(),
        Some(asked) => {
            let granted: Scope = consent.scope.parse().map_err(|_| TokenError::ServerError)?;
            let asked: Scope = asked.parse().map_err(|_| TokenError::InvalidScope("scope is malformed"))?;
            if asked.provider != granted.provider || !asked.data_services.iter().all(|id| granted.includes(id)) {
                return Err(TokenError::InvalidScope("scope exceeds what was granted"));
            }
            asked.to_string()
        }
    };
    Ok((consent, scope, successor))
}

/// The answer: an access token for `scope_text` of `consent`, with `refresh_token` (already
/// stored).
fn issue(
    server: &AuthorizationServer,
    consent: &Consent,
    scope_text: &str,
    refresh_token: Option<String>,
) -> Result<HttpResponse, TokenError> {
    let scope: Scope = scope_text.parse().map_err(|_| TokenError::ServerError)?;
    let audience =
        scope.data_services.iter().map(|id| server.resource_endpoint(&consent.provider_name, id)).collect::<Vec<_>>();
    let grant = Grant {
        person_key: consent.person_key.clone(),
        pseudonym: consent.pseudonym.clone(),
        client_id: consent.client_id.clone(),
        provider: consent.provider_name.clone(),
        scope: scope.clone(),
        audience,
        consent: (!consent.handle.is_empty()).then(|| consent.handle.clone()),
    };
    let issued = server.issuer.issue(&grant).map_err(|error| {
        tracing::error!(error = %error, "access token could not be signed");
        TokenError::ServerError
    })?;
    tracing::info!(client = %consent.client_id, consent = consent.id, scope = %scope, "tokens issued");
    let mut answer = json!({
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": scope.to_string(),
    });
    if let Some(refresh_token) = refresh_token {
        answer["refresh_token"] = json!(refresh_token);
    }
    Ok(no_store(HttpResponse::Ok()).json(answer))
}
