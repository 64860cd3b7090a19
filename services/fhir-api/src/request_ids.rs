//! The MedMij tracing ids. A PGO sends `MedMij-Request-ID` and `X-Correlation-ID` with every
//! request (as headers on the back channel); the service records them on the request's tracing
//! span, keeps them for the access log, and echoes them in the response. A request without a
//! usable `MedMij-Request-ID` gets a new one, so every request can be traced.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

/// The request-id header.
pub const MEDMIJ_REQUEST_ID: &str = "medmij-request-id";
/// The correlation-id header.
pub const CORRELATION_ID: &str = "x-correlation-id";

/// The ids of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestIds {
    /// `MedMij-Request-ID`, as sent or generated.
    pub request_id: String,
    /// `X-Correlation-ID`, if sent.
    pub correlation_id: Option<String>,
}

/// Ids are echoed and logged, so only short, printable values are taken as sent.
fn usable(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    (!text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic())).then(|| text.to_owned())
}

/// Middleware: reads (or makes) the ids before anything else runs and echoes them afterwards.
pub async fn middleware(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let headers = request.headers();
    let ids = RequestIds {
        request_id: headers.get(MEDMIJ_REQUEST_ID).and_then(usable).unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        correlation_id: headers.get(CORRELATION_ID).and_then(usable),
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

/// The root span of every request, carrying the MedMij ids.
#[derive(Debug)]
pub struct MedMijRootSpan;

impl RootSpanBuilder for MedMijRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let ids = request.extensions().get::<RequestIds>().cloned();
        let request_id = ids.as_ref().map(|ids| ids.request_id.clone()).unwrap_or_default();
        let correlation_id = ids.and_then(|ids| ids.correlation_id).unwrap_or_default();
        tracing_actix_web::root_span!(request, medmij_request_id = %request_id, correlation_id = %correlation_id)
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
