//! `POST /oauth/revoke` (RFC 7009, OAuth 2.0 Token Revocation): a PGO gives up a token, when the
//! person leaves it or signs out. Revoking a refresh token or an access token ends the consent
//! it was given under: every refresh token of the family and every access token of it stop at
//! once (the resource server checks `sid` against the revocations), on every instance.
//!
//! Client authentication and its throttling are the token endpoint's. Answers: 200 with an empty body when the token
//! is revoked, was revoked already, or is unknown or expired (RFC 7009 §2.2: the client cannot
//! act on the difference); 400 `invalid_request` (no token), `invalid_grant` (a token of another
//! client); 401 `invalid_client`; 500 `server_error`.

use super::token::{TokenError, authenticated_pgo, body, form, no_store};
use crate::secrets;
use crate::server::{AuthorizationServer, now_millis};
use actix_web::{HttpRequest, HttpResponse, web};
use store::{Consent, RevokedWhy};

/// The path of the revocation endpoint.
pub const REVOKE_PATH: &str = "/oauth/revoke";

pub(crate) async fn revoke(
    request: HttpRequest,
    payload: web::Payload,
    server: web::Data<AuthorizationServer>,
) -> HttpResponse {
    let body = match body(payload).await {
        Ok(body) => body,
        Err(error) => return error.response(),
    };
    match revoke_token(&request, &body, &server).await {
        Ok(()) => no_store(HttpResponse::Ok()).finish(),
        Err(error) => {
            tracing::info!(error = ?error, "revocation request refused");
            error.response()
        }
    }
}

async fn revoke_token(request: &HttpRequest, body: &[u8], server: &AuthorizationServer) -> Result<(), TokenError> {
    let params = form(request, body)?;
    let (client_id, keys) = authenticated_pgo(request, server, &params).await?;
    let token = params.get("token").ok_or(TokenError::InvalidRequest("token is missing"))?;
    // The hint only says where to look first (RFC 7009 §2.1); an unknown hint is ignored.
    let consent = if params.get("token_type_hint") == Some("access_token") {
        match access_token_consent(server, token).await? {
            Some(consent) => Some(consent),
            None => refresh_token_consent(server, token).await?,
        }
    } else {
        match refresh_token_consent(server, token).await? {
            Some(consent) => Some(consent),
            None => access_token_consent(server, token).await?,
        }
    };
    let Some(consent) = consent else { return Ok(()) };
    if !consent.client_id.eq_ignore_ascii_case(client_id) {
        tracing::warn!(client = client_id, "a PGO tried to revoke another PGO's token");
        // It told the client that the token is valid: counted like a failed grant.
        server.throttle.failed(&keys);
        return Err(TokenError::InvalidGrant("the token was issued to another client"));
    }
    let revoked_now =
        server.store.grants().revoke_consent(consent.id, RevokedWhy::Client, now_millis()).await.map_err(|error| {
            tracing::error!(error = %error, "consent could not be revoked");
            TokenError::ServerError
        })?;
    server.revoked(&consent.handle);
    tracing::info!(client = client_id, consent = consent.id, revoked_now, "consent revoked by its PGO");
    Ok(())
}

/// The consent of a refresh token, if `token` is one.
async fn refresh_token_consent(server: &AuthorizationServer, token: &str) -> Result<Option<Consent>, TokenError> {
    server.store.grants().consent_of_refresh_token(&secrets::stored_hash(token)).await.map_err(|error| {
        tracing::error!(error = %error, "refresh token lookup failed");
        TokenError::ServerError
    })
}

/// The consent of an access token, if `token` is one this service signed, still valid, given
/// under a consent (tokens an administrator minted have none).
async fn access_token_consent(server: &AuthorizationServer, token: &str) -> Result<Option<Consent>, TokenError> {
    let Ok(claims) = server.issuer.verifier().verify(token) else { return Ok(None) };
    let Some(handle) = claims.sid else { return Ok(None) };
    server.store.grants().consent_by_handle(&handle).await.map_err(|error| {
        tracing::error!(error = %error, "consent lookup failed");
        TokenError::ServerError
    })
}
