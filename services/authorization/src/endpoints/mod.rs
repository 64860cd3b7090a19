//! The HTTP endpoints of the authorization server, and the one function that registers them.

mod authorize;
mod manage;
mod metadata;
mod person;
mod revoke;
mod token;

pub use metadata::{authorization_server_metadata, smart_configuration};
pub use revoke::REVOKE_PATH;
pub use token::audit_audience;

use crate::pages::{self, Lang};
use crate::server::AuthorizationServer;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

/// The path of the authorization endpoint.
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
/// The path of the token endpoint.
pub const TOKEN_PATH: &str = "/oauth/token";
/// The path of the access-token signing keys.
pub const JWKS_PATH: &str = "/oauth/jwks";
/// Where the OpenID Provider sends the person back during a PGO's request.
pub const LOGIN_CALLBACK_PATH: &str = "/oauth/login/callback";
/// Where the OpenID Provider sends the person back on the consent-management page.
pub const MANAGE_CALLBACK_PATH: &str = "/oauth/consents/callback";

/// Registers every route of the authorization server.
pub fn configure(server: web::Data<AuthorizationServer>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |config: &mut web::ServiceConfig| {
        config
            .app_data(server.clone())
            .route("/.well-known/oauth-authorization-server", web::get().to(metadata::authorization_server))
            .route(JWKS_PATH, web::get().to(metadata::jwks))
            .route(pages::STYLESHEET_PATH, web::get().to(stylesheet))
            .route(AUTHORIZE_PATH, web::get().to(authorize::authorize))
            .route("/oauth/start", web::get().to(person::start))
            .route("/oauth/login", web::get().to(person::login))
            .route(LOGIN_CALLBACK_PATH, web::get().to(person::callback))
            .route("/oauth/consent", web::get().to(person::consent))
            .route(pages::DECISION_PATH, web::post().to(person::decision))
            .route(TOKEN_PATH, web::post().to(token::token))
            .route(REVOKE_PATH, web::post().to(revoke::revoke))
            .route(pages::MANAGE_PATH, web::get().to(manage::overview))
            .route("/oauth/consents/login", web::post().to(manage::login))
            .route(MANAGE_CALLBACK_PATH, web::get().to(manage::callback))
            .route("/oauth/consents/revoke", web::post().to(manage::revoke))
            .route("/oauth/consents/logout", web::post().to(manage::logout));
    }
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(pages::STYLESHEET)
}

/// A page telling the person something went wrong, with `status`.
pub(crate) fn error_page(status: StatusCode, lang: Lang, message: &str) -> HttpResponse {
    pages::html_response(status, pages::error_page(lang, message))
}

/// A 303 to `location` (after a POST the browser follows with GET).
pub(crate) fn see_other(location: &str) -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::SeeOther();
    builder.insert_header((actix_web::http::header::LOCATION, location.to_owned()));
    builder.insert_header(("Cache-Control", "no-store"));
    builder
}
