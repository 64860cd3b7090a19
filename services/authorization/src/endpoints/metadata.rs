//! Discovery: the authorization server's metadata (RFC 8414) at
//! `/.well-known/oauth-authorization-server`, a SMART-style `smart-configuration` for each FHIR
//! base (served by the resource server, built here from the same settings), and the keys that
//! sign access tokens.

use super::{AUTHORIZE_PATH, JWKS_PATH, REVOKE_PATH, TOKEN_PATH};
use crate::server::AuthorizationServer;
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

/// How PGOs authenticate at the token endpoint.
fn pgo_auth_method(mutual_tls: bool) -> &'static str {
    if mutual_tls { "tls_client_auth" } else { "none" }
}

/// The RFC 8414 metadata of the server at `public_url`. Beside the PGOs' grants it names the
/// auditors' (`client_credentials` with a secret, for the audit API).
pub fn authorization_server_metadata(public_url: &str, mutual_tls: bool) -> Value {
    let base = public_url.trim_end_matches('/');
    json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{base}{TOKEN_PATH}"),
        "jwks_uri": format!("{base}{JWKS_PATH}"),
        "revocation_endpoint": format!("{base}{REVOKE_PATH}"),
        "revocation_endpoint_auth_methods_supported": [pgo_auth_method(mutual_tls)],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported":
            [pgo_auth_method(mutual_tls), "client_secret_basic", "client_secret_post"],
        "tls_client_certificate_bound_access_tokens": false,
        "ui_locales_supported": ["nl", "en"],
        "scopes_supported": [],
    })
}

/// The SMART App Launch configuration of the FHIR base of `provider`'s data service `service`:
/// the same endpoints, the one scope that base serves, and only what a PGO may use there.
pub fn smart_configuration(public_url: &str, mutual_tls: bool, provider: &str, service: &str) -> Value {
    let server = authorization_server_metadata(public_url, mutual_tls);
    json!({
        "issuer": server["issuer"],
        "authorization_endpoint": server["authorization_endpoint"],
        "token_endpoint": server["token_endpoint"],
        "revocation_endpoint": server["revocation_endpoint"],
        "jwks_uri": server["jwks_uri"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": server["response_types_supported"],
        "code_challenge_methods_supported": server["code_challenge_methods_supported"],
        "token_endpoint_auth_methods_supported": [pgo_auth_method(mutual_tls)],
        "scopes_supported": [format!("{provider}~{service}")],
        "capabilities": smart_capabilities(mutual_tls),
    })
}

/// The SMART capabilities that hold: a standalone launch (a PGO starts the flow itself) and, when
/// no client certificate is asked for, a public client. Not named: asymmetric client
/// authentication (a signed JWT; PGOs authenticate with a certificate, for which SMART has no
/// capability), and patient context (the token response names no patient: MedMij's token says
/// whose data it reaches, a request never names one).
fn smart_capabilities(mutual_tls: bool) -> Vec<&'static str> {
    if mutual_tls { vec!["launch-standalone"] } else { vec!["launch-standalone", "client-public"] }
}

pub(crate) async fn authorization_server(server: web::Data<AuthorizationServer>) -> HttpResponse {
    let mut metadata = authorization_server_metadata(&server.config.public_url, server.mutual_tls());
    // Every scope the hosted providers offer, as the ZAL lists them.
    if let Ok(providers) = server.store.providers().await {
        let scopes: Vec<String> = providers
            .iter()
            .flat_map(|provider| provider.data_services.iter().map(move |id| format!("{}~{id}", provider.name)))
            .collect();
        metadata["scopes_supported"] = json!(scopes);
    }
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=300")).json(metadata)
}

pub(crate) async fn jwks(server: web::Data<AuthorizationServer>) -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=300")).json(server.jwks.keys().jwks())
}
