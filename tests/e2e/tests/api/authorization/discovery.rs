//! Discovery of the authorization server: RFC 8414 metadata, a SMART configuration per FHIR base,
//! the ZAL and the CapabilityStatement all name the same endpoints; the published keys verify
//! the access tokens.

use e2e::{PROVIDER, TestApp};
use serde_json::Value;
use test_support::on_both_backends;

async fn json(app: &TestApp, url: &str) -> (u16, Value) {
    let response = app.client.get(url).send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The text of every `<name>` element of an XML document.
fn elements(xml: &str, name: &str) -> Vec<String> {
    xml.split(&format!("<{name}>"))
        .skip(1)
        .filter_map(|rest| rest.split(&format!("</{name}>")).next())
        .map(str::to_owned)
        .collect()
}

on_both_backends!(every_discovery_document_names_the_same_endpoints, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    let (status, metadata) = json(&app, &format!("{}/.well-known/oauth-authorization-server", app.address)).await;
    assert_eq!(status, 200);
    let authorize = format!("{}/oauth/authorize", app.address);
    let token = format!("{}/oauth/token", app.address);
    assert_eq!(metadata["issuer"], app.address.as_str());
    assert_eq!(metadata["authorization_endpoint"], authorize.as_str());
    assert_eq!(metadata["token_endpoint"], token.as_str());
    assert_eq!(metadata["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(
        metadata["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token", "client_credentials"]),
        "the auditors' grant is named too"
    );
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        serde_json::json!(["none", "client_secret_basic", "client_secret_post"])
    );
    assert!(metadata.get("service_documentation").is_none(), "no documentation page is served: {metadata}");
    let scopes = metadata["scopes_supported"].as_array().expect("scopes");
    assert!(scopes.iter().any(|scope| scope == &format!("{PROVIDER}~48")), "{scopes:?}");

    for service in ["48", "63"] {
        let base = app.base(PROVIDER, service);
        let (status, smart) = json(&app, &format!("{base}/.well-known/smart-configuration")).await;
        assert_eq!(status, 200);
        assert_eq!(smart["authorization_endpoint"], authorize.as_str());
        assert_eq!(smart["token_endpoint"], token.as_str());
        assert_eq!(smart["scopes_supported"], serde_json::json!([format!("{PROVIDER}~{service}")]));
        assert_eq!(smart["grant_types_supported"], serde_json::json!(["authorization_code", "refresh_token"]));
        assert_eq!(smart["token_endpoint_auth_methods_supported"], serde_json::json!(["none"]));
        // Only what holds: a public client in development mode, and no patient in the token
        // response (so no patient context).
        assert_eq!(smart["capabilities"], serde_json::json!(["launch-standalone", "client-public"]));
        let (_, capability) = json(&app, &format!("{base}/metadata")).await;
        let security = capability["rest"][0]["security"].to_string();
        assert!(security.contains(&authorize) && security.contains(&token), "{security}");
    }
    let (status, _) = json(&app, &format!("{}/.well-known/smart-configuration", app.base(PROVIDER, "51"))).await;
    assert_eq!(status, 404, "no such FHIR base");

    let zal = app.client.get(format!("{}/medmij/zal.xml", app.address)).send().await.unwrap().text().await.unwrap();
    let zal_authorize = elements(&zal, "AuthorizationEndpointuri");
    let zal_token = elements(&zal, "TokenEndpointuri");
    assert!(!zal_authorize.is_empty(), "{zal}");
    assert!(zal_authorize.iter().all(|uri| *uri == authorize), "{zal_authorize:?}");
    assert!(zal_token.iter().all(|uri| *uri == token), "{zal_token:?}");

    let (_, jwks) = json(&app, metadata["jwks_uri"].as_str().expect("jwks_uri")).await;
    let kid = jwks["keys"][0]["kid"].as_str().expect("kid");
    let issued = app.token(PROVIDER, e2e::ANNA, &["48"]);
    assert!(issued.split('.').next().is_some_and(|header| {
        use base64::Engine;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap_or_default();
        String::from_utf8_lossy(&header).contains(kid)
    }));
});
