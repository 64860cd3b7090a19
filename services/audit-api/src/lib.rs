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

use access_token::{SigningKey, TokenVerifier};
use actix_web::web;
use metering::{Auditors, Granularity, ReportSettings};
use store::Store;

/// Where the audit API lives.
pub const AUDIT_PATH: &str = "/audit";

/// What the audit endpoints share.
pub struct AuditApi {
    pub(crate) store: Store,
    pub(crate) verifier: TokenVerifier,
    pub(crate) signing_key: SigningKey,
    pub(crate) reports: ReportSettings,
    pub(crate) granularity: Granularity,
    pub(crate) public_url: String,
    pub(crate) auditors: Auditors,
    pub(crate) session_lifetime_seconds: u64,
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
        signing_key: SigningKey,
        reports: ReportSettings,
        granularity: Granularity,
        public_url: &str,
        auditors: Auditors,
        session_lifetime_seconds: u64,
    ) -> AuditApi {
        AuditApi {
            store,
            verifier,
            signing_key,
            reports,
            granularity,
            public_url: public_url.trim_end_matches('/').to_owned(),
            auditors,
            session_lifetime_seconds,
        }
    }

    /// The audience of auditors' tokens: this API's base URL.
    pub(crate) fn audience(&self) -> String {
        format!("{}{AUDIT_PATH}", self.public_url)
    }
}

/// Registers the audit routes.
pub fn configure(api: web::Data<AuditApi>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |config: &mut web::ServiceConfig| {
        config.service(
            web::scope(AUDIT_PATH)
                .app_data(api.clone())
                .route("/openapi.json", web::get().to(openapi::serve))
                .route("/usage", web::get().to(reports::usage))
                .route("/AuditEvent", web::get().to(reports::audit_events))
                .route("/login", web::get().to(dashboard::login_page))
                .route("/login", web::post().to(dashboard::login))
                .route("/logout", web::post().to(dashboard::logout))
                .route("/dashboard", web::get().to(dashboard::dashboard))
                .route("/dashboard/report", web::get().to(dashboard::download))
                .route("/style.css", web::get().to(dashboard::stylesheet)),
        );
    }
}
