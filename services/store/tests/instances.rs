//! What instances on one database share through it: the signing keys (each test on both
//! backends), and the changes each announces (heard by its own subscribers on both backends, and
//! by another store on the same PostgreSQL database through `LISTEN`); a Patient's write is
//! announced both as a change of Patients and of records.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::open;
use serde_json::json;
use std::time::Duration;
use store::{Change, Changes, Provider, ResourceWrite, Store, StoredKey, Write};
use test_support::{Backend, TestDatabase, on_both_backends, postgres_test};

async fn provider(store: &Store, name: &str) -> Provider {
    common::provider_of(store, name, &["48"]).await
}

fn key(kid: &str, created_at: i64) -> StoredKey {
    StoredKey { kid: kid.into(), sealed_key: kid.as_bytes().to_vec(), created_at, retired_at: None }
}

fn write(resource_type: &str, id: &str) -> Write {
    let resource = json!({"resourceType": resource_type, "id": id});
    Write::Put(Box::new(ResourceWrite {
        release: fhir_core::Release::Stu3,
        resource_type: resource_type.into(),
        id: id.into(),
        content_hash: resource.to_string(),
        index: fhir_search::ResourceIndex::default(),
        person_keys: Vec::new(),
        served: None,
        resource,
    }))
}

/// The next change heard within a second, if any.
async fn heard(changes: &mut Changes) -> Option<Change> {
    tokio::time::timeout(Duration::from_secs(1), changes.next()).await.ok().flatten()
}

on_both_backends!(a_rotation_adds_a_key_once_and_retires_the_others, |database| {
    let store = open(&database).await;
    assert!(store.add_signing_key(&key("first", 100), false).await.expect("added"));
    assert!(!store.add_signing_key(&key("first", 200), true).await.expect("held"), "one key id, one row");
    assert!(store.add_signing_key(&key("second", 300), true).await.expect("added"));
    let keys = store.signing_keys().await.expect("read");
    let held: Vec<(&str, Option<i64>)> = keys.iter().map(|key| (key.kid.as_str(), key.retired_at)).collect();
    assert_eq!(held, vec![("first", Some(300)), ("second", None)]);
    assert_eq!(keys[0].sealed_key, b"first", "kept as given (sealed by the caller)");
});

on_both_backends!(a_process_hears_its_own_patient_and_provider_changes_after_commit, |database| {
    let store = open(&database).await;
    let mut changes = store.changes();
    let clinic = provider(&store, "clinic").await;
    assert_eq!(heard(&mut changes).await, Some(Change::Providers));
    store.write(clinic.id, vec![write("Observation", "o1")]).await.expect("written");
    assert_eq!(heard(&mut changes).await, Some(Change::Records(clinic.id)), "an Observation changes no Patient ids");
    store.write(clinic.id, vec![write("Patient", "p1")]).await.expect("written");
    assert_eq!(heard(&mut changes).await, Some(Change::Patients(clinic.id)));
    assert_eq!(heard(&mut changes).await, Some(Change::Records(clinic.id)));
    store
        .write(
            clinic.id,
            vec![Write::Delete { release: fhir_core::Release::Stu3, resource_type: "Patient".into(), id: "p1".into() }],
        )
        .await
        .expect("deleted");
    assert_eq!(heard(&mut changes).await, Some(Change::Patients(clinic.id)));
    assert_eq!(heard(&mut changes).await, Some(Change::Records(clinic.id)));
    store.add_signing_key(&key("k", 1), false).await.expect("added");
    assert_eq!(heard(&mut changes).await, Some(Change::SigningKeys));
});

postgres_test! {
    async fn another_store_on_the_same_postgres_database_hears_the_changes() {
        let database = TestDatabase::create(Backend::Postgres).await;
        let writer = open(&database).await;
        let listener = Store::connect(&database.url, 2).await.expect("connects");
        let mut changes = listener.changes();
        let following = listener.follow_changes().await.expect("listens").expect("PostgreSQL listens");
        let clinic = provider(&writer, "clinic").await;
        assert_eq!(heard(&mut changes).await, Some(Change::Providers));
        writer.write(clinic.id, vec![write("Observation", "o1"), write("Patient", "p1")]).await.expect("written");
        assert_eq!(heard(&mut changes).await, Some(Change::Patients(clinic.id)));
        assert_eq!(heard(&mut changes).await, Some(Change::Records(clinic.id)));
        // A revocation, by any statement, is announced by the database itself; a second update
        // of a revoked consent is not.
        let direct = sqlx::PgPool::connect(&database.url).await.expect("pool");
        sqlx::query(
            "INSERT INTO consents (provider_id, client_id, person_key, pseudonym, scope, granted_at, last_used_at, \
             expires_at) VALUES ($1, 'pgo.example', 'k', 'p', 's', 1, 1, 9999999999999)",
        )
        .bind(clinic.id.get())
        .execute(&direct)
        .await
        .expect("a consent");
        sqlx::query("UPDATE consents SET last_used_at = 2").execute(&direct).await.expect("updated");
        assert_eq!(heard(&mut changes).await, None, "not a revocation");
        sqlx::query("UPDATE consents SET revoked_at = 3, revoked_why = 'person'").execute(&direct).await.expect("revoked");
        assert_eq!(heard(&mut changes).await, Some(Change::Revocations));
        sqlx::query("UPDATE consents SET revoked_at = 4").execute(&direct).await.expect("updated");
        assert_eq!(heard(&mut changes).await, None, "revoked before");
        following.abort();
    }
}
