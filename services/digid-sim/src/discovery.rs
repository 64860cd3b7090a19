//! Discovery (OpenID Connect Discovery 1.0 §3, §4) and the JWK Set (RFC 7517 §5): what a
//! relying party reads to find the endpoints and the key that signs ID tokens.

use crate::{LEVELS_OF_ASSURANCE, Simulator};
use actix_web::{HttpResponse, web};
use serde_json::json;

/// `GET /.well-known/openid-configuration`: the provider metadata. 200.
pub(crate) async fn configuration(sim: web::Data<Simulator>) -> HttpResponse {
    let document = json!({
        "issuer": sim.issuer(),
        "authorization_endpoint": sim.endpoint("/authorize"),
        "token_endpoint": sim.endpoint("/token"),
        "userinfo_endpoint": sim.endpoint("/userinfo"),
        "jwks_uri": sim.endpoint("/jwks"),
        "scopes_supported": ["openid"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        // `sub` is the same for every client: one person, one value.
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": LEVELS_OF_ASSURANCE,
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "at_hash", "bsn"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        // Discovery §3 makes this default to true; the simulator does not fetch request objects.
        "request_uri_parameter_supported": false,
        "ui_locales_supported": ["nl", "en"],
        // An extension: the login page shows the `on_behalf_of` parameter (see `authorize.rs`).
        // A relying party sends that name only to a provider that says so.
        "on_behalf_of_supported": true,
    });
    HttpResponse::Ok().json(document)
}

/// `GET /jwks`: the public signing key. 200.
pub(crate) async fn jwks(sim: web::Data<Simulator>) -> HttpResponse {
    HttpResponse::Ok().json(sim.jwks())
}
