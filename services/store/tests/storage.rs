//! Storage behaviour, each test on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{open, put, put_with_keys};
use data_services::Catalog;
use fhir_core::Release;
use fhir_search::SearchRequest;
use serde_json::{Value, json};
use store::{NewProvider, PatientScope, Provider, Store, Visibility, Write, WriteKind};
use test_support::{TestDatabase, on_both_backends};

const BP: &str = "http://nictiz.nl/fhir/StructureDefinition/zib-BloodPressure";
const WEIGHT: &str = "http://nictiz.nl/fhir/StructureDefinition/zib-BodyWeight";
const PATIENT: &str = "http://fhir.nl/fhir/StructureDefinition/nl-core-patient";
const ORGANIZATION: &str = "http://fhir.nl/fhir/StructureDefinition/nl-core-organization";

async fn provider(store: &Store, name: &str) -> Provider {
    common::provider_of(store, name, &["48"]).await
}

fn patient(id: &str) -> Value {
    json!({"resourceType": "Patient", "id": id, "meta": {"profile": [PATIENT]},
        "generalPractitioner": [{"reference": "Organization/gp"}]})
}

fn observation(id: &str, patient: &str, code: &str, date: &str, profile: &str) -> Value {
    json!({"resourceType": "Observation", "id": id, "meta": {"profile": [profile]}, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": format!("Patient/{patient}")}, "effectiveDateTime": date})
}

fn organization(id: &str) -> Value {
    json!({"resourceType": "Organization", "id": id, "meta": {"profile": [ORGANIZATION]}, "name": "Huisarts"})
}

fn request(resource_type: &str, query: &str, lastn: bool) -> SearchRequest {
    common::bgz_request(&Catalog::embedded().expect("definitions"), resource_type, &[], query, lastn)
}

fn profiles() -> Visibility {
    common::bgz_visibility()
}

fn scope(ids: &[&str]) -> PatientScope {
    PatientScope::Patients(ids.iter().map(|id| (*id).to_owned()).collect())
}

fn ids(resources: &[store::StoredResource]) -> Vec<&str> {
    resources.iter().map(|resource| resource.id.as_str()).collect()
}

on_both_backends!(versions_count_up_and_unchanged_writes_add_none, |database| {
    let store = open(&database).await;
    let umcx = provider(&store, "umcx").await;
    let created = store.write(umcx.id, vec![put(patient("p1"))]).await.expect("write");
    assert_eq!((created[0].kind, created[0].version_id), (WriteKind::Created, 1));
    let again = store.write(umcx.id, vec![put(patient("p1"))]).await.expect("write");
    assert_eq!((again[0].kind, again[0].version_id), (WriteKind::Unchanged, 1));
    let mut changed = patient("p1");
    changed["active"] = json!(true);
    let updated = store.write(umcx.id, vec![put(changed)]).await.expect("write");
    assert_eq!((updated[0].kind, updated[0].version_id), (WriteKind::Updated, 2));
    let stored = store.read(umcx.id, Release::Stu3, "Patient", "p1").await.expect("read").expect("found");
    let body: Value = serde_json::from_str(&stored.body).expect("json");
    assert_eq!(body["meta"]["versionId"], "2");
    assert_eq!(body["active"], true);
    assert_eq!(body["meta"]["profile"][0], PATIENT);
});

on_both_backends!(deleted_resources_disappear_and_can_return, |database| {
    let store = open(&database).await;
    let umcx = provider(&store, "umcx").await;
    store.write(umcx.id, vec![put(patient("p1"))]).await.expect("write");
    let deleted = store
        .write(
            umcx.id,
            vec![Write::Delete { release: Release::Stu3, resource_type: "Patient".into(), id: "p1".into() }],
        )
        .await
        .expect("delete");
    assert_eq!((deleted[0].kind, deleted[0].version_id), (WriteKind::Deleted, 2));
    assert!(store.read(umcx.id, Release::Stu3, "Patient", "p1").await.expect("read").is_none());
    let gone = store
        .write(
            umcx.id,
            vec![Write::Delete { release: Release::Stu3, resource_type: "Patient".into(), id: "p1".into() }],
        )
        .await
        .expect("delete");
    assert_eq!(gone[0].kind, WriteKind::NotFound);
    let back = store.write(umcx.id, vec![put(patient("p1"))]).await.expect("write");
    assert_eq!((back[0].kind, back[0].version_id), (WriteKind::Updated, 3));
});

on_both_backends!(a_failing_write_leaves_nothing_behind, |database| {
    let store = open(&database).await;
    let umcx = provider(&store, "umcx").await;
    // The second write carries an index that breaks a primary key, so the database refuses it.
    let mut broken = put(observation("o2", "p1", "85354-9", "2013", BP));
    if let Write::Put(write) = &mut broken {
        write.index.compartment = vec!["p1".to_owned(), "p1".to_owned()];
    }
    let result = store.write(umcx.id, vec![put(observation("o1", "p1", "85354-9", "2013", BP)), broken]).await;
    assert!(result.is_err());
    assert!(store.read(umcx.id, Release::Stu3, "Observation", "o1").await.expect("read").is_none());
});

on_both_backends!(providers_never_see_each_others_resources, |database| {
    let store = open(&database).await;
    let umcx = provider(&store, "umcx").await;
    let umcy = provider(&store, "umcy").await;
    store
        .write(umcx.id, vec![put(patient("p1")), put(observation("o1", "p1", "85354-9", "2013", BP))])
        .await
        .expect("write");
    store
        .write(umcy.id, vec![put(patient("p1")), put(observation("o9", "p1", "85354-9", "2014", BP))])
        .await
        .expect("write");
    let page = store
        .search(umcy.id, Release::Stu3, &scope(&["p1"]), &profiles(), &request("Observation", "", false))
        .await
        .expect("search");
    assert_eq!(ids(&page.matches), ["o9"]);
    assert!(store.read(umcy.id, Release::Stu3, "Observation", "o1").await.expect("read").is_none());
    let other = store.read_for_patient(umcy.id, Release::Stu3, &scope(&["p1"]), &profiles(), "Observation", "o1").await;
    assert!(other.expect("read").is_none());
    assert!(
        store
            .create_provider(
                &NewProvider { name: "umcx".into(), display_name: "x".into(), data_services: vec![] },
                None
            )
            .await
            .is_err()
    );
    let names: Vec<String> = store.providers().await.expect("list").into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["umcx", "umcy"]);
});

on_both_backends!(searches_stay_in_the_patients_compartment_and_data_service, |database| {
    let store = open(&database).await;
    let umcx = provider(&store, "umcx").await;
    store
        .write(
            umcx.id,
            vec![
                put(patient("p1")),
                put(patient("p2")),
                put(observation("o1", "p1", "85354-9", "2013-02-01T08:53:00+01:00", BP)),
                put(observation("o2", "p2", "85354-9", "2013-02-01T08:53:00+01:00", BP)),
                put(observation("o3", "p1", "29463-7", "2014-05-01", WEIGHT)),
                put(observation("o4", "p1", "85354-9", "2015-01-01", "http://example.org/not-bgz")),
            ],
        )
        .await
        .expect("write");
    let search = |query: &str| request("Observation", query, false);
    let run = |query: &str| {
        let store = store.clone();
        let request = search(query);
        async move { store.search(umcx.id, Release::Stu3, &scope(&["p1"]), &profiles(), &request).await.expect("search") }
    };
    assert_eq!(ids(&run("").await.matches), ["o1", "o3"]);
    assert_eq!(ids(&run("code=http://loinc.org|85354-9").await.matches), ["o1"]);
    assert_eq!(ids(&run("code=85354-9,29463-7").await.matches), ["o1", "o3"]);
    assert_eq!(ids(&run("code=|85354-9").await.matches), Vec::<&str>::new());
    assert_eq!(ids(&run("code=http://loinc.org|").await.matches), ["o1", "o3"]);
    assert_eq!(ids(&run("date=2013-02-01").await.matches), ["o1"]);
    assert_eq!(ids(&run("date=ge2014").await.matches), ["o3"]);
    assert_eq!(ids(&run("date=lt2014&date=gt2012").await.matches), ["o1"]);
    assert_eq!(ids(&run("date=le2013-02-01T08:53:00+01:00").await.matches), ["o1"]);
    assert_eq!(ids(&run("_id=o3,o2").await.matches), ["o3"]);
    let mine = store.read_for_patient(umcx.id, Release::Stu3, &scope(&["p1"]), &profiles(), "Observation", "o1").await;
    assert!(mine.expect("read").is_some());
    let theirs =
        store.read_for_patient(umcx.id, Release::Stu3, &scope(&["p1"]), &profiles(), "Observation", "o2").await;
    assert!(theirs.expect("read").is_none());
    let not_bgz =
        store.read_for_patient(umcx.id, Release::Stu3, &scope(&["p1"]), &profiles(), "Observation", "o4").await;
    assert!(not_bgz.expect("read").is_none());
});

on_both_backends!(pages_report_the_total_and_slice_in_order, |database| {
    let store = open(&database).await;
    let umcx = provider(&store, "umcx").await;
    let mut writes = vec![put(patient("p1"))];
    for n in 0..7 {
        writes.push(put(observation(&format!("o{n}"), "p1", "85354-9", "2013", BP)));
    }
    store.write(umcx.id, writes).await.expect("write");
    let run = |query: &str| {
        let store = store.clone();
        let request = request("Observation", query, false);
        async move { store.search(umcx.id, Release::Stu3, &scope(&["p1"]), &profiles(), &request).await.expect("search") }
    };
    let first = run("_count=3").await;
    assert_eq!((first.total, ids(&first.matches)), (7, vec!["o0", "o1", "o2"]));
    let last = run("_count=3&_offset=6").await;
    assert_eq!((last.total, ids(&last.matches)), (7, vec!["o6"]));
    let beyond = run("_count=3&_offset=9").await;
    assert_eq!((beyond.total, beyond.matches.len()), (7, 0));
    let summary = run("_count=0").await;
    assert_eq!((summary.total, summary.matches.len()), (7, 0));
});

on_both_backends!(includes_bring_shared_resources_but_never_another_patients, |database| {
    let store = open(&database).await;
    let umcx = provider(&store, "umcx").await;
    let coverage = json!({"resourceType": "Coverage", "id": "c1", "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-Payer"]},
        "beneficiary": {"reference": "Patient/p1"},
        "payor": [{"reference": "Organization/insurer"}, {"reference": "Patient/p1"}, {"reference": "Patient/p2"}]});
    store
        .write(
            umcx.id,
            vec![
                put(patient("p1")),
                put(patient("p2")),
                put(organization("gp")),
                put(organization("insurer")),
                put(coverage),
            ],
        )
        .await
        .expect("write");
    let run = |resource_type: &'static str, query: &'static str| {
        let store = store.clone();
        async move {
            store
                .search(umcx.id, Release::Stu3, &scope(&["p1"]), &profiles(), &request(resource_type, query, false))
                .await
                .expect("search")
        }
    };
    let patients = run("Patient", "_include=Patient:general-practitioner").await;
    assert_eq!((ids(&patients.matches), ids(&patients.included)), (vec!["p1"], vec!["gp"]));
    let coverages = run("Coverage", "_include=Coverage:payor:Patient&_include=Coverage:payor:Organization").await;
    assert_eq!(ids(&coverages.matches), ["c1"]);
    // p2 is referenced as payor but is another patient: never included.
    assert_eq!(ids(&coverages.included), ["p1", "insurer"]);
    let organizations_only = run("Coverage", "_include=Coverage:payor:Organization").await;
    assert_eq!(ids(&organizations_only.included), ["insurer"]);
    // A shared resource is readable when the patient's records refer to it, not otherwise.
    let gp = store.read_for_patient(umcx.id, Release::Stu3, &scope(&["p1"]), &profiles(), "Organization", "gp").await;
    assert!(gp.expect("read").is_some());
    store.write(umcx.id, vec![put(organization("unrelated"))]).await.expect("write");
    let unrelated =
        store.read_for_patient(umcx.id, Release::Stu3, &scope(&["p1"]), &profiles(), "Organization", "unrelated").await;
    assert!(unrelated.expect("read").is_none());
});

on_both_backends!(lastn_returns_the_most_recent_per_code, |database| {
    let store = open(&database).await;
    let umcx = provider(&store, "umcx").await;
    store
        .write(
            umcx.id,
            vec![
                put(patient("p1")),
                put(observation("bp-old", "p1", "85354-9", "2012-01-01", BP)),
                put(observation("bp-new", "p1", "85354-9", "2014-01-01", BP)),
                put(observation("bp-mid", "p1", "85354-9", "2013-01-01", BP)),
                put(observation("w-1", "p1", "29463-7", "2011-01-01", WEIGHT)),
                put(observation("w-2", "p1", "29463-7", "2016-01-01", WEIGHT)),
            ],
        )
        .await
        .expect("write");
    let run = |query: &'static str| {
        let store = store.clone();
        async move {
            store
                .search(umcx.id, Release::Stu3, &scope(&["p1"]), &profiles(), &request("Observation", query, true))
                .await
                .expect("search")
        }
    };
    assert_eq!(ids(&run("code=http://loinc.org|85354-9").await.matches), ["bp-new"]);
    assert_eq!(ids(&run("code=http://loinc.org|85354-9&max=2").await.matches), ["bp-new", "bp-mid"]);
    let both = run("code=http://loinc.org|85354-9,http://loinc.org|29463-7").await;
    assert_eq!((both.total, ids(&both.matches)), (2, vec!["bp-new", "w-2"]));
    let all_codes = run("").await;
    assert_eq!(all_codes.total, 2);
});

on_both_backends!(person_keys_find_patients_per_release, |database| {
    let store = open(&database).await;
    let umcx = provider(&store, "umcx").await;
    store
        .write(umcx.id, vec![put_with_keys(patient("p1"), vec!["key-a".into()]), put(patient("p2"))])
        .await
        .expect("write");
    assert_eq!(store.patients_for_person(umcx.id, Release::Stu3, "key-a").await.expect("lookup"), ["p1"]);
    assert!(store.patients_for_person(umcx.id, Release::R4, "key-a").await.expect("lookup").is_empty());
    assert!(store.knows_person(umcx.id, "key-a").await.expect("lookup"));
    assert!(!store.knows_person(umcx.id, "key-b").await.expect("lookup"));
    // A new version without the BSN drops the key.
    let mut changed = patient("p1");
    changed["active"] = json!(false);
    store.write(umcx.id, vec![put(changed)]).await.expect("write");
    assert!(!store.knows_person(umcx.id, "key-a").await.expect("lookup"));
});

test_support::postgres_test! {
/// The pool pings only connections that sat idle (a ping before every statement cost PostgreSQL
/// a wake-up per request): after the server ended all of them, the next statement still works.
async fn connections_the_server_ended_are_replaced_after_idling_postgres() {
    use sqlx::{Connection, Executor};
    let database = TestDatabase::create(test_support::Backend::Postgres).await;
    let store = open(&database).await;
    provider(&store, "one").await;
    let mut admin = sqlx::PgConnection::connect(&database.url).await.expect("admin connects");
    let ended = admin
        .fetch_all(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
        .expect("ends the pool's connections");
    assert!(!ended.is_empty(), "the pool held a connection");
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let found = store.provider("one").await.expect("a fresh connection answers");
    assert_eq!(found.map(|provider| provider.name), Some("one".to_owned()));
}
}

test_support::postgres_test! {
/// A bulk load's closing step leaves the loaded tables vacuumed as well as analysed: their pages
/// all-visible, so index-only scans (the compartment, the kinds' index rows) read no table pages.
/// This machine's PostgreSQL runs without autovacuum, as some do; without the vacuum every
/// index row found by a collection's read cost a read of its table page too.
async fn a_bulk_load_leaves_its_tables_vacuumed_and_analysed_postgres() {
    use sqlx::Connection;
    let database = TestDatabase::create(test_support::Backend::Postgres).await;
    let store = open(&database).await;
    let umcx = provider(&store, "umcx").await;
    let writes = (0..20).map(|n| put(observation(&format!("o{n}"), "p1", "8302-2", "2020-01-01", WEIGHT)));
    store.write(umcx.id, std::iter::once(put(patient("p1"))).chain(writes).collect()).await.expect("write");
    store.analyze(store::Filled::Resources).await.expect("vacuumed and analysed");
    let mut admin = sqlx::PgConnection::connect(&database.url).await.expect("admin connects");
    for table in ["resources", "compartment", "search_token", "search_date", "search_reference"] {
        let (pages, visible): (i32, i32) =
            sqlx::query_as("SELECT relpages, relallvisible FROM pg_class WHERE relname = $1")
                .bind(table)
                .fetch_one(&mut admin)
                .await
                .expect("the table's pages");
        assert!(pages > 0 && visible == pages, "{table}: {visible} of {pages} pages all-visible");
    }
}
}

on_both_backends!(a_migrated_database_has_no_pending_migrations_and_a_new_one_has_all, |database| {
    let store = Store::connect(&database.url, 2).await.expect("connects");
    assert!(store.pending_migrations().await.is_err(), "no migrations table yet: not ready, never 'none pending'");
    store.migrate().await.expect("migrates");
    assert_eq!(store.pending_migrations().await.expect("reads"), Vec::<i64>::new());
});
