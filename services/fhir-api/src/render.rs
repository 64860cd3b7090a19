//! Writing FHIR responses. Stored resources are kept as serialised JSON, so a JSON search Bundle
//! is written by joining their bodies into the Bundle's text: no resource is parsed to answer a
//! request in JSON. XML is written from that same JSON by `fhir-xml`, here and nowhere else.

use crate::error::ApiError;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use fhir_core::date::{format_instant, now_millis};
use fhir_core::{Format, Release};
use fhir_search::QueryParam;
use fhir_xml::UnknownMembers;
use store::StoredResource;

/// The formats the endpoints produce; the first is the default.
pub const SUPPORTED: &[Format] = &[Format::Json, Format::Xml];

/// The XML declaration every XML response starts with.
const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// The format the client asked for by `_format` (among `params`) or `Accept`, among `supported`
/// (the first being the default), or the 406 to answer with.
pub(crate) fn requested_format(
    request: &HttpRequest,
    params: &[QueryParam],
    release: Release,
    supported: &[Format],
) -> Result<Format, ApiError> {
    let format_parameter = params.iter().find(|param| param.name == "_format").map(|param| param.value.as_str());
    let accept = request.headers().get(header::ACCEPT).and_then(|value| value.to_str().ok());
    fhir_core::format::negotiate(format_parameter, accept, release, supported)
        .map_err(|error| ApiError::NotAcceptable(error.to_string()))
}

/// Finishes `builder` with a resource of `release` (given as FHIR JSON text) in `format`.
pub fn resource_response(
    builder: &mut HttpResponseBuilder,
    format: Format,
    release: Release,
    json: &str,
) -> HttpResponse {
    owned_resource_response(builder, format, release, json.to_owned())
}

/// As [`resource_response`], taking the JSON text: in JSON it is sent as it is, not copied (a
/// stored Binary may be many megabytes).
pub fn owned_resource_response(
    builder: &mut HttpResponseBuilder,
    format: Format,
    release: Release,
    json: String,
) -> HttpResponse {
    let body = match format {
        Format::Json => json,
        Format::Xml => match json_to_xml(release, &json) {
            Ok(xml) => xml,
            Err(error) => {
                // Stored resources were written as XML once at ingest, so this is a defect.
                tracing::error!(error = %error, "a response could not be written as XML");
                return HttpResponse::InternalServerError()
                    .insert_header((header::CONTENT_TYPE, Format::Xml.content_type()))
                    .body(format!("{XML_DECLARATION}<OperationOutcome xmlns=\"http://hl7.org/fhir\"><issue><severity value=\"error\"/><code value=\"exception\"/><diagnostics value=\"an internal error occurred\"/></issue></OperationOutcome>"));
            }
        },
    };
    builder
        .insert_header((header::CONTENT_TYPE, format.content_type()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

/// FHIR JSON text as an XML document. Members the definitions do not know (kept as sent when a
/// provider's resource had them, and reported at ingest) have no place in XML and are left out.
pub fn json_to_xml(release: Release, json: &str) -> Result<String, String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|error| error.to_string())?;
    let mut out = String::with_capacity(json.len() * 3 / 2 + XML_DECLARATION.len());
    out.push_str(XML_DECLARATION);
    fhir_xml::write_resource(release, &value, UnknownMembers::Skip, &mut out).map_err(|error| error.to_string())?;
    Ok(out)
}

/// A searchset Bundle to write.
#[derive(Debug)]
pub struct SearchBundle<'a> {
    /// The number of matches in all.
    pub total: usize,
    /// The self link.
    pub self_link: &'a str,
    /// The next page, if any.
    pub next: Option<&'a str>,
    /// The previous page, if any.
    pub previous: Option<&'a str>,
    /// The FHIR base URL the `fullUrl`s start with.
    pub base: &'a str,
    /// The matches on this page.
    pub matches: &'a [StoredResource],
    /// The included resources.
    pub included: &'a [StoredResource],
}

impl SearchBundle<'_> {
    /// The Bundle as FHIR JSON text.
    pub fn to_json(&self) -> String {
        let body_size: usize = self.matches.iter().chain(self.included).map(|resource| resource.body.len() + 160).sum();
        let mut out = String::with_capacity(body_size + 512);
        out.push_str(r#"{"resourceType":"Bundle","id":""#);
        out.push_str(&uuid::Uuid::new_v4().to_string());
        out.push_str(r#"","meta":{"lastUpdated":""#);
        out.push_str(&format_instant(now_millis()));
        out.push_str(r#""},"type":"searchset","total":"#);
        out.push_str(&self.total.to_string());
        out.push_str(r#","link":["#);
        push_link(&mut out, "self", self.self_link);
        if let Some(next) = self.next {
            out.push(',');
            push_link(&mut out, "next", next);
        }
        if let Some(previous) = self.previous {
            out.push(',');
            push_link(&mut out, "previous", previous);
        }
        out.push(']');
        let entries = self
            .matches
            .iter()
            .map(|resource| (resource, "match"))
            .chain(self.included.iter().map(|resource| (resource, "include")));
        let mut first = true;
        for (resource, mode) in entries {
            out.push_str(if first { r#","entry":["# } else { "," });
            first = false;
            out.push_str(r#"{"fullUrl":"#);
            push_string(&mut out, &format!("{}/{}/{}", self.base, resource.resource_type, resource.id));
            out.push_str(r#","resource":"#);
            out.push_str(&resource.body);
            out.push_str(r#","search":{"mode":""#);
            out.push_str(mode);
            out.push_str(r#""}}"#);
        }
        if !first {
            out.push(']');
        }
        out.push('}');
        out
    }
}

fn push_link(out: &mut String, relation: &str, url: &str) {
    out.push_str(r#"{"relation":""#);
    out.push_str(relation);
    out.push_str(r#"","url":"#);
    push_string(out, url);
    out.push('}');
}

/// Appends `text` as a JSON string literal.
fn push_string(out: &mut String, text: &str) {
    match serde_json::to_string(text) {
        Ok(literal) => out.push_str(&literal),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_bundle_is_valid_json_with_entries_in_order() {
        let resource = |id: &str| {
            StoredResource::for_tests(
                "Observation",
                id,
                &format!(r#"{{"resourceType":"Observation","id":"{id}","valueQuantity":{{"value":72.50}}}}"#),
            )
        };
        let matches = [resource("a"), resource("b")];
        let included = [resource("c")];
        let bundle = SearchBundle {
            total: 7,
            self_link: "https://x/umcx/48/fhir/Observation?code=a%7Cb",
            next: Some("https://x/next"),
            previous: None,
            base: "https://x/umcx/48/fhir",
            matches: &matches,
            included: &included,
        };
        let text = bundle.to_json();
        let value: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(value["total"], 7);
        assert_eq!(value["entry"][1]["fullUrl"], "https://x/umcx/48/fhir/Observation/b");
        assert_eq!(value["entry"][2]["search"]["mode"], "include");
        assert_eq!(value["link"][1]["relation"], "next");
        assert!(text.contains(r#""value":72.50"#));
        let empty = SearchBundle { matches: &[], included: &[], ..bundle };
        let value: Value = serde_json::from_str(&empty.to_json()).expect("valid JSON");
        assert!(value.get("entry").is_none());
    }
}
