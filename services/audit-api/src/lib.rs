//! The auditors' side of the service, under `/audit`: the usage reports of the fee (signed JWS
//! documents, JSON or CSV), the access log as FHIR AuditEvents, the OpenAPI document describing
//! both, and a dashboard (server-rendered HTML with an SVG chart, no scripts).
//!
//! The API takes auditors' access tokens (client credentials at `/oauth/token`); the dashboard
//! takes the same credentials on a sign-in form and keeps a server-side session. Neither accepts
//! anything a PGO holds.

mod auth;
mod dashboard;
mod errors;
mod openapi;
mod reports;

pub use openapi::openapi_document;

use access_token::{KeyRing, TokenVerifier};
use actix_web::{HttpRequest, Resource, Route, web};
use errors::AuditError;
use metering::{Auditors, Granularity, ReportSettings};
use store::Store;

/// Where the audit API lives.
pub const AUDIT_PATH: &str = "/audit";

/// What the audit endpoints share.
pub struct AuditApi {
    pub(crate) store: Store,
    pub(crate) verifier: TokenVerifier,
    /// The deployment's keys: reports are signed with the one that signs now.
    pub(crate) keys: KeyRing,
    pub(crate) reports: ReportSettings,
    pub(crate) granularity: Granularity,
    pub(crate) public_url: String,
    pub(crate) auditors: Auditors,
    pub(crate) session_lifetime_seconds: u64,
    /// Failed sign-ins, counted with the other doors of the service.
    pub(crate) throttle: throttle::Throttle,
}

impl std::fmt::Debug for AuditApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditApi").field("public_url", &self.public_url).finish_non_exhaustive()
    }
}

impl AuditApi {
    /// The audit API of a service at `public_url`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        verifier: TokenVerifier,
        keys: KeyRing,
        reports: ReportSettings,
        granularity: Granularity,
        public_url: &str,
        auditors: Auditors,
        session_lifetime_seconds: u64,
        throttle: throttle::Throttle,
    ) -> AuditApi {
        AuditApi {
            store,
            verifier,
            keys,
            reports,
            granularity,
            public_url: public_url.trim_end_matches('/').to_owned(),
            auditors,
            session_lifetime_seconds,
            throttle,
        }
    }

    /// The audience of auditors' tokens: this API's base URL.
    pub(crate) fn audience(&self) -> String {
        format!("{}{AUDIT_PATH}", self.public_url)
    }
}

/// Registers the audit routes. Each path answers the methods it takes; any other method gets 405
/// with `Allow` and a JSON error.
pub fn configure(api: web::Data<AuditApi>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |config: &mut web::ServiceConfig| {
        let get = |path: &str, route: Route| only(path, "GET", vec![route]);
        config.service(
            web::scope(AUDIT_PATH)
                .app_data(api.clone())
                .service(get("/openapi.json", web::get().to(openapi::serve)))
                .service(get("/usage", web::get().to(reports::usage)))
                .service(get("/AuditEvent", web::get().to(reports::audit_events)))
                .service(only(
                    "/login",
                    "GET, POST",
                    vec![web::get().to(dashboard::login_page), web::post().to(dashboard::login)],
                ))
                .service(only("/logout", "POST", vec![web::post().to(dashboard::logout)]))
                .service(get("/dashboard", web::get().to(dashboard::dashboard)))
                .service(get("/dashboard/report", web::get().to(dashboard::download)))
                .service(get("/style.css", web::get().to(dashboard::stylesheet))),
        );
    }
}

/// `path` answering `routes` (for the methods `allow` names) and any other method with 405.
/// Without a default of its own, a resource hands other methods to the application's default
/// service, which answers 404.
fn only(path: &str, allow: &'static str, routes: Vec<Route>) -> Resource {
    routes.into_iter().fold(web::resource(path), Resource::route).default_service(web::to(
        move |request: HttpRequest| async move {
            AuditError::MethodNotAllowed { method: request.method().to_string(), allow }.response()
        },
    ))
}
