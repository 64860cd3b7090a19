//! Discovery and the cross-cutting answers: CapabilityStatement, ZAL, health, request ids,
//! unknown paths.

use e2e::{ANNA, OTHER_PROVIDER, PROVIDER, TestApp};
use serde_json::Value;
use test_support::on_both_backends;

on_both_backends!(metadata_is_the_capability_statement_of_the_data_service, |database| {
    let app = TestApp::start(database).await;
    for (service, version) in [("48", "3.0.2"), ("63", "4.0.1")] {
        let response = app.client.get(format!("{}/metadata", app.base(PROVIDER, service))).send().await.expect("sent");
        assert_eq!(response.status(), 200, "metadata needs no token");
        let statement: Value = response.json().await.expect("json");
        assert_eq!(statement["resourceType"], "CapabilityStatement");
        assert_eq!(statement["fhirVersion"], version);
        assert_eq!(statement["implementation"]["url"], app.base(PROVIDER, service));
        let security = statement["rest"][0]["security"]["extension"][0]["extension"].to_string();
        assert!(security.contains(&format!("{}/oauth/token", app.address)));
    }
    let bgz: Value = app
        .client
        .get(format!("{}/metadata", app.base(PROVIDER, "48")))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let types: Vec<&str> =
        bgz["rest"][0]["resource"].as_array().expect("resources").iter().filter_map(|r| r["type"].as_str()).collect();
    assert!(types.contains(&"Observation") && types.contains(&"DeviceRequest") && !types.contains(&"Immunization-R4"));
});

on_both_backends!(the_zal_lists_every_hosted_provider_and_endpoint, |database| {
    let app = TestApp::start(database).await;
    let response = app.client.get(format!("{}/medmij/zal.xml", app.address)).send().await.expect("sent");
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .starts_with("application/xml")
    );
    let xml = response.text().await.expect("text");
    assert!(xml.contains("xmlns://afsprakenstelsel.medmij.nl/zorgaanbiederslijst/release3/"));
    for provider in [PROVIDER, OTHER_PROVIDER] {
        assert!(xml.contains(&format!("<Zorgaanbiedernaam>{provider}@medmij</Zorgaanbiedernaam>")));
        for service in ["48", "63"] {
            assert!(
                xml.contains(&format!("<ResourceEndpointuri>{}</ResourceEndpointuri>", app.base(provider, service)))
            );
        }
    }
    assert!(
        xml.contains(&format!("<AuthorizationEndpointuri>{}/oauth/authorize</AuthorizationEndpointuri>", app.address))
    );
});

const REQUEST_ID: &str = "5f0c1b2a-3d4e-4f60-8a7b-9c0d1e2f3a4b";
const CORRELATION_ID: &str = "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D";

on_both_backends!(request_ids_are_echoed_and_made_when_missing, |database| {
    let app = TestApp::start(database).await;
    let url = format!("{}/Patient", app.base(PROVIDER, "48"));
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let response = app
        .client
        .get(&url)
        .bearer_auth(&token)
        .header("MedMij-Request-ID", REQUEST_ID)
        .header("X-Correlation-ID", CORRELATION_ID)
        .send()
        .await
        .expect("sent");
    let echoed = |response: &reqwest::Response, name: &str| {
        response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    };
    assert_eq!(echoed(&response, "medmij-request-id").as_deref(), Some(REQUEST_ID));
    assert_eq!(echoed(&response, "x-correlation-id").as_deref(), Some(CORRELATION_ID));
    // Ids that are not UUIDs (here a BSN and a name) are replaced, and the replacement echoed.
    let replaced = app
        .client
        .get(&url)
        .bearer_auth(&token)
        .header("MedMij-Request-ID", ANNA)
        .header("X-Correlation-ID", "Anna de Vries")
        .send()
        .await
        .expect("sent");
    for name in ["medmij-request-id", "x-correlation-id"] {
        let id = echoed(&replaced, name).unwrap_or_default();
        assert!(fhir_core::request_id::is_uuid(&id), "{name}: {id}");
    }
    // Errors carry them too, and a request without one gets a fresh id.
    let refused = app.client.get(&url).send().await.expect("sent");
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().get("medmij-request-id").is_some_and(|v| v.len() == 36));
    assert!(refused.headers().get("x-correlation-id").is_none());
});

on_both_backends!(unknown_paths_and_providers_answer_with_an_operation_outcome, |database| {
    let app = TestApp::start(database).await;
    let token = app.token(PROVIDER, ANNA, &["48"]);
    for url in [
        format!("{}/nothing/here", app.address),
        format!("{}/Patient", app.base("nosuchprovider", "48")),
        format!("{}/Patient", app.base(PROVIDER, "49")),
    ] {
        let response = app.get(&url, &token).await;
        assert_eq!(response.status(), 404, "{url}");
        let outcome: Value = response.json().await.expect("json");
        assert_eq!(outcome["resourceType"], "OperationOutcome");
    }
    let health: Value =
        app.client.get(format!("{}/health", app.address)).send().await.expect("sent").json().await.expect("json");
    assert_eq!(health["status"], "ok");
    // Browsers ask every page's origin for its icon: an image, not a 404 in the console.
    let icon = app.client.get(format!("{}/favicon.ico", app.address)).send().await.expect("sent");
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/png");
    let bytes = icon.bytes().await.expect("body");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
});
