//! The HTTP face of the service, on actix-web:
//! - the PGO-facing FHIR resource server, one base per provider and data service
//!   (`/{provider}/{data service}/fhir`), answering for the patient bound to the access token;
//! - the provider-facing ingest endpoint (`/ingest/{provider}/{stu3|r4}`), behind an ingest key;
//! - discovery: the ZAL (`/medmij/zal.xml`) and `/health`;
//! - the application's metrics: counted by `metrics.rs`, served at `/metrics` by
//!   `metrics_endpoint.rs`.
//!
//! Handlers cite the rules they implement; errors all go through `error::ApiError`.

mod binary;
mod body;
mod discovery;
mod endpoint;
pub mod error;
mod expiring;
mod ingest_api;
pub mod limits;
mod links;
pub mod metrics;
pub mod metrics_endpoint;
mod operation;
mod pgo;
mod prefer;
pub mod render;
pub mod request_ids;
mod root_span;
mod routes;
mod share;
mod shared_feed;
mod state;
mod witness;

pub use fhir_search::QueryLimits;
pub use metrics_endpoint::MetricsEndpoint;
pub use request_ids::RequestIds;
pub use root_span::MedMijRootSpan;
pub use state::{ApiState, SearchLimits, SmartConfiguration, ZalInfo};
pub use witness::Metering;

use actix_web::web;

/// Registers every route of the service on `config`.
pub fn configure(state: web::Data<ApiState>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |config: &mut web::ServiceConfig| {
        config
            .app_data(state.clone())
            .service(get_only("/health", web::get().to(discovery::health)))
            .service(get_only("/health/live", web::get().to(discovery::live)))
            .service(get_only("/health/ready", web::get().to(discovery::ready)))
            .service(get_only("/favicon.ico", web::get().to(discovery::favicon)))
            .service(get_only("/medmij/zal.xml", web::get().to(discovery::zal)))
            .default_service(web::to(routes::dispatch));
    }
}

/// A static path answering GET with `route`, and any other method with 405 and `Allow: GET`
/// (without its own default, a resource would hand other methods to the app's default service,
/// which answers 404).
fn get_only(path: &str, route: actix_web::Route) -> actix_web::Resource {
    web::resource(path).route(route).default_service(web::to(|request: actix_web::HttpRequest| async move {
        discovery::method_not_allowed(&request, "GET")
    }))
}
