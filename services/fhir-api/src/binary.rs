//! A Binary as the document it holds (FHIR STU3 §6.3.4.1 "Serving Binary Resources"): a read
//! whose `Accept` names no FHIR format but the document's own media type (`application/pdf`)
//! gets the decoded content with that type, not the resource. Provider data may be of any type,
//! so the answer is kept from running in a browser on the service's origin: it is sent as an
//! attachment, in a sandbox, and never sniffed.
//!
//! A document may be large (data service 51 takes PDFs of many megabytes), so it is never held
//! twice: the stored body is read where its base64 content lies, without building a JSON value,
//! and the document is decoded while it is sent, a slice at a time, with its length announced.

use crate::error::ApiError;
use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Bytes;
use base64::Engine;
use serde::Deserialize;
use std::ops::Range;

/// Base64 characters decoded per slice sent (a multiple of 4: 192 KiB of document).
const SLICE: usize = 256 * 1024;

/// What a document answer needs of a stored Binary, borrowed from its text.
#[derive(Deserialize)]
struct Stored<'a> {
    #[serde(rename = "contentType", borrow)]
    content_type: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    content: Option<std::borrow::Cow<'a, str>>,
}

/// The document of the Binary `json` (its text as stored) for a request that accepts
/// `accept`, or the refusal: 406 when the document is of another type than accepted.
pub(crate) fn document_response(json: String, accept: &str) -> Result<HttpResponse, ApiError> {
    let stored: Stored<'_> = serde_json::from_str(&json).map_err(|_| ApiError::Internal)?;
    let content_type = stored.content_type.as_deref().unwrap_or("application/octet-stream").to_owned();
    if !accepts(accept, &content_type) {
        return Err(ApiError::NotAcceptable(format!(
            "this Binary holds {content_type}; ask for it, or for application/fhir+json or application/fhir+xml"
        )));
    }
    // Base64 has no character JSON escapes, so the content is a slice of the stored text; an
    // escaped one (never written by the service) is decoded from the copy serde made.
    let (text, range) = match &stored.content {
        Some(std::borrow::Cow::Borrowed(content)) => {
            let start = content.as_ptr() as usize - json.as_ptr() as usize;
            (None, start..start + content.len())
        }
        Some(std::borrow::Cow::Owned(content)) => (Some(content.clone()), 0..content.len()),
        None => (Some(String::new()), 0..0),
    };
    let text = text.unwrap_or(json);
    let length = decoded_length(&text.as_bytes()[range.clone()]);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_DISPOSITION, "attachment"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .no_chunking(length)
        .streaming(decoding(text, range)))
}

/// The length of the document `encoded` (base64, padded) holds.
fn decoded_length(encoded: &[u8]) -> u64 {
    let padding = encoded.iter().rev().take(2).filter(|byte| **byte == b'=').count();
    (encoded.len() / 4 * 3).saturating_sub(padding) as u64
}

/// The document in `text[range]`, decoded a slice at a time as the answer is sent. Stored
/// Binaries passed FHIR validation, so their content is base64; a slice that does not decode
/// ends the answer with an error (logged), which the client sees as a broken transfer.
fn decoding(text: String, range: Range<usize>) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    futures::stream::unfold((text, range.start, range.end), |(text, at, end)| async move {
        if at >= end {
            return None;
        }
        let next = (at + SLICE).min(end);
        let decoded = base64::engine::general_purpose::STANDARD.decode(&text.as_bytes()[at..next]).map_err(|error| {
            tracing::error!(error = %error, "a stored Binary's content is not base64");
            std::io::Error::other("the stored document could not be decoded")
        });
        Some((decoded.map(Bytes::from), (text, next, end)))
    })
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

    #[actix_web::test]
    async fn the_document_comes_decoded_as_an_attachment_of_its_own_type() {
        let json = r#"{"resourceType": "Binary", "contentType": "application/pdf", "content": "JVBERi0xLjQ="}"#;
        let response = document_response(json.to_owned(), "application/pdf").expect("served");
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).map(|value| value.as_bytes()),
            Some(&b"application/pdf"[..])
        );
        assert_eq!(
            response.headers().get(header::CONTENT_DISPOSITION).map(|value| value.as_bytes()),
            Some(&b"attachment"[..])
        );
        let body = actix_web::body::to_bytes(response.into_body()).await.unwrap_or_else(|_| panic!("a body"));
        assert_eq!(body.as_ref(), b"%PDF-1.4");
        assert!(matches!(document_response(json.to_owned(), "image/png"), Err(ApiError::NotAcceptable(_))));
    }

    #[actix_web::test]
    async fn a_large_document_is_sent_in_slices_with_its_length() {
        let document: Vec<u8> = (0..(SLICE * 2 + 1000)).map(|index| (index % 251) as u8).collect();
        let encoded = base64::engine::general_purpose::STANDARD.encode(&document);
        let json = format!(r#"{{"resourceType":"Binary","contentType":"application/pdf","content":"{encoded}"}}"#);
        let response = document_response(json, "application/pdf").expect("served");
        assert_eq!(decoded_length(encoded.as_bytes()), document.len() as u64);
        let body = actix_web::body::to_bytes(response.into_body()).await.unwrap_or_else(|_| panic!("a body"));
        assert_eq!(body.as_ref(), document.as_slice());
        for tail in ["", "=", "=="] {
            let short = base64::engine::general_purpose::STANDARD.encode(&document[..document.len() - tail.len()]);
            assert_eq!(decoded_length(short.as_bytes()), (document.len() - tail.len()) as u64, "{tail:?}");
        }
    }
}
