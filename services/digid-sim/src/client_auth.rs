//! Client authentication at the token endpoint (RFC 6749 §2.3.1): `client_secret_basic` or
//! `client_secret_post`, never both; and the endpoint's error answers (RFC 6749 §5.2).

use crate::params::Params;
use crate::{SimClient, Simulator};
use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, CACHE_CONTROL, PRAGMA, WWW_AUTHENTICATE};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

/// A refused token request.
#[derive(Debug)]
pub(crate) enum TokenError {
    /// A parameter is missing, repeated or malformed (400).
    InvalidRequest(String),
    /// The client is unknown or its secret is wrong (401).
    InvalidClient(&'static str),
    /// The grant type is not `authorization_code` (400).
    UnsupportedGrantType,
    /// The code is unknown, expired, used, or bound to something else (400).
    InvalidGrant(&'static str),
    /// The simulator cannot store or sign (503).
    Unavailable,
}

impl TokenError {
    /// The RFC 6749 error code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_) => "invalid_request",
            TokenError::InvalidClient(_) => "invalid_client",
            TokenError::UnsupportedGrantType => "unsupported_grant_type",
            TokenError::InvalidGrant(_) => "invalid_grant",
            TokenError::Unavailable => "temporarily_unavailable",
        }
    }

    /// The human-readable `error_description`.
    pub(crate) fn description(&self) -> &str {
        match self {
            TokenError::InvalidRequest(description) => description,
            TokenError::InvalidClient(description) | TokenError::InvalidGrant(description) => description,
            TokenError::UnsupportedGrantType => "only grant_type=authorization_code is supported",
            TokenError::Unavailable => "the simulator cannot issue tokens right now",
        }
    }

    /// The JSON error response, with its status and headers.
    pub(crate) fn response(&self) -> HttpResponse {
        let status = match self {
            TokenError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
            TokenError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((CACHE_CONTROL, "no-store")).insert_header((PRAGMA, "no-cache"));
        if let TokenError::InvalidClient(_) = self {
            response.insert_header((WWW_AUTHENTICATE, r#"Basic realm="digid-sim""#));
        }
        response.json(json!({ "error": self.code(), "error_description": self.description() }))
    }
}

/// The client that sent `request`, authenticated by its secret.
pub(crate) fn authenticate<'s>(
    sim: &'s Simulator,
    request: &HttpRequest,
    form: &Params,
) -> Result<&'s SimClient, TokenError> {
    let (client_id, secret) = match request.headers().get(AUTHORIZATION) {
        Some(header) => {
            if form.get("client_secret").is_some() {
                return Err(TokenError::InvalidRequest("use one client authentication method, not two".into()));
            }
            let (client_id, secret) = header
                .to_str()
                .ok()
                .and_then(basic_credentials)
                .ok_or(TokenError::InvalidClient("malformed Basic authorization header"))?;
            if form.get("client_id").is_some_and(|in_form| in_form != client_id) {
                return Err(TokenError::InvalidRequest("client_id differs from the authenticated client".into()));
            }
            (client_id, secret)
        }
        None => match (form.get("client_id"), form.get("client_secret")) {
            (Some(client_id), Some(secret)) => (client_id.to_owned(), secret.to_owned()),
            _ => return Err(TokenError::InvalidClient("client authentication is missing")),
        },
    };
    let client = sim.client(&client_id).ok_or(TokenError::InvalidClient("unknown client or wrong secret"))?;
    aws_lc_rs::constant_time::verify_slices_are_equal(client.client_secret.as_bytes(), secret.as_bytes())
        .map_err(|_| TokenError::InvalidClient("unknown client or wrong secret"))?;
    Ok(client)
}

/// The client id and secret from a `Basic` header value. RFC 6749 §2.3.1: both are
/// form-urlencoded before they are joined with a colon and base64-encoded.
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (client_id, secret) = decoded.split_once(':')?;
    Some((form_decode(client_id), form_decode(secret)))
}

fn form_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_url_decoded() {
        let header = format!("Basic {}", STANDARD.encode("pgo.example:s%3Acret+x%26y"));
        assert_eq!(basic_credentials(&header), Some(("pgo.example".to_owned(), "s:cret x&y".to_owned())));
        assert_eq!(basic_credentials(&format!("bearer {}", STANDARD.encode("a:b"))), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
        assert_eq!(basic_credentials(&format!("Basic {}", STANDARD.encode("no-colon"))), None);
    }
}
