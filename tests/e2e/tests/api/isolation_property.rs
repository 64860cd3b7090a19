//! A property of the store, tried on generated records: whatever form a provider writes a
//! record's patient reference in, no token ever receives a record tied to another person or to
//! nobody, by read, search, `_include` or `$lastn`; and every record accepted for a person
//! reaches that person. The cases come from proptest's deterministic runner, so a failure names
//! a case that repeats.

use e2e::{ANNA, BRAM, PROVIDER, TestApp, entry_ids};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use test_support::on_both_backends;

const BSN_SYSTEM: &str = "http://fhir.nl/fhir/NamingSystem/bsn";
/// Cases per backend: each stores up to six records and makes some twenty requests.
const CASES: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Anna,
    Bram,
    /// A person the provider does not know.
    Nobody,
}

/// The forms a reference to a record's patient takes in real exports, and the broken ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Relative,
    OwnBase,
    Identifier,
    Conditional,
    Contained,
    Urn,
    Foreign,
    DisplayOnly,
    OtherIdentifier,
}

const FORMS: [Form; 9] = [
    Form::Relative,
    Form::OwnBase,
    Form::Identifier,
    Form::Conditional,
    Form::Contained,
    Form::Urn,
    Form::Foreign,
    Form::DisplayOnly,
    Form::OtherIdentifier,
];

#[derive(Debug, Clone)]
struct Record {
    owner: Owner,
    form: Form,
    /// Another record of the case this one points at (`related.target`).
    related: Option<usize>,
    /// Which of two codes it has.
    first_code: bool,
}

fn records() -> impl Strategy<Value = Vec<Record>> {
    prop::collection::vec(
        (0..3_usize, 0..FORMS.len(), prop::option::of(0..6_usize), any::<bool>()).prop_map(
            |(owner, form, related, first_code)| Record {
                owner: [Owner::Anna, Owner::Bram, Owner::Nobody][owner],
                form: FORMS[form],
                related,
                first_code,
            },
        ),
        1..7,
    )
}

fn bsn(owner: Owner) -> &'static str {
    match owner {
        Owner::Anna => ANNA,
        Owner::Bram => BRAM,
        Owner::Nobody => "999911120",
    }
}

fn patient_id(owner: Owner) -> &'static str {
    match owner {
        Owner::Anna => "demo-patient-anna",
        Owner::Bram => "demo-patient-bram",
        Owner::Nobody => "patient-nobody-holds",
    }
}

/// Whether ingest must accept the record: every form that names a Patient of the provider
/// (or, by id, a Patient that may still come) is accepted; the rest are refused.
fn accepted(record: &Record) -> bool {
    match record.form {
        Form::Relative | Form::OwnBase => true,
        Form::Identifier | Form::Conditional => record.owner != Owner::Nobody,
        _ => false,
    }
}

fn resource(app: &TestApp, case: usize, index: usize, record: &Record, count: usize) -> Value {
    let owner = record.owner;
    let subject = match record.form {
        Form::Relative => json!({"reference": format!("Patient/{}", patient_id(owner))}),
        Form::OwnBase => json!({"reference": format!("{}/Patient/{}", app.base(PROVIDER, "48"), patient_id(owner))}),
        Form::Identifier => json!({"identifier": {"system": BSN_SYSTEM, "value": bsn(owner)}}),
        Form::Conditional => json!({"reference": format!("Patient?identifier={BSN_SYSTEM}%7C{}", bsn(owner))}),
        Form::Contained => json!({"reference": "#owner"}),
        Form::Urn => json!({"reference": format!("urn:uuid:00000000-0000-4000-8000-{case:06}{index:06}")}),
        Form::Foreign => json!({"reference": format!("https://elsewhere.example/fhir/Patient/{}", patient_id(owner))}),
        Form::DisplayOnly => json!({"display": "de patiënt"}),
        Form::OtherIdentifier => json!({"identifier": {"system": "urn:oid:2.16.840.1.113883.2.4.6.3", "value": "12"}}),
    };
    let code = if record.first_code { "85354-9" } else { "29463-7" };
    let mut observation = json!({
        "resourceType": "Observation", "id": format!("prop-{case}-{index}"),
        "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-BloodPressure"]},
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": subject,
        "effectiveDateTime": format!("2031-01-{:02}T09:00:00+01:00", index + 1)
    });
    if record.form == Form::Contained {
        observation["contained"] = json!([{"resourceType": "Patient", "id": "owner",
            "identifier": [{"system": BSN_SYSTEM, "value": bsn(owner)}]}]);
    }
    if let Some(related) = record.related.filter(|related| *related < count && *related != index) {
        observation["related"] =
            json!([{"type": "has-member", "target": {"reference": format!("Observation/prop-{case}-{related}")}}]);
    }
    observation
}

/// The generated records a token received, by id.
fn generated(bundle: &Value, case: usize) -> BTreeSet<String> {
    entry_ids(bundle)
        .into_iter()
        .filter_map(|id| id.strip_prefix("Observation/").map(str::to_owned))
        .filter(|id| id.starts_with(&format!("prop-{case}-")))
        .collect()
}

on_both_backends!(no_reference_form_lets_a_record_reach_anyone_but_its_owner, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let mut runner = TestRunner::deterministic();
    let strategy = records();
    for case in 0..CASES {
        let records = strategy.new_tree(&mut runner).expect("a case").current();
        let mut owned: Vec<(String, Owner)> = Vec::new();
        for (index, record) in records.iter().enumerate() {
            let body = resource(&app, case, index, record, records.len());
            let id = format!("prop-{case}-{index}");
            let status = app
                .client
                .put(format!("{}/ingest/{PROVIDER}/stu3/Observation/{id}", app.address))
                .bearer_auth(&app.ingest_key)
                .header("Content-Type", "application/fhir+json")
                .body(body.to_string())
                .send()
                .await
                .expect("sent")
                .status()
                .as_u16();
            let expected = if accepted(record) { 201 } else { 422 };
            assert_eq!(status, expected, "case {case}, record {index}: {record:?}");
            if status == 201 {
                owned.push((id, record.owner));
            }
        }
        for person in [Owner::Anna, Owner::Bram] {
            let token = app.token(PROVIDER, bsn(person), &["48"]);
            let mine: BTreeSet<String> =
                owned.iter().filter(|(_, owner)| *owner == person).map(|(id, _)| id.clone()).collect();
            let mut received = BTreeSet::new();
            for query in [
                "Observation?code=http://loinc.org|85354-9,http://loinc.org|29463-7&_include=Observation:related-target&_count=1000",
                "Observation/$lastn?code=http://loinc.org|85354-9,http://loinc.org|29463-7&max=1000&_include=Observation:related-target",
            ] {
                let bundle = app.get_json(&format!("{base}/{query}"), &token).await;
                received.extend(generated(&bundle, case));
            }
            for index in 0..records.len() {
                let id = format!("prop-{case}-{index}");
                let status = app.get(&format!("{base}/Observation/{id}"), &token).await.status().as_u16();
                if status == 200 {
                    received.insert(id);
                }
            }
            assert!(
                received.is_subset(&mine),
                "case {case}: {person:?} received {received:?}, owns {mine:?}: {records:?}"
            );
            assert_eq!(
                received.iter().filter(|id| mine.contains(*id)).count(),
                mine.len(),
                "case {case}: {person:?} cannot reach all of {mine:?}"
            );
        }
    }
});
