//! Every error an endpoint can answer with, and the one place that turns an error into an HTTP
//! response: status, FHIR issue code, OperationOutcome and, for token problems, the
//! `WWW-Authenticate` challenge of RFC 6750. Internal causes are logged, never sent.
//!
//! | error                  | status | issue code    | notes                                        |
//! |------------------------|--------|---------------|----------------------------------------------|
//! | NoToken                | 401    | security      | `WWW-Authenticate: Bearer realm=...`         |
//! | InvalidToken           | 401    | security      | `error="invalid_token"`                      |
//! | OutOfScope             | 403    | security      | `error="insufficient_scope"`                 |
//! | ShareNotAlone          | 403    | security      | a share's token grants other data services too |
//! | IngestUnauthorized     | 401    | security      | provider ingest key missing or wrong         |
//! | NoEndpoint             | 404    | not-found     | unknown provider or data service             |
//! | TypeNotServed          | 404    | not-supported | type outside the data service                |
//! | NotFound               | 404    | not-found     | never 403: existence is not revealed         |
//! | InteractionNotOffered  | 400    | not-supported |                                              |
//! | BadSearch              | 400    | invalid / not-supported                               |
//! | BadRequest             | 400    | structure     | unreadable body                              |
//! | Rejected               | 400/422| (per issue)   | the validation's own OperationOutcome        |
//! | MethodNotAllowed       | 405    | not-supported | `Allow` names the methods the path takes     |
//! | NotAcceptable          | 406    | not-supported |                                              |
//! | TooLarge               | 413    | too-long      |                                              |
//! | TargetTooLong          | 414    | too-long      | path and query over `server.max_request_target_bytes` |
//! | UnsupportedMediaType   | 415    | not-supported |                                              |
//! | Throttled              | 429    | throttled     | too many wrong ingest keys; `Retry-After`    |
//! | Unavailable            | 503    | transient     | database unreachable                         |
//! | TookTooLong            | 503    | too-costly    | a statement ran past the statement timeout   |
//! | Internal               | 500    | exception     | cause logged with the request id             |

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use fhir_core::{Format, IssueCode, OperationOutcome, Release};
use fhir_search::SearchError;
use ingest::{Rejection, RejectionKind};

/// The realm named in `WWW-Authenticate` challenges.
const REALM: &str = "pgo-exchange";

/// An error answer of a FHIR endpoint.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No bearer token.
    #[error("an access token is required")]
    NoToken,
    /// The token is not valid here (why is logged, not told).
    #[error("the access token is invalid or expired")]
    InvalidToken,
    /// The token does not grant this data service.
    #[error("the access token does not grant data service {0}")]
    OutOfScope(String),
    /// A share with a token for more than this data service.
    #[error("sharing with data service {0} needs an access token for that data service alone")]
    ShareNotAlone(String),
    /// The provider ingest key is missing or wrong.
    #[error("a valid ingest key for this provider is required")]
    IngestUnauthorized,
    /// No such FHIR endpoint.
    #[error("there is no FHIR endpoint at this address")]
    NoEndpoint,
    /// The type is not part of the data service.
    #[error("{0}")]
    TypeNotServed(String),
    /// Nothing to show.
    #[error("{0} was not found")]
    NotFound(String),
    /// The interaction is not offered.
    #[error("{0}")]
    InteractionNotOffered(String),
    /// The search request is not acceptable.
    #[error(transparent)]
    BadSearch(#[from] SearchError),
    /// The request body cannot be read.
    #[error("{0}")]
    BadRequest(String),
    /// Ingest refused the content.
    #[error("{}", .0.summary())]
    Rejected(Rejection),
    /// The method is not allowed here; `allow` lists the methods that are (the `Allow` header).
    #[error("{method} is not supported at this path; it takes {allow}")]
    MethodNotAllowed {
        /// The method asked.
        method: String,
        /// The methods the path takes, as the `Allow` header writes them.
        allow: &'static str,
    },
    /// No acceptable response format.
    #[error("{0}")]
    NotAcceptable(String),
    /// The body is too large.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The request target (path and query) is longer than the service reads.
    #[error("the request target (path and query) is longer than {0} bytes")]
    TargetTooLong(usize),
    /// The body's media type is not supported.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many failed attempts from this address or for this provider; retry after so many
    /// seconds.
    #[error("too many failed attempts; try again in {0} seconds")]
    Throttled(u64),
    /// The database cannot be reached.
    #[error("the service is temporarily unavailable; try again later")]
    Unavailable,
    /// The database was stopped from working on the request any longer (the statement timeout).
    #[error("the request took longer than this service allows for one request")]
    TookTooLong,
    /// Something failed inside; logged with its cause.
    #[error("an internal error occurred")]
    Internal,
}

impl ApiError {
    /// The status, issue code and (for token errors) the challenge.
    fn parts(&self) -> (StatusCode, IssueCode, Option<String>) {
        match self {
            ApiError::NoToken => {
                (StatusCode::UNAUTHORIZED, IssueCode::Security, Some(format!("Bearer realm=\"{REALM}\"")))
            }
            ApiError::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                IssueCode::Security,
                Some(format!(
                    "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"The access token is invalid or expired\""
                )),
            ),
            ApiError::OutOfScope(_) => (
                StatusCode::FORBIDDEN,
                IssueCode::Security,
                Some(format!(
                    "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", error_description=\"The access token does not grant this data service\""
                )),
            ),
            ApiError::ShareNotAlone(_) => (
                StatusCode::FORBIDDEN,
                IssueCode::Security,
                Some(format!(
                    "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", error_description=\"A share needs a token for this data service alone\""
                )),
            ),
            ApiError::IngestUnauthorized => {
                (StatusCode::UNAUTHORIZED, IssueCode::Security, Some(format!("Bearer realm=\"{REALM}-ingest\"")))
            }
            ApiError::NoEndpoint | ApiError::NotFound(_) => (StatusCode::NOT_FOUND, IssueCode::NotFound, None),
            ApiError::TypeNotServed(_) => (StatusCode::NOT_FOUND, IssueCode::NotSupported, None),
            ApiError::InteractionNotOffered(_) => (StatusCode::BAD_REQUEST, IssueCode::NotSupported, None),
            ApiError::BadSearch(error) => {
                let code = match error {
                    SearchError::UnsupportedModifier { .. }
                    | SearchError::UnknownParameter(_)
                    | SearchError::UnsupportedInclude(_)
                    | SearchError::UnsupportedSort { .. } => IssueCode::NotSupported,
                    SearchError::InvalidValue { .. } | SearchError::Repeated(_) => IssueCode::Invalid,
                    SearchError::Limit { .. } => IssueCode::TooCostly,
                };
                (StatusCode::BAD_REQUEST, code, None)
            }
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, IssueCode::Structure, None),
            ApiError::Rejected(rejection) => match rejection.kind {
                RejectionKind::Invalid => (StatusCode::BAD_REQUEST, IssueCode::Invalid, None),
                RejectionKind::Unprocessable => (StatusCode::UNPROCESSABLE_ENTITY, IssueCode::Invalid, None),
            },
            ApiError::MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, IssueCode::NotSupported, None),
            ApiError::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, IssueCode::NotSupported, None),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, IssueCode::TooLong, None),
            ApiError::TargetTooLong(_) => (StatusCode::URI_TOO_LONG, IssueCode::TooLong, None),
            ApiError::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, IssueCode::NotSupported, None),
            ApiError::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, IssueCode::Throttled, None),
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, IssueCode::Transient, None),
            ApiError::TookTooLong => (StatusCode::SERVICE_UNAVAILABLE, IssueCode::TooCostly, None),
            ApiError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, IssueCode::Exception, None),
        }
    }

    /// The OperationOutcome of this error.
    pub fn outcome(&self) -> OperationOutcome {
        match self {
            ApiError::Rejected(rejection) => rejection.outcome.clone(),
            other => OperationOutcome::error(other.parts().1, other.to_string()),
        }
    }

    /// The HTTP response, in `format` (errors are written in the format the client asked for).
    pub fn response(&self, format: Format) -> HttpResponse {
        let (status, _, challenge) = self.parts();
        let mut response = HttpResponse::build(status);
        if let Some(challenge) = challenge
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            response.insert_header((header::WWW_AUTHENTICATE, value));
        }
        if let ApiError::MethodNotAllowed { allow, .. } = self {
            response.insert_header((header::ALLOW, *allow));
        }
        if let ApiError::Throttled(seconds) = self {
            response.insert_header((header::RETRY_AFTER, *seconds));
        }
        // OperationOutcome has the same elements in STU3 and R4 as far as the service uses them.
        crate::render::resource_response(&mut response, format, Release::R4, &self.outcome().to_json().to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        self.response(Format::Json)
    }
}

impl From<store::StoreError> for ApiError {
    fn from(error: store::StoreError) -> ApiError {
        if error.is_unavailable() {
            tracing::error!(error = %error, "database unavailable");
            ApiError::Unavailable
        } else if error.is_timeout() {
            tracing::warn!("a statement ran past the statement timeout and was stopped");
            ApiError::TookTooLong
        } else {
            tracing::error!(error = %error, "store error");
            ApiError::Internal
        }
    }
}

impl From<ingest::IngestError> for ApiError {
    fn from(error: ingest::IngestError) -> ApiError {
        match error {
            ingest::IngestError::Rejected(rejection) => ApiError::Rejected(rejection),
            ingest::IngestError::Store(error) => error.into(),
        }
    }
}
