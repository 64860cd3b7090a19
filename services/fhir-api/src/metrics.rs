//! Counting every request of the application for Prometheus: a middleware around the whole app
//! times each request to its answer's head and counts it by data service, interaction and status.
//! The dynamic routes (`routes.rs`) say what a request was as they dispatch it ([`routed`]); a
//! route the router matched is named from its pattern. Label values stay bounded: a data service
//! only when the definitions know it, an interaction from the lists here, never a path or an id.

use crate::state::ApiState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest};
use service_metrics::{HttpMetrics, Metrics, RequestLabels, Routed};
use std::time::Instant;

impl ApiState {
    /// Records into `metrics` (the application's; else into handles nobody reads).
    pub fn with_metrics(mut self, metrics: Metrics) -> ApiState {
        self.metrics = metrics;
        self
    }
}

/// Notes what `request` is: `interaction`, at data service `service` when the definitions know it.
pub(crate) fn routed(request: &HttpRequest, state: &ApiState, service: Option<&str>, interaction: &'static str) {
    let data_service = service
        .and_then(|service| state.catalog.data_service(service))
        .map(|service| service.id.clone())
        .unwrap_or_default();
    request.extensions_mut().insert(Routed { data_service, interaction });
}

/// Middleware: counts and times every request (outermost, so that refusals of the other
/// middleware count too).
pub async fn count_requests(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
    metrics: HttpMetrics,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    // The request is read afterwards, from the response: a clone taken before would stop the
    // router from writing the path's parameters into it.
    let response = next.call(request).await;
    let elapsed = started.elapsed();
    let labels = match &response {
        Ok(response) => labels(response.request(), response.status().as_u16()),
        Err(error) => RequestLabels {
            data_service: String::new(),
            interaction: "other",
            status: error.as_response_error().status_code().as_u16(),
        },
    };
    metrics.observe(&labels, elapsed);
    response
}

/// What an answered request is counted under.
fn labels(request: &HttpRequest, status: u16) -> RequestLabels {
    let routed = request.extensions().get::<Routed>().cloned();
    let (data_service, interaction) = match routed {
        Some(routed) => (routed.data_service, routed.interaction),
        None => (String::new(), request.match_pattern().as_deref().map_or("other", interaction_of_route)),
    };
    RequestLabels { data_service, interaction, status }
}

/// The interaction of a route the router matched, by its pattern.
fn interaction_of_route(pattern: &str) -> &'static str {
    match pattern {
        "/oauth/authorize" => "authorize",
        "/oauth/token" => "token",
        "/oauth/revoke" => "revoke",
        "/oauth/jwks" => "jwks",
        "/.well-known/oauth-authorization-server" => "authorization-server-metadata",
        "/oauth/start" => "start",
        "/oauth/login" => "login",
        "/oauth/login/callback" => "login-callback",
        "/oauth/consent" => "consent",
        "/oauth/decision" => "decision",
        "/oauth/consents" => "consents",
        "/oauth/consents/login" => "consents-login",
        "/oauth/consents/callback" => "consents-callback",
        "/oauth/consents/revoke" => "consents-revoke",
        "/oauth/consents/logout" => "consents-logout",
        "/audit/usage" => "audit-usage",
        "/audit/AuditEvent" => "audit-events",
        "/audit/openapi.json" => "audit-openapi",
        "/audit/login" | "/audit/logout" | "/audit/dashboard" | "/audit/dashboard/report" => "audit-dashboard",
        "/health" => "health",
        "/health/live" => "live",
        "/health/ready" => "ready",
        "/medmij/zal.xml" => "zal",
        "/metrics" => "metrics",
        "/favicon.ico" | "/oauth/style.css" | "/audit/style.css" => "static",
        demo if demo.starts_with("/demo-pgo") || demo.starts_with("/digid-sim") => "demo",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_named_from_a_bounded_list() {
        assert_eq!(interaction_of_route("/oauth/token"), "token");
        assert_eq!(interaction_of_route("/digid-sim/authorize"), "demo");
        assert_eq!(interaction_of_route("/anything/else"), "other");
    }
}
