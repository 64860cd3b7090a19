//! No BSN in any byte a PGO receives, the person's own Patient included: a BSN identifier keeps
//! its system with its value masked (JSON `_value`, XML `<value><extension>`), narratives show
//! none, a conditional reference by BSN is served as the Patient it named. What the provider
//! stored stays as sent. (Every PGO answer of every e2e test is also scanned, in `TestApp::get`.)

use e2e::{ANNA, BRAM, PROVIDER, TestApp};
use serde_json::{Value, json};
use test_support::on_both_backends;

const BSN_SYSTEM: &str = "http://fhir.nl/fhir/NamingSystem/bsn";
const DATA_ABSENT_REASON: &str = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";

async fn put(app: &TestApp, path: &str, resource: &Value) -> u16 {
    app.client
        .put(format!("{}/ingest/{PROVIDER}/stu3/{path}", app.address))
        .bearer_auth(&app.ingest_key)
        .header("Content-Type", "application/fhir+json")
        .body(resource.to_string())
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

on_both_backends!(the_persons_own_patient_reaches_them_with_its_bsn_masked, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let bundle = app.get_json(&format!("{base}/Patient"), &token).await;
    let identifier = &bundle["entry"][0]["resource"]["identifier"][0];
    assert_eq!(identifier["system"], BSN_SYSTEM);
    assert!(identifier.get("value").is_none(), "{identifier}");
    assert_eq!(identifier["_value"]["extension"][0], json!({"url": DATA_ABSENT_REASON, "valueCode": "masked"}));
    let read = app.get_json(&format!("{base}/Patient/demo-patient-anna"), &token).await;
    assert_eq!(&read["identifier"][0], identifier);
    let xml =
        app.get(&format!("{base}/Patient/demo-patient-anna?_format=xml"), &token).await.text().await.expect("xml");
    assert!(
        xml.contains(&format!(
            r#"<system value="{BSN_SYSTEM}"/><value><extension url="{DATA_ABSENT_REASON}"><valueCode value="masked"/></extension></value>"#
        )),
        "{xml}"
    );
    // The provider reads back what it sent.
    let stored: Value = app
        .client
        .get(format!("{}/ingest/{PROVIDER}/stu3/Patient/demo-patient-anna", app.address))
        .bearer_auth(&app.ingest_key)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(stored["identifier"][0]["value"], ANNA);
});

on_both_backends!(narratives_and_conditional_references_show_no_bsn, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let mut patient =
        app.get_json(&format!("{base}/Patient"), &app.token(PROVIDER, BRAM, &["48"])).await["entry"][0]["resource"]
            .clone();
    // Bram's Patient again, as a provider's export writes it: the BSN in the narrative too.
    patient["identifier"] = json!([{"system": BSN_SYSTEM, "value": BRAM}]);
    patient["text"] = json!({"status": "generated",
        "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">Bram Jansen, BSN {BRAM} (ook: 9999.46.109)</div>")});
    patient.as_object_mut().expect("object").remove("meta");
    patient["meta"] = json!({"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]});
    assert_eq!(put(&app, "Patient/demo-patient-bram", &patient).await, 200);
    let observation = json!({"resourceType": "Observation", "id": "bp-conditional",
        "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-BloodPressure"]}, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "subject": {"reference": format!("Patient?identifier={BSN_SYSTEM}%7C{BRAM}"), "display": "Bram Jansen"},
        "text": {"status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">Bloeddruk van {BRAM}</div>")}});
    assert_eq!(put(&app, "Observation/bp-conditional", &observation).await, 201);
    let token = app.token(PROVIDER, BRAM, &["48"]);
    // `get_json` scans every answer: neither Bram's BSN nor a BSN identifier's value is there.
    let served = app.get_json(&format!("{base}/Patient/demo-patient-bram"), &token).await;
    assert!(
        served["text"]["div"].as_str().is_some_and(|div| div.contains("BSN ********* (ook: ****.**.***)")),
        "{served}"
    );
    let served = app.get_json(&format!("{base}/Observation/bp-conditional"), &token).await;
    assert_eq!(served["subject"]["reference"], "Patient/demo-patient-bram");
    for format in ["json", "xml"] {
        app.get(&format!("{base}/Observation?code=http://loinc.org|85354-9&_format={format}"), &token).await;
        app.get(&format!("{base}/Patient?_include=Patient:general-practitioner&_format={format}"), &token).await;
    }
});

on_both_backends!(resources_stored_before_masking_are_masked_at_the_next_start, |database| {
    let app = TestApp::start(database).await;
    // As the data of a deployment from before served bodies: a Patient with its body only, and
    // the work the migration left.
    let provider = app.context.store.provider(PROVIDER).await.expect("store").expect("provider");
    let patient = json!({"resourceType": "Patient", "id": "old-patient",
        "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]},
        "identifier": [{"system": BSN_SYSTEM, "value": "999911120"}]});
    let mut write =
        app.context.ingestor.prepare_by_id(&provider, fhir_core::Release::Stu3, patient, None).expect("valid").write;
    write.served = None;
    app.context.store.write(provider.id, vec![store::Write::Put(Box::new(write))]).await.expect("stored");
    {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut connection =
            sqlx::AnyConnection::connect(&app.context.settings.database_url()).await.expect("connects");
        sqlx::query("INSERT INTO pending_work (name) VALUES ('served-bodies')")
            .execute(&mut connection)
            .await
            .expect("marked");
    }
    assert_eq!(ingest::served::backfill(&app.context.store).await.expect("masked"), 1);
    assert_eq!(ingest::served::backfill(&app.context.store).await.expect("once"), 0);
    let token = app.token(PROVIDER, "999911120", &["48"]);
    let read = app.get_json(&format!("{}/Patient/old-patient", app.base(PROVIDER, "48")), &token).await;
    assert!(read["identifier"][0].get("value").is_none(), "{read}");
});
