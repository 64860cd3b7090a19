//! Reading request bodies: at most the configured size, FHIR JSON (held to FHIR JSON's rules:
//! `fhir_core::json`) or FHIR XML by `Content-Type`, answered with an OperationOutcome when
//! refused (actix's own extractors would answer in plain text).

use crate::error::ApiError;
use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web;
use fhir_core::outcome::{Issue, IssueCode, Severity};
use fhir_core::{Format, Release};
use fhir_xml::ReadLimits;
use futures::StreamExt;
use serde_json::Value;

/// The format of the request body, by its `Content-Type` (JSON when none is given).
pub(crate) fn body_format(request: &HttpRequest) -> Result<Format, ApiError> {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if media_type.is_empty() {
        return Ok(Format::Json);
    }
    match Format::from_media_type(media_type) {
        Some(format) if media_type.contains('/') => Ok(format),
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "the media type '{media_type}' is not supported; send application/fhir+json or application/fhir+xml"
        ))),
    }
}

/// Reads the body of `request` as a FHIR resource of `release` (JSON or XML), refusing more
/// than `limit` bytes; with it, what was read although FHIR XML does not allow it (elements out
/// of their order), to answer as warnings.
pub(crate) async fn read_resource(
    request: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
    release: Release,
) -> Result<(Value, Vec<Issue>), ApiError> {
    let format = body_format(request)?;
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|error| ApiError::BadRequest(format!("the request body could not be read: {error}")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.is_empty() {
        return Err(ApiError::BadRequest("the request has no body; a FHIR resource was expected".into()));
    }
    match format {
        // FHIR JSON's rules (no repeated names, numbers within bounds) hold while parsing.
        Format::Json => fhir_core::json::from_slice(&bytes)
            .map(|value| (value, Vec::new()))
            .map_err(|error| ApiError::Rejected(error.into())),
        Format::Xml => {
            let limits = ReadLimits { max_bytes: limit, ..ReadLimits::default() };
            let (value, notes) = fhir_xml::from_xml_noting_order(release, &bytes, limits).map_err(|error| {
                ApiError::BadRequest(format!("the body is not FHIR XML the service accepts: {error}"))
            })?;
            let warnings = notes
                .into_iter()
                .map(|note| Issue {
                    severity: Severity::Warning,
                    code: IssueCode::Structure,
                    diagnostics: note,
                    expression: Vec::new(),
                })
                .collect();
            Ok((value, warnings))
        }
    }
}
