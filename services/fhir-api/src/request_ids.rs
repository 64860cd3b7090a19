//! The MedMij tracing ids. A PGO sends `MedMij-Request-ID` and `X-Correlation-ID` with every
//! request (as headers on the back channel); the service records them on the request's tracing
//! span, keeps them for the access log, and echoes them in the response.
//!
//! MedMij makes both UUIDs, and the service keeps them for years, so only a UUID is taken as sent
//! (see `fhir_core::request_id`); anything else is replaced by a fresh UUID, and the id actually
//! used is the one echoed. A request without a `MedMij-Request-ID` gets a new one, so every
//! request can be traced; a missing `X-Correlation-ID` stays missing.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use fhir_core::request_id;

/// The request-id header.
pub const MEDMIJ_REQUEST_ID: &str = "medmij-request-id";
/// The correlation-id header.
pub const CORRELATION_ID: &str = "x-correlation-id";

/// The ids of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestIds {
    /// `MedMij-Request-ID`: as sent when it is a UUID, otherwise generated.
    pub request_id: String,
    /// `X-Correlation-ID`, if sent: as sent when it is a UUID, otherwise generated.
    pub correlation_id: Option<String>,
}

impl RequestIds {
    /// The ids of `request`, as the middleware set them (a fresh request id where it did not run).
    pub(crate) fn of(request: &actix_web::HttpRequest) -> RequestIds {
        request
            .extensions()
            .get::<RequestIds>()
            .cloned()
            .unwrap_or_else(|| RequestIds { request_id: uuid::Uuid::new_v4().to_string(), correlation_id: None })
    }
}

/// The id to use for header `name` of `request`: the sent one when it is a UUID, a fresh one in
/// place of anything else (said at debug level, never with the value sent), `None` when absent.
fn sent_id(request: &ServiceRequest, name: &'static str) -> Option<String> {
    let value = request.headers().get(name)?;
    let (used, replaced) = request_id::accept_or_replace(value.to_str().unwrap_or_default());
    if replaced {
        tracing::debug!(header = name, "a sent id that is not a UUID was replaced");
    }
    Some(used)
}

/// Middleware: reads (or makes) the ids before anything else runs and echoes them afterwards.
pub async fn middleware(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let ids = RequestIds {
        request_id: sent_id(&request, MEDMIJ_REQUEST_ID).unwrap_or_else(request_id::generate),
        correlation_id: sent_id(&request, CORRELATION_ID),
    };
    request.extensions_mut().insert(ids.clone());
    let mut response = next.call(request).await?;
    let echoed = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&ids.request_id) {
        echoed.insert(HeaderName::from_static(MEDMIJ_REQUEST_ID), value);
    }
    if let Some(correlation) = ids.correlation_id.as_deref().and_then(|id| HeaderValue::from_str(id).ok()) {
        echoed.insert(HeaderName::from_static(CORRELATION_ID), correlation);
    }
    Ok(response)
}
