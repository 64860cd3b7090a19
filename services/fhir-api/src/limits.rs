//! The length limit of the request target (path and query), checked before anything else reads
//! it: a longer one is answered 414 URI Too Long (RFC 9110 §15.5.15: "the target URI is longer
//! than the server is willing to interpret"; 431 is for header fields), with a body in the
//! protocol of the path: an RFC 6749-style JSON error under `/oauth`, `/.well-known/oauth-*` and
//! `/audit`, an OperationOutcome everywhere else.
//!
//! actix-http itself answers a request head that outgrows its 128 KiB read buffer with an empty
//! 431 before any of the service's code runs; `pgo-exchange`'s `head_guard.rs` puts the body of
//! `refusal_body` in such answers. This limit, far below that, answers every target the service
//! does see.

use crate::error::ApiError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};
use fhir_core::Format;

/// Middleware: refuses a request target longer than `max_bytes`.
pub async fn request_target(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
    max_bytes: usize,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let length = request.uri().path_and_query().map_or(0, |target| target.as_str().len());
    if length <= max_bytes {
        return next.call(request).await.map(ServiceResponse::map_into_left_body);
    }
    let answer = if speaks_oauth(request.path()) {
        HttpResponse::build(StatusCode::URI_TOO_LONG).insert_header(("Cache-Control", "no-store")).json(
            serde_json::json!({
                "error": "invalid_request",
                "error_description": format!("the request target is longer than {max_bytes} bytes"),
            }),
        )
    } else {
        ApiError::TargetTooLong(max_bytes).response(Format::Json)
    };
    Ok(request.into_response(answer).map_into_right_body())
}

/// The body of a refusal of a request for `path` because `why`, in the path's protocol: its media
/// type and text (also written for the heads actix-http refuses itself, see
/// `pgo-exchange`'s `head_guard.rs`).
pub fn refusal_body(path: &str, why: &str) -> (&'static str, String) {
    if speaks_oauth(path) {
        let body = serde_json::json!({ "error": "invalid_request", "error_description": why });
        ("application/json", body.to_string())
    } else {
        let outcome = fhir_core::OperationOutcome::error(fhir_core::IssueCode::TooLong, why);
        ("application/fhir+json", outcome.to_json().to_string())
    }
}

/// Whether `path` belongs to the authorization server or the audit API, whose errors are
/// RFC 6749 / RFC 6750 JSON rather than OperationOutcomes.
pub(crate) fn speaks_oauth(path: &str) -> bool {
    ["/oauth/", "/.well-known/oauth-", "/audit/"].iter().any(|prefix| path.starts_with(prefix))
        || matches!(path, "/oauth" | "/audit")
}

#[cfg(test)]
mod tests {
    use super::speaks_oauth;

    #[test]
    fn the_oauth_and_audit_paths_are_told_apart_from_fhir() {
        for path in ["/oauth/token", "/oauth", "/.well-known/oauth-authorization-server", "/audit/usage", "/audit"] {
            assert!(speaks_oauth(path), "{path}");
        }
        for path in ["/demoziekenhuis/48/fhir/Patient", "/ingest/x/stu3", "/oauthx", "/auditor", "/health"] {
            assert!(!speaks_oauth(path), "{path}");
        }
    }
}
