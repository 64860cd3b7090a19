//! The HTTP face of the service, on actix-web:
//! - the PGO-facing FHIR resource server, one base per provider and data service
//!   (`/{provider}/{data service}/fhir`), answering for the patient bound to the access token;
//! - the provider-facing ingest endpoint (`/ingest/{provider}/{stu3|r4}`), behind an ingest key;
//! - discovery: the ZAL (`/medmij/zal.xml`) and `/health`.
//!
//! Handlers cite the rules they implement; errors all go through `error::ApiError`.

mod body;
mod discovery;
mod endpoint;
pub mod error;
mod ingest_api;
mod links;
mod pgo;
mod prefer;
pub mod render;
pub mod request_ids;
mod routes;
mod state;
mod witness;

pub use fhir_search::QueryLimits;
pub use request_ids::{MedMijRootSpan, RequestIds};
pub use state::{ApiState, SearchLimits, SmartConfiguration, ZalInfo};
pub use witness::Metering;

use actix_web::web;

/// Registers every route of the service on `config`.
pub fn configure(state: web::Data<ApiState>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |config: &mut web::ServiceConfig| {
        config
            .app_data(state.clone())
            .route("/health", web::get().to(discovery::health))
            .route("/medmij/zal.xml", web::get().to(discovery::zal))
            .default_service(web::to(routes::dispatch));
    }
}
