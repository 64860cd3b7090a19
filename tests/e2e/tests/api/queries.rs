//! Every query of the BgZ list (data service 48) and the Vaccinaties queries (63) return exactly
//! the resources `services/demo/fixtures/expected.json` lists, for each demo patient; every
//! answer meets the content checks of the MedMij qualification; and the XML answer of every query
//! is valid FHIR XML (read back strictly, element order included) with the very same content.

use e2e::{ANNA, BRAM, PROVIDER, TestApp, entry_ids, fixtures_dir};
use fhir_core::Release;
use serde_json::Value;
use test_support::on_both_backends;

fn expected() -> Value {
    let text = std::fs::read_to_string(fixtures_dir().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("JSON")
}

/// The qualification's checks on a searchset answer (see the domain brief).
pub(crate) fn assert_qualifies(bundle: &Value, base: &str, query: &str) {
    assert_eq!(bundle["resourceType"], "Bundle", "{query}");
    assert_eq!(bundle["type"], "searchset", "{query}");
    let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
    let matches = entries.iter().filter(|entry| entry["search"]["mode"] == "match").count();
    assert_eq!(bundle["total"].as_u64(), Some(matches as u64), "{query}: Bundle.total");
    let self_link = bundle["link"]
        .as_array()
        .and_then(|links| links.iter().find(|link| link["relation"] == "self"))
        .expect("self link");
    let self_url = self_link["url"].as_str().expect("url");
    assert!(self_url.starts_with(base), "{query}: self link {self_url}");
    assert!(
        !self_url.contains("patient=") && !self_url.contains("subject="),
        "{query}: a patient parameter in {self_url}"
    );
    // A Patient resource carries its own BSN; nothing else the PGO receives may.
    assert!(
        !bundle["link"].to_string().contains(ANNA) && !bundle["link"].to_string().contains(BRAM),
        "{query}: a BSN in a link"
    );
    for entry in &entries {
        let resource = &entry["resource"];
        let full_url = entry["fullUrl"].as_str().expect("fullUrl");
        let tail =
            format!("/{}/{}", resource["resourceType"].as_str().unwrap_or(""), resource["id"].as_str().unwrap_or(""));
        assert!(full_url.starts_with("http") && full_url.ends_with(&tail), "{query}: fullUrl {full_url}");
        assert!(
            resource["meta"]["profile"].as_array().is_some_and(|profiles| !profiles.is_empty()),
            "{query}: meta.profile on {tail}"
        );
        assert!(
            resource["meta"]["versionId"].is_string() && resource["meta"]["lastUpdated"].is_string(),
            "{query}: meta on {tail}"
        );
        check_codings_and_references(resource, &tail, query);
        if resource["resourceType"] != "Patient" {
            let text = resource.to_string();
            assert!(!text.contains(ANNA) && !text.contains(BRAM), "{query}: a BSN in {tail}");
        }
    }
}

/// Codings carry system and code; references carry a display.
fn check_codings_and_references(value: &Value, at: &str, query: &str) {
    match value {
        Value::Object(members) => {
            if let Some(Value::Array(codings)) = members.get("coding") {
                for coding in codings {
                    assert!(
                        coding["system"].is_string() && coding["code"].is_string(),
                        "{query}: coding without system/code in {at}"
                    );
                }
            }
            if members.contains_key("reference") {
                assert!(
                    members.get("display").is_some_and(Value::is_string),
                    "{query}: reference without display in {at}"
                );
            }
            for member in members.values() {
                check_codings_and_references(member, at, query);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| check_codings_and_references(item, at, query)),
        _ => {}
    }
}

/// The XML answer to `url`, read back as JSON by the strict XML reader.
async fn xml_answer(app: &TestApp, url: &str, token: &str, release: &str) -> Value {
    let response =
        app.client.get(url).bearer_auth(token).header("Accept", "application/fhir+xml").send().await.expect("sent");
    assert_eq!(response.status(), 200, "{url}");
    assert_eq!(
        response.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/fhir+xml; charset=utf-8")
    );
    let body = response.bytes().await.expect("body");
    let release: Release = release.parse().expect("release");
    fhir_xml::from_xml(release, &body, fhir_xml::ReadLimits::default())
        .unwrap_or_else(|error| panic!("{url}: not valid FHIR XML: {error}"))
}

async fn check_release(app: &TestApp, release: &str, service: &str) -> usize {
    let expected = expected();
    let base = app.base(PROVIDER, service);
    let mut checked = 0;
    for (who, bsn) in [("anna", ANNA), ("bram", BRAM)] {
        let token = app.token(PROVIDER, bsn, &[service]);
        for (query, patients) in expected[release].as_object().expect("queries") {
            let bundle = app.get_json(&format!("{base}/{query}"), &token).await;
            let wanted: Vec<String> =
                patients[who].as_array().expect("list").iter().map(|id| id.as_str().unwrap_or("").to_owned()).collect();
            assert_eq!(entry_ids(&bundle), wanted, "{who}: {query}");
            assert_qualifies(&bundle, &base, query);
            let xml = xml_answer(app, &format!("{base}/{query}"), &token, release).await;
            assert_eq!(xml["total"], bundle["total"], "{who}: {query} in XML");
            assert_eq!(xml["link"], bundle["link"], "{who}: {query} in XML");
            assert_eq!(xml["entry"], bundle["entry"], "{who}: {query} in XML");
            checked += 1;
        }
    }
    checked
}

on_both_backends!(every_bgz_query_returns_exactly_the_patients_resources, |database| {
    let app = TestApp::start(database).await;
    let checked = check_release(&app, "stu3", "48").await;
    // 28 queries of the BgZ list, for two patients: a suite that silently ran nothing would fail.
    assert_eq!(checked, 56);
});

on_both_backends!(every_vaccination_query_returns_exactly_the_patients_resources, |database| {
    let app = TestApp::start(database).await;
    assert_eq!(check_release(&app, "r4", "63").await, 8);
});
