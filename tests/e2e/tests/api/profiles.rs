//! Profile validation at the ingest endpoint: with packages configured, a resource that breaks a
//! profile it claims (one a data service lists) is refused with each finding and its place, and
//! nothing is stored; with `validation.profiles = "warn"` it is kept and the findings come back as
//! warnings. The project's own small package (`tests/e2e/fixtures/profiles/stu3/`) stands in for
//! the Nictiz one; with the corpus present, the published package is used too.

use e2e::{PROVIDER, TestApp};
use serde_json::{Value, json};
use std::path::PathBuf;
use test_support::{corpus, on_both_backends};

fn own_package() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/profiles/stu3").display().to_string()
}

fn problem(id: &str) -> Value {
    json!({
        "resourceType": "Condition",
        "id": id,
        "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-Problem"]},
        "clinicalStatus": "active",
        "verificationStatus": "confirmed",
        "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "282291009"}]}],
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003", "display": "Hypertensie"}]},
        "subject": {"reference": "Patient/demo-patient-anna"}
    })
}

async fn put(app: &TestApp, resource: &Value) -> reqwest::Response {
    let id = resource["id"].as_str().expect("id");
    app.client
        .put(format!("{}/ingest/{PROVIDER}/stu3/Condition/{id}", app.address))
        .bearer_auth(&app.ingest_key)
        .header("Content-Type", "application/fhir+json")
        .header("Prefer", "return=OperationOutcome")
        .body(resource.to_string())
        .send()
        .await
        .expect("sent")
}

async fn stored(app: &TestApp, id: &str) -> u16 {
    let url = format!("{}/ingest/{PROVIDER}/stu3/Condition/{id}", app.address);
    app.client.get(url).bearer_auth(&app.ingest_key).send().await.expect("sent").status().as_u16()
}

/// The issues of an OperationOutcome as (severity, place, diagnostics).
async fn issues(response: reqwest::Response) -> Vec<(String, String, String)> {
    let outcome: Value = response.json().await.expect("json");
    assert_eq!(outcome["resourceType"], "OperationOutcome", "{outcome}");
    outcome["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|issue| {
            let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
            (text(&issue["severity"]), text(&issue["expression"][0]), text(&issue["diagnostics"]))
        })
        .collect()
}

on_both_backends!(a_resource_breaking_a_claimed_profile_is_refused_with_the_place_and_not_stored, |database| {
    let app = TestApp::start_with(database, &[("PGO_EXCHANGE__VALIDATION__PACKAGES__STU3", &own_package())]).await;
    assert_eq!(put(&app, &problem("profile-valid")).await.status(), 201, "a conforming Condition is stored");

    let mut without_code = problem("profile-no-code");
    without_code.as_object_mut().expect("object").remove("code");
    let response = put(&app, &without_code).await;
    assert_eq!(response.status(), 422);
    let found = issues(response).await;
    assert!(
        found.iter().any(|(severity, place, text)| severity == "error"
            && place == "Condition.code"
            && text.contains("cardinality")
            && text.contains("zib-Problem#Condition.code")),
        "{found:?}"
    );
    assert_eq!(stored(&app, "profile-no-code").await, 404, "nothing was stored");

    let mut bad_severity = problem("profile-bad-severity");
    bad_severity["severity"] = json!({"coding": [{"system": "http://snomed.info/sct", "code": "12345"}]});
    let response = put(&app, &bad_severity).await;
    assert_eq!(response.status(), 422);
    let found = issues(response).await;
    assert!(
        found.iter().any(|(_, place, text)| place == "Condition.severity"
            && text.contains("binding")
            && text.contains("http://snomed.info/sct|12345")
            && text.contains("http://example.org/fhir/ValueSet/test-severity")),
        "{found:?}"
    );
    assert_eq!(stored(&app, "profile-bad-severity").await, 404, "nothing was stored");

    // An update that breaks the profile leaves the stored version as it was.
    let mut broken_update = problem("profile-valid");
    broken_update.as_object_mut().expect("object").remove("code");
    assert_eq!(put(&app, &broken_update).await.status(), 422);
    let url = format!("{}/ingest/{PROVIDER}/stu3/Condition/profile-valid", app.address);
    let kept: Value =
        app.client.get(url).bearer_auth(&app.ingest_key).send().await.expect("sent").json().await.expect("json");
    assert_eq!(kept["code"]["coding"][0]["code"], "38341003");
});

on_both_backends!(with_the_warn_policy_the_resource_is_kept_and_the_findings_are_warnings, |database| {
    let package = own_package();
    let settings = [
        ("PGO_EXCHANGE__VALIDATION__PACKAGES__STU3", package.as_str()),
        ("PGO_EXCHANGE__VALIDATION__PROFILES", "warn"),
    ];
    let app = TestApp::start_with(database, &settings).await;
    let mut without_code = problem("profile-warned");
    without_code.as_object_mut().expect("object").remove("code");
    let response = put(&app, &without_code).await;
    assert_eq!(response.status(), 201);
    let found = issues(response).await;
    assert!(found.iter().any(|(severity, place, _)| severity == "warning" && place == "Condition.code"), "{found:?}");
    assert_eq!(stored(&app, "profile-warned").await, 200);
});

on_both_backends!(the_published_package_refuses_a_problem_without_its_code, |database| {
    let Some(package) = corpus("stu3-zib2017-package/profiles").map(|dir| dir.display().to_string()) else {
        return;
    };
    let app = TestApp::start_with(database, &[("PGO_EXCHANGE__VALIDATION__PACKAGES__STU3", &package)]).await;
    assert_eq!(put(&app, &problem("published-valid")).await.status(), 201);
    let mut without_code = problem("published-no-code");
    without_code.as_object_mut().expect("object").remove("code");
    let response = put(&app, &without_code).await;
    assert_eq!(response.status(), 422);
    let found = issues(response).await;
    assert!(
        found.iter().any(|(_, place, text)| place == "Condition.code" && text.contains("zib-Problem#Condition.code")),
        "{found:?}"
    );
    assert_eq!(stored(&app, "published-no-code").await, 404);
});
