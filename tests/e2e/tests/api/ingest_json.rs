//! FHIR JSON's rules at the ingest endpoint: a name twice in one object, a number with an
//! exponent or more digits than a FHIR decimal holds, an integer outside its type's range are
//! refused with 400 and an OperationOutcome that names the place, in JSON and in XML alike, and
//! nothing is stored; what passes is stored exactly as sent.

use e2e::{PROVIDER, TestApp};
use serde_json::Value;
use test_support::on_both_backends;

const OBSERVATION: &str = r#"{
  "resourceType": "Observation",
  "id": "json-rules-1",
  "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-BodyWeight"]},
  "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
  "subject": {"reference": "Patient/demo-patient-anna"},
  "effectiveDateTime": "2026-11-20T09:30:00+01:00",
  "valueQuantity": {"value": 72.50, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}
}"#;

async fn send(app: &TestApp, content_type: &str, body: String) -> reqwest::Response {
    app.client
        .put(format!("{}/ingest/{PROVIDER}/stu3/Observation/json-rules-1", app.address))
        .bearer_auth(&app.ingest_key)
        .header("Content-Type", content_type)
        .header("Accept", "application/fhir+json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn stored(app: &TestApp) -> reqwest::Response {
    app.client
        .get(format!("{}/ingest/{PROVIDER}/stu3/Observation/json-rules-1", app.address))
        .bearer_auth(&app.ingest_key)
        .header("Accept", "application/fhir+json")
        .send()
        .await
        .unwrap()
}

/// The first issue of a 400 OperationOutcome.
async fn refusal(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 400);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    outcome["issue"][0].clone()
}

on_both_backends!(json_that_breaks_fhir_jsons_rules_is_refused_with_the_place, |database| {
    let app = TestApp::start(database).await;
    let json = "application/fhir+json";

    // The last of two names would have won before.
    let twice = OBSERVATION.replace(r#""status": "final","#, r#""status": "entered-in-error", "status": "final","#);
    let issue = refusal(send(&app, json, twice).await).await;
    assert_eq!(issue["code"], "structure");
    assert_eq!(issue["expression"][0], "Observation.status");
    let diagnostics = issue["diagnostics"].as_str().unwrap();
    assert!(diagnostics.contains("'status' appears twice") && diagnostics.contains("/status"), "{diagnostics}");
    assert!(diagnostics.contains("line 5"), "{diagnostics}");

    // Numbers: an exponent (once stored as 1e+999999), and 100,000 digits.
    for value in ["1e999999".to_owned(), "9".repeat(100_000)] {
        let body = OBSERVATION.replace("72.50", &value);
        let issue = refusal(send(&app, json, body).await).await;
        assert_eq!(issue["code"], "value");
        assert_eq!(issue["expression"][0], "Observation.valueQuantity.value");
    }

    // An integer type beyond its range (fhir-sdk would take a positiveInt up to 2^32 - 1).
    let positive = OBSERVATION.replace(
        r#""status": "final","#,
        r#""status": "final", "extension": [{"url": "http://example.org/x", "valuePositiveInt": 3000000000}],"#,
    );
    let issue = refusal(send(&app, json, positive).await).await;
    assert!(issue["diagnostics"].as_str().unwrap().contains("positiveInt must be an integer"), "{issue}");

    // In XML the same numbers are refused with the line and path.
    let xml = |value: &str| {
        format!(
            r#"<Observation xmlns="http://hl7.org/fhir"><id value="json-rules-1"/>
<meta><profile value="http://nictiz.nl/fhir/StructureDefinition/zib-BodyWeight"/></meta>
<status value="final"/><code><coding><system value="http://loinc.org"/><code value="29463-7"/></coding></code>
<subject><reference value="Patient/demo-patient-anna"/></subject>
<valueQuantity><value value="{value}"/><unit value="kg"/></valueQuantity></Observation>"#
        )
    };
    for value in ["1e999999", "12345678901234567890"] {
        let issue = refusal(send(&app, "application/fhir+xml", xml(value)).await).await;
        let diagnostics = issue["diagnostics"].as_str().unwrap();
        assert!(
            diagnostics.contains("Observation.valueQuantity.value") && diagnostics.contains("line 5"),
            "{diagnostics}"
        );
    }
    assert_eq!(stored(&app).await.status(), 404, "nothing was stored");

    // What keeps to the rules is stored as sent: 72.50 stays 72.50.
    assert_eq!(send(&app, json, OBSERVATION.to_owned()).await.status(), 201);
    let kept = stored(&app).await.text().await.unwrap();
    assert!(kept.contains(r#""value":72.50"#), "{kept}");
    assert_eq!(send(&app, "application/fhir+xml", xml("72.50")).await.status(), 200);
});
