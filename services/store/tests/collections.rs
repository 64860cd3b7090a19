//! The collection cache (`src/collection/`): a store that keeps persons' collections sees its own
//! writes at once, another instance's within the change announcement's delay, and what it cannot
//! hear of (another process on a SQLite file) within a collection's lifetime; and it never serves
//! a person a record that was never theirs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{open, put_with_keys};
use data_services::Catalog;
use fhir_core::Release;
use fhir_search::SearchRequest;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use store::{PatientScope, ProviderId, Store, Visibility, Write};
use test_support::{Backend, TestDatabase, on_both_backends, postgres_test};

const PATIENT: &str = "http://fhir.nl/fhir/StructureDefinition/nl-core-patient";
const WEIGHT: &str = "http://nictiz.nl/fhir/StructureDefinition/zib-BodyWeight";
/// The longest another instance's write may stay unseen (the announcement takes milliseconds).
const BOUND: Duration = Duration::from_secs(3);

fn patient(id: &str) -> Value {
    json!({"resourceType": "Patient", "id": id, "meta": {"profile": [PATIENT]}})
}

fn observation(id: &str, patient: &str, code: &str) -> Value {
    json!({"resourceType": "Observation", "id": id, "meta": {"profile": [WEIGHT]}, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": format!("Patient/{patient}")}, "effectiveDateTime": "2024-03-01"})
}

fn person(patient: &str) -> String {
    format!("key-of-{patient}")
}

fn request(query: &str) -> SearchRequest {
    common::bgz_request(&Catalog::embedded().expect("definitions"), "Observation", &[], query, false)
}

fn visibility() -> Visibility {
    common::bgz_visibility()
}

/// The ids of the person's Observations that `query` finds.
async fn found(store: &Store, provider: ProviderId, patient: &str, query: &str) -> Vec<String> {
    let scope = PatientScope::Person(person(patient));
    let page = store.search(provider, Release::Stu3, &scope, &visibility(), &request(query)).await.expect("search");
    page.matches.into_iter().map(|resource| resource.id).collect()
}

async fn with_patients(store: &Store, name: &str) -> ProviderId {
    let provider = common::provider_of(store, name, &["48"]).await.id;
    let patients = ["p1", "p2"].map(|id| put_with_keys(patient(id), vec![person(id)]));
    store.write(provider, patients.into()).await.expect("patients");
    provider
}

fn delete(id: &str) -> Write {
    Write::Delete { release: Release::Stu3, resource_type: "Observation".into(), id: id.into() }
}

on_both_backends!(a_store_sees_its_own_writes_in_the_next_query, |database| {
    let store = open(&database).await;
    store.keep_collections(1 << 20);
    let provider = with_patients(&store, "clinic").await;
    store.write(provider, vec![put_with_keys(observation("o1", "p1", "A"), Vec::new())]).await.expect("o1");
    assert_eq!(found(&store, provider, "p1", "").await, ["o1"]);
    assert_eq!(found(&store, provider, "p1", "code=A").await, ["o1"]);
    let counts = store.collection_counts();
    assert_eq!((counts.misses, counts.hits), (1, 1), "the second query was answered from the collection");

    store.write(provider, vec![put_with_keys(observation("o2", "p1", "A"), Vec::new())]).await.expect("o2");
    assert_eq!(found(&store, provider, "p1", "code=A").await, ["o1", "o2"]);
    store.write(provider, vec![put_with_keys(observation("o1", "p1", "B"), Vec::new())]).await.expect("o1 again");
    assert_eq!(found(&store, provider, "p1", "code=A").await, ["o2"]);
    assert_eq!(found(&store, provider, "p1", "code=B").await, ["o1"]);
    store.write(provider, vec![delete("o2")]).await.expect("deleted");
    assert_eq!(found(&store, provider, "p1", "").await, ["o1"]);

    // A record moved to another person leaves the first one's collection at once.
    store.write(provider, vec![put_with_keys(observation("o1", "p2", "B"), Vec::new())]).await.expect("moved");
    assert!(found(&store, provider, "p1", "").await.is_empty());
    assert_eq!(found(&store, provider, "p2", "").await, ["o1"]);
    let read = |patient: &'static str| {
        let store = store.clone();
        async move {
            let scope = PatientScope::Person(person(patient));
            store.read_for_patient(provider, Release::Stu3, &scope, &visibility(), "Observation", "o1").await
        }
    };
    assert!(read("p1").await.expect("read").is_none());
    assert!(read("p2").await.expect("read").is_some());
    assert!(store.collection_counts().hits > 1);
});

on_both_backends!(what_a_store_cannot_hear_of_is_seen_after_a_collection_s_lifetime, |database| {
    // Two stores on one database, neither listening: as another process writing a SQLite file.
    let writer = open(&database).await;
    let kept = open(&database).await;
    kept.keep_collections(1 << 20);
    let provider = with_patients(&writer, "clinic").await;
    writer.write(provider, vec![put_with_keys(observation("o1", "p1", "A"), Vec::new())]).await.expect("o1");
    assert_eq!(found(&kept, provider, "p1", "").await, ["o1"]);
    writer.write(provider, vec![put_with_keys(observation("o2", "p1", "A"), Vec::new())]).await.expect("o2");
    let written = Instant::now();
    assert_eq!(found(&kept, provider, "p1", "").await, ["o1"], "unheard, the kept collection answers");
    while found(&kept, provider, "p1", "").await != ["o1", "o2"] {
        assert!(written.elapsed() < store::COLLECTION_LIFETIME + Duration::from_secs(2), "not seen after its lifetime");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(written.elapsed() > store::COLLECTION_LIFETIME / 2, "seen through the lifetime, not by chance");
});

on_both_backends!(a_person_s_records_written_among_another_s_are_read_as_theirs_alone_each_once, |database| {
    // On PostgreSQL a fill reads a person's rows as runs of consecutive row numbers
    // (`collection/at_once.rs`): writes interleaved with another person's split the runs, and a
    // record in the compartments of two of the person's Patients is still one record.
    let store = open(&database).await;
    store.keep_collections(1 << 20);
    let provider = with_patients(&store, "clinic").await;
    store.write(provider, vec![put_with_keys(patient("p3"), vec![person("p1")])]).await.expect("p1's second Patient");
    let written = [("o1", "p1"), ("o2", "p1"), ("o3", "p2"), ("o4", "p1"), ("o5", "p2"), ("o6", "p2"), ("o7", "p3")];
    for (id, patient) in written {
        store.write(provider, vec![put_with_keys(observation(id, patient, id), Vec::new())]).await.expect("written");
    }
    // In both of p1's Patients' compartments, as a record naming both would be.
    let mut both = put_with_keys(observation("o8", "p1", "o8"), Vec::new());
    let Write::Put(write) = &mut both else { panic!("a put") };
    write.index.compartment.push("p3".into());
    store.write(provider, vec![both]).await.expect("o8");
    store.write(provider, vec![put_with_keys(observation("o9", "p2", "o9"), Vec::new())]).await.expect("o9");

    assert_eq!(found(&store, provider, "p1", "").await, ["o1", "o2", "o4", "o7", "o8"]);
    assert_eq!(found(&store, provider, "p2", "").await, ["o3", "o5", "o6", "o9"]);
    // Each record's own index rows, none of another's: every code finds its own record alone.
    for (id, patient) in [("o1", "p1"), ("o4", "p1"), ("o7", "p1"), ("o8", "p1"), ("o3", "p2"), ("o9", "p2")] {
        assert_eq!(found(&store, provider, patient, &format!("code={id}")).await, [id]);
        let other = if patient == "p1" { "p2" } else { "p1" };
        assert!(found(&store, provider, other, &format!("code={id}")).await.is_empty(), "{id} found for {other}");
    }
    let counts = store.collection_counts();
    assert_eq!(counts.misses, 2, "each person's collection was read once, then answered from memory");
});

const ORGANIZATION: &str = "http://fhir.nl/fhir/StructureDefinition/nl-core-organization";

/// The person's GP practice as a `Patient?_include=Patient:general-practitioner` gives it: its
/// name, if it is served.
async fn practice_included(store: &Store, provider: ProviderId, patient: &str) -> Option<String> {
    let catalog = Catalog::embedded().expect("definitions");
    let request = common::bgz_request(&catalog, "Patient", &[], "_include=Patient:general-practitioner", false);
    let scope = PatientScope::Person(person(patient));
    let page = store.search(provider, Release::Stu3, &scope, &visibility(), &request).await.expect("search");
    assert_eq!(page.matches.len(), 1, "the person's Patient");
    let practice = page.included.iter().find(|resource| resource.resource_type == "Organization")?;
    let body: Value = serde_json::from_str(&practice.body).expect("JSON");
    Some(body["name"].as_str().expect("a name").to_owned())
}

/// A person's Patient whose GP practice is `Organization/gp`.
fn patient_of_gp(id: &str) -> Write {
    let mut patient = patient(id);
    patient["generalPractitioner"] = json!([{"reference": "Organization/gp"}]);
    put_with_keys(patient, vec![person(id)])
}

fn practice(name: &str, profile: &str) -> Write {
    put_with_keys(
        json!({"resourceType": "Organization", "id": "gp", "meta": {"profile": [profile]}, "name": name}),
        Vec::new(),
    )
}

on_both_backends!(a_shared_resource_is_served_as_it_is_now_to_every_collection_that_refers_to_it, |database| {
    // The practice is kept once for both persons' collections (`collection/shared.rs`); every
    // change to it shows in the next collection read, whoever's.
    let store = open(&database).await;
    store.keep_collections(1 << 20);
    let provider = common::provider_of(&store, "clinic", &["48"]).await.id;
    let writes = vec![practice("Practice A", ORGANIZATION), patient_of_gp("p1"), patient_of_gp("p2")];
    store.write(provider, writes).await.expect("written");
    for patient in ["p1", "p2"] {
        assert_eq!(practice_included(&store, provider, patient).await.as_deref(), Some("Practice A"), "{patient}");
    }
    store.write(provider, vec![practice("Practice B", ORGANIZATION)]).await.expect("renamed");
    for patient in ["p1", "p2"] {
        assert_eq!(practice_included(&store, provider, patient).await.as_deref(), Some("Practice B"), "{patient}");
    }
    // A profile the data service does not serve for the type: not served, though referred to.
    store.write(provider, vec![practice("Practice C", "http://example.org/other-organization")]).await.expect("other");
    assert_eq!(practice_included(&store, provider, "p1").await, None);
    store.write(provider, vec![practice("Practice D", ORGANIZATION)]).await.expect("again");
    assert_eq!(practice_included(&store, provider, "p1").await.as_deref(), Some("Practice D"));
    let deleted = Write::Delete { release: Release::Stu3, resource_type: "Organization".into(), id: "gp".into() };
    store.write(provider, vec![deleted]).await.expect("deleted");
    assert_eq!(practice_included(&store, provider, "p2").await, None);
    assert_eq!(store.collection_counts().misses, 7, "each query read a collection: none was left from before a change");
});

on_both_backends!(a_shared_resource_unheard_of_is_not_served_past_a_lifetime_from_when_it_was_read, |database| {
    // As above, with a shared resource kept across collections: a collection read late in its
    // kept practice's lifetime must not carry it on for a lifetime of its own.
    let writer = open(&database).await;
    let kept = open(&database).await;
    kept.keep_collections(1 << 20);
    let provider = common::provider_of(&writer, "clinic", &["48"]).await.id;
    let writes = vec![practice("Practice A", ORGANIZATION), patient_of_gp("p1"), patient_of_gp("p2")];
    writer.write(provider, writes).await.expect("written");
    assert_eq!(practice_included(&kept, provider, "p1").await.as_deref(), Some("Practice A"));
    let read = Instant::now();
    writer.write(provider, vec![practice("Practice B", ORGANIZATION)]).await.expect("renamed, unheard");
    tokio::time::sleep(store::COLLECTION_LIFETIME.saturating_sub(Duration::from_secs(2))).await;
    // Read late: p2's collection takes the kept practice.
    assert_eq!(practice_included(&kept, provider, "p2").await.as_deref(), Some("Practice A"));
    while practice_included(&kept, provider, "p2").await.as_deref() != Some("Practice B") {
        assert!(read.elapsed() < store::COLLECTION_LIFETIME + Duration::from_secs(2), "served past its lifetime");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
});

/// A write at the first instance: an Observation put for a Patient, or deleted.
#[derive(Debug, Clone)]
enum Step {
    Put { id: usize, patient: usize, code: bool },
    Delete { id: usize },
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        3 => (0..4_usize, 0..2_usize, any::<bool>()).prop_map(|(id, patient, code)| Step::Put { id, patient, code }),
        1 => (0..4_usize).prop_map(|id| Step::Delete { id }),
    ];
    prop::collection::vec(step, 1..8)
}

const PATIENTS: [&str; 2] = ["p1", "p2"];

postgres_test! {
    async fn another_instance_s_writes_are_seen_within_the_bound_and_nothing_foreign_ever() {
        let database = TestDatabase::create(Backend::Postgres).await;
        let writer = open(&database).await;
        let reader = open(&database).await;
        reader.keep_collections(1 << 20);
        let following = reader.follow_changes().await.expect("listens").expect("PostgreSQL listens");
        let mut runner = TestRunner::deterministic();
        let strategy = steps();
        let mut slowest = Duration::ZERO;
        for case in 0..6 {
            let steps = strategy.new_tree(&mut runner).expect("a case").current();
            let provider = with_patients(&writer, &format!("clinic{}", ["a", "b", "c", "d", "e", "f"][case])).await;
            // What each Observation is now (patient, code), and whose it ever was.
            let mut now: BTreeMap<usize, (usize, bool)> = BTreeMap::new();
            let mut ever: BTreeSet<(usize, String)> = BTreeSet::new();
            for (position, step) in steps.iter().enumerate() {
                // Fill both collections before the write, so that it has something to make stale.
                for patient in PATIENTS {
                    found(&reader, provider, patient, "").await;
                }
                let write = match step {
                    Step::Put { id, patient, code } => {
                        now.insert(*id, (*patient, *code));
                        ever.insert((*patient, format!("o{id}")));
                        let code = if *code { "A" } else { "B" };
                        put_with_keys(observation(&format!("o{id}"), PATIENTS[*patient], code), Vec::new())
                    }
                    Step::Delete { id } => {
                        now.remove(id);
                        delete(&format!("o{id}"))
                    }
                };
                writer.write(provider, vec![write]).await.expect("written");
                let written = Instant::now();
                for (patient, name) in PATIENTS.iter().enumerate() {
                    for query in ["", "code=A"] {
                        let expected: Vec<String> = now
                            .iter()
                            .filter(|(_, (owner, code))| *owner == patient && (query.is_empty() || *code))
                            .map(|(id, _)| format!("o{id}"))
                            .collect();
                        loop {
                            let answer = found(&reader, provider, name, query).await;
                            for id in &answer {
                                assert!(ever.contains(&(patient, id.clone())), "case {case} step {position}: {id} was never {name}'s ({steps:?})");
                            }
                            if answer == expected {
                                break;
                            }
                            assert!(written.elapsed() < BOUND, "case {case} step {position}: {name} {query:?} gave {answer:?}, not {expected:?}, after {:?} ({steps:?})", written.elapsed());
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                    }
                }
                slowest = slowest.max(written.elapsed());
            }
        }
        assert!(reader.collection_counts().hits > 0, "the reader answered from kept collections");
        eprintln!("slowest until seen at the other instance: {slowest:?}");
        following.abort();
    }
}
