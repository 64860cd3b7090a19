//! Reading request bodies: at most the configured size, FHIR JSON only (for now), answered with
//! an OperationOutcome when refused (actix's own extractors would answer in plain text).

use crate::error::ApiError;
use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web;
use futures::StreamExt;
use serde_json::Value;

/// Reads the body of `request` as FHIR JSON, refusing more than `limit` bytes.
pub(crate) async fn read_json(
    request: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Value, ApiError> {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match media_type.as_str() {
        "application/fhir+json" | "application/json" | "application/json+fhir" | "" => {}
        "application/fhir+xml" | "application/xml" | "application/xml+fhir" | "text/xml" => {
            return Err(ApiError::UnsupportedMediaType(
                "FHIR XML request bodies are not supported yet; send application/fhir+json".into(),
            ));
        }
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "the media type '{other}' is not supported; send application/fhir+json"
            )));
        }
    }
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
    serde_json::from_slice(&bytes).map_err(|error| ApiError::BadRequest(format!("the body is not valid JSON: {error}")))
}
