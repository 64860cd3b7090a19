//! The userinfo endpoint (OpenID Connect Core §5.3): the logged-in person's `sub`, `bsn` and
//! `acr`, for the bearer of an access token from the token endpoint.

use crate::Simulator;
use actix_web::http::header::{AUTHORIZATION, CACHE_CONTROL, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

/// `GET` or `POST /userinfo` with `Authorization: Bearer <access token>`: 200 with the claims,
/// 401 with `WWW-Authenticate` for a missing, unknown, expired or revoked token (RFC 6750 §3).
pub(crate) async fn claims(sim: web::Data<Simulator>, request: HttpRequest) -> HttpResponse {
    let token = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = token else {
        return HttpResponse::Unauthorized().insert_header((WWW_AUTHENTICATE, r#"Bearer realm="digid-sim""#)).finish();
    };
    let Some(grant) = sim.store.tokens.get(token) else {
        return HttpResponse::Unauthorized()
            .insert_header((
                WWW_AUTHENTICATE,
                r#"Bearer realm="digid-sim", error="invalid_token", error_description="unknown or expired access token""#,
            ))
            .finish();
    };
    let login = grant.login;
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(json!({ "sub": sim.subject(&login.bsn), "bsn": login.bsn, "acr": login.loa }))
}
