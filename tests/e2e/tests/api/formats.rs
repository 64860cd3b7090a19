//! Content negotiation: JSON by `Accept` or `_format`, the FHIR-version parameter, and 406 for
//! what the service does not produce.

use e2e::{ANNA, PROVIDER, TestApp};
use serde_json::Value;
use test_support::on_both_backends;

on_both_backends!(json_is_negotiated_and_other_formats_get_406, |database| {
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
        assert_eq!(
            response.headers().get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/fhir+json; charset=utf-8")
        );
    }
    let with_format = get("application/fhir+xml", "?_format=json").await.expect("sent");
    assert_eq!(with_format.status(), 200, "_format wins over Accept");
    let bundle: Value = with_format.json().await.expect("json");
    assert!(
        bundle["link"][0]["url"].as_str().unwrap_or("").ends_with("/Flag?_format=json"),
        "_format is applied, so echoed"
    );
    for (accept, query) in [
        ("application/fhir+xml", ""),
        ("", "?_format=xml"),
        ("text/html", ""),
        ("application/fhir+json; fhirVersion=4.0", ""),
    ] {
        let response = get(accept, query).await.expect("sent");
        assert_eq!(response.status(), 406, "Accept: {accept} {query}");
        let outcome: Value = response.json().await.expect("json");
        assert_eq!(outcome["issue"][0]["code"], "not-supported");
    }
});
