//! Routing of the dynamic paths: the PGO FHIR bases (`/{provider}/{service}/fhir/...`) and the
//! provider ingest endpoint (`/ingest/{provider}/{release}/...`), by splitting the path. actix's
//! router matches dynamic patterns with regular expressions, which cost a twentieth of a search;
//! the static paths (`/health`, `/medmij/zal.xml`) stay with actix.

use crate::operation::{self, Operation};
use crate::state::ApiState;
use crate::{discovery, ingest_api, pgo, shared_feed};
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use percent_encoding::percent_decode_str;
use std::borrow::Cow;

/// Answers every request no static route took.
pub(crate) async fn dispatch(request: HttpRequest, payload: web::Payload, state: web::Data<ApiState>) -> HttpResponse {
    let path = request.path().to_owned();
    // A trailing slash is tolerated; segments are percent-decoded (`%24lastn` is `$lastn`).
    let segments: Vec<Cow<'_, str>> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy())
        .collect();
    let segments: Vec<&str> = segments.iter().map(|segment| segment.as_ref()).collect();
    let method = request.method().clone();
    let state = state.get_ref();
    // What the request is, for the metrics (`metrics.rs`).
    let routed = |service: Option<&str>, interaction| crate::metrics::routed(&request, state, service, interaction);
    match segments.as_slice() {
        ["ingest", provider, release, "shared"] if method == Method::GET => {
            routed(None, "shared-feed");
            shared_feed::feed(&request, (provider, release), state).await
        }
        ["ingest", provider, release, "shared", "$acknowledge"] if method == Method::POST => {
            routed(None, "shared-acknowledge");
            shared_feed::acknowledge(&request, (provider, release), payload, state).await
        }
        ["ingest", provider, release] if method == Method::POST => {
            routed(None, "ingest-bundle");
            ingest_api::bundle(&request, provider, release, payload, state).await
        }
        ["ingest", provider, release, resource_type] if method == Method::POST => {
            routed(None, "ingest-create");
            ingest_api::create(&request, (provider, release, resource_type), payload, state).await
        }
        ["ingest", provider, release, resource_type, id] => match method {
            Method::PUT => {
                routed(None, "ingest-update");
                ingest_api::update(&request, (provider, release, resource_type, id), payload, state).await
            }
            Method::DELETE => {
                routed(None, "ingest-delete");
                ingest_api::delete(&request, (provider, release, resource_type, id), state).await
            }
            Method::GET => {
                routed(None, "ingest-read");
                ingest_api::read(&request, (provider, release, resource_type, id), state).await
            }
            _ => {
                routed(None, "ingest-other");
                discovery::method_not_allowed(&request, "GET, PUT, DELETE")
            }
        },
        ["ingest", _, _] | ["ingest", _, _, _] => {
            routed(None, "ingest-other");
            discovery::method_not_allowed(&request, "POST")
        }
        ["ingest", ..] => {
            routed(None, "ingest-other");
            discovery::not_found(&request)
        }
        [provider, service, "fhir"] if method == Method::POST => {
            routed(Some(service), "share");
            operation::serve(&request, state, (provider, service), Operation::Share, Some(payload)).await
        }
        [_, service, "fhir", ..] if method != Method::GET => {
            routed(Some(service), "not-offered");
            pgo::not_offered(&request)
        }
        [provider, service, "fhir", ".well-known", "smart-configuration"] => {
            routed(Some(service), "smart-configuration");
            discovery::smart_configuration(&request, provider, service, state).await
        }
        [provider, service, "fhir", "metadata"] => {
            routed(Some(service), "capabilities");
            pgo::metadata(&request, provider, service, state).await
        }
        [provider, service, "fhir", resource_type] => {
            routed(Some(service), "search-type");
            operation::serve(&request, state, (provider, service), Operation::Search { resource_type }, None).await
        }
        [provider, service, "fhir", resource_type, segment] => {
            let operation = Operation::on_instance(resource_type, segment);
            routed(Some(service), if matches!(operation, Operation::Lastn { .. }) { "$lastn" } else { "read" });
            operation::serve(&request, state, (provider, service), operation, None).await
        }
        _ => discovery::not_found(&request),
    }
}
