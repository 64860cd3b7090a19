//! The root span of every request: method, route, path, status and the MedMij ids, and the
//! remote parent of a W3C `traceparent` header when traces are exported.
//!
//! The path only, never the query: a query may hold anything (a BSN in a search parameter), and
//! every log line written while a request is served carries its root span's fields. For the same
//! reason the span records an error's `Display` and never its `Debug` (which can hold the input
//! that failed to parse), and nothing of the request body.

use crate::request_ids::RequestIds;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use opentelemetry::propagation::Extractor;
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::RootSpanBuilder;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The root span of every request, carrying the MedMij ids (installed with `TracingLogger`).
#[derive(Debug)]
pub struct MedMijRootSpan;

impl RootSpanBuilder for MedMijRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let ids = request.extensions().get::<RequestIds>().cloned();
        let request_id = ids.as_ref().map(|ids| ids.request_id.clone()).unwrap_or_default();
        let correlation_id = ids.and_then(|ids| ids.correlation_id).unwrap_or_default();
        let method = request.method().as_str().to_owned();
        let route = request.match_pattern().unwrap_or_else(|| "default".to_owned());
        let client_ip = request.peer_addr().map(|address| address.ip().to_canonical().to_string()).unwrap_or_default();
        let span = tracing::info_span!(
            "HTTP request",
            http.method = %method,
            http.route = %route,
            http.flavor = ?request.version(),
            http.target = %request.path(),
            http.client_ip = %client_ip,
            http.status_code = Empty,
            otel.name = %format!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = Empty,
            exception.message = Empty,
            medmij_request_id = %request_id,
            correlation_id = %correlation_id,
        );
        // Only when a propagator is installed (OTLP export configured) does this find a parent.
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderCarrier(request.headers()))
        });
        let _ = span.set_parent(parent);
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, error) = match outcome {
            Ok(response) => (response.status(), response.response().error().map(ToString::to_string)),
            Err(error) => (error.as_response_error().status_code(), Some(error.to_string())),
        };
        span.record("http.status_code", status.as_u16());
        span.record("otel.status_code", if status.is_server_error() { "ERROR" } else { "OK" });
        // Errors an extractor or actix itself raised (the service's handlers answer theirs and
        // log them where they arise).
        if let Some(error) = error {
            span.record("exception.message", error.as_str());
            if status.is_server_error() {
                tracing::error!(status = status.as_u16(), error = %error, "request failed");
            } else {
                tracing::info!(status = status.as_u16(), error = %error, "request refused");
            }
        }
    }
}

/// The request headers, for the trace-context propagator.
struct HeaderCarrier<'a>(&'a actix_web::http::header::HeaderMap);

impl Extractor for HeaderCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}
