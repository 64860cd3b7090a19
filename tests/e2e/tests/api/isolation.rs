//! Whose record a resource is, for every form a provider may write the reference in: a record
//! is tied at ingest to exactly one person among the provider's Patients, or refused naming the
//! element; a record tied to nobody is never served to anybody (read, search, `_include`,
//! `$lastn`), even when it reached the store by another path.

use e2e::{ANNA, BRAM, PROVIDER, TestApp, entry_ids};
use fhir_core::Release;
use serde_json::{Value, json};
use store::Write;
use test_support::on_both_backends;

const BSN_SYSTEM: &str = "http://fhir.nl/fhir/NamingSystem/bsn";

/// A blood pressure with `subject`, and optionally a related observation.
fn blood_pressure(id: &str, subject: Value, related: Option<&str>) -> Value {
    let mut observation = json!({
        "resourceType": "Observation", "id": id,
        "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-BloodPressure"]},
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure"}]},
        "subject": subject,
        "effectiveDateTime": "2030-01-01T09:00:00+01:00"
    });
    if let Some(related) = related {
        observation["related"] =
            json!([{"type": "has-member", "target": {"reference": format!("Observation/{related}")}}]);
    }
    observation
}

async fn put(app: &TestApp, resource: &Value) -> (u16, Value) {
    let path = format!("{}/{}", resource["resourceType"].as_str().unwrap(), resource["id"].as_str().unwrap());
    let response = app
        .client
        .put(format!("{}/ingest/{PROVIDER}/stu3/{path}", app.address))
        .bearer_auth(&app.ingest_key)
        .header("Content-Type", "application/fhir+json")
        .body(resource.to_string())
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Who of Anna and Bram can read `Observation/{id}`: (Anna's status, Bram's status).
async fn readers(app: &TestApp, id: &str) -> (u16, u16) {
    let url = format!("{}/Observation/{id}", app.base(PROVIDER, "48"));
    let anna = app.get(&url, &app.token(PROVIDER, ANNA, &["48"])).await.status().as_u16();
    let bram = app.get(&url, &app.token(PROVIDER, BRAM, &["48"])).await.status().as_u16();
    (anna, bram)
}

on_both_backends!(a_record_named_by_bsn_is_tied_to_that_persons_patient, |database| {
    let app = TestApp::start(database).await;
    let by_identifier = blood_pressure(
        "bp-bram-by-identifier",
        json!({"identifier": {"system": BSN_SYSTEM, "value": BRAM}, "display": "Bram Jansen"}),
        None,
    );
    assert_eq!(put(&app, &by_identifier).await.0, 201);
    assert_eq!(readers(&app, "bp-bram-by-identifier").await, (404, 200));
    let conditional = blood_pressure(
        "bp-bram-conditional",
        json!({"reference": format!("Patient?identifier={BSN_SYSTEM}%7C{BRAM}")}),
        None,
    );
    assert_eq!(put(&app, &conditional).await.0, 201);
    assert_eq!(readers(&app, "bp-bram-conditional").await, (404, 200));
    // On the service's own base, an absolute reference is a reference by id.
    let absolute = blood_pressure(
        "bp-anna-absolute",
        json!({"reference": format!("{}/Patient/demo-patient-anna", app.base(PROVIDER, "48"))}),
        None,
    );
    assert_eq!(put(&app, &absolute).await.0, 201);
    assert_eq!(readers(&app, "bp-anna-absolute").await, (200, 404));
    // Bram's searches find his; Anna's never do.
    let bram = app
        .get_json(
            &format!("{}/Observation?code=http://loinc.org|85354-9", app.base(PROVIDER, "48")),
            &app.token(PROVIDER, BRAM, &["48"]),
        )
        .await;
    let ids = entry_ids(&bram);
    assert!(
        ids.contains(&"Observation/bp-bram-by-identifier".to_owned())
            && ids.contains(&"Observation/bp-bram-conditional".to_owned()),
        "{ids:?}"
    );
    let anna = app
        .get_json(
            &format!("{}/Observation?code=http://loinc.org|85354-9", app.base(PROVIDER, "48")),
            &app.token(PROVIDER, ANNA, &["48"]),
        )
        .await;
    assert!(!entry_ids(&anna).iter().any(|id| id.contains("bram")), "{:?}", entry_ids(&anna));
});

on_both_backends!(every_reference_that_cannot_say_whose_record_it_is_is_refused_naming_the_element, |database| {
    let app = TestApp::start(database).await;
    let contained = {
        let mut resource = blood_pressure("bp-contained", json!({"reference": "#p"}), None);
        resource["contained"] = json!([{"resourceType": "Patient", "id": "p",
            "identifier": [{"system": BSN_SYSTEM, "value": BRAM}]}]);
        resource
    };
    let cases = [
        (contained, "contained Patient"),
        (
            blood_pressure("bp-urn", json!({"reference": "urn:uuid:0b6f1a3e-1c6d-4b7e-9d6c-5f3a2e1b0c9d"}), None),
            "urn:uuid",
        ),
        (blood_pressure("bp-name", json!({"reference": "Patient?name=Jansen"}), None), "conditional"),
        (
            blood_pressure(
                "bp-foreign",
                json!({"reference": "https://elsewhere.example/fhir/Patient/demo-patient-bram"}),
                None,
            ),
            "another server",
        ),
        (
            blood_pressure("bp-display", json!({"display": "Bram Jansen"}), None),
            "must refer to one of the provider's Patients",
        ),
        (blood_pressure("bp-group", json!({"reference": "Group/g"}), None), "not to a Group"),
        (
            blood_pressure("bp-nobody", json!({"identifier": {"system": BSN_SYSTEM, "value": "999911120"}}), None),
            "no Patient of provider",
        ),
        (
            blood_pressure(
                "bp-other-id",
                json!({"identifier": {"system": "urn:oid:2.16.840.1.113883.2.4.6.3", "value": "7"}}),
                None,
            ),
            "only by BSN",
        ),
    ];
    for (resource, words) in cases {
        let id = resource["id"].as_str().unwrap().to_owned();
        let (status, outcome) = put(&app, &resource).await;
        assert_eq!(status, 422, "{id}: {outcome}");
        let issue = &outcome["issue"][0];
        assert_eq!(issue["expression"][0], "Observation.subject", "{id}: {outcome}");
        let diagnostics = issue["diagnostics"].as_str().unwrap_or_default();
        assert!(diagnostics.contains(words), "{id}: {diagnostics}");
        assert!(
            !outcome.to_string().contains(BRAM) && !outcome.to_string().contains("999911120"),
            "a BSN in {outcome}"
        );
        // Nothing stored.
        assert_eq!(readers(&app, &id).await, (404, 404), "{id}");
    }
    // A Coverage names its owner as beneficiary.
    let coverage = json!({"resourceType": "Coverage", "id": "coverage-of-nobody",
        "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-Payer"]},
        "status": "active", "beneficiary": {"display": "Bram"}, "payor": [{"reference": "Organization/demo-insurer"}]});
    let (status, outcome) = put(&app, &coverage).await;
    assert_eq!(status, 422, "{outcome}");
    assert_eq!(outcome["issue"][0]["expression"][0], "Coverage.beneficiary");
});

on_both_backends!(a_transaction_ties_records_to_a_patient_it_creates_by_bsn, |database| {
    let app = TestApp::start(database).await;
    let patient = json!({"resourceType": "Patient", "id": "new-patient",
        "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]},
        "identifier": [{"system": BSN_SYSTEM, "value": "999911120"}]});
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": blood_pressure("bp-new", json!({"identifier": {"system": BSN_SYSTEM, "value": "999911120"}}), None),
         "request": {"method": "PUT", "url": "Observation/bp-new"}},
        {"resource": patient, "request": {"method": "PUT", "url": "Patient/new-patient"}}
    ]});
    let response = app
        .client
        .post(format!("{}/ingest/{PROVIDER}/stu3", app.address))
        .bearer_auth(&app.ingest_key)
        .header("Content-Type", "application/fhir+json")
        .body(bundle.to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
    let new_person = app.token(PROVIDER, "999911120", &["48"]);
    let url = format!("{}/Observation/bp-new", app.base(PROVIDER, "48"));
    assert_eq!(app.get(&url, &new_person).await.status(), 200);
    assert_eq!(readers(&app, "bp-new").await, (404, 404));
});

on_both_backends!(a_record_never_rides_along_with_another_persons_include, |database| {
    let app = TestApp::start(database).await;
    // Bram's record, named by BSN, which Anna's own record points at.
    let bram = blood_pressure("bp-of-bram", json!({"identifier": {"system": BSN_SYSTEM, "value": BRAM}}), None);
    assert_eq!(put(&app, &bram).await.0, 201);
    let anna = blood_pressure("bp-of-anna", json!({"reference": "Patient/demo-patient-anna"}), Some("bp-of-bram"));
    assert_eq!(put(&app, &anna).await.0, 201);
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let base = app.base(PROVIDER, "48");
    for query in [
        "Observation?_id=bp-of-anna&_include=Observation:related-target",
        "Observation/$lastn?code=http://loinc.org|85354-9&_include=Observation:related-target",
    ] {
        let bundle = app.get_json(&format!("{base}/{query}"), &token).await;
        let ids = entry_ids(&bundle);
        assert!(ids.contains(&"Observation/bp-of-anna".to_owned()), "{query}: {ids:?}");
        assert!(!ids.contains(&"Observation/bp-of-bram".to_owned()), "{query}: {ids:?}");
        for format in ["json", "xml"] {
            let text = app.get(&format!("{base}/{query}&_format={format}"), &token).await.text().await.expect("body");
            assert!(!text.contains(BRAM), "{query} ({format}) carries Bram's BSN");
        }
    }
});

on_both_backends!(a_record_that_reached_the_store_tied_to_nobody_is_served_to_nobody, |database| {
    let app = TestApp::start(database).await;
    let provider = app.context.store.provider(PROVIDER).await.expect("store").expect("provider");
    // Written past ingest's rule, as data stored before it would be: an Observation with an
    // identifier subject and no compartment, referred to by one of Anna's own records.
    let orphan = blood_pressure("bp-orphan", json!({"identifier": {"system": BSN_SYSTEM, "value": BRAM}}), None);
    let mut write = app
        .context
        .ingestor
        .prepare_by_id(&provider, Release::Stu3, blood_pressure("x", json!({"reference": "Patient/x"}), None), None)
        .expect("valid")
        .write;
    write.id = "bp-orphan".into();
    write.resource = orphan;
    write.index.compartment.clear();
    let anna = app
        .context
        .ingestor
        .prepare_by_id(
            &provider,
            Release::Stu3,
            blood_pressure("bp-points", json!({"reference": "Patient/demo-patient-anna"}), Some("bp-orphan")),
            None,
        )
        .expect("valid")
        .write;
    app.context
        .store
        .write(provider.id, vec![Write::Put(Box::new(write)), Write::Put(Box::new(anna))])
        .await
        .expect("stored");
    assert_eq!(readers(&app, "bp-orphan").await, (404, 404));
    let base = app.base(PROVIDER, "48");
    for bsn in [ANNA, BRAM] {
        let token = app.token(PROVIDER, bsn, &["48"]);
        for query in [
            "Observation?code=http://loinc.org|85354-9&_include=Observation:related-target",
            "Observation/$lastn?code=http://loinc.org|85354-9&_include=Observation:related-target",
            "Observation?_id=bp-orphan",
        ] {
            let ids = entry_ids(&app.get_json(&format!("{base}/{query}"), &token).await);
            assert!(!ids.contains(&"Observation/bp-orphan".to_owned()), "{query}: {ids:?}");
        }
    }
    // The check finds it, and only it.
    let unowned = ingest::unowned_resources(&app.context.store, &app.context.catalog).await.expect("check");
    assert_eq!(
        unowned.iter().map(|found| format!("{}/{}", found.resource_type, found.id)).collect::<Vec<_>>(),
        ["Observation/bp-orphan"]
    );
});

on_both_backends!(a_device_that_names_no_patient_is_shared_one_that_names_another_is_not, |database| {
    let app = TestApp::start(database).await;
    let device = |id: &str, patient: Option<Value>| {
        let mut device = json!({"resourceType": "Device", "id": id,
            "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-MedicalDeviceProduct"]},
            "type": {"coding": [{"system": "http://snomed.info/sct", "code": "266731002", "display": "Walking frame"}]}});
        if let Some(patient) = patient {
            device["patient"] = patient;
        }
        device
    };
    assert_eq!(put(&app, &device("device-shared", None)).await.0, 201);
    assert_eq!(
        put(&app, &device("device-of-bram", Some(json!({"identifier": {"system": BSN_SYSTEM, "value": BRAM}}))))
            .await
            .0,
        201
    );
    assert_eq!(put(&app, &device("device-of-nobody", Some(json!({"display": "someone"})))).await.0, 422);
    for (id, anna_sees) in [("device-shared", true), ("device-of-bram", false)] {
        let statement = json!({"resourceType": "DeviceUseStatement", "id": format!("use-{id}"),
            "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-MedicalDevice"]},
            "status": "active", "subject": {"reference": "Patient/demo-patient-anna"},
            "device": {"reference": format!("Device/{id}")}});
        assert_eq!(put(&app, &statement).await.0, 201, "{statement}");
        let token = app.token(PROVIDER, ANNA, &["48"]);
        let bundle = app
            .get_json(
                &format!("{}/DeviceUseStatement?_include=DeviceUseStatement:device", app.base(PROVIDER, "48")),
                &token,
            )
            .await;
        assert_eq!(entry_ids(&bundle).contains(&format!("Device/{id}")), anna_sees, "{id}");
        let read = app.get(&format!("{}/Device/{id}", app.base(PROVIDER, "48")), &token).await.status();
        assert_eq!(read == 200, anna_sees, "{id}: {read}");
    }
});
