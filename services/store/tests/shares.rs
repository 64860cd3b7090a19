//! What PGOs share, on SQLite and on PostgreSQL: a share only creates (a write that meets an
//! existing resource rolls the whole share back), each stored resource has its provenance in the
//! provider's feed, and an acknowledgement marks only the provider's own items, once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::open;
use fhir_core::Release;
use serde_json::{Value, json};
use store::{Provider, ResourceWrite, Sharing, Store, StoreError, Write};
use test_support::on_both_backends;

async fn provider(store: &Store, name: &str) -> Provider {
    common::provider_of(store, name, &["52"]).await
}

/// A weight of Patient `p` (the index is not what these tests are about).
fn weight(id: &str, kg: f64) -> Write {
    let resource: Value = json!({"resourceType": "Observation", "id": id, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": "Patient/p"}, "valueQuantity": {"value": kg, "unit": "kg"}});
    Write::Put(Box::new(ResourceWrite {
        release: Release::Stu3,
        resource_type: "Observation".into(),
        id: id.into(),
        content_hash: resource.to_string(),
        index: fhir_search::ResourceIndex { compartment: vec!["p".into()], ..Default::default() },
        person_keys: Vec::new(),
        served: None,
        resource,
    }))
}

fn sharing(share_id: &str, at: i64) -> Sharing {
    Sharing {
        share_id: share_id.into(),
        data_service: "52".into(),
        client_id: "pgo.example.nl".into(),
        at,
        request_id: format!("{share_id}-request"),
        correlation_id: None,
    }
}

on_both_backends!(a_share_only_creates_and_is_rolled_back_whole_when_it_would_overwrite, |database| {
    let store = open(&database).await;
    let vitaal = provider(&store, "vitaal").await;
    // The provider's own record.
    store.write(vitaal.id, vec![weight("held", 70.0)]).await.unwrap();
    let outcome =
        store.share(vitaal.id, &sharing("s1", 1_000), vec![weight("new-1", 71.0), weight("held", 99.0)]).await;
    assert!(matches!(outcome, Err(StoreError::NotNew(ref what)) if what == "Observation/held"), "{outcome:?}");
    let held = store.read(vitaal.id, Release::Stu3, "Observation", "held").await.unwrap().expect("kept");
    assert_eq!((held.version_id, held.body.contains("70.0")), (1, true), "the provider's record is untouched");
    assert!(
        store.read(vitaal.id, Release::Stu3, "Observation", "new-1").await.unwrap().is_none(),
        "nothing of the share"
    );
    assert!(store.shared_items(vitaal.id, Release::Stu3, 0, 10, false).await.unwrap().is_empty());

    let stored =
        store.share(vitaal.id, &sharing("s2", 2_000), vec![weight("new-1", 71.0), weight("new-2", 72.0)]).await;
    assert_eq!(stored.unwrap().len(), 2);
    let items = store.shared_items(vitaal.id, Release::Stu3, 0, 10, false).await.unwrap();
    let ids: Vec<&str> = items.iter().map(|item| item.id.as_str()).collect();
    assert_eq!(ids, ["new-1", "new-2"]);
    assert!(items.iter().all(|item| item.share_id == "s2" && item.shared_at == 2_000 && item.version_id == 1));
    assert!(items.iter().all(|item| item.client_id == "pgo.example.nl" && item.request_id == "s2-request"));
    assert!(items[0].body.contains("71.0"), "the body as shared");
    // Paged by seq, and for its release only.
    let rest = store.shared_items(vitaal.id, Release::Stu3, items[0].seq, 10, false).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert!(store.shared_items(vitaal.id, Release::R4, 0, 10, false).await.unwrap().is_empty());
});

on_both_backends!(an_acknowledgement_marks_the_providers_own_items_once, |database| {
    let store = open(&database).await;
    let vitaal = provider(&store, "vitaal").await;
    let other = provider(&store, "ander").await;
    store.share(vitaal.id, &sharing("a", 1_000), vec![weight("a-1", 70.0), weight("a-2", 70.5)]).await.unwrap();
    store.share(other.id, &sharing("b", 1_000), vec![weight("b-1", 80.0)]).await.unwrap();
    let ours = store.shared_items(vitaal.id, Release::Stu3, 0, 10, false).await.unwrap();
    let theirs = store.shared_items(other.id, Release::Stu3, 0, 10, false).await.unwrap();
    assert_eq!((ours.len(), theirs.len()), (2, 1));
    // Another provider's seq in the list is not marked.
    let marked = store.acknowledge_shared(vitaal.id, &[ours[0].seq, theirs[0].seq], 5_000).await.unwrap();
    assert_eq!(marked, 1);
    assert_eq!(store.acknowledge_shared(vitaal.id, &[ours[0].seq], 6_000).await.unwrap(), 0, "once");
    let pending = store.shared_items(vitaal.id, Release::Stu3, 0, 10, true).await.unwrap();
    assert_eq!(pending.iter().map(|item| item.id.as_str()).collect::<Vec<_>>(), ["a-2"]);
    let all = store.shared_items(vitaal.id, Release::Stu3, 0, 10, false).await.unwrap();
    assert_eq!(all[0].acknowledged_at, Some(5_000));
    let theirs = store.shared_items(other.id, Release::Stu3, 0, 10, true).await.unwrap();
    assert_eq!(theirs.len(), 1, "the other provider's item is still pending");
});
