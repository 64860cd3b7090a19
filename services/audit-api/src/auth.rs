//! Who is asking: an auditor's bearer token (the API) or an auditor's dashboard session (the
//! pages). Sessions are stored server-side (`browser_sessions`, kind `audit`) under the SHA-256
//! of a random id the browser holds in an `HttpOnly`, `SameSite=Strict` cookie scoped to
//! `/audit`.

use crate::dashboard::Lang;
use crate::errors::AuditError;
use crate::{AUDIT_PATH, AuditApi};
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// The dashboard's session cookie.
pub(crate) const SESSION_COOKIE: &str = "pgx-audit";
const SESSION_KIND: &str = "audit";

/// The auditor behind an API request.
pub(crate) fn bearer_auditor(api: &AuditApi, request: &HttpRequest) -> Result<String, AuditError> {
    let value = request.headers().get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    let token = value
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .map(|(_, token)| token.trim())
        .ok_or(AuditError::NoToken)?;
    let claims = api.verifier.verify_auditor(token, &api.audience()).map_err(|error| {
        tracing::info!(reason = %error, "audit API token refused");
        AuditError::InvalidToken
    })?;
    // A token of an auditor no longer configured is refused at once.
    api.auditors.get(&claims.sub).map(|auditor| auditor.id.clone()).ok_or(AuditError::InvalidToken)
}

/// A signed-in auditor's session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Session {
    pub(crate) auditor: String,
    pub(crate) csrf: String,
    /// The dashboard's language, chosen on the sign-in page and switched on the dashboard.
    /// Sessions stored before there was a choice read as the default.
    #[serde(default)]
    pub(crate) lang: Lang,
}

/// A random secret (session id, CSRF token).
pub(crate) fn new_secret() -> Option<String> {
    let mut bytes = [0_u8; 32];
    SystemRandom::new().fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

fn stored_hash(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, secret.as_bytes()).as_ref())
}

/// Starts a session for `auditor`, in `lang`; returns its cookie.
pub(crate) async fn start_session(api: &AuditApi, auditor: &str, lang: Lang) -> Result<Cookie<'static>, AuditError> {
    let id = new_secret().ok_or(AuditError::Internal)?;
    let session = Session { auditor: auditor.to_owned(), csrf: new_secret().ok_or(AuditError::Internal)?, lang };
    let data = serde_json::to_string(&session).map_err(|_| AuditError::Internal)?;
    let lifetime = i64::try_from(api.session_lifetime_seconds).unwrap_or(900) * 1000;
    let expires_at = fhir_core::date::now_millis() + lifetime;
    api.store.grants().create_session(&stored_hash(&id), SESSION_KIND, &data, expires_at).await?;
    Ok(Cookie::build(SESSION_COOKIE, id)
        .path(AUDIT_PATH)
        .http_only(true)
        .secure(api.public_url.starts_with("https:"))
        .same_site(SameSite::Strict)
        .finish())
}

/// The live session of `request`, with its stored id hash.
pub(crate) async fn session(api: &AuditApi, request: &HttpRequest) -> Result<Option<(String, Session)>, AuditError> {
    let Some(cookie) = request.cookie(SESSION_COOKIE) else { return Ok(None) };
    let hash = stored_hash(cookie.value());
    let Some(data) = api.store.grants().session(&hash, SESSION_KIND, fhir_core::date::now_millis()).await? else {
        return Ok(None);
    };
    let session: Session = serde_json::from_str(&data).map_err(|_| AuditError::Internal)?;
    // An auditor removed from the configuration loses their sessions too.
    if api.auditors.get(&session.auditor).is_none() {
        return Ok(None);
    }
    Ok(Some((hash, session)))
}

/// Stores `session` (a changed language) under `hash`.
pub(crate) async fn save_session(api: &AuditApi, hash: &str, session: &Session) -> Result<(), AuditError> {
    let data = serde_json::to_string(session).map_err(|_| AuditError::Internal)?;
    api.store.grants().update_session(hash, &data).await?;
    Ok(())
}

/// Ends the session stored under `hash`.
pub(crate) async fn end_session(api: &AuditApi, hash: &str) -> Result<(), AuditError> {
    api.store.grants().delete_session(hash).await?;
    Ok(())
}

/// Whether a form post comes from the service's own pages: its `Origin` (or, without one, its
/// `Referer`) is the public URL's origin.
pub(crate) fn same_origin(api: &AuditApi, request: &HttpRequest) -> bool {
    let origin_of = |text: &str| url::Url::parse(text).ok().map(|url| url.origin().ascii_serialization());
    let ours = origin_of(&api.public_url);
    let theirs = request
        .headers()
        .get(header::ORIGIN)
        .or_else(|| request.headers().get(header::REFERER))
        .and_then(|value| value.to_str().ok())
        .and_then(origin_of);
    ours.is_some() && ours == theirs
}
