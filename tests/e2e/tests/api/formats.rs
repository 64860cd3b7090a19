//! Content negotiation: JSON and XML by `Accept` or `_format`, the FHIR-version parameter, 406
//! for what the service does not produce, and errors in the format that was asked for.

use e2e::{ANNA, PROVIDER, TestApp};
use fhir_core::Release;
use fhir_xml::{ReadLimits, from_xml};
use serde_json::Value;
use test_support::on_both_backends;

const JSON: &str = "application/fhir+json; charset=utf-8";
const XML: &str = "application/fhir+xml; charset=utf-8";

fn content_type(response: &reqwest::Response) -> String {
    response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

on_both_backends!(json_and_xml_are_negotiated_and_other_formats_get_406, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let get = |accept: &'static str, query: &'static str| {
        let request = app.client.get(format!("{base}/Flag{query}")).bearer_auth(&token);
        let request = if accept.is_empty() { request } else { request.header("Accept", accept) };
        request.send()
    };
    for accept in [
        "",
        "application/fhir+json",
        "application/json",
        "application/fhir+json; fhirVersion=3.0",
        "*/*",
        "application/json+fhir",
    ] {
        let response = get(accept, "").await.expect("sent");
        assert_eq!(response.status(), 200, "Accept: {accept}");
        assert_eq!(content_type(&response), JSON, "Accept: {accept}");
    }
    let json: Value = get("", "").await.expect("sent").json().await.expect("json");
    for (accept, query) in [
        ("application/fhir+xml", ""),
        ("application/xml", ""),
        ("text/xml", ""),
        ("application/fhir+xml; fhirVersion=3.0", ""),
        ("application/fhir+json;q=0.5, application/fhir+xml", ""),
        ("", "?_format=xml"),
        ("application/fhir+json", "?_format=application/fhir+xml"),
    ] {
        let response = get(accept, query).await.expect("sent");
        assert_eq!(response.status(), 200, "Accept: {accept} {query}");
        assert_eq!(content_type(&response), XML, "Accept: {accept} {query}");
        let body = response.bytes().await.expect("body");
        assert!(
            body.starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Bundle xmlns=\"http://hl7.org/fhir\">")
        );
        let bundle = from_xml(Release::Stu3, &body, ReadLimits::default()).expect("valid FHIR XML");
        assert_eq!(bundle["entry"], json["entry"], "Accept: {accept} {query}");
    }
    let with_format = get("application/fhir+xml", "?_format=json").await.expect("sent");
    assert_eq!(with_format.status(), 200, "_format wins over Accept");
    assert_eq!(content_type(&with_format), JSON);
    let bundle: Value = with_format.json().await.expect("json");
    assert!(
        bundle["link"][0]["url"].as_str().unwrap_or("").ends_with("/Flag?_format=json"),
        "_format is applied, so echoed"
    );
    for (accept, query) in [("text/html", ""), ("", "?_format=turtle"), ("application/fhir+xml; fhirVersion=4.0", "")] {
        let response = get(accept, query).await.expect("sent");
        assert_eq!(response.status(), 406, "Accept: {accept} {query}");
        let outcome: Value = response.json().await.expect("json");
        assert_eq!(outcome["issue"][0]["code"], "not-supported");
    }
});

on_both_backends!(reads_metadata_and_errors_answer_in_xml_when_asked, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "63");
    let token = app.token(PROVIDER, ANNA, &["63"]);
    let xml_get = |path: String, token: Option<&str>| {
        let request = app.client.get(format!("{base}/{path}")).header("Accept", "application/fhir+xml");
        match token {
            Some(token) => request.bearer_auth(token).send(),
            None => request.send(),
        }
    };
    let read = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        assert_eq!(content_type(&response), XML);
        let body = response.bytes().await.expect("body");
        (status, from_xml(Release::R4, &body, ReadLimits::default()).expect("valid FHIR XML"))
    };
    let (status, statement) = read(xml_get("metadata".into(), None).await.expect("sent")).await;
    assert_eq!((status, statement["resourceType"].as_str()), (200, Some("CapabilityStatement")));
    assert!(statement["format"].as_array().expect("formats").iter().any(|format| format == "xml"));
    let search: Value = app.get_json(&format!("{base}/Immunization"), &token).await;
    let id = search["entry"][0]["resource"]["id"].as_str().expect("an immunization").to_owned();
    let (status, immunization) = read(xml_get(format!("Immunization/{id}"), Some(&token)).await.expect("sent")).await;
    assert_eq!(status, 200);
    assert_eq!(immunization, search["entry"][0]["resource"]);
    for (path, token, expected_status, code) in [
        ("Immunization/no-such-id".to_owned(), Some(token.as_str()), 404, "not-found"),
        ("Immunization".to_owned(), None, 401, "security"),
        ("Immunization?_count=many".to_owned(), Some(token.as_str()), 400, "invalid"),
    ] {
        let (status, outcome) = read(xml_get(path.clone(), token).await.expect("sent")).await;
        assert_eq!(status, expected_status, "{path}");
        assert_eq!(outcome["resourceType"], "OperationOutcome", "{path}");
        assert_eq!(outcome["issue"][0]["code"], code, "{path}");
    }
});
