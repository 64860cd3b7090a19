//! Data service 51 (PDF/A documents) collected over HTTP: a person's DocumentReferences and
//! DocumentManifests by search, their Binaries by read, as FHIR or as the document itself, and
//! never another person's.

use base64::Engine;
use e2e::{ANNA, BRAM, TestApp, entry_ids};
use serde_json::{Value, json};
use store::NewProvider;
use test_support::on_both_backends;

const PROVIDER: &str = "documentenziekenhuis";
const KEY: &str = "the-document-hospitals-ingest-key";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const REFERENCE_PROFILE: &str = "http://nictiz.nl/fhir/StructureDefinition/IHE.MHD.Minimal.DocumentReference";
const MANIFEST_PROFILE: &str = "http://nictiz.nl/fhir/StructureDefinition/IHE.MHD.DocumentManifest";

fn patient(id: &str, bsn: &str) -> Value {
    json!({"resourceType": "Patient", "id": id,
        "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]},
        "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": bsn}]})
}

fn binary(id: &str) -> Value {
    json!({"resourceType": "Binary", "id": id, "contentType": "application/pdf",
        "content": base64::engine::general_purpose::STANDARD.encode(PDF)})
}

fn reference(id: &str, patient: &str, binary: &str, indexed: &str) -> Value {
    json!({"resourceType": "DocumentReference", "id": id, "meta": {"profile": [REFERENCE_PROFILE]},
        "status": "current", "type": {"coding": [{"system": "http://snomed.info/sct", "code": "11071000146104"}]},
        "subject": {"reference": format!("Patient/{patient}")}, "indexed": indexed,
        "content": [{"attachment": {"contentType": "application/pdf", "url": format!("Binary/{binary}")}}]})
}

fn manifest(id: &str, patient: &str, references: &[&str]) -> Value {
    let content: Vec<Value> =
        references.iter().map(|id| json!({"pReference": {"reference": format!("DocumentReference/{id}")}})).collect();
    json!({"resourceType": "DocumentManifest", "id": id, "meta": {"profile": [MANIFEST_PROFILE]},
        "status": "current", "subject": {"reference": format!("Patient/{patient}")}, "created": "2026-03-10",
        "content": content})
}

/// Stores `resource` through the provider's ingest endpoint.
async fn put(app: &TestApp, resource: &Value) {
    let url = format!(
        "{}/ingest/{PROVIDER}/stu3/{}/{}",
        app.address,
        resource["resourceType"].as_str().expect("type"),
        resource["id"].as_str().expect("id")
    );
    let response = app
        .client
        .put(url)
        .bearer_auth(KEY)
        .header("Content-Type", "application/fhir+json")
        .body(resource.to_string())
        .send()
        .await
        .expect("sent");
    let status = response.status();
    assert!(status.is_success(), "{status}: {}", response.text().await.unwrap_or_default());
}

/// A provider offering 51 holding two documents of Anna's (one manifest lists both) and one of
/// Bram's.
async fn with_documents(app: &TestApp) {
    let new = NewProvider {
        name: PROVIDER.into(),
        display_name: "Documentenziekenhuis".into(),
        data_services: vec!["51".into()],
    };
    app.context.store.create_provider(&new, Some(&store::ingest_key_hash(KEY))).await.expect("provider");
    for resource in [
        patient("anna", ANNA),
        patient("bram", BRAM),
        binary("letter"),
        binary("summary"),
        binary("brams-letter"),
        reference("letter-ref", "anna", "letter", "2026-03-01T10:00:00Z"),
        reference("summary-ref", "anna", "summary", "2026-03-09T10:00:00Z"),
        reference("brams-ref", "bram", "brams-letter", "2026-03-05T10:00:00Z"),
        manifest("annas-manifest", "anna", &["letter-ref", "summary-ref"]),
    ] {
        put(app, &resource).await;
    }
}

on_both_backends!(a_person_finds_their_documents_and_reads_them_as_pdf, |database| {
    let app = TestApp::start(database).await;
    with_documents(&app).await;
    let base = app.base(PROVIDER, "51");
    let anna = app.token(PROVIDER, ANNA, &["51"]);

    let references = app.get_json(&format!("{base}/DocumentReference?status=current"), &anna).await;
    assert_eq!(entry_ids(&references), ["DocumentReference/letter-ref", "DocumentReference/summary-ref"]);
    let march = app
        .get_json(&format!("{base}/DocumentReference?status=current&indexed=ge2026-03-08&indexed=le2026-03-31"), &anna)
        .await;
    assert_eq!(entry_ids(&march), ["DocumentReference/summary-ref"]);
    let manifests = app.get_json(&format!("{base}/DocumentManifest?status=current&created=2026-03-10"), &anna).await;
    assert_eq!(entry_ids(&manifests), ["DocumentManifest/annas-manifest"]);

    // The Binary as FHIR (JSON, XML) and as the document itself.
    let fhir = app.get_json(&format!("{base}/Binary/letter"), &anna).await;
    assert_eq!(
        (fhir["resourceType"].as_str(), fhir["contentType"].as_str()),
        (Some("Binary"), Some("application/pdf"))
    );
    let xml =
        app.client.get(format!("{base}/Binary/letter?_format=xml")).bearer_auth(&anna).send().await.expect("sent");
    assert_eq!(xml.status(), 200);
    assert!(xml.text().await.expect("text").contains("<Binary xmlns=\"http://hl7.org/fhir\">"));
    let document = app
        .client
        .get(format!("{base}/Binary/letter"))
        .bearer_auth(&anna)
        .header("Accept", "application/pdf")
        .send()
        .await
        .expect("sent");
    assert_eq!(document.status(), 200);
    assert_eq!(document.headers()["content-type"], "application/pdf");
    assert_eq!(document.headers()["content-disposition"], "attachment");
    assert_eq!(document.bytes().await.expect("the document").as_ref(), PDF);
    let image =
        app.client.get(format!("{base}/Binary/letter")).bearer_auth(&anna).header("Accept", "image/png").send().await;
    let image = image.expect("sent");
    assert_eq!(image.status(), 406);
    let outcome: Value = image.json().await.expect("an OperationOutcome");
    assert_eq!(outcome["resourceType"], "OperationOutcome");
});

on_both_backends!(a_binary_is_read_only_through_the_persons_own_documents, |database| {
    let app = TestApp::start(database).await;
    with_documents(&app).await;
    let base = app.base(PROVIDER, "51");
    let anna = app.token(PROVIDER, ANNA, &["51"]);
    let bram = app.token(PROVIDER, BRAM, &["51"]);
    // Bram's letter is his: 404 to Anna, in either form, and 200 to him.
    for accept in ["application/fhir+json", "application/pdf"] {
        let response = app
            .client
            .get(format!("{base}/Binary/brams-letter"))
            .bearer_auth(&anna)
            .header("Accept", accept)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 404, "{accept}");
    }
    assert_eq!(app.get(&format!("{base}/Binary/brams-letter"), &bram).await.status(), 200);
    assert_eq!(app.get(&format!("{base}/Binary/letter"), &bram).await.status(), 404);
    let theirs = app.get_json(&format!("{base}/DocumentReference"), &bram).await;
    assert_eq!(entry_ids(&theirs), ["DocumentReference/brams-ref"]);
    // Binaries are read, never searched: not even a person's own are listed.
    assert_eq!(app.get(&format!("{base}/Binary"), &anna).await.status(), 400);
    // A token for another data service of the provider reaches none of it.
    let other = app.token(PROVIDER, ANNA, &["48"]);
    assert!(app.get(&format!("{base}/Binary/letter"), &other).await.status().is_client_error());
});
