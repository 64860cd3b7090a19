//! The kinds string and quantity searched in the store, each modifier and prefix on SQLite and on
//! PostgreSQL, and stored resources indexed again for them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{ZONE, open, put};
use data_services::Catalog;
use fhir_core::Release;
use fhir_search::SearchRequest;
use serde_json::{Value, json};
use store::{PatientScope, Provider, Store, Visibility, Write};
use test_support::on_both_backends;

const PATIENT: &str = "http://fhir.nl/fhir/StructureDefinition/nl-core-patient";
const WEIGHT: &str = "http://nictiz.nl/fhir/StructureDefinition/zib-BodyWeight";
const UCUM: &str = "http://unitsofmeasure.org";

/// A search of data service 48, offering `extra` parameters of the type beyond its own (48's
/// published statement offers no string or quantity parameter).
fn request(resource_type: &str, extra: &[&str], query: &str) -> SearchRequest {
    request_in(&Catalog::embedded().expect("definitions"), resource_type, extra, query)
}

fn request_in(catalog: &Catalog, resource_type: &str, extra: &[&str], query: &str) -> SearchRequest {
    common::bgz_request(catalog, resource_type, extra, query, false)
}

fn visibility() -> Visibility {
    common::bgz_visibility()
}

/// The ids `query` finds among the records of a person holding the Patients `patients`.
async fn found(store: &Store, provider: &Provider, patients: &[&str], request: SearchRequest) -> Vec<String> {
    let scope = PatientScope::Patients(patients.iter().map(|id| (*id).to_owned()).collect());
    let page = store.search(provider.id, Release::Stu3, &scope, &visibility(), &request).await.expect("search");
    page.matches.into_iter().map(|resource| resource.id).collect()
}

fn patient(id: &str, family: &str, given: &str, city: &str) -> Value {
    json!({"resourceType": "Patient", "id": id, "meta": {"profile": [PATIENT]},
        "name": [{"family": family, "given": [given], "text": format!("{given} {family}")}],
        "address": [{"line": ["Dorpsstraat 1"], "city": city}]})
}

const PATIENTS: [&str; 5] = ["muller", "jan-sen", "jansen", "percent", "slash"];

async fn patients(store: &Store) -> Provider {
    let umcx = common::provider_of(store, "umcx", &["48"]).await;
    let writes = vec![
        put(patient("muller", "Müller", "Ánna", "'s-Hertogenbosch")),
        put(patient("jan-sen", "Jan_sen", "Piet", "Den Haag")),
        put(patient("jansen", "Jansen", "Kees", "Amsterdam")),
        put(patient("percent", "Honderd%", "Joke", "Den Helder")),
        put(patient("slash", r"Back\slash", "Bo", "Zwolle")),
    ];
    store.write(umcx.id, writes).await.expect("written");
    umcx
}

on_both_backends!(strings_match_from_the_start_ignoring_case_and_accents, |database| {
    let store = open(&database).await;
    let umcx = patients(&store).await;
    let names = ["name", "family", "given", "address-city"];
    let search = |query: &str| found(&store, &umcx, &PATIENTS, request("Patient", &names, query));
    assert_eq!(search("family=mul").await, ["muller"]);
    assert_eq!(search("family=MÜL").await, ["muller"]);
    assert_eq!(search("family=Muller").await, ["muller"]);
    assert_eq!(search("given=anna").await, ["muller"]);
    // From the start only: the middle of a text is `:contains`.
    assert!(search("family=uller").await.is_empty());
    // `name` searches every part of the name, the text among them.
    assert_eq!(search("name=anna mu").await, ["muller"]);
    assert_eq!(search("name=kees").await, ["jansen"]);
    assert_eq!(search("address-city=den").await, ["jan-sen", "percent"]);
    // Alternatives OR, parameters AND, a repeated parameter ANDs its occurrences.
    assert_eq!(search("family=mul,jansen").await, ["muller", "jansen"]);
    assert_eq!(search("family=jan&given=kees").await, ["jansen"]);
    assert_eq!(search("family=j&family=jans").await, ["jansen"]);
    assert!(search("family=j&family=mul").await.is_empty());
});

on_both_backends!(exact_strings_match_the_whole_text_as_written, |database| {
    let store = open(&database).await;
    let umcx = patients(&store).await;
    let search = |query: &str| found(&store, &umcx, &PATIENTS, request("Patient", &["family", "name"], query));
    assert_eq!(search("family:exact=Müller").await, ["muller"]);
    assert!(search("family:exact=müller").await.is_empty());
    assert!(search("family:exact=Muller").await.is_empty());
    assert!(search("family:exact=Mül").await.is_empty());
    assert_eq!(search("name:exact=Ánna Müller").await, ["muller"]);
});

on_both_backends!(contained_strings_match_anywhere_ignoring_case_and_accents, |database| {
    let store = open(&database).await;
    let umcx = patients(&store).await;
    let search = |query: &str| found(&store, &umcx, &PATIENTS, request("Patient", &["family", "address-city"], query));
    assert_eq!(search("family:contains=ULL").await, ["muller"]);
    assert_eq!(search("family:contains=sen").await, ["jan-sen", "jansen"]);
    assert_eq!(search("address-city:contains=BOSCH").await, ["muller"]);
    assert!(search("family:contains=xyz").await.is_empty());
});

on_both_backends!(wildcards_in_string_values_are_matched_as_themselves, |database| {
    let store = open(&database).await;
    let umcx = patients(&store).await;
    let search = |query: &str| found(&store, &umcx, &PATIENTS, request("Patient", &["family"], query));
    // `_` is no single-character wildcard, `%` no wildcard, `\` no escape.
    assert_eq!(search("family=jan_").await, ["jan-sen"]);
    assert_eq!(search("family:contains=_").await, ["jan-sen"]);
    assert_eq!(search("family:contains=%25").await, ["percent"]);
    assert_eq!(search("family=honderd%25").await, ["percent"]);
    assert!(search("family=h%25").await.is_empty());
    // FHIR escapes a backslash as `\\`.
    assert_eq!(search(r"family:contains=k\\s").await, ["slash"]);
    assert_eq!(search(r"family:contains=k\\").await, ["slash"]);
});

fn weight(id: &str, value: Value) -> Value {
    json!({"resourceType": "Observation", "id": id, "meta": {"profile": [WEIGHT]}, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2020-01-01", "valueQuantity": value})
}

fn ucum(value: Value, code: &str) -> Value {
    json!({"value": value, "unit": code, "system": UCUM, "code": code})
}

async fn quantities(store: &Store) -> Provider {
    let umcx = common::provider_of(store, "umcx", &["48"]).await;
    let number = |text: &str| -> Value { serde_json::from_str(text).expect("a number") };
    let writes: Vec<Write> = vec![
        put(patient("p1", "Müller", "Anna", "Utrecht")),
        put(weight("o1", ucum(number("5.4"), "mg"))),
        put(weight("o2", ucum(number("5.35"), "mg"))),
        put(weight("o3", ucum(number("5.45"), "mg"))),
        put(weight("o4", ucum(number("6"), "mmol/L"))),
        put(weight("o5", json!({"value": number("5.4"), "unit": "mg"}))),
        put(weight("o6", ucum(number("100"), "kg"))),
        put(weight("o7", json!({"value": number("5.4"), "system": "http://other.example", "code": "mg"}))),
        put(weight("o8", ucum(number("5.42"), "mg"))),
        put(weight("o9", ucum(number("5.3"), "mg"))),
        put(weight("o10", ucum(number("91"), "kg"))),
        put(weight("o11", ucum(number("89"), "kg"))),
    ];
    store.write(umcx.id, writes).await.expect("written");
    umcx
}

/// The quantity searches as (query, the observations it finds).
const QUANTITY_CASES: [(&str, &[&str]); 22] = [
    // eq: within the range the written precision implies, [5.35, 5.45).
    ("value-quantity=5.4", &["o1", "o2", "o5", "o7", "o8"]),
    ("value-quantity=eq5.4", &["o1", "o2", "o5", "o7", "o8"]),
    ("value-quantity=5.40", &["o1", "o5", "o7"]),
    ("value-quantity=6", &["o4"]),
    // The unit: a system and code, or a code or unit in any system.
    ("value-quantity=5.4|http://unitsofmeasure.org|mg", &["o1", "o2", "o8"]),
    ("value-quantity=5.4||mg", &["o1", "o2", "o5", "o7", "o8"]),
    ("value-quantity=5.4|http://other.example|mg", &["o7"]),
    ("value-quantity=6||mg", &[]),
    ("value-quantity=6||mmol/L", &["o4"]),
    // ne: outside that range.
    ("value-quantity=ne5.4", &["o3", "o4", "o6", "o9", "o10", "o11"]),
    ("value-quantity=ne5.4|http://unitsofmeasure.org|mg", &["o3", "o9"]),
    // lt, le, gt, ge: against the value itself.
    ("value-quantity=lt5.4", &["o2", "o9"]),
    ("value-quantity=le5.4", &["o1", "o2", "o5", "o7", "o9"]),
    ("value-quantity=gt5.4||mg", &["o3", "o8"]),
    ("value-quantity=ge5.42||mg", &["o3", "o8"]),
    // sa, eb: wholly above or below the range.
    ("value-quantity=sa5.4||mg", &["o3"]),
    ("value-quantity=eb5.4", &["o9"]),
    // ap: within 10%.
    ("value-quantity=ap100", &["o6", "o10"]),
    ("value-quantity=ap100|http://unitsofmeasure.org|kg", &["o6", "o10"]),
    ("value-quantity=ap5.4||mmol/L", &[]),
    // Alternatives OR, repetitions AND.
    ("value-quantity=6,100", &["o4", "o6"]),
    ("value-quantity=gt5&value-quantity=lt5.4", &["o2", "o9"]),
];

on_both_backends!(quantities_compare_by_prefix_precision_and_unit, |database| {
    let store = open(&database).await;
    let umcx = quantities(&store).await;
    for (query, expected) in QUANTITY_CASES {
        let ids = found(&store, &umcx, &["p1"], request("Observation", &["value-quantity"], query)).await;
        assert_eq!(ids, expected, "{query}");
    }
});

on_both_backends!(resources_stored_before_the_new_kinds_are_indexed_again_once, |database| {
    let store = open(&database).await;
    let umcx = common::provider_of(&store, "umcx", &["48"]).await;
    // As stored before strings and quantities were indexed: their entries left out.
    let old = |write: Write| match write {
        Write::Put(mut write) => {
            write.index.entries.retain(|entry| {
                !matches!(entry.value, fhir_search::IndexValue::String(_) | fhir_search::IndexValue::Quantity(_))
            });
            Write::Put(write)
        }
        delete => delete,
    };
    let p1 = patient("p1", "Müller", "Anna", "Utrecht");
    let o1 = weight("o1", ucum(json!(72), "kg"));
    store.write(umcx.id, vec![old(put(p1)), old(put(o1))]).await.expect("written");
    let by_name = || request("Patient", &["family"], "family=mul");
    let by_weight = || request("Observation", &["value-quantity"], "value-quantity=72||kg");
    assert!(found(&store, &umcx, &["p1"], by_name()).await.is_empty());
    assert!(found(&store, &umcx, &["p1"], by_weight()).await.is_empty());
    let catalog = Catalog::embedded().expect("definitions");
    // The migration that made the tables asked for the work.
    assert_eq!(store.reindex_if_needed(&catalog, ZONE).await.expect("indexed"), 2);
    assert_eq!(found(&store, &umcx, &["p1"], by_name()).await, ["p1"]);
    assert_eq!(found(&store, &umcx, &["p1"], by_weight()).await, ["o1"]);
    // What ingest decided stays: the observation is still the person's, tokens still match.
    let by_code = request("Observation", &[], "code=http://loinc.org|29463-7");
    assert_eq!(found(&store, &umcx, &["p1"], by_code).await, ["o1"]);
    assert!(found(&store, &umcx, &["p2"], by_weight()).await.is_empty());
    // Once.
    assert_eq!(store.reindex_if_needed(&catalog, ZONE).await.expect("done"), 0);
});

/// The embedded definitions with `extra` added to STU3's Patient.
fn definitions_with_patient_param(extra: &str) -> (tempfile::TempDir, Catalog) {
    let dir = tempfile::tempdir().expect("folder");
    let profiles = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles");
    for sub in ["fhir", "data-services"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("folder");
        for entry in std::fs::read_dir(profiles.join(sub)).expect("definitions").flatten() {
            if entry.path().extension().is_some_and(|extension| extension == "toml") {
                std::fs::copy(entry.path(), dir.path().join(sub).join(entry.file_name())).expect("copied");
            }
        }
    }
    let stu3 = dir.path().join("fhir/stu3.toml");
    let text = std::fs::read_to_string(&stu3).expect("stu3");
    let text = text.replacen("[types.Patient]\n", &format!("[types.Patient]\n{extra}\n"), 1);
    std::fs::write(&stu3, text).expect("written");
    let catalog = Catalog::from_dir(dir.path()).expect("definitions load");
    (dir, catalog)
}

on_both_backends!(a_parameter_added_to_the_definitions_is_indexed_for_stored_resources, |database| {
    let store = open(&database).await;
    let umcx = common::provider_of(&store, "umcx", &["48"]).await;
    let catalog = Catalog::embedded().expect("definitions");
    assert_eq!(store.reindex_if_needed(&catalog, ZONE).await.expect("the migration's work"), 0);
    let mut anna = patient("p1", "Müller", "Anna", "Utrecht");
    anna["gender"] = json!("female");
    store.write(umcx.id, vec![put(anna)]).await.expect("written");
    // The same definitions: nothing to do.
    assert_eq!(store.reindex_if_needed(&catalog, ZONE).await.expect("nothing"), 0);
    let (_dir, changed) = definitions_with_patient_param(r#"search.gender = { type = "token", path = "gender" }"#);
    assert_eq!(store.reindex_if_needed(&changed, ZONE).await.expect("indexed"), 1);
    let by_gender = request_in(&changed, "Patient", &["gender"], "gender=female");
    assert_eq!(found(&store, &umcx, &["p1"], by_gender).await, ["p1"]);
    assert_eq!(store.reindex_if_needed(&changed, ZONE).await.expect("once"), 0);
});
