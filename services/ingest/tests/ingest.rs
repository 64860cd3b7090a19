//! Ingest behaviour against a real store, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use data_services::Catalog;
use fhir_core::Release;
use ingest::{IngestError, Ingestor, LoadOptions, RejectionKind, UnknownElements};
use serde_json::{Value, json};
use std::sync::Arc;
use store::{NewProvider, Provider, Store, Write};
use test_support::{TestDatabase, on_both_backends};

const PATIENT_PROFILE: &str = "http://fhir.nl/fhir/StructureDefinition/nl-core-patient";
const BP_PROFILE: &str = "http://nictiz.nl/fhir/StructureDefinition/zib-BloodPressure";

fn ingestor(unknown: UnknownElements) -> Ingestor {
    let secret = identity::DeploymentSecret::from_base64(&base64::engine::general_purpose::STANDARD.encode([3_u8; 32]))
        .expect("secret");
    Ingestor::new(
        Arc::new(Catalog::embedded().expect("definitions")),
        Arc::new(secret),
        chrono_tz::Europe::Amsterdam,
        unknown,
    )
}

async fn setup(database: &TestDatabase) -> (Store, Provider) {
    let store = Store::connect(&database.url, 4).await.expect("connects");
    store.migrate().await.expect("migrates");
    let provider = store
        .create_provider(
            &NewProvider { name: "umcx".into(), display_name: "UMC X".into(), data_services: vec!["48".into()] },
            None,
        )
        .await
        .expect("provider");
    (store, provider)
}

fn patient(id: &str, bsn: &str) -> Value {
    json!({"resourceType": "Patient", "id": id, "meta": {"profile": [PATIENT_PROFILE]},
        "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": bsn}]})
}

/// Parsed from text, so that the decimal keeps its trailing zero (a `json!` literal is an f64).
fn blood_pressure(id: &str, subject: &str) -> Value {
    let text = format!(
        r#"{{"resourceType": "Observation", "id": "{id}", "meta": {{"profile": ["{BP_PROFILE}"]}}, "status": "final",
        "code": {{"coding": [{{"system": "http://loinc.org", "code": "85354-9"}}]}},
        "subject": {{"reference": "{subject}"}}, "effectiveDateTime": "2013-02-01T08:53:00+01:00",
        "component": [{{"code": {{"coding": [{{"system": "http://loinc.org", "code": "8480-6"}}]}},
            "valueQuantity": {{"value": 108.50, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}}}]}}"#
    );
    serde_json::from_str(&text).expect("fixture")
}

on_both_backends!(refusals_say_what_and_where_with_the_right_kind, |database| {
    let (_store, provider) = setup(&database).await;
    let ingestor = ingestor(UnknownElements::Warn);
    let check =
        |resource: Value| ingestor.prepare_by_id(&provider, Release::Stu3, resource, None).expect_err("refused");

    let not_a_resource = check(json!({"id": "x"}));
    assert_eq!(not_a_resource.kind, RejectionKind::Invalid);

    let bad_id = check(json!({"resourceType": "Patient", "id": "has space"}));
    assert_eq!(bad_id.outcome.issues[0].expression, ["Patient.id"]);

    let not_served = check(json!({"resourceType": "Basic", "id": "b", "code": {"text": "x"}}));
    assert_eq!(not_served.kind, RejectionKind::Unprocessable);
    assert!(not_served.summary().contains("not served"), "{}", not_served.summary());

    let mut wrong_shape = blood_pressure("o1", "Patient/p1");
    wrong_shape["basedOn"] = json!({"reference": "MedicationRequest/x"});
    let structural = check(wrong_shape);
    assert_eq!(structural.kind, RejectionKind::Invalid);
    assert_eq!(structural.outcome.issues[0].expression, ["Observation.basedOn"]);

    let mut no_profile = blood_pressure("o1", "Patient/p1");
    no_profile["meta"] = json!({"profile": ["http://example.org/other"]});
    let unclaimed = check(no_profile);
    assert_eq!(unclaimed.kind, RejectionKind::Unprocessable);
    assert_eq!(unclaimed.outcome.issues[0].expression, ["Observation.meta.profile"]);
});

on_both_backends!(unknown_elements_warn_or_refuse_as_configured, |database| {
    let (_store, provider) = setup(&database).await;
    let mut resource = blood_pressure("o1", "Patient/p1");
    resource["colour"] = json!("blue");
    let warned = ingestor(UnknownElements::Warn)
        .prepare_by_id(&provider, Release::Stu3, resource.clone(), None)
        .expect("accepted");
    assert_eq!(warned.warnings[0].expression, ["Observation.colour"]);
    // Kept as sent.
    assert_eq!(warned.write.resource["colour"], "blue");
    let refused = ingestor(UnknownElements::Reject).prepare_by_id(&provider, Release::Stu3, resource, None);
    assert_eq!(refused.err().map(|rejection| rejection.kind), Some(RejectionKind::Invalid));
});

on_both_backends!(patients_are_found_by_the_person_key_of_their_bsn, |database| {
    let (store, provider) = setup(&database).await;
    let ingestor = ingestor(UnknownElements::Warn);
    let ready = ingestor.prepare_by_id(&provider, Release::Stu3, patient("p1", "999911120"), None).expect("valid");
    store.write(provider.id, vec![Write::Put(Box::new(ready.write))]).await.expect("stored");
    let secret = identity::DeploymentSecret::from_base64(&base64::engine::general_purpose::STANDARD.encode([3_u8; 32]))
        .expect("secret");
    let key = secret.person_key("umcx", "999911120");
    assert_eq!(store.patients_for_person(provider.id, Release::Stu3, &key).await.expect("lookup"), ["p1"]);
});

on_both_backends!(a_transaction_rewrites_entry_references_and_stores_all, |database| {
    let (store, provider) = setup(&database).await;
    let mut observation = blood_pressure("ignored", "urn:uuid:7f5e2d9c-0000-4000-8000-000000000001");
    observation.as_object_mut().expect("object").remove("id");
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:7f5e2d9c-0000-4000-8000-000000000002", "resource": observation, "request": {"method": "POST", "url": "Observation"}},
        {"fullUrl": "urn:uuid:7f5e2d9c-0000-4000-8000-000000000001", "resource": patient("p1", "999911120"), "request": {"method": "PUT", "url": "Patient/p1"}}
    ]});
    let response =
        ingestor(UnknownElements::Warn).bundle(&store, &provider, Release::Stu3, bundle).await.expect("accepted");
    assert_eq!(response["type"], "transaction-response");
    assert_eq!(response["entry"][0]["response"]["status"], "201 Created");
    let location = response["entry"][0]["response"]["location"].as_str().expect("location").to_owned();
    let id = location.split('/').nth(1).expect("id");
    let stored = store.read(provider.id, Release::Stu3, "Observation", id).await.expect("read").expect("found");
    let body: Value = serde_json::from_str(&stored.body).expect("json");
    assert_eq!(body["subject"]["reference"], "Patient/p1");
    // The assigned id comes right after resourceType, then meta.
    assert!(
        stored.body.starts_with(&format!(r#"{{"resourceType":"Observation","id":"{id}","meta":{{"versionId":"1""#)),
        "{}",
        stored.body
    );
    // Decimals are kept as written.
    assert!(stored.body.contains("108.50"), "{}", stored.body);
});

on_both_backends!(a_transaction_with_one_bad_entry_stores_nothing, |database| {
    let (store, provider) = setup(&database).await;
    let mut bad = blood_pressure("o2", "Patient/p1");
    bad["status"] = json!(12);
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": patient("p1", "999911120"), "request": {"method": "PUT", "url": "Patient/p1"}},
        {"resource": blood_pressure("o1", "Patient/p1"), "request": {"method": "PUT", "url": "Observation/o1"}},
        {"resource": bad, "request": {"method": "PUT", "url": "Observation/o2"}}
    ]});
    let result = ingestor(UnknownElements::Warn).bundle(&store, &provider, Release::Stu3, bundle).await;
    let Err(IngestError::Rejected(rejection)) = result else { panic!("must be refused") };
    assert_eq!(rejection.outcome.issues[0].expression, ["Bundle.entry[2].resource.status"]);
    assert!(store.read(provider.id, Release::Stu3, "Patient", "p1").await.expect("read").is_none());
    assert!(store.read(provider.id, Release::Stu3, "Observation", "o1").await.expect("read").is_none());

    let twice = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": patient("p1", "999911120"), "request": {"method": "PUT", "url": "Patient/p1"}},
        {"request": {"method": "DELETE", "url": "Patient/p1"}}
    ]});
    assert!(ingestor(UnknownElements::Warn).bundle(&store, &provider, Release::Stu3, twice).await.is_err());
});

on_both_backends!(a_batch_answers_per_entry, |database| {
    let (store, provider) = setup(&database).await;
    let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": patient("p1", "999911120"), "request": {"method": "PUT", "url": "Patient/p1"}},
        {"resource": {"resourceType": "Basic", "id": "b1", "code": {"text": "x"}}, "request": {"method": "PUT", "url": "Basic/b1"}},
        {"request": {"method": "GET", "url": "Patient/p1"}}
    ]});
    let response =
        ingestor(UnknownElements::Warn).bundle(&store, &provider, Release::Stu3, bundle).await.expect("answered");
    let statuses: Vec<&str> = response["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| entry["response"]["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(statuses, ["201 Created", "422 Unprocessable Entity", "400 Bad Request"]);
    assert!(store.read(provider.id, Release::Stu3, "Patient", "p1").await.expect("read").is_some());
});

on_both_backends!(loading_a_folder_names_every_refusal_and_carries_on, |database| {
    let (store, provider) = setup(&database).await;
    let folder = database.dir.path().join("load");
    std::fs::create_dir_all(folder.join("nested")).expect("dir");
    let write = |name: &str, value: &Value| std::fs::write(folder.join(name), value.to_string()).expect("write");
    write("a-patient.json", &patient("p1", "999911120"));
    write("nested/b-observation.json", &blood_pressure("o1", "Patient/p1"));
    write("nested/c-same-id.json", &{
        let mut newer = blood_pressure("o1", "Patient/p1");
        newer["status"] = json!("amended");
        newer
    });
    write(
        "d-collection.json",
        &json!({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": blood_pressure("o2", "Patient/p1")}]}),
    );
    let mut bad = blood_pressure("o3", "Patient/p1");
    bad["basedOn"] = json!({"reference": "MedicationRequest/x"});
    write("e-bad.json", &bad);
    std::fs::write(folder.join("f-broken.json"), "{ not json").expect("write");
    std::fs::write(folder.join("g-notes.txt"), "hello").expect("write");

    let ingestor = ingestor(UnknownElements::Warn);
    let files = ingest::collect_files(std::slice::from_ref(&folder)).expect("files");
    let mut last_progress = 0;
    let options = LoadOptions { release: Some(Release::Stu3), batch_size: 2 };
    let summary = ingestor.load(&store, &provider, &files, options, |done| last_progress = done).await.expect("loaded");
    assert_eq!(last_progress, files.len());
    assert_eq!((summary.created, summary.updated), (3, 1));
    let rejected: Vec<(&str, &str)> =
        summary.rejected.iter().map(|r| (r.resource.as_str(), r.reasons[0].as_str())).collect();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0].0, "Observation/o3");
    assert!(rejected[0].1.starts_with("Observation.basedOn: invalid type"), "{}", rejected[0].1);
    assert!(rejected[1].1.starts_with("not FHIR JSON the service accepts"), "{}", rejected[1].1);
    assert!(
        summary.warnings.iter().any(|warning| warning.contains("Observation/o1 was also in")),
        "{:?}",
        summary.warnings
    );
    assert_eq!(summary.skipped.len(), 1);

    let again = ingestor.load(&store, &provider, &files, options, |_| {}).await.expect("loaded again");
    // o1 is in two files, so a second load writes it twice again; the rest is unchanged.
    assert_eq!((again.created, again.updated, again.unchanged), (0, 2, 2));
});

on_both_backends!(loading_refuses_what_breaks_fhir_jsons_rules_with_the_place, |database| {
    let (store, provider) = setup(&database).await;
    let folder = database.dir.path().join("load");
    std::fs::create_dir_all(&folder).expect("dir");
    let text = blood_pressure("o1", "Patient/p1").to_string();
    let write = |name: &str, text: String| std::fs::write(folder.join(name), text).expect("write");
    write("a-twice.json", text.replacen("\"status\":\"final\"", "\"status\":\"final\",\"status\":\"amended\"", 1));
    write(
        "b-exponent.json",
        text.replacen("\"status\":\"final\"", "\"status\":\"final\",\"valueQuantity\":{\"value\":1e999999}", 1),
    );
    let digits = "7".repeat(100_000);
    write(
        "c-digits.json",
        text.replacen(
            "\"status\":\"final\"",
            &format!("\"status\":\"final\",\"valueQuantity\":{{\"value\":{digits}}}"),
            1,
        ),
    );
    let mut positive = blood_pressure("o4", "Patient/p1");
    positive["extension"] = json!([{"url": "http://example.org/x", "valuePositiveInt": 3_000_000_000_u64}]);
    write("d-positive-int.json", positive.to_string());
    write("e-fine.json", blood_pressure("o5", "Patient/p1").to_string());

    let files = ingest::collect_files(std::slice::from_ref(&folder)).expect("files");
    let options = LoadOptions { release: Some(Release::Stu3), batch_size: 10 };
    let summary =
        ingestor(UnknownElements::Warn).load(&store, &provider, &files, options, |_| {}).await.expect("loaded");
    assert_eq!(summary.created, 1, "only the fine one: {:?}", summary.rejected);
    let reasons: Vec<&str> = summary.rejected.iter().map(|r| r.reasons[0].as_str()).collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(
        reasons[0].contains("'status' appears twice") && reasons[0].contains("Observation.status"),
        "{}",
        reasons[0]
    );
    assert!(reasons[0].contains("line 1"), "{}", reasons[0]);
    assert!(
        reasons[1].contains("exponent") && reasons[1].contains("Observation.valueQuantity.value"),
        "{}",
        reasons[1]
    );
    assert!(reasons[2].contains("100000 digits"), "{}", &reasons[2][..200.min(reasons[2].len())]);
    assert!(reasons[3].contains("positiveInt must be an integer from 1 to 2147483647"), "{}", reasons[3]);
    assert_eq!(summary.rejected[3].resource, "Observation/o4");
});
