//! A Binary as the document it holds (FHIR STU3 §6.3.4.1 "Serving Binary Resources"): a read
//! whose `Accept` names no FHIR format but the document's own media type (`application/pdf`)
//! gets the decoded content with that type, not the resource. Provider data may be of any type,
//! so the answer is kept from running in a browser on the service's origin: it is sent as an
//! attachment, in a sandbox, and never sniffed.

use crate::error::ApiError;
use actix_web::HttpResponse;
use actix_web::http::header;
use base64::Engine;
use serde_json::Value;

/// The document of the Binary `json` (its text as stored) for a request that accepts
/// `accept`, or the refusal: 406 when the document is of another type than accepted.
pub(crate) fn document_response(json: &str, accept: &str) -> Result<HttpResponse, ApiError> {
    let binary: Value = serde_json::from_str(json).map_err(|_| ApiError::Internal)?;
    let content_type = binary.get("contentType").and_then(Value::as_str).unwrap_or("application/octet-stream");
    if !accepts(accept, content_type) {
        return Err(ApiError::NotAcceptable(format!(
            "this Binary holds {content_type}; ask for it, or for application/fhir+json or application/fhir+xml"
        )));
    }
    let encoded = binary.get("content").and_then(Value::as_str).unwrap_or_default();
    // Stored Binaries passed FHIR validation, so their content is base64.
    let document = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| ApiError::Internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type.to_owned()))
        .insert_header((header::CONTENT_DISPOSITION, "attachment"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(document))
}

/// Whether a media range of `accept` (with a quality above 0) takes `content_type`: the same
/// type, `type/*`, or `*/*`.
fn accepts(accept: &str, content_type: &str) -> bool {
    let wanted = media_type(content_type);
    let (kind, _) = wanted.split_once('/').unwrap_or((wanted.as_str(), ""));
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let range = media_type(parts.next().unwrap_or_default());
        let refused = parts.any(|parameter| {
            parameter.split_once('=').is_some_and(|(name, value)| {
                name.trim() == "q" && value.trim().parse::<f32>().is_ok_and(|quality| quality <= 0.0)
            })
        });
        !refused && (range == wanted || range == "*/*" || range == format!("{kind}/*"))
    })
}

/// A media type without parameters, in lower case.
fn media_type(text: &str) -> String {
    text.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_takes_its_type_its_family_or_anything() {
        assert!(accepts("application/pdf", "application/pdf"));
        assert!(accepts("text/plain;q=0.5, application/*", "application/PDF; charset=binary"));
        assert!(accepts("*/*", "image/png"));
        assert!(!accepts("image/png", "application/pdf"));
        assert!(!accepts("application/pdf;q=0", "application/pdf"));
    }

    #[test]
    fn the_document_comes_decoded_as_an_attachment_of_its_own_type() {
        let json = r#"{"resourceType": "Binary", "contentType": "application/pdf", "content": "JVBERi0xLjQ="}"#;
        let response = document_response(json, "application/pdf").expect("served");
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).map(|value| value.as_bytes()),
            Some(&b"application/pdf"[..])
        );
        assert_eq!(
            response.headers().get(header::CONTENT_DISPOSITION).map(|value| value.as_bytes()),
            Some(&b"attachment"[..])
        );
        assert!(matches!(document_response(json, "image/png"), Err(ApiError::NotAcceptable(_))));
    }
}
