//! The audit API's errors: RFC 6750 for tokens (401 with `WWW-Authenticate`), `invalid_request`
//! for parameters (400), other methods (405, with `Allow`) and bodies too large (413),
//! `server_error` (500) when the store fails; JSON bodies, never the cause.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::json;

/// Why an audit request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuditError {
    /// No auditor's token.
    NoToken,
    /// A token that is not a valid auditor's token for this API.
    InvalidToken,
    /// A parameter is missing or wrong.
    BadRequest(String),
    /// The path does not take this method; `allow` lists those it does.
    MethodNotAllowed {
        /// The method asked.
        method: String,
        /// The methods the path takes.
        allow: &'static str,
    },
    /// A body larger than the endpoint reads.
    TooLarge,
    /// The store failed.
    Internal,
}

impl AuditError {
    pub(crate) fn response(&self) -> HttpResponse {
        let (status, error, description) = match self {
            AuditError::NoToken => {
                (StatusCode::UNAUTHORIZED, "invalid_request", "an auditor's access token is required".to_owned())
            }
            AuditError::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token is not a valid auditor's token".to_owned(),
            ),
            AuditError::BadRequest(why) => (StatusCode::BAD_REQUEST, "invalid_request", why.clone()),
            AuditError::MethodNotAllowed { method, allow } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request",
                format!("{method} is not supported at this path; it takes {allow}"),
            ),
            AuditError::TooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", "the request body is too large".to_owned())
            }
            AuditError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "server_error", "try again later".to_owned()),
        };
        let mut response = HttpResponse::build(status);
        response.insert_header(("Cache-Control", "no-store"));
        if let AuditError::MethodNotAllowed { allow, .. } = self {
            response.insert_header(("Allow", *allow));
        }
        if status == StatusCode::UNAUTHORIZED {
            let challenge = if *self == AuditError::NoToken {
                "Bearer realm=\"audit\"".to_owned()
            } else {
                format!("Bearer realm=\"audit\", error=\"{error}\"")
            };
            response.insert_header(("WWW-Authenticate", challenge));
        }
        response.json(json!({ "error": error, "error_description": description }))
    }
}

impl From<store::StoreError> for AuditError {
    fn from(error: store::StoreError) -> AuditError {
        tracing::error!(error = %error, "audit request failed in the store");
        AuditError::Internal
    }
}
