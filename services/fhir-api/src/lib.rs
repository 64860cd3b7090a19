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
mod state;

pub use ingest_api::ingest_key_hash;
pub use request_ids::{MedMijRootSpan, RequestIds};
pub use state::{ApiState, SearchLimits, ZalInfo};

use actix_web::web;

/// Registers every route of the service on `config`.
pub fn configure(state: web::Data<ApiState>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |config: &mut web::ServiceConfig| {
        config
            .app_data(state.clone())
            .route("/health", web::get().to(discovery::health))
            .route("/medmij/zal.xml", web::get().to(discovery::zal))
            .service(
                web::scope("/ingest/{provider}/{release}")
                    .route("", web::post().to(ingest_api::bundle))
                    .route("/", web::post().to(ingest_api::bundle))
                    .route("/{type}", web::post().to(ingest_api::create))
                    .route("/{type}/{id}", web::put().to(ingest_api::update))
                    .route("/{type}/{id}", web::delete().to(ingest_api::delete))
                    .route("/{type}/{id}", web::get().to(ingest_api::read))
                    .default_service(web::to(discovery::method_not_allowed)),
            )
            .service(
                web::scope("/{provider}/{service}/fhir")
                    .route("/metadata", web::get().to(pgo::metadata))
                    .route("/{type}", web::get().to(pgo::search))
                    .route("/{type}/{id}", web::get().to(pgo::read_or_lastn))
                    .default_service(web::to(pgo::not_offered)),
            )
            .default_service(web::to(discovery::not_found));
    }
}
