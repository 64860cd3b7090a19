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
use actix_web::http::header::{ALLOW, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, Resource, Route, web};

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

/// Registers every route of the authorization server. Each path answers the methods it takes;
/// any other method gets 405 with `Allow` and an RFC 6749-style JSON error.
pub fn configure(server: web::Data<AuthorizationServer>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |config: &mut web::ServiceConfig| {
        let get = |path: &str, route: Route| only(path, "GET", route);
        let post = |path: &str, route: Route| only(path, "POST", route);
        config
            .app_data(server.clone())
            .service(get("/.well-known/oauth-authorization-server", web::get().to(metadata::authorization_server)))
            .service(get(JWKS_PATH, web::get().to(metadata::jwks)))
            .service(get(pages::STYLESHEET_PATH, web::get().to(stylesheet)))
            .service(get(AUTHORIZE_PATH, web::get().to(authorize::authorize)))
            .service(get("/oauth/start", web::get().to(person::start)))
            .service(get("/oauth/login", web::get().to(person::login)))
            .service(get(LOGIN_CALLBACK_PATH, web::get().to(person::callback)))
            .service(get("/oauth/consent", web::get().to(person::consent)))
            .service(post(pages::DECISION_PATH, web::post().to(person::decision)))
            .service(post(TOKEN_PATH, web::post().to(token::token)))
            .service(post(REVOKE_PATH, web::post().to(revoke::revoke)))
            .service(get(pages::MANAGE_PATH, web::get().to(manage::overview)))
            .service(post("/oauth/consents/login", web::post().to(manage::login)))
            .service(get(MANAGE_CALLBACK_PATH, web::get().to(manage::callback)))
            .service(post("/oauth/consents/revoke", web::post().to(manage::revoke)))
            .service(post("/oauth/consents/logout", web::post().to(manage::logout)));
    }
}

/// `path` answering `route` (for the method `allow` names) and any other method with 405.
/// Without a default of its own, a resource hands other methods to the application's default
/// service, which answers 404.
fn only(path: &str, allow: &'static str, route: Route) -> Resource {
    web::resource(path).route(route).default_service(web::to(move |request: HttpRequest| async move {
        let description = format!("{} is not supported at this path; it takes {allow}", request.method());
        let mut response = oauth_error(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", &description);
        response.headers_mut().insert(ALLOW, HeaderValue::from_static(allow));
        response
    }))
}

/// An RFC 6749 §5.2 error answer: `{"error": ..., "error_description": ...}`, never cached.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(serde_json::json!({ "error": error, "error_description": description }))
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
