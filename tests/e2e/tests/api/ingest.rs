//! The provider-facing ingest endpoint over HTTP: keys, lossless storage, versions, refusals that
//! store nothing, Bundles, deletes, and limits.

use e2e::{ANNA, PROVIDER, TestApp, entry_ids};
use serde_json::Value;
use test_support::on_both_backends;

/// A blood pressure written as a provider system would, with a decimal that must stay `120.50`
/// and an extension element the service does not interpret.
const OBSERVATION: &str = r#"{
  "resourceType": "Observation",
  "id": "ingest-bp-1",
  "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-BloodPressure"], "versionId": "99"},
  "status": "final",
  "category": [{"coding": [{"system": "http://hl7.org/fhir/observation-category", "code": "vital-signs", "display": "Vital Signs"}]}],
  "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel"}]},
  "subject": {"reference": "Patient/demo-patient-anna", "display": "Anna de Vries"},
  "effectiveDateTime": "2026-11-20T09:30:00+01:00",
  "_status": {"extension": [{"url": "http://example.org/ext/source", "valueString": "ward 3"}]},
  "component": [
    {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6", "display": "Systolic"}]},
     "valueQuantity": {"value": 120.50, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
    {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4", "display": "Diastolic"}]},
     "valueQuantity": {"value": 80, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}
  ]
}"#;

fn ingest_url(app: &TestApp, path: &str) -> String {
    format!("{}/ingest/{PROVIDER}/stu3/{path}", app.address)
}

async fn put(app: &TestApp, path: &str, body: &str, key: &str) -> reqwest::Response {
    app.client
        .put(ingest_url(app, path))
        .bearer_auth(key)
        .header("Content-Type", "application/fhir+json")
        .body(body.to_owned())
        .send()
        .await
        .expect("sent")
}

/// The resource without `meta.versionId` and `meta.lastUpdated`.
fn without_version_meta(mut resource: Value) -> Value {
    if let Some(meta) = resource.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("versionId");
        meta.remove("lastUpdated");
    }
    resource
}

on_both_backends!(what_a_provider_sends_comes_back_unchanged_apart_from_meta, |database| {
    let app = TestApp::start(database).await;
    let created = put(&app, "Observation/ingest-bp-1", OBSERVATION, &app.ingest_key).await;
    assert_eq!(created.status(), 201);
    assert!(
        created
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .ends_with("/Observation/ingest-bp-1/_history/1")
    );
    let stored = app
        .client
        .get(ingest_url(&app, "Observation/ingest-bp-1"))
        .bearer_auth(&app.ingest_key)
        .send()
        .await
        .expect("sent");
    let stored_text = stored.text().await.expect("text");
    assert!(stored_text.contains(r#""value":120.50"#), "the decimal keeps its precision: {stored_text}");
    let sent: Value = serde_json::from_str(OBSERVATION).expect("json");
    let stored: Value = serde_json::from_str(&stored_text).expect("json");
    assert_eq!(stored["meta"]["versionId"], "1");
    // serde_json keeps numbers as written, so 120.50 and 120.5 would differ here.
    assert_eq!(without_version_meta(stored), without_version_meta(sent));
    // The PGO sees exactly the same.
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let seen: Value = app.get_json(&format!("{}/Observation/ingest-bp-1", app.base(PROVIDER, "48")), &token).await;
    assert_eq!(without_version_meta(seen), without_version_meta(serde_json::from_str(OBSERVATION).expect("json")));
});

on_both_backends!(versions_grow_only_when_the_content_changes, |database| {
    let app = TestApp::start(database).await;
    assert_eq!(put(&app, "Observation/ingest-bp-1", OBSERVATION, &app.ingest_key).await.status(), 201);
    let same = put(&app, "Observation/ingest-bp-1", OBSERVATION, &app.ingest_key).await;
    assert_eq!(
        (same.status().as_u16(), same.headers().get("etag").and_then(|v| v.to_str().ok())),
        (200, Some("W/\"1\""))
    );
    let changed = OBSERVATION.replace("\"final\"", "\"amended\"");
    let updated = put(&app, "Observation/ingest-bp-1", &changed, &app.ingest_key).await;
    assert_eq!(
        (updated.status().as_u16(), updated.headers().get("etag").and_then(|v| v.to_str().ok())),
        (200, Some("W/\"2\""))
    );
});

on_both_backends!(only_the_providers_own_key_may_write, |database| {
    let app = TestApp::start(database).await;
    for key in ["", "wrong-key"] {
        let response = app
            .client
            .put(ingest_url(&app, "Observation/ingest-bp-1"))
            .header("Authorization", format!("Bearer {key}"))
            .body(OBSERVATION)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 401, "key '{key}'");
        let outcome: Value = response.json().await.expect("json");
        assert_eq!(outcome["issue"][0]["code"], "security");
    }
    // The other provider has no ingest key at all; the demo key does not open it.
    let other = app
        .client
        .put(format!("{}/ingest/{}/stu3/Observation/ingest-bp-1", app.address, e2e::OTHER_PROVIDER))
        .bearer_auth(&app.ingest_key)
        .body(OBSERVATION)
        .send()
        .await
        .expect("sent");
    assert_eq!(other.status(), 401);
    // A PGO's access token is not an ingest key.
    let token = app.token(PROVIDER, ANNA, &["48"]);
    assert_eq!(put(&app, "Observation/ingest-bp-1", OBSERVATION, &token).await.status(), 401);
});

on_both_backends!(invalid_resources_are_refused_with_what_and_where_and_nothing_is_stored, |database| {
    let app = TestApp::start(database).await;
    let cases = [
        (OBSERVATION.replace(r#""status": "final""#, r#""status": 7"#), 400, "Observation.status"),
        (OBSERVATION.replace(r#""category": ["#, r#""category": {"oops": 1}, "x": ["#), 400, "Observation.category"),
        (OBSERVATION.replace("zib-BloodPressure", "some-other-profile"), 422, "Observation.meta.profile"),
        (
            OBSERVATION.replace(r#""status": "final","#, r#""status": "final", "issued": "",  "#),
            400,
            "Observation.issued",
        ),
    ];
    for (body, status, location) in cases {
        let response = put(&app, "Observation/ingest-bp-1", &body, &app.ingest_key).await;
        assert_eq!(response.status(), status, "{location}");
        let outcome: Value = response.json().await.expect("json");
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        assert!(
            outcome["issue"]
                .as_array()
                .expect("issues")
                .iter()
                .any(|issue| issue["expression"][0].as_str().is_some_and(|e| e.starts_with(location))),
            "{location}: {outcome}"
        );
    }
    assert_eq!(
        put(&app, "Observation/other-id", OBSERVATION, &app.ingest_key).await.status(),
        400,
        "id must match the URL"
    );
    assert_eq!(put(&app, "Observation/ingest-bp-1", "{ not json", &app.ingest_key).await.status(), 400);
    let xml = app
        .client
        .put(ingest_url(&app, "Observation/ingest-bp-1"))
        .bearer_auth(&app.ingest_key)
        .header("Content-Type", "text/plain")
        .body("Observation")
        .send()
        .await
        .expect("sent");
    assert_eq!(xml.status(), 415);
    let read = app
        .client
        .get(ingest_url(&app, "Observation/ingest-bp-1"))
        .bearer_auth(&app.ingest_key)
        .send()
        .await
        .expect("sent");
    assert_eq!(read.status(), 404, "nothing was stored");
});

on_both_backends!(creates_transactions_and_deletes_reach_the_pgo, |database| {
    let app = TestApp::start(database).await;
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let base = app.base(PROVIDER, "48");
    let created = app
        .client
        .post(ingest_url(&app, "Observation"))
        .bearer_auth(&app.ingest_key)
        .header("Content-Type", "application/fhir+json")
        .header("Prefer", "return=minimal")
        .body(OBSERVATION)
        .send()
        .await
        .expect("sent");
    assert_eq!(created.status(), 201);
    let location = created.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let new_id = location.split("/Observation/").nth(1).and_then(|rest| rest.split('/').next()).expect("id").to_owned();
    assert_ne!(new_id, "ingest-bp-1", "the server assigns the id of a create");
    let flag = r#"{"resourceType": "Flag", "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-Alert"]}, "status": "active",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "15188001", "display": "Hearing loss"}]},
        "subject": {"reference": "urn:uuid:3d1c1a2e-5b8f-4d1e-9c2a-7a0d6b1f0e11", "display": "Anna de Vries"}}"#;
    let bundle = format!(
        r#"{{"resourceType": "Bundle", "type": "transaction", "entry": [
            {{"fullUrl": "urn:uuid:3d1c1a2e-5b8f-4d1e-9c2a-7a0d6b1f0e11", "request": {{"method": "PUT", "url": "Patient/demo-patient-anna"}},
              "resource": {patient}}},
            {{"request": {{"method": "POST", "url": "Flag"}}, "resource": {flag}}},
            {{"request": {{"method": "DELETE", "url": "Observation/{new_id}"}}}}
        ]}}"#,
        patient = demo::fixtures(fhir_core::Release::Stu3)
            .iter()
            .find(|(name, _)| *name == "Patient-demo-patient-anna.json")
            .map(|(_, text)| *text)
            .expect("fixture"),
    );
    let response = app
        .client
        .post(format!("{}/ingest/{PROVIDER}/stu3", app.address))
        .bearer_auth(&app.ingest_key)
        .header("Content-Type", "application/fhir+json")
        .body(bundle)
        .send()
        .await
        .expect("sent");
    let status = response.status();
    let answer: Value = response.json().await.expect("json");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["type"], "transaction-response");
    let statuses: Vec<&str> = answer["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| entry["response"]["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(statuses, ["200 OK", "201 Created", "204 No Content"]);
    // The PGO sees the new Flag (its subject rewritten to Anna) and no longer the deleted observation.
    let flags = entry_ids(&app.get_json(&format!("{base}/Flag"), &token).await);
    assert_eq!(flags.len(), 2, "{flags:?}");
    assert_eq!(app.get(&format!("{base}/Observation/{new_id}"), &token).await.status(), 404);
});

on_both_backends!(oversized_bodies_are_refused, |database| {
    let app = TestApp::start_with(database, &[("PGO_EXCHANGE__SERVER__MAX_BODY_BYTES", "2048")]).await;
    let padded = OBSERVATION
        .replace(r#""status": "final","#, &format!(r#""status": "final", "comment": "{}","#, "x".repeat(4000)));
    let response = put(&app, "Observation/ingest-bp-1", &padded, &app.ingest_key).await;
    assert_eq!(response.status(), 413);
    let outcome: Value = response.json().await.expect("json");
    assert_eq!(outcome["issue"][0]["code"], "too-long");
});
