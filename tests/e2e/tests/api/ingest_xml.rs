//! FHIR XML at the ingest endpoint: resources and Bundles sent as XML are stored as the same
//! JSON a JSON client would have sent, answers come in the format of the request, and broken or
//! hostile XML is refused with an XML OperationOutcome, storing nothing.

use e2e::{ANNA, PROVIDER, TestApp};
use fhir_core::Release;
use fhir_xml::{ReadLimits, from_xml};
use serde_json::{Value, json};
use test_support::on_both_backends;

/// A blood pressure as a provider system writes it in XML, comments and all.
const OBSERVATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- exported by a provider system -->
<Observation xmlns="http://hl7.org/fhir">
  <id value="xml-bp-1"/>
  <meta><profile value="http://nictiz.nl/fhir/StructureDefinition/zib-BloodPressure"/></meta>
  <status value="final">
    <extension url="http://example.org/ext/source"><valueString value="ward 3"/></extension>
  </status>
  <category>
    <coding><system value="http://hl7.org/fhir/observation-category"/><code value="vital-signs"/><display value="Vital Signs"/></coding>
  </category>
  <code><coding><system value="http://loinc.org"/><code value="85354-9"/><display value="Blood pressure panel"/></coding></code>
  <subject><reference value="Patient/demo-patient-anna"/><display value="Anna de Vries"/></subject>
  <effectiveDateTime value="2026-11-21T09:30:00+01:00"/>
  <component>
    <code><coding><system value="http://loinc.org"/><code value="8480-6"/><display value="Systolic"/></coding></code>
    <valueQuantity><value value="120.50"/><unit value="mmHg"/><system value="http://unitsofmeasure.org"/><code value="mm[Hg]"/></valueQuantity>
  </component>
</Observation>"#;

fn ingest_url(app: &TestApp, path: &str) -> String {
    format!("{}/ingest/{PROVIDER}/stu3{path}", app.address)
}

async fn send_xml(app: &TestApp, method: reqwest::Method, path: &str, body: &str) -> reqwest::Response {
    app.client
        .request(method, ingest_url(app, path))
        .bearer_auth(&app.ingest_key)
        .header("Content-Type", "application/fhir+xml")
        .body(body.to_owned())
        .send()
        .await
        .expect("sent")
}

async fn stored(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(ingest_url(app, path)).bearer_auth(&app.ingest_key).send().await.expect("sent")
}

on_both_backends!(xml_resources_are_stored_as_the_json_they_stand_for, |database| {
    let app = TestApp::start(database).await;
    let created = send_xml(&app, reqwest::Method::PUT, "/Observation/xml-bp-1", OBSERVATION).await;
    assert_eq!(created.status(), 201);
    assert_eq!(
        created.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/fhir+xml; charset=utf-8")
    );
    let echoed = from_xml(Release::Stu3, &created.bytes().await.expect("body"), ReadLimits::default()).expect("XML");
    let json: Value = stored(&app, "/Observation/xml-bp-1").await.json().await.expect("JSON");
    assert_eq!(echoed, json, "the XML answer is the stored resource");
    assert_eq!(json["component"][0]["valueQuantity"]["value"].to_string(), "120.50", "decimals keep their text");
    assert_eq!(
        json["_status"],
        json!({"extension": [{"url": "http://example.org/ext/source", "valueString": "ward 3"}]})
    );
    assert_eq!(json["meta"]["versionId"], "1");
    // The same content sent as JSON is no new version.
    let mut as_json = json.clone();
    as_json["meta"].as_object_mut().expect("meta").retain(|name, _| name == "profile");
    let again = app
        .client
        .put(ingest_url(&app, "/Observation/xml-bp-1"))
        .bearer_auth(&app.ingest_key)
        .header("Content-Type", "application/fhir+json")
        .body(as_json.to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers().get("etag").and_then(|v| v.to_str().ok()), Some("W/\"1\""));
    // And the PGO sees it.
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let bundle =
        app.get_json(&format!("{}/Observation?code=http://loinc.org|85354-9", app.base(PROVIDER, "48")), &token).await;
    assert!(bundle["entry"].as_array().expect("entries").iter().any(|entry| entry["resource"]["id"] == "xml-bp-1"));
});

on_both_backends!(xml_transaction_bundles_are_answered_in_xml, |database| {
    let app = TestApp::start(database).await;
    let observation = OBSERVATION.split_once("-->").expect("comment").1.replace(r#" xmlns="http://hl7.org/fhir""#, "");
    let bundle = format!(
        r#"<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/><entry><fullUrl value="urn:uuid:1"/><resource>{observation}</resource><request><method value="PUT"/><url value="Observation/xml-bp-1"/></request></entry></Bundle>"#
    );
    let response = send_xml(&app, reqwest::Method::POST, "", &bundle).await;
    assert_eq!(response.status(), 200);
    let answer = from_xml(Release::Stu3, &response.bytes().await.expect("body"), ReadLimits::default()).expect("XML");
    assert_eq!(answer["type"], "transaction-response");
    assert_eq!(answer["entry"][0]["response"]["status"], "201 Created");
    assert_eq!(stored(&app, "/Observation/xml-bp-1").await.status(), 200);
});

on_both_backends!(broken_and_hostile_xml_is_refused_in_xml_and_nothing_is_stored, |database| {
    let app = TestApp::start_with(database, &[("PGO_EXCHANGE__SERVER__MAX_BODY_BYTES", "4096")]).await;
    let cases: Vec<(String, u16, &str)> = vec![
        (OBSERVATION.replace("</component>", ""), 400, "malformed XML"),
        (OBSERVATION.replace(r#" xmlns="http://hl7.org/fhir""#, ""), 400, "not in the FHIR namespace"),
        (
            OBSERVATION.replace("<effectiveDateTime", "<effectiveMoment value=\"x\"/><effectiveDateTime"),
            400,
            "'effectiveMoment' is not an element here",
        ),
        (
            OBSERVATION
                .replace(
                    "<!-- exported by a provider system -->",
                    r#"<!DOCTYPE Observation [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>"#,
                )
                .replace("ward 3", "&xxe;"),
            400,
            "document type declarations",
        ),
        (
            OBSERVATION.replace("<!-- exported by a provider system -->", &format!("<!-- {} -->", "x".repeat(5000))),
            413,
            "larger than 4096 bytes",
        ),
    ];
    for (body, status, message) in cases {
        let response = send_xml(&app, reqwest::Method::PUT, "/Observation/xml-bp-1", &body).await;
        assert_eq!(response.status(), status, "{message}");
        let outcome = from_xml(Release::R4, &response.bytes().await.expect("body"), ReadLimits::default())
            .expect("an XML OperationOutcome");
        let text = outcome["issue"][0]["diagnostics"].as_str().unwrap_or_default().to_owned();
        assert!(text.contains(message), "expected '{message}' in: {text}");
        assert!(!text.contains("root:"), "{text}");
    }
    assert_eq!(stored(&app, "/Observation/xml-bp-1").await.status(), 404, "nothing was stored");
});

on_both_backends!(an_element_out_of_its_order_is_stored_with_a_warning_saying_where, |database| {
    let app = TestApp::start(database).await;
    // `category` written after `code`, as exports (the published Nictiz examples among them) do.
    let category = OBSERVATION.split("<category>").nth(1).and_then(|rest| rest.split("</category>").next());
    let category = format!("<category>{}</category>", category.expect("a category"));
    let misordered = OBSERVATION.replace(&category, "").replace("<subject>", &format!("{category}<subject>"));
    let created = app
        .client
        .put(ingest_url(&app, "/Observation/xml-bp-1"))
        .bearer_auth(&app.ingest_key)
        .header("Content-Type", "application/fhir+xml")
        .header("Prefer", "return=OperationOutcome")
        .body(misordered)
        .send()
        .await
        .expect("sent");
    assert_eq!(created.status(), 201);
    let outcome = created.text().await.expect("body");
    assert!(outcome.contains("must come before") && outcome.contains("warning"), "{outcome}");
    let json: Value = stored(&app, "/Observation/xml-bp-1").await.json().await.expect("JSON");
    assert_eq!(json["category"][0]["coding"][0]["code"], "vital-signs");
});
