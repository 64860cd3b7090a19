//! Delen over HTTP: a PGO shares measurements (data service 52, a batch) and documents (51, a
//! transaction) for the person of its token; the provider's feed shows them and takes their
//! acknowledgement; the person's next collection returns them and nobody else's does; the share is
//! metered and logged as what it was; and every kind of bad input is refused with an
//! OperationOutcome, nothing half-stored.
//!
//! The measurements are the vital-signs fixtures' people (Lotte and Kees, whose records are in
//! `tests/e2e/fixtures/vitalsigns/`); the shared Bundles are written here, in the form the Nictiz
//! qualification of receiving systems sends (a Patient entry with an `urn:oid:` fullUrl and no
//! BSN, referred to as subject and performer).

use base64::Engine;
use e2e::TestApp;
use fhir_core::Release;
use ingest::LoadOptions;
use serde_json::{Value, json};
use std::path::PathBuf;
use store::{Interaction, NewProvider};
use test_support::on_both_backends;

const PROVIDER: &str = "vitaal";
const KEY: &str = "vitaals-ingest-key";
const LOTTE_BSN: &str = "999955019";
const KEES_BSN: &str = "999955032";
const PGO: &str = "pgo.example.nl";
const PATIENT_OID: &str = "urn:oid:2.16.840.1.113883.2.4.3.11.999.9999.1";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn vitaal(app: &TestApp, services: &[&str]) {
    let new = NewProvider {
        name: PROVIDER.into(),
        display_name: "Vitaal".into(),
        data_services: services.iter().map(|service| (*service).to_owned()).collect(),
    };
    let key_hash = store::ingest_key_hash(KEY);
    let provider = app.context.store.create_provider(&new, Some(&key_hash)).await.expect("provider");
    let files = ingest::collect_files(&[PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/vitalsigns")])
        .expect("fixtures");
    let options = LoadOptions { release: Some(Release::Stu3), batch_size: 50 };
    let summary =
        app.context.ingestor.load(&app.context.store, &provider, &files, options, |_| {}).await.expect("loads");
    assert!(summary.rejected.is_empty(), "{summary:#?}");
}

/// The Patient entry as the qualification sends it: its own local id, no BSN.
fn patient_entry() -> Value {
    json!({"fullUrl": PATIENT_OID,
        "resource": {"resourceType": "Patient", "id": "self",
            "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]},
            "identifier": [{"system": "http://example.org/pgo/patient-id", "value": "p-1"}]},
        "request": {"method": "POST", "url": "Patient"}})
}

/// Numbers the entries' `urn:uuid:` fullUrls.
static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A self-measured observation of `profile` with `code`, on `date`.
fn measurement(profile: &str, (code, display): (&str, &str), date: &str, quantity: Value) -> Value {
    let serial = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    json!({"fullUrl": format!("urn:uuid:5ba1c0de-0000-4000-8000-{serial:012}"),
        "resource": {"resourceType": "Observation",
            "meta": {"profile": [format!("http://nictiz.nl/fhir/StructureDefinition/{profile}")]},
            "status": "final",
            "category": [{"coding": [{"system": "http://hl7.org/fhir/observation-category", "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
            "subject": {"reference": PATIENT_OID}, "effectiveDateTime": date,
            "performer": [{"reference": PATIENT_OID}], "valueQuantity": quantity},
        "request": {"method": "POST", "url": "Observation"}})
}

fn weight(date: &str, kg: f64) -> Value {
    measurement(
        "zib-BodyWeight",
        ("29463-7", "Body weight"),
        date,
        json!({"value": kg, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}),
    )
}

fn heart_rate(date: &str, per_minute: u32) -> Value {
    measurement(
        "zib-HeartRate",
        ("8867-4", "Heart rate"),
        date,
        json!({"value": per_minute, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}),
    )
}

fn bundle(kind: &str, entries: Vec<Value>) -> Value {
    json!({"resourceType": "Bundle", "type": kind, "entry": entries})
}

/// `POST [base]` of `body` (JSON) with `token` and the headers given.
async fn share(app: &TestApp, service: &str, token: &str, body: &Value, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.base(PROVIDER, service))
        .bearer_auth(token)
        .header("Content-Type", "application/fhir+json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("sent")
}

/// The answer's status and body, checked for BSNs.
async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("body");
    e2e::assert_no_bsn("a share's answer", &body);
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn statuses(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| entry["response"]["status"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `GET url` asking for the document a Binary holds.
async fn document(app: &TestApp, url: &str, token: &str) -> reqwest::Response {
    app.client.get(url).bearer_auth(token).header("Accept", "application/pdf").send().await.expect("sent")
}

async fn feed(app: &TestApp, query: &str) -> Value {
    let url = format!("{}/ingest/{PROVIDER}/stu3/shared{query}", app.address);
    let response = app.client.get(url).bearer_auth(KEY).send().await.expect("sent");
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

fn provenance<'a>(entry: &'a Value, name: &str) -> Option<&'a Value> {
    entry["extension"][0]["extension"]
        .as_array()?
        .iter()
        .find(|part| part["url"] == name)
        .map(|part| part.get("valueString").or_else(|| part.get("valueInstant")).unwrap_or(&Value::Null))
}

on_both_backends!(a_pgo_shares_measurements_and_the_provider_and_the_person_see_them, |database| {
    let app = TestApp::start(database).await;
    vitaal(&app, &["48", "52"]).await;
    let lotte = app.token(PROVIDER, LOTTE_BSN, &["52"]);
    let kees = app.token(PROVIDER, KEES_BSN, &["52"]);
    // The PGO names the person by BSN in one measurement too: stored as sent, never answered.
    let mut by_bsn = weight("2026-11-30", 71.2);
    by_bsn["resource"]["subject"] = json!({"reference": PATIENT_OID,
        "identifier": {"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": LOTTE_BSN}});
    let shared =
        bundle("batch", vec![patient_entry(), by_bsn, weight("2026-12-01", 71.0), heart_rate("2026-12-01", 64)]);
    let request_id = "5ba1c0de-0000-4000-8000-000000000001";
    let response = share(&app, "52", &lotte, &shared, &[("MedMij-Request-ID", request_id)]).await;
    let (status, answered) = answer(response).await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(answered["type"], "batch-response");
    assert_eq!(statuses(&answered), ["200 OK", "201 Created", "201 Created", "201 Created"]);
    assert_eq!(answered["entry"][0]["response"]["location"], "Patient/vs-lotte", "the token's person");
    assert!(answered["entry"][0].get("resource").is_none(), "the person's Patient is never answered");
    let stored = &answered["entry"][1]["resource"];
    assert_eq!(stored["subject"]["reference"], "Patient/vs-lotte", "the fullUrl rewritten to the person");
    assert_eq!(stored["performer"][0]["reference"], "Patient/vs-lotte");
    let new_ids: Vec<String> = answered["entry"].as_array().unwrap()[1..]
        .iter()
        .map(|entry| format!("Observation/{}", entry["resource"]["id"].as_str().expect("a new id")))
        .collect();

    // The provider's feed: the three items of one share, with their provenance.
    let items = feed(&app, "").await;
    let entries = items["entry"].as_array().expect("entries");
    assert_eq!(entries.len(), 3, "{items}");
    let shares: Vec<&Value> = entries.iter().filter_map(|entry| provenance(entry, "share")).collect();
    assert!(shares.windows(2).all(|pair| pair[0] == pair[1]), "sent together");
    for entry in entries {
        assert_eq!(provenance(entry, "client"), Some(&json!(PGO)));
        assert_eq!(provenance(entry, "dataService"), Some(&json!("52")));
        assert_eq!(provenance(entry, "requestId"), Some(&json!(request_id)));
        assert!(provenance(entry, "acknowledgedAt").is_none());
    }
    // Paged: one at a time, each page linking to the next.
    let first = feed(&app, "?_count=1").await;
    let next = first["link"].as_array().unwrap().iter().find(|link| link["relation"] == "next").expect("next");
    let after = next["url"].as_str().unwrap().split("after=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let second = feed(&app, &format!("?after={after}&_count=1")).await;
    assert_ne!(first["entry"][0]["fullUrl"], second["entry"][0]["fullUrl"]);
    // Acknowledged: no longer pending, and never twice.
    let seqs: Vec<Value> =
        entries.iter().map(|entry| json!({"name": "item", "valueString": provenance(entry, "seq").unwrap()})).collect();
    let parameters = json!({"resourceType": "Parameters", "parameter": seqs});
    let acknowledge = |body: Value| {
        app.client
            .post(format!("{}/ingest/{PROVIDER}/stu3/shared/$acknowledge", app.address))
            .bearer_auth(KEY)
            .header("Content-Type", "application/fhir+json")
            .body(body.to_string())
            .send()
    };
    let done: Value = acknowledge(parameters.clone()).await.expect("sent").json().await.expect("json");
    assert_eq!(done["parameter"][0]["valueInteger"], 3);
    let again: Value = acknowledge(parameters).await.expect("sent").json().await.expect("json");
    assert_eq!(again["parameter"][0]["valueInteger"], 0);
    assert_eq!(feed(&app, "?pending=true").await["entry"].as_array().map(Vec::len).unwrap_or(0), 0);
    assert!(provenance(&feed(&app, "").await["entry"][0], "acknowledgedAt").is_some());
    // In XML too, the provenance an extension of the entry.
    let xml = app
        .client
        .get(format!("{}/ingest/{PROVIDER}/stu3/shared?_format=xml", app.address))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("sent");
    assert_eq!(xml.status(), 200);
    let xml = xml.text().await.expect("text");
    assert!(xml.contains("StructureDefinition/shared-item\"><extension url=\"seq\">"), "{xml}");
    // The feed is the provider's: without its key, nothing.
    let anonymous = app.client.get(format!("{}/ingest/{PROVIDER}/stu3/shared", app.address)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    // The person's next collection returns them; another person's never does.
    let weights =
        app.get_json(&format!("{}/Observation?code=http://loinc.org|29463-7", app.base(PROVIDER, "52")), &lotte).await;
    let found = e2e::entry_ids(&weights);
    assert!(new_ids[..2].iter().all(|id| found.contains(id)), "{found:?}");
    let keess = app.get_json(&format!("{}/Observation", app.base(PROVIDER, "52")), &kees).await;
    assert!(!e2e::entry_ids(&keess).iter().any(|id| new_ids.contains(id)));
    for id in &new_ids {
        assert_eq!(app.get(&format!("{}/{id}", app.base(PROVIDER, "52")), &kees).await.status(), 404);
    }

    // Metered once for the person through that PGO, as a share; logged as a batch.
    let (start, end) = (fhir_core::date::now_millis() - 3_600_000, fhir_core::date::now_millis() + 60_000);
    let year = i64::from(metering::period::year_of(fhir_core::date::now_millis(), chrono_tz::Europe::Amsterdam));
    let firsts = app.context.store.usage().first_exchanges(year, start, end, Some(PGO)).await.unwrap();
    let lottes: Vec<_> =
        firsts.iter().filter(|first| first.pseudonym == app.context.secret.pseudonym(LOTTE_BSN)).collect();
    assert_eq!(lottes.len(), 1, "{firsts:#?}");
    assert_eq!((lottes[0].kind.as_str(), lottes[0].request_id.as_str()), ("share", request_id));
    let log = app.access_log(1).await;
    let logged = log.iter().find(|entry| entry.request_id == request_id).expect("logged");
    assert_eq!((logged.interaction, logged.resource_type.as_str(), logged.status), (Interaction::Batch, "Bundle", 200));
    assert_eq!(logged.returned.len(), 3);
});

on_both_backends!(a_batch_takes_each_entry_on_its_own_and_refuses_what_is_not_the_persons, |database| {
    let app = TestApp::start_with(database, &[("PGO_EXCHANGE__SERVER__MAX_SHARED_BODY_BYTES", "4096")]).await;
    vitaal(&app, &["48", "52"]).await;
    let lotte = app.token(PROVIDER, LOTTE_BSN, &["52"]);
    // A wrong profile and an update: refused one by one, the rest stored.
    let mut wrong_profile = weight("2026-12-02", 70.9);
    wrong_profile["resource"]["meta"]["profile"] = json!(["http://nictiz.nl/fhir/StructureDefinition/zib-Wound"]);
    let update = json!({"resource": {"resourceType": "Observation", "id": "vs-lotte-weight-2026-03"},
        "request": {"method": "PUT", "url": "Observation/vs-lotte-weight-2026-03"}});
    // And a malformed one: not FHIR (a status that is not a code).
    let mut malformed = weight("2026-12-02", 70.9);
    malformed["resource"]["status"] = json!(12);
    let mixed = bundle("batch", vec![patient_entry(), wrong_profile, weight("2026-12-02", 70.9), update, malformed]);
    let (status, answered) =
        answer(share(&app, "52", &lotte, &mixed, &[("Prefer", "return=OperationOutcome")]).await).await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(
        statuses(&answered),
        ["200 OK", "422 Unprocessable Entity", "201 Created", "400 Bad Request", "400 Bad Request"]
    );
    let malformed_at = answered["entry"][4]["response"]["outcome"]["issue"][0]["expression"][0].as_str();
    assert_eq!(malformed_at, Some("Bundle.entry[4].resource.status"), "{answered}");
    assert_eq!(
        answered["entry"][1]["response"]["outcome"]["issue"][0]["expression"][0],
        "Bundle.entry[1].resource.meta.profile"
    );
    assert!(
        answered["entry"][2]["response"]["outcome"]["issue"][0]["diagnostics"].as_str().unwrap().contains("stored")
    );
    assert!(answered["entry"][2].get("resource").is_none(), "return=OperationOutcome");
    let unchanged =
        app.get_json(&format!("{}/Observation/vs-lotte-weight-2026-03", app.base(PROVIDER, "52")), &lotte).await;
    assert_eq!(unchanged["meta"]["versionId"], "1", "a PGO never overwrites the provider's record");

    // Another person's BSN on the Patient: nothing of the Bundle is taken.
    let before = feed(&app, "").await["entry"].as_array().map(Vec::len).unwrap_or(0);
    let mut keess_patient = patient_entry();
    keess_patient["resource"]["identifier"] =
        json!([{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": KEES_BSN}]);
    let (status, outcome) =
        answer(share(&app, "52", &lotte, &bundle("batch", vec![keess_patient, weight("2026-12-03", 70.5)]), &[]).await)
            .await;
    assert_eq!(status, 422, "{outcome}");
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    // A measurement naming another Patient of the provider: refused, the rest stored.
    let mut keess = weight("2026-12-03", 70.5);
    keess["resource"]["subject"]["reference"] = json!("Patient/vs-kees");
    let (status, answered) =
        answer(share(&app, "52", &lotte, &bundle("batch", vec![patient_entry(), keess]), &[]).await).await;
    assert_eq!((status, statuses(&answered)), (200, vec!["200 OK".to_owned(), "422 Unprocessable Entity".to_owned()]));
    let after = feed(&app, "").await["entry"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(after, before, "nothing of either Bundle was stored");

    // Refusals of the whole request, each an OperationOutcome.
    let two_scopes = app.token(PROVIDER, LOTTE_BSN, &["48", "52"]);
    let one = bundle("batch", vec![patient_entry(), weight("2026-12-04", 70.4)]);
    let twice = weight("2026-12-04", 70.4);
    let ambiguous = bundle("batch", vec![patient_entry(), twice.clone(), twice]);
    let refusals = [
        ("a token for two data services", share(&app, "52", &two_scopes, &one, &[]).await, 403),
        ("two entries of one fullUrl", share(&app, "52", &lotte, &ambiguous, &[]).await, 400),
        (
            "a token for another data service",
            share(&app, "52", &app.token(PROVIDER, LOTTE_BSN, &["48"]), &one, &[]).await,
            403,
        ),
        (
            "a data service that receives nothing",
            share(&app, "48", &app.token(PROVIDER, LOTTE_BSN, &["48"]), &one, &[]).await,
            400,
        ),
        (
            "a transaction where a batch is taken",
            share(&app, "52", &lotte, &bundle("transaction", vec![patient_entry()]), &[]).await,
            400,
        ),
        ("not a Bundle", share(&app, "52", &lotte, &json!({"resourceType": "Observation"}), &[]).await, 400),
        ("no token", app.client.post(app.base(PROVIDER, "52")).body(one.to_string()).send().await.unwrap(), 401),
        (
            "a body over the limit",
            share(&app, "52", &lotte, &bundle("batch", (0..40).map(|_| weight("2026-12-04", 70.4)).collect()), &[])
                .await,
            413,
        ),
    ];
    for (what, response, expected) in refusals {
        let (status, outcome) = answer(response).await;
        let shown: String = outcome.to_string().chars().take(400).collect();
        assert_eq!(status, expected, "{what}: {shown}");
        assert_eq!(outcome["resourceType"], "OperationOutcome", "{what}");
    }
    let total = feed(&app, "").await["entry"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!((after, total), (1, 1), "only the first batch's good entry was ever stored");
});

fn binary_entry(full_url: &str) -> Value {
    json!({"fullUrl": full_url,
        "resource": {"resourceType": "Binary", "contentType": "application/pdf",
            "content": base64::engine::general_purpose::STANDARD.encode(PDF)},
        "request": {"method": "POST", "url": "Binary"}})
}

fn reference_entry(full_url: &str, binary: &str) -> Value {
    json!({"fullUrl": full_url,
        "resource": {"resourceType": "DocumentReference",
            "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/IHE.MHD.Minimal.DocumentReference"]},
            "status": "current", "type": {"coding": [{"system": "http://snomed.info/sct", "code": "11071000146104"}]},
            "subject": {"reference": PATIENT_OID}, "indexed": "2026-12-01T10:00:00+01:00",
            "content": [{"attachment": {"contentType": "application/pdf", "url": binary}}]},
        "request": {"method": "POST", "url": "DocumentReference"}})
}

fn manifest_entry(references: &[&str]) -> Value {
    let content: Vec<Value> = references.iter().map(|url| json!({"pReference": {"reference": url}})).collect();
    json!({"fullUrl": "urn:uuid:9f0e0000-0000-4000-8000-00000000000a",
        "resource": {"resourceType": "DocumentManifest",
            "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/IHE.MHD.DocumentManifest"]},
            "status": "current", "subject": {"reference": PATIENT_OID}, "created": "2026-12-01", "content": content},
        "request": {"method": "POST", "url": "DocumentManifest"}})
}

fn documents() -> Value {
    let (b1, b2) = ("urn:uuid:9f0e0000-0000-4000-8000-0000000000b1", "urn:uuid:9f0e0000-0000-4000-8000-0000000000b2");
    let (r1, r2) = ("urn:uuid:9f0e0000-0000-4000-8000-0000000000c1", "urn:uuid:9f0e0000-0000-4000-8000-0000000000c2");
    bundle(
        "transaction",
        vec![
            patient_entry(),
            manifest_entry(&[r1, r2]),
            reference_entry(r1, b1),
            reference_entry(r2, b2),
            binary_entry(b1),
            binary_entry(b2),
        ],
    )
}

on_both_backends!(a_transaction_of_documents_is_stored_whole_or_not_at_all, |database| {
    let app = TestApp::start(database).await;
    vitaal(&app, &["48", "51", "52"]).await;
    let lotte = app.token(PROVIDER, LOTTE_BSN, &["51"]);
    let kees = app.token(PROVIDER, KEES_BSN, &["51"]);
    let base = app.base(PROVIDER, "51");

    // One bad entry: nothing of the transaction is stored.
    let mut broken = documents();
    broken["entry"][3]["resource"]["meta"]["profile"] = json!(["http://example.org/not-a-document"]);
    let (status, outcome) = answer(share(&app, "51", &lotte, &broken, &[]).await).await;
    assert_eq!(status, 422, "{outcome}");
    assert_eq!(outcome["issue"][0]["expression"][0], "Bundle.entry[3].resource.meta.profile");
    assert_eq!(app.get_json(&format!("{base}/DocumentReference?status=current"), &lotte).await["total"], 0);
    assert!(feed(&app, "").await["entry"].as_array().is_none_or(Vec::is_empty));

    // Whole: a manifest, two references, two Binaries; answered in XML as asked.
    let response = share(
        &app,
        "51",
        &lotte,
        &documents(),
        &[("Prefer", "return=representation"), ("Accept", "application/fhir+xml")],
    )
    .await;
    assert_eq!(response.status(), 200);
    let xml = response.text().await.expect("text");
    assert!(xml.contains("<type value=\"transaction-response\"/>"), "{xml}");
    assert_eq!(xml.matches("<status value=\"201 Created\"/>").count(), 5, "{xml}");
    let references = app.get_json(&format!("{base}/DocumentReference?status=current"), &lotte).await;
    assert_eq!(references["total"], 2);
    let manifests = app.get_json(&format!("{base}/DocumentManifest?status=current"), &lotte).await;
    assert_eq!(manifests["total"], 1);
    let manifest = &manifests["entry"][0]["resource"];
    let listed: Vec<&str> =
        manifest["content"].as_array().unwrap().iter().filter_map(|c| c["pReference"]["reference"].as_str()).collect();
    assert!(listed.iter().all(|reference| reference.starts_with("DocumentReference/")), "{listed:?}");
    // Each Binary, through the person's DocumentReference, as FHIR and as the PDF itself.
    for entry in references["entry"].as_array().unwrap() {
        let binary = entry["resource"]["content"][0]["attachment"]["url"].as_str().expect("url").to_owned();
        assert!(binary.starts_with("Binary/"), "{binary}");
        let fhir = app.get_json(&format!("{base}/{binary}"), &lotte).await;
        assert_eq!(fhir["contentType"], "application/pdf");
        let raw = document(&app, &format!("{base}/{binary}"), &lotte).await;
        assert_eq!(raw.status(), 200);
        assert_eq!(raw.headers()["content-type"], "application/pdf");
        assert_eq!(raw.bytes().await.unwrap().as_ref(), PDF);
        assert_eq!(app.get(&format!("{base}/{binary}"), &kees).await.status(), 404, "another person's document");
    }
    // The same documents sent in XML, as the qualification sends them: answered in XML.
    let xml = fhir_xml::to_xml(Release::Stu3, &documents(), fhir_xml::UnknownMembers::Refuse).expect("XML");
    let response = app
        .client
        .post(&base)
        .bearer_auth(&lotte)
        .header("Content-Type", "application/fhir+xml")
        .header("Prefer", "return=minimal")
        .body(xml)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/fhir+xml"));
    let answered = response.text().await.expect("text");
    assert_eq!(answered.matches("<status value=\"201 Created\"/>").count(), 5, "{answered}");
    assert!(!answered.contains("<resource>"), "return=minimal: {answered}");
    assert_eq!(app.get_json(&format!("{base}/DocumentReference?status=current"), &lotte).await["total"], 4);

    let log = app.access_log(3).await;
    assert!(log.iter().any(|entry| entry.interaction == Interaction::Transaction && entry.status == 200));
    assert!(log.iter().any(|entry| entry.interaction == Interaction::Transaction && entry.status == 422));
});

/// The published zib2017 examples, when the corpus is beside the project (else skipped, unless
/// `PGO_EXCHANGE_REQUIRE_CORPUS` is set).
fn published_examples() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/stu3-zib2017-package/examples");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(std::env::var_os("PGO_EXCHANGE_REQUIRE_CORPUS").is_none(), "the corpus is not at {}", dir.display());
    eprintln!("skipped: the published examples are not at {}", dir.display());
    None
}

on_both_backends!(the_published_document_examples_are_shared_as_one_transaction, |database| {
    let Some(dir) = published_examples() else { return };
    let app = TestApp::start(database).await;
    vitaal(&app, &["48", "51", "52"]).await;
    let lotte = app.token(PROVIDER, LOTTE_BSN, &["51"]);
    let read = |name: &str| {
        let xml = std::fs::read(dir.join(name)).expect("a published example");
        fhir_xml::from_xml_noting_order(Release::Stu3, &xml, fhir_xml::ReadLimits::default()).expect("FHIR XML").0
    };
    // The examples name their Patient `Patient/nl-core-patient-02`, each other by `Type/id`.
    let patient = json!({"fullUrl": "urn:uuid:0d1e0000-0000-4000-8000-0000000000aa",
        "resource": {"resourceType": "Patient", "id": "nl-core-patient-02"}, "request": {"method": "POST", "url": "Patient"}});
    let mut entries = vec![patient];
    for name in [
        "pdfa-DocumentManifest-01.xml",
        "pdfa-DocumentReference-01.xml",
        "pdfa-DocumentReference-02.xml",
        "pdfa-Binary-01.xml",
        "pdfa-Binary-02.xml",
    ] {
        let resource = read(name);
        let kind = resource["resourceType"].as_str().expect("type").to_owned();
        entries.push(
            json!({"fullUrl": format!("http://example.org/fhir/{kind}/{}", resource["id"].as_str().expect("id")),
            "resource": resource, "request": {"method": "POST", "url": kind}}),
        );
    }
    let (status, answered) = answer(share(&app, "51", &lotte, &bundle("transaction", entries), &[]).await).await;
    let shown: String = answered.to_string().chars().take(600).collect();
    assert_eq!(status, 200, "{shown}");
    assert_eq!(statuses(&answered)[1..], ["201 Created"; 5]);
    let base = app.base(PROVIDER, "51");
    // The published manifest is superseded; its references are current.
    let manifests = app.get_json(&format!("{base}/DocumentManifest?status=superseded"), &lotte).await;
    assert_eq!(manifests["total"], 1);
    let listed: Vec<String> = manifests["entry"][0]["resource"]["content"]
        .as_array()
        .expect("content")
        .iter()
        .filter_map(|content| content["pReference"]["reference"].as_str().map(str::to_owned))
        .collect();
    let references = app.get_json(&format!("{base}/DocumentReference?status=current"), &lotte).await;
    let found = e2e::entry_ids(&references);
    assert_eq!(found.len(), 2);
    assert!(
        listed.iter().all(|reference| found.contains(reference)),
        "the manifest lists the stored references: {listed:?}"
    );
    for entry in references["entry"].as_array().expect("entries") {
        let binary = entry["resource"]["content"][0]["attachment"]["url"].as_str().expect("url").to_owned();
        let raw = document(&app, &format!("{base}/{binary}"), &lotte).await;
        assert_eq!(raw.status(), 200, "{binary}");
        assert!(raw.bytes().await.unwrap().starts_with(b"%PDF"), "{binary} is a PDF");
    }
});

on_both_backends!(a_shared_entry_that_breaks_its_profile_is_refused_alone, |database| {
    let package = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/profiles/stu3").display().to_string();
    let app = TestApp::start_with(database, &[("PGO_EXCHANGE__VALIDATION__PACKAGES__STU3", &package)]).await;
    vitaal(&app, &["48", "52"]).await;
    let lotte = app.token(PROVIDER, LOTTE_BSN, &["52"]);
    // The stand-in zib-BodyWeight requires the weight itself.
    let mut without_value = weight("2026-12-04", 71.2);
    without_value["resource"].as_object_mut().expect("object").remove("valueQuantity");
    let batch = bundle("batch", vec![patient_entry(), weight("2026-12-04", 71.2), without_value]);
    let (status, answered) =
        answer(share(&app, "52", &lotte, &batch, &[("Prefer", "return=OperationOutcome")]).await).await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(statuses(&answered), ["200 OK", "201 Created", "422 Unprocessable Entity"]);
    let issue = &answered["entry"][2]["response"]["outcome"]["issue"][0];
    assert_eq!(issue["expression"][0], "Bundle.entry[2].resource.value", "{answered}");
    assert!(issue["diagnostics"].as_str().is_some_and(|text| text.contains("zib-BodyWeight")), "{answered}");
});
